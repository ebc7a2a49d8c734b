package muc

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"junction/xmpp/jid"
	"junction/xmpp/muc"
	"junction/xmpp/stanza"
	"junction/xmpp/xmltok"
)

const (
	domain   = "conference.example.org"
	syncUser = "sync@example.org/probe"
)

// fakeSender records what the service sends, in order; once discard is
// set it only counts (for benchmarks).
type fakeSender struct {
	ch      chan *stanza.Stanza
	discard atomic.Bool
	n       atomic.Int64
}

func (f *fakeSender) Send(_ context.Context, st *stanza.Stanza) error {
	if f.discard.Load() {
		f.n.Add(1)
		return nil
	}
	f.ch <- st
	return nil
}

// clock is a settable clock for history limits.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// harness drives one Service: it delivers raw stanzas and collects what the
// service sends until a ping to a room (or the service) is answered, which
// proves that everything delivered before it was handled.
type harness struct {
	t      testing.TB
	svc    *Service
	sender *fakeSender
	out    chan *stanza.Stanza
	clock  *clock
	ids    int
}

// testLogger writes the service's log to t.Log.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// newHarness starts a service on domain with opts (Logger and Now filled in)
// over store (may be nil) and stops it when the test ends.
func newHarness(t testing.TB, store Store, opts Options) *harness {
	t.Helper()
	c := &clock{t: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
	if opts.Logger == nil {
		opts.Logger = testLogger(t)
	}
	opts.Now = c.now
	h := &harness{t: t, out: make(chan *stanza.Stanza, 100000), clock: c}
	h.svc = New(jid.MustParse(domain), store, opts)
	h.sender = &fakeSender{ch: h.out}
	if err := h.svc.Start(t.Context(), h.sender); err != nil {
		t.Fatalf("Start: got %v, want nil", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := h.svc.Stop(ctx); err != nil {
			t.Errorf("Stop: got %v, want nil", err)
		}
	})
	return h
}

// deliver parses raw and hands it to the service.
func (h *harness) deliver(raw string) error {
	h.t.Helper()
	st, err := stanza.Parse(raw)
	if err != nil {
		h.t.Fatalf("parse %s: %v", raw, err)
	}
	return h.svc.Deliver(h.t.Context(), st)
}

// do delivers raws and returns everything sent until a ping to sync (a
// room or the service) comes back.
func (h *harness) do(sync string, raws ...string) []*stanza.Stanza {
	h.t.Helper()
	for _, raw := range raws {
		if err := h.deliver(raw); err != nil {
			h.t.Fatalf("Deliver(%s): got %v, want nil", raw, err)
		}
	}
	return h.sync(sync)
}

// sync pings to (a room or the service) and collects what comes before the
// answer. Every stanza must parse and come from the service's domain.
func (h *harness) sync(to string) []*stanza.Stanza {
	h.t.Helper()
	h.ids++
	id := fmt.Sprintf("sync%d", h.ids)
	if err := h.deliver(fmt.Sprintf(`<iq from='%s' to='%s' type='get' id='%s'><ping xmlns='urn:xmpp:ping'/></iq>`, syncUser, to, id)); err != nil {
		h.t.Fatalf("Deliver(sync ping): got %v, want nil", err)
	}
	var got []*stanza.Stanza
	timeout := time.After(10 * time.Second)
	for {
		select {
		case st := <-h.out:
			if _, err := st.Node(); err != nil {
				h.t.Fatalf("service sent malformed XML %s: %v", st.Raw, err)
			}
			if st.From.Domainpart() != domain {
				h.t.Fatalf("service sent from %s, want a JID under %s: %s", st.From, domain, st.Raw)
			}
			if st.ID == id && st.To.String() == syncUser {
				return got
			}
			got = append(got, st)
		case <-timeout:
			h.t.Fatalf("no answer to the sync ping to %s; got so far: %s", to, raws(got))
		}
	}
}

func raws(sts []*stanza.Stanza) string {
	var b strings.Builder
	for _, st := range sts {
		b.WriteString("\n\t" + st.Raw)
	}
	return b.String()
}

// roomOf returns the bare room JID of an occupant JID.
func roomOf(occupant string) string {
	r, _, _ := strings.Cut(occupant, "/")
	return r
}

// join sends a MUC join from user to occupant with x inside the muc <x/>.
func (h *harness) join(user, occupant, x string) []*stanza.Stanza {
	h.t.Helper()
	return h.do(roomOf(occupant), fmt.Sprintf(`<presence from='%s' to='%s'><x xmlns='http://jabber.org/protocol/muc'>%s</x></presence>`, user, occupant, x))
}

// iq sends an iq and returns the reply to it and everything else sent.
func (h *harness) iq(from, to, typ, payload string) (*stanza.Stanza, []*stanza.Stanza) {
	h.t.Helper()
	h.ids++
	id := fmt.Sprintf("q%d", h.ids)
	sync := roomOf(to)
	if !strings.Contains(sync, "@") {
		sync = domain
	}
	outs := h.do(sync, fmt.Sprintf(`<iq from='%s' to='%s' type='%s' id='%s'>%s</iq>`, from, to, typ, id, payload))
	var reply *stanza.Stanza
	var others []*stanza.Stanza
	for _, st := range outs {
		if st.Name == stanza.IQ && st.ID == id && st.To.String() == from {
			reply = st
			continue
		}
		others = append(others, st)
	}
	if reply == nil {
		h.t.Fatalf("no reply to iq %s to %s; got %s", payload, to, raws(outs))
	}
	return reply, others
}

// configure submits the owner configuration form with fields (an empty map
// is an instant room) and fails unless it succeeds.
func (h *harness) configure(owner, room string, fields map[string]string) []*stanza.Stanza {
	h.t.Helper()
	reply, others := h.iq(owner, room, "set", configForm(fields))
	if reply.Type != "result" {
		h.t.Fatalf("configure %s with %v: got %s, want a result", room, fields, reply.Raw)
	}
	return others
}

func configForm(fields map[string]string) string {
	var b strings.Builder
	b.WriteString(`<query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'>`)
	if len(fields) > 0 {
		b.WriteString(`<field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig</value></field>`)
	}
	for _, k := range sortedKeys(fields) {
		fmt.Fprintf(&b, `<field var='muc#roomconfig_%s'><value>%s</value></field>`, k, fields[k])
	}
	b.WriteString(`</x></query>`)
	return b.String()
}

// create makes an unlocked room with owner joined as nick, configured with
// fields.
func (h *harness) create(owner, occupant string, fields map[string]string) {
	h.t.Helper()
	outs := h.join(owner, occupant, "")
	if self := find(outs, owner, occupant, stanza.Presence); len(self) != 1 || !slices.Contains(codes(h.t, self[0]), 201) {
		h.t.Fatalf("creating %s: got %s, want one self-presence with status 201", occupant, raws(outs))
	}
	h.configure(owner, roomOf(occupant), fields)
}

// admin sends a muc#admin set with one item and returns the reply and the
// rest.
func (h *harness) admin(from, room, item string) (*stanza.Stanza, []*stanza.Stanza) {
	h.t.Helper()
	return h.iq(from, room, "set", `<query xmlns='http://jabber.org/protocol/muc#admin'>`+item+`</query>`)
}

// say sends a groupchat message.
func (h *harness) say(from, room, id, body string) []*stanza.Stanza {
	h.t.Helper()
	return h.do(room, fmt.Sprintf(`<message from='%s' to='%s' type='groupchat' id='%s'><body>%s</body></message>`, from, room, id, body))
}

// find returns the stanzas named name (any if "") sent to to (any if "")
// from from (any if "").
func find(sts []*stanza.Stanza, to, from, name string) []*stanza.Stanza {
	var out []*stanza.Stanza
	for _, st := range sts {
		if (to == "" || st.To.String() == to) && (from == "" || st.From.String() == from) && (name == "" || st.Name == name) {
			out = append(out, st)
		}
	}
	return out
}

// only returns the one stanza find would return, failing otherwise.
func only(t testing.TB, sts []*stanza.Stanza, to, from, name string) *stanza.Stanza {
	t.Helper()
	got := find(sts, to, from, name)
	if len(got) != 1 {
		t.Fatalf("got %d %s stanzas to %s from %s, want 1; all sent: %s", len(got), name, to, from, raws(sts))
	}
	return got[0]
}

// none fails if any stanza was sent to to.
func none(t testing.TB, sts []*stanza.Stanza, to string) {
	t.Helper()
	if got := find(sts, to, "", ""); len(got) > 0 {
		t.Errorf("got %s, want nothing sent to %s", raws(got), to)
	}
}

func node(t testing.TB, st *stanza.Stanza) *xmltok.Node {
	t.Helper()
	n, err := st.Node()
	if err != nil {
		t.Fatalf("parse %s: %v", st.Raw, err)
	}
	return n
}

// mucUser returns the muc#user extension of st, or nil.
func mucUser(t testing.TB, st *stanza.Stanza) *muc.User {
	t.Helper()
	x := node(t, st).Child(muc.NSUser, "x")
	if x == nil {
		return nil
	}
	u, err := muc.ParseUser(x)
	if err != nil {
		t.Fatalf("muc#user in %s: %v", st.Raw, err)
	}
	return u
}

// codes returns the status codes of st, sorted.
func codes(t testing.TB, st *stanza.Stanza) []int {
	t.Helper()
	u := mucUser(t, st)
	if u == nil {
		return nil
	}
	var out []int
	for _, s := range u.Statuses {
		out = append(out, int(s))
	}
	slices.Sort(out)
	return out
}

// item returns the single muc#user item of st.
func item(t testing.TB, st *stanza.Stanza) muc.Item {
	t.Helper()
	u := mucUser(t, st)
	if u == nil || len(u.Items) != 1 {
		t.Fatalf("got %s, want one muc#user item", st.Raw)
	}
	return u.Items[0]
}

// errCond returns the error condition of an error stanza, "" if st is not
// an error.
func errCond(t testing.TB, st *stanza.Stanza) string {
	t.Helper()
	if st.Type != "error" {
		return ""
	}
	e := node(t, st).Child(stanza.NSClient, "error")
	if e == nil {
		t.Fatalf("error stanza without <error/>: %s", st.Raw)
	}
	for _, c := range e.Children {
		if c.Name.Space == stanza.NSStanzas && c.Name.Local != "text" {
			return e.Attr("type") + "/" + c.Name.Local
		}
	}
	t.Fatalf("error without a condition: %s", st.Raw)
	return ""
}

// child returns the text of st's child {space}local and whether it exists.
func child(t testing.TB, st *stanza.Stanza, space, local string) (string, bool) {
	t.Helper()
	c := node(t, st).Child(space, local)
	if c == nil {
		return "", false
	}
	return c.Text, true
}

func mustJID(s string) jid.JID { return jid.MustParse(s) }

// component is the bus's Component contract, copied here so that the
// service is checked against it without importing the bus.
type component interface {
	Domain() jid.JID
	Start(ctx context.Context, s Sender) error
	Deliver(ctx context.Context, st *stanza.Stanza) error
	Stop(ctx context.Context) error
}

var _ component = (*Service)(nil)
