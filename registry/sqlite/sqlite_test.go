package sqlite_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"junction/registry"
	"junction/registry/registrytest"
	"junction/registry/sqlite"
)

func TestConformance(t *testing.T) {
	registrytest.Run(t, registrytest.OpenTemp)
}

func TestReopen(t *testing.T) {
	ctx := t.Context()
	// A '?', '#', '%' and a space in the path must not be read as DSN syntax.
	path := filepath.Join(t.TempDir(), "odd dir?#%", "junction.db")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	want := registry.Account{
		Host:     "localhost",
		Username: "alice",
		SHA1:     registry.SCRAMKeys{Salt: []byte{1}, Iterations: 4096, StoredKey: []byte{2}, ServerKey: []byte{3}},
		SHA256:   registry.SCRAMKeys{Salt: []byte{4}, Iterations: 8192, StoredKey: []byte{5}, ServerKey: []byte{6}},
		Created:  time.Unix(1700000000, 0).UTC(),
	}
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("Open: got %v, want nil", err)
	}
	if err := s.CreateAccount(ctx, want); err != nil {
		t.Fatalf("CreateAccount: got %v, want nil", err)
	}
	wantItem := registry.RosterItem{Host: "localhost", Username: "alice", Contact: "bob@example.org", Name: "Bob",
		Groups: []string{"Friends"}, Subscription: registry.SubTo, Ask: true, InRoster: true}
	if _, err := s.PutRosterItem(ctx, wantItem); err != nil {
		t.Fatalf("PutRosterItem: got %v, want nil", err)
	}
	if err := s.AddOffline(ctx, "localhost", "alice", "<message/>", 10); err != nil {
		t.Fatalf("AddOffline: got %v, want nil", err)
	}
	if err := s.SetAccountData(ctx, "localhost", "alice", "vcard", "<vCard xmlns='vcard-temp'/>"); err != nil {
		t.Fatalf("SetAccountData: got %v, want nil", err)
	}
	if err := s.Block(ctx, "localhost", "alice", []string{"spam@example.org"}); err != nil {
		t.Fatalf("Block: got %v, want nil", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: got %v, want nil", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database file: got %v, want it at %s", err, path)
	}

	s, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: got %v, want nil", err)
	}
	defer s.Close()
	got, err := s.Account(ctx, "localhost", "alice")
	if err != nil {
		t.Fatalf("Account after reopen: got %v, want nil", err)
	}
	if got.Host != want.Host || got.Username != want.Username || !got.Created.Equal(want.Created) ||
		!bytes.Equal(got.SHA256.ServerKey, want.SHA256.ServerKey) || got.SHA1.Iterations != want.SHA1.Iterations {
		t.Errorf("Account after reopen: got %+v, want %+v", got, want)
	}
	items, version, err := s.Roster(ctx, "localhost", "alice")
	if err != nil || len(items) != 1 || !reflect.DeepEqual(items[0], wantItem) || version != 1 {
		t.Errorf("Roster after reopen: got %+v version %d, %v, want [%+v] version 1", items, version, err, wantItem)
	}
	ms, err := s.OfflineMessages(ctx, "localhost", "alice", 0)
	if err != nil || len(ms) != 1 || ms[0].Stanza != "<message/>" {
		t.Errorf("OfflineMessages after reopen: got %+v, %v, want one <message/>", ms, err)
	}
	if v, err := s.AccountData(ctx, "localhost", "alice", "vcard"); err != nil || v != "<vCard xmlns='vcard-temp'/>" {
		t.Errorf("AccountData after reopen: got %q, %v, want the vCard", v, err)
	}
	if jids, err := s.BlockList(ctx, "localhost", "alice"); err != nil || !slices.Equal(jids, []string{"spam@example.org"}) {
		t.Errorf("BlockList after reopen: got %q, %v, want [spam@example.org]", jids, err)
	}
}

func TestOpenErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		path string
	}{
		{"empty path", ""},
		{"missing parent directory", filepath.Join(t.TempDir(), "missing", "junction.db")},
		{"directory", t.TempDir()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := sqlite.Open(context.Background(), tc.path)
			if err == nil {
				s.Close()
				t.Fatalf("Open(%q): got nil error, want one", tc.path)
			}
			if errors.Is(err, sqlite.ErrSchemaTooNew) {
				t.Errorf("Open(%q): got %v, want an error other than ErrSchemaTooNew", tc.path, err)
			}
		})
	}
}

func benchAccount(i int) registry.Account {
	k := registry.SCRAMKeys{Salt: make([]byte, 16), Iterations: 4096, StoredKey: make([]byte, 32), ServerKey: make([]byte, 32)}
	return registry.Account{Host: "localhost", Username: fmt.Sprintf("user%d", i), SHA1: k, SHA256: k, Created: time.Now()}
}

func BenchmarkCreateAccount(b *testing.B) {
	s, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	i := 0
	for b.Loop() {
		if err := s.CreateAccount(b.Context(), benchAccount(i)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkAccountParallel(b *testing.B) {
	s, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const n = 1000
	for i := range n {
		if err := s.CreateAccount(b.Context(), benchAccount(i)); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := s.Account(context.Background(), "localhost", fmt.Sprintf("user%d", i%n)); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}

// offlineStanza is a typical stored chat message with its delay stamp.
const offlineStanza = `<message xmlns="jabber:client" from="bob@example.org/phone" to="alice@localhost" type="chat" id="a1b2c3"><body>See you at the usual place at eight?</body><delay xmlns="urn:xmpp:delay" from="localhost" stamp="2026-01-02T15:04:05.000Z"/></message>`

// BenchmarkAddOffline stores messages for one offline account, as the
// router does for each message to it. The limit is never reached.
func BenchmarkAddOffline(b *testing.B) {
	s, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.CreateAccount(b.Context(), benchAccount(0)); err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		// Deliver now and then, so the count stays at a realistic size.
		if i%100 == 99 {
			ms, err := s.OfflineMessages(b.Context(), "localhost", "user0", 0)
			if err != nil {
				b.Fatal(err)
			}
			ids := make([]int64, len(ms))
			for j, m := range ms {
				ids[j] = m.ID
			}
			if err := s.DeleteOffline(b.Context(), "localhost", "user0", ids); err != nil {
				b.Fatal(err)
			}
		}
		if err := s.AddOffline(b.Context(), "localhost", "user0", offlineStanza, 1000); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkOfflineMessages reads a batch of 50 stored messages, as delivery
// at login does, from a store holding 100 accounts' worth of them.
func BenchmarkOfflineMessages(b *testing.B) {
	s, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const accounts, each = 100, 50
	for i := range accounts {
		if err := s.CreateAccount(b.Context(), benchAccount(i)); err != nil {
			b.Fatal(err)
		}
		for range each {
			if err := s.AddOffline(b.Context(), "localhost", fmt.Sprintf("user%d", i), offlineStanza, each); err != nil {
				b.Fatal(err)
			}
		}
	}
	i := 0
	for b.Loop() {
		ms, err := s.OfflineMessages(b.Context(), "localhost", fmt.Sprintf("user%d", i%accounts), each)
		if err != nil || len(ms) != each {
			b.Fatalf("OfflineMessages: got %d messages, %v, want %d", len(ms), err, each)
		}
		i++
	}
}
