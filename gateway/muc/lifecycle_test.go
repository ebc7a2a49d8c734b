package muc

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"junction/registry"
	"junction/registry/registrytest"
	"junction/xmpp/jid"
	"junction/xmpp/muc"
	"junction/xmpp/stanza"
)

func TestDestroy(t *testing.T) {
	store := registrytest.OpenTemp(t)
	h := newHarness(t, store, Options{})
	h.create(alice, coven+"/Alice", map[string]string{"persistentroom": "1"})
	h.join(bob, coven+"/Bob", "")
	if _, err := store.Room(t.Context(), domain, "coven"); err != nil {
		t.Fatalf("persistent room in the store: got %v, want it there", err)
	}
	const destroy = `<query xmlns='http://jabber.org/protocol/muc#owner'><destroy jid='heath@conference.example.org'><reason>Macbeth doth come.</reason></destroy></query>`
	reply, outs := h.iq(bob, coven, "set", destroy)
	if got := errCond(t, reply); got != "auth/forbidden" || len(outs) != 0 {
		t.Errorf("destroy by a participant: got %s and %s, want auth/forbidden and nothing else", reply.Raw, raws(outs))
	}
	reply, outs = h.iq(alice, coven, "set", destroy)
	if reply.Type != "result" {
		t.Fatalf("destroy: got %s, want a result", reply.Raw)
	}
	for _, tc := range []struct{ to, from string }{{alice, coven + "/Alice"}, {bob, coven + "/Bob"}} {
		p := only(t, outs, tc.to, tc.from, stanza.Presence)
		u := mucUser(t, p)
		if p.Type != "unavailable" || u.Destroy == nil || u.Destroy.JID.String() != "heath@conference.example.org" || u.Destroy.Reason != "Macbeth doth come." {
			t.Errorf("destroy notice to %s: got %s, want unavailable with the venue and reason", tc.to, p.Raw)
		}
	}
	if got := len(find(outs, "", "", stanza.Presence)); got != 2 {
		t.Errorf("got %d presences, want one per occupant (2)", got)
	}
	if _, err := store.Room(t.Context(), domain, "coven"); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("destroyed room in the store: got %v, want %v", err, registry.ErrNotFound)
	}
	outs = h.say(alice, coven, "m", "anyone?")
	if got := errCond(t, only(t, outs, alice, coven, stanza.Message)); got != "cancel/item-not-found" {
		t.Errorf("message to a destroyed room: got %s, want cancel/item-not-found", got)
	}
}

func TestPersistentRoomSurvivesRestart(t *testing.T) {
	store := registrytest.OpenTemp(t)
	svcJID := jid.MustParse(domain)
	out := make(chan *stanza.Stanza, 10000)
	h := &harness{t: t, out: out, clock: &clock{t: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}}
	start := func() {
		h.svc = New(svcJID, store, Options{Logger: testLogger(t), Now: h.clock.now})
		if err := h.svc.Start(t.Context(), &fakeSender{ch: out}); err != nil {
			t.Fatalf("Start: got %v, want nil", err)
		}
	}
	stop := func() []*stanza.Stanza {
		if err := h.svc.Stop(t.Context()); err != nil {
			t.Fatalf("Stop: got %v, want nil", err)
		}
		var got []*stanza.Stanza
		for {
			select {
			case st := <-out:
				got = append(got, st)
			default:
				return got
			}
		}
	}

	start()
	h.create(alice, coven+"/Alice", map[string]string{"persistentroom": "1", "roomname": "The Coven", "membersonly": "1",
		"whois": "anyone", "historylength": "7"})
	h.admin(alice, coven, `<item affiliation='member' jid='bob@example.org'/>`)
	h.admin(alice, coven, `<item affiliation='outcast' jid='dave@example.org'><reason>Spy</reason></item>`)
	h.do(coven, `<message from='`+alice+`' to='`+coven+`' type='groupchat'><subject>Fire burn</subject></message>`)
	h.create(alice, "temp@conference.example.org/Alice", nil)
	h.join(bob, coven+"/Bob", "")

	// Shutdown: everyone learns it with 332.
	gone := stop()
	for _, tc := range []struct{ to, from string }{{alice, coven + "/Alice"}, {bob, coven + "/Bob"}, {alice, "temp@conference.example.org/Alice"}} {
		p := only(t, gone, tc.to, tc.from, stanza.Presence)
		if p.Type != "unavailable" || !slices.Equal(codes(t, p), []int{110, 332}) {
			t.Errorf("shutdown notice to %s from %s: got %s, want unavailable with 110 and 332", tc.to, tc.from, p.Raw)
		}
	}
	if err := h.deliver(`<presence from='` + bob + `' to='` + coven + `/Bob'/>`); !errors.Is(err, ErrNotRunning) {
		t.Errorf("Deliver after Stop: got %v, want %v", err, ErrNotRunning)
	}

	start()
	defer stop()
	reply, _ := h.iq(carol, domain, "get", `<query xmlns='http://jabber.org/protocol/disco#items'/>`)
	items := node(t, reply).Child(nsDiscoItems, "query").ChildrenNamed(nsDiscoItems, "item")
	if len(items) != 1 || items[0].Attr("jid") != coven || items[0].Attr("name") != "The Coven" {
		t.Errorf("rooms after restart: got %s, want only the persistent coven", reply.Raw)
	}
	features := discoFeatures(t, h, carol, coven)
	for _, want := range []string{muc.FeaturePersistent, muc.FeatureMembersOnly, muc.FeatureNonAnonymous} {
		if !slices.Contains(features, want) {
			t.Errorf("features after restart: got %q, want %s", features, want)
		}
	}
	for _, tc := range []struct {
		user, nick, want string
		aff              muc.Affiliation
	}{
		{dave, "Dave", "auth/forbidden", ""},
		{carol, "Carol", "auth/registration-required", ""},
		{alice, "Alice", "", muc.AffiliationOwner},
		{bob, "Bob", "", muc.AffiliationMember},
	} {
		outs := h.join(tc.user, coven+"/"+tc.nick, "")
		var p *stanza.Stanza
		for _, st := range find(outs, tc.user, coven+"/"+tc.nick, stanza.Presence) {
			if st.Type == "error" || slices.Contains(codes(t, st), 110) {
				p = st
			}
		}
		if p == nil {
			t.Fatalf("%s joining after restart: got %s", tc.nick, raws(outs))
		}
		if got := errCond(t, p); got != tc.want {
			t.Errorf("%s joining after restart: got %q, want %q", tc.nick, got, tc.want)
			continue
		}
		if tc.want != "" {
			continue
		}
		if it := item(t, p); it.Affiliation != tc.aff {
			t.Errorf("%s after restart: got %+v, want %s", tc.nick, it, tc.aff)
		}
		if got := codes(t, p); slices.Contains(got, 201) || !slices.Contains(got, 100) {
			t.Errorf("%s after restart: got codes %v, want no 201 (not a new room) and 100 (non-anonymous)", tc.nick, got)
		}
		subj := only(t, outs, tc.user, coven+"/Alice", stanza.Message)
		if s, _ := child(t, subj, stanza.NSClient, "subject"); s != "Fire burn" {
			t.Errorf("subject after restart: got %s, want Fire burn", subj.Raw)
		}
	}
	reply, _ = h.iq(alice, coven, "get", `<query xmlns='http://jabber.org/protocol/muc#admin'><item affiliation='outcast'/></query>`)
	items = node(t, reply).Child(muc.NSAdmin, "query").ChildrenNamed(muc.NSAdmin, "item")
	if len(items) != 1 || items[0].Attr("jid") != "dave@example.org" || items[0].Child(muc.NSAdmin, "reason").Text != "Spy" {
		t.Errorf("ban list after restart: got %s, want dave@example.org for Spy", reply.Raw)
	}
	reply, _ = h.iq(alice, "temp@conference.example.org", "get", `<query xmlns='http://jabber.org/protocol/disco#info'/>`)
	if got := errCond(t, reply); got != "cancel/item-not-found" {
		t.Errorf("temporary room after restart: got %s, want cancel/item-not-found", got)
	}

	// Turning persistence off removes the room from the store; it lives on
	// until empty.
	h.configure(alice, coven, map[string]string{"persistentroom": "0"})
	if _, err := store.Room(t.Context(), domain, "coven"); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("room made temporary: got %v in the store, want %v", err, registry.ErrNotFound)
	}
}

func TestEmptyPersistentRoomStays(t *testing.T) {
	h := newHarness(t, registrytest.OpenTemp(t), Options{})
	h.create(alice, coven+"/Alice", map[string]string{"persistentroom": "1"})
	h.say(alice, coven, "m1", "remember me")
	h.do(coven, `<presence from='`+alice+`' to='`+coven+`/Alice' type='unavailable'/>`)
	features := discoFeatures(t, h, bob, coven)
	if !slices.Contains(features, muc.FeaturePersistent) {
		t.Errorf("emptied persistent room: got features %q, want it to exist", features)
	}
	outs := h.join(bob, coven+"/Bob", "")
	if got := find(outs, bob, coven+"/Alice", stanza.Message); len(got) != 1 {
		t.Errorf("history of a parked room: got %s, want the one message", raws(outs))
	}
}

func TestSelfPingAndIQForwarding(t *testing.T) {
	h := newHarness(t, nil, Options{})
	h.create(alice, coven+"/Alice", nil)
	h.join(bob, coven+"/Bob", "")
	const ping = `<ping xmlns='urn:xmpp:ping'/>`
	reply, _ := h.iq(bob, coven+"/Bob", "get", ping)
	if reply.Type != "result" || reply.From.String() != coven+"/Bob" {
		t.Errorf("self-ping: got %s, want a result from %s/Bob", reply.Raw, coven)
	}
	reply, _ = h.iq(carol, coven+"/Bob", "get", ping)
	if got := errCond(t, reply); got != "modify/not-acceptable" {
		t.Errorf("ping from a non-occupant: got %s, want modify/not-acceptable", got)
	}
	reply, _ = h.iq(bob, coven+"/Nobody", "get", ping)
	if got := errCond(t, reply); got != "cancel/item-not-found" {
		t.Errorf("ping to a missing nick: got %s, want cancel/item-not-found", got)
	}

	// A vCard request goes to the occupant's bare JID, without revealing
	// who asks; the answer comes back under the original id.
	outs := h.do(coven, `<iq from='`+bob+`' to='`+coven+`/Alice' type='get' id='v1'><vCard xmlns='vcard-temp'/></iq>`)
	fwd := only(t, outs, "alice@example.org", coven+"/Bob", stanza.IQ)
	if fwd.ID == "v1" || fwd.Type != "get" {
		t.Errorf("forwarded iq: got %s, want a get with the room's own id", fwd.Raw)
	}
	if _, ok := child(t, fwd, "vcard-temp", "vCard"); !ok {
		t.Errorf("forwarded iq: got %s, want the vCard payload", fwd.Raw)
	}
	// An answer from someone else is ignored.
	outs = h.do(coven, `<iq from='`+carol+`' to='`+coven+`/Bob' type='result' id='`+fwd.ID+`'/>`)
	if len(outs) != 0 {
		t.Errorf("answer from the wrong entity: got %s, want nothing", raws(outs))
	}
	outs = h.do(coven, `<iq from='alice@example.org' to='`+coven+`/Bob' type='result' id='`+fwd.ID+`'><vCard xmlns='vcard-temp'><FN>Alice</FN></vCard></iq>`)
	back := only(t, outs, bob, coven+"/Alice", stanza.IQ)
	if back.ID != "v1" || back.Type != "result" {
		t.Errorf("answer passed back: got %s, want a result with id v1", back.Raw)
	}
	// Other iqs go to the occupant's client.
	outs = h.do(coven, `<iq from='`+bob+`' to='`+coven+`/Alice' type='get' id='t1'><time xmlns='urn:xmpp:time'/></iq>`)
	only(t, outs, alice, coven+"/Bob", stanza.IQ)
}

func TestGhostRemoval(t *testing.T) {
	h := newHarness(t, nil, Options{})
	h.create(alice, coven+"/Alice", nil)
	h.join(bob, coven+"/Bob", "")
	// An error that does not mean "gone" changes nothing.
	outs := h.do(coven, `<message from='`+bob+`' to='`+coven+`/Alice' type='error'><error type='modify'><bad-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`)
	if len(outs) != 0 {
		t.Errorf("bad-request error from an occupant: got %s, want nothing", raws(outs))
	}
	outs = h.do(coven, `<presence from='`+bob+`' to='`+coven+`/Alice' type='error'><error type='cancel'><recipient-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>`)
	p := only(t, outs, alice, coven+"/Bob", stanza.Presence)
	if p.Type != "unavailable" || !slices.Equal(codes(t, p), []int{333}) {
		t.Errorf("ghost removal seen by Alice: got %s, want unavailable with 333", p.Raw)
	}
}

// blockingSender blocks in Send until released, after telling entered.
type blockingSender struct {
	entered chan struct{}
	release chan struct{}
	out     chan *stanza.Stanza
}

func (b *blockingSender) Send(_ context.Context, st *stanza.Stanza) error {
	select {
	case b.entered <- struct{}{}:
		<-b.release
	default:
	}
	b.out <- st
	return nil
}

func TestDeliverNeverBlocks(t *testing.T) {
	errFull := errors.New("bus: component busy")
	bs := &blockingSender{entered: make(chan struct{}), release: make(chan struct{}), out: make(chan *stanza.Stanza, 100)}
	svc := New(jid.MustParse(domain), nil, Options{Logger: testLogger(t), InboxSize: 2, ErrBusy: errFull})
	if err := svc.Start(t.Context(), bs); err != nil {
		t.Fatal(err)
	}
	defer svc.Stop(t.Context())
	join, _ := stanza.Parse(`<presence from='` + alice + `' to='` + coven + `/Alice'/>`)
	if err := svc.Deliver(t.Context(), join); err != nil {
		t.Fatalf("Deliver(join): got %v, want nil", err)
	}
	<-bs.entered // the room's goroutine is stuck sending
	msg, _ := stanza.Parse(`<message from='` + alice + `' to='` + coven + `' type='groupchat'><body>x</body></message>`)
	var errs []error
	for range 3 {
		errs = append(errs, svc.Deliver(t.Context(), msg))
	}
	if want := []error{nil, nil, errFull}; !slices.Equal(errs, want) {
		t.Errorf("Deliver into a full inbox of 2: got %v, want %v", errs, want)
	}
	close(bs.release)
}

func TestPanicRecovered(t *testing.T) {
	var panics atomic.Int32
	h := newHarness(t, nil, Options{MayCreate: func(u jid.JID) bool {
		if u.Localpart() == "mallory" {
			panic("boom")
		}
		return true
	}, OnPanic: func() { panics.Add(1) }})
	outs := h.do("trap@"+domain, `<presence from='mallory@example.org/x' to='trap@`+domain+`/M'/>`, `<message from='mallory@example.org/x' to='trap@`+domain+`' type='groupchat'><body>x</body></message>`)
	if got := errCond(t, only(t, outs, "mallory@example.org/x", "", stanza.Message)); got != "cancel/item-not-found" {
		t.Errorf("after a panic: got %s, want the room to go on (cancel/item-not-found for the message)", got)
	}
	if got := panics.Load(); got != 1 {
		t.Errorf("OnPanic: got %d calls, want 1", got)
	}
	h.create(alice, coven+"/Alice", nil)
}

func TestConcurrentDeliver(t *testing.T) {
	const users, msgs = 8, 20
	h := newHarness(t, nil, Options{InboxSize: 1024})
	h.create(alice, coven+"/Alice", nil)
	var wg sync.WaitGroup
	errs := make(chan error, users*(msgs+1)*2)
	for u := range users {
		wg.Go(func() {
			user := fmt.Sprintf("u%d@example.org/r", u)
			for _, room := range []string{coven, fmt.Sprintf("room%d@%s", u, domain)} {
				join, _ := stanza.Parse(fmt.Sprintf(`<presence from='%s' to='%s/u%d'/>`, user, room, u))
				errs <- h.svc.Deliver(t.Context(), join)
				for i := range msgs {
					m, _ := stanza.Parse(fmt.Sprintf(`<message from='%s' to='%s' type='groupchat' id='%d'><body>x</body></message>`, user, room, i))
					errs <- h.svc.Deliver(t.Context(), m)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent Deliver: got %v, want nil", err)
		}
	}
	var outs []*stanza.Stanza
	outs = append(outs, h.sync(coven)...)
	for u := range users {
		outs = append(outs, h.sync(fmt.Sprintf("room%d@%s", u, domain))...)
	}
	for u := range users {
		user := fmt.Sprintf("u%d@example.org/r", u)
		if got := len(find(outs, user, fmt.Sprintf("%s/u%d", coven, u), stanza.Message)); got != msgs {
			t.Errorf("%s got %d of its own messages back in coven, want %d", user, got, msgs)
		}
		if got := len(find(outs, user, fmt.Sprintf("room%d@%s/u%d", u, domain, u), stanza.Message)); got != msgs {
			t.Errorf("%s got %d of its own messages back in its room, want %d", user, got, msgs)
		}
	}
}
