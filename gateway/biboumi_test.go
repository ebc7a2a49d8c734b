package gateway_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"junction/gateway/gatewaytest"
	"junction/internal/peer"
	"junction/xmpp/xmltok"
	"junction/xmpp/xmpptest"
)

const (
	nsMUC      = "http://jabber.org/protocol/muc"
	nsMUCUser  = "http://jabber.org/protocol/muc#user"
	nsDiscoIts = "http://jabber.org/protocol/disco#items"
)

// TestBiboumiIRC is issue 5's first interop check: the Debian biboumi
// package attaches to Junction as an XEP-0114 component, and a Junction
// user talks through it with a raw IRC client on a local ngircd, in the
// channel and privately, both ways.
func TestBiboumiIRC(t *testing.T) {
	const (
		domain = "irc.localhost"
		secret = "biboumi-s3cret"
	)
	peer.Binary(t, "/usr/bin/biboumi", "biboumi")
	srv := gatewaytest.Start(t, withComponent(domain, secret))
	irc := peer.NGIRCd(t)
	srv.AddUser(t, "alice", pw)
	alice := srv.Login(t, "alice", pw, "a")

	bib := peer.Biboumi(t, srv.Addr("components").String(), domain, secret)
	waitComponent(t, srv, bib, domain)
	alice.Send("<iq type='get' to='localhost' id='items'><query xmlns='" + nsDiscoIts + "'/></iq>")
	items := awaitStanza(t, alice, "disco#items result", func(n *xmltok.Node) bool { return n.Attr("id") == "items" })
	if it := items.Child(nsDiscoIts, "query").Child(nsDiscoIts, "item"); it == nil || it.Attr("jid") != domain {
		t.Fatalf("got %s, want %s listed", xmpptest.XML(items), domain)
	}

	bob := irc.Dial(t, "bob")
	bob.Join("#junction")

	room := "#junction%" + irc.Host + "@" + domain
	alice.Send("<presence to='" + room + "/alice'><x xmlns='" + nsMUC + "'/></presence>")
	self := awaitStanza(t, alice, "alice's self-presence in "+room, func(n *xmltok.Node) bool {
		return n.Name.Local == "presence" && n.Attr("from") == room+"/alice" && n.Attr("type") != "error" && hasStatus(n, "110")
	})
	if item := self.Child(nsMUCUser, "x").Child(nsMUCUser, "item"); item == nil || item.Attr("role") == "" {
		t.Fatalf("self-presence %s: got no muc#user item with a role", xmpptest.XML(self))
	}
	bob.Expect("alice joining #junction", func(m peer.IRCMessage) bool {
		return m.Command == "JOIN" && m.Nick() == "alice" && strings.EqualFold(m.Param(0), "#junction")
	})

	t.Run("channel xmpp to irc", func(t *testing.T) {
		alice.Send("<message to='" + room + "' type='groupchat' id='g1'><body>hello from xmpp</body></message>")
		m := bob.Expect("alice's message in #junction", func(m peer.IRCMessage) bool {
			return m.Command == "PRIVMSG" && m.Param(0) == "#junction"
		})
		if m.Nick() != "alice" || m.Param(1) != "hello from xmpp" {
			t.Fatalf("got %q, want :alice!… PRIVMSG #junction :hello from xmpp", m)
		}
	})
	t.Run("channel irc to xmpp", func(t *testing.T) {
		bob.Send("PRIVMSG #junction :reply from irc")
		m := awaitStanza(t, alice, "bob's groupchat message", func(n *xmltok.Node) bool {
			return n.Name.Local == "message" && n.Attr("from") == room+"/bob" && n.Child("", "body") != nil
		})
		if got := m.Attr("type"); got != "groupchat" {
			t.Errorf("type: got %q, want groupchat", got)
		}
		if got := m.Child("", "body").Text; got != "reply from irc" {
			t.Errorf("body: got %q, want %q", got, "reply from irc")
		}
	})
	bobJID := "bob%" + irc.Host + "@" + domain
	t.Run("private irc to xmpp", func(t *testing.T) {
		bob.Send("PRIVMSG alice :psst")
		m := awaitStanza(t, alice, "bob's private message", func(n *xmltok.Node) bool {
			return n.Name.Local == "message" && n.Attr("from") == bobJID && n.Child("", "body") != nil
		})
		if got := m.Attr("type"); got != "chat" {
			t.Errorf("type: got %q, want chat", got)
		}
		if got := m.Child("", "body").Text; got != "psst" {
			t.Errorf("body: got %q, want psst", got)
		}
	})
	t.Run("private xmpp to irc", func(t *testing.T) {
		alice.Send("<message to='" + bobJID + "' type='chat' id='p1'><body>psst back</body></message>")
		m := bob.Expect("alice's private message", func(m peer.IRCMessage) bool {
			return m.Command == "PRIVMSG" && strings.EqualFold(m.Param(0), "bob")
		})
		if m.Nick() != "alice" || m.Param(1) != "psst back" {
			t.Fatalf("got %q, want :alice!… PRIVMSG bob :psst back", m)
		}
	})
	t.Run("leave", func(t *testing.T) {
		alice.Send("<presence to='" + room + "/alice' type='unavailable'/>")
		bob.Expect("alice leaving #junction", func(m peer.IRCMessage) bool {
			return (m.Command == "PART" || m.Command == "QUIT") && m.Nick() == "alice"
		})
		awaitStanza(t, alice, "alice's unavailable self-presence", func(n *xmltok.Node) bool {
			return n.Name.Local == "presence" && n.Attr("from") == room+"/alice" && n.Attr("type") == "unavailable"
		})
	})
	// RFC 6121 §4.6.3: a session that ends tells those it sent directed
	// presence to, so Biboumi leaves IRC for a client that just vanished.
	t.Run("disconnect", func(t *testing.T) {
		alice.Send("<presence to='" + room + "/alice'><x xmlns='" + nsMUC + "'/></presence>")
		awaitStanza(t, alice, "alice's self-presence on rejoining", func(n *xmltok.Node) bool {
			return n.Name.Local == "presence" && n.Attr("from") == room+"/alice" && hasStatus(n, "110")
		})
		bob.Expect("alice rejoining #junction", func(m peer.IRCMessage) bool {
			return m.Command == "JOIN" && m.Nick() == "alice"
		})
		alice.Conn.Close()
		bob.Expect("alice leaving after her connection dropped", func(m peer.IRCMessage) bool {
			return (m.Command == "PART" || m.Command == "QUIT") && m.Nick() == "alice"
		})
	})
}

// stanzaWait bounds the waits for stanzas that cross Biboumi and IRC.
const stanzaWait = 20 * time.Second

// awaitStanza reads c's stanzas until one matches, for up to stanzaWait,
// and fails the test with what it skipped otherwise. Errors addressed to
// c fail the test at once: nothing in these tests expects one.
func awaitStanza(t *testing.T, c *xmpptest.Client, what string, match func(*xmltok.Node) bool) *xmltok.Node {
	t.Helper()
	deadline := time.Now().Add(stanzaWait)
	var skipped []string
	for time.Now().Before(deadline) {
		n, err := c.Next()
		if err != nil {
			t.Fatalf("waiting for %s: %v; skipped:\n%s", what, err, strings.Join(skipped, "\n"))
		}
		if match(n) {
			return n
		}
		if n.Attr("type") == "error" {
			t.Fatalf("waiting for %s: got error %s; skipped:\n%s", what, xmpptest.XML(n), strings.Join(skipped, "\n"))
		}
		skipped = append(skipped, xmpptest.XML(n))
	}
	t.Fatalf("no %s within %v; skipped:\n%s", what, stanzaWait, strings.Join(skipped, "\n"))
	return nil
}

// hasStatus reports whether a MUC presence carries status code.
func hasStatus(n *xmltok.Node, code string) bool {
	x := n.Child(nsMUCUser, "x")
	if x == nil {
		return false
	}
	for _, s := range x.ChildrenNamed(nsMUCUser, "status") {
		if s.Attr("code") == code {
			return true
		}
	}
	return false
}

// waitComponent waits until the server has domain's external component
// connected (Biboumi says nothing to clients when it has attached), and
// fails at once if Biboumi exits first.
func waitComponent(t *testing.T, srv *gatewaytest.Server, p *peer.Process, domain string) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(stanzaWait)
	for !slices.Contains(srv.Components(), domain+" external connected") {
		select {
		case <-tick.C:
		case <-p.Done():
			t.Fatalf("biboumi exited (%v) before attaching:\n%s", p.Err(), p.Output())
		case <-deadline:
			t.Fatalf("%s not connected within %v: got %q; biboumi:\n%s", domain, stanzaWait, srv.Components(), p.Output())
		}
	}
}
