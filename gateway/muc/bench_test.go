package muc

import (
	"fmt"
	"log/slog"
	"runtime"
	"testing"
	"time"

	"junction/xmpp/jid"
	"junction/xmpp/stanza"
)

const benchMessage = `<message from='user0@example.org/r' to='` + coven + `' type='groupchat' id='bench-1'>` +
	`<body>Thrice the brinded cat hath mew'd, thrice and once the hedge-pig whined.</body>` +
	`<origin-id xmlns='urn:xmpp:sid:0' id='7d0f1c7e-6a1b-4c39-9d4a-0c2f8d6e5b11'/>` +
	`<active xmlns='http://jabber.org/protocol/chatstates'/></message>`

// fanoutRoom returns a harness with coven holding n occupants, user0…user(n-1),
// its sender switched to counting.
func fanoutRoom(b *testing.B, n int) *harness {
	b.Helper()
	h := newHarness(b, nil, Options{Logger: slog.New(slog.DiscardHandler), MaxOccupants: n + 1, InboxSize: 1024})
	h.create("user0@example.org/r", coven+"/user0", map[string]string{"historylength": "20"})
	for i := 1; i < n; i++ {
		h.join(fmt.Sprintf("user%d@example.org/r", i), fmt.Sprintf("%s/user%d", coven, i), "<history maxchars='0'/>")
	}
	h.sender.discard.Store(true)
	return h
}

// freshMessage returns the benchmark message as the router hands it over:
// parsed header, raw bytes, no tree yet.
func freshMessage(tmpl *stanza.Stanza) *stanza.Stanza {
	return &stanza.Stanza{Name: tmpl.Name, To: tmpl.To, From: tmpl.From, Type: tmpl.Type, ID: tmpl.ID, Raw: tmpl.Raw}
}

// BenchmarkFanout measures one groupchat message handled by a room of N
// occupants: parse, serialize once, build N stanzas, hand each to the
// sender. It calls the room's handler directly, from the benchmark's
// goroutine, while the room's own goroutine idles on its empty inbox.
func BenchmarkFanout(b *testing.B) {
	for _, n := range []int{100, 200} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			h := fanoutRoom(b, n)
			r := h.svc.rooms["coven"]
			msg, err := stanza.Parse(benchMessage)
			if err != nil {
				b.Fatal(err)
			}
			h.sender.n.Store(0)
			b.ReportAllocs()
			start := time.Now()
			for b.Loop() {
				r.handleSafe(freshMessage(msg))
			}
			elapsed := time.Since(start)
			if got, want := h.sender.n.Load(), int64(b.N*n); got != want {
				b.Fatalf("sent %d stanzas, want %d", got, want)
			}
			b.ReportMetric(float64(b.N*n)/elapsed.Seconds(), "stanzas/s")
		})
	}
}

// BenchmarkFanoutNaive is the baseline BenchmarkFanout avoids: re-addressing
// and re-serializing the message once per recipient.
func BenchmarkFanoutNaive(b *testing.B) {
	for _, n := range []int{100, 200} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			msg, err := stanza.Parse(benchMessage)
			if err != nil {
				b.Fatal(err)
			}
			from := jid.MustParse(coven + "/user0")
			to := make([]jid.JID, n)
			for i := range to {
				to[i] = jid.MustParse(fmt.Sprintf("user%d@example.org/r", i))
			}
			sink := 0
			b.ReportAllocs()
			for b.Loop() {
				m := freshMessage(msg)
				for _, j := range to {
					out, err := stanza.WithAddresses(m, from, j)
					if err != nil {
						b.Fatal(err)
					}
					sink += len(out.Raw)
				}
			}
			runtime.KeepAlive(sink)
		})
	}
}

// BenchmarkDeliverFanout measures the whole path through Deliver and the
// room's goroutine: messages go in as fast as the inbox takes them; the
// clock stops when every copy has been sent.
func BenchmarkDeliverFanout(b *testing.B) {
	for _, n := range []int{100, 200} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			h := fanoutRoom(b, n)
			msg, err := stanza.Parse(benchMessage)
			if err != nil {
				b.Fatal(err)
			}
			h.sender.n.Store(0)
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for range b.N {
				for h.svc.Deliver(b.Context(), freshMessage(msg)) != nil {
					runtime.Gosched() // inbox full: let the room catch up
				}
			}
			want := int64(b.N * n)
			for h.sender.n.Load() < want {
				runtime.Gosched()
			}
			elapsed := time.Since(start)
			b.ReportMetric(float64(want)/elapsed.Seconds(), "stanzas/s")
		})
	}
}
