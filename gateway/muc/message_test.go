package muc

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"junction/xmpp/muc"
	"junction/xmpp/stanza"
)

func TestGroupchat(t *testing.T) {
	h := newHarness(t, nil, Options{})
	h.create(alice, coven+"/Alice", nil)
	h.join(bob, coven+"/Bob", "")
	outs := h.do(coven, `<message from='`+alice+`' to='`+coven+`' type='groupchat' id='m1' xml:lang='en'>`+
		`<body>Thrice the brinded cat hath mew'd &amp; more</body>`+
		`<origin-id xmlns='urn:xmpp:sid:0' id='o1'/>`+
		`<stanza-id xmlns='urn:xmpp:sid:0' by='`+coven+`' id='forged'/>`+
		`<x xmlns='http://jabber.org/protocol/muc#user'><status code='201'/></x></message>`)
	for _, to := range []string{alice, bob} {
		m := only(t, outs, to, coven+"/Alice", stanza.Message)
		if m.ID != "m1" || m.Type != "groupchat" {
			t.Errorf("to %s: got %s, want id m1 type groupchat", to, m.Raw)
		}
		n := node(t, m)
		if body, _ := child(t, m, stanza.NSClient, "body"); body != "Thrice the brinded cat hath mew'd & more" {
			t.Errorf("to %s: got body %q", to, body)
		}
		if n.AttrNS("http://www.w3.org/XML/1998/namespace", "lang") != "en" {
			t.Errorf("to %s: got %s, want xml:lang kept", to, m.Raw)
		}
		if _, ok := child(t, m, muc.NSStanzaID, "origin-id"); !ok {
			t.Errorf("to %s: got %s, want the origin-id kept", to, m.Raw)
		}
		if _, ok := child(t, m, muc.NSStanzaID, "stanza-id"); ok {
			t.Errorf("to %s: got %s, want the forged stanza-id removed", to, m.Raw)
		}
		if mucUser(t, m) != nil {
			t.Errorf("to %s: got %s, want the client's muc#user element removed", to, m.Raw)
		}
	}
	if len(outs) != 2 {
		t.Errorf("got %d stanzas, want 2: %s", len(outs), raws(outs))
	}

	for _, tc := range []struct {
		name, raw, to, want string
	}{
		{"non-occupant", `<message from='` + carol + `' to='` + coven + `' type='groupchat' id='x'><body>hi</body></message>`, carol, "modify/not-acceptable"},
		{"groupchat to an occupant", `<message from='` + bob + `' to='` + coven + `/Alice' type='groupchat' id='x'><body>hi</body></message>`, bob, "modify/bad-request"},
		{"chat to the room", `<message from='` + bob + `' to='` + coven + `' type='chat' id='x'><body>hi</body></message>`, bob, "modify/bad-request"},
		{"no such room", `<message from='` + bob + `' to='nowhere@` + domain + `' type='groupchat' id='x'><body>hi</body></message>`, bob, "cancel/item-not-found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := stanza.Parse(tc.raw)
			if err != nil {
				t.Fatal(err)
			}
			outs := h.do(st.To.Bare().String(), tc.raw)
			m := only(t, outs, tc.to, "", stanza.Message)
			if got := errCond(t, m); got != tc.want || m.ID != "x" {
				t.Errorf("got %s, want %s with id x", m.Raw, tc.want)
			}
			if len(outs) != 1 {
				t.Errorf("got %s, want only the error", raws(outs))
			}
		})
	}
}

func TestModeratedRoom(t *testing.T) {
	h := newHarness(t, nil, Options{})
	h.create(alice, coven+"/Alice", map[string]string{"moderatedroom": "1"})
	h.admin(alice, coven, `<item affiliation='member' jid='carol@example.net'/>`)
	outs := h.join(bob, coven+"/Bob", "")
	if got := item(t, only(t, outs, bob, coven+"/Bob", stanza.Presence)).Role; got != muc.RoleVisitor {
		t.Errorf("unaffiliated user in a moderated room: got role %s, want visitor", got)
	}
	outs = h.join(carol, coven+"/Carol", "")
	if got := item(t, only(t, outs, carol, coven+"/Carol", stanza.Presence)).Role; got != muc.RoleParticipant {
		t.Errorf("member in a moderated room: got role %s, want participant", got)
	}
	outs = h.say(bob, coven, "v1", "may I?")
	if got := errCond(t, only(t, outs, bob, coven, stanza.Message)); got != "auth/forbidden" {
		t.Errorf("visitor speaking: got %s, want auth/forbidden", got)
	}
	none(t, outs, alice)
	// Visitors may still send private messages.
	outs = h.do(coven, `<message from='`+bob+`' to='`+coven+`/Alice' type='chat'><body>please</body></message>`)
	only(t, outs, alice, coven+"/Bob", stanza.Message)

	// Voice granted, then revoked.
	reply, outs := h.admin(alice, coven, `<item nick='Bob' role='participant'><reason>ok</reason></item>`)
	if reply.Type != "result" {
		t.Fatalf("grant voice: got %s", reply.Raw)
	}
	for _, to := range []string{alice, bob, carol} {
		if it := item(t, only(t, outs, to, coven+"/Bob", stanza.Presence)); it.Role != muc.RoleParticipant || it.Reason != "ok" || it.Actor != "Alice" {
			t.Errorf("voice granted, to %s: got %+v, want participant, reason ok, actor Alice", to, it)
		}
	}
	outs = h.say(bob, coven, "v2", "thanks")
	only(t, outs, carol, coven+"/Bob", stanza.Message)
	reply, _ = h.admin(alice, coven, `<item nick='Bob' role='visitor'/>`)
	if reply.Type != "result" {
		t.Fatalf("revoke voice: got %s", reply.Raw)
	}
	outs = h.say(bob, coven, "v3", "hey")
	if got := errCond(t, only(t, outs, bob, coven, stanza.Message)); got != "auth/forbidden" {
		t.Errorf("visitor again: got %s, want auth/forbidden", got)
	}
}

func TestPrivateMessages(t *testing.T) {
	h := newHarness(t, nil, Options{})
	h.create(alice, coven+"/Alice", nil)
	h.join(bob, coven+"/Bob", "")
	outs := h.do(coven, `<message from='`+bob+`' to='`+coven+`/Alice' type='chat' id='pm1'><body>psst</body></message>`)
	m := only(t, outs, alice, coven+"/Bob", stanza.Message)
	if m.Type != "chat" || m.ID != "pm1" || mucUser(t, m) == nil {
		t.Errorf("private message: got %s, want chat, id pm1, with a muc#user <x/>", m.Raw)
	}
	if strings.Contains(m.Raw, "bob@example.org") {
		t.Errorf("private message: got %s, want Bob's real JID hidden", m.Raw)
	}
	for _, tc := range []struct{ name, raw, to, want string }{
		{"no such nick", `<message from='` + bob + `' to='` + coven + `/Nobody' type='chat'><body>x</body></message>`, bob, "cancel/item-not-found"},
		{"non-occupant", `<message from='` + carol + `' to='` + coven + `/Alice' type='chat'><body>x</body></message>`, carol, "modify/not-acceptable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			outs := h.do(coven, tc.raw)
			if got := errCond(t, only(t, outs, tc.to, "", stanza.Message)); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
			none(t, outs, alice)
		})
	}
}

func TestSubject(t *testing.T) {
	h := newHarness(t, nil, Options{MaxSubjectLength: 20})
	h.create(alice, coven+"/Alice", nil)
	h.join(bob, coven+"/Bob", "")
	setSubject := func(from, subject string) []*stanza.Stanza {
		return h.do(coven, `<message from='`+from+`' to='`+coven+`' type='groupchat' id='s'><subject>`+subject+`</subject></message>`)
	}
	outs := setSubject(bob, "Bob's topic")
	if got := errCond(t, only(t, outs, bob, coven, stanza.Message)); got != "auth/forbidden" {
		t.Errorf("participant changing the subject: got %s, want auth/forbidden", got)
	}
	outs = setSubject(alice, "Fire burn")
	for _, to := range []string{alice, bob} {
		if s, _ := child(t, only(t, outs, to, coven+"/Alice", stanza.Message), stanza.NSClient, "subject"); s != "Fire burn" {
			t.Errorf("subject to %s: got %q, want Fire burn", to, s)
		}
	}
	outs = setSubject(alice, strings.Repeat("x", 21))
	if got := errCond(t, only(t, outs, alice, coven, stanza.Message)); got != "modify/not-acceptable" {
		t.Errorf("subject too long: got %s, want modify/not-acceptable", got)
	}

	h.configure(alice, coven, map[string]string{"changesubject": "1"})
	h.clock.advance(time.Minute)
	outs = setSubject(bob, "Cauldron bubble")
	only(t, outs, alice, coven+"/Bob", stanza.Message)

	outs = h.join(carol, coven+"/Carol", "")
	subj := only(t, outs, carol, coven+"/Bob", stanza.Message)
	if s, _ := child(t, subj, stanza.NSClient, "subject"); s != "Cauldron bubble" {
		t.Errorf("subject on join: got %s, want Cauldron bubble", subj.Raw)
	}
	d := node(t, subj).Child(muc.NSDelay, "delay")
	if d == nil || d.Attr("stamp") != "2025-06-01T12:01:00Z" || d.Attr("from") != coven {
		t.Errorf("subject on join: got %s, want a delay stamped 2025-06-01T12:01:00Z from the room", subj.Raw)
	}
	// Subject changes are not history.
	for _, st := range find(outs, carol, "", stanza.Message) {
		if _, ok := child(t, st, stanza.NSClient, "body"); ok {
			t.Errorf("got history %s, want none", st.Raw)
		}
	}
}

func TestHistory(t *testing.T) {
	h := newHarness(t, nil, Options{MaxHistory: 5})
	h.create(alice, coven+"/Alice", map[string]string{"historylength": "50"}) // capped at 5
	for i := 1; i <= 7; i++ {
		h.say(alice, coven, fmt.Sprintf("h%d", i), fmt.Sprintf("message %d", i))
		h.clock.advance(time.Minute)
	}
	// Now 12:07; messages 3..7 are kept, sent at 12:02..12:06.
	// Every history stanza has the same size (what maxchars counts: the
	// stanza without its 'to' value).
	const probe = "probe@example.org/p"
	probed := find(h.join(probe, coven+"/probe", ""), probe, coven+"/Alice", stanza.Message)
	if len(probed) == 0 {
		t.Fatal("probe got no history")
	}
	size := len(probed[0].Raw) - len(probe)
	for _, tc := range []struct {
		name string
		x    string
		want []string
	}{
		{"default", "", []string{"h3", "h4", "h5", "h6", "h7"}},
		{"maxstanzas", "<history maxstanzas='2'/>", []string{"h6", "h7"}},
		{"maxchars zero", "<history maxchars='0'/>", nil},
		{"maxchars", fmt.Sprintf("<history maxchars='%d'/>", 3*size+1), []string{"h5", "h6", "h7"}},
		{"seconds", "<history seconds='150'/>", []string{"h6", "h7"}},
		{"since", "<history since='2025-06-01T12:04:00Z'/>", []string{"h5", "h6", "h7"}},
		{"since and maxstanzas", "<history since='2025-06-01T12:04:00Z' maxstanzas='1'/>", []string{"h7"}},
		{"all limits", "<history maxstanzas='4' seconds='300' maxchars='100000'/>", []string{"h4", "h5", "h6", "h7"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			user := "reader-" + strings.ReplaceAll(tc.name, " ", "-") + "@example.org/r"
			outs := h.join(user, coven+"/"+strings.ReplaceAll(tc.name, " ", "-"), tc.x)
			var got []string
			for _, m := range find(outs, user, coven+"/Alice", stanza.Message) {
				got = append(got, m.ID)
				d := node(t, m).Child(muc.NSDelay, "delay")
				if d == nil || d.Attr("from") != coven || d.Attr("stamp") != fmtStamp(m.ID) {
					t.Errorf("history %s: got %s, want a delay from %s stamped %s", m.ID, m.Raw, coven, fmtStamp(m.ID))
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got history %q, want %q", got, tc.want)
			}
			// History comes after presence and before the subject.
			msgs := find(outs, user, "", stanza.Message)
			if len(msgs) == 0 || msgs[len(msgs)-1].From.String() != coven {
				t.Errorf("got %s, want the subject last", raws(outs))
			}
			if p := find(outs, user, "", stanza.Presence); len(msgs) > 1 && slices.Index(outs, p[len(p)-1]) > slices.Index(outs, msgs[0]) {
				t.Errorf("got history before presence: %s", raws(outs))
			}
		})
	}
}

func TestHistoryShortened(t *testing.T) {
	h := newHarness(t, nil, Options{})
	h.create(alice, coven+"/Alice", nil)
	for i := 1; i <= 4; i++ {
		h.say(alice, coven, fmt.Sprintf("h%d", i), "text")
	}
	h.configure(alice, coven, map[string]string{"historylength": "2"})
	var got []string
	for _, m := range find(h.join(bob, coven+"/Bob", ""), bob, coven+"/Alice", stanza.Message) {
		got = append(got, m.ID)
	}
	if want := []string{"h3", "h4"}; !slices.Equal(got, want) {
		t.Errorf("history after shortening to 2: got %q, want %q", got, want)
	}
	h.configure(alice, coven, map[string]string{"historylength": "0"})
	h.say(alice, coven, "h5", "text")
	if got := find(h.join(carol, coven+"/Carol", ""), carol, coven+"/Alice", stanza.Message); len(got) != 0 {
		t.Errorf("history with length 0: got %s, want none", raws(got))
	}
}

// fmtStamp returns the stamp of history message hN, sent at 12:0(N-1).
func fmtStamp(id string) string {
	return fmt.Sprintf("2025-06-01T12:0%d:00Z", int(id[1]-'0')-1)
}

func TestInvitations(t *testing.T) {
	const invite = `<message from='%s' to='` + coven + `' id='inv'><x xmlns='http://jabber.org/protocol/muc#user'><invite to='%s'><reason>Join us</reason></invite></x></message>`
	h := newHarness(t, nil, Options{})
	h.create(alice, coven+"/Alice", map[string]string{"passwordprotectedroom": "1", "roomsecret": "cauldron"})
	h.join(bob, coven+"/Bob", "<password>cauldron</password>")

	outs := h.do(coven, fmt.Sprintf(invite, alice, "carol@example.net"))
	m := only(t, outs, "carol@example.net", coven, stanza.Message)
	u := mucUser(t, m)
	if len(u.Invites) != 1 || u.Invites[0].From.String() != "alice@example.org" || u.Invites[0].Reason != "Join us" || u.Password != "cauldron" {
		t.Errorf("invitation: got %s, want from alice@example.org, reason Join us, password cauldron", m.Raw)
	}
	if _, ok := child(t, m, stanza.NSClient, "body"); !ok {
		t.Errorf("invitation: got %s, want a body for clients without MUC", m.Raw)
	}

	for _, tc := range []struct {
		name, from, want string
	}{
		{"participant without allowinvites", bob, "auth/forbidden"},
		{"non-occupant", dave, "modify/not-acceptable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			outs := h.do(coven, fmt.Sprintf(invite, tc.from, "carol@example.net"))
			if got := errCond(t, only(t, outs, tc.from, coven, stanza.Message)); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
			none(t, outs, "carol@example.net")
		})
	}
	h.configure(alice, coven, map[string]string{"allowinvites": "1"})
	outs = h.do(coven, fmt.Sprintf(invite, bob, "carol@example.net"))
	only(t, outs, "carol@example.net", coven, stanza.Message)

	// Declines go back to the inviter.
	outs = h.do(coven, `<message from='`+carol+`' to='`+coven+`'><x xmlns='http://jabber.org/protocol/muc#user'><decline to='bob@example.org'><reason>Busy</reason></decline></x></message>`)
	d := mucUser(t, only(t, outs, "bob@example.org", coven, stanza.Message))
	if len(d.Declines) != 1 || d.Declines[0].From.String() != "carol@example.net" || d.Declines[0].Reason != "Busy" {
		t.Errorf("decline: got %+v, want from carol@example.net with reason Busy", d.Declines)
	}

	// In a members-only room, an owner's invitation makes the invitee a member.
	h.configure(alice, coven, map[string]string{"membersonly": "1", "allowinvites": "0", "passwordprotectedroom": "0"})
	h.do(coven, fmt.Sprintf(invite, alice, "dave@example.org"))
	outs = h.join(dave, coven+"/Dave", "")
	if it := item(t, only(t, outs, dave, coven+"/Dave", stanza.Presence)); it.Affiliation != muc.AffiliationMember {
		t.Errorf("invited to a members-only room: got %+v, want member", it)
	}
}
