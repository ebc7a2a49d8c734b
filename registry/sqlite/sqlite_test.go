package sqlite_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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
