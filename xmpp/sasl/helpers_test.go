package sasl

import (
	"context"
	"errors"
	"testing"
)

// testIterations keeps key derivation cheap in tests that do not replay an RFC vector.
const testIterations = 64

// testSecret is the Config.Secret of tests.
var testSecret = []byte("0123456789abcdef0123456789abcdef")

// memStore is a CredentialStore in a map: username → hash → keys.
type memStore map[string]map[Hash]Keys

func (s memStore) SCRAMKeys(_ context.Context, username string, h Hash) (Keys, error) {
	k, ok := s[username][h]
	if !ok {
		return Keys{}, ErrUnknownUser
	}
	return k, nil
}

// brokenStore fails every lookup.
type brokenStore struct{}

var errStoreDown = errors.New("store is down")

func (brokenStore) SCRAMKeys(context.Context, string, Hash) (Keys, error) {
	return Keys{}, errStoreDown
}

// newStore returns a store with the given users, each holding keys for the
// listed hashes derived from password.
func newStore(t testing.TB, iterations int, users map[string]string, hashes ...Hash) memStore {
	t.Helper()
	s := memStore{}
	for user, password := range users {
		s[user] = map[Hash]Keys{}
		for _, h := range hashes {
			k, err := NewKeys(h, password, iterations)
			if err != nil {
				t.Fatalf("NewKeys(%v, %q): %v", h, password, err)
			}
			s[user][h] = k
		}
	}
	return s
}

// checkCondition fails t unless err is an *Error with condition cond, or nil
// when cond is "".
func checkCondition(t testing.TB, err error, cond string) {
	t.Helper()
	if cond == "" {
		if err != nil {
			t.Fatalf("got error %v, want none", err)
		}
		return
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("got error %v, want *Error with condition %s", err, cond)
	}
	if e.Condition != cond {
		t.Fatalf("got condition %s (%v), want %s", e.Condition, err, cond)
	}
}

// exchange runs c against a new negotiation for mech under cfg until the
// server succeeds or fails. It returns the negotiation and the server's error;
// a client error fails t.
func exchange(t testing.TB, cfg *Config, mech string, c *Client) (*Negotiation, error) {
	t.Helper()
	ctx := context.Background()
	n, err := cfg.Start(mech)
	if err != nil {
		return nil, err
	}
	in, err := c.Step(nil)
	if err != nil {
		t.Fatalf("client initial response: %v", err)
	}
	for {
		out, done, err := n.Step(ctx, in)
		if err != nil {
			return n, err
		}
		if done {
			if _, err := c.Step(out); err != nil {
				t.Fatalf("client rejects the server's success data %q: %v", out, err)
			}
			if !c.Done() {
				t.Fatalf("got client Done false after success, want true")
			}
			return n, nil
		}
		if in, err = c.Step(out); err != nil {
			t.Fatalf("client step on %q: %v", out, err)
		}
	}
}
