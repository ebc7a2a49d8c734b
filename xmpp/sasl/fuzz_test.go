package sasl

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
)

func FuzzSCRAMClientFirst(f *testing.F) {
	for _, seed := range []string{
		"n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
		"y,,n=user,r=rOprNGfwEbeRWgbNEkqO",
		"p=tls-exporter,a=user@example.org,n=user,r=abcdefghij",
		"p=tls-server-end-point,,n=u=2Cs=3Der,r=abcdefghij,x=ext",
		"n,,m=ext,n=user,r=abcdefghij",
		"n,,n=us=er,r=abcdefghij",
		"",
	} {
		f.Add([]byte(seed))
	}
	ctx := context.Background()
	store := newStore(f, 1, map[string]string{"user": "pencil"}, SHA1, SHA256)
	const snonce = "SNONCE"
	configs := []struct {
		mech string
		cfg  *Config
	}{
		{mech: "SCRAM-SHA-256", cfg: &Config{Store: store, Secret: testSecret, Iterations: 1, serverNonce: func() string { return snonce }}},
		{mech: "SCRAM-SHA-1-PLUS", cfg: &Config{Store: store, Secret: testSecret, Iterations: 1, serverNonce: func() string { return snonce },
			TLS: true, Binding: ChannelBinding{TLSExporter: []byte("exporter")}}},
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, c := range configs {
			n, err := c.cfg.Start(c.mech)
			if err != nil {
				t.Fatal(err)
			}
			out, done, err := n.Step(ctx, in)
			if err != nil {
				var e *Error
				if !errors.As(err, &e) || e.Condition == "" {
					t.Fatalf("%s: got error %v, want *Error with a condition", c.mech, err)
				}
				if out != nil || done {
					t.Fatalf("%s: got out %q, done %v with an error; want neither", c.mech, out, done)
				}
				continue
			}
			if done {
				t.Fatalf("%s: got done after client-first %q, want a challenge", c.mech, in)
			}
			if len(in) == 0 {
				if out == nil || len(out) != 0 {
					t.Fatalf("%s: got %q for no initial response, want an empty challenge", c.mech, out)
				}
				continue
			}
			// The server nonce extends the client's, which the client sent.
			first, _, _ := strings.Cut(string(out), ",")
			nonce, ok := strings.CutPrefix(first, "r=")
			cnonce, ok2 := strings.CutSuffix(nonce, snonce)
			if !ok || !ok2 || !bytes.Contains(in, []byte(",r="+cnonce)) {
				t.Fatalf("%s: got server-first %q for %q, want the client's nonce extended", c.mech, out, in)
			}
		}
	})
}

func FuzzPLAIN(f *testing.F) {
	for _, seed := range []string{
		"\x00user\x00pencil",
		"user@example.org\x00user\x00pencil",
		"\x00USER\x00pencil",
		"\x00user\x00wrong",
		"\x00\x00",
		"user",
		"",
	} {
		f.Add([]byte(seed))
	}
	ctx := context.Background()
	cfg := &Config{Store: newStore(f, 1, map[string]string{"user": "pencil"}, SHA256), TLS: true, Iterations: 1}
	f.Fuzz(func(t *testing.T, in []byte) {
		n, err := cfg.Start("PLAIN")
		if err != nil {
			t.Fatal(err)
		}
		out, done, err := n.Step(ctx, in)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Condition == "" {
				t.Fatalf("got error %v, want *Error with a condition", err)
			}
			if out != nil || done {
				t.Fatalf("got out %q, done %v with an error; want neither", out, done)
			}
			return
		}
		if !done {
			if len(in) != 0 || out == nil || len(out) != 0 {
				t.Fatalf("got challenge %q for %q, want success or an error", out, in)
			}
			return
		}
		if out != nil {
			t.Fatalf("got success data %q, want none", out)
		}
		authz, _, _ := bytes.Cut(in, []byte{0})
		if n.Username() != "user" || n.AuthzID() != string(authz) {
			t.Fatalf("got username %q, authzid %q for %q; want %q, %q", n.Username(), n.AuthzID(), in, "user", authz)
		}
	})
}
