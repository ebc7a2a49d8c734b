package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"junction/registry"
)

const rosterColumns = `host, username, contact, name, groups_json, subscription,
	ask, pending_in, pending_in_stanza, approved, in_roster`

// Roster returns every item of username@host sorted by contact and the roster
// version, both from one snapshot. An unknown account has no items and
// version 0.
func (s *Store) Roster(ctx context.Context, host, username string) ([]registry.RosterItem, int64, error) {
	var (
		items   []registry.RosterItem
		version int64
	)
	err := s.readTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+rosterColumns+` FROM roster_items
			WHERE host = :host AND username = :username ORDER BY contact`, accountArgs(host, username)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			it, err := scanRosterItem(rows)
			if err != nil {
				return err
			}
			items = append(items, it)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		version, err = rosterVersion(ctx, tx, host, username)
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("get roster of %s@%s: %w", username, host, err)
	}
	return items, version, nil
}

// RosterItem returns the item for contact in the roster of username@host or
// an error wrapping registry.ErrNotFound.
func (s *Store) RosterItem(ctx context.Context, host, username, contact string) (registry.RosterItem, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	row := s.r.QueryRowContext(ctx, `SELECT `+rosterColumns+` FROM roster_items
		WHERE host = :host AND username = :username AND contact = :contact`,
		sql.Named("host", host), sql.Named("username", username), sql.Named("contact", contact))
	it, err := scanRosterItem(row)
	if errors.Is(err, sql.ErrNoRows) {
		err = registry.ErrNotFound
	}
	if err != nil {
		return registry.RosterItem{}, fmt.Errorf("get roster item %s of %s@%s: %w", contact, username, host, err)
	}
	return it, nil
}

// PutRosterItem inserts or replaces it and returns the roster version after
// the change. An unknown account is an error wrapping registry.ErrNotFound.
func (s *Store) PutRosterItem(ctx context.Context, it registry.RosterItem) (int64, error) {
	var version int64
	err := func() error {
		sub := it.Subscription
		switch sub {
		case "":
			sub = registry.SubNone
		case registry.SubNone, registry.SubTo, registry.SubFrom, registry.SubBoth:
		default:
			return fmt.Errorf("unknown subscription %q", sub)
		}
		groups := it.Groups
		if groups == nil {
			groups = []string{}
		}
		groupsJSON, err := json.Marshal(groups)
		if err != nil {
			return fmt.Errorf("encode groups: %w", err)
		}
		args := []any{
			sql.Named("host", it.Host),
			sql.Named("username", it.Username),
			sql.Named("contact", it.Contact),
			sql.Named("name", it.Name),
			sql.Named("groups_json", string(groupsJSON)),
			sql.Named("subscription", string(sub)),
			sql.Named("ask", it.Ask),
			sql.Named("pending_in", it.PendingIn),
			sql.Named("pending_in_stanza", it.PendingInStanza),
			sql.Named("approved", it.Approved),
			sql.Named("in_roster", it.InRoster),
		}
		return s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
			if err := requireAccount(ctx, tx, it.Host, it.Username); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO roster_items (`+rosterColumns+`)
				VALUES (:host, :username, :contact, :name, :groups_json, :subscription,
					:ask, :pending_in, :pending_in_stanza, :approved, :in_roster)
				ON CONFLICT (host, username, contact) DO UPDATE SET
					name = excluded.name, groups_json = excluded.groups_json,
					subscription = excluded.subscription, ask = excluded.ask,
					pending_in = excluded.pending_in, pending_in_stanza = excluded.pending_in_stanza,
					approved = excluded.approved, in_roster = excluded.in_roster`, args...)
			if err != nil {
				return err
			}
			version, err = bumpRosterVersion(ctx, tx, it.Host, it.Username)
			return err
		})
	}()
	if err != nil {
		return 0, fmt.Errorf("put roster item %s of %s@%s: %w", it.Contact, it.Username, it.Host, err)
	}
	return version, nil
}

// DeleteRosterItem removes the item for contact and returns the roster
// version after the change, or an error wrapping registry.ErrNotFound if
// there was no such item.
func (s *Store) DeleteRosterItem(ctx context.Context, host, username, contact string) (int64, error) {
	var version int64
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM roster_items
			WHERE host = :host AND username = :username AND contact = :contact`,
			sql.Named("host", host), sql.Named("username", username), sql.Named("contact", contact))
		if err != nil {
			return err
		}
		if err := mustAffect(res, registry.ErrNotFound); err != nil {
			return err
		}
		version, err = bumpRosterVersion(ctx, tx, host, username)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("delete roster item %s of %s@%s: %w", contact, username, host, err)
	}
	return version, nil
}

// RosterVersion returns the roster version of username@host, 0 if its roster
// never changed or the account is unknown.
func (s *Store) RosterVersion(ctx context.Context, host, username string) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	v, err := rosterVersion(ctx, s.r, host, username)
	if err != nil {
		return 0, fmt.Errorf("get roster version of %s@%s: %w", username, host, err)
	}
	return v, nil
}

// CountRoster counts the items of username@host that are shown in the roster.
func (s *Store) CountRoster(ctx context.Context, host, username string) (int, error) {
	n, err := s.queryInt(ctx, `SELECT count(*) FROM roster_items
		WHERE host = :host AND username = :username AND in_roster = 1`, accountArgs(host, username)...)
	if err != nil {
		return 0, fmt.Errorf("count roster of %s@%s: %w", username, host, err)
	}
	return int(n), nil
}

// rosterVersion reads the roster version through q, 0 if there is none.
func rosterVersion(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, host, username string) (int64, error) {
	var v int64
	err := q.QueryRowContext(ctx, `SELECT coalesce(
			(SELECT version FROM roster_versions WHERE host = :host AND username = :username), 0)`,
		accountArgs(host, username)...).Scan(&v)
	return v, err
}

// bumpRosterVersion adds one to the roster version of username@host, which
// must exist, and returns the new version.
func bumpRosterVersion(ctx context.Context, tx *sql.Tx, host, username string) (int64, error) {
	var v int64
	err := tx.QueryRowContext(ctx, `INSERT INTO roster_versions (host, username, version)
		VALUES (:host, :username, 1)
		ON CONFLICT (host, username) DO UPDATE SET version = version + 1
		RETURNING version`, accountArgs(host, username)...).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("bump roster version: %w", err)
	}
	return v, nil
}

// scanRosterItem reads one row selected with rosterColumns.
func scanRosterItem(row interface{ Scan(...any) error }) (registry.RosterItem, error) {
	var (
		it         registry.RosterItem
		groupsJSON string
		sub        string
	)
	err := row.Scan(&it.Host, &it.Username, &it.Contact, &it.Name, &groupsJSON, &sub,
		&it.Ask, &it.PendingIn, &it.PendingInStanza, &it.Approved, &it.InRoster)
	if err != nil {
		return registry.RosterItem{}, err
	}
	it.Subscription = registry.Subscription(sub)
	if err := json.Unmarshal([]byte(groupsJSON), &it.Groups); err != nil {
		return registry.RosterItem{}, fmt.Errorf("decode groups of roster item %s: %w", it.Contact, err)
	}
	if len(it.Groups) == 0 {
		it.Groups = nil
	}
	return it, nil
}
