package muc

import (
	"slices"
	"testing"

	"junction/xmpp/form"
	"junction/xmpp/muc"
	"junction/xmpp/stanza"
)

const (
	alice = "alice@example.org/pc"
	bob   = "bob@example.org/phone"
	carol = "carol@example.net/web"
	dave  = "dave@example.org/laptop"
	coven = "coven@conference.example.org"
)

func TestCreateInstantRoom(t *testing.T) {
	h := newHarness(t, nil, Options{})
	outs := h.join(alice, coven+"/Alice", "")
	self := only(t, outs, alice, coven+"/Alice", stanza.Presence)
	if got, want := codes(t, self), []int{110, 201}; !slices.Equal(got, want) {
		t.Errorf("self-presence status codes: got %v, want %v", got, want)
	}
	if got, want := item(t, self), (muc.Item{Affiliation: muc.AffiliationOwner, Role: muc.RoleModerator, JID: mustJID(alice)}); got != want {
		t.Errorf("self-presence item: got %+v, want %+v", got, want)
	}
	subj := only(t, outs, alice, coven, stanza.Message)
	if text, ok := child(t, subj, stanza.NSClient, "subject"); !ok || text != "" || subj.Type != "groupchat" {
		t.Errorf("subject: got %s, want an empty <subject/> groupchat message", subj.Raw)
	}
	if i := slices.Index(outs, self); i > slices.Index(outs, subj) {
		t.Errorf("got the subject before the self-presence, want presence first: %s", raws(outs))
	}

	// Locked until configured.
	outs = h.join(bob, coven+"/Bob", "")
	if got := errCond(t, only(t, outs, bob, coven+"/Bob", stanza.Presence)); got != "cancel/item-not-found" {
		t.Errorf("joining a locked room: got %s, want cancel/item-not-found", got)
	}
	none(t, outs, alice)
	reply, _ := h.iq(bob, coven, "get", `<query xmlns='http://jabber.org/protocol/disco#info'/>`)
	if got := errCond(t, reply); got != "cancel/item-not-found" {
		t.Errorf("disco#info on a locked room: got %s, want cancel/item-not-found", got)
	}

	h.configure(alice, coven, nil)
	outs = h.join(bob, coven+"/Bob", "")
	if got := item(t, only(t, outs, alice, coven+"/Bob", stanza.Presence)); got != (muc.Item{Affiliation: muc.AffiliationNone, Role: muc.RoleParticipant, JID: mustJID(bob)}) {
		t.Errorf("Bob's presence to Alice (a moderator): got %+v, want participant with his JID", got)
	}
	if got := item(t, only(t, outs, bob, coven+"/Alice", stanza.Presence)); got != (muc.Item{Affiliation: muc.AffiliationOwner, Role: muc.RoleModerator}) {
		t.Errorf("Alice's presence to Bob (semi-anonymous room): got %+v, want owner moderator without JID", got)
	}
	bobSelf := only(t, outs, bob, coven+"/Bob", stanza.Presence)
	if got, want := codes(t, bobSelf), []int{110}; !slices.Equal(got, want) {
		t.Errorf("Bob's self-presence codes: got %v, want %v", got, want)
	}
	if slices.Index(outs, bobSelf) < slices.Index(outs, find(outs, bob, coven+"/Alice", "")[0]) {
		t.Errorf("got the self-presence before the other occupants', want it last: %s", raws(outs))
	}
}

func TestReservedRoom(t *testing.T) {
	h := newHarness(t, nil, Options{})
	h.join(alice, coven+"/Alice", "")
	reply, _ := h.iq(alice, coven, "get", `<query xmlns='http://jabber.org/protocol/muc#owner'/>`)
	x := node(t, reply).Child(muc.NSOwner, "query").Child(form.NS, "x")
	if x == nil {
		t.Fatalf("owner get: got %s, want a form", reply.Raw)
	}
	f, err := form.Parse(x)
	if err != nil {
		t.Fatal(err)
	}
	if f.FormType() != muc.NSRoomConfig {
		t.Errorf("FORM_TYPE: got %q, want %q", f.FormType(), muc.NSRoomConfig)
	}
	for _, v := range []string{fieldName, fieldDesc, fieldPersistent, fieldPublic, fieldMembersOnly, fieldModerated,
		fieldProtected, fieldSecret, fieldWhois, fieldMaxUsers, fieldChangeSubject, fieldAllowInvites, fieldHistoryLength} {
		if f.Field(v) == nil {
			t.Errorf("config form: got no field %s", v)
		}
	}
	h.configure(alice, coven, map[string]string{
		"roomname": "The Coven", "roomdesc": "Witches only", "persistentroom": "1", "publicroom": "0",
		"membersonly": "1", "moderatedroom": "1", "passwordprotectedroom": "1", "roomsecret": "cauldron",
		"whois": "anyone", "maxusers": "20", "changesubject": "1", "allowinvites": "1", "historylength": "5",
	})
	reply, _ = h.iq(alice, coven, "get", `<query xmlns='http://jabber.org/protocol/muc#owner'/>`)
	f, _ = form.Parse(node(t, reply).Child(muc.NSOwner, "query").Child(form.NS, "x"))
	for v, want := range map[string]string{fieldName: "The Coven", fieldDesc: "Witches only", fieldPersistent: "1",
		fieldPublic: "0", fieldMembersOnly: "1", fieldModerated: "1", fieldProtected: "1", fieldSecret: "cauldron",
		fieldWhois: "anyone", fieldMaxUsers: "20", fieldChangeSubject: "1", fieldAllowInvites: "1", fieldHistoryLength: "5"} {
		if got, _ := f.Value(v); got != want {
			t.Errorf("%s after configuration: got %q, want %q", v, got, want)
		}
	}
	features := discoFeatures(t, h, bob, coven)
	for _, want := range []string{muc.NS, muc.FeatureHidden, muc.FeaturePersistent, muc.FeatureMembersOnly,
		muc.FeatureModerated, muc.FeaturePasswordProtected, muc.FeatureNonAnonymous} {
		if !slices.Contains(features, want) {
			t.Errorf("disco#info features: got %q, want %s among them", features, want)
		}
	}
}

func TestConfigureErrors(t *testing.T) {
	h := newHarness(t, nil, Options{MaxOccupants: 50})
	h.create(alice, coven+"/Alice", nil)
	h.join(bob, coven+"/Bob", "")
	for _, tc := range []struct {
		name, from, payload, want string
	}{
		{"not an owner", bob, configForm(map[string]string{"roomname": "x"}), "auth/forbidden"},
		{"not an owner reads", bob, `<query xmlns='http://jabber.org/protocol/muc#owner'/>`, "auth/forbidden"},
		{"bad boolean", alice, configForm(map[string]string{"persistentroom": "yes"}), "modify/bad-request"},
		{"bad whois", alice, configForm(map[string]string{"whois": "everyone"}), "modify/not-acceptable"},
		{"too many users", alice, configForm(map[string]string{"maxusers": "51"}), "modify/not-acceptable"},
		{"password without secret", alice, configForm(map[string]string{"passwordprotectedroom": "1"}), "modify/not-acceptable"},
		{"no form", alice, `<query xmlns='http://jabber.org/protocol/muc#owner'/>`, "modify/bad-request"},
		{"wrong form type", alice, `<query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>urn:other</value></field></x></query>`, "modify/bad-request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			typ := "set"
			if tc.name == "not an owner reads" {
				typ = "get"
			}
			reply, _ := h.iq(tc.from, coven, typ, tc.payload)
			if got := errCond(t, reply); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
	// Nothing changed: the room still lets anyone in.
	if outs := h.join(carol, coven+"/Carol", ""); errCond(t, only(t, outs, carol, coven+"/Carol", stanza.Presence)) != "" {
		t.Errorf("join after refused configurations: got %s, want success", raws(outs))
	}
}

func TestConfigChangeNotifications(t *testing.T) {
	h := newHarness(t, nil, Options{})
	h.create(alice, coven+"/Alice", nil)
	h.join(bob, coven+"/Bob", "")
	h.join(carol, coven+"/Carol", "")
	for _, tc := range []struct {
		name   string
		fields map[string]string
		want   []int
	}{
		{"name", map[string]string{"roomname": "Coven"}, []int{104}},
		{"now non-anonymous", map[string]string{"whois": "anyone"}, []int{172}},
		{"now semi-anonymous", map[string]string{"whois": "moderators"}, []int{173}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			outs := h.configure(alice, coven, tc.fields)
			for _, to := range []string{alice, bob, carol} {
				if got := codes(t, only(t, outs, to, coven, stanza.Message)); !slices.Equal(got, tc.want) {
					t.Errorf("notice to %s: got %v, want %v", to, got, tc.want)
				}
			}
		})
	}
	// Becoming members-only removes non-members with 322.
	if r, _ := h.admin(alice, coven, `<item affiliation='member' jid='bob@example.org'/>`); r.Type != "result" {
		t.Fatalf("grant membership: got %s", r.Raw)
	}
	outs := h.configure(alice, coven, map[string]string{"membersonly": "1"})
	gone := only(t, outs, carol, coven+"/Carol", stanza.Presence)
	if gone.Type != "unavailable" || !slices.Equal(codes(t, gone), []int{110, 322}) {
		t.Errorf("Carol removed: got %s, want unavailable with 110 and 322", gone.Raw)
	}
	if got := codes(t, only(t, outs, bob, coven+"/Carol", stanza.Presence)); !slices.Equal(got, []int{322}) {
		t.Errorf("Bob sees Carol removed: got codes %v, want [322]", got)
	}
	if got := find(outs, bob, coven+"/Bob", stanza.Presence); len(got) != 0 {
		t.Errorf("Bob (a member) got %s, want to stay", raws(got))
	}
}

func TestCancelInitialConfiguration(t *testing.T) {
	h := newHarness(t, nil, Options{})
	h.join(alice, coven+"/Alice", "")
	reply, outs := h.iq(alice, coven, "set", `<query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='cancel'/></query>`)
	if reply.Type != "result" {
		t.Fatalf("cancel: got %s, want a result", reply.Raw)
	}
	gone := only(t, outs, alice, coven+"/Alice", stanza.Presence)
	if gone.Type != "unavailable" || mucUser(t, gone).Destroy == nil {
		t.Errorf("cancel: got %s, want an unavailable presence with <destroy/>", gone.Raw)
	}
	// The room is gone: joining creates it anew.
	outs = h.join(bob, coven+"/Bob", "")
	if got := codes(t, only(t, outs, bob, coven+"/Bob", stanza.Presence)); !slices.Contains(got, 201) {
		t.Errorf("joining after cancel: got codes %v, want 201 (a new room)", got)
	}
}

func TestDisco(t *testing.T) {
	h := newHarness(t, nil, Options{Name: "Witchcraft"})
	h.create(alice, coven+"/Alice", map[string]string{"roomname": "The Coven", "roomdesc": "Hubble bubble"})
	h.create(alice, "hidden@conference.example.org/Alice", map[string]string{"publicroom": "0"})
	h.join(alice, "locked@conference.example.org/Alice", "")

	reply, _ := h.iq(bob, domain, "get", `<query xmlns='http://jabber.org/protocol/disco#info'/>`)
	q := node(t, reply).Child(nsDiscoInfo, "query")
	id := q.Child(nsDiscoInfo, "identity")
	if id == nil || id.Attr("category") != "conference" || id.Attr("type") != "text" || id.Attr("name") != "Witchcraft" {
		t.Errorf("service identity: got %s, want conference/text named Witchcraft", reply.Raw)
	}
	if features := discoFeatures(t, h, bob, domain); !slices.Contains(features, muc.NS) {
		t.Errorf("service features: got %q, want %s among them", features, muc.NS)
	}

	reply, _ = h.iq(bob, domain, "get", `<query xmlns='http://jabber.org/protocol/disco#items'/>`)
	var items []string
	for _, it := range node(t, reply).Child(nsDiscoItems, "query").ChildrenNamed(nsDiscoItems, "item") {
		items = append(items, it.Attr("jid")+"|"+it.Attr("name"))
	}
	if want := []string{coven + "|The Coven"}; !slices.Equal(items, want) {
		t.Errorf("service items: got %q, want %q (no hidden or locked rooms)", items, want)
	}

	reply, _ = h.iq(bob, coven, "get", `<query xmlns='http://jabber.org/protocol/disco#info'/>`)
	q = node(t, reply).Child(nsDiscoInfo, "query")
	if id := q.Child(nsDiscoInfo, "identity"); id == nil || id.Attr("category") != "conference" || id.Attr("name") != "The Coven" {
		t.Errorf("room identity: got %s, want conference named The Coven", reply.Raw)
	}
	features := discoFeatures(t, h, bob, coven)
	for _, want := range []string{muc.NS, muc.FeaturePublic, muc.FeatureTemporary, muc.FeatureOpen, muc.FeatureUnmoderated,
		muc.FeatureUnsecured, muc.FeatureSemiAnonymous, muc.FeatureSelfPing} {
		if !slices.Contains(features, want) {
			t.Errorf("room features: got %q, want %s among them", features, want)
		}
	}
	f, err := form.Parse(q.Child(form.NS, "x"))
	if err != nil {
		t.Fatalf("roominfo form: %v", err)
	}
	for v, want := range map[string]string{form.FormTypeVar: muc.NSRoomInfo, "muc#roominfo_description": "Hubble bubble", "muc#roominfo_occupants": "1"} {
		if got, _ := f.Value(v); got != want {
			t.Errorf("roominfo %s: got %q, want %q", v, got, want)
		}
	}

	reply, _ = h.iq(bob, "nowhere@conference.example.org", "get", `<query xmlns='http://jabber.org/protocol/disco#info'/>`)
	if got := errCond(t, reply); got != "cancel/item-not-found" {
		t.Errorf("disco#info on a missing room: got %s, want cancel/item-not-found", got)
	}
	reply, _ = h.iq(bob, domain, "get", `<query xmlns='jabber:iq:version'/>`)
	if got := errCond(t, reply); got != "cancel/service-unavailable" {
		t.Errorf("unknown iq to the service: got %s, want cancel/service-unavailable", got)
	}
}

func discoFeatures(t *testing.T, h *harness, from, to string) []string {
	t.Helper()
	reply, _ := h.iq(from, to, "get", `<query xmlns='http://jabber.org/protocol/disco#info'/>`)
	q := node(t, reply).Child(nsDiscoInfo, "query")
	if q == nil {
		t.Fatalf("disco#info on %s: got %s", to, reply.Raw)
	}
	var out []string
	for _, f := range q.ChildrenNamed(nsDiscoInfo, "feature") {
		out = append(out, f.Attr("var"))
	}
	return out
}
