package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"junction/registry"
)

// AddOffline stores stanza for username@host unless it already holds limit
// messages, in which case the error wraps registry.ErrQuota. The count and
// the insert are one statement, so concurrent callers cannot overshoot the
// limit. An unknown account is an error wrapping registry.ErrNotFound.
func (s *Store) AddOffline(ctx context.Context, host, username, stanza string, limit int) error {
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO offline_messages (host, username, stanza, stored)
			SELECT :host, :username, :stanza, :stored
			WHERE EXISTS (SELECT 1 FROM accounts WHERE host = :host AND username = :username)
				AND (SELECT count(*) FROM offline_messages WHERE host = :host AND username = :username) < :limit`,
			sql.Named("host", host), sql.Named("username", username), sql.Named("stanza", stanza),
			sql.Named("stored", time.Now().UnixMilli()), sql.Named("limit", int64(limit)))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			return err
		}
		// Nothing stored: find out why. Only the refusal pays for this.
		if err := requireAccount(ctx, tx, host, username); err != nil {
			return err
		}
		return fmt.Errorf("%w: %d offline messages stored", registry.ErrQuota, limit)
	})
	if err != nil {
		return fmt.Errorf("store offline message for %s@%s: %w", username, host, err)
	}
	return nil
}

// OfflineMessages returns up to max messages stored for username@host (all
// of them if max <= 0), oldest first.
func (s *Store) OfflineMessages(ctx context.Context, host, username string, max int) ([]registry.OfflineMessage, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	limit := int64(max)
	if max <= 0 {
		limit = -1 // no limit in SQLite
	}
	ms, err := func() ([]registry.OfflineMessage, error) {
		rows, err := s.r.QueryContext(ctx, `SELECT id, stanza, stored FROM offline_messages
			WHERE host = :host AND username = :username ORDER BY id LIMIT :max`,
			sql.Named("host", host), sql.Named("username", username), sql.Named("max", limit))
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var ms []registry.OfflineMessage
		for rows.Next() {
			var (
				m      registry.OfflineMessage
				stored int64
			)
			if err := rows.Scan(&m.ID, &m.Stanza, &stored); err != nil {
				return nil, err
			}
			m.Stored = time.UnixMilli(stored).UTC()
			ms = append(ms, m)
		}
		return ms, rows.Err()
	}()
	if err != nil {
		return nil, fmt.Errorf("get offline messages of %s@%s: %w", username, host, err)
	}
	return ms, nil
}

// DeleteOffline deletes the messages of username@host with the given IDs in
// one statement; IDs of missing messages or of other accounts' messages are
// ignored.
func (s *Store) DeleteOffline(ctx context.Context, host, username string, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	// The IDs travel as one JSON array, so any number of them binds as a
	// single parameter.
	idsJSON, err := json.Marshal(ids)
	if err != nil {
		return fmt.Errorf("delete offline messages of %s@%s: %w", username, host, err)
	}
	err = s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM offline_messages
			WHERE host = :host AND username = :username AND id IN (SELECT value FROM json_each(:ids))`,
			sql.Named("host", host), sql.Named("username", username), sql.Named("ids", string(idsJSON)))
		return err
	})
	if err != nil {
		return fmt.Errorf("delete offline messages of %s@%s: %w", username, host, err)
	}
	return nil
}

// CountOffline counts the messages stored for username@host.
func (s *Store) CountOffline(ctx context.Context, host, username string) (int, error) {
	n, err := s.queryInt(ctx, `SELECT count(*) FROM offline_messages
		WHERE host = :host AND username = :username`, accountArgs(host, username)...)
	if err != nil {
		return 0, fmt.Errorf("count offline messages of %s@%s: %w", username, host, err)
	}
	return int(n), nil
}
