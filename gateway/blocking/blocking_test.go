package blocking

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"junction/gateway/session"
	"junction/registry"
	"junction/registry/registrytest"
	"junction/xmpp/jid"
	"junction/xmpp/stanza"
)

type fakeConn struct {
	jid  jid.JID
	mu   sync.Mutex
	sent []*stanza.Stanza
}

func (c *fakeConn) JID() jid.JID { return c.jid }
func (c *fakeConn) Send(st *stanza.Stanza) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent = append(c.sent, st)
	return nil
}
func (c *fakeConn) CloseWithError(string) {}

type harness struct {
	s      *Service
	store  registry.Store
	mgr    *session.Manager
	routed []*stanza.Stanza
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{store: registrytest.OpenTemp(t), mgr: session.NewManager()}
	for _, u := range []string{"alice", "bob"} {
		if err := h.store.CreateAccount(t.Context(), registry.Account{Host: "example.com", Username: u, Created: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	h.s = New(h.store, h.mgr, func(_ context.Context, st *stanza.Stanza) { h.routed = append(h.routed, st) }, nil)
	return h
}

func (h *harness) bind(t *testing.T, full string, available bool) *fakeConn {
	t.Helper()
	c := &fakeConn{jid: jid.MustParse(full)}
	if _, ok := h.mgr.Bind(c); !ok {
		t.Fatalf("bind %s refused", full)
	}
	if available {
		h.mgr.SetPresence(c, stanza.New(stanza.Presence, jid.JID{}, jid.JID{}, "", ""), 0)
	}
	return c
}

// do runs an iq from alice@example.com/phone through the handler for its payload.
func (h *harness) do(t *testing.T, typ, payload string) (*stanza.Stanza, error) {
	t.Helper()
	return h.doFrom(t, "alice@example.com/phone", "alice@example.com", typ, payload)
}

func (h *harness) doFrom(t *testing.T, from, to, typ, payload string) (*stanza.Stanza, error) {
	t.Helper()
	req, err := stanza.Parse("<iq xmlns='jabber:client' from='" + from + "' to='" + to + "' type='" + typ + "' id='b1'>" + payload + "</iq>")
	if err != nil {
		t.Fatal(err)
	}
	p := req.Payload()
	for _, hd := range h.s.Handlers() {
		if hd.Payload() == p.Name {
			return hd.HandleIQ(t.Context(), req, p)
		}
	}
	t.Fatalf("no handler for %v", p.Name)
	return nil, nil
}

func items(jids ...string) string {
	var b strings.Builder
	for _, j := range jids {
		b.WriteString("<item jid='" + j + "'/>")
	}
	return b.String()
}

func condition(err error) stanza.Condition {
	var se *stanza.Error
	if errors.As(err, &se) {
		return se.Condition
	}
	if err != nil {
		return stanza.Condition("not a stanza error: " + err.Error())
	}
	return ""
}

func TestBlocksMatching(t *testing.T) {
	h := newHarness(t)
	list := []string{"bad@evil.example/phone", "spam@example.net", "evil.org", "bots.example/crawler"}
	if err := h.store.Block(t.Context(), "example.com", "alice", list); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		owner, other string
		want         bool
	}{
		// Full JID items match only that full JID.
		{"alice@example.com", "bad@evil.example/phone", true},
		{"alice@example.com", "bad@evil.example/laptop", false},
		{"alice@example.com", "bad@evil.example", false},
		// Bare JID items match the bare JID and every resource of it.
		{"alice@example.com", "spam@example.net", true},
		{"alice@example.com", "spam@example.net/any", true},
		{"alice@example.com", "ham@example.net", false},
		{"alice@example.com", "example.net", false},
		// Domain items match the domain and everything at it, not subdomains.
		{"alice@example.com", "evil.org", true},
		{"alice@example.com", "evil.org/res", true},
		{"alice@example.com", "anyone@evil.org", true},
		{"alice@example.com", "anyone@evil.org/res", true},
		{"alice@example.com", "sub.evil.org", false},
		// Domain/resource items match that resource at the domain.
		{"alice@example.com", "bots.example/crawler", true},
		{"alice@example.com", "bot1@bots.example/crawler", true},
		{"alice@example.com", "bots.example/other", false},
		{"alice@example.com", "bots.example", false},
		{"alice@example.com", "bot1@bots.example", false},
		// The owner's resource does not matter; another owner has its own list.
		{"alice@example.com/phone", "spam@example.net", true},
		{"bob@example.com", "spam@example.net", false},
		// Domains own no list.
		{"example.com", "spam@example.net", false},
	}
	for _, tc := range tests {
		t.Run(tc.owner+" "+tc.other, func(t *testing.T) {
			if got := h.s.Blocks(t.Context(), jid.MustParse(tc.owner), jid.MustParse(tc.other)); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	if h.s.Blocks(t.Context(), jid.MustParse("alice@example.com"), jid.JID{}) {
		t.Errorf("Blocks(zero JID): got true, want false")
	}
}

func TestCacheInvalidation(t *testing.T) {
	h := newHarness(t)
	alice, spam := jid.MustParse("alice@example.com"), jid.MustParse("spam@example.net")
	steps := []struct {
		name    string
		verb    string // block, unblock, store (behind the service's back), forget
		jids    []string
		want    bool
		wantErr stanza.Condition
	}{
		{name: "empty list", want: false},
		{name: "block", verb: "block", jids: []string{"spam@example.net"}, want: true},
		{name: "unblock", verb: "unblock", jids: []string{"spam@example.net"}, want: false},
		{name: "store change is cached over", verb: "store", jids: []string{"spam@example.net"}, want: false},
		{name: "Forget reloads", verb: "forget", want: true},
		{name: "unblock all", verb: "unblock", want: false},
		{name: "block domain", verb: "block", jids: []string{"example.net"}, want: true},
	}
	for _, st := range steps {
		var err error
		switch st.verb {
		case "block", "unblock":
			_, err = h.do(t, "set", "<"+st.verb+" xmlns='urn:xmpp:blocking'>"+items(st.jids...)+"</"+st.verb+">")
		case "store":
			err = h.store.Block(t.Context(), "example.com", "alice", st.jids)
		case "forget":
			h.s.Forget(alice)
		}
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got := h.s.Blocks(t.Context(), alice, spam); got != st.want {
			t.Errorf("%s: got Blocks %v, want %v", st.name, got, st.want)
		}
	}
}

func TestGet(t *testing.T) {
	h := newHarness(t)
	if _, err := h.do(t, "set", "<block xmlns='urn:xmpp:blocking'>"+items("b@example.net", "a@example.net")+"</block>"); err != nil {
		t.Fatal(err)
	}
	reply, err := h.do(t, "get", "<blocklist xmlns='urn:xmpp:blocking'/>")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range reply.Payload().ChildrenNamed(NS, "item") {
		got = append(got, it.Attr("jid"))
	}
	slices.Sort(got)
	if want := []string{"a@example.net", "b@example.net"}; !slices.Equal(got, want) {
		t.Errorf("got blocklist %v, want %v", got, want)
	}
	if reply.Type != "result" || reply.ID != "b1" {
		t.Errorf("got %s, want a result with id b1", reply.Raw)
	}
}

func TestRequestErrors(t *testing.T) {
	tests := []struct {
		name, from, to, typ, payload string
		want                         stanza.Condition
	}{
		{"get to another account", "alice@example.com/phone", "bob@example.com", "get", "<blocklist xmlns='urn:xmpp:blocking'/>", stanza.BadRequest},
		{"set blocklist", "alice@example.com/phone", "alice@example.com", "set", "<blocklist xmlns='urn:xmpp:blocking'/>", stanza.BadRequest},
		{"get block", "alice@example.com/phone", "alice@example.com", "get", "<block xmlns='urn:xmpp:blocking'>" + items("a@example.net") + "</block>", stanza.BadRequest},
		{"block for another account", "alice@example.com/phone", "bob@example.com", "set", "<block xmlns='urn:xmpp:blocking'>" + items("a@example.net") + "</block>", stanza.BadRequest},
		{"block nothing", "alice@example.com/phone", "alice@example.com", "set", "<block xmlns='urn:xmpp:blocking'/>", stanza.BadRequest},
		{"malformed JID", "alice@example.com/phone", "alice@example.com", "set", "<block xmlns='urn:xmpp:blocking'>" + items("a@@example.net") + "</block>", stanza.JIDMalformed},
		{"malformed JID in unblock", "alice@example.com/phone", "alice@example.com", "set", "<unblock xmlns='urn:xmpp:blocking'>" + items("") + "</unblock>", stanza.JIDMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			_, err := h.doFrom(t, tc.from, tc.to, tc.typ, tc.payload)
			if got := condition(err); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestPushes(t *testing.T) {
	h := newHarness(t)
	phone := h.bind(t, "alice@example.com/phone", true)
	laptop := h.bind(t, "alice@example.com/laptop", false)
	bob := h.bind(t, "bob@example.com/x", true)
	steps := []struct {
		verb       string
		jids       []string
		wantRouted []string // unavailable presence, as from → to
	}{
		{"block", []string{"spam@example.net", "evil.org"}, []string{"alice@example.com/phone → spam@example.net"}},
		{"unblock", []string{"evil.org"}, nil},
		{"unblock", nil, nil},
	}
	for i, st := range steps {
		h.routed = nil
		if _, err := h.do(t, "set", "<"+st.verb+" xmlns='urn:xmpp:blocking'>"+items(st.jids...)+"</"+st.verb+">"); err != nil {
			t.Fatalf("%s %v: %v", st.verb, st.jids, err)
		}
		for _, c := range []*fakeConn{phone, laptop} {
			if len(c.sent) != i+1 {
				t.Fatalf("%s %v: got %d pushes to %v, want %d", st.verb, st.jids, len(c.sent), c.jid, i+1)
			}
			push := c.sent[i]
			p := push.Payload()
			if push.Type != "set" || push.To != c.jid || push.From != jid.MustParse("alice@example.com") || p == nil || p.Name.Space != NS || p.Name.Local != st.verb {
				t.Errorf("%s: got push %s to %v, want an iq set <%s xmlns='%s'/>", st.verb, push.Raw, c.jid, st.verb, NS)
				continue
			}
			var got []string
			for _, it := range p.ChildrenNamed(NS, "item") {
				got = append(got, it.Attr("jid"))
			}
			if !slices.Equal(got, st.jids) {
				t.Errorf("%s: got pushed items %v, want %v", st.verb, got, st.jids)
			}
		}
		var routed []string
		for _, r := range h.routed {
			if r.Type != "unavailable" {
				t.Errorf("%s: got routed %s, want only unavailable presence", st.verb, r.Raw)
			}
			routed = append(routed, fmt.Sprintf("%v → %v", r.From, r.To))
		}
		if !slices.Equal(routed, st.wantRouted) {
			t.Errorf("%s: got routed %v, want %v", st.verb, routed, st.wantRouted)
		}
	}
	if len(bob.sent) != 0 {
		t.Errorf("got %d pushes to bob, want none", len(bob.sent))
	}
	if got := len(h.s.Handlers()); got != 3 {
		t.Errorf("got %d handlers, want 3", got)
	}
}

func TestMaxItems(t *testing.T) {
	tests := []struct {
		name    string
		have    int
		add     int
		want    stanza.Condition
		wantLen int
	}{
		{name: "fills up exactly", have: MaxItems - 2, add: 2, wantLen: MaxItems},
		{name: "one too many", have: MaxItems - 1, add: 2, want: stanza.ResourceConstraint, wantLen: MaxItems - 1},
		{name: "full", have: MaxItems, add: 1, want: stanza.ResourceConstraint, wantLen: MaxItems},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			var have []string
			for i := range tc.have {
				have = append(have, fmt.Sprintf("u%d@example.net", i))
			}
			if err := h.store.Block(t.Context(), "example.com", "alice", have); err != nil {
				t.Fatal(err)
			}
			var add []string
			for i := range tc.add {
				add = append(add, fmt.Sprintf("new%d@example.net", i))
			}
			_, err := h.do(t, "set", "<block xmlns='urn:xmpp:blocking'>"+items(add...)+"</block>")
			if got := condition(err); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			l, err := h.store.BlockList(t.Context(), "example.com", "alice")
			if err != nil {
				t.Fatal(err)
			}
			if len(l) != tc.wantLen {
				t.Errorf("got %d items stored, want %d", len(l), tc.wantLen)
			}
		})
	}
}
