// Package registrytest is the conformance suite every registry.Store passes,
// plus OpenTemp, a throwaway SQLite store for other packages' tests.
package registrytest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"junction/registry"
	"junction/registry/sqlite"
)

// OpenTemp opens a SQLite store in a fresh t.TempDir() and closes it in
// t.Cleanup, failing the test if either goes wrong.
func OpenTemp(t *testing.T) registry.Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "junction.db")
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("open temporary store: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close temporary store: %v", err)
		}
	})
	return s
}

// Run runs the conformance suite against stores made by open, which is
// called once per subtest and must return an empty store that it closes
// itself (in t.Cleanup).
func Run(t *testing.T, open func(t *testing.T) registry.Store) {
	for _, tc := range []struct {
		name string
		test func(t *testing.T, s registry.Store)
	}{
		{"CreateAndGet", testCreateAndGet},
		{"CreateDuplicate", testCreateDuplicate},
		{"SameUsernameOtherHost", testSameUsernameOtherHost},
		{"NotFound", testNotFound},
		{"SetAccountKeys", testSetAccountKeys},
		{"DeleteAccount", testDeleteAccount},
		{"AccountsSorted", testAccountsSorted},
		{"ContextCancelled", testContextCancelled},
		{"ConcurrentCreates", testConcurrentCreates},
		{"NoAliasing", testNoAliasing},
		{"DeleteAccountCascades", testDeleteAccountCascades},
		{"RosterRoundTrip", testRosterRoundTrip},
		{"RosterSorted", testRosterSorted},
		{"RosterVersions", testRosterVersions},
		{"RosterReplace", testRosterReplace},
		{"RosterNotFound", testRosterNotFound},
		{"CountRoster", testCountRoster},
		{"RosterNoAliasing", testRosterNoAliasing},
		{"OfflineRoundTrip", testOfflineRoundTrip},
		{"OfflineQuota", testOfflineQuota},
		{"OfflineDelete", testOfflineDelete},
		{"OfflineNotFound", testOfflineNotFound},
		{"OfflineConcurrent", testOfflineConcurrent},
		{"AccountData", testAccountData},
		{"BlockList", testBlockList},
		{"BlockListNotFound", testBlockListNotFound},
		{"RoomRoundTrip", testRoomRoundTrip},
		{"RoomReplace", testRoomReplace},
		{"RoomsSorted", testRoomsSorted},
		{"RoomDelete", testRoomDelete},
		{"RoomNotFound", testRoomNotFound},
		{"RoomInvalid", testRoomInvalid},
		{"RoomNoAliasing", testRoomNoAliasing},
		{"RoomsConcurrent", testRoomsConcurrent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.test(t, open(t))
		})
	}
}

// created is a fixed creation time with sub-second noise that stores may drop.
var created = time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC)

// keys returns distinct, recognisable SCRAM keys derived from seed.
func keys(seed string, iterations int) registry.SCRAMKeys {
	return registry.SCRAMKeys{
		Salt:       []byte("salt-" + seed),
		Iterations: iterations,
		StoredKey:  []byte("stored-" + seed),
		ServerKey:  []byte("server-" + seed),
	}
}

// account returns a complete account with keys derived from its name.
func account(host, username string) registry.Account {
	return registry.Account{
		Host:     host,
		Username: username,
		SHA1:     keys("sha1-"+username+"@"+host, 4096),
		SHA256:   keys("sha256-"+username+"@"+host, 8192),
		Created:  created,
	}
}

// equalKeys reports whether a and b hold the same keys, treating nil and
// empty slices alike.
func equalKeys(a, b registry.SCRAMKeys) bool {
	return a.Iterations == b.Iterations && bytes.Equal(a.Salt, b.Salt) &&
		bytes.Equal(a.StoredKey, b.StoredKey) && bytes.Equal(a.ServerKey, b.ServerKey)
}

// checkAccount fails t unless got is want as a store returns it: Created may
// have lost its sub-second part but nothing more.
func checkAccount(t *testing.T, got, want registry.Account) {
	t.Helper()
	if got.Host != want.Host || got.Username != want.Username {
		t.Errorf("got account %s@%s, want %s@%s", got.Username, got.Host, want.Username, want.Host)
	}
	if !equalKeys(got.SHA1, want.SHA1) {
		t.Errorf("%s@%s: got SHA1 keys %+v, want %+v", want.Username, want.Host, got.SHA1, want.SHA1)
	}
	if !equalKeys(got.SHA256, want.SHA256) {
		t.Errorf("%s@%s: got SHA256 keys %+v, want %+v", want.Username, want.Host, got.SHA256, want.SHA256)
	}
	if lo := want.Created.Truncate(time.Second); got.Created.Before(lo) || got.Created.After(want.Created) {
		t.Errorf("%s@%s: got Created %v, want %v (to the second)", want.Username, want.Host, got.Created, want.Created)
	}
}

func mustCreate(t *testing.T, s registry.Store, a registry.Account) {
	t.Helper()
	if err := s.CreateAccount(t.Context(), a); err != nil {
		t.Fatalf("CreateAccount(%s@%s): got %v, want nil", a.Username, a.Host, err)
	}
}

func mustGet(t *testing.T, s registry.Store, host, username string) registry.Account {
	t.Helper()
	a, err := s.Account(t.Context(), host, username)
	if err != nil {
		t.Fatalf("Account(%q, %q): got %v, want nil", host, username, err)
	}
	return a
}

func testCreateAndGet(t *testing.T, s registry.Store) {
	empty := registry.Account{Host: "example.org", Username: "nokeys", Created: created}
	zero := account("example.org", "zerotime")
	zero.Created = time.Time{}
	for _, want := range []registry.Account{
		account("localhost", "alice"),
		account("example.org", "user.with-punct_and+plus"),
		account("example.org", "ünïcödé"),
		empty,
		zero,
	} {
		mustCreate(t, s, want)
		got := mustGet(t, s, want.Host, want.Username)
		checkAccount(t, got, want)
	}
}

func testCreateDuplicate(t *testing.T, s registry.Store) {
	first := account("localhost", "alice")
	mustCreate(t, s, first)
	second := first
	second.SHA256 = keys("other", 1)
	err := s.CreateAccount(t.Context(), second)
	if !errors.Is(err, registry.ErrExists) {
		t.Fatalf("second CreateAccount(alice@localhost): got %v, want %v", err, registry.ErrExists)
	}
	checkAccount(t, mustGet(t, s, "localhost", "alice"), first)
}

func testSameUsernameOtherHost(t *testing.T, s registry.Store) {
	a := account("localhost", "alice")
	b := account("example.org", "alice")
	mustCreate(t, s, a)
	mustCreate(t, s, b)
	checkAccount(t, mustGet(t, s, "localhost", "alice"), a)
	checkAccount(t, mustGet(t, s, "example.org", "alice"), b)
}

func testNotFound(t *testing.T, s registry.Store) {
	mustCreate(t, s, account("localhost", "alice"))
	for _, tc := range []struct {
		name, host, username string
	}{
		{"unknown user", "localhost", "bob"},
		{"unknown host", "example.org", "alice"},
		{"empty username", "localhost", ""},
		{"case differs", "localhost", "Alice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Account(t.Context(), tc.host, tc.username)
			if !errors.Is(err, registry.ErrNotFound) {
				t.Errorf("Account: got %v, want %v", err, registry.ErrNotFound)
			}
			err = s.SetAccountKeys(t.Context(), tc.host, tc.username, keys("x", 1), keys("y", 1))
			if !errors.Is(err, registry.ErrNotFound) {
				t.Errorf("SetAccountKeys: got %v, want %v", err, registry.ErrNotFound)
			}
			err = s.DeleteAccount(t.Context(), tc.host, tc.username)
			if !errors.Is(err, registry.ErrNotFound) {
				t.Errorf("DeleteAccount: got %v, want %v", err, registry.ErrNotFound)
			}
		})
	}
}

func testSetAccountKeys(t *testing.T, s registry.Store) {
	alice := account("localhost", "alice")
	bob := account("localhost", "bob")
	mustCreate(t, s, alice)
	mustCreate(t, s, bob)
	want := alice
	want.SHA1 = keys("new-sha1", 10000)
	want.SHA256 = keys("new-sha256", 20000)
	if err := s.SetAccountKeys(t.Context(), "localhost", "alice", want.SHA1, want.SHA256); err != nil {
		t.Fatalf("SetAccountKeys: got %v, want nil", err)
	}
	checkAccount(t, mustGet(t, s, "localhost", "alice"), want)
	checkAccount(t, mustGet(t, s, "localhost", "bob"), bob)
}

func testDeleteAccount(t *testing.T, s registry.Store) {
	alice := account("localhost", "alice")
	bob := account("localhost", "bob")
	otherAlice := account("example.org", "alice")
	for _, a := range []registry.Account{alice, bob, otherAlice} {
		mustCreate(t, s, a)
	}
	if err := s.DeleteAccount(t.Context(), "localhost", "alice"); err != nil {
		t.Fatalf("DeleteAccount: got %v, want nil", err)
	}
	if _, err := s.Account(t.Context(), "localhost", "alice"); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("Account after delete: got %v, want %v", err, registry.ErrNotFound)
	}
	if err := s.DeleteAccount(t.Context(), "localhost", "alice"); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("second DeleteAccount: got %v, want %v", err, registry.ErrNotFound)
	}
	checkAccount(t, mustGet(t, s, "localhost", "bob"), bob)
	checkAccount(t, mustGet(t, s, "example.org", "alice"), otherAlice)
	// The name is free again.
	mustCreate(t, s, alice)
	checkAccount(t, mustGet(t, s, "localhost", "alice"), alice)
}

func testAccountsSorted(t *testing.T, s registry.Store) {
	for _, u := range []string{"mallory", "alice", "zoe", "bob", "alice2", "0day"} {
		mustCreate(t, s, account("localhost", u))
	}
	mustCreate(t, s, account("example.org", "carol"))
	for _, tc := range []struct {
		host string
		want []string
	}{
		{"localhost", []string{"0day", "alice", "alice2", "bob", "mallory", "zoe"}},
		{"example.org", []string{"carol"}},
		{"unknown.example", nil},
	} {
		t.Run(tc.host, func(t *testing.T) {
			as, err := s.Accounts(t.Context(), tc.host)
			if err != nil {
				t.Fatalf("Accounts(%q): got %v, want nil", tc.host, err)
			}
			var got []string
			for _, a := range as {
				got = append(got, a.Username)
				checkAccount(t, a, account(tc.host, a.Username))
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("Accounts(%q): got %q, want %q", tc.host, got, tc.want)
			}
		})
	}
}

func testContextCancelled(t *testing.T, s registry.Store) {
	mustCreate(t, s, account("localhost", "alice"))
	fillAccount(t, s, "localhost", "alice")
	mustPutRoom(t, s, room("coven"))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for _, tc := range []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"CreateAccount", func(ctx context.Context) error {
			return s.CreateAccount(ctx, account("localhost", "bob"))
		}},
		{"Account", func(ctx context.Context) error {
			_, err := s.Account(ctx, "localhost", "alice")
			return err
		}},
		{"SetAccountKeys", func(ctx context.Context) error {
			return s.SetAccountKeys(ctx, "localhost", "alice", keys("x", 1), keys("y", 1))
		}},
		{"DeleteAccount", func(ctx context.Context) error {
			return s.DeleteAccount(ctx, "localhost", "alice")
		}},
		{"Accounts", func(ctx context.Context) error {
			_, err := s.Accounts(ctx, "localhost")
			return err
		}},
		{"Roster", func(ctx context.Context) error {
			_, _, err := s.Roster(ctx, "localhost", "alice")
			return err
		}},
		{"RosterItem", func(ctx context.Context) error {
			_, err := s.RosterItem(ctx, "localhost", "alice", "bob@example.org")
			return err
		}},
		{"PutRosterItem", func(ctx context.Context) error {
			_, err := s.PutRosterItem(ctx, item("carol@example.org"))
			return err
		}},
		{"DeleteRosterItem", func(ctx context.Context) error {
			_, err := s.DeleteRosterItem(ctx, "localhost", "alice", "bob@example.org")
			return err
		}},
		{"RosterVersion", func(ctx context.Context) error {
			_, err := s.RosterVersion(ctx, "localhost", "alice")
			return err
		}},
		{"CountRoster", func(ctx context.Context) error {
			_, err := s.CountRoster(ctx, "localhost", "alice")
			return err
		}},
		{"AddOffline", func(ctx context.Context) error {
			return s.AddOffline(ctx, "localhost", "alice", msg(1), 10)
		}},
		{"OfflineMessages", func(ctx context.Context) error {
			_, err := s.OfflineMessages(ctx, "localhost", "alice", 0)
			return err
		}},
		{"DeleteOffline", func(ctx context.Context) error {
			return s.DeleteOffline(ctx, "localhost", "alice", []int64{1})
		}},
		{"CountOffline", func(ctx context.Context) error {
			_, err := s.CountOffline(ctx, "localhost", "alice")
			return err
		}},
		{"AccountData", func(ctx context.Context) error {
			_, err := s.AccountData(ctx, "localhost", "alice", "vcard")
			return err
		}},
		{"SetAccountData", func(ctx context.Context) error {
			return s.SetAccountData(ctx, "localhost", "alice", "vcard", "")
		}},
		{"BlockList", func(ctx context.Context) error {
			_, err := s.BlockList(ctx, "localhost", "alice")
			return err
		}},
		{"Block", func(ctx context.Context) error {
			return s.Block(ctx, "localhost", "alice", []string{"spam@example.org"})
		}},
		{"Unblock", func(ctx context.Context) error {
			return s.Unblock(ctx, "localhost", "alice", nil)
		}},
		{"Rooms", func(ctx context.Context) error {
			_, err := s.Rooms(ctx, service)
			return err
		}},
		{"Room", func(ctx context.Context) error {
			_, err := s.Room(ctx, service, "coven")
			return err
		}},
		{"PutRoom", func(ctx context.Context) error {
			return s.PutRoom(ctx, room("other"))
		}},
		{"DeleteRoom", func(ctx context.Context) error {
			return s.DeleteRoom(ctx, service, "coven")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(ctx); !errors.Is(err, context.Canceled) {
				t.Errorf("got %v, want %v", err, context.Canceled)
			}
		})
	}
	// Nothing happened.
	checkAccount(t, mustGet(t, s, "localhost", "alice"), account("localhost", "alice"))
	checkFilled(t, s, "localhost", "alice")
	checkRoom(t, s, room("coven"))
	if _, err := s.Room(t.Context(), service, "other"); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("Room(other) after cancelled put: got %v, want %v", err, registry.ErrNotFound)
	}
	if _, err := s.Account(t.Context(), "localhost", "bob"); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("Account(bob) after cancelled create: got %v, want %v", err, registry.ErrNotFound)
	}
}

func testConcurrentCreates(t *testing.T, s registry.Store) {
	const (
		workers = 8
		each    = 10
	)
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		won     int
		lost    int
		unknown []error
	)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				if err := s.CreateAccount(t.Context(), account("localhost", fmt.Sprintf("user%02d-%02d", w, i))); err != nil {
					mu.Lock()
					unknown = append(unknown, err)
					mu.Unlock()
				}
			}
			// Every worker races for the same name: exactly one wins.
			err := s.CreateAccount(t.Context(), account("localhost", "contested"))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won++
			case errors.Is(err, registry.ErrExists):
				lost++
			default:
				unknown = append(unknown, err)
			}
		})
	}
	wg.Wait()
	for _, err := range unknown {
		t.Errorf("concurrent CreateAccount: got %v, want nil or %v", err, registry.ErrExists)
	}
	if won != 1 || lost != workers-1 {
		t.Errorf("contested CreateAccount: got %d created and %d ErrExists, want 1 and %d", won, lost, workers-1)
	}
	as, err := s.Accounts(t.Context(), "localhost")
	if err != nil {
		t.Fatalf("Accounts: got %v, want nil", err)
	}
	if got, want := len(as), workers*each+1; got != want {
		t.Errorf("Accounts: got %d accounts, want %d", got, want)
	}
}

func testNoAliasing(t *testing.T, s registry.Store) {
	a := account("localhost", "alice")
	want := account("localhost", "alice")
	mustCreate(t, s, a)
	a.SHA1.StoredKey[0] ^= 0xff // the caller reuses its buffer
	got := mustGet(t, s, "localhost", "alice")
	checkAccount(t, got, want)
	got.SHA256.ServerKey[0] ^= 0xff // the caller scribbles on a result
	checkAccount(t, mustGet(t, s, "localhost", "alice"), want)
}

// fillAccount gives username@host a roster item, an offline message, a vCard
// and a blocked JID, one row in every table that belongs to an account.
func fillAccount(t *testing.T, s registry.Store, host, username string) {
	t.Helper()
	it := item("bob@example.org")
	it.Host, it.Username = host, username
	mustPutItem(t, s, it)
	mustAddOffline(t, s, host, username, msg(1))
	if err := s.SetAccountData(t.Context(), host, username, "vcard", vcard); err != nil {
		t.Fatalf("SetAccountData: got %v, want nil", err)
	}
	if err := s.Block(t.Context(), host, username, []string{"spam@example.org"}); err != nil {
		t.Fatalf("Block: got %v, want nil", err)
	}
}

// checkFilled fails t unless username@host holds exactly what fillAccount
// stored.
func checkFilled(t *testing.T, s registry.Store, host, username string) {
	t.Helper()
	want := item("bob@example.org")
	want.Host, want.Username = host, username
	items, v := mustRoster(t, s, host, username)
	if len(items) != 1 || !equalItems(items[0], want) || v != 1 {
		t.Errorf("Roster(%s@%s): got %+v version %d, want [%+v] version 1", username, host, items, v, want)
	}
	if got := stanzas(mustOffline(t, s, host, username, 0)); len(got) != 1 || got[0] != msg(1) {
		t.Errorf("OfflineMessages(%s@%s): got %q, want [%q]", username, host, got, msg(1))
	}
	if got, err := s.AccountData(t.Context(), host, username, "vcard"); err != nil || got != vcard {
		t.Errorf("AccountData(%s@%s): got %q, %v, want %q", username, host, got, err, vcard)
	}
	if got, err := s.BlockList(t.Context(), host, username); err != nil || len(got) != 1 || got[0] != "spam@example.org" {
		t.Errorf("BlockList(%s@%s): got %q, %v, want [spam@example.org]", username, host, got, err)
	}
}

func testDeleteAccountCascades(t *testing.T, s registry.Store) {
	for _, a := range []registry.Account{account("localhost", "alice"), account("localhost", "bob"), account("example.org", "alice")} {
		mustCreate(t, s, a)
		fillAccount(t, s, a.Host, a.Username)
	}
	if err := s.DeleteAccount(t.Context(), "localhost", "alice"); err != nil {
		t.Fatalf("DeleteAccount: got %v, want nil", err)
	}
	// A new account under the old name starts with nothing of the old one's.
	mustCreate(t, s, account("localhost", "alice"))
	for _, tc := range []struct {
		name string
		got  func() (any, error)
		want any
	}{
		{"Roster", func() (any, error) {
			items, _, err := s.Roster(t.Context(), "localhost", "alice")
			return len(items), err
		}, 0},
		{"RosterVersion", func() (any, error) { return s.RosterVersion(t.Context(), "localhost", "alice") }, int64(0)},
		{"CountRoster", func() (any, error) { return s.CountRoster(t.Context(), "localhost", "alice") }, 0},
		{"OfflineMessages", func() (any, error) {
			ms, err := s.OfflineMessages(t.Context(), "localhost", "alice", 0)
			return len(ms), err
		}, 0},
		{"CountOffline", func() (any, error) { return s.CountOffline(t.Context(), "localhost", "alice") }, 0},
		{"AccountData", func() (any, error) {
			_, err := s.AccountData(t.Context(), "localhost", "alice", "vcard")
			return errors.Is(err, registry.ErrNotFound), nil
		}, true},
		{"BlockList", func() (any, error) {
			jids, err := s.BlockList(t.Context(), "localhost", "alice")
			return len(jids), err
		}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.got()
			if err != nil || got != tc.want {
				t.Errorf("got %v, %v, want %v, nil", got, err, tc.want)
			}
		})
	}
	checkFilled(t, s, "localhost", "bob")
	checkFilled(t, s, "example.org", "alice")
}
