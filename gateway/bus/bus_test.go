package bus

import (
	"context"
	"errors"
	"testing"

	"junction/xmpp/jid"
	"junction/xmpp/stanza"
)

type fakeComp struct {
	domain  jid.JID
	sender  Sender
	got     []*stanza.Stanza
	busy    bool
	stopped bool
}

func (f *fakeComp) Domain() jid.JID { return f.domain }
func (f *fakeComp) Start(_ context.Context, s Sender) error {
	f.sender = s
	return nil
}
func (f *fakeComp) Deliver(_ context.Context, st *stanza.Stanza) error {
	if f.busy {
		return ErrBusy
	}
	f.got = append(f.got, st)
	return nil
}
func (f *fakeComp) Stop(context.Context) error { f.stopped = true; return nil }

func TestBus(t *testing.T) {
	ctx := context.Background()
	var routed []*stanza.Stanza
	b := New(func(_ context.Context, st *stanza.Stanza) { routed = append(routed, st) }, nil)
	muc := &fakeComp{domain: jid.MustParse("muc.example.org")}
	if err := b.Add(ctx, muc); err != nil {
		t.Fatal(err)
	}
	if err := b.Add(ctx, &fakeComp{domain: jid.MustParse("muc.example.org")}); !errors.Is(err, ErrConflict) {
		t.Fatalf("second component for a domain: got %v, want ErrConflict", err)
	}
	user := jid.MustParse("alice@example.org/a")
	for _, tc := range []struct {
		name string
		to   string
		want error
	}{
		{"to the domain", "muc.example.org", nil},
		{"to a JID under it", "room@muc.example.org/nick", nil},
		{"elsewhere", "other.example.org", ErrNoComponent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := b.Deliver(ctx, stanza.New(stanza.Message, user, jid.MustParse(tc.to), "chat", ""))
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	if len(muc.got) != 2 {
		t.Fatalf("component got %d stanzas, want 2", len(muc.got))
	}
	muc.busy = true
	if err := b.Deliver(ctx, stanza.New(stanza.Message, user, jid.MustParse("muc.example.org"), "", "")); !errors.Is(err, ErrBusy) {
		t.Fatalf("busy component: got %v, want ErrBusy", err)
	}

	// A component speaks only for its own domain.
	if err := muc.sender.Send(ctx, stanza.New(stanza.Message, jid.MustParse("room@muc.example.org/x"), user, "groupchat", "")); err != nil {
		t.Fatal(err)
	}
	if err := muc.sender.Send(ctx, stanza.New(stanza.Message, jid.MustParse("admin@example.org"), user, "chat", "")); !errors.Is(err, ErrForeignFrom) {
		t.Fatalf("foreign from: got %v, want ErrForeignFrom", err)
	}
	if len(routed) != 1 {
		t.Fatalf("routed %d stanzas, want 1", len(routed))
	}
	if got := b.Domains(); len(got) != 1 || got[0] != "muc.example.org" {
		t.Fatalf("got domains %v", got)
	}
	if err := b.Stop(ctx); err != nil || !muc.stopped || b.Has("muc.example.org") {
		t.Fatalf("stop: err %v, stopped %v", err, muc.stopped)
	}
}
