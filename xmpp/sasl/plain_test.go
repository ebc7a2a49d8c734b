package sasl

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestPLAIN(t *testing.T) {
	ctx := context.Background()
	store := newStore(t, testIterations, map[string]string{"juliet": "pencil"}, SHA1, SHA256)
	for user, hashes := range map[string][]Hash{"romeo": {SHA1}, "tybalt": {SHA256}} {
		for user, keys := range newStore(t, testIterations, map[string]string{user: "s3cret pass"}, hashes...) {
			store[user] = keys
		}
	}
	long := strings.Repeat("u", maxFieldBytes)
	for _, tc := range []struct {
		name        string
		in          string
		store       CredentialStore
		wantCond    string
		wantErr     error
		wantUser    string
		wantAuthzID string
	}{
		{name: "success", in: "\x00juliet\x00pencil", wantUser: "juliet"},
		{name: "case mapped username", in: "\x00JULIET\x00pencil", wantUser: "juliet"},
		{name: "authzid passed through", in: "Juliet@Example.org/x\x00juliet\x00pencil", wantUser: "juliet", wantAuthzID: "Juliet@Example.org/x"},
		{name: "SHA-1 keys only", in: "\x00romeo\x00s3cret pass", wantUser: "romeo"},
		{name: "SHA-256 keys only", in: "\x00tybalt\x00s3cret pass", wantUser: "tybalt"},
		{name: "password width-mapped", in: "\x00tybalt\x00s3cret\u00a0pass", wantUser: "tybalt"},
		{name: "wrong password", in: "\x00juliet\x00Pencil", wantCond: condNotAuthorized, wantErr: errBadPassword},
		{name: "wrong password SHA-1", in: "\x00romeo\x00pencil", wantCond: condNotAuthorized, wantErr: errBadPassword},
		{name: "unknown user", in: "\x00mercutio\x00pencil", wantCond: condNotAuthorized, wantErr: errUnknownUser},
		{name: "username fails preparation", in: "\x00jul iet\x00pencil", wantCond: condNotAuthorized, wantErr: errBadUsername},
		{name: "password fails preparation", in: "\x00juliet\x00pen\u0007cil", wantCond: condNotAuthorized, wantErr: errBadPasswordPrep},
		{name: "longest username", in: "\x00" + long + "\x00pencil", wantCond: condNotAuthorized, wantErr: errUnknownUser},
		{name: "username too long", in: "\x00" + long + "u\x00pencil", wantCond: condMalformedRequest},
		{name: "password too long", in: "\x00juliet\x00" + long + "p", wantCond: condMalformedRequest},
		{name: "authzid too long", in: long + "a\x00juliet\x00pencil", wantCond: condMalformedRequest},
		{name: "input too long", in: "\x00juliet\x00" + strings.Repeat("p", maxInputBytes), wantCond: condMalformedRequest},
		{name: "no NUL", in: "julietpencil", wantCond: condMalformedRequest},
		{name: "one NUL", in: "juliet\x00pencil", wantCond: condMalformedRequest},
		{name: "three NULs", in: "\x00juliet\x00pen\x00cil", wantCond: condMalformedRequest},
		{name: "empty username", in: "\x00\x00pencil", wantCond: condMalformedRequest},
		{name: "empty password", in: "\x00juliet\x00", wantCond: condMalformedRequest},
		{name: "not UTF-8", in: "\x00juliet\x00pen\xffcil", wantCond: condMalformedRequest},
		{name: "store down", in: "\x00juliet\x00pencil", store: brokenStore{}, wantCond: condTemporaryAuthFailure, wantErr: errStoreDown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &Config{Store: store, TLS: true, Iterations: testIterations}
			if tc.store != nil {
				cfg.Store = tc.store
			}
			n, err := cfg.Start("PLAIN")
			if err != nil {
				t.Fatal(err)
			}
			out, done, err := n.Step(ctx, []byte(tc.in))
			checkCondition(t, err, tc.wantCond)
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("got %v, want it to wrap %v", err, tc.wantErr)
			}
			if err != nil {
				if got := err.(*Error).Text; tc.wantCond == condNotAuthorized && got != "" {
					t.Fatalf("got text %q, want none (nothing to tell apart failures)", got)
				}
				return
			}
			if !done || out != nil {
				t.Fatalf("got done %v, out %q; want done with no data", done, out)
			}
			if got := n.Username(); got != tc.wantUser {
				t.Fatalf("got username %q, want %q", got, tc.wantUser)
			}
			if got := n.AuthzID(); got != tc.wantAuthzID {
				t.Fatalf("got authzid %q, want %q", got, tc.wantAuthzID)
			}
		})
	}
}

func TestPLAINClient(t *testing.T) {
	store := newStore(t, testIterations, map[string]string{"juliet": "pencil"}, SHA256)
	cfg := &Config{Store: store, TLS: true, Iterations: testIterations}
	c := NewClient("PLAIN", "juliet", "pencil", ChannelBinding{})
	c.AuthzID = "juliet@example.org"
	n, err := exchange(t, cfg, "PLAIN", c)
	if err != nil {
		t.Fatal(err)
	}
	if got := n.AuthzID(); got != "juliet@example.org" {
		t.Fatalf("got authzid %q, want %q", got, "juliet@example.org")
	}
}
