package gateway_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"junction/config"
	"junction/gateway/gatewaytest"
	"junction/gateway/serverinfo"
	"junction/xmpp/stanza"
	"junction/xmpp/stream"
	"junction/xmpp/xmltok"
	"junction/xmpp/xmpptest"
)

// only returns the single element in ns, failing otherwise.
func only(t *testing.T, ns []*xmltok.Node) *xmltok.Node {
	t.Helper()
	if len(ns) != 1 {
		var s []string
		for _, n := range ns {
			s = append(s, xmpptest.XML(n))
		}
		t.Fatalf("got %d stanzas %v, want 1", len(ns), s)
	}
	return ns[0]
}

func errorCondition(n *xmltok.Node) string {
	e := n.Child("", "error")
	if e == nil {
		return ""
	}
	for _, ch := range e.Children {
		if ch.Name.Space == stanza.NSStanzas && ch.Name.Local != "text" {
			return ch.Name.Local
		}
	}
	return ""
}

func TestMessageRouting(t *testing.T) {
	srv := gatewaytest.Start(t)
	srv.AddUser(t, "alice", pw)
	srv.AddUser(t, "bob", pw)
	srv.AddUser(t, "carol", pw) // exists but never online
	alice := srv.Login(t, "alice", pw, "phone")
	bob := srv.Login(t, "bob", pw, "desk")

	for _, tc := range []struct {
		name      string
		send      string
		bobGets   bool
		wantError string // condition alice gets back, "" for none
	}{
		{"to full jid", "<message to='bob@localhost/desk' type='chat' id='m1'><body>full</body></message>", true, ""},
		{"to bare jid", "<message to='bob@localhost' type='chat' id='m2'><body>bare</body></message>", true, ""},
		{"to unknown resource falls back to bare", "<message to='bob@localhost/nope' type='chat' id='m3'><body>fallback</body></message>", true, ""},
		{"spoofed from is overwritten", "<message from='carol@localhost/x' to='bob@localhost' type='chat' id='m4'><body>spoof</body></message>", true, ""},
		{"to unknown user", "<message to='nobody@localhost' type='chat' id='m5'><body>x</body></message>", false, "service-unavailable"},
		{"to offline user is stored", "<message to='carol@localhost' type='chat' id='m6'><body>x</body></message>", false, ""},
		{"to remote domain", "<message to='someone@remote.example' type='chat' id='m7'><body>x</body></message>", false, "remote-server-not-found"},
		{"headline to offline user is dropped", "<message to='carol@localhost' type='headline' id='m8'><body>x</body></message>", false, ""},
		{"malformed to", "<message to='a@b@c' type='chat' id='m9'><body>x</body></message>", false, "jid-malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			alice.Send(tc.send)
			got := alice.Ping()
			if tc.wantError == "" && len(got) != 0 {
				t.Fatalf("alice got %s, want nothing", xmpptest.XML(got[0]))
			}
			if tc.wantError != "" {
				n := only(t, got)
				if c := errorCondition(n); n.Attr("type") != "error" || c != tc.wantError {
					t.Fatalf("alice got %s, want error %s", xmpptest.XML(n), tc.wantError)
				}
			}
			bobGot := bob.Ping()
			if !tc.bobGets {
				if len(bobGot) != 0 {
					t.Fatalf("bob got %s, want nothing", xmpptest.XML(bobGot[0]))
				}
				return
			}
			n := only(t, bobGot)
			if got, want := n.Attr("from"), "alice@localhost/phone"; got != want {
				t.Errorf("got from %q, want %q", got, want)
			}
			if n.Child("", "body") == nil {
				t.Errorf("got %s, want the body", xmpptest.XML(n))
			}
		})
	}
}

func TestIQRouting(t *testing.T) {
	srv := gatewaytest.Start(t)
	srv.AddUser(t, "alice", pw)
	srv.AddUser(t, "bob", pw)
	alice := srv.Login(t, "alice", pw, "a")
	bob := srv.Login(t, "bob", pw, "b")

	// An iq to a full JID reaches that session, and its answer comes back.
	alice.Send("<iq type='get' to='bob@localhost/b' id='v1'><query xmlns='jabber:iq:version'/></iq>")
	alice.Ping() // alice's stanzas are routed in order: the iq is queued for bob now
	n := only(t, bob.Ping())
	if n.Attr("from") != "alice@localhost/a" || n.Attr("id") != "v1" {
		t.Fatalf("bob got %s", xmpptest.XML(n))
	}
	bob.Send("<iq type='result' to='alice@localhost/a' id='v1'><query xmlns='jabber:iq:version'><name>test</name></query></iq>")
	bob.Ping()
	n = only(t, alice.Ping())
	if n.Attr("type") != "result" || n.Attr("from") != "bob@localhost/b" {
		t.Fatalf("alice got %s", xmpptest.XML(n))
	}

	for _, tc := range []struct{ name, send, want string }{
		{"to unknown resource", "<iq type='get' to='bob@localhost/gone' id='e1'><ping xmlns='urn:xmpp:ping'/></iq>", "service-unavailable"},
		{"to unknown account", "<iq type='get' to='nobody@localhost' id='e2'><ping xmlns='urn:xmpp:ping'/></iq>", "service-unavailable"},
		{"unsupported namespace at the server", "<iq type='get' to='localhost' id='e3'><query xmlns='urn:example:none'/></iq>", "service-unavailable"},
		{"no payload", "<iq type='get' to='localhost' id='e4'/>", "bad-request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			alice.Send(tc.send)
			n := only(t, alice.Ping())
			if c := errorCondition(n); c != tc.want {
				t.Fatalf("got %s, want error %s", xmpptest.XML(n), tc.want)
			}
		})
	}
}

func TestServerQueries(t *testing.T) {
	srv := gatewaytest.Start(t)
	srv.AddUser(t, "alice", pw)
	alice := srv.Login(t, "alice", pw, "a")

	alice.Send("<iq type='get' to='localhost' id='d1'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>")
	n := only(t, alice.Ping())
	q := n.Child("http://jabber.org/protocol/disco#info", "query")
	if q == nil {
		t.Fatalf("got %s, want disco#info result", xmpptest.XML(n))
	}
	var features []string
	for _, f := range q.ChildrenNamed("", "feature") {
		features = append(features, f.Attr("var"))
	}
	for _, want := range []string{"urn:xmpp:ping", "jabber:iq:version", "http://jabber.org/protocol/disco#info", "http://jabber.org/protocol/disco#items"} {
		if !strings.Contains(strings.Join(features, " "), want) {
			t.Errorf("disco#info features %v lack %s", features, want)
		}
	}
	if id := q.Child("", "identity"); id == nil || id.Attr("category") != "server" || id.Attr("type") != "im" {
		t.Errorf("got identity %s, want server/im", xmpptest.XML(id))
	}

	alice.Send("<iq type='get' to='localhost' id='v1'><query xmlns='jabber:iq:version'/></iq>")
	n = only(t, alice.Ping())
	if v := n.Child("jabber:iq:version", "query"); v == nil || v.Child("", "name").Text != "Junction" {
		t.Fatalf("got %s, want version Junction", xmpptest.XML(n))
	}

	alice.Send("<iq type='get' to='localhost' id='i1'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>")
	n = only(t, alice.Ping())
	if n.Attr("type") != "result" {
		t.Fatalf("got %s, want disco#items result", xmpptest.XML(n))
	}
}

func TestPresenceToOwnResources(t *testing.T) {
	srv := gatewaytest.Start(t)
	srv.AddUser(t, "alice", pw)
	a1 := srv.Login(t, "alice", pw, "one")
	a2 := srv.Login(t, "alice", pw, "two")
	// a1 sees a2's initial presence.
	n := only(t, a1.Ping())
	if n.Name.Local != "presence" || n.Attr("from") != "alice@localhost/two" {
		t.Fatalf("got %s, want presence from alice/two", xmpptest.XML(n))
	}
	// Messages to the bare JID go to the highest priority.
	a2.Send("<presence><priority>5</priority></presence>")
	a2.Ping()
	a1.Ping()
	a1.Send("<message to='alice@localhost' type='chat'><body>note to self</body></message>")
	if got := a1.Ping(); len(got) != 0 {
		t.Fatalf("lower priority resource got %s", xmpptest.XML(got[0]))
	}
	if n := only(t, a2.Ping()); n.Child("", "body") == nil {
		t.Fatalf("got %s, want the message", xmpptest.XML(n))
	}
	// A dropped connection is announced as unavailable.
	a2.Conn.Close()
	for {
		n := a1.MustNext()
		if n.Name.Local == "presence" && n.Attr("type") == "unavailable" && n.Attr("from") == "alice@localhost/two" {
			break
		}
	}
}

func TestResourceConflictReplacesOldSession(t *testing.T) {
	srv := gatewaytest.Start(t)
	srv.AddUser(t, "alice", pw)
	old := srv.Login(t, "alice", pw, "same")
	srv.Login(t, "alice", pw, "same")
	if got := old.StreamError(); got != stream.Conflict {
		t.Fatalf("old session got stream error %q, want conflict", got)
	}
}

func TestServerChosenResource(t *testing.T) {
	srv := gatewaytest.Start(t)
	srv.AddUser(t, "alice", pw)
	c := srv.Dial(t)
	c.StartTLS()
	if err := c.Auth("SCRAM-SHA-256", "alice", pw); err != nil {
		t.Fatal(err)
	}
	j, err := c.Bind("")
	if err != nil {
		t.Fatal(err)
	}
	if j.Resourcepart() == "" || j.Bare().String() != "alice@localhost" {
		t.Fatalf("got %s, want alice@localhost/<generated>", j)
	}
	// The optional <session/> is accepted.
	c.Send("<iq type='set' id='s1'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>")
	if n := only(t, c.Ping()); n.Attr("type") != "result" || n.Attr("id") != "s1" {
		t.Fatalf("got %s, want session result", xmpptest.XML(n))
	}
}

func TestSlowReaderDoesNotBlockOthers(t *testing.T) {
	srv := gatewaytest.Start(t, func(c *config.Config) { c.C2S.QueueSize = 8 })
	srv.AddUser(t, "alice", pw)
	srv.AddUser(t, "bob", pw)
	srv.AddUser(t, "carol", pw)
	alice := srv.Login(t, "alice", pw, "a")
	srv.Login(t, "bob", pw, "b") // never reads again
	carol := srv.Login(t, "carol", pw, "c")

	body := strings.Repeat("x", 60<<10)
	for i := range 400 {
		alice.Send("<message to='bob@localhost/b' type='chat'><body>" + body + "</body></message>")
		if i%50 == 0 {
			alice.Ping()
		}
	}
	alice.Ping()
	alice.Send("<message to='carol@localhost/c' type='chat'><body>still here</body></message>")
	alice.Ping()
	if n := only(t, carol.Ping()); n.Child("", "body") == nil || n.Child("", "body").Text != "still here" {
		t.Fatalf("carol got %s", xmpptest.XML(n))
	}
	if got := srv.Metrics().QueueOverflows(); got < 1 {
		t.Fatalf("got %v queue overflows, want at least 1", got)
	}
}

func TestServerCapabilities(t *testing.T) {
	srv := gatewaytest.Start(t)
	srv.AddUser(t, "alice", pw)
	c := srv.Dial(t)
	c.StartTLS()
	if err := c.Auth("SCRAM-SHA-256", "alice", pw); err != nil {
		t.Fatal(err)
	}
	caps := c.Features.Child("http://jabber.org/protocol/caps", "c")
	if caps == nil || caps.Attr("hash") != "sha-1" || caps.Attr("ver") == "" {
		t.Fatalf("got features %s, want XEP-0115 caps", xmpptest.XML(c.Features))
	}
	if _, err := c.Bind("r"); err != nil {
		t.Fatal(err)
	}
	node := caps.Attr("node") + "#" + caps.Attr("ver")
	c.Send("<iq type='get' to='localhost' id='c1'><query xmlns='http://jabber.org/protocol/disco#info' node='" + node + "'/></iq>")
	n := only(t, c.Ping())
	q := n.Child("http://jabber.org/protocol/disco#info", "query")
	if q == nil || q.Attr("node") != node {
		t.Fatalf("got %s, want disco#info for the caps node", xmpptest.XML(n))
	}
	// The advertised hash is the hash of what disco#info lists.
	var features []string
	for _, f := range q.ChildrenNamed("", "feature") {
		features = append(features, f.Attr("var"))
	}
	if got := serverinfo.CapsVer([]serverinfo.Identity{{Category: "server", Type: "im", Name: "Junction"}}, features); got != caps.Attr("ver") {
		t.Fatalf("caps ver %s does not match disco#info (hash %s)", caps.Attr("ver"), got)
	}
	for _, want := range []string{"jabber:iq:roster", "urn:xmpp:carbons:2", "urn:xmpp:blocking", "vcard-temp", "jabber:iq:private", "jabber:iq:register", "msgoffline"} {
		if !slices.Contains(features, want) {
			t.Errorf("server disco#info lacks %s: %v", want, features)
		}
	}
}

// TestBurstLargerThanQueue: a burst bigger than the client's queue (here a
// MUC join into a room with more occupants than the queue holds) spills
// over instead of cutting a client that reads.
func TestBurstLargerThanQueue(t *testing.T) {
	srv := gatewaytest.Start(t, withMUC, func(c *config.Config) { c.C2S.QueueSize = 8 })
	srv.AddUser(t, "owner", pw)
	srv.AddUser(t, "late", pw)
	owner := srv.Login(t, "owner", pw, "o")
	owner.Send("<presence to='big@conference.localhost/owner'><x xmlns='http://jabber.org/protocol/muc'/></presence>")
	awaitStanza(t, owner, "self-presence", func(n *xmltok.Node) bool { return hasStatus(n, "110") })
	owner.Send("<iq type='set' to='big@conference.localhost' id='inst'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'/></query></iq>")
	awaitStanza(t, owner, "instant room", func(n *xmltok.Node) bool { return n.Attr("id") == "inst" })
	// One account, many resources, each with its own nick: 30 occupants.
	srv.AddUser(t, "crowd", pw)
	for i := range 30 {
		c := srv.Login(t, "crowd", pw, "r"+strconv.Itoa(i))
		c.Send("<presence to='big@conference.localhost/n" + strconv.Itoa(i) + "'><x xmlns='http://jabber.org/protocol/muc'><history maxstanzas='0'/></x></presence>")
		awaitStanza(t, c, "join", func(n *xmltok.Node) bool { return hasStatus(n, "110") })
	}
	late := srv.Login(t, "late", pw, "l")
	late.Send("<presence to='big@conference.localhost/late'><x xmlns='http://jabber.org/protocol/muc'/></presence>")
	occupants := 0
	awaitStanza(t, late, "self-presence after every occupant", func(n *xmltok.Node) bool {
		if n.Name.Local == "presence" && !hasStatus(n, "110") {
			occupants++
		}
		return hasStatus(n, "110")
	})
	if occupants != 31 {
		t.Fatalf("got %d occupant presences before the self-presence, want 31", occupants)
	}
	if got := srv.Metrics().QueueOverflows(); got != 0 {
		t.Fatalf("got %v queue overflows, want 0", got)
	}
}
