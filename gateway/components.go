package gateway

import (
	"context"
	"errors"

	"junction/gateway/bus"
	"junction/xmpp/component"
	"junction/xmpp/jid"
	"junction/xmpp/stanza"
)

// external is an XEP-0114 connection as a bus component.
type external struct {
	conn   *component.Conn
	sender bus.Sender
}

var _ bus.Component = (*external)(nil)

func (e *external) Domain() jid.JID { return e.conn.Domain() }

func (e *external) Start(_ context.Context, s bus.Sender) error {
	e.sender = s
	return nil
}

func (e *external) Deliver(_ context.Context, st *stanza.Stanza) error {
	err := e.conn.Send(st)
	if errors.Is(err, component.ErrQueueFull) {
		return bus.ErrBusy
	}
	return err
}

func (e *external) Stop(context.Context) error {
	e.conn.Close("system-shutdown")
	return nil
}

// attachExternal puts an authenticated component connection on the bus.
func (s *Server) attachExternal(c *component.Conn) (func(*stanza.Stanza) error, error) {
	e := &external{conn: c}
	if err := s.bus.Add(context.Background(), e); err != nil {
		if errors.Is(err, bus.ErrConflict) {
			return nil, component.ErrConflict
		}
		return nil, err
	}
	s.mu.Lock()
	s.externals[c] = e
	s.mu.Unlock()
	ctx := context.Background()
	return func(st *stanza.Stanza) error {
		if err := e.sender.Send(ctx, st); err != nil {
			if errors.Is(err, bus.ErrForeignFrom) {
				return &stanza.Error{Type: stanza.Cancel, Condition: stanza.NotAllowed, Text: "a component may only send from its own domain", Err: err}
			}
			return err
		}
		return nil
	}, nil
}

func (s *Server) detachExternal(c *component.Conn) {
	s.mu.Lock()
	e := s.externals[c]
	delete(s.externals, c)
	s.mu.Unlock()
	if e != nil {
		s.bus.Detach(e)
	}
}

// componentSecret looks up a configured external component.
func (s *Server) componentSecret(domain string) (string, bool) {
	if s.isDisabled(domain) {
		return "", false
	}
	for _, e := range s.config().Components.External {
		if e.Domain == domain {
			return e.Secret, true
		}
	}
	return "", false
}
