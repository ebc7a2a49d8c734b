package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"junction/registry"
)

// AccountData returns the value stored under key for username@host or an
// error wrapping registry.ErrNotFound.
func (s *Store) AccountData(ctx context.Context, host, username, key string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	var v string
	err := s.r.QueryRowContext(ctx, `SELECT value FROM account_data
		WHERE host = :host AND username = :username AND key = :key`,
		sql.Named("host", host), sql.Named("username", username), sql.Named("key", key)).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		err = registry.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("get account data %q of %s@%s: %w", key, username, host, err)
	}
	return v, nil
}

// SetAccountData stores value under key for username@host, replacing any
// previous value; an empty value deletes the key. An unknown account is an
// error wrapping registry.ErrNotFound.
func (s *Store) SetAccountData(ctx context.Context, host, username, key, value string) error {
	args := []any{sql.Named("host", host), sql.Named("username", username),
		sql.Named("key", key), sql.Named("value", value)}
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := requireAccount(ctx, tx, host, username); err != nil {
			return err
		}
		var err error
		if value == "" {
			_, err = tx.ExecContext(ctx, `DELETE FROM account_data
				WHERE host = :host AND username = :username AND key = :key`, args...)
		} else {
			_, err = tx.ExecContext(ctx, `INSERT INTO account_data (host, username, key, value)
				VALUES (:host, :username, :key, :value)
				ON CONFLICT (host, username, key) DO UPDATE SET value = excluded.value`, args...)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("set account data %q of %s@%s: %w", key, username, host, err)
	}
	return nil
}
