package roster

import (
	"testing"

	"junction/xmpp/jid"
)

// TestSubscriptionStateMachine runs each subscription verb alice sends to
// bob (both local, both online) from every state of RFC 6121 Appendix A,
// checking the outbound (A.2) and inbound (A.3) tables: alice's state after,
// bob's state after, and whether bob's available resource got the stanza.
func TestSubscriptionStateMachine(t *testing.T) {
	tests := []struct {
		verb, start  string // start is alice's state for bob; bob's is its mirror
		wantA, wantB string
		deliver      bool
	}{
		// A.3.1: a subscribe the contact already has pending (the rows
		// none+PO, none+PO+PI and from+PO) is not delivered a second time.
		{"subscribe", "none", "none+PO", "none+PI", true},
		{"subscribe", "none+PO", "none+PO", "none+PI", false},
		{"subscribe", "none+PI", "none+PO+PI", "none+PO+PI", true},
		{"subscribe", "none+PO+PI", "none+PO+PI", "none+PO+PI", false},
		{"subscribe", "to", "to", "from", false},
		{"subscribe", "to+PI", "to+PI", "from+PO", false},
		{"subscribe", "from", "from+PO", "to+PI", true},
		{"subscribe", "from+PO", "from+PO", "to+PI", false},
		{"subscribe", "both", "both", "both", false},

		{"subscribed", "none", "none+PA", "none", false},
		{"subscribed", "none+PO", "none+PO+PA", "none+PI", false},
		{"subscribed", "none+PI", "from", "to", true},
		{"subscribed", "none+PO+PI", "from+PO", "to+PI", true},
		{"subscribed", "to", "to+PA", "from", false},
		{"subscribed", "to+PI", "both", "both", true},
		{"subscribed", "from", "from", "to", false},
		{"subscribed", "from+PO", "from+PO", "to+PI", false},
		{"subscribed", "both", "both", "both", false},

		{"unsubscribe", "none", "none", "none", false},
		{"unsubscribe", "none+PO", "none", "none", true},
		{"unsubscribe", "none+PI", "none+PI", "none+PO", false},
		{"unsubscribe", "none+PO+PI", "none+PI", "none+PO", true},
		{"unsubscribe", "to", "none", "none", true},
		{"unsubscribe", "to+PI", "none+PI", "none+PO", true},
		{"unsubscribe", "from", "from", "to", false},
		{"unsubscribe", "from+PO", "from", "to", true},
		{"unsubscribe", "both", "from", "to", true},

		{"unsubscribed", "none", "none", "none", false},
		{"unsubscribed", "none+PO", "none+PO", "none+PI", false},
		{"unsubscribed", "none+PI", "none", "none", true},
		{"unsubscribed", "none+PO+PI", "none+PO", "none+PI", true},
		{"unsubscribed", "to", "to", "from", false},
		{"unsubscribed", "to+PI", "to", "from", true},
		{"unsubscribed", "from", "none", "none", true},
		{"unsubscribed", "from+PO", "none+PO", "none+PI", true},
		{"unsubscribed", "both", "to", "from", true},
	}
	for _, tc := range tests {
		t.Run(tc.verb+" from "+tc.start, func(t *testing.T) {
			h := newHarness(t)
			h.put(t, aliceJID, bobJID, tc.start)
			h.put(t, bobJID, aliceJID, mirror(tc.start))
			if err := h.s.Outbound(t.Context(), presence(h.alice.jid, bobJID, tc.verb)); err != nil {
				t.Fatalf("Outbound: %v", err)
			}
			if got := h.state(t, aliceJID, bobJID); got != tc.wantA {
				t.Errorf("alice's state: got %s, want %s", got, tc.wantA)
			}
			if got := h.state(t, bobJID, aliceJID); got != tc.wantB {
				t.Errorf("bob's state: got %s, want %s", got, tc.wantB)
			}
			want := 0
			if tc.deliver {
				want = 1
			}
			if got := h.bob.presences(tc.verb, aliceJID); got != want {
				t.Errorf("bob got %d %s presences from alice, want %d", got, tc.verb, want)
			}
		})
	}
}

// TestSubscribeAutoReply checks that a request to a contact that already
// lets the user see it is answered by the server: the user gets the
// contact's subscribed and current presence, the contact is not asked.
func TestSubscribeAutoReply(t *testing.T) {
	h := newHarness(t)
	h.put(t, aliceJID, bobJID, "none")
	h.put(t, bobJID, aliceJID, "from") // inconsistent on purpose: alice lost her side
	if err := h.s.Outbound(t.Context(), presence(h.alice.jid, bobJID, "subscribe")); err != nil {
		t.Fatal(err)
	}
	if got, want := h.state(t, aliceJID, bobJID), "to"; got != want {
		t.Errorf("alice's state: got %s, want %s", got, want)
	}
	if got := h.alice.presences("subscribed", bobJID); got != 1 {
		t.Errorf("alice got %d subscribed from bob, want 1", got)
	}
	if got := h.bob.presences("subscribe", aliceJID); got != 0 {
		t.Errorf("bob got %d subscribe, want 0", got)
	}
	if !routedPresence(h, h.bob.jid, aliceJID, "") {
		t.Errorf("got routed %v, want bob's current presence sent to alice", rawAll(h))
	}
}

func routedPresence(h *harness, from, to jid.JID, typ string) bool {
	for _, st := range h.routed {
		if st.Name == "presence" && st.From == from && st.To == to && st.Type == typ {
			return true
		}
	}
	return false
}

func rawAll(h *harness) []string {
	var out []string
	for _, st := range h.routed {
		out = append(out, st.Raw)
	}
	return out
}

func TestPreApproval(t *testing.T) {
	tests := []struct {
		name         string
		aliceSends   []string // before bob subscribes
		wantA, wantB string
		wantAsked    int // subscribe requests alice's resource got
		wantAnswered int // subscribed answers bob's resource got
	}{
		{"pre-approved", []string{"subscribed"}, "from", "to", 0, 1},
		{"pre-approval cancelled", []string{"subscribed", "unsubscribed"}, "none+PI", "none+PO", 1, 0},
		{"no pre-approval", nil, "none+PI", "none+PO", 1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			for _, v := range tc.aliceSends {
				if err := h.s.Outbound(t.Context(), presence(h.alice.jid, bobJID, v)); err != nil {
					t.Fatal(err)
				}
			}
			if err := h.s.Outbound(t.Context(), presence(h.bob.jid, aliceJID, "subscribe")); err != nil {
				t.Fatal(err)
			}
			if got := h.state(t, aliceJID, bobJID); got != tc.wantA {
				t.Errorf("alice's state: got %s, want %s", got, tc.wantA)
			}
			if got := h.state(t, bobJID, aliceJID); got != tc.wantB {
				t.Errorf("bob's state: got %s, want %s", got, tc.wantB)
			}
			if got := h.alice.presences("subscribe", bobJID); got != tc.wantAsked {
				t.Errorf("alice got %d subscribe, want %d", got, tc.wantAsked)
			}
			if got := h.bob.presences("subscribed", aliceJID); got != tc.wantAnswered {
				t.Errorf("bob got %d subscribed, want %d", got, tc.wantAnswered)
			}
		})
	}
}

func TestOutboundRemoteContact(t *testing.T) {
	h := newHarness(t)
	remote := jid.MustParse("romeo@montague.example")
	if err := h.s.Outbound(t.Context(), presence(h.alice.jid, jid.MustParse("romeo@montague.example/balcony"), "subscribe")); err != nil {
		t.Fatal(err)
	}
	if got, want := h.state(t, aliceJID, remote), "none+PO"; got != want {
		t.Errorf("alice's state: got %s, want %s", got, want)
	}
	// Stamped with the user's bare JID, addressed to the contact's bare JID.
	if !routedPresence(h, aliceJID, remote, "subscribe") {
		t.Errorf("got routed %v, want a subscribe from alice's bare JID to romeo's", rawAll(h))
	}
}

func TestOutboundErrors(t *testing.T) {
	tests := []struct {
		name, to, typ string
		want          string
	}{
		{"to self", "alice@example.com", "subscribe", "bad-request"},
		{"to own resource", "alice@example.com/other", "subscribe", "bad-request"},
		{"to a domain", "example.net", "subscribe", "bad-request"},
		{"not a verb", "bob@example.com", "probe", "not a stanza error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			err := h.s.Outbound(t.Context(), presence(h.alice.jid, jid.MustParse(tc.to), tc.typ))
			if got := string(condition(err)); len(got) < len(tc.want) || got[:len(tc.want)] != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestContacts(t *testing.T) {
	h := newHarness(t)
	carol := jid.MustParse("carol@example.com")
	dave := jid.MustParse("dave@example.net")
	erin := jid.MustParse("erin@example.net")
	h.put(t, aliceJID, bobJID, "both")
	h.put(t, aliceJID, carol, "to+PI")
	h.put(t, aliceJID, dave, "from")
	h.put(t, aliceJID, erin, "none+PO")
	c, err := h.s.Contacts(t.Context(), aliceJID)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := jids(c.Subscribers), "bob@example.com dave@example.net"; got != want {
		t.Errorf("got subscribers %s, want %s", got, want)
	}
	if got, want := jids(c.Subscriptions), "bob@example.com carol@example.com"; got != want {
		t.Errorf("got subscriptions %s, want %s", got, want)
	}
	if len(c.Pending) != 1 || c.Pending[0].From != carol || c.Pending[0].Type != "subscribe" {
		t.Errorf("got pending %v, want carol's subscribe", c.Pending)
	}
	for _, tc := range []struct {
		contact jid.JID
		want    bool
	}{{bobJID, true}, {carol, false}, {dave.Bare(), true}, {jid.MustParse("dave@example.net/x"), true}, {erin, false}} {
		if got := h.s.IsSubscriber(t.Context(), aliceJID, tc.contact); got != tc.want {
			t.Errorf("IsSubscriber(%s): got %v, want %v", tc.contact, got, tc.want)
		}
	}
}

func jids(js []jid.JID) string {
	var s string
	for i, j := range js {
		if i > 0 {
			s += " "
		}
		s += j.String()
	}
	return s
}

func TestIsSubscription(t *testing.T) {
	for typ, want := range map[string]bool{"subscribe": true, "subscribed": true, "unsubscribe": true, "unsubscribed": true,
		"": false, "unavailable": false, "probe": false, "error": false} {
		if got := IsSubscription(typ); got != want {
			t.Errorf("IsSubscription(%q): got %v, want %v", typ, got, want)
		}
	}
}
