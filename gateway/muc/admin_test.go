package muc

import (
	"slices"
	"testing"

	"junction/xmpp/muc"
	"junction/xmpp/stanza"
)

// permissionRoom makes coven with Alice (owner), Adam (admin), Mona
// (member, granted the moderator role), Bob (participant), Vic (visitor in
// the moderated room), all joined.
func permissionRoom(t *testing.T) *harness {
	t.Helper()
	const (
		adam = "adam@example.org/a"
		mona = "mona@example.org/m"
		vic  = "vic@example.org/v"
	)
	h := newHarness(t, nil, Options{})
	h.create(alice, coven+"/Alice", map[string]string{"moderatedroom": "1"})
	for _, it := range []string{
		`<item affiliation='admin' jid='adam@example.org'/>`,
		`<item affiliation='member' jid='mona@example.org'/>`,
		`<item affiliation='member' jid='bob@example.org'/>`,
	} {
		if r, _ := h.admin(alice, coven, it); r.Type != "result" {
			t.Fatalf("setting up %s: got %s", it, r.Raw)
		}
	}
	for _, j := range [][2]string{{adam, "Adam"}, {mona, "Mona"}, {bob, "Bob"}, {vic, "Vic"}} {
		h.join(j[0], coven+"/"+j[1], "")
	}
	if r, _ := h.admin(alice, coven, `<item nick='Mona' role='moderator'/>`); r.Type != "result" {
		t.Fatalf("granting Mona moderator: got %s", r.Raw)
	}
	return h
}

func TestRolePermissions(t *testing.T) {
	const (
		adam = "adam@example.org/a"
		mona = "mona@example.org/m"
	)
	for _, tc := range []struct {
		name, actor, item, want string
	}{
		{"participant kicks", bob, `<item nick='Vic' role='none'/>`, "auth/forbidden"},
		{"visitor grants voice", "vic@example.org/v", `<item nick='Vic' role='participant'/>`, "auth/forbidden"},
		{"non-occupant kicks", dave, `<item nick='Vic' role='none'/>`, "auth/forbidden"},
		{"member moderator kicks admin", mona, `<item nick='Adam' role='none'/>`, "cancel/not-allowed"},
		{"admin kicks owner", adam, `<item nick='Alice' role='none'/>`, "cancel/not-allowed"},
		{"member moderator grants moderator", mona, `<item nick='Bob' role='moderator'/>`, "cancel/not-allowed"},
		{"member moderator revokes moderator", mona, `<item nick='Mona' role='participant'/>`, "cancel/not-allowed"},
		{"owner revokes admin's voice", alice, `<item nick='Adam' role='visitor'/>`, "cancel/not-allowed"},
		{"kick unknown nick", alice, `<item nick='Nobody' role='none'/>`, "cancel/item-not-found"},
		{"role and affiliation", alice, `<item nick='Bob' role='none' affiliation='none'/>`, "modify/bad-request"},
		{"role without nick", alice, `<item role='none'/>`, "modify/bad-request"},
		{"member moderator kicks participant", mona, `<item nick='Bob' role='none'/>`, ""},
		{"member moderator grants voice", mona, `<item nick='Vic' role='participant'/>`, ""},
		{"admin kicks admin's peer moderator", adam, `<item nick='Mona' role='participant'/>`, ""},
		{"owner kicks admin", alice, `<item nick='Adam' role='none'/>`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := permissionRoom(t)
			reply, outs := h.admin(tc.actor, coven, tc.item)
			if got := errCond(t, reply); got != tc.want {
				t.Fatalf("got %q, want %q: %s", got, tc.want, reply.Raw)
			}
			if tc.want != "" && len(outs) > 0 {
				t.Errorf("refused change sent %s, want nothing", raws(outs))
			}
			if tc.want == "" && len(outs) == 0 {
				t.Errorf("accepted change sent nothing, want presence broadcasts")
			}
		})
	}
}

func TestKick(t *testing.T) {
	h := newHarness(t, nil, Options{})
	h.create(alice, coven+"/Alice", nil)
	h.join(bob, coven+"/Bob", "")
	h.join(carol, coven+"/Carol", "")
	reply, outs := h.admin(alice, coven, `<item nick='Bob' role='none'><reason>Avaunt, you cullion!</reason></item>`)
	if reply.Type != "result" {
		t.Fatalf("kick: got %s", reply.Raw)
	}
	for _, tc := range []struct {
		to    string
		codes []int
	}{{bob, []int{110, 307}}, {alice, []int{307}}, {carol, []int{307}}} {
		p := only(t, outs, tc.to, coven+"/Bob", stanza.Presence)
		it := item(t, p)
		if p.Type != "unavailable" || !slices.Equal(codes(t, p), tc.codes) || it.Role != muc.RoleNone || it.Reason != "Avaunt, you cullion!" || it.Actor != "Alice" {
			t.Errorf("kick notice to %s: got %s, want unavailable, role none, codes %v, reason and actor", tc.to, p.Raw, tc.codes)
		}
	}
	outs = h.say(alice, coven, "after", "gone")
	none(t, outs, bob)
	// A kicked user may come back.
	if outs := h.join(bob, coven+"/Bob", ""); errCond(t, only(t, outs, bob, coven+"/Bob", stanza.Presence)) != "" {
		t.Errorf("rejoin after kick: got %s, want success", raws(outs))
	}
}

func TestBan(t *testing.T) {
	h := newHarness(t, nil, Options{})
	h.create(alice, coven+"/Alice", nil)
	h.join(bob, coven+"/Bob", "")
	h.join("bob@example.org/other", coven+"/Bobby", "")
	reply, outs := h.admin(alice, coven, `<item affiliation='outcast' jid='bob@example.org'><reason>Treason</reason></item>`)
	if reply.Type != "result" {
		t.Fatalf("ban: got %s", reply.Raw)
	}
	for _, nick := range []string{"Bob", "Bobby"} {
		p := only(t, outs, alice, coven+"/"+nick, stanza.Presence)
		it := item(t, p)
		if p.Type != "unavailable" || !slices.Equal(codes(t, p), []int{301}) || it.Affiliation != muc.AffiliationOutcast || it.Reason != "Treason" {
			t.Errorf("ban of %s to Alice: got %s, want unavailable, 301, outcast, reason", nick, p.Raw)
		}
	}
	if got := codes(t, only(t, outs, bob, coven+"/Bob", stanza.Presence)); !slices.Equal(got, []int{110, 301}) {
		t.Errorf("ban to Bob: got codes %v, want [110 301]", got)
	}
	outs = h.join(bob, coven+"/Bob", "")
	if got := errCond(t, only(t, outs, bob, coven+"/Bob", stanza.Presence)); got != "auth/forbidden" {
		t.Errorf("banned user joining: got %s, want auth/forbidden", got)
	}
	reply, _ = h.iq(alice, coven, "get", `<query xmlns='http://jabber.org/protocol/muc#admin'><item affiliation='outcast'/></query>`)
	items := node(t, reply).Child(muc.NSAdmin, "query").ChildrenNamed(muc.NSAdmin, "item")
	if len(items) != 1 || items[0].Attr("jid") != "bob@example.org" || items[0].Attr("affiliation") != "outcast" {
		t.Errorf("ban list: got %s, want bob@example.org", reply.Raw)
	}
	// Lifting the ban.
	h.admin(alice, coven, `<item affiliation='none' jid='bob@example.org'/>`)
	if outs := h.join(bob, coven+"/Bob", ""); errCond(t, only(t, outs, bob, coven+"/Bob", stanza.Presence)) != "" {
		t.Errorf("join after the ban was lifted: got %s, want success", raws(outs))
	}
}

func TestAffiliationPermissions(t *testing.T) {
	const adam = "adam@example.org/a"
	for _, tc := range []struct {
		name, actor, item, want string
	}{
		{"participant bans", bob, `<item affiliation='outcast' jid='carol@example.net'/>`, "auth/forbidden"},
		{"member grants membership", "mona@example.org/m", `<item affiliation='member' jid='carol@example.net'/>`, "auth/forbidden"},
		{"admin grants admin", adam, `<item affiliation='admin' jid='carol@example.net'/>`, "cancel/not-allowed"},
		{"admin bans owner", adam, `<item affiliation='outcast' jid='alice@example.org'/>`, "cancel/not-allowed"},
		{"admin demotes admin", adam, `<item affiliation='member' jid='adam@example.org'/>`, "cancel/not-allowed"},
		{"last owner steps down", alice, `<item affiliation='admin' jid='alice@example.org'/>`, "cancel/conflict"},
		{"no jid", alice, `<item affiliation='member'/>`, "modify/bad-request"},
		{"admin bans member", adam, `<item affiliation='outcast' jid='mona@example.org'/>`, ""},
		{"admin grants membership", adam, `<item affiliation='member' jid='carol@example.net'/>`, ""},
		{"owner grants owner", alice, `<item affiliation='owner' jid='bob@example.org'/>`, ""},
		{"affiliation by nick", alice, `<item affiliation='member' nick='Vic'/>`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := permissionRoom(t)
			reply, _ := h.admin(tc.actor, coven, tc.item)
			if got := errCond(t, reply); got != tc.want {
				t.Errorf("got %q, want %q: %s", got, tc.want, reply.Raw)
			}
		})
	}
	// A whole batch is refused when one item is.
	h := permissionRoom(t)
	reply, outs := h.iq(adam, coven, "set", `<query xmlns='http://jabber.org/protocol/muc#admin'>`+
		`<item affiliation='outcast' jid='bob@example.org'/><item affiliation='outcast' jid='alice@example.org'/></query>`)
	if got := errCond(t, reply); got != "cancel/not-allowed" || len(outs) != 0 {
		t.Errorf("batch with a forbidden item: got %s and %s, want cancel/not-allowed and nothing else", reply.Raw, raws(outs))
	}
	// Two owners: one may step down.
	h.admin(alice, coven, `<item affiliation='owner' jid='bob@example.org'/>`)
	if r, _ := h.admin(alice, coven, `<item affiliation='admin' jid='alice@example.org'/>`); r.Type != "result" {
		t.Errorf("owner stepping down with another owner left: got %s, want a result", r.Raw)
	}
}

func TestAffiliationEffects(t *testing.T) {
	h := newHarness(t, nil, Options{})
	h.create(alice, coven+"/Alice", nil)
	h.join(bob, coven+"/Bob", "")
	h.join(carol, coven+"/Carol", "")

	// Promotion to admin makes a moderator, seen by everyone.
	_, outs := h.admin(alice, coven, `<item affiliation='admin' jid='bob@example.org'/>`)
	for _, to := range []string{alice, bob, carol} {
		it := item(t, only(t, outs, to, coven+"/Bob", stanza.Presence))
		if it.Affiliation != muc.AffiliationAdmin || it.Role != muc.RoleModerator {
			t.Errorf("promotion seen by %s: got %+v, want admin moderator", to, it)
		}
	}
	// Bob, now a moderator of a semi-anonymous room, learns the others' JIDs.
	if it := item(t, only(t, outs, bob, coven+"/Carol", stanza.Presence)); it.JID != mustJID(carol) {
		t.Errorf("new moderator: got Carol's item %+v, want her JID %s", it, carol)
	}
	// And sees real JIDs in role lists.
	reply, _ := h.iq(bob, coven, "get", `<query xmlns='http://jabber.org/protocol/muc#admin'><item role='participant'/></query>`)
	items := node(t, reply).Child(muc.NSAdmin, "query").ChildrenNamed(muc.NSAdmin, "item")
	if len(items) != 1 || items[0].Attr("nick") != "Carol" || items[0].Attr("jid") != carol {
		t.Errorf("participant list: got %s, want Carol with her JID", reply.Raw)
	}
	reply, _ = h.iq(carol, coven, "get", `<query xmlns='http://jabber.org/protocol/muc#admin'><item role='participant'/></query>`)
	if got := errCond(t, reply); got != "auth/forbidden" {
		t.Errorf("participant list asked by a participant: got %s, want auth/forbidden", got)
	}
	reply, _ = h.iq(alice, coven, "get", `<query xmlns='http://jabber.org/protocol/muc#admin'><item affiliation='owner'/></query>`)
	items = node(t, reply).Child(muc.NSAdmin, "query").ChildrenNamed(muc.NSAdmin, "item")
	if len(items) != 1 || items[0].Attr("jid") != "alice@example.org" || items[0].Attr("nick") != "Alice" {
		t.Errorf("owner list: got %s, want alice@example.org as Alice", reply.Raw)
	}

	// Members-only: losing membership removes the occupant (321).
	h.admin(alice, coven, `<item affiliation='member' jid='carol@example.net'/>`)
	h.configure(alice, coven, map[string]string{"membersonly": "1"})
	_, outs = h.admin(alice, coven, `<item affiliation='none' jid='carol@example.net'/>`)
	p := only(t, outs, carol, coven+"/Carol", stanza.Presence)
	if p.Type != "unavailable" || !slices.Equal(codes(t, p), []int{110, 321}) {
		t.Errorf("membership revoked in a members-only room: got %s, want unavailable with 110 and 321", p.Raw)
	}
}
