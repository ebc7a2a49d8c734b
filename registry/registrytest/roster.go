package registrytest

import (
	"errors"
	"reflect"
	"slices"
	"testing"

	"junction/registry"
)

// item returns a roster item of alice@localhost for contact with every field set.
func item(contact string) registry.RosterItem {
	return registry.RosterItem{
		Host:            "localhost",
		Username:        "alice",
		Contact:         contact,
		Name:            "Name of " + contact,
		Groups:          []string{"Friends", "Work"},
		Subscription:    registry.SubBoth,
		Ask:             true,
		PendingIn:       true,
		PendingInStanza: `<presence from="` + contact + `" to="alice@localhost" type="subscribe"/>`,
		Approved:        true,
		InRoster:        true,
	}
}

// stored returns it as a store gives it back: an empty Subscription reads
// as none.
func stored(it registry.RosterItem) registry.RosterItem {
	if it.Subscription == "" {
		it.Subscription = registry.SubNone
	}
	return it
}

// equalItems reports whether a and b are the same item, treating nil and
// empty Groups alike.
func equalItems(a, b registry.RosterItem) bool {
	if len(a.Groups) == 0 {
		a.Groups = nil
	}
	if len(b.Groups) == 0 {
		b.Groups = nil
	}
	return reflect.DeepEqual(a, b)
}

func mustPutItem(t *testing.T, s registry.Store, it registry.RosterItem) int64 {
	t.Helper()
	v, err := s.PutRosterItem(t.Context(), it)
	if err != nil {
		t.Fatalf("PutRosterItem(%s): got %v, want nil", it.Contact, err)
	}
	return v
}

func mustRoster(t *testing.T, s registry.Store, host, username string) ([]registry.RosterItem, int64) {
	t.Helper()
	items, v, err := s.Roster(t.Context(), host, username)
	if err != nil {
		t.Fatalf("Roster(%s@%s): got %v, want nil", username, host, err)
	}
	return items, v
}

func testRosterRoundTrip(t *testing.T, s registry.Store) {
	mustCreate(t, s, account("localhost", "alice"))
	noGroups := item("nogroups@example.org")
	noGroups.Groups = nil
	emptyGroups := item("emptygroups@example.org")
	emptyGroups.Groups = []string{}
	oddGroups := item("oddgroups@example.org")
	oddGroups.Groups = []string{"", "\"quoted\" \\ [json]", "Ünïcödé 👋", "with,comma"}
	zero := registry.RosterItem{Host: "localhost", Username: "alice", Contact: "zero@example.org"}
	pendingOnly := registry.RosterItem{Host: "localhost", Username: "alice", Contact: "stranger@example.net",
		Subscription: registry.SubNone, PendingIn: true, PendingInStanza: "<presence type='subscribe'/>"}
	preApproved := registry.RosterItem{Host: "localhost", Username: "alice", Contact: "friend@example.net",
		Subscription: registry.SubNone, Approved: true}
	for _, tc := range []struct {
		name string
		it   registry.RosterItem
	}{
		{"every field", item("bob@example.org")},
		{"nil groups", noGroups},
		{"empty groups", emptyGroups},
		{"odd groups", oddGroups},
		{"zero item", zero},
		{"pending in only", pendingOnly},
		{"pre-approved only", preApproved},
		{"subscription to", func() registry.RosterItem { it := item("to@example.org"); it.Subscription = registry.SubTo; return it }()},
		{"subscription from", func() registry.RosterItem {
			it := item("from@example.org")
			it.Subscription = registry.SubFrom
			return it
		}()},
		{"domain contact", item("example.com")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mustPutItem(t, s, tc.it)
			got, err := s.RosterItem(t.Context(), "localhost", "alice", tc.it.Contact)
			if err != nil {
				t.Fatalf("RosterItem(%s): got %v, want nil", tc.it.Contact, err)
			}
			if want := stored(tc.it); !equalItems(got, want) {
				t.Errorf("RosterItem(%s): got %+v, want %+v", tc.it.Contact, got, want)
			}
		})
	}
}

func testRosterSorted(t *testing.T, s registry.Store) {
	mustCreate(t, s, account("localhost", "alice"))
	mustCreate(t, s, account("localhost", "bob"))
	contacts := []string{"zoe@example.org", "Bob@example.org", "alice@example.org", "example.org", "bob@example.org"}
	for _, c := range contacts {
		mustPutItem(t, s, item(c))
	}
	hidden := item("hidden@example.org")
	hidden.InRoster = false
	mustPutItem(t, s, hidden)
	other := item("other@example.org")
	other.Username = "bob"
	mustPutItem(t, s, other)

	items, v := mustRoster(t, s, "localhost", "alice")
	var got []string
	for _, it := range items {
		got = append(got, it.Contact)
		want := item(it.Contact)
		if it.Contact == hidden.Contact {
			want = hidden
		}
		if !equalItems(it, want) {
			t.Errorf("Roster item %s: got %+v, want %+v", it.Contact, it, want)
		}
	}
	want := []string{"Bob@example.org", "alice@example.org", "bob@example.org", "example.org", "hidden@example.org", "zoe@example.org"}
	if !slices.Equal(got, want) {
		t.Errorf("Roster contacts: got %q, want %q (every item, byte order)", got, want)
	}
	if v != 6 {
		t.Errorf("Roster version: got %d, want 6", v)
	}
	items, v = mustRoster(t, s, "localhost", "bob")
	if len(items) != 1 || !equalItems(items[0], other) || v != 1 {
		t.Errorf("Roster(bob): got %+v version %d, want [%+v] version 1", items, v, other)
	}
}

func testRosterVersions(t *testing.T, s registry.Store) {
	mustCreate(t, s, account("localhost", "alice"))
	mustCreate(t, s, account("localhost", "bob"))
	replaced := item("bob@example.org")
	replaced.Subscription = registry.SubNone
	replaced.Groups = nil
	for _, tc := range []struct {
		name    string
		do      func() (int64, error)
		wantErr error // a sentinel the error must wrap
		anyErr  bool  // want an error that wraps no sentinel
		want    int64 // the version returned and then read back
	}{
		{"no roster yet", func() (int64, error) { return s.RosterVersion(t.Context(), "localhost", "alice") }, nil, false, 0},
		{"first put", func() (int64, error) { return s.PutRosterItem(t.Context(), item("bob@example.org")) }, nil, false, 1},
		{"second contact", func() (int64, error) { return s.PutRosterItem(t.Context(), item("carol@example.org")) }, nil, false, 2},
		{"replace", func() (int64, error) { return s.PutRosterItem(t.Context(), replaced) }, nil, false, 3},
		{"same again", func() (int64, error) { return s.PutRosterItem(t.Context(), replaced) }, nil, false, 4},
		{"delete", func() (int64, error) {
			return s.DeleteRosterItem(t.Context(), "localhost", "alice", "carol@example.org")
		}, nil, false, 5},
		{"delete missing", func() (int64, error) {
			return s.DeleteRosterItem(t.Context(), "localhost", "alice", "carol@example.org")
		}, registry.ErrNotFound, false, 5},
		{"invalid subscription", func() (int64, error) {
			it := item("dave@example.org")
			it.Subscription = "bogus"
			return s.PutRosterItem(t.Context(), it)
		}, nil, true, 5},
		{"delete last", func() (int64, error) { return s.DeleteRosterItem(t.Context(), "localhost", "alice", "bob@example.org") }, nil, false, 6},
		{"re-add", func() (int64, error) { return s.PutRosterItem(t.Context(), item("bob@example.org")) }, nil, false, 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.do()
			switch {
			case tc.anyErr:
				if err == nil || errors.Is(err, registry.ErrNotFound) {
					t.Errorf("got %v, want an error other than %v", err, registry.ErrNotFound)
				}
			case tc.wantErr != nil:
				if !errors.Is(err, tc.wantErr) {
					t.Errorf("got %v, want %v", err, tc.wantErr)
				}
			case err != nil:
				t.Errorf("got %v, want nil", err)
			case got != tc.want:
				t.Errorf("got version %d, want %d", got, tc.want)
			}
			if v, err := s.RosterVersion(t.Context(), "localhost", "alice"); err != nil || v != tc.want {
				t.Errorf("RosterVersion: got %d, %v, want %d", v, err, tc.want)
			}
			if _, v := mustRoster(t, s, "localhost", "alice"); v != tc.want {
				t.Errorf("Roster version: got %d, want %d", v, tc.want)
			}
		})
	}
	// Every change above was alice's; bob's roster never changed.
	if v, err := s.RosterVersion(t.Context(), "localhost", "bob"); err != nil || v != 0 {
		t.Errorf("RosterVersion(bob): got %d, %v, want 0", v, err)
	}
	if _, err := s.RosterItem(t.Context(), "localhost", "alice", "dave@example.org"); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("RosterItem after invalid put: got %v, want %v", err, registry.ErrNotFound)
	}
	got, err := s.RosterItem(t.Context(), "localhost", "alice", "bob@example.org")
	if err != nil || !equalItems(got, item("bob@example.org")) {
		t.Errorf("RosterItem after re-add: got %+v, %v, want %+v", got, err, item("bob@example.org"))
	}
}

func testRosterReplace(t *testing.T, s registry.Store) {
	mustCreate(t, s, account("localhost", "alice"))
	mustPutItem(t, s, item("bob@example.org"))
	// Every field changes, including back to zero values.
	want := registry.RosterItem{Host: "localhost", Username: "alice", Contact: "bob@example.org",
		Groups: []string{"Other"}, Subscription: registry.SubTo}
	mustPutItem(t, s, want)
	got, err := s.RosterItem(t.Context(), "localhost", "alice", "bob@example.org")
	if err != nil || !equalItems(got, want) {
		t.Errorf("RosterItem after replace: got %+v, %v, want %+v", got, err, want)
	}
	if items, _ := mustRoster(t, s, "localhost", "alice"); len(items) != 1 {
		t.Errorf("Roster after replace: got %d items, want 1", len(items))
	}
}

func testRosterNotFound(t *testing.T, s registry.Store) {
	mustCreate(t, s, account("localhost", "alice"))
	mustPutItem(t, s, item("bob@example.org"))
	ghost := item("bob@example.org")
	ghost.Username = "ghost"
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"RosterItem unknown contact", func() error {
			_, err := s.RosterItem(t.Context(), "localhost", "alice", "carol@example.org")
			return err
		}},
		{"RosterItem contact case differs", func() error {
			_, err := s.RosterItem(t.Context(), "localhost", "alice", "Bob@example.org")
			return err
		}},
		{"RosterItem unknown account", func() error {
			_, err := s.RosterItem(t.Context(), "localhost", "ghost", "bob@example.org")
			return err
		}},
		{"PutRosterItem unknown account", func() error {
			_, err := s.PutRosterItem(t.Context(), ghost)
			return err
		}},
		{"PutRosterItem unknown host", func() error {
			it := item("bob@example.org")
			it.Host = "example.org"
			_, err := s.PutRosterItem(t.Context(), it)
			return err
		}},
		{"DeleteRosterItem unknown contact", func() error {
			_, err := s.DeleteRosterItem(t.Context(), "localhost", "alice", "carol@example.org")
			return err
		}},
		{"DeleteRosterItem unknown account", func() error {
			_, err := s.DeleteRosterItem(t.Context(), "localhost", "ghost", "bob@example.org")
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); !errors.Is(err, registry.ErrNotFound) {
				t.Errorf("got %v, want %v", err, registry.ErrNotFound)
			}
		})
	}
	// Reading the lists of an unknown account is not an error.
	items, v, err := s.Roster(t.Context(), "localhost", "ghost")
	if err != nil || len(items) != 0 || v != 0 {
		t.Errorf("Roster(ghost): got %+v, %d, %v, want no items, version 0, nil", items, v, err)
	}
	if v, err := s.RosterVersion(t.Context(), "localhost", "ghost"); err != nil || v != 0 {
		t.Errorf("RosterVersion(ghost): got %d, %v, want 0, nil", v, err)
	}
	if n, err := s.CountRoster(t.Context(), "localhost", "ghost"); err != nil || n != 0 {
		t.Errorf("CountRoster(ghost): got %d, %v, want 0, nil", n, err)
	}
}

func testCountRoster(t *testing.T, s registry.Store) {
	mustCreate(t, s, account("localhost", "alice"))
	mustCreate(t, s, account("localhost", "bob"))
	for _, tc := range []struct {
		name string
		do   func()
		want int
	}{
		{"empty", func() {}, 0},
		{"one shown", func() { mustPutItem(t, s, item("a@example.org")) }, 1},
		{"one pending only", func() {
			it := item("b@example.org")
			it.InRoster = false
			mustPutItem(t, s, it)
		}, 1},
		{"two shown", func() { mustPutItem(t, s, item("c@example.org")) }, 2},
		{"pending promoted", func() { mustPutItem(t, s, item("b@example.org")) }, 3},
		{"shown demoted", func() {
			it := item("a@example.org")
			it.InRoster = false
			mustPutItem(t, s, it)
		}, 2},
		{"other account", func() {
			it := item("d@example.org")
			it.Username = "bob"
			mustPutItem(t, s, it)
		}, 2},
		{"deleted", func() {
			if _, err := s.DeleteRosterItem(t.Context(), "localhost", "alice", "c@example.org"); err != nil {
				t.Fatalf("DeleteRosterItem: got %v, want nil", err)
			}
		}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.do()
			n, err := s.CountRoster(t.Context(), "localhost", "alice")
			if err != nil || n != tc.want {
				t.Errorf("CountRoster: got %d, %v, want %d", n, err, tc.want)
			}
		})
	}
}

func testRosterNoAliasing(t *testing.T, s registry.Store) {
	mustCreate(t, s, account("localhost", "alice"))
	it := item("bob@example.org")
	mustPutItem(t, s, it)
	it.Groups[0] = "Scribbled" // the caller reuses its slice
	got, err := s.RosterItem(t.Context(), "localhost", "alice", "bob@example.org")
	if err != nil || !equalItems(got, item("bob@example.org")) {
		t.Fatalf("RosterItem: got %+v, %v, want %+v", got, err, item("bob@example.org"))
	}
	got.Groups[0] = "Scribbled" // the caller scribbles on a result
	items, _ := mustRoster(t, s, "localhost", "alice")
	if len(items) != 1 || !equalItems(items[0], item("bob@example.org")) {
		t.Errorf("Roster: got %+v, want [%+v]", items, item("bob@example.org"))
	}
}
