package gateway_test

import (
	"testing"

	"junction/config"
	"junction/gateway/gatewaytest"
	"junction/xmpp/xmltok"
	"junction/xmpp/xmpptest"
)

func withMUC(c *config.Config) { c.Hosts[0].MUC = "conference.localhost" }

// TestMUCThroughServer runs the built-in MUC service on the bus: room
// creation, join, groupchat, history and the host's disco#items.
func TestMUCThroughServer(t *testing.T) {
	srv := gatewaytest.Start(t, withMUC)
	srv.AddUser(t, "alice", pw)
	srv.AddUser(t, "bob", pw)
	alice := srv.Login(t, "alice", pw, "a")
	bob := srv.Login(t, "bob", pw, "b")

	alice.Send("<presence to='tea@conference.localhost/Alice'><x xmlns='http://jabber.org/protocol/muc'/></presence>")
	self := awaitStanza(t, alice, "self-presence", func(n *xmltok.Node) bool { return hasStatus(n, "110") })
	if !hasStatus(self, "201") {
		t.Fatalf("got %s, want a new room (201)", xmpptest.XML(self))
	}
	alice.Send("<iq type='set' to='tea@conference.localhost' id='inst'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'/></query></iq>")
	awaitStanza(t, alice, "instant room", func(n *xmltok.Node) bool { return n.Attr("id") == "inst" && n.Attr("type") == "result" })
	alice.Send("<message to='tea@conference.localhost' type='groupchat' id='g1'><body>first</body></message>")
	awaitStanza(t, alice, "reflection", func(n *xmltok.Node) bool { return n.Attr("id") == "g1" })

	bob.Send("<presence to='tea@conference.localhost/Bob'><x xmlns='http://jabber.org/protocol/muc'/></presence>")
	// History comes before the subject, which ends the join (XEP-0045 §7.2.16).
	h := awaitStanza(t, bob, "history", func(n *xmltok.Node) bool {
		return n.Name.Local == "message" && n.Child("", "body") != nil && n.Child("", "body").Text == "first"
	})
	if h.Child("urn:xmpp:delay", "delay") == nil || h.Attr("from") != "tea@conference.localhost/Alice" {
		t.Fatalf("got history %s, want a delayed message from Alice", xmpptest.XML(h))
	}
	bob.Send("<message to='tea@conference.localhost' type='groupchat'><body>hello all</body></message>")
	awaitStanza(t, alice, "bob's message", func(n *xmltok.Node) bool {
		return n.Attr("from") == "tea@conference.localhost/Bob" && n.Attr("type") == "groupchat"
	})

	alice.Send("<iq type='get' to='localhost' id='items'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>")
	items := find(t, "items", alice.Ping(), func(n *xmltok.Node) bool { return n.Attr("id") == "items" })
	if it := items.Child("http://jabber.org/protocol/disco#items", "query").Child("", "item"); it == nil || it.Attr("jid") != "conference.localhost" {
		t.Fatalf("got %s, want the MUC service listed", xmpptest.XML(items))
	}

	// Disconnecting leaves the room (directed presence is withdrawn).
	bob.Conn.Close()
	for {
		n := alice.MustNext()
		if n.Name.Local == "presence" && n.Attr("from") == "tea@conference.localhost/Bob" && n.Attr("type") == "unavailable" {
			break
		}
	}
}
