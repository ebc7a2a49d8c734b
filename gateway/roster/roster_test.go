package roster

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"junction/registry"
	"junction/xmpp/jid"
	"junction/xmpp/stanza"
)

// iq runs a roster iq from alice@example.com/phone through HandleIQ.
func (h *harness) iq(t *testing.T, to, typ, query string) (*stanza.Stanza, error) {
	t.Helper()
	req, err := stanza.Parse("<iq xmlns='jabber:client' from='alice@example.com/phone' to='" + to + "' type='" + typ + "' id='r1'>" + query + "</iq>")
	if err != nil {
		t.Fatal(err)
	}
	return h.s.HandleIQ(t.Context(), req, req.Payload())
}

func (h *harness) set(t *testing.T, item string) error {
	t.Helper()
	_, err := h.iq(t, "alice@example.com", "set", "<query xmlns='jabber:iq:roster'>"+item+"</query>")
	return err
}

func TestRosterSetValidation(t *testing.T) {
	long := strings.Repeat("n", MaxNameBytes+1)
	var manyGroups strings.Builder
	for i := range MaxGroups + 1 {
		fmt.Fprintf(&manyGroups, "<group>g%d</group>", i)
	}
	tests := []struct {
		name, to, typ, query string
		want                 stanza.Condition
	}{
		{"plain", "alice@example.com", "set", "<query xmlns='jabber:iq:roster'><item jid='bob@example.com'/></query>", ""},
		{"echoed subscription", "alice@example.com", "set", "<query xmlns='jabber:iq:roster'><item jid='bob@example.com' subscription='both'/></query>", ""},
		{"longest name", "alice@example.com", "set", "<query xmlns='jabber:iq:roster'><item jid='bob@example.com' name='" + long[1:] + "'/></query>", ""},
		{"most groups", "alice@example.com", "set", "<query xmlns='jabber:iq:roster'><item jid='bob@example.com'>" + strings.Replace(manyGroups.String(), "<group>g0</group>", "", 1) + "</item></query>", ""},
		{"another account's roster", "bob@example.com", "set", "<query xmlns='jabber:iq:roster'><item jid='carol@example.com'/></query>", stanza.Forbidden},
		{"no item", "alice@example.com", "set", "<query xmlns='jabber:iq:roster'/>", stanza.BadRequest},
		{"two items", "alice@example.com", "set", "<query xmlns='jabber:iq:roster'><item jid='bob@example.com'/><item jid='carol@example.com'/></query>", stanza.BadRequest},
		{"item and something else", "alice@example.com", "set", "<query xmlns='jabber:iq:roster'><item jid='bob@example.com'/><x xmlns='urn:other'/></query>", stanza.BadRequest},
		{"full JID", "alice@example.com", "set", "<query xmlns='jabber:iq:roster'><item jid='bob@example.com/desk'/></query>", stanza.JIDMalformed},
		{"malformed JID", "alice@example.com", "set", "<query xmlns='jabber:iq:roster'><item jid='bob@@example.com'/></query>", stanza.JIDMalformed},
		{"no JID", "alice@example.com", "set", "<query xmlns='jabber:iq:roster'><item/></query>", stanza.JIDMalformed},
		{"bad subscription", "alice@example.com", "set", "<query xmlns='jabber:iq:roster'><item jid='bob@example.com' subscription='pending'/></query>", stanza.BadRequest},
		{"name too long", "alice@example.com", "set", "<query xmlns='jabber:iq:roster'><item jid='bob@example.com' name='" + long + "'/></query>", stanza.NotAcceptable},
		{"empty group", "alice@example.com", "set", "<query xmlns='jabber:iq:roster'><item jid='bob@example.com'><group/></item></query>", stanza.NotAcceptable},
		{"group too long", "alice@example.com", "set", "<query xmlns='jabber:iq:roster'><item jid='bob@example.com'><group>" + strings.Repeat("g", MaxGroupBytes+1) + "</group></item></query>", stanza.NotAcceptable},
		{"duplicate group", "alice@example.com", "set", "<query xmlns='jabber:iq:roster'><item jid='bob@example.com'><group>a</group><group>a</group></item></query>", stanza.BadRequest},
		{"too many groups", "alice@example.com", "set", "<query xmlns='jabber:iq:roster'><item jid='bob@example.com'>" + manyGroups.String() + "</item></query>", stanza.NotAcceptable},
		{"remove unknown", "alice@example.com", "set", "<query xmlns='jabber:iq:roster'><item jid='nobody@example.com' subscription='remove'/></query>", stanza.ItemNotFound},
		{"neither get nor set", "alice@example.com", "result", "<query xmlns='jabber:iq:roster'/>", stanza.BadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			_, err := h.iq(t, tc.to, tc.typ, tc.query)
			if got := condition(err); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			if tc.want != "" {
				if got := h.state(t, aliceJID, bobJID); got != "absent" {
					t.Errorf("got alice's item for bob %s, want none stored", got)
				}
				return
			}
			// The client cannot set the subscription.
			if got := h.state(t, aliceJID, bobJID); got != "none" {
				t.Errorf("got alice's item for bob %s, want none", got)
			}
		})
	}
}

func TestRosterSetGetAndPush(t *testing.T) {
	h := newHarness(t)
	laptop := h.online(t, "alice@example.com/laptop")
	quiet := &fakeConn{jid: jid.MustParse("alice@example.com/quiet")} // never asked for the roster
	h.mgr.Bind(quiet)

	if err := h.set(t, "<item jid='Bob@Example.com' name='Bobby'><group>Work</group><group>Friends</group></item>"); err != nil {
		t.Fatal(err)
	}
	it, err := h.store.RosterItem(t.Context(), "example.com", "alice", "bob@example.com")
	if err != nil {
		t.Fatalf("item not stored under the canonical JID: %v", err)
	}
	if it.Name != "Bobby" || !slices.Equal(it.Groups, []string{"Friends", "Work"}) || !it.InRoster {
		t.Errorf("got stored %+v, want name Bobby, sorted groups [Friends Work], in roster", it)
	}
	ver, err := h.store.RosterVersion(t.Context(), "example.com", "alice")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*fakeConn{h.alice, laptop} {
		pushes := c.pushes()
		if len(pushes) != 1 {
			t.Fatalf("%v got %d pushes, want 1", c.jid, len(pushes))
		}
		q := pushes[0].Payload()
		if pushes[0].From != aliceJID || pushes[0].To != c.jid || q.Attr("ver") != strconv.FormatInt(ver, 10) {
			t.Errorf("got push %s, want from alice's bare JID to %v with ver %d", pushes[0].Raw, c.jid, ver)
		}
		item := q.Child(NS, "item")
		if item == nil || item.Attr("jid") != "bob@example.com" || item.Attr("name") != "Bobby" || item.Attr("subscription") != "none" || len(item.ChildrenNamed(NS, "group")) != 2 {
			t.Errorf("got pushed %s, want bob's item", pushes[0].Raw)
		}
	}
	if len(quiet.sent) != 0 {
		t.Errorf("a session that never asked for the roster got %d pushes, want 0", len(quiet.sent))
	}

	reply, err := h.iq(t, "alice@example.com", "get", "<query xmlns='jabber:iq:roster'/>")
	if err != nil {
		t.Fatal(err)
	}
	q := reply.Payload()
	if q == nil || q.Attr("ver") != strconv.FormatInt(ver, 10) || len(q.ChildrenNamed(NS, "item")) != 1 {
		t.Fatalf("got %s, want one item and ver %d", reply.Raw, ver)
	}

	// The quiet session becomes interested by asking.
	req, _ := stanza.Parse("<iq xmlns='jabber:client' from='alice@example.com/quiet' to='alice@example.com' type='get' id='q'><query xmlns='jabber:iq:roster'/></iq>")
	if _, err := h.s.HandleIQ(t.Context(), req, req.Payload()); err != nil {
		t.Fatal(err)
	}
	if got := len(h.mgr.Interested(nil, aliceJID)); got != 3 {
		t.Errorf("got %d interested sessions after the get, want 3", got)
	}
}

func TestRosterGetHidesTrackingRows(t *testing.T) {
	h := newHarness(t)
	// bob asks alice: alice gets a pending-in row that is not in her roster.
	if err := h.s.Outbound(t.Context(), presence(h.bob.jid, aliceJID, "subscribe")); err != nil {
		t.Fatal(err)
	}
	h.put(t, aliceJID, jid.MustParse("carol@example.com"), "to")
	reply, err := h.iq(t, "alice@example.com", "get", "<query xmlns='jabber:iq:roster'/>")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range reply.Payload().ChildrenNamed(NS, "item") {
		got = append(got, it.Attr("jid"))
	}
	if want := []string{"carol@example.com"}; !slices.Equal(got, want) {
		t.Errorf("got roster %v, want %v", got, want)
	}
}

func TestRosterVersioning(t *testing.T) {
	h := newHarness(t)
	get := func(ver string) *stanza.Stanza {
		t.Helper()
		q := "<query xmlns='jabber:iq:roster'/>"
		if ver != "-" {
			q = "<query xmlns='jabber:iq:roster' ver='" + ver + "'/>"
		}
		reply, err := h.iq(t, "alice@example.com", "get", q)
		if err != nil {
			t.Fatal(err)
		}
		return reply
	}
	if q := get("-").Payload(); q == nil || q.Attr("ver") != "0" || len(q.Children) != 0 {
		t.Fatalf("empty roster: got %v, want an empty query with ver 0", q)
	}
	for i := range 3 {
		if err := h.set(t, fmt.Sprintf("<item jid='c%d@example.com'/>", i)); err != nil {
			t.Fatal(err)
		}
	}
	cur := get("-").Payload().Attr("ver")
	if cur == "0" || cur == "" {
		t.Fatalf("got ver %q after three sets, want a new version", cur)
	}
	tests := []struct {
		name, ver string
		wantItems int // -1: an empty result, no query
	}{
		{"current version", cur, -1},
		{"old version", "1", 3},
		{"empty version asks for everything", "", 3},
		{"unknown version", "bogus", 3},
		{"no version", "-", 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reply := get(tc.ver)
			q := reply.Payload()
			if tc.wantItems < 0 {
				if q != nil {
					t.Errorf("got %s, want an empty result", reply.Raw)
				}
				return
			}
			if q == nil || len(q.ChildrenNamed(NS, "item")) != tc.wantItems || q.Attr("ver") != cur {
				t.Errorf("got %s, want %d items and ver %s", reply.Raw, tc.wantItems, cur)
			}
		})
	}
	// A change makes the cached version stale, and the push carries the new one.
	if err := h.set(t, "<item jid='c0@example.com' name='renamed'/>"); err != nil {
		t.Fatal(err)
	}
	pushes := h.alice.pushes()
	last := pushes[len(pushes)-1].Payload().Attr("ver")
	if last == cur {
		t.Errorf("got push ver %s, want a version newer than %s", last, cur)
	}
	if q := get(cur).Payload(); q == nil || q.Attr("ver") != last {
		t.Errorf("got %v for the stale version, want the roster at ver %s", q, last)
	}
}

func TestRosterRemove(t *testing.T) {
	tests := []struct {
		start      string // alice's state for bob; bob's is the mirror
		wantB      string
		wantUnsub  int // unsubscribe bob gets
		wantUnsubd int // unsubscribed bob gets
	}{
		{"none", "none", 0, 0},
		{"both", "none", 1, 1},
		{"to", "none", 1, 0},
		{"from", "none", 0, 1},
		{"none+PO", "none", 1, 0},
		{"none+PI", "none", 0, 1},
		{"to+PI", "none", 1, 1},
		{"from+PO", "none", 1, 1},
	}
	for _, tc := range tests {
		t.Run(tc.start, func(t *testing.T) {
			h := newHarness(t)
			h.put(t, aliceJID, bobJID, tc.start)
			h.put(t, bobJID, aliceJID, mirror(tc.start))
			if err := h.set(t, "<item jid='bob@example.com' subscription='remove'/>"); err != nil {
				t.Fatal(err)
			}
			if got := h.state(t, aliceJID, bobJID); got != "absent" {
				t.Errorf("alice's item: got %s, want absent", got)
			}
			if got := h.state(t, bobJID, aliceJID); got != tc.wantB {
				t.Errorf("bob's item: got %s, want %s", got, tc.wantB)
			}
			if got := h.bob.presences("unsubscribe", aliceJID); got != tc.wantUnsub {
				t.Errorf("bob got %d unsubscribe, want %d", got, tc.wantUnsub)
			}
			if got := h.bob.presences("unsubscribed", aliceJID); got != tc.wantUnsubd {
				t.Errorf("bob got %d unsubscribed, want %d", got, tc.wantUnsubd)
			}
			pushes := h.alice.pushes()
			if len(pushes) != 1 {
				t.Fatalf("alice got %d pushes, want 1", len(pushes))
			}
			it := pushes[0].Payload().Child(NS, "item")
			if it == nil || it.Attr("jid") != "bob@example.com" || it.Attr("subscription") != "remove" {
				t.Errorf("got push %s, want bob removed", pushes[0].Raw)
			}
		})
	}
}

func TestRosterSizeLimit(t *testing.T) {
	h := newHarness(t)
	for i := range MaxItems {
		it := registry.RosterItem{Host: "example.com", Username: "alice", Contact: fmt.Sprintf("c%04d@example.net", i), Subscription: registry.SubNone, InRoster: true}
		if _, err := h.store.PutRosterItem(t.Context(), it); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name, item string
		want       stanza.Condition
	}{
		{"new item", "<item jid='new@example.net'/>", stanza.ResourceConstraint},
		{"existing item changes", "<item jid='c0001@example.net' name='still fine'/>", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := condition(h.set(t, tc.item)); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	if n, err := h.store.CountRoster(t.Context(), "example.com", "alice"); err != nil || n != MaxItems {
		t.Errorf("got %d items (%v), want %d", n, err, MaxItems)
	}
}
