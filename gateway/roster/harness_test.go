package roster

import (
	"context"
	"errors"
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

// fakeConn is a session.Conn that records what it is sent.
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

// presences returns the presence stanzas of type typ c got from from.
func (c *fakeConn) presences(typ string, from jid.JID) int {
	n := 0
	for _, st := range c.sent {
		if st.Name == stanza.Presence && st.Type == typ && st.From == from {
			n++
		}
	}
	return n
}

// pushes returns the roster pushes c got.
func (c *fakeConn) pushes() []*stanza.Stanza {
	var out []*stanza.Stanza
	for _, st := range c.sent {
		if st.Name == stanza.IQ && st.Type == "set" {
			out = append(out, st)
		}
	}
	return out
}

type harness struct {
	s      *Service
	store  registry.Store
	mgr    *session.Manager
	routed []*stanza.Stanza
	alice  *fakeConn // alice@example.com/phone, available and interested
	bob    *fakeConn // bob@example.com/desk, available and interested
}

var (
	aliceJID = jid.MustParse("alice@example.com")
	bobJID   = jid.MustParse("bob@example.com")
)

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{store: registrytest.OpenTemp(t), mgr: session.NewManager()}
	for _, u := range []string{"alice", "bob", "carol"} {
		if err := h.store.CreateAccount(t.Context(), registry.Account{Host: "example.com", Username: u, Created: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	route := func(_ context.Context, st *stanza.Stanza) { h.routed = append(h.routed, st) }
	h.s = New(h.store, h.mgr, route, func(d string) bool { return d == "example.com" }, nil)
	h.alice = h.online(t, "alice@example.com/phone")
	h.bob = h.online(t, "bob@example.com/desk")
	return h
}

// online binds an available session that asked for the roster.
func (h *harness) online(t *testing.T, full string) *fakeConn {
	t.Helper()
	c := &fakeConn{jid: jid.MustParse(full)}
	if _, ok := h.mgr.Bind(c); !ok {
		t.Fatalf("bind %s refused", full)
	}
	h.mgr.SetPresence(c, stanza.New(stanza.Presence, c.jid, jid.JID{}, "", ""), 0)
	h.mgr.SetInterested(c)
	return c
}

// put stores user's item for contact in the state written as
// sub[+PO][+PI][+PA] (pending out, pending in, pre-approved).
func (h *harness) put(t *testing.T, user, contact jid.JID, state string) {
	t.Helper()
	parts := strings.Split(state, "+")
	it := registry.RosterItem{Host: user.Domainpart(), Username: user.Localpart(), Contact: contact.String(),
		Subscription: registry.Subscription(parts[0]), InRoster: true}
	for _, p := range parts[1:] {
		switch p {
		case "PO":
			it.Ask = true
		case "PI":
			it.PendingIn = true
			it.PendingInStanza = stanza.New(stanza.Presence, contact, user, "subscribe", "").Raw
		case "PA":
			it.Approved = true
		default:
			t.Fatalf("bad state %q", state)
		}
	}
	if _, err := h.store.PutRosterItem(t.Context(), it); err != nil {
		t.Fatalf("put %s's item for %s: %v", user, contact, err)
	}
}

// state reads user's item for contact back in put's notation; "absent"
// when there is no item at all.
func (h *harness) state(t *testing.T, user, contact jid.JID) string {
	t.Helper()
	it, err := h.store.RosterItem(t.Context(), user.Domainpart(), user.Localpart(), contact.String())
	if errors.Is(err, registry.ErrNotFound) {
		return "absent"
	}
	if err != nil {
		t.Fatal(err)
	}
	s := string(it.Subscription)
	if s == "" {
		s = "none"
	}
	if it.Ask {
		s += "+PO"
	}
	if it.PendingIn {
		s += "+PI"
	}
	if it.Approved {
		s += "+PA"
	}
	return s
}

// mirror is the contact's side of a state.
func mirror(state string) string {
	parts := strings.Split(state, "+")
	switch parts[0] {
	case "to":
		parts[0] = "from"
	case "from":
		parts[0] = "to"
	}
	var po, pi bool
	for _, p := range parts[1:] {
		po = po || p == "PI"
		pi = pi || p == "PO"
	}
	s := parts[0]
	if po {
		s += "+PO"
	}
	if pi {
		s += "+PI"
	}
	return s
}

func presence(from, to jid.JID, typ string) *stanza.Stanza {
	return stanza.New(stanza.Presence, from, to, typ, "")
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
