package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
)

// BlockList returns the JIDs username@host has blocked, sorted.
func (s *Store) BlockList(ctx context.Context, host, username string) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	jids, err := func() ([]string, error) {
		rows, err := s.r.QueryContext(ctx, `SELECT jid FROM blocklist
			WHERE host = :host AND username = :username ORDER BY jid`, accountArgs(host, username)...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var jids []string
		for rows.Next() {
			var j string
			if err := rows.Scan(&j); err != nil {
				return nil, err
			}
			jids = append(jids, j)
		}
		return jids, rows.Err()
	}()
	if err != nil {
		return nil, fmt.Errorf("get block list of %s@%s: %w", username, host, err)
	}
	return jids, nil
}

// Block adds jids to the block list of username@host; JIDs already blocked
// are ignored. An unknown account is an error wrapping registry.ErrNotFound.
func (s *Store) Block(ctx context.Context, host, username string, jids []string) error {
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := requireAccount(ctx, tx, host, username); err != nil {
			return err
		}
		if len(jids) == 0 {
			return nil
		}
		list, err := json.Marshal(jids)
		if err != nil {
			return err
		}
		// "WHERE true" keeps SQLite from reading ON CONFLICT as a join constraint.
		_, err = tx.ExecContext(ctx, `INSERT INTO blocklist (host, username, jid)
			SELECT :host, :username, value FROM json_each(:jids) WHERE true
			ON CONFLICT (host, username, jid) DO NOTHING`,
			sql.Named("host", host), sql.Named("username", username), sql.Named("jids", string(list)))
		return err
	})
	if err != nil {
		return fmt.Errorf("block %d JIDs for %s@%s: %w", len(jids), username, host, err)
	}
	return nil
}

// Unblock removes jids from the block list of username@host, or every JID if
// jids is empty; JIDs not on the list are ignored. An unknown account is an
// error wrapping registry.ErrNotFound.
func (s *Store) Unblock(ctx context.Context, host, username string, jids []string) error {
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := requireAccount(ctx, tx, host, username); err != nil {
			return err
		}
		if len(jids) == 0 {
			_, err := tx.ExecContext(ctx, `DELETE FROM blocklist WHERE host = :host AND username = :username`,
				accountArgs(host, username)...)
			return err
		}
		list, err := json.Marshal(jids)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM blocklist
			WHERE host = :host AND username = :username AND jid IN (SELECT value FROM json_each(:jids))`,
			sql.Named("host", host), sql.Named("username", username), sql.Named("jids", string(list)))
		return err
	})
	if err != nil {
		return fmt.Errorf("unblock %d JIDs for %s@%s: %w", len(jids), username, host, err)
	}
	return nil
}
