// Package sqlite is the registry.Store on SQLite (modernc.org/sqlite, pure
// Go): one database file in WAL mode, an embedded schema upgraded by numbered
// migrations whose version lives in PRAGMA user_version, and a timeout on
// every query.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"time"

	"junction/registry"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

const (
	// queryTimeout bounds every query on top of the caller's context, so a
	// wedged database cannot hold a connection or a stanza forever.
	queryTimeout = 5 * time.Second
	// migrateTimeout bounds applying all pending migrations at Open.
	migrateTimeout = 5 * time.Minute

	// dsnPragmas is applied to every connection. _txlock=immediate makes a
	// write transaction take the write lock at BEGIN, so two writers wait on
	// busy_timeout instead of failing with SQLITE_BUSY halfway through.
	dsnPragmas = "_pragma=foreign_keys(true)&_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	// readerPragmas is applied to the read-only pool. The journal mode is
	// left alone: WAL is a property of the file, set by the writer.
	readerPragmas = "_pragma=foreign_keys(true)&_pragma=busy_timeout(5000)&_pragma=synchronous(NORMAL)&_pragma=query_only(true)"
)

// ErrSchemaTooNew is returned by Open for a database written by a newer
// Junction whose schema this build does not know.
var ErrSchemaTooNew = errors.New("sqlite: database schema is newer than this program")

// Store is a registry.Store kept in one SQLite database file.
//
// SQLite allows one writer at a time, so writes go through a pool of exactly
// one connection and queue in Go rather than spinning on SQLITE_BUSY; reads
// use a separate read-only pool that, thanks to WAL, never waits for the writer.
type Store struct {
	w *sql.DB // the single writer connection
	r *sql.DB // read-only connections
}

var _ registry.Store = (*Store)(nil)

// Open opens the database at path, creating the file (but not its parent
// directory) if it is missing, and applies any pending migrations. A database
// with a newer schema than this build knows fails with ErrSchemaTooNew.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("sqlite: open: empty database path")
	}
	w, err := openPool(path, dsnPragmas)
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)

	mctx, cancel := context.WithTimeout(ctx, migrateTimeout)
	defer cancel()
	if err := migrate(mctx, w, migrationFS); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}

	r, err := openPool(path, readerPragmas)
	if err != nil {
		w.Close()
		return nil, err
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	r.SetConnMaxIdleTime(5 * time.Minute)
	if err := r.PingContext(ctx); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s for reading: %w", path, err)
	}
	return &Store{w: w, r: r}, nil
}

// openPool returns a pool on path with the given DSN parameters. The path is
// passed as a file: URI with its special characters escaped, so names holding
// '?', '#' or '%' address the file they spell.
func openPool(path, params string) (*sql.DB, error) {
	u := url.URL{Path: path}
	dsn := "file:" + u.EscapedPath() + "?" + params
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return db, nil
}

// Close runs PRAGMA optimize and closes both pools.
func (s *Store) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), queryTimeout)
	defer cancel()
	_, optErr := s.w.ExecContext(ctx, "PRAGMA optimize")
	if optErr != nil {
		optErr = fmt.Errorf("sqlite: optimize: %w", optErr)
	}
	return errors.Join(optErr, s.r.Close(), s.w.Close())
}

// inTx runs f in one write transaction (BEGIN IMMEDIATE) bounded by
// queryTimeout, committing if f returns nil and rolling back otherwise.
func (s *Store) inTx(ctx context.Context, f func(ctx context.Context, tx *sql.Tx) error) error {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := f(ctx, tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// readTx runs f in one read transaction on the reader pool, bounded by
// queryTimeout, so that all of f's queries see the same snapshot.
func (s *Store) readTx(ctx context.Context, f func(ctx context.Context, tx *sql.Tx) error) error {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	return f(ctx, tx)
}

// queryInt runs a query returning one integer on the reader pool, bounded by
// queryTimeout.
func (s *Store) queryInt(ctx context.Context, query string, args ...any) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	var n int64
	if err := s.r.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
		return 0, err
	}
	return n, nil
}

// accountArgs returns the named arguments :host and :username.
func accountArgs(host, username string) []any {
	return []any{sql.Named("host", host), sql.Named("username", username)}
}

// requireAccount returns registry.ErrNotFound unless username@host exists.
// Writers call it inside their transaction before touching a table that
// references accounts, so a missing account reads as not found rather than
// as a foreign key violation.
func requireAccount(ctx context.Context, tx *sql.Tx, host, username string) error {
	var exists bool
	err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM accounts WHERE host = :host AND username = :username)`,
		accountArgs(host, username)...).Scan(&exists)
	if err != nil {
		return err
	}
	if !exists {
		return fmt.Errorf("account %s@%s: %w", username, host, registry.ErrNotFound)
	}
	return nil
}
