package muc

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"junction/xmpp/jid"
	"junction/xmpp/muc"
	"junction/xmpp/stanza"
)

func TestJoinErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		opts   Options
		setup  func(h *harness) // alice owns coven, configured as the case needs
		user   string
		to     string
		x      string
		want   string
		wantOK bool
	}{
		{name: "banned", setup: func(h *harness) {
			h.create(alice, coven+"/Alice", nil)
			h.admin(alice, coven, `<item affiliation='outcast' jid='bob@example.org'/>`)
		}, user: bob, to: coven + "/Bob", want: "auth/forbidden"},
		{name: "server banned", setup: func(h *harness) {
			h.create(alice, coven+"/Alice", nil)
			h.admin(alice, coven, `<item affiliation='outcast' jid='example.net'/>`)
		}, user: carol, to: coven + "/Carol", want: "auth/forbidden"},
		{name: "members only", setup: func(h *harness) {
			h.create(alice, coven+"/Alice", map[string]string{"membersonly": "1"})
		}, user: bob, to: coven + "/Bob", want: "auth/registration-required"},
		{name: "member of members-only", setup: func(h *harness) {
			h.create(alice, coven+"/Alice", map[string]string{"membersonly": "1"})
			h.admin(alice, coven, `<item affiliation='member' jid='bob@example.org'/>`)
		}, user: bob, to: coven + "/Bob", wantOK: true},
		{name: "nick in use", setup: func(h *harness) {
			h.create(alice, coven+"/Alice", nil)
		}, user: bob, to: coven + "/Alice", want: "cancel/conflict"},
		{name: "no password", setup: func(h *harness) {
			h.create(alice, coven+"/Alice", map[string]string{"passwordprotectedroom": "1", "roomsecret": "cauldron"})
		}, user: bob, to: coven + "/Bob", want: "auth/not-authorized"},
		{name: "wrong password", setup: func(h *harness) {
			h.create(alice, coven+"/Alice", map[string]string{"passwordprotectedroom": "1", "roomsecret": "cauldron"})
		}, user: bob, to: coven + "/Bob", x: "<password>kettle</password>", want: "auth/not-authorized"},
		{name: "right password", setup: func(h *harness) {
			h.create(alice, coven+"/Alice", map[string]string{"passwordprotectedroom": "1", "roomsecret": "cauldron"})
		}, user: bob, to: coven + "/Bob", x: "<password>cauldron</password>", wantOK: true},
		{name: "room full", setup: func(h *harness) {
			h.create(alice, coven+"/Alice", map[string]string{"maxusers": "2"})
			h.join(carol, coven+"/Carol", "")
		}, user: bob, to: coven + "/Bob", want: "wait/service-unavailable"},
		{name: "service occupant limit", opts: Options{MaxOccupants: 1}, setup: func(h *harness) {
			h.create(alice, coven+"/Alice", nil)
		}, user: bob, to: coven + "/Bob", want: "wait/service-unavailable"},
		{name: "owner enters a full room", setup: func(h *harness) {
			h.create(alice, coven+"/Alice", map[string]string{"maxusers": "1"})
			h.admin(alice, coven, `<item affiliation='owner' jid='bob@example.org'/>`)
		}, user: bob, to: coven + "/Bob", wantOK: true},
		{name: "nick too long", opts: Options{MaxNickLength: 8}, setup: func(h *harness) {
			h.create(alice, coven+"/Alice", nil)
		}, user: bob, to: coven + "/Bartholomew", want: "modify/not-acceptable"},
		{name: "blank nick", setup: func(h *harness) {
			h.create(alice, coven+"/Alice", nil)
		}, user: bob, to: coven + "/ ", want: "modify/jid-malformed"},
		{name: "no nick", setup: func(h *harness) {
			h.create(alice, coven+"/Alice", nil)
		}, user: bob, to: coven, want: "modify/jid-malformed"},
		{name: "no nick, no room", setup: func(h *harness) {}, user: bob, to: coven, want: "modify/jid-malformed"},
		{name: "malformed history", setup: func(h *harness) {
			h.create(alice, coven+"/Alice", nil)
		}, user: bob, to: coven + "/Bob", x: "<history maxstanzas='lots'/>", want: "modify/bad-request"},
		{name: "creation restricted", opts: Options{MayCreate: func(u jid.JID) bool { return u.Domainpart() == "example.org" }},
			setup: func(h *harness) {}, user: carol, to: coven + "/Carol", want: "cancel/not-allowed"},
		{name: "creation allowed", opts: Options{MayCreate: func(u jid.JID) bool { return u.Domainpart() == "example.org" }},
			setup: func(h *harness) {}, user: bob, to: coven + "/Bob", wantOK: true},
		{name: "too many rooms", opts: Options{MaxRooms: 1}, setup: func(h *harness) {
			h.create(alice, "other@conference.example.org/Alice", nil)
		}, user: bob, to: coven + "/Bob", want: "cancel/not-allowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil, tc.opts)
			tc.setup(h)
			outs := h.join(tc.user, tc.to, tc.x)
			var reply *stanza.Stanza
			for _, st := range find(outs, tc.user, tc.to, stanza.Presence) {
				if st.Type == "error" || slices.Contains(codes(t, st), 110) {
					reply = st
				}
			}
			if reply == nil {
				t.Fatalf("got %s, want a self-presence or an error from %s", raws(outs), tc.to)
			}
			got := errCond(t, reply)
			if tc.wantOK {
				if got != "" {
					t.Errorf("got error %s, want to enter", got)
				}
				return
			}
			if got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
			for _, st := range outs {
				if st.To.String() != tc.user {
					t.Errorf("refused join told someone else: %s", st.Raw)
				}
			}
		})
	}
}

func TestAnonymity(t *testing.T) {
	for _, tc := range []struct {
		whois         string
		bobSeesJIDs   bool
		wantSelfCodes []int
	}{
		{"moderators", false, []int{110}},
		{"anyone", true, []int{100, 110}},
	} {
		t.Run(tc.whois, func(t *testing.T) {
			h := newHarness(t, nil, Options{})
			h.create(alice, coven+"/Alice", map[string]string{"whois": tc.whois})
			h.join(carol, coven+"/Carol", "")
			outs := h.join(bob, coven+"/Bob", "")
			if got := codes(t, only(t, outs, bob, coven+"/Bob", stanza.Presence)); !slices.Equal(got, tc.wantSelfCodes) {
				t.Errorf("self-presence codes: got %v, want %v", got, tc.wantSelfCodes)
			}
			for _, from := range []string{coven + "/Alice", coven + "/Carol"} {
				it := item(t, only(t, outs, bob, from, stanza.Presence))
				if got := !it.JID.IsZero(); got != tc.bobSeesJIDs {
					t.Errorf("Bob sees the JID of %s: got %v, want %v", from, got, tc.bobSeesJIDs)
				}
			}
			if it := item(t, only(t, outs, carol, coven+"/Bob", stanza.Presence)); it.JID.IsZero() != !tc.bobSeesJIDs {
				t.Errorf("Carol (participant) sees Bob's JID: got %v, want %v", !it.JID.IsZero(), tc.bobSeesJIDs)
			}
			if it := item(t, only(t, outs, alice, coven+"/Bob", stanza.Presence)); it.JID != mustJID(bob) {
				t.Errorf("Alice (moderator) sees Bob's JID: got %q, want %s", it.JID, bob)
			}
		})
	}
}

func TestPresenceAndLeave(t *testing.T) {
	h := newHarness(t, nil, Options{})
	h.create(alice, coven+"/Alice", nil)
	outs := h.do(coven, `<presence from='`+bob+`' to='`+coven+`/Bob'><x xmlns='http://jabber.org/protocol/muc'/><show>away</show><status>brewing</status><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='n' ver='v'/></presence>`)
	p := only(t, outs, alice, coven+"/Bob", stanza.Presence)
	if show, _ := child(t, p, stanza.NSClient, "show"); show != "away" {
		t.Errorf("Bob's presence to Alice: got %s, want show away", p.Raw)
	}
	if _, ok := child(t, p, "http://jabber.org/protocol/caps", "c"); !ok {
		t.Errorf("Bob's presence to Alice: got %s, want caps passed through", p.Raw)
	}
	if strings.Count(p.Raw, muc.NS+`"`) > 0 {
		t.Errorf("Bob's presence to Alice: got %s, want his MUC join element left out", p.Raw)
	}

	// A presence update is broadcast, to Bob too with 110.
	outs = h.do(coven, `<presence from='`+bob+`' to='`+coven+`/Bob'><show>dnd</show></presence>`)
	for _, to := range []string{alice, bob} {
		p := only(t, outs, to, coven+"/Bob", stanza.Presence)
		if show, _ := child(t, p, stanza.NSClient, "show"); show != "dnd" {
			t.Errorf("update to %s: got %s, want show dnd", to, p.Raw)
		}
	}

	// Leaving.
	outs = h.do(coven, `<presence from='`+bob+`' to='`+coven+`/Bob' type='unavailable'><status>bye</status></presence>`)
	for _, tc := range []struct {
		to    string
		codes []int
	}{{alice, nil}, {bob, []int{110}}} {
		p := only(t, outs, tc.to, coven+"/Bob", stanza.Presence)
		if p.Type != "unavailable" || !slices.Equal(codes(t, p), tc.codes) || item(t, p).Role != muc.RoleNone {
			t.Errorf("leave to %s: got %s, want unavailable, role none, codes %v", tc.to, p.Raw, tc.codes)
		}
		if status, _ := child(t, p, stanza.NSClient, "status"); status != "bye" {
			t.Errorf("leave to %s: got %s, want the status bye", tc.to, p.Raw)
		}
	}
	// Not in the room any more: a second unavailable is ignored, and
	// messages are refused.
	outs = h.do(coven, `<presence from='`+bob+`' to='`+coven+`/Bob' type='unavailable'/>`)
	if len(outs) != 0 {
		t.Errorf("unavailable from a non-occupant: got %s, want nothing", raws(outs))
	}
	outs = h.say(bob, coven, "m1", "hello?")
	if got := errCond(t, only(t, outs, bob, coven, stanza.Message)); got != "modify/not-acceptable" {
		t.Errorf("groupchat after leaving: got %s, want modify/not-acceptable", got)
	}

	// The last occupant leaving a temporary room destroys it.
	h.do(coven, `<presence from='`+alice+`' to='`+coven+`/Alice' type='unavailable'/>`)
	reply, _ := h.iq(bob, coven, "get", `<query xmlns='http://jabber.org/protocol/disco#info'/>`)
	if got := errCond(t, reply); got != "cancel/item-not-found" {
		t.Errorf("disco#info on an emptied temporary room: got %s, want cancel/item-not-found", got)
	}
}

func TestNickChange(t *testing.T) {
	h := newHarness(t, nil, Options{})
	h.create(alice, coven+"/Alice", nil)
	h.join(bob, coven+"/Bob", "")
	outs := h.do(coven, `<presence from='`+bob+`' to='`+coven+`/Robert'/>`)
	for _, tc := range []struct {
		to        string
		wantCodes []int
	}{{alice, []int{303}}, {bob, []int{110, 303}}} {
		old := only(t, outs, tc.to, coven+"/Bob", stanza.Presence)
		if old.Type != "unavailable" || !slices.Equal(codes(t, old), tc.wantCodes) || item(t, old).Nick != "Robert" {
			t.Errorf("old nick to %s: got %s, want unavailable with %v and nick Robert", tc.to, old.Raw, tc.wantCodes)
		}
		if p := only(t, outs, tc.to, coven+"/Robert", stanza.Presence); p.Type != "" {
			t.Errorf("new nick to %s: got %s, want available", tc.to, p.Raw)
		}
		if slices.Index(outs, old) > slices.Index(outs, find(outs, tc.to, coven+"/Robert", "")[0]) {
			t.Errorf("to %s: got the new nick before the old one left: %s", tc.to, raws(outs))
		}
	}
	outs = h.do(coven, `<presence from='`+bob+`' to='`+coven+`/Alice'/>`)
	if got := errCond(t, only(t, outs, bob, coven+"/Alice", stanza.Presence)); got != "cancel/conflict" {
		t.Errorf("nick change to a taken nick: got %s, want cancel/conflict", got)
	}
	none(t, outs, alice)
	// Messages now come from the new nick.
	outs = h.say(bob, coven, "m1", "hi")
	only(t, outs, alice, coven+"/Robert", stanza.Message)
}

func TestMultipleSessions(t *testing.T) {
	const bob2 = "bob@example.org/laptop"
	h := newHarness(t, nil, Options{})
	h.create(alice, coven+"/Alice", nil)
	h.join(bob, coven+"/Bob", "")
	outs := h.join(bob2, coven+"/Bob", "")
	if got := codes(t, only(t, outs, bob2, coven+"/Bob", stanza.Presence)); !slices.Equal(got, []int{110}) {
		t.Errorf("second client's self-presence: got %v, want [110]", got)
	}
	only(t, outs, bob2, coven+"/Alice", stanza.Presence)
	none(t, outs, alice) // the same presence: nothing new for the others
	none(t, outs, bob)

	outs = h.say(alice, coven, "m1", "hello")
	for _, to := range []string{alice, bob, bob2} {
		only(t, outs, to, coven+"/Alice", stanza.Message)
	}
	outs = h.do(coven, `<message from='`+alice+`' to='`+coven+`/Bob' type='chat'><body>psst</body></message>`)
	only(t, outs, bob, coven+"/Alice", stanza.Message)
	only(t, outs, bob2, coven+"/Alice", stanza.Message)

	// One client leaving only tells that client.
	outs = h.do(coven, `<presence from='`+bob2+`' to='`+coven+`/Bob' type='unavailable'/>`)
	if p := only(t, outs, bob2, coven+"/Bob", stanza.Presence); p.Type != "unavailable" {
		t.Errorf("leaving client: got %s, want unavailable", p.Raw)
	}
	if len(outs) != 1 {
		t.Errorf("one of two clients leaving: got %s, want only its own unavailable", raws(outs))
	}
	outs = h.say(alice, coven, "m2", "still there?")
	only(t, outs, bob, coven+"/Alice", stanza.Message)
	none(t, outs, bob2)
}

func TestRejoinResynchronises(t *testing.T) {
	h := newHarness(t, nil, Options{})
	h.create(alice, coven+"/Alice", nil)
	h.join(bob, coven+"/Bob", "")
	h.say(alice, coven, "m1", "one")
	outs := h.join(bob, coven+"/Bob", "")
	only(t, outs, bob, coven+"/Alice", stanza.Presence)
	if got := codes(t, only(t, outs, bob, coven+"/Bob", stanza.Presence)); !slices.Equal(got, []int{110}) {
		t.Errorf("self-presence on rejoin: got %v, want [110]", got)
	}
	if msgs := find(outs, bob, "", stanza.Message); len(msgs) != 2 {
		t.Errorf("rejoin: got %s, want the history message and the subject", raws(msgs))
	}
	none(t, outs, alice)
}

func TestManyOccupants(t *testing.T) {
	h := newHarness(t, nil, Options{})
	h.create(alice, coven+"/Alice", nil)
	const n = 30
	for i := range n {
		h.join(fmt.Sprintf("user%d@example.org/r", i), fmt.Sprintf("%s/user%d", coven, i), "")
	}
	outs := h.say(alice, coven, "big", "hello all")
	if got := len(find(outs, "", coven+"/Alice", stanza.Message)); got != n+1 {
		t.Errorf("got %d copies of the message, want %d", got, n+1)
	}
	seen := map[string]bool{}
	for _, st := range outs {
		if st.ID != "big" || st.Type != "groupchat" {
			t.Errorf("got %s, want id big type groupchat", st.Raw)
		}
		if to := node(t, st).Attr("to"); to != st.To.String() {
			t.Errorf("Raw's to %q differs from the header's %q", to, st.To)
		}
		seen[st.To.String()] = true
	}
	if len(seen) != n+1 {
		t.Errorf("got %d distinct recipients, want %d", len(seen), n+1)
	}
}
