package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"junction/xmpp/component"
	"junction/xmpp/stanza"
)

// Backoff bounds for reconnecting to a remote server.
const (
	minBackoff = time.Second
	maxBackoff = time.Minute
)

// RunRemote runs c attached to another server over XEP-0114 (the
// `junction component connect` mode) until ctx is done, reconnecting with
// capped, jittered backoff whenever the server goes away.
func RunRemote(ctx context.Context, c Component, cfg component.DialConfig, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &remote{comp: c, domain: c.Domain().Domainpart(), log: log}
	if err := c.Start(ctx, r); err != nil {
		return fmt.Errorf("start %s: %w", r.domain, err)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c.Stop(sctx)
	}()
	backoff := time.Duration(0)
	failing := false
	for {
		conn, err := component.Dial(ctx, cfg, func(st *stanza.Stanza) error { return r.deliver(ctx, st) })
		if err == nil {
			if failing {
				log.Info("reconnected to the server", "addr", cfg.Addr)
			} else {
				log.Info("connected to the server", "addr", cfg.Addr)
			}
			failing, backoff = false, 0
			r.setConn(conn)
			select {
			case <-conn.Done():
				r.setConn(nil)
				log.Warn("connection to the server lost; reconnecting", "addr", cfg.Addr)
			case <-ctx.Done():
				// Stop while the connection is up, so the component's goodbyes
				// (MUC status 332) reach the server; the deferred Stop is then
				// a no-op.
				sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				c.Stop(sctx)
				cancel()
				conn.Close("")
				<-conn.Done()
				return nil
			}
		} else {
			if ctx.Err() != nil {
				return nil
			}
			if !failing {
				log.Error("cannot connect to the server; retrying", "addr", cfg.Addr, "err", err)
			} else {
				log.Debug("still cannot connect", "err", err)
			}
			failing = true
			if errors.Is(err, component.ErrRefused) {
				backoff = maxBackoff / 2 // configuration problem: retry slowly
			}
		}
		backoff = min(max(2*backoff, minBackoff), maxBackoff)
		wait := backoff/2 + rand.N(backoff/2+1)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil
		}
	}
}

// remote is the Sender of a component attached to another server.
type remote struct {
	comp   Component
	domain string
	log    *slog.Logger

	mu   sync.Mutex
	conn *component.Conn
}

func (r *remote) setConn(c *component.Conn) {
	r.mu.Lock()
	r.conn = c
	r.mu.Unlock()
}

// Send writes the component's stanza to the server.
func (r *remote) Send(_ context.Context, st *stanza.Stanza) error {
	if st.From.Domainpart() != r.domain {
		return fmt.Errorf("%s sending as %s: %w", r.domain, st.From, ErrForeignFrom)
	}
	r.mu.Lock()
	c := r.conn
	r.mu.Unlock()
	if c == nil {
		r.log.Warn("server unreachable, stanza not sent", "to", st.To.String())
		return component.ErrClosed
	}
	return c.Send(st)
}

// deliver hands a stanza from the server to the component.
func (r *remote) deliver(ctx context.Context, st *stanza.Stanza) error {
	err := r.comp.Deliver(ctx, st)
	if errors.Is(err, ErrBusy) {
		if reply := stanza.ErrorReply(st, stanza.Errorf(stanza.Wait, stanza.ResourceConstraint, r.domain+" is busy; try again")); reply != nil {
			r.Send(ctx, reply)
		}
		return nil
	}
	return err
}
