package registrytest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"junction/registry"
)

// msg returns a recognisable message stanza numbered i.
func msg(i int) string {
	return fmt.Sprintf(`<message from="bob@example.org/phone" to="alice@localhost" id="m%d"><body>hello %d &amp; ✓</body></message>`, i, i)
}

func mustAddOffline(t *testing.T, s registry.Store, host, username, stanza string) {
	t.Helper()
	if err := s.AddOffline(t.Context(), host, username, stanza, 1000); err != nil {
		t.Fatalf("AddOffline(%s@%s): got %v, want nil", username, host, err)
	}
}

func mustOffline(t *testing.T, s registry.Store, host, username string, max int) []registry.OfflineMessage {
	t.Helper()
	ms, err := s.OfflineMessages(t.Context(), host, username, max)
	if err != nil {
		t.Fatalf("OfflineMessages(%s@%s, %d): got %v, want nil", username, host, max, err)
	}
	return ms
}

// stanzas returns the Stanza of each message.
func stanzas(ms []registry.OfflineMessage) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Stanza)
	}
	return out
}

func testOfflineRoundTrip(t *testing.T, s registry.Store) {
	mustCreate(t, s, account("localhost", "alice"))
	mustCreate(t, s, account("localhost", "bob"))
	before := time.Now()
	for i := range 5 {
		mustAddOffline(t, s, "localhost", "alice", msg(i))
	}
	mustAddOffline(t, s, "localhost", "bob", msg(100))
	after := time.Now()

	all := mustOffline(t, s, "localhost", "alice", 0)
	if got, want := stanzas(all), []string{msg(0), msg(1), msg(2), msg(3), msg(4)}; !slices.Equal(got, want) {
		t.Fatalf("OfflineMessages(max 0): got %q, want %q (all, oldest first)", got, want)
	}
	for i, m := range all {
		if i > 0 && m.ID <= all[i-1].ID {
			t.Errorf("message %d: got ID %d after %d, want increasing IDs", i, m.ID, all[i-1].ID)
		}
		if m.Stored.Before(before.Truncate(time.Millisecond)) || m.Stored.After(after) {
			t.Errorf("message %d: got Stored %v, want between %v and %v", i, m.Stored, before, after)
		}
		if m.Stored.Location() != time.UTC {
			t.Errorf("message %d: got Stored in %v, want UTC", i, m.Stored.Location())
		}
	}
	for _, tc := range []struct {
		max  int
		want int
	}{
		{-1, 5},
		{0, 5},
		{1, 1},
		{3, 3},
		{5, 5},
		{6, 5},
	} {
		t.Run(fmt.Sprintf("max %d", tc.max), func(t *testing.T) {
			got := mustOffline(t, s, "localhost", "alice", tc.max)
			if !slices.Equal(got, all[:tc.want]) {
				t.Errorf("got %+v, want the oldest %d: %+v", got, tc.want, all[:tc.want])
			}
		})
	}
	if n, err := s.CountOffline(t.Context(), "localhost", "alice"); err != nil || n != 5 {
		t.Errorf("CountOffline(alice): got %d, %v, want 5", n, err)
	}
	if got := stanzas(mustOffline(t, s, "localhost", "bob", 0)); !slices.Equal(got, []string{msg(100)}) {
		t.Errorf("OfflineMessages(bob): got %q, want %q", got, []string{msg(100)})
	}
}

func testOfflineQuota(t *testing.T, s registry.Store) {
	mustCreate(t, s, account("localhost", "alice"))
	mustCreate(t, s, account("localhost", "bob"))
	for _, tc := range []struct {
		name      string
		username  string
		limit     int
		wantErr   error
		wantCount int // alice's count afterwards
	}{
		{"first", "alice", 3, nil, 1},
		{"second", "alice", 3, nil, 2},
		{"third fills", "alice", 3, nil, 3},
		{"fourth over", "alice", 3, registry.ErrQuota, 3},
		{"fifth over", "alice", 3, registry.ErrQuota, 3},
		{"limit raised", "alice", 4, nil, 4},
		{"limit lowered", "alice", 2, registry.ErrQuota, 4},
		{"limit zero", "bob", 0, registry.ErrQuota, 4},
		{"limit negative", "bob", -1, registry.ErrQuota, 4},
		{"other account has room", "bob", 1, nil, 4},
		{"other account full", "bob", 1, registry.ErrQuota, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.AddOffline(t.Context(), "localhost", tc.username, msg(0), tc.limit)
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("AddOffline(%s, limit %d): got %v, want %v", tc.username, tc.limit, err, tc.wantErr)
			}
			if n, err := s.CountOffline(t.Context(), "localhost", "alice"); err != nil || n != tc.wantCount {
				t.Errorf("CountOffline(alice): got %d, %v, want %d", n, err, tc.wantCount)
			}
		})
	}
	// Delivering (deleting) makes room again.
	ms := mustOffline(t, s, "localhost", "alice", 1)
	if err := s.DeleteOffline(t.Context(), "localhost", "alice", []int64{ms[0].ID}); err != nil {
		t.Fatalf("DeleteOffline: got %v, want nil", err)
	}
	if err := s.AddOffline(t.Context(), "localhost", "alice", msg(1), 4); err != nil {
		t.Errorf("AddOffline after delete: got %v, want nil", err)
	}
}

func testOfflineDelete(t *testing.T, s registry.Store) {
	mustCreate(t, s, account("localhost", "alice"))
	mustCreate(t, s, account("localhost", "bob"))
	for i := range 6 {
		mustAddOffline(t, s, "localhost", "alice", msg(i))
	}
	mustAddOffline(t, s, "localhost", "bob", msg(100))
	alice := mustOffline(t, s, "localhost", "alice", 0)
	bob := mustOffline(t, s, "localhost", "bob", 0)
	maxID := max(alice[len(alice)-1].ID, bob[0].ID)
	for _, tc := range []struct {
		name string
		ids  []int64
		want []string // alice's remaining stanzas
	}{
		{"nil", nil, []string{msg(0), msg(1), msg(2), msg(3), msg(4), msg(5)}},
		{"empty", []int64{}, []string{msg(0), msg(1), msg(2), msg(3), msg(4), msg(5)}},
		{"one", []int64{alice[2].ID}, []string{msg(0), msg(1), msg(3), msg(4), msg(5)}},
		{"some, out of order, repeated", []int64{alice[4].ID, alice[0].ID, alice[4].ID}, []string{msg(1), msg(3), msg(5)}},
		{"already deleted and never existed", []int64{alice[2].ID, maxID + 1000, -1, 0}, []string{msg(1), msg(3), msg(5)}},
		{"another account's", []int64{bob[0].ID}, []string{msg(1), msg(3), msg(5)}},
		{"the rest", []int64{alice[1].ID, alice[3].ID, alice[5].ID}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.DeleteOffline(t.Context(), "localhost", "alice", tc.ids); err != nil {
				t.Fatalf("DeleteOffline(%v): got %v, want nil", tc.ids, err)
			}
			if got := stanzas(mustOffline(t, s, "localhost", "alice", 0)); !slices.Equal(got, tc.want) {
				t.Errorf("OfflineMessages: got %q, want %q", got, tc.want)
			}
		})
	}
	if got := stanzas(mustOffline(t, s, "localhost", "bob", 0)); !slices.Equal(got, []string{msg(100)}) {
		t.Errorf("OfflineMessages(bob): got %q, want %q", got, []string{msg(100)})
	}
	// IDs are not reused: a stale delete cannot hit a newer message.
	mustAddOffline(t, s, "localhost", "alice", msg(6))
	if ms := mustOffline(t, s, "localhost", "alice", 0); len(ms) != 1 || ms[0].ID <= maxID {
		t.Errorf("OfflineMessages after delete and add: got %+v, want one message with ID > %d", ms, maxID)
	}
}

func testOfflineNotFound(t *testing.T, s registry.Store) {
	mustCreate(t, s, account("localhost", "alice"))
	for _, tc := range []struct {
		name, host, username string
		limit                int
	}{
		{"unknown user", "localhost", "ghost", 10},
		{"unknown host", "example.org", "alice", 10},
		{"unknown user, no room either", "localhost", "ghost", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.AddOffline(t.Context(), tc.host, tc.username, msg(0), tc.limit)
			if !errors.Is(err, registry.ErrNotFound) {
				t.Errorf("AddOffline: got %v, want %v", err, registry.ErrNotFound)
			}
			// Reading or deleting an unknown account's messages is not an error.
			if ms, err := s.OfflineMessages(t.Context(), tc.host, tc.username, 0); err != nil || len(ms) != 0 {
				t.Errorf("OfflineMessages: got %+v, %v, want none, nil", ms, err)
			}
			if n, err := s.CountOffline(t.Context(), tc.host, tc.username); err != nil || n != 0 {
				t.Errorf("CountOffline: got %d, %v, want 0, nil", n, err)
			}
			if err := s.DeleteOffline(t.Context(), tc.host, tc.username, []int64{1}); err != nil {
				t.Errorf("DeleteOffline: got %v, want nil", err)
			}
		})
	}
}

func testOfflineConcurrent(t *testing.T, s registry.Store) {
	const (
		workers = 20
		limit   = 10
	)
	mustCreate(t, s, account("localhost", "alice"))
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		stored  int
		refused int
		unknown []error
	)
	for w := range workers {
		wg.Go(func() {
			err := s.AddOffline(t.Context(), "localhost", "alice", msg(w), limit)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				stored++
			case errors.Is(err, registry.ErrQuota):
				refused++
			default:
				unknown = append(unknown, err)
			}
		})
	}
	wg.Wait()
	for _, err := range unknown {
		t.Errorf("concurrent AddOffline: got %v, want nil or %v", err, registry.ErrQuota)
	}
	if stored != limit || refused != workers-limit {
		t.Errorf("concurrent AddOffline: got %d stored and %d ErrQuota, want %d and %d", stored, refused, limit, workers-limit)
	}
	if n, err := s.CountOffline(t.Context(), "localhost", "alice"); err != nil || n != limit {
		t.Errorf("CountOffline: got %d, %v, want %d", n, err, limit)
	}
}
