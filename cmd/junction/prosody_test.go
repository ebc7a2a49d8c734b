package main

import (
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"junction/internal/peer"
	"junction/xmpp/xmltok"
	"junction/xmpp/xmpptest"
)

const (
	nsMUC       = "http://jabber.org/protocol/muc"
	nsMUCUser   = "http://jabber.org/protocol/muc#user"
	nsMUCOwner  = "http://jabber.org/protocol/muc#owner"
	nsDataForms = "jabber:x:data"
	nsDiscoInfo = "http://jabber.org/protocol/disco#info"
)

// TestComponentConnectProsody is issue 5's second interop check: `junction
// component connect` attaches Junction's MUC service to a real Prosody over
// XEP-0114, Prosody users create and use a room through it, and the
// component reconnects by itself when Prosody restarts, orderly or after a
// crash, with the persistent room still there; the room also outlives a
// restart of the component process itself.
func TestComponentConnectProsody(t *testing.T) {
	const (
		domain = "conference.localhost"
		room   = "room@" + domain
		secret = "component-s3cret"
	)
	pros := peer.Prosody(t, peer.ProsodyOptions{Components: []peer.ProsodyComponent{{Domain: domain, Secret: secret}}})
	for _, u := range []string{"alice", "bob", "carol"} {
		pros.AddUser(t, u, "pw-"+u)
	}
	login := func(user, resource string) *xmpptest.Client {
		t.Helper()
		c := xmpptest.Dial(t, pros.C2SAddr, peer.ProsodyHost)
		c.StartTLS()
		if err := c.Auth("SCRAM-SHA-1", user, "pw-"+user); err != nil {
			t.Fatalf("%s logging in to Prosody: %v", user, err)
		}
		if _, err := c.Bind(resource); err != nil {
			t.Fatalf("%s binding on Prosody: %v", user, err)
		}
		return c
	}

	bin := filepath.Join(t.TempDir(), "junction")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cfg := writeConfig(t, "log:\n  level: debug\n")
	t.Setenv("JUNCTION_COMPONENT_SECRET", secret)
	startComponent := func() *peer.Process {
		t.Helper()
		p := peer.Launch(t, bin, "component", "connect", "-server", pros.ComponentAddr, "-domain", domain, "-config", cfg)
		if !p.WaitOutput("connected to the server", peer.ProsodyTimeout) {
			t.Fatalf("junction component connect did not connect to Prosody within %v:\n%s", peer.ProsodyTimeout, p.Output())
		}
		return p
	}
	comp := startComponent()

	alice := login("alice", "a1")
	self := joinRoom(t, alice, room, "alice", nil)
	if got := statusCodes(self); !slices.Contains(got, "110") || !slices.Contains(got, "201") {
		t.Fatalf("alice's first self-presence: got status codes %v, want 110 and 201 (room created)\n%s", got, xmpptest.XML(self))
	}
	ownerSet(t, alice, room, "instant room", "")
	form := ownerGet(t, alice, room)
	if !hasField(form, "muc#roomconfig_persistentroom") {
		t.Fatalf("room configuration form: got %s, want a muc#roomconfig_persistentroom field", xmpptest.XML(form))
	}
	ownerSet(t, alice, room, "make the room persistent",
		"<field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/muc#roomconfig</value></field>"+
			"<field var='muc#roomconfig_persistentroom'><value>1</value></field>")

	bob := login("bob", "b1")
	var bobSaw []string
	self = joinRoom(t, bob, room, "bob", &bobSaw)
	if got := statusCodes(self); !slices.Contains(got, "110") || slices.Contains(got, "201") {
		t.Fatalf("bob's self-presence: got status codes %v, want 110 and not 201\n%s", got, xmpptest.XML(self))
	}
	if !slices.Equal(bobSaw, []string{"alice"}) {
		t.Fatalf("bob joining: got occupants %v before his self-presence, want [alice]", bobSaw)
	}
	awaitStanza(t, alice, "bob's arrival", func(n *xmltok.Node) bool {
		return n.Name.Local == "presence" && n.Attr("from") == room+"/bob" && n.Attr("type") == ""
	})
	chatInRoom(t, room, alice, "alice", bob, "hello from alice")
	privateInRoom(t, room, bob, "bob", alice, "alice", "psst, alice")

	for i, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		t.Logf("restarting Prosody with %v", sig)
		pros.Restart(t, sig)
		carol := login("carol", "c"+strconv.Itoa(i+1))
		info := awaitComponent(t, carol, room)
		if !hasFeature(info, "muc_persistent") {
			t.Fatalf("after Prosody's restart (%v): room disco#info got %s, want feature muc_persistent", sig, xmpptest.XML(info))
		}
		alice = login("alice", "a"+strconv.Itoa(i+2))
		var aliceSaw []string
		self = joinRoom(t, alice, room, "alice", &aliceSaw)
		if got := statusCodes(self); slices.Contains(got, "201") {
			t.Fatalf("after Prosody's restart (%v): alice's self-presence got status codes %v, want no 201 (the room exists)", sig, got)
		}
		switch {
		case len(aliceSaw) == 0:
		case sig == syscall.SIGKILL && slices.Equal(aliceSaw, []string{"bob"}):
			// Prosody died without telling anyone that bob's client went
			// away, so the room still holds it: the first groupchat
			// message to it bounces, and the room drops it (status 333).
			alice.Send("<message type='groupchat' to='" + room + "'><body>anyone there?</body></message>")
			gone := awaitStanza(t, alice, "bob's unreachable client leaving", func(n *xmltok.Node) bool {
				return n.Name.Local == "presence" && n.Attr("from") == room+"/bob"
			})
			if gone.Attr("type") != "unavailable" || !slices.Contains(statusCodes(gone), "333") {
				t.Fatalf("after Prosody's crash: got %s, want unavailable presence from %s/bob with status 333", xmpptest.XML(gone), room)
			}
		default:
			t.Fatalf("after Prosody's restart (%v): alice got occupants %v before her self-presence, want none (after SIGKILL, at most bob, who left before alice's stanzas)", sig, aliceSaw)
		}
		bob = login("bob", "b"+strconv.Itoa(i+2))
		joinRoom(t, bob, room, "bob", nil)
		chatInRoom(t, room, alice, "alice", bob, "hello again after "+sig.String())
		privateInRoom(t, room, bob, "bob", alice, "alice", "still here after "+sig.String())
	}
	if got := strings.Count(comp.Output(), "connected to the server"); got != 3 {
		t.Errorf("junction component connect: got %d connections logged, want 3 (one per Prosody start)", got)
	}

	t.Log("restarting junction component connect")
	comp.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-comp.Done():
	case <-time.After(peer.ProsodyTimeout):
		t.Fatalf("junction component connect did not exit within %v of SIGTERM", peer.ProsodyTimeout)
	}
	if err := comp.Err(); err != nil {
		t.Errorf("junction component connect after SIGTERM: got %v, want exit status 0", err)
	}
	for _, o := range []struct {
		nick string
		c    *xmpptest.Client
	}{{"alice", alice}, {"bob", bob}} {
		// The service says goodbye before it goes: the occupants must not
		// think they are still in the room.
		gone, skipped, err := findStanza(o.c, func(n *xmltok.Node) bool {
			return n.Name.Local == "presence" && n.Attr("from") == room+"/"+o.nick
		})
		if err != nil {
			t.Errorf("%s after the component's SIGTERM: got %v after %v, want an unavailable self-presence with status 110 and 332", o.nick, err, skipped)
			break // the same wait for the others would tell nothing new
		}
		if got := statusCodes(gone); gone.Attr("type") != "unavailable" || !slices.Contains(got, "110") || !slices.Contains(got, "332") {
			t.Errorf("%s after the component's SIGTERM: got %s, want an unavailable self-presence with status 110 and 332", o.nick, xmpptest.XML(gone))
		}
	}
	startComponent()
	carol := login("carol", "c9")
	info := awaitComponent(t, carol, room)
	if !hasFeature(info, "muc_persistent") {
		t.Fatalf("after the component's restart: room disco#info got %s, want feature muc_persistent", xmpptest.XML(info))
	}
	self = joinRoom(t, carol, room, "carol", nil)
	if got := statusCodes(self); slices.Contains(got, "201") {
		t.Fatalf("after the component's restart: carol's self-presence got status codes %v, want no 201 (the room is persistent)", got)
	}
}

// awaitStanza reads from c until an element satisfies match, failing the
// test on a stream error, a read timeout or after 200 other elements.
func awaitStanza(t *testing.T, c *xmpptest.Client, what string, match func(*xmltok.Node) bool) *xmltok.Node {
	t.Helper()
	n, skipped, err := findStanza(c, match)
	if err != nil {
		t.Fatalf("waiting for %s: %v; got before it:\n%s", what, err, strings.Join(skipped, "\n"))
	}
	return n
}

// findStanza reads from c until an element satisfies match, and returns it
// with what came before it. It gives up on a stream error, a read timeout
// or after 200 other elements.
func findStanza(c *xmpptest.Client, match func(*xmltok.Node) bool) (*xmltok.Node, []string, error) {
	var skipped []string
	for range 200 {
		n, err := c.Next()
		if err != nil {
			return nil, skipped, err
		}
		if match(n) {
			return n, skipped, nil
		}
		if n.Name.Local == "error" && n.Name.Space == xmltok.NSStream {
			return nil, skipped, fmt.Errorf("stream error %s", xmpptest.XML(n))
		}
		skipped = append(skipped, xmpptest.XML(n))
	}
	return nil, skipped, errors.New("200 other elements")
}

// joinRoom joins room as nick and returns the self-presence (status 110).
// Occupants announced before it are appended to others when it is not nil.
func joinRoom(t *testing.T, c *xmpptest.Client, room, nick string, others *[]string) *xmltok.Node {
	t.Helper()
	c.Send("<presence to='" + room + "/" + nick + "'><x xmlns='" + nsMUC + "'/></presence>")
	return awaitStanza(t, c, nick+"'s self-presence in "+room, func(n *xmltok.Node) bool {
		if n.Name.Local != "presence" || !strings.HasPrefix(n.Attr("from"), room+"/") {
			return false
		}
		if n.Attr("type") == "error" {
			t.Fatalf("%s joining %s: got %s, want a self-presence", nick, room, xmpptest.XML(n))
		}
		if slices.Contains(statusCodes(n), "110") {
			return true
		}
		if others != nil && n.Attr("type") == "" {
			*others = append(*others, strings.TrimPrefix(n.Attr("from"), room+"/"))
		}
		return false
	})
}

// ownerSet submits a room configuration form with fields (none: an
// instant room) and waits for the result.
func ownerSet(t *testing.T, c *xmpptest.Client, room, what, fields string) {
	t.Helper()
	id := c.ID()
	c.Send("<iq type='set' id='" + id + "' to='" + room + "'><query xmlns='" + nsMUCOwner + "'>" +
		"<x xmlns='" + nsDataForms + "' type='submit'>" + fields + "</x></query></iq>")
	res := awaitStanza(t, c, what, func(n *xmltok.Node) bool { return n.Name.Local == "iq" && n.Attr("id") == id })
	if res.Attr("type") != "result" {
		t.Fatalf("%s: got %s, want an iq result", what, xmpptest.XML(res))
	}
}

// ownerGet asks for the room configuration form and returns it.
func ownerGet(t *testing.T, c *xmpptest.Client, room string) *xmltok.Node {
	t.Helper()
	id := c.ID()
	c.Send("<iq type='get' id='" + id + "' to='" + room + "'><query xmlns='" + nsMUCOwner + "'/></iq>")
	res := awaitStanza(t, c, "the room configuration form", func(n *xmltok.Node) bool { return n.Name.Local == "iq" && n.Attr("id") == id })
	form := res.Child(nsMUCOwner, "query")
	if form != nil {
		form = form.Child(nsDataForms, "x")
	}
	if res.Attr("type") != "result" || form == nil {
		t.Fatalf("room configuration form: got %s, want an iq result with a data form", xmpptest.XML(res))
	}
	return form
}

// chatInRoom has from (nick fromNick) say body in room and checks that to
// gets it from room/fromNick, and that from gets its echo.
func chatInRoom(t *testing.T, room string, from *xmpptest.Client, fromNick string, to *xmpptest.Client, body string) {
	t.Helper()
	from.Send("<message type='groupchat' to='" + room + "' id='" + from.ID() + "'><body>" + body + "</body></message>")
	isIt := func(n *xmltok.Node) bool {
		return n.Name.Local == "message" && n.Child("", "body") != nil && n.Child("", "body").Text == body
	}
	for _, c := range []*xmpptest.Client{to, from} {
		m := awaitStanza(t, c, "groupchat message "+body, isIt)
		if m.Attr("from") != room+"/"+fromNick || m.Attr("type") != "groupchat" {
			t.Fatalf("groupchat message: got %s, want type groupchat from %s/%s", xmpptest.XML(m), room, fromNick)
		}
	}
}

// privateInRoom has from (nick fromNick) send a private message to the
// occupant toNick and checks it arrives from room/fromNick.
func privateInRoom(t *testing.T, room string, from *xmpptest.Client, fromNick string, to *xmpptest.Client, toNick, body string) {
	t.Helper()
	from.Send("<message type='chat' to='" + room + "/" + toNick + "' id='" + from.ID() + "'><body>" + body +
		"</body><x xmlns='" + nsMUCUser + "'/></message>")
	m := awaitStanza(t, to, "private message "+body, func(n *xmltok.Node) bool {
		return n.Name.Local == "message" && n.Child("", "body") != nil && n.Child("", "body").Text == body
	})
	if m.Attr("from") != room+"/"+fromNick || m.Attr("type") != "chat" {
		t.Fatalf("private message: got %s, want type chat from %s/%s", xmpptest.XML(m), room, fromNick)
	}
}

// awaitComponent asks for room's disco#info every 250 ms until the
// component answers (Prosody itself answers with an error while the
// component is away: there is no signal of its return to wait for), and
// returns the answer's query.
func awaitComponent(t *testing.T, c *xmpptest.Client, room string) *xmltok.Node {
	t.Helper()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	deadline := time.Now().Add(peer.ProsodyTimeout)
	for {
		id := c.ID()
		c.Send("<iq type='get' id='" + id + "' to='" + room + "'><query xmlns='" + nsDiscoInfo + "'/></iq>")
		res := awaitStanza(t, c, "room disco#info", func(n *xmltok.Node) bool { return n.Name.Local == "iq" && n.Attr("id") == id })
		if q := res.Child(nsDiscoInfo, "query"); res.Attr("type") == "result" && q != nil {
			return q
		}
		if time.Now().After(deadline) {
			t.Fatalf("room disco#info after %v: got %s, want a result (the component back)", peer.ProsodyTimeout, xmpptest.XML(res))
		}
		<-tick.C
	}
}

// statusCodes lists the muc#user status codes of a presence.
func statusCodes(n *xmltok.Node) []string {
	x := n.Child(nsMUCUser, "x")
	if x == nil {
		return nil
	}
	var codes []string
	for _, s := range x.ChildrenNamed(nsMUCUser, "status") {
		codes = append(codes, s.Attr("code"))
	}
	return codes
}

// hasField reports whether a data form has a field named v.
func hasField(form *xmltok.Node, v string) bool {
	return slices.ContainsFunc(form.ChildrenNamed(nsDataForms, "field"), func(f *xmltok.Node) bool { return f.Attr("var") == v })
}

// hasFeature reports whether a disco#info query lists feature v.
func hasFeature(q *xmltok.Node, v string) bool {
	return slices.ContainsFunc(q.ChildrenNamed(nsDiscoInfo, "feature"), func(f *xmltok.Node) bool { return f.Attr("var") == v })
}
