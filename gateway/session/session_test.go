package session

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"junction/xmpp/jid"
	"junction/xmpp/stanza"
)

// fakeConn is a Conn that records what it is sent.
type fakeConn struct {
	jid jid.JID

	mu     sync.Mutex
	sent   []*stanza.Stanza
	closed string
}

func newConn(t *testing.T, s string) *fakeConn {
	t.Helper()
	j, err := jid.Parse(s)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return &fakeConn{jid: j}
}

func (c *fakeConn) JID() jid.JID { return c.jid }

func (c *fakeConn) Send(st *stanza.Stanza) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent = append(c.sent, st)
	return nil
}

func (c *fakeConn) CloseWithError(condition string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = condition
}

func TestBindReplaceUnbind(t *testing.T) {
	m := NewManager()
	a1 := newConn(t, "alice@example.com/phone")
	a2 := newConn(t, "alice@example.com/laptop")
	a1b := newConn(t, "alice@example.com/phone")
	bob := newConn(t, "bob@example.com/x")

	steps := []struct {
		name         string
		bind, unbind *fakeConn
		wantReplaced Conn
		wantRemoved  bool
		wantCount    int
		wantAlice    []Conn
	}{
		{name: "first resource", bind: a1, wantCount: 1, wantAlice: []Conn{a1}},
		{name: "second resource", bind: a2, wantCount: 2, wantAlice: []Conn{a1, a2}},
		{name: "other account", bind: bob, wantCount: 3, wantAlice: []Conn{a1, a2}},
		{name: "same full JID replaces", bind: a1b, wantReplaced: a1, wantCount: 3, wantAlice: []Conn{a1b, a2}},
		{name: "replaced conn unbinds nothing", unbind: a1, wantCount: 3, wantAlice: []Conn{a1b, a2}},
		{name: "unbind new conn", unbind: a1b, wantRemoved: true, wantCount: 2, wantAlice: []Conn{a2}},
		{name: "unbind twice", unbind: a1b, wantCount: 2, wantAlice: []Conn{a2}},
		{name: "unbind last", unbind: a2, wantRemoved: true, wantCount: 1},
	}
	for _, st := range steps {
		if st.bind != nil {
			replaced, ok := m.Bind(st.bind)
			if !ok {
				t.Fatalf("%s: Bind refused", st.name)
			}
			if replaced != st.wantReplaced {
				t.Errorf("%s: got replaced %v, want %v", st.name, replaced, st.wantReplaced)
			}
		}
		if st.unbind != nil {
			s := m.Unbind(st.unbind)
			if (s != nil) != st.wantRemoved {
				t.Errorf("%s: got removed session %v, want removed=%v", st.name, s, st.wantRemoved)
			}
			if s != nil && s.Conn != st.unbind {
				t.Errorf("%s: got session of %v, want %v", st.name, s.Conn, st.unbind)
			}
		}
		if got := m.Count(); got != st.wantCount {
			t.Errorf("%s: got Count %d, want %d", st.name, got, st.wantCount)
		}
		var got []Conn
		for _, s := range m.Sessions(nil, jid.MustParse("alice@example.com")) {
			got = append(got, s.Conn)
		}
		if !sameConns(got, st.wantAlice) {
			t.Errorf("%s: got alice's sessions %v, want %v", st.name, got, st.wantAlice)
		}
		if online := m.Online(jid.MustParse("alice@example.com")); online != (len(st.wantAlice) > 0) {
			t.Errorf("%s: got Online %v, want %v", st.name, online, len(st.wantAlice) > 0)
		}
		if got := len(m.All()); got != st.wantCount {
			t.Errorf("%s: got %d from All, want %d", st.name, got, st.wantCount)
		}
	}
}

func sameConns(a, b []Conn) bool {
	if len(a) != len(b) {
		return false
	}
	for _, c := range a {
		if !slices.Contains(b, c) {
			return false
		}
	}
	return true
}

func TestLookup(t *testing.T) {
	m := NewManager()
	c := newConn(t, "alice@example.com/phone")
	m.Bind(c)
	tests := []struct {
		full string
		want bool
	}{
		{"alice@example.com/phone", true},
		{"alice@example.com/laptop", false},
		{"alice@example.com", false},
		{"bob@example.com/phone", false},
	}
	for _, tc := range tests {
		s := m.Lookup(jid.MustParse(tc.full))
		if (s != nil) != tc.want {
			t.Errorf("Lookup(%s): got %v, want found=%v", tc.full, s, tc.want)
		}
		if got := m.HasResource(jid.MustParse(tc.full)); got != tc.want {
			t.Errorf("HasResource(%s): got %v, want %v", tc.full, got, tc.want)
		}
	}
}

func TestMaxPerAccount(t *testing.T) {
	m := NewManager()
	for i := range MaxPerAccount {
		if _, ok := m.Bind(newConn(t, fmt.Sprintf("alice@example.com/r%d", i))); !ok {
			t.Fatalf("Bind %d refused, want accepted", i)
		}
	}
	if _, ok := m.Bind(newConn(t, "alice@example.com/one-too-many")); ok {
		t.Errorf("Bind %d: got accepted, want refused", MaxPerAccount+1)
	}
	// Replacing a bound resource is still allowed at the limit.
	if replaced, ok := m.Bind(newConn(t, "alice@example.com/r0")); !ok || replaced == nil {
		t.Errorf("replace at the limit: got replaced=%v ok=%v, want a replaced conn and ok", replaced, ok)
	}
	// Another account is not affected.
	if _, ok := m.Bind(newConn(t, "bob@example.com/r")); !ok {
		t.Errorf("Bind for another account: got refused, want accepted")
	}
	if got, want := m.Count(), MaxPerAccount+1; got != want {
		t.Errorf("got Count %d, want %d", got, want)
	}
}

func presence(t *testing.T, typ string) *stanza.Stanza {
	t.Helper()
	return stanza.New(stanza.Presence, jid.JID{}, jid.JID{}, typ, "")
}

func TestSetPresence(t *testing.T) {
	m := NewManager()
	c := newConn(t, "alice@example.com/phone")
	m.Bind(c)
	steps := []struct {
		name         string
		st           *stanza.Stanza
		priority     int
		wantInitial  bool
		wantAvail    bool
		wantPriority int
	}{
		{"initial presence", presence(t, ""), 5, true, true, 5},
		{"update is not initial", presence(t, ""), -1, false, true, -1},
		{"unavailable", presence(t, "unavailable"), 7, false, false, 0},
		{"available again is initial", presence(t, ""), 1, true, true, 1},
		{"nil is unavailable", nil, 3, false, false, 0},
	}
	for _, st := range steps {
		initial, ok := m.SetPresence(c, st.st, st.priority)
		if !ok {
			t.Fatalf("%s: SetPresence not ok", st.name)
		}
		if initial != st.wantInitial {
			t.Errorf("%s: got initial %v, want %v", st.name, initial, st.wantInitial)
		}
		s := m.Lookup(c.JID())
		if s.Available() != st.wantAvail || s.Priority() != st.wantPriority {
			t.Errorf("%s: got available=%v priority=%d, want %v %d", st.name, s.Available(), s.Priority(), st.wantAvail, st.wantPriority)
		}
		if (s.Presence() != nil) != st.wantAvail {
			t.Errorf("%s: got presence %v, want kept=%v", st.name, s.Presence(), st.wantAvail)
		}
		snap := m.Sessions(nil, c.JID().Bare())
		if len(snap) != 1 || snap[0].Available != st.wantAvail || snap[0].Priority != st.wantPriority {
			t.Errorf("%s: got snapshot %+v, want available=%v priority=%d", st.name, snap, st.wantAvail, st.wantPriority)
		}
	}
	if _, ok := m.SetPresence(newConn(t, "alice@example.com/phone"), presence(t, ""), 0); ok {
		t.Errorf("SetPresence for an unbound conn with a bound JID: got ok, want not ok")
	}
}

func TestInterested(t *testing.T) {
	m := NewManager()
	a1 := newConn(t, "alice@example.com/a")
	a2 := newConn(t, "alice@example.com/b")
	bob := newConn(t, "bob@example.com/b")
	for _, c := range []*fakeConn{a1, a2, bob} {
		m.Bind(c)
	}
	m.SetInterested(a2)
	m.SetInterested(bob)
	m.SetInterested(newConn(t, "alice@example.com/a")) // not bound: ignored
	tests := []struct {
		bare string
		want []Conn
	}{
		{"alice@example.com", []Conn{a2}},
		{"bob@example.com", []Conn{bob}},
		{"carol@example.com", nil},
	}
	for _, tc := range tests {
		got := m.Interested(nil, jid.MustParse(tc.bare))
		if !sameConns(got, tc.want) {
			t.Errorf("Interested(%s): got %v, want %v", tc.bare, got, tc.want)
		}
	}
	// A replacing bind starts a fresh session that has not asked for the roster.
	m.Bind(newConn(t, "alice@example.com/b"))
	if got := m.Interested(nil, jid.MustParse("alice@example.com")); len(got) != 0 {
		t.Errorf("after replace: got %v, want no interested sessions", got)
	}
}

func TestSetCarbons(t *testing.T) {
	m := NewManager()
	c := newConn(t, "alice@example.com/a")
	m.Bind(c)
	tests := []struct {
		full   string
		on     bool
		wantOK bool
		want   bool
	}{
		{"alice@example.com/a", true, true, true},
		{"alice@example.com/b", false, false, true},
		{"alice@example.com", false, false, true},
		{"alice@example.com/a", false, true, false},
	}
	for _, tc := range tests {
		if ok := m.SetCarbons(jid.MustParse(tc.full), tc.on); ok != tc.wantOK {
			t.Errorf("SetCarbons(%s, %v): got %v, want %v", tc.full, tc.on, ok, tc.wantOK)
		}
		if got := m.Sessions(nil, c.JID().Bare())[0].Carbons; got != tc.want {
			t.Errorf("after SetCarbons(%s, %v): got carbons %v, want %v", tc.full, tc.on, got, tc.want)
		}
	}
}

func TestDirected(t *testing.T) {
	m := NewManager()
	c := newConn(t, "alice@example.com/a")
	m.Bind(c)
	x, y, z := jid.MustParse("x@example.net/1"), jid.MustParse("y@example.net"), jid.MustParse("room@muc.example.net/nick")
	m.AddDirected(c, x)
	m.AddDirected(c, y)
	m.AddDirected(c, x) // duplicate
	m.AddDirected(c, z)
	m.RemoveDirected(c, y)
	m.RemoveDirected(c, jid.MustParse("nobody@example.net"))
	if got, want := m.TakeDirected(c), []jid.JID{x, z}; !slices.Equal(got, want) {
		t.Errorf("got directed %v, want %v", got, want)
	}
	if got := m.TakeDirected(c); len(got) != 0 {
		t.Errorf("second TakeDirected: got %v, want none", got)
	}

	// The removed session carries what was left.
	m.AddDirected(c, y)
	s := m.Unbind(c)
	if got, want := s.Directed(), []jid.JID{y}; !slices.Equal(got, want) {
		t.Errorf("got Directed of the removed session %v, want %v", got, want)
	}
	// Unbound conns are ignored.
	m.AddDirected(c, x)
	m.RemoveDirected(c, x)
	if got := m.TakeDirected(c); got != nil {
		t.Errorf("TakeDirected of an unbound conn: got %v, want nil", got)
	}
}

func TestDirectedBound(t *testing.T) {
	m := NewManager()
	c := newConn(t, "alice@example.com/a")
	m.Bind(c)
	for i := range maxDirected + 10 {
		m.AddDirected(c, jid.MustParse(fmt.Sprintf("u%d@example.net", i)))
	}
	got := m.TakeDirected(c)
	if len(got) != maxDirected {
		t.Fatalf("got %d directed recipients, want %d", len(got), maxDirected)
	}
	if want := jid.MustParse(fmt.Sprintf("u%d@example.net", maxDirected-1)); got[maxDirected-1] != want {
		t.Errorf("got last kept %v, want %v (the first ones are kept)", got[maxDirected-1], want)
	}
}

func TestNewResource(t *testing.T) {
	a, b := NewResource(), NewResource()
	if a == b {
		t.Errorf("got the same resource twice: %q", a)
	}
	if _, err := jid.New("alice", "example.com", a); err != nil {
		t.Errorf("NewResource %q is not a valid resourcepart: %v", a, err)
	}
}

// TestConcurrentBindUnbind runs many binds, lookups and unbinds at once;
// under -race it checks the locking, and at the end every account is empty.
func TestConcurrentBindUnbind(t *testing.T) {
	m := NewManager()
	const workers, rounds = 8, 200
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				c := &fakeConn{jid: jid.MustParse(fmt.Sprintf("u%d@example.com/r%d", w%3, i%5))}
				if _, ok := m.Bind(c); !ok {
					t.Errorf("Bind %v refused", c.jid)
					return
				}
				m.SetPresence(c, stanza.New(stanza.Presence, jid.JID{}, jid.JID{}, "", ""), i)
				m.AddDirected(c, jid.MustParse("x@example.net"))
				m.Sessions(nil, c.jid.Bare())
				m.Interested(nil, c.jid.Bare())
				m.Lookup(c.jid)
				m.Unbind(c)
			}
		}()
	}
	wg.Wait()
	if got := m.Count(); got != 0 {
		t.Errorf("got Count %d after every conn unbound itself, want 0", got)
	}
	if got := m.All(); len(got) != 0 {
		t.Errorf("got %d conns left, want 0", len(got))
	}
}
