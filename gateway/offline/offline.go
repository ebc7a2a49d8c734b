// Package offline keeps messages for accounts with no available resource
// (XEP-0160) and hands them over, stamped with XEP-0203 delay, when the
// account next sends available presence with a non-negative priority.
package offline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"junction/registry"
	"junction/xmpp/jid"
	"junction/xmpp/stanza"
	"junction/xmpp/xmltok"
)

// NSDelay is XEP-0203's namespace.
const NSDelay = "urn:xmpp:delay"

// DefaultLimit is how many messages one account may have waiting.
const DefaultLimit = 1000

// deliverBatch bounds one read from the store at login.
const deliverBatch = 100

// Store is the part of the registry offline storage uses.
type Store interface {
	AddOffline(ctx context.Context, host, username, stanza string, limit int) error
	OfflineMessages(ctx context.Context, host, username string, max int) ([]registry.OfflineMessage, error)
	DeleteOffline(ctx context.Context, host, username string, ids []int64) error
}

// Conn is where stored messages are delivered.
type Conn interface {
	JID() jid.JID
	Send(st *stanza.Stanza) error
}

// Storage stores and delivers offline messages.
type Storage struct {
	store Store
	limit int
	log   *slog.Logger
	now   func() time.Time
}

// New returns a Storage with a per-account limit (0: DefaultLimit).
func New(store Store, limit int, log *slog.Logger) *Storage {
	if limit <= 0 {
		limit = DefaultLimit
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Storage{store: store, limit: limit, log: log, now: time.Now}
}

// Features are advertised on the server.
func (s *Storage) Features() []string { return []string{"msgoffline"} }

// Store keeps st for the account to. The returned *stanza.Error says why a
// message cannot be kept (the sender gets it as a bounce).
func (s *Storage) Store(ctx context.Context, to jid.JID, st *stanza.Stanza) error {
	n, err := st.Node()
	if err != nil {
		return err
	}
	stamped := *n
	stamped.Children = append(append([]*xmltok.Node(nil), n.Children...), xmltok.NewNode(NSDelay, "delay",
		xmltok.Attr{Name: xmltok.Name{Local: "from"}, Value: to.Domainpart()},
		xmltok.Attr{Name: xmltok.Name{Local: "stamp"}, Value: s.now().UTC().Format("2006-01-02T15:04:05.000Z")},
	))
	raw := string(stamped.AppendXML(nil, stanza.NSClient))
	err = s.store.AddOffline(ctx, to.Domainpart(), to.Localpart(), raw, s.limit)
	switch {
	case errors.Is(err, registry.ErrQuota):
		return stanza.Errorf(stanza.Wait, stanza.ResourceConstraint, "the recipient is offline and their message storage is full")
	case errors.Is(err, registry.ErrNotFound):
		return stanza.Errorf(stanza.Cancel, stanza.ServiceUnavailable, "")
	case err != nil:
		return fmt.Errorf("store offline message for %s: %w", to, err)
	}
	return nil
}

// waiter is a connection that can wait for room in its queue.
type waiter interface {
	SendWait(ctx context.Context, st *stanza.Stanza) error
}

// send waits for queue room when the connection allows it: a login with
// many stored messages must not overflow the client's queue.
func send(ctx context.Context, c Conn, st *stanza.Stanza) error {
	if w, ok := c.(waiter); ok {
		return w.SendWait(ctx, st)
	}
	return c.Send(st)
}

// Deliver sends every stored message of c's account to c and deletes what
// was handed over. A message is deleted only after it is queued for the
// client, so a crash in between delivers it again rather than losing it.
func (s *Storage) Deliver(ctx context.Context, c Conn) {
	user := c.JID().Bare()
	for {
		msgs, err := s.store.OfflineMessages(ctx, user.Domainpart(), user.Localpart(), deliverBatch)
		if err != nil {
			s.log.Error("load offline messages", "jid", user.String(), "err", err)
			return
		}
		if len(msgs) == 0 {
			return
		}
		ids := make([]int64, 0, len(msgs))
		for _, m := range msgs {
			st, err := stanza.Parse(m.Stanza)
			if err != nil {
				s.log.Error("stored offline message unreadable, dropping it", "jid", user.String(), "id", m.ID, "err", err)
				ids = append(ids, m.ID)
				continue
			}
			if err := send(ctx, c, st); err != nil {
				// The session is gone: keep the rest for next time.
				break
			}
			ids = append(ids, m.ID)
		}
		if err := s.store.DeleteOffline(ctx, user.Domainpart(), user.Localpart(), ids); err != nil {
			s.log.Error("delete delivered offline messages", "jid", user.String(), "err", err)
			return
		}
		if len(ids) < len(msgs) || len(msgs) < deliverBatch {
			return
		}
	}
}
