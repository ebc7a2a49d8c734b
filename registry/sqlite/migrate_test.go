package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"junction/registry"
)

// createDB makes a database at path from the SQL script schema and sets its
// user_version, as a released Junction would have left it.
func createDB(t *testing.T, path, schema string, version int) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(schema); err != nil {
		t.Fatalf("create database from schema: %v", err)
	}
	if _, err := db.Exec(fmt.Sprintf("PRAGMA user_version = %d", version)); err != nil {
		t.Fatal(err)
	}
}

// dumpSchema returns the database's schema as sorted "type name: sql" lines
// with comments removed and whitespace normalised, plus its user_version.
// Comments go before the whitespace is folded: folded, a comment would run
// to the end of its statement and hide the rest from the comparison.
func dumpSchema(t *testing.T, db *sql.DB) (string, int) {
	t.Helper()
	rows, err := db.Query(`SELECT type, name, coalesce(sql, '') FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var typ, name, text string
		if err := rows.Scan(&typ, &name, &text); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, typ+" "+name+": "+strings.Join(strings.Fields(stripComments(text)), " "))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(lines)
	v, err := userVersion(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n"), v
}

// stripComments removes SQL line comments, which SQLite keeps in
// sqlite_schema only inside a statement.
func stripComments(s string) string {
	var b strings.Builder
	for line := range strings.Lines(s) {
		if i := strings.Index(line, "--"); i >= 0 {
			line = line[:i] + "\n"
		}
		b.WriteString(line)
	}
	return b.String()
}

// TestMigrateFrozen builds a database from every frozen released schema in
// testdata, with a row in it, opens it with Open and checks that it ends up
// with exactly the schema of a fresh database and that the row survived.
func TestMigrateFrozen(t *testing.T) {
	ctx := t.Context()
	fresh, err := Open(ctx, filepath.Join(t.TempDir(), "fresh.db"))
	if err != nil {
		t.Fatal(err)
	}
	wantSchema, wantVersion := dumpSchema(t, fresh.w)
	fresh.Close()
	ms, err := loadMigrations(migrationFS)
	if err != nil {
		t.Fatal(err)
	}
	if wantVersion != len(ms) {
		t.Fatalf("fresh database: got user_version %d, want %d", wantVersion, len(ms))
	}

	frozen, err := filepath.Glob("testdata/schema_v*.sql")
	if err != nil {
		t.Fatal(err)
	}
	if len(frozen) != len(ms) {
		t.Errorf("got %d frozen schemas in testdata, want one per migration (%d): freeze the new version", len(frozen), len(ms))
	}
	// fixtures holds, per frozen version, rows written in that version's
	// schema and a check that they read back through today's Store.
	fixtures := map[int]struct {
		insert []string
		check  func(t *testing.T, s *Store)
	}{
		1: {
			insert: []string{
				`INSERT INTO accounts VALUES ('localhost', 'alice', x'01', 4096, x'02', x'03', x'04', 8192, x'05', x'06', 1700000000)`,
			},
			check: func(t *testing.T, s *Store) {
				a, err := s.Account(ctx, "localhost", "alice")
				if err != nil {
					t.Fatalf("Account after migration: got %v, want nil", err)
				}
				if a.SHA256.Iterations != 8192 || a.Created.Unix() != 1700000000 {
					t.Errorf("Account after migration: got %+v, want iterations 8192 and created 1700000000", a)
				}
			},
		},
		2: {
			insert: []string{
				`INSERT INTO accounts VALUES ('localhost', 'bob', x'01', 4096, x'02', x'03', x'04', 8192, x'05', x'06', 1700000000)`,
				`INSERT INTO roster_items VALUES ('localhost', 'bob', 'carol@example.org', 'Carol', '["Friends","Work"]', 'both', 0, 1, '<presence type="subscribe"/>', 1, 1)`,
				`INSERT INTO roster_versions VALUES ('localhost', 'bob', 7)`,
				`INSERT INTO offline_messages (host, username, stanza, stored) VALUES ('localhost', 'bob', '<message/>', 1700000000123)`,
				`INSERT INTO account_data VALUES ('localhost', 'bob', 'vcard', '<vCard xmlns="vcard-temp"/>')`,
				`INSERT INTO blocklist VALUES ('localhost', 'bob', 'spam@example.net')`,
			},
			check: func(t *testing.T, s *Store) {
				items, version, err := s.Roster(ctx, "localhost", "bob")
				if err != nil {
					t.Fatalf("Roster after migration: got %v, want nil", err)
				}
				want := registry.RosterItem{Host: "localhost", Username: "bob", Contact: "carol@example.org", Name: "Carol",
					Groups: []string{"Friends", "Work"}, Subscription: registry.SubBoth, PendingIn: true,
					PendingInStanza: `<presence type="subscribe"/>`, Approved: true, InRoster: true}
				if len(items) != 1 || !reflect.DeepEqual(items[0], want) || version != 7 {
					t.Errorf("Roster after migration: got %+v version %d, want [%+v] version 7", items, version, want)
				}
				ms, err := s.OfflineMessages(ctx, "localhost", "bob", 0)
				if err != nil || len(ms) != 1 || ms[0].Stanza != "<message/>" || ms[0].Stored.UnixMilli() != 1700000000123 {
					t.Errorf("OfflineMessages after migration: got %+v, %v, want one <message/> stored at 1700000000123 ms", ms, err)
				}
				if v, err := s.AccountData(ctx, "localhost", "bob", "vcard"); v != `<vCard xmlns="vcard-temp"/>` || err != nil {
					t.Errorf("AccountData after migration: got %q, %v, want the vCard", v, err)
				}
				if jids, err := s.BlockList(ctx, "localhost", "bob"); !slices.Equal(jids, []string{"spam@example.net"}) || err != nil {
					t.Errorf("BlockList after migration: got %q, %v, want [spam@example.net]", jids, err)
				}
			},
		},
		3: {
			insert: []string{
				`INSERT INTO rooms VALUES ('conference.localhost', 'coven', 'Coven', 'For witches', 1, 0, 1, 'cauldron', 'anyone', 50, 1, 0, 20, 'Fire burn', 'crone')`,
				`INSERT INTO room_affiliations VALUES ('conference.localhost', 'coven', 'crone@localhost', 'owner', '')`,
				`INSERT INTO room_affiliations VALUES ('conference.localhost', 'coven', 'macbeth@localhost', 'outcast', 'Treason')`,
			},
			check: func(t *testing.T, s *Store) {
				got, err := s.Room(ctx, "conference.localhost", "coven")
				want := registry.Room{Service: "conference.localhost", Name: "coven",
					Config: registry.RoomConfig{Title: "Coven", Description: "For witches", Public: true, Moderated: true,
						Password: "cauldron", WhoIs: "anyone", MaxUsers: 50, ChangeSubject: true, HistoryLength: 20},
					Subject: "Fire burn", SubjectBy: "crone",
					Affiliations: []registry.RoomAffiliation{
						{JID: "crone@localhost", Affiliation: registry.RoomOwner},
						{JID: "macbeth@localhost", Affiliation: registry.RoomOutcast, Reason: "Treason"},
					}}
				if err != nil || !reflect.DeepEqual(got, want) {
					t.Errorf("Room after migration: got %+v, %v, want %+v", got, err, want)
				}
			},
		},
	}
	for v := 1; v <= len(ms); v++ {
		t.Run(fmt.Sprintf("v%d", v), func(t *testing.T) {
			schema, err := os.ReadFile(fmt.Sprintf("testdata/schema_v%d.sql", v))
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "old.db")
			createDB(t, path, string(schema), v)
			fx, ok := fixtures[v]
			if !ok {
				t.Fatalf("no fixture rows for schema version %d: add some", v)
			}
			db, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(true)")
			if err != nil {
				t.Fatal(err)
			}
			for _, stmt := range fx.insert {
				if _, err := db.Exec(stmt); err != nil {
					db.Close()
					t.Fatalf("%s: %v", stmt, err)
				}
			}
			db.Close()

			s, err := Open(ctx, path)
			if err != nil {
				t.Fatalf("Open: got %v, want nil", err)
			}
			defer s.Close()
			gotSchema, gotVersion := dumpSchema(t, s.w)
			if gotVersion != wantVersion {
				t.Errorf("got user_version %d, want %d", gotVersion, wantVersion)
			}
			if gotSchema != wantSchema {
				t.Errorf("migrated schema:\n%s\nwant the fresh schema:\n%s", gotSchema, wantSchema)
			}
			fx.check(t, s)
		})
	}
}

func TestOpenSchemaTooNew(t *testing.T) {
	path := filepath.Join(t.TempDir(), "future.db")
	createDB(t, path, "CREATE TABLE from_the_future (x INTEGER)", 1000)
	s, err := Open(t.Context(), path)
	if err == nil {
		s.Close()
	}
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("Open: got %v, want %v", err, ErrSchemaTooNew)
	}
	if !strings.Contains(err.Error(), "1000") {
		t.Errorf("Open: got %q, want the error to name version 1000", err)
	}
}

// TestMigrateFailureRollsBack checks that a failing migration leaves the
// database at the previous version with none of the failed step applied.
func TestMigrateFailureRollsBack(t *testing.T) {
	ctx := t.Context()
	fsys := fstest.MapFS{
		"migrations/0001_a.sql": {Data: []byte("CREATE TABLE a (x INTEGER);")},
		"migrations/0002_b.sql": {Data: []byte("CREATE TABLE b (x INTEGER); INSERT INTO nonexistent VALUES (1);")},
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "m.db")+"?"+dsnPragmas)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = migrate(ctx, db, fsys)
	if err == nil || !strings.Contains(err.Error(), "0002_b.sql") {
		t.Fatalf("migrate: got %v, want an error naming 0002_b.sql", err)
	}
	schema, v := dumpSchema(t, db)
	if v != 1 {
		t.Errorf("got user_version %d, want 1", v)
	}
	if want := "table a: CREATE TABLE a (x INTEGER)"; schema != want {
		t.Errorf("got schema %q, want %q", schema, want)
	}
}

func TestLoadMigrations(t *testing.T) {
	for _, tc := range []struct {
		name    string
		files   []string
		want    []int
		wantErr string
	}{
		{"not contiguous", []string{"0002_b.sql", "0001_a.sql", "0010_c.sql"}, nil, "got version 10, want 3"},
		{"sorted", []string{"0002_b.sql", "0001_a.sql", "0003_c.sql"}, []int{1, 2, 3}, ""},
		{"gap", []string{"0001_a.sql", "0003_c.sql"}, nil, "got version 3, want 2"},
		{"duplicate", []string{"0001_a.sql", "0001_b.sql"}, nil, "want 2"},
		{"bad name", []string{"first.sql"}, nil, "positive version number"},
		{"zero", []string{"0000_a.sql"}, nil, "positive version number"},
		{"none", nil, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for _, f := range tc.files {
				fsys["migrations/"+f] = &fstest.MapFile{Data: []byte("SELECT 1;")}
			}
			ms, err := loadMigrations(fsys)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want an error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("got %v, want nil", err)
			}
			var got []int
			for _, m := range ms {
				got = append(got, m.version)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got versions %v, want %v", got, tc.want)
			}
		})
	}
}

// TestPragmas checks that every connection of both pools runs with the
// settings the DSN asks for.
func TestPragmas(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, tc := range []struct {
		pool   string
		db     *sql.DB
		pragma string
		want   string
	}{
		{"writer", s.w, "journal_mode", "wal"},
		{"writer", s.w, "foreign_keys", "1"},
		{"writer", s.w, "busy_timeout", "5000"},
		{"writer", s.w, "synchronous", "1"},
		{"writer", s.w, "query_only", "0"},
		{"reader", s.r, "journal_mode", "wal"},
		{"reader", s.r, "foreign_keys", "1"},
		{"reader", s.r, "busy_timeout", "5000"},
		{"reader", s.r, "query_only", "1"},
	} {
		t.Run(tc.pool+"/"+tc.pragma, func(t *testing.T) {
			var got string
			if err := tc.db.QueryRow("PRAGMA " + tc.pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("PRAGMA %s: got %q, want %q", tc.pragma, got, tc.want)
			}
		})
	}
}
