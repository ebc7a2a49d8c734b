package register

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"junction/registry"
	"junction/registry/registrytest"
	"junction/xmpp/jid"
	"junction/xmpp/sasl"
	"junction/xmpp/stanza"
)

// clock is a settable time source.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newService(t *testing.T, perIP int, kick Kicker) (*Service, registry.Store, *clock) {
	t.Helper()
	store := registrytest.OpenTemp(t)
	s := New(store, []string{"example.com"}, perIP, kick, nil)
	s.iterations = 1 // fast keys; the count is not what these tests are about
	clk := &clock{t: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
	s.now = clk.now
	return s, store, clk
}

var ip1 = netip.MustParseAddr("192.0.2.1")

func condition(err error) stanza.Condition {
	var se *stanza.Error
	if errors.As(err, &se) {
		return se.Condition
	}
	if err != nil {
		return "not a stanza error: " + stanza.Condition(err.Error())
	}
	return ""
}

func TestRegisterValidation(t *testing.T) {
	tests := []struct {
		name, host, user, pass string
		want                   stanza.Condition
		wantUser               string // the account created, when not user
	}{
		{name: "plain", host: "example.com", user: "dora", pass: "secret"},
		{name: "case mapped", host: "example.com", user: "Dora", pass: "secret", wantUser: "dora"},
		{name: "unicode", host: "example.com", user: "zoë", pass: "pässwörd"},
		{name: "longest password", host: "example.com", user: "long", pass: strings.Repeat("p", maxPasswordBytes)},
		{name: "password too long", host: "example.com", user: "long", pass: strings.Repeat("p", maxPasswordBytes+1), want: stanza.NotAcceptable},
		{name: "empty password", host: "example.com", user: "dora", pass: "", want: stanza.NotAcceptable},
		{name: "control character in password", host: "example.com", user: "dora", pass: "a\x00b", want: stanza.NotAcceptable},
		{name: "space in username", host: "example.com", user: "a b", pass: "pw", want: stanza.NotAcceptable},
		{name: "at sign in username", host: "example.com", user: "a@b", pass: "pw", want: stanza.NotAcceptable},
		{name: "slash in username", host: "example.com", user: "a/b", pass: "pw", want: stanza.NotAcceptable},
		// c2s rejects an empty username before calling Register, but
		// Register must not create an account with no localpart either.
		{name: "empty username", host: "example.com", user: "", pass: "pw", want: stanza.NotAcceptable},
		{name: "username too long", host: "example.com", user: strings.Repeat("u", 1024), pass: "pw", want: stanza.NotAcceptable},
		{name: "closed host", host: "closed.example", user: "dora", pass: "pw", want: stanza.NotAllowed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, store, _ := newService(t, 0, nil)
			err := s.Register(t.Context(), tc.host, tc.user, tc.pass, ip1)
			if got := condition(err); got != tc.want {
				t.Fatalf("got %q (%v), want %q", got, err, tc.want)
			}
			accounts, err := store.Accounts(t.Context(), tc.host)
			if err != nil {
				t.Fatal(err)
			}
			if tc.want != "" {
				if len(accounts) != 0 {
					t.Errorf("got %d accounts created, want none", len(accounts))
				}
				return
			}
			want := tc.user
			if tc.wantUser != "" {
				want = tc.wantUser
			}
			if len(accounts) != 1 || accounts[0].Username != want {
				t.Fatalf("got accounts %+v, want one named %q", accounts, want)
			}
			a := accounts[0]
			k1 := sasl.Keys{Salt: a.SHA1.Salt, Iterations: a.SHA1.Iterations, StoredKey: a.SHA1.StoredKey, ServerKey: a.SHA1.ServerKey}
			k256 := sasl.Keys{Salt: a.SHA256.Salt, Iterations: a.SHA256.Iterations, StoredKey: a.SHA256.StoredKey, ServerKey: a.SHA256.ServerKey}
			if !k1.VerifyPassword(sasl.SHA1, tc.pass) || !k256.VerifyPassword(sasl.SHA256, tc.pass) {
				t.Errorf("stored keys do not verify the password")
			}
		})
	}
}

func TestRegisterConflict(t *testing.T) {
	s, _, _ := newService(t, 0, nil)
	if err := s.Register(t.Context(), "example.com", "dora", "pw", ip1); err != nil {
		t.Fatal(err)
	}
	for _, user := range []string{"dora", "DORA"} {
		if got := condition(s.Register(t.Context(), "example.com", user, "pw2", ip1)); got != stanza.Conflict {
			t.Errorf("register %q again: got %q, want %q", user, got, stanza.Conflict)
		}
	}
}

func TestSetOpen(t *testing.T) {
	s, _, _ := newService(t, 0, nil)
	s.SetOpen([]string{"other.example"})
	tests := []struct {
		host string
		want bool
	}{{"example.com", false}, {"other.example", true}, {"third.example", false}}
	for _, tc := range tests {
		if got := s.Open(tc.host); got != tc.want {
			t.Errorf("Open(%s): got %v, want %v", tc.host, got, tc.want)
		}
	}
	if got := condition(s.Register(t.Context(), "example.com", "dora", "pw", ip1)); got != stanza.NotAllowed {
		t.Errorf("register on a host closed by SetOpen: got %q, want %q", got, stanza.NotAllowed)
	}
}

func TestRegisterRateLimit(t *testing.T) {
	s, _, clk := newService(t, 2, nil)
	ip2 := netip.MustParseAddr("2001:db8::1")
	start := clk.t
	steps := []struct {
		name  string
		at    time.Duration
		user  string
		ip    netip.Addr
		want  stanza.Condition
		trunk bool
	}{
		{name: "first", at: 0, user: "u1", ip: ip1},
		{name: "failures do not count", at: time.Minute, user: "u1", ip: ip1, want: stanza.Conflict},
		{name: "invalid ones neither", at: time.Minute, user: "a b", ip: ip1, want: stanza.NotAcceptable},
		{name: "second", at: 10 * time.Minute, user: "u2", ip: ip1},
		{name: "third is over the limit", at: 20 * time.Minute, user: "u3", ip: ip1, want: stanza.ResourceConstraint},
		{name: "another address is not limited", at: 20 * time.Minute, user: "u4", ip: ip2},
		{name: "still limited just before the first expires", at: time.Hour - time.Nanosecond, user: "u3", ip: ip1, want: stanza.ResourceConstraint},
		{name: "first expired", at: time.Hour, user: "u3", ip: ip1},
		{name: "limited again", at: time.Hour + time.Minute, user: "u5", ip: ip1, want: stanza.ResourceConstraint},
		{name: "second expired", at: time.Hour + 10*time.Minute, user: "u5", ip: ip1},
	}
	for _, st := range steps {
		clk.t = start.Add(st.at)
		if got := condition(s.Register(t.Context(), "example.com", st.user, "pw", st.ip)); got != st.want {
			t.Errorf("%s: got %q, want %q", st.name, got, st.want)
		}
	}
}

func TestRegisterNoLimit(t *testing.T) {
	s, _, _ := newService(t, 0, nil)
	for i := range 5 {
		if err := s.Register(t.Context(), "example.com", fmt.Sprintf("u%d", i), "pw", ip1); err != nil {
			t.Fatalf("registration %d with no limit: %v", i, err)
		}
	}
}

// fillTracked fills the rate limiter's table with maxTrackedIPs other
// addresses whose last registration was at last.
func fillTracked(s *Service, last time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range maxTrackedIPs {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		s.recent[a] = []time.Time{last}
	}
}

func TestRateLimitTableFull(t *testing.T) {
	tests := []struct {
		name      string
		age       time.Duration // of every other tracked address
		preTrack  bool          // the registering address is already tracked, under its limit
		want      stanza.Condition
		wantTable int
	}{
		{name: "stale entries evicted", age: time.Hour, want: "", wantTable: 1},
		{name: "active table refuses new address", age: time.Minute, want: stanza.ResourceConstraint, wantTable: maxTrackedIPs},
		// Only new addresses wait when the table is full of active ones.
		{name: "tracked address under its limit still registers", age: time.Minute, preTrack: true, want: "", wantTable: maxTrackedIPs},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _, clk := newService(t, 3, nil)
			fillTracked(s, clk.t.Add(-tc.age))
			if tc.preTrack {
				s.mu.Lock()
				var victim netip.Addr
				for a := range s.recent {
					victim = a
					break
				}
				delete(s.recent, victim)
				s.recent[ip1] = []time.Time{clk.t.Add(-time.Minute)}
				s.mu.Unlock()
			}
			if got := condition(s.Register(t.Context(), "example.com", "dora", "pw", ip1)); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			s.mu.Lock()
			n := len(s.recent)
			s.mu.Unlock()
			if n != tc.wantTable {
				t.Errorf("got %d tracked addresses, want %d", n, tc.wantTable)
			}
		})
	}
}

func iq(t *testing.T, from, to, typ, query string) *stanza.Stanza {
	t.Helper()
	st, err := stanza.Parse("<iq xmlns='jabber:client' from='" + from + "' to='" + to + "' type='" + typ + "' id='r1'><query xmlns='jabber:iq:register'>" + query + "</query></iq>")
	if err != nil {
		t.Fatal(err)
	}
	return st
}

type kicked struct {
	reply *stanza.Stanza
	bare  jid.JID
}

func TestHandleIQ(t *testing.T) {
	const alice = "alice@example.com/phone"
	tests := []struct {
		name      string
		kicker    bool
		req       func(t *testing.T) *stanza.Stanza
		want      stanza.Condition
		wantReply bool
		wantKick  bool
		wantPass  string // the password that must verify afterwards, "" if the account is gone
	}{
		{name: "get", req: func(t *testing.T) *stanza.Stanza { return iq(t, alice, "example.com", "get", "") }, wantReply: true, wantPass: "old"},
		{name: "change password", req: func(t *testing.T) *stanza.Stanza {
			return iq(t, alice, "example.com", "set", "<username>alice</username><password>new</password>")
		}, wantReply: true, wantPass: "new"},
		{name: "change password without username", req: func(t *testing.T) *stanza.Stanza {
			return iq(t, alice, "example.com", "set", "<password>new</password>")
		}, wantReply: true, wantPass: "new"},
		{name: "someone else's username", req: func(t *testing.T) *stanza.Stanza {
			return iq(t, alice, "example.com", "set", "<username>bob</username><password>new</password>")
		}, want: stanza.BadRequest, wantPass: "old"},
		{name: "no password", req: func(t *testing.T) *stanza.Stanza {
			return iq(t, alice, "example.com", "set", "<username>alice</username>")
		}, want: stanza.BadRequest, wantPass: "old"},
		{name: "empty password", req: func(t *testing.T) *stanza.Stanza {
			return iq(t, alice, "example.com", "set", "<password></password>")
		}, want: stanza.NotAcceptable, wantPass: "old"},
		{name: "other domain", req: func(t *testing.T) *stanza.Stanza {
			return iq(t, alice, "other.example", "set", "<password>new</password>")
		}, want: stanza.Forbidden, wantPass: "old"},
		{name: "remove with kicker", kicker: true, req: func(t *testing.T) *stanza.Stanza {
			return iq(t, alice, "example.com", "set", "<remove/>")
		}, wantKick: true},
		{name: "remove without kicker", req: func(t *testing.T) *stanza.Stanza {
			return iq(t, alice, "example.com", "set", "<remove/>")
		}, wantReply: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var kicks []kicked
			var kick Kicker
			if tc.kicker {
				kick = func(reply *stanza.Stanza, bare jid.JID) { kicks = append(kicks, kicked{reply, bare}) }
			}
			s, store, _ := newService(t, 0, kick)
			if err := s.Register(t.Context(), "example.com", "alice", "old", ip1); err != nil {
				t.Fatal(err)
			}
			req := tc.req(t)
			reply, err := s.HandleIQ(t.Context(), req, req.Payload())
			if got := condition(err); got != tc.want {
				t.Fatalf("got %q (%v), want %q", got, err, tc.want)
			}
			if (reply != nil) != tc.wantReply {
				t.Fatalf("got reply %v, want a reply: %v", reply, tc.wantReply)
			}
			if reply != nil && (reply.Type != "result" || reply.ID != req.ID || reply.To != req.From) {
				t.Errorf("got reply %s, want a result to %s with id %s", reply.Raw, req.From, req.ID)
			}
			if tc.wantKick {
				if len(kicks) != 1 || kicks[0].bare != jid.MustParse("alice@example.com") || kicks[0].reply.Type != "result" || kicks[0].reply.ID != req.ID {
					t.Errorf("got kicks %+v, want one for alice@example.com with the result", kicks)
				}
			} else if len(kicks) != 0 {
				t.Errorf("got kicks %+v, want none", kicks)
			}
			a, err := store.Account(context.Background(), "example.com", "alice")
			if tc.wantPass == "" {
				if !errors.Is(err, registry.ErrNotFound) {
					t.Errorf("got account lookup error %v, want not found", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			k := sasl.Keys{Salt: a.SHA256.Salt, Iterations: a.SHA256.Iterations, StoredKey: a.SHA256.StoredKey, ServerKey: a.SHA256.ServerKey}
			if !k.VerifyPassword(sasl.SHA256, tc.wantPass) {
				t.Errorf("password %q does not verify afterwards", tc.wantPass)
			}
		})
	}
}

func TestHandleIQGetNamesUser(t *testing.T) {
	s, _, _ := newService(t, 0, nil)
	req := iq(t, "alice@example.com/phone", "example.com", "get", "")
	reply, err := s.HandleIQ(t.Context(), req, req.Payload())
	if err != nil {
		t.Fatal(err)
	}
	q := reply.Payload()
	if q == nil || q.Child(NS, "registered") == nil || q.Child(NS, "username") == nil || q.Child(NS, "username").Text != "alice" {
		t.Errorf("got %s, want <registered/> and <username>alice</username>", reply.Raw)
	}
}
