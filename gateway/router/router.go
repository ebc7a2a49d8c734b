// Package router is Junction's one router: a stanza addressed to a local
// account goes to its sessions (RFC 6121 §8 delivery rules), one addressed
// to the server goes to the server's iq handlers, and anything else is
// answered with the error RFC 6120 §8.3 prescribes. Components and s2s plug
// in here as they arrive.
package router

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync/atomic"

	"junction/gateway/session"
	"junction/registry"
	"junction/xmpp/jid"
	"junction/xmpp/stanza"
)

// Accounts answers whether a local account exists.
type Accounts interface {
	Account(ctx context.Context, host, username string) (registry.Account, error)
}

// Config wires a Router.
type Config struct {
	Hosts    []string
	Sessions *session.Manager
	Accounts Accounts
	// ServerIQ answers iq addressed to a hosted domain.
	ServerIQ *IQMux
	// AccountIQ answers iq addressed to an account's bare JID (or sent
	// without 'to' by the account itself).
	AccountIQ *IQMux
	Logger    *slog.Logger
	// Dropped counts stanzas that were not delivered and not bounced
	// (errors, results and presence that RFC 6121 says to ignore).
	Dropped func(reason string)
}

// Router routes stanzas. It never blocks on a recipient: sessions have
// bounded queues that close slow clients.
type Router struct {
	cfg   Config
	hosts atomic.Pointer[map[string]bool]
}

// New returns a Router over cfg.
func New(cfg Config) *Router {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Dropped == nil {
		cfg.Dropped = func(string) {}
	}
	if cfg.ServerIQ == nil {
		cfg.ServerIQ = NewIQMux()
	}
	if cfg.AccountIQ == nil {
		cfg.AccountIQ = NewIQMux()
	}
	r := &Router{cfg: cfg}
	r.SetHosts(cfg.Hosts)
	return r
}

// SetHosts replaces the set of hosted domains.
func (r *Router) SetHosts(hosts []string) {
	m := make(map[string]bool, len(hosts))
	for _, h := range hosts {
		m[h] = true
	}
	r.hosts.Store(&m)
}

// Hosted reports whether domain is a local host.
func (r *Router) Hosted(domain string) bool { return (*r.hosts.Load())[domain] }

// Sessions is the session manager the router delivers to.
func (r *Router) Sessions() *session.Manager { return r.cfg.Sessions }

// Route delivers st, whose From the caller has already verified.
func (r *Router) Route(ctx context.Context, st *stanza.Stanza) {
	to := st.To
	if to.IsZero() {
		r.routeNoTo(ctx, st)
		return
	}
	if !r.Hosted(to.Domainpart()) {
		r.bounce(ctx, st, stanza.Errorf(stanza.Cancel, stanza.RemoteServerNotFound, "server-to-server delivery to "+to.Domainpart()+" is not available"))
		return
	}
	if to.Localpart() == "" {
		r.toServer(ctx, st)
		return
	}
	if to.Resourcepart() == "" {
		r.toBare(ctx, st)
		return
	}
	r.toFull(ctx, st)
}

// routeNoTo handles a stanza a client sent without 'to': it is for the
// server acting on behalf of the account (RFC 6120 §10.3).
func (r *Router) routeNoTo(ctx context.Context, st *stanza.Stanza) {
	switch st.Name {
	case stanza.Message:
		// Treated as addressed to the sender's bare JID.
		r.deliverBareMessage(ctx, st, st.From.Bare())
	case stanza.Presence:
		r.broadcastPresence(ctx, st)
	case stanza.IQ:
		r.accountIQ(ctx, st, st.From.Bare())
	}
}

func (r *Router) toServer(ctx context.Context, st *stanza.Stanza) {
	switch st.Name {
	case stanza.IQ:
		r.serveIQ(ctx, r.cfg.ServerIQ, st)
	case stanza.Message:
		if st.Type == "error" || st.Type == "headline" || st.Type == "groupchat" {
			r.cfg.Dropped("message-to-server")
			return
		}
		r.bounce(ctx, st, stanza.Errorf(stanza.Cancel, stanza.ServiceUnavailable, "the server does not accept messages"))
	default:
		r.cfg.Dropped("presence-to-server")
	}
}

// serveIQ runs an iq request through mux; results and errors addressed to
// the server end here.
func (r *Router) serveIQ(ctx context.Context, mux *IQMux, st *stanza.Stanza) {
	if st.Type != "get" && st.Type != "set" {
		r.cfg.Dropped("iq-response-to-server")
		return
	}
	reply, ok, err := mux.Handle(ctx, st)
	if err != nil {
		var se *stanza.Error
		if !errors.As(err, &se) {
			r.cfg.Logger.Error("iq handler failed", "from", st.From.String(), "err", err)
			se = stanza.Errorf(stanza.Wait, stanza.InternalServerError, "")
		}
		r.bounce(ctx, st, se)
		return
	}
	if !ok {
		r.bounce(ctx, st, stanza.Errorf(stanza.Cancel, stanza.ServiceUnavailable, ""))
		return
	}
	if reply != nil {
		r.Route(ctx, reply)
	}
}

func (r *Router) toBare(ctx context.Context, st *stanza.Stanza) {
	switch st.Name {
	case stanza.Message:
		r.deliverBareMessage(ctx, st, st.To)
	case stanza.Presence:
		r.deliverBarePresence(ctx, st)
	case stanza.IQ:
		r.accountIQ(ctx, st, st.To)
	}
}

// accountIQ answers an iq addressed to an account's bare JID on its behalf.
func (r *Router) accountIQ(ctx context.Context, st *stanza.Stanza, bare jid.JID) {
	if st.Type != "get" && st.Type != "set" {
		r.cfg.Dropped("iq-response-to-bare")
		return
	}
	if !r.exists(ctx, bare) {
		r.bounce(ctx, st, stanza.Errorf(stanza.Cancel, stanza.ServiceUnavailable, ""))
		return
	}
	if st.To.IsZero() {
		// Replies to a request the account made of itself come from its bare JID.
		c, err := stanza.WithAddresses(st, st.From, bare)
		if err == nil {
			st = c
		}
	}
	r.serveIQ(ctx, r.cfg.AccountIQ, st)
}

func (r *Router) toFull(ctx context.Context, st *stanza.Stanza) {
	if s := r.cfg.Sessions.Lookup(st.To); s != nil {
		r.send(s.Conn, st)
		return
	}
	switch st.Name {
	case stanza.Message:
		// RFC 6121 §8.5.3.2.1: no such resource.
		switch st.Type {
		case "", "normal", "chat":
			r.deliverBareMessage(ctx, st, st.To.Bare())
		case "groupchat":
			r.bounce(ctx, st, stanza.Errorf(stanza.Cancel, stanza.ServiceUnavailable, ""))
		default:
			r.cfg.Dropped("message-no-resource")
		}
	case stanza.IQ:
		if st.Type == "get" || st.Type == "set" {
			r.bounce(ctx, st, stanza.Errorf(stanza.Cancel, stanza.ServiceUnavailable, ""))
			return
		}
		r.cfg.Dropped("iq-response-no-resource")
	default:
		r.cfg.Dropped("presence-no-resource")
	}
}

// deliverBareMessage applies RFC 6121 §8.5.2 to a message for bare.
func (r *Router) deliverBareMessage(ctx context.Context, st *stanza.Stanza, bare jid.JID) {
	var buf [8]session.Snapshot
	ss := r.cfg.Sessions.Sessions(buf[:0], bare)
	best := -129
	for _, s := range ss {
		if s.Available && s.Priority >= 0 && s.Priority > best {
			best = s.Priority
		}
	}
	delivered := false
	if best >= 0 {
		for _, s := range ss {
			if !s.Available || s.Priority < 0 {
				continue
			}
			// Headlines go to every available resource; normal and chat
			// messages to those of highest priority.
			if st.Type == "headline" || s.Priority == best {
				r.send(s.Conn, st)
				delivered = true
			}
		}
	}
	if delivered {
		return
	}
	switch st.Type {
	case "error", "headline":
		r.cfg.Dropped("message-no-available-resource")
	case "groupchat":
		r.bounce(ctx, st, stanza.Errorf(stanza.Cancel, stanza.ServiceUnavailable, ""))
	default:
		if !r.exists(ctx, bare) {
			r.bounce(ctx, st, stanza.Errorf(stanza.Cancel, stanza.ServiceUnavailable, ""))
			return
		}
		r.bounce(ctx, st, stanza.Errorf(stanza.Cancel, stanza.ServiceUnavailable, "the recipient is offline"))
	}
}

// deliverBarePresence delivers directed presence to every available
// resource of the addressed account.
func (r *Router) deliverBarePresence(ctx context.Context, st *stanza.Stanza) {
	var buf [8]session.Snapshot
	n := 0
	for _, s := range r.cfg.Sessions.Sessions(buf[:0], st.To) {
		if s.Available {
			r.send(s.Conn, st)
			n++
		}
	}
	if n == 0 {
		r.cfg.Dropped("presence-no-available-resource")
	}
}

// broadcastPresence handles presence a client sent without 'to': it sets
// the session's state and informs the account's own resources.
func (r *Router) broadcastPresence(ctx context.Context, st *stanza.Stanza) {
	if st.Type != "" && st.Type != "unavailable" {
		// Subscription management needs a roster; probes from clients are
		// not allowed.
		r.bounce(ctx, st, stanza.Errorf(stanza.Modify, stanza.BadRequest, "presence of type "+st.Type+" needs a 'to' address"))
		return
	}
	s := r.cfg.Sessions.Lookup(st.From)
	if s == nil {
		return
	}
	prio := 0
	if st.Type == "" {
		prio = presencePriority(st)
	}
	initial, _ := r.cfg.Sessions.SetPresence(s.Conn, st, prio)
	var buf [8]session.Snapshot
	for _, o := range r.cfg.Sessions.Sessions(buf[:0], st.From.Bare()) {
		if !o.Available && o.Conn != s.Conn {
			continue
		}
		r.send(o.Conn, st)
		if initial && o.Conn != s.Conn && o.Presence != nil {
			r.send(s.Conn, o.Presence)
		}
	}
}

// Unavailable broadcasts that a session went away, for a connection that
// closed without sending unavailable presence.
func (r *Router) Unavailable(ctx context.Context, gone *session.Session) {
	if gone == nil || !gone.Available() {
		return
	}
	from := gone.Conn.JID()
	st := stanza.New(stanza.Presence, from, from.Bare(), "unavailable", "")
	var buf [8]session.Snapshot
	for _, o := range r.cfg.Sessions.Sessions(buf[:0], from.Bare()) {
		if o.Available {
			r.send(o.Conn, st)
		}
	}
}

func presencePriority(st *stanza.Stanza) int {
	n, err := st.Node()
	if err != nil {
		return 0
	}
	p := n.Child(stanza.NSClient, "priority")
	if p == nil {
		return 0
	}
	v, err := strconv.Atoi(p.Text)
	if err != nil || v < -128 || v > 127 {
		return 0
	}
	return v
}

func (r *Router) send(c session.Conn, st *stanza.Stanza) {
	// A full queue closes that client; the stanza is lost with the stream,
	// which is the slow client's problem, not the router's.
	c.Send(st)
}

func (r *Router) exists(ctx context.Context, bare jid.JID) bool {
	if r.cfg.Sessions.Online(bare) {
		return true
	}
	_, err := r.cfg.Accounts.Account(ctx, bare.Domainpart(), bare.Localpart())
	if err != nil && !errors.Is(err, registry.ErrNotFound) {
		r.cfg.Logger.Error("account lookup failed", "jid", bare.String(), "err", err)
	}
	return err == nil
}

// bounce answers st with e, unless st is itself an error.
func (r *Router) bounce(ctx context.Context, st *stanza.Stanza, e *stanza.Error) {
	reply := stanza.ErrorReply(st, e)
	if reply == nil {
		r.cfg.Dropped("error-not-bounced")
		return
	}
	if reply.From.IsZero() {
		// A request the server answers for itself: the error comes from the
		// sender's server.
		reply, _ = stanza.WithAddresses(reply, reply.To.Domain(), reply.To)
		if reply == nil {
			return
		}
	}
	r.Route(ctx, reply)
}
