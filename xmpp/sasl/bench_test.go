package sasl

import (
	"context"
	"testing"
)

// BenchmarkSCRAMSHA256Exchange runs a whole SCRAM-SHA-256 login, client and
// server, at DefaultIterations; the client's PBKDF2 dominates.
func BenchmarkSCRAMSHA256Exchange(b *testing.B) {
	store := newStore(b, DefaultIterations, map[string]string{"user": "pencil"}, SHA256)
	cfg := &Config{Store: store, Secret: testSecret}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := exchange(b, cfg, "SCRAM-SHA-256", NewClient("SCRAM-SHA-256", "user", "pencil", ChannelBinding{})); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSCRAMSHA256Server runs the server's side of a SCRAM-SHA-256 login
// at DefaultIterations, replaying fixed client messages: what the server
// spends per login.
func BenchmarkSCRAMSHA256Server(b *testing.B) {
	ctx := context.Background()
	store := newStore(b, DefaultIterations, map[string]string{"user": "pencil"}, SHA256)
	cfg := &Config{Store: store, Secret: testSecret, serverNonce: func() string { return "SNONCE0123456789" }}
	// With both nonces fixed, the client's messages can be replayed.
	c := NewClient("SCRAM-SHA-256", "user", "pencil", ChannelBinding{})
	c.nonce = "CNONCE0123456789"
	first, err := c.Step(nil)
	if err != nil {
		b.Fatal(err)
	}
	n, err := cfg.Start("SCRAM-SHA-256")
	if err != nil {
		b.Fatal(err)
	}
	serverFirst, _, err := n.Step(ctx, first)
	if err != nil {
		b.Fatal(err)
	}
	final, err := c.Step(serverFirst)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		n, _ := cfg.Start("SCRAM-SHA-256")
		if _, _, err := n.Step(ctx, first); err != nil {
			b.Fatal(err)
		}
		if _, done, err := n.Step(ctx, final); err != nil || !done {
			b.Fatalf("got done %v, error %v; want success", done, err)
		}
	}
}

// BenchmarkPLAIN checks one PLAIN password at DefaultIterations: the server
// runs PBKDF2 itself.
func BenchmarkPLAIN(b *testing.B) {
	ctx := context.Background()
	store := newStore(b, DefaultIterations, map[string]string{"user": "pencil"}, SHA256)
	cfg := &Config{Store: store, TLS: true}
	in := []byte("\x00user\x00pencil")
	b.ReportAllocs()
	for b.Loop() {
		n, _ := cfg.Start("PLAIN")
		if _, done, err := n.Step(ctx, in); err != nil || !done {
			b.Fatalf("got done %v, error %v; want success", done, err)
		}
	}
}
