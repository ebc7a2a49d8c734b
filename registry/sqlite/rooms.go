package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"junction/registry"
)

// roomColumns are the rooms columns in the order scanRoom reads them.
const roomColumns = `service, name, title, description, public, members_only, moderated, password,
	whois, max_users, change_subject, allow_invites, history_length, subject, subject_by`

type rowScanner interface{ Scan(dest ...any) error }

func scanRoom(row rowScanner) (registry.Room, error) {
	var r registry.Room
	c := &r.Config
	err := row.Scan(&r.Service, &r.Name, &c.Title, &c.Description, &c.Public, &c.MembersOnly, &c.Moderated,
		&c.Password, &c.WhoIs, &c.MaxUsers, &c.ChangeSubject, &c.AllowInvites, &c.HistoryLength, &r.Subject, &r.SubjectBy)
	return r, err
}

// loadAffiliations fills the Affiliations of rooms (all of one service) in
// one query.
func loadAffiliations(ctx context.Context, tx *sql.Tx, service string, rooms []registry.Room, only string) error {
	byName := make(map[string]*registry.Room, len(rooms))
	for i := range rooms {
		byName[rooms[i].Name] = &rooms[i]
	}
	q := `SELECT name, jid, affiliation, reason FROM room_affiliations WHERE service = :service`
	args := []any{sql.Named("service", service)}
	if only != "" {
		q += ` AND name = :name`
		args = append(args, sql.Named("name", only))
	}
	rows, err := tx.QueryContext(ctx, q+` ORDER BY name, jid`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var a registry.RoomAffiliation
		if err := rows.Scan(&name, &a.JID, &a.Affiliation, &a.Reason); err != nil {
			return err
		}
		if r := byName[name]; r != nil {
			r.Affiliations = append(r.Affiliations, a)
		}
	}
	return rows.Err()
}

// Rooms returns the rooms of service with their affiliations, sorted by name.
func (s *Store) Rooms(ctx context.Context, service string) ([]registry.Room, error) {
	var rooms []registry.Room
	err := s.readTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+roomColumns+` FROM rooms WHERE service = :service ORDER BY name`,
			sql.Named("service", service))
		if err != nil {
			return err
		}
		for rows.Next() {
			r, err := scanRoom(rows)
			if err != nil {
				rows.Close()
				return err
			}
			rooms = append(rooms, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		return loadAffiliations(ctx, tx, service, rooms, "")
	})
	if err != nil {
		return nil, fmt.Errorf("get rooms of %s: %w", service, err)
	}
	return rooms, nil
}

// Room returns the room name@service or an error wrapping registry.ErrNotFound.
func (s *Store) Room(ctx context.Context, service, name string) (registry.Room, error) {
	var r registry.Room
	err := s.readTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		r, err = scanRoom(tx.QueryRowContext(ctx, `SELECT `+roomColumns+` FROM rooms WHERE service = :service AND name = :name`,
			sql.Named("service", service), sql.Named("name", name)))
		if errors.Is(err, sql.ErrNoRows) {
			return registry.ErrNotFound
		}
		if err != nil {
			return err
		}
		rooms := []registry.Room{r}
		if err := loadAffiliations(ctx, tx, service, rooms, name); err != nil {
			return err
		}
		r = rooms[0]
		return nil
	})
	if err != nil {
		return registry.Room{}, fmt.Errorf("get room %s@%s: %w", name, service, err)
	}
	return r, nil
}

// PutRoom inserts or replaces r and all its affiliations in one transaction.
func (s *Store) PutRoom(ctx context.Context, r registry.Room) error {
	c := r.Config
	whois := c.WhoIs
	if whois == "" {
		whois = "moderators"
	}
	if whois != "moderators" && whois != "anyone" {
		return fmt.Errorf("put room %s@%s: unknown whois %q", r.Name, r.Service, c.WhoIs)
	}
	for _, a := range r.Affiliations {
		switch a.Affiliation {
		case registry.RoomOwner, registry.RoomAdmin, registry.RoomMember, registry.RoomOutcast:
		default:
			return fmt.Errorf("put room %s@%s: unknown affiliation %q for %s", r.Name, r.Service, a.Affiliation, a.JID)
		}
	}
	key := []any{sql.Named("service", r.Service), sql.Named("name", r.Name)}
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO rooms (`+roomColumns+`) VALUES (:service, :name, :title, :description,
				:public, :members_only, :moderated, :password, :whois, :max_users, :change_subject, :allow_invites,
				:history_length, :subject, :subject_by)
			ON CONFLICT (service, name) DO UPDATE SET title = excluded.title, description = excluded.description,
				public = excluded.public, members_only = excluded.members_only, moderated = excluded.moderated,
				password = excluded.password, whois = excluded.whois, max_users = excluded.max_users,
				change_subject = excluded.change_subject, allow_invites = excluded.allow_invites,
				history_length = excluded.history_length, subject = excluded.subject, subject_by = excluded.subject_by`,
			append(key,
				sql.Named("title", c.Title), sql.Named("description", c.Description), sql.Named("public", c.Public),
				sql.Named("members_only", c.MembersOnly), sql.Named("moderated", c.Moderated), sql.Named("password", c.Password),
				sql.Named("whois", whois), sql.Named("max_users", c.MaxUsers), sql.Named("change_subject", c.ChangeSubject),
				sql.Named("allow_invites", c.AllowInvites), sql.Named("history_length", c.HistoryLength),
				sql.Named("subject", r.Subject), sql.Named("subject_by", r.SubjectBy))...)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM room_affiliations WHERE service = :service AND name = :name`, key...); err != nil {
			return err
		}
		if len(r.Affiliations) == 0 {
			return nil
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO room_affiliations (service, name, jid, affiliation, reason)
			VALUES (:service, :name, :jid, :affiliation, :reason)
			ON CONFLICT (service, name, jid) DO UPDATE SET affiliation = excluded.affiliation, reason = excluded.reason`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, a := range r.Affiliations {
			if _, err := stmt.ExecContext(ctx, append(key, sql.Named("jid", a.JID), sql.Named("affiliation", a.Affiliation),
				sql.Named("reason", a.Reason))...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("put room %s@%s: %w", r.Name, r.Service, err)
	}
	return nil
}

// DeleteRoom removes name@service and its affiliations, or returns an error
// wrapping registry.ErrNotFound.
func (s *Store) DeleteRoom(ctx context.Context, service, name string) error {
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM rooms WHERE service = :service AND name = :name`,
			sql.Named("service", service), sql.Named("name", name))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			return registry.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete room %s@%s: %w", name, service, err)
	}
	return nil
}
