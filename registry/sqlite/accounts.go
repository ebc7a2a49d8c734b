package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"junction/registry"
)

const accountColumns = `host, username,
	sha1_salt, sha1_iterations, sha1_stored_key, sha1_server_key,
	sha256_salt, sha256_iterations, sha256_stored_key, sha256_server_key,
	created`

// blob returns b as a non-nil slice: the driver binds a nil slice as NULL,
// which the NOT NULL key columns refuse, while an absent key is just empty.
func blob(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// keyArgs returns the named arguments for one hash function's keys, with
// column names starting with prefix ("sha1" or "sha256").
func keyArgs(prefix string, k registry.SCRAMKeys) []any {
	return []any{
		sql.Named(prefix+"_salt", blob(k.Salt)),
		sql.Named(prefix+"_iterations", int64(k.Iterations)),
		sql.Named(prefix+"_stored_key", blob(k.StoredKey)),
		sql.Named(prefix+"_server_key", blob(k.ServerKey)),
	}
}

// CreateAccount stores a; an account with the same host and username makes it
// fail with registry.ErrExists. Created is stored at one-second precision.
func (s *Store) CreateAccount(ctx context.Context, a registry.Account) error {
	args := []any{
		sql.Named("host", a.Host),
		sql.Named("username", a.Username),
		sql.Named("created", a.Created.Unix()),
	}
	args = append(args, keyArgs("sha1", a.SHA1)...)
	args = append(args, keyArgs("sha256", a.SHA256)...)
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO accounts (`+accountColumns+`)
			VALUES (:host, :username,
				:sha1_salt, :sha1_iterations, :sha1_stored_key, :sha1_server_key,
				:sha256_salt, :sha256_iterations, :sha256_stored_key, :sha256_server_key,
				:created)
			ON CONFLICT (host, username) DO NOTHING`, args...)
		if err != nil {
			return err
		}
		return mustAffect(res, registry.ErrExists)
	})
	if err != nil {
		return fmt.Errorf("create account %s@%s: %w", a.Username, a.Host, err)
	}
	return nil
}

// Account returns username@host or an error wrapping registry.ErrNotFound.
func (s *Store) Account(ctx context.Context, host, username string) (registry.Account, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	row := s.r.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts
		WHERE host = :host AND username = :username`,
		sql.Named("host", host), sql.Named("username", username))
	a, err := scanAccount(row)
	if errors.Is(err, sql.ErrNoRows) {
		err = registry.ErrNotFound
	}
	if err != nil {
		return registry.Account{}, fmt.Errorf("get account %s@%s: %w", username, host, err)
	}
	return a, nil
}

// SetAccountKeys replaces the SCRAM keys of username@host or returns an error
// wrapping registry.ErrNotFound.
func (s *Store) SetAccountKeys(ctx context.Context, host, username string, sha1, sha256 registry.SCRAMKeys) error {
	args := []any{sql.Named("host", host), sql.Named("username", username)}
	args = append(args, keyArgs("sha1", sha1)...)
	args = append(args, keyArgs("sha256", sha256)...)
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE accounts SET
				sha1_salt = :sha1_salt, sha1_iterations = :sha1_iterations,
				sha1_stored_key = :sha1_stored_key, sha1_server_key = :sha1_server_key,
				sha256_salt = :sha256_salt, sha256_iterations = :sha256_iterations,
				sha256_stored_key = :sha256_stored_key, sha256_server_key = :sha256_server_key
			WHERE host = :host AND username = :username`, args...)
		if err != nil {
			return err
		}
		return mustAffect(res, registry.ErrNotFound)
	})
	if err != nil {
		return fmt.Errorf("set keys of account %s@%s: %w", username, host, err)
	}
	return nil
}

// DeleteAccount removes username@host in one transaction; rows of other
// tables that belong to the account go with it through ON DELETE CASCADE.
// An absent account is an error wrapping registry.ErrNotFound.
func (s *Store) DeleteAccount(ctx context.Context, host, username string) error {
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM accounts WHERE host = :host AND username = :username`,
			sql.Named("host", host), sql.Named("username", username))
		if err != nil {
			return err
		}
		return mustAffect(res, registry.ErrNotFound)
	})
	if err != nil {
		return fmt.Errorf("delete account %s@%s: %w", username, host, err)
	}
	return nil
}

// Accounts lists the accounts of host sorted by username.
func (s *Store) Accounts(ctx context.Context, host string) ([]registry.Account, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	rows, err := s.r.QueryContext(ctx, `SELECT `+accountColumns+` FROM accounts
		WHERE host = :host ORDER BY username`, sql.Named("host", host))
	if err != nil {
		return nil, fmt.Errorf("list accounts of %s: %w", host, err)
	}
	defer rows.Close()
	var as []registry.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("list accounts of %s: %w", host, err)
		}
		as = append(as, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list accounts of %s: %w", host, err)
	}
	return as, nil
}

// scanAccount reads one row selected with accountColumns.
func scanAccount(row interface{ Scan(...any) error }) (registry.Account, error) {
	var (
		a       registry.Account
		created int64
	)
	err := row.Scan(&a.Host, &a.Username,
		&a.SHA1.Salt, &a.SHA1.Iterations, &a.SHA1.StoredKey, &a.SHA1.ServerKey,
		&a.SHA256.Salt, &a.SHA256.Iterations, &a.SHA256.StoredKey, &a.SHA256.ServerKey,
		&created)
	if err != nil {
		return registry.Account{}, err
	}
	a.Created = time.Unix(created, 0).UTC()
	return a, nil
}

// mustAffect returns errNone unless res changed at least one row.
func mustAffect(res sql.Result, errNone error) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return errNone
	}
	return nil
}
