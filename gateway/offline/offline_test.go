package offline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"junction/registry"
	"junction/registry/registrytest"
	"junction/xmpp/jid"
	"junction/xmpp/stanza"
)

var errGone = errors.New("session gone")

// fakeConn records what it is sent and fails after failAfter sends (never
// when failAfter is negative).
type fakeConn struct {
	jid       jid.JID
	failAfter int
	sent      []*stanza.Stanza
}

func (c *fakeConn) JID() jid.JID { return c.jid }

func (c *fakeConn) Send(st *stanza.Stanza) error {
	if c.failAfter >= 0 && len(c.sent) >= c.failAfter {
		return errGone
	}
	c.sent = append(c.sent, st)
	return nil
}

// waitConn also has SendWait, which Deliver must prefer.
type waitConn struct {
	fakeConn
	waited []*stanza.Stanza
}

func (c *waitConn) SendWait(ctx context.Context, st *stanza.Stanza) error {
	if ctx == nil {
		return errors.New("no context")
	}
	c.waited = append(c.waited, st)
	return nil
}

func setup(t *testing.T, limit int) (*Storage, registry.Store) {
	t.Helper()
	store := registrytest.OpenTemp(t)
	for _, u := range []string{"alice", "bob"} {
		if err := store.CreateAccount(t.Context(), registry.Account{Host: "example.com", Username: u, Created: time.Now()}); err != nil {
			t.Fatalf("create %s: %v", u, err)
		}
	}
	s := New(store, limit, nil)
	s.now = func() time.Time {
		return time.Date(2026, 1, 2, 3, 4, 5, 678_000_000, time.FixedZone("UTC+2", 2*3600))
	}
	return s, store
}

func message(t *testing.T, body string) *stanza.Stanza {
	t.Helper()
	st, err := stanza.Parse("<message xmlns='jabber:client' from='bob@example.net/x' to='alice@example.com' type='chat' id='" + body + "'><body>" + body + "</body></message>")
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func stored(t *testing.T, store registry.Store, user string) []registry.OfflineMessage {
	t.Helper()
	ms, err := store.OfflineMessages(t.Context(), "example.com", user, 0)
	if err != nil {
		t.Fatalf("OfflineMessages: %v", err)
	}
	return ms
}

func TestStoreAddsDelay(t *testing.T) {
	s, store := setup(t, 0)
	if err := s.Store(t.Context(), jid.MustParse("alice@example.com"), message(t, "hi")); err != nil {
		t.Fatalf("Store: %v", err)
	}
	ms := stored(t, store, "alice")
	if len(ms) != 1 {
		t.Fatalf("got %d stored messages, want 1", len(ms))
	}
	st, err := stanza.Parse(ms[0].Stanza)
	if err != nil {
		t.Fatalf("stored stanza unreadable: %v", err)
	}
	n, _ := st.Node()
	d := n.Child(NSDelay, "delay")
	if d == nil {
		t.Fatalf("got %s, want a <delay xmlns='%s'/>", ms[0].Stanza, NSDelay)
	}
	for name, want := range map[string]string{"from": "example.com", "stamp": "2026-01-02T01:04:05.678Z"} {
		if got := d.Attr(name); got != want {
			t.Errorf("got delay %s=%q, want %q", name, got, want)
		}
	}
	if got := n.Child("", "body"); got == nil || got.Text != "hi" {
		t.Errorf("got %s, want the body kept", ms[0].Stanza)
	}
	if st.From.String() != "bob@example.net/x" || st.To.String() != "alice@example.com" || st.ID != "hi" {
		t.Errorf("got from=%v to=%v id=%q, want the original header", st.From, st.To, st.ID)
	}
}

func TestStoreErrors(t *testing.T) {
	tests := []struct {
		name  string
		to    string
		limit int
		fill  int
		want  stanza.Condition
		typ   stanza.ErrorType
	}{
		{name: "under quota", to: "alice@example.com", limit: 2, fill: 1},
		{name: "quota reached", to: "alice@example.com", limit: 2, fill: 2, want: stanza.ResourceConstraint, typ: stanza.Wait},
		{name: "unknown account", to: "nobody@example.com", limit: 2, want: stanza.ServiceUnavailable, typ: stanza.Cancel},
		{name: "unknown host", to: "alice@elsewhere.example", limit: 2, want: stanza.ServiceUnavailable, typ: stanza.Cancel},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := setup(t, tc.limit)
			to := jid.MustParse(tc.to)
			for i := range tc.fill {
				if err := s.Store(t.Context(), to, message(t, fmt.Sprint(i))); err != nil {
					t.Fatalf("fill %d: %v", i, err)
				}
			}
			err := s.Store(t.Context(), to, message(t, "last"))
			if tc.want == "" {
				if err != nil {
					t.Fatalf("got %v, want stored", err)
				}
				return
			}
			var se *stanza.Error
			if !errors.As(err, &se) {
				t.Fatalf("got %v, want a stanza error %s", err, tc.want)
			}
			if se.Condition != tc.want || se.Type != tc.typ {
				t.Errorf("got %s/%s, want %s/%s", se.Type, se.Condition, tc.typ, tc.want)
			}
		})
	}
}

func bodies(sts []*stanza.Stanza) []string {
	var out []string
	for _, st := range sts {
		out = append(out, st.ID)
	}
	return out
}

func TestDeliver(t *testing.T) {
	tests := []struct {
		name      string
		n         int
		failAfter int
		wantSent  int
	}{
		{name: "nothing stored", n: 0, failAfter: -1},
		{name: "all delivered", n: 5, failAfter: -1, wantSent: 5},
		{name: "more than one batch", n: deliverBatch*2 + 3, failAfter: -1, wantSent: deliverBatch*2 + 3},
		{name: "send fails midway", n: 5, failAfter: 2, wantSent: 2},
		{name: "send fails at once", n: 3, failAfter: 0, wantSent: 0},
		{name: "send fails in the second batch", n: deliverBatch + 10, failAfter: deliverBatch + 4, wantSent: deliverBatch + 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, store := setup(t, 0)
			alice := jid.MustParse("alice@example.com")
			var want []string
			for i := range tc.n {
				id := fmt.Sprintf("m%03d", i)
				want = append(want, id)
				if err := s.Store(t.Context(), alice, message(t, id)); err != nil {
					t.Fatalf("Store: %v", err)
				}
			}
			c := &fakeConn{jid: jid.MustParse("alice@example.com/phone"), failAfter: tc.failAfter}
			s.Deliver(t.Context(), c)
			if got := bodies(c.sent); !slices.Equal(got, want[:tc.wantSent]) {
				t.Errorf("got sent %v, want %v", got, want[:tc.wantSent])
			}
			var left []string
			for _, m := range stored(t, store, "alice") {
				st, err := stanza.Parse(m.Stanza)
				if err != nil {
					t.Fatal(err)
				}
				left = append(left, st.ID)
			}
			if wantLeft := want[tc.wantSent:]; !slices.Equal(left, wantLeft) {
				t.Errorf("got left in the store %v, want %v", left, wantLeft)
			}
		})
	}
}

func TestDeliverPrefersSendWait(t *testing.T) {
	s, store := setup(t, 0)
	alice := jid.MustParse("alice@example.com")
	for _, id := range []string{"a", "b"} {
		if err := s.Store(t.Context(), alice, message(t, id)); err != nil {
			t.Fatal(err)
		}
	}
	c := &waitConn{fakeConn: fakeConn{jid: jid.MustParse("alice@example.com/phone"), failAfter: -1}}
	s.Deliver(t.Context(), c)
	if got, want := bodies(c.waited), []string{"a", "b"}; !slices.Equal(got, want) {
		t.Errorf("got SendWait %v, want %v", got, want)
	}
	if len(c.sent) != 0 {
		t.Errorf("got %d stanzas through Send, want 0 (SendWait is there)", len(c.sent))
	}
	if left := stored(t, store, "alice"); len(left) != 0 {
		t.Errorf("got %d left in the store, want 0", len(left))
	}
}

func TestDeliverDropsUnreadable(t *testing.T) {
	s, store := setup(t, 0)
	ctx := t.Context()
	for _, raw := range []string{"<message xmlns='jabber:client' id='ok1'/>", "<message", "<message xmlns='jabber:client' id='ok2'/>"} {
		if err := store.AddOffline(ctx, "example.com", "alice", raw, 10); err != nil {
			t.Fatal(err)
		}
	}
	c := &fakeConn{jid: jid.MustParse("alice@example.com/phone"), failAfter: -1}
	s.Deliver(ctx, c)
	if got, want := bodies(c.sent), []string{"ok1", "ok2"}; !slices.Equal(got, want) {
		t.Errorf("got sent %v, want %v", got, want)
	}
	if left := stored(t, store, "alice"); len(left) != 0 {
		t.Errorf("got %d left in the store, want 0 (unreadable ones are dropped)", len(left))
	}
}

func TestDeliverOnlyOwnAccount(t *testing.T) {
	s, store := setup(t, 0)
	if err := s.Store(t.Context(), jid.MustParse("bob@example.com"), message(t, "forbob")); err != nil {
		t.Fatal(err)
	}
	c := &fakeConn{jid: jid.MustParse("alice@example.com/phone"), failAfter: -1}
	s.Deliver(t.Context(), c)
	if len(c.sent) != 0 {
		t.Errorf("got %v delivered to alice, want nothing", bodies(c.sent))
	}
	if left := stored(t, store, "bob"); len(left) != 1 {
		t.Errorf("got %d of bob's messages left, want 1", len(left))
	}
}

func TestNewDefaults(t *testing.T) {
	tests := []struct{ limit, want int }{{0, DefaultLimit}, {-3, DefaultLimit}, {7, 7}}
	for _, tc := range tests {
		if got := New(nil, tc.limit, nil).limit; got != tc.want {
			t.Errorf("New(limit %d): got limit %d, want %d", tc.limit, got, tc.want)
		}
	}
	if got := New(nil, 0, nil).Features(); !slices.Equal(got, []string{"msgoffline"}) {
		t.Errorf("got features %v, want [msgoffline]", got)
	}
}
