package gateway_test

import (
	"strconv"
	"strings"
	"testing"

	"junction/config"
	"junction/gateway/gatewaytest"
	"junction/xmpp/xmltok"
	"junction/xmpp/xmpptest"
)

// find returns the first node in ns matching pred, failing otherwise.
func find(t *testing.T, what string, ns []*xmltok.Node, pred func(*xmltok.Node) bool) *xmltok.Node {
	t.Helper()
	for _, n := range ns {
		if pred(n) {
			return n
		}
	}
	var s []string
	for _, n := range ns {
		s = append(s, xmpptest.XML(n))
	}
	t.Fatalf("no %s among %v", what, s)
	return nil
}

func isPush(contact, sub, ask string) func(*xmltok.Node) bool {
	return func(n *xmltok.Node) bool {
		if n.Name.Local != "iq" || n.Attr("type") != "set" {
			return false
		}
		q := n.Child("jabber:iq:roster", "query")
		if q == nil {
			return false
		}
		it := q.Child("jabber:iq:roster", "item")
		return it != nil && it.Attr("jid") == contact && it.Attr("subscription") == sub && it.Attr("ask") == ask
	}
}

func isPresence(from, typ string) func(*xmltok.Node) bool {
	return func(n *xmltok.Node) bool {
		return n.Name.Local == "presence" && n.Attr("from") == from && n.Attr("type") == typ
	}
}

func getRoster(t *testing.T, c *xmpptest.Client) map[string]*xmltok.Node {
	t.Helper()
	id := c.ID()
	c.Send("<iq type='get' id='" + id + "'><query xmlns='jabber:iq:roster'/></iq>")
	r := find(t, "roster result", c.Ping(), func(n *xmltok.Node) bool { return n.Attr("id") == id })
	items := map[string]*xmltok.Node{}
	for _, it := range r.Child("jabber:iq:roster", "query").Children {
		items[it.Attr("jid")] = it
	}
	return items
}

func TestSubscriptionBothWays(t *testing.T) {
	srv := gatewaytest.Start(t)
	srv.AddUser(t, "alice", pw)
	srv.AddUser(t, "bob", pw)
	alice := srv.Login(t, "alice", pw, "a")
	bob := srv.Login(t, "bob", pw, "b")
	getRoster(t, alice)
	getRoster(t, bob)

	// alice asks.
	alice.Send("<presence to='bob@localhost' type='subscribe'/>")
	find(t, "push none+ask", alice.Ping(), isPush("bob@localhost", "none", "subscribe"))
	find(t, "subscribe request", bob.Ping(), isPresence("alice@localhost", "subscribe"))

	// bob approves: bob gets alice as 'from'; alice gets 'to', the
	// approval and bob's presence.
	bob.Send("<presence to='alice@localhost' type='subscribed'/>")
	find(t, "push from", bob.Ping(), isPush("alice@localhost", "from", ""))
	got := alice.Ping()
	find(t, "push to", got, isPush("bob@localhost", "to", ""))
	find(t, "subscribed", got, isPresence("bob@localhost", "subscribed"))
	find(t, "bob's presence", got, isPresence("bob@localhost/b", ""))

	// bob asks back; alice's server answers nothing automatically, alice approves.
	bob.Send("<presence to='alice@localhost' type='subscribe'/>")
	bob.Ping()
	find(t, "subscribe request", alice.Ping(), isPresence("bob@localhost", "subscribe"))
	alice.Send("<presence to='bob@localhost' type='subscribed'/>")
	find(t, "push both", alice.Ping(), isPush("bob@localhost", "both", ""))
	find(t, "push both", bob.Ping(), isPush("alice@localhost", "both", ""))

	// Presence now flows both ways.
	alice.Send("<presence><show>away</show></presence>")
	alice.Ping()
	p := find(t, "alice away", bob.Ping(), isPresence("alice@localhost/a", ""))
	if s := p.Child("", "show"); s == nil || s.Text != "away" {
		t.Fatalf("got %s, want show away", xmpptest.XML(p))
	}
	if it := getRoster(t, alice)["bob@localhost"]; it == nil || it.Attr("subscription") != "both" {
		t.Fatalf("alice's roster item for bob: %s", xmpptest.XML(it))
	}

	// bob cancels alice's subscription: alice goes to 'from', and gets
	// bob's unavailable presence.
	bob.Send("<presence to='alice@localhost' type='unsubscribed'/>")
	find(t, "push to", bob.Ping(), isPush("alice@localhost", "to", ""))
	got = alice.Ping()
	find(t, "push from", got, isPush("bob@localhost", "from", ""))
	find(t, "unsubscribed", got, isPresence("bob@localhost", "unsubscribed"))
	find(t, "unavailable", got, isPresence("bob@localhost/b", "unavailable"))

	// alice removes bob: bob loses both directions.
	alice.Send("<iq type='set' id='rm'><query xmlns='jabber:iq:roster'><item jid='bob@localhost' subscription='remove'/></query></iq>")
	find(t, "remove push", alice.Ping(), func(n *xmltok.Node) bool {
		q := n.Child("jabber:iq:roster", "query")
		return q != nil && q.Child("", "item") != nil && q.Child("", "item").Attr("subscription") == "remove"
	})
	if it := getRoster(t, bob)["alice@localhost"]; it == nil || it.Attr("subscription") != "none" {
		t.Fatalf("bob's roster item for alice after removal: %s", xmpptest.XML(it))
	}
}

func TestSubscriptionWhileContactOffline(t *testing.T) {
	srv := gatewaytest.Start(t)
	srv.AddUser(t, "alice", pw)
	srv.AddUser(t, "carol", pw)
	alice := srv.Login(t, "alice", pw, "a")
	alice.Send("<presence to='carol@localhost' type='subscribe'><status>it is alice</status></presence>")
	alice.Ping()

	// carol logs in later: the stored request arrives after her initial presence.
	carol := srv.Dial(t)
	carol.StartTLS()
	if err := carol.Auth("SCRAM-SHA-256", "carol", pw); err != nil {
		t.Fatal(err)
	}
	if _, err := carol.Bind("c"); err != nil {
		t.Fatal(err)
	}
	carol.Send("<presence/>")
	req := find(t, "stored subscribe", carol.Ping(), isPresence("alice@localhost", "subscribe"))
	if st := req.Child("", "status"); st == nil || st.Text != "it is alice" {
		t.Fatalf("got %s, want the status kept", xmpptest.XML(req))
	}
	carol.Send("<presence to='alice@localhost' type='subscribed'/>")
	carol.Ping()
	find(t, "subscribed", alice.Ping(), isPresence("carol@localhost", "subscribed"))
}

func TestPreApproval(t *testing.T) {
	srv := gatewaytest.Start(t)
	srv.AddUser(t, "alice", pw)
	srv.AddUser(t, "bob", pw)
	alice := srv.Login(t, "alice", pw, "a")
	bob := srv.Login(t, "bob", pw, "b")
	bob.Send("<presence to='alice@localhost' type='subscribed'/>") // pre-approve
	bob.Ping()
	alice.Send("<presence to='bob@localhost' type='subscribe'/>")
	got := alice.Ping()
	find(t, "automatic subscribed", got, isPresence("bob@localhost", "subscribed"))
	find(t, "bob's presence", got, isPresence("bob@localhost/b", ""))
	for _, n := range bob.Ping() {
		if isPresence("alice@localhost", "subscribe")(n) {
			t.Fatalf("bob was asked although he approved in advance")
		}
	}
}

func TestRosterSetAndVersioning(t *testing.T) {
	srv := gatewaytest.Start(t)
	srv.AddUser(t, "alice", pw)
	alice := srv.Login(t, "alice", pw, "a")
	for _, tc := range []struct{ name, item, want string }{
		{"add", "<item jid='dave@example.net' name='Dave'><group>Friends</group></item>", "result"},
		{"two items", "<item jid='x@example.net'/><item jid='y@example.net'/>", "bad-request"},
		{"full jid", "<item jid='x@example.net/r'/>", "jid-malformed"},
		{"duplicate group", "<item jid='x@example.net'><group>a</group><group>a</group></item>", "bad-request"},
		{"empty group", "<item jid='x@example.net'><group></group></item>", "not-acceptable"},
		{"remove unknown", "<item jid='nobody@example.net' subscription='remove'/>", "item-not-found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := alice.ID()
			alice.Send("<iq type='set' id='" + id + "'><query xmlns='jabber:iq:roster'>" + tc.item + "</query></iq>")
			r := find(t, "answer", alice.Ping(), func(n *xmltok.Node) bool { return n.Attr("id") == id })
			got := r.Attr("type")
			if got == "error" {
				got = errorCondition(r)
			}
			if got != tc.want {
				t.Fatalf("got %s, want %s", xmpptest.XML(r), tc.want)
			}
		})
	}
	// Versioning: the current version gets an empty result.
	alice.Send("<iq type='get' id='v0'><query xmlns='jabber:iq:roster' ver=''/></iq>")
	r := find(t, "roster", alice.Ping(), func(n *xmltok.Node) bool { return n.Attr("id") == "v0" })
	q := r.Child("jabber:iq:roster", "query")
	if q == nil || q.Attr("ver") == "" || len(q.Children) != 1 {
		t.Fatalf("got %s, want a versioned roster with one item", xmpptest.XML(r))
	}
	alice.Send("<iq type='get' id='v1'><query xmlns='jabber:iq:roster' ver='" + q.Attr("ver") + "'/></iq>")
	r = find(t, "roster", alice.Ping(), func(n *xmltok.Node) bool { return n.Attr("id") == "v1" })
	if r.Attr("type") != "result" || len(r.Children) != 0 {
		t.Fatalf("got %s, want an empty result for a current version", xmpptest.XML(r))
	}
	if alice.Features == nil {
		t.Fatal("no features")
	}
}

func TestOfflineMessages(t *testing.T) {
	srv := gatewaytest.Start(t)
	srv.AddUser(t, "alice", pw)
	srv.AddUser(t, "bob", pw)
	alice := srv.Login(t, "alice", pw, "a")
	for _, body := range []string{"one", "two", "three"} {
		alice.Send("<message to='bob@localhost' type='chat'><body>" + body + "</body></message>")
	}
	alice.Send("<message to='bob@localhost' type='headline'><body>not stored</body></message>")
	if got := alice.Ping(); len(got) != 0 {
		t.Fatalf("alice got %s, want no bounce", xmpptest.XML(got[0]))
	}
	bob, seen := srv.LoginSeen(t, "bob", pw, "b") // initial presence flushes storage
	var bodies []string
	for _, n := range seen {
		if n.Name.Local == "message" {
			if n.Child("urn:xmpp:delay", "delay") == nil {
				t.Errorf("offline message without delay: %s", xmpptest.XML(n))
			}
			bodies = append(bodies, n.Child("", "body").Text)
		}
	}
	if got, want := strings.Join(bodies, ","), "one,two,three"; got != want {
		t.Fatalf("got offline messages %q, want %q", got, want)
	}
	// Delivered once: a second session sees nothing stored.
	bob.Close()
	_, seen = srv.LoginSeen(t, "bob", pw, "b2")
	for _, n := range seen {
		if n.Name.Local == "message" {
			t.Fatalf("message delivered twice: %s", xmpptest.XML(n))
		}
	}
}

func TestCarbons(t *testing.T) {
	srv := gatewaytest.Start(t)
	srv.AddUser(t, "alice", pw)
	srv.AddUser(t, "bob", pw)
	one := srv.Login(t, "alice", pw, "one")
	two := srv.Login(t, "alice", pw, "two")
	old := srv.Login(t, "alice", pw, "old") // never enables carbons
	bob := srv.Login(t, "bob", pw, "b")
	for _, c := range []*xmpptest.Client{one, two} {
		c.Send("<iq type='set' id='cb'><enable xmlns='urn:xmpp:carbons:2'/></iq>")
		find(t, "enable result", c.Ping(), func(n *xmltok.Node) bool { return n.Attr("id") == "cb" && n.Attr("type") == "result" })
	}
	one.Ping()
	old.Ping()

	isCarbon := func(dir, body string) func(*xmltok.Node) bool {
		return func(n *xmltok.Node) bool {
			c := n.Child("urn:xmpp:carbons:2", dir)
			if n.Name.Local != "message" || n.Attr("from") != "alice@localhost" || c == nil {
				return false
			}
			f := c.Child("urn:xmpp:forward:0", "forwarded")
			m := f.Child("jabber:client", "message")
			return m != nil && m.Child("", "body") != nil && m.Child("", "body").Text == body
		}
	}
	bob.Send("<message to='alice@localhost/one' type='chat'><body>to one</body></message>")
	bob.Ping()
	find(t, "received carbon", two.Ping(), isCarbon("received", "to one"))
	if got := old.Ping(); len(got) != 0 {
		t.Fatalf("resource without carbons got %s", xmpptest.XML(got[0]))
	}
	one.Send("<message to='bob@localhost' type='chat'><body>from one</body></message>")
	one.Send("<message to='bob@localhost' type='chat'><body>secret</body><private xmlns='urn:xmpp:carbons:2'/></message>")
	one.Ping()
	got := two.Ping()
	find(t, "sent carbon", got, isCarbon("sent", "from one"))
	for _, n := range got {
		if isCarbon("sent", "secret")(n) {
			t.Fatalf("private message was carbon-copied")
		}
	}
	one.Ping()
	bob.Ping()
}

func TestBlocking(t *testing.T) {
	srv := gatewaytest.Start(t)
	srv.AddUser(t, "alice", pw)
	srv.AddUser(t, "bob", pw)
	alice := srv.Login(t, "alice", pw, "a")
	bob := srv.Login(t, "bob", pw, "b")

	alice.Send("<iq type='set' id='b1'><block xmlns='urn:xmpp:blocking'><item jid='bob@localhost'/></block></iq>")
	got := alice.Ping()
	find(t, "block result", got, func(n *xmltok.Node) bool { return n.Attr("id") == "b1" && n.Attr("type") == "result" })
	find(t, "block push", got, func(n *xmltok.Node) bool { return n.Child("urn:xmpp:blocking", "block") != nil })

	alice.Send("<iq type='get' id='l1'><blocklist xmlns='urn:xmpp:blocking'/></iq>")
	l := find(t, "blocklist", alice.Ping(), func(n *xmltok.Node) bool { return n.Attr("id") == "l1" })
	if it := l.Child("urn:xmpp:blocking", "blocklist").Child("", "item"); it == nil || it.Attr("jid") != "bob@localhost" {
		t.Fatalf("got %s, want bob in the block list", xmpptest.XML(l))
	}

	bob.Send("<message to='alice@localhost/a' type='chat' id='x1'><body>hi</body></message>")
	if n := find(t, "error", bob.Ping(), func(n *xmltok.Node) bool { return n.Attr("id") == "x1" }); errorCondition(n) != "service-unavailable" {
		t.Fatalf("got %s, want service-unavailable", xmpptest.XML(n))
	}
	if got := alice.Ping(); len(got) != 0 {
		t.Fatalf("alice got %s from a blocked contact", xmpptest.XML(got[0]))
	}
	alice.Send("<message to='bob@localhost' type='chat' id='x2'><body>hi</body></message>")
	n := find(t, "error", alice.Ping(), func(n *xmltok.Node) bool { return n.Attr("id") == "x2" })
	if errorCondition(n) != "not-acceptable" || n.Child("", "error").Child("urn:xmpp:blocking:errors", "blocked") == nil {
		t.Fatalf("got %s, want not-acceptable with <blocked/>", xmpptest.XML(n))
	}

	alice.Send("<iq type='set' id='u1'><unblock xmlns='urn:xmpp:blocking'/></iq>")
	alice.Ping()
	bob.Send("<message to='alice@localhost/a' type='chat' id='x3'><body>again</body></message>")
	bob.Ping()
	find(t, "message after unblock", alice.Ping(), func(n *xmltok.Node) bool { return n.Attr("id") == "x3" })
}

func TestVCardAndPrivateStorage(t *testing.T) {
	srv := gatewaytest.Start(t)
	srv.AddUser(t, "alice", pw)
	srv.AddUser(t, "bob", pw)
	alice := srv.Login(t, "alice", pw, "a")
	bob := srv.Login(t, "bob", pw, "b")
	alice.Send("<iq type='set' id='v1'><vCard xmlns='vcard-temp'><FN>Alice Liddell</FN><NICKNAME>al</NICKNAME></vCard></iq>")
	find(t, "set result", alice.Ping(), func(n *xmltok.Node) bool { return n.Attr("id") == "v1" && n.Attr("type") == "result" })
	bob.Send("<iq type='get' id='v2' to='alice@localhost'><vCard xmlns='vcard-temp'/></iq>")
	n := find(t, "vcard", bob.Ping(), func(n *xmltok.Node) bool { return n.Attr("id") == "v2" })
	if v := n.Child("vcard-temp", "vCard"); v == nil || v.Child("", "FN") == nil || v.Child("", "FN").Text != "Alice Liddell" {
		t.Fatalf("got %s, want alice's vCard", xmpptest.XML(n))
	}
	bob.Send("<iq type='set' id='v3' to='alice@localhost'><vCard xmlns='vcard-temp'><FN>Mallory</FN></vCard></iq>")
	if n := find(t, "error", bob.Ping(), func(n *xmltok.Node) bool { return n.Attr("id") == "v3" }); errorCondition(n) != "forbidden" {
		t.Fatalf("got %s, want forbidden", xmpptest.XML(n))
	}

	alice.Send("<iq type='set' id='p1'><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'><conference jid='room@muc.example' autojoin='true'/></storage></query></iq>")
	find(t, "private set", alice.Ping(), func(n *xmltok.Node) bool { return n.Attr("id") == "p1" && n.Attr("type") == "result" })
	alice.Send("<iq type='get' id='p2'><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'/></query></iq>")
	n = find(t, "private get", alice.Ping(), func(n *xmltok.Node) bool { return n.Attr("id") == "p2" })
	st := n.Child("jabber:iq:private", "query").Child("storage:bookmarks", "storage")
	if st == nil || st.Child("", "conference") == nil {
		t.Fatalf("got %s, want the stored bookmarks", xmpptest.XML(n))
	}
	bob.Send("<iq type='get' id='p3' to='alice@localhost'><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'/></query></iq>")
	if n := find(t, "error", bob.Ping(), func(n *xmltok.Node) bool { return n.Attr("id") == "p3" }); errorCondition(n) != "forbidden" {
		t.Fatalf("got %s, want forbidden", xmpptest.XML(n))
	}
}

// TestManyOfflineMessages: more stored messages than the client's queue
// holds arrive without the login being cut off as a slow reader.
func TestManyOfflineMessages(t *testing.T) {
	srv := gatewaytest.Start(t, func(c *config.Config) { c.C2S.QueueSize = 16 })
	srv.AddUser(t, "alice", pw)
	srv.AddUser(t, "bob", pw)
	alice := srv.Login(t, "alice", pw, "a")
	const n = 150
	for i := range n {
		alice.Send("<message to='bob@localhost' type='chat'><body>" + strconv.Itoa(i) + "</body></message>")
		if i%50 == 49 {
			alice.Ping()
		}
	}
	alice.Ping()
	_, seen := srv.LoginSeen(t, "bob", pw, "b")
	got := 0
	for _, m := range seen {
		if m.Name.Local == "message" {
			if b := m.Child("", "body"); b == nil || b.Text != strconv.Itoa(got) {
				t.Fatalf("message %d: got %s", got, xmpptest.XML(m))
			}
			got++
		}
	}
	if got != n {
		t.Fatalf("got %d offline messages, want %d", got, n)
	}
}
