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

	"junction/gateway/bus"
	"junction/gateway/offline"
	"junction/gateway/roster"
	"junction/gateway/session"
	"junction/registry"
	"junction/xmpp/jid"
	"junction/xmpp/stanza"
	"junction/xmpp/xmltok"
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
	// Roster runs subscriptions and says who gets an account's presence.
	Roster Rosters
	// Offline keeps messages for accounts with no available resource.
	Offline Offline
	// Blocking says whether an account blocks an address (XEP-0191).
	Blocking Blocker
	// Components delivers to component domains (the bus).
	Components Components
}

// Components is what the router needs of the component bus.
type Components interface {
	Deliver(ctx context.Context, st *stanza.Stanza) error
}

// Blocker is what the router needs of block lists.
type Blocker interface {
	Blocks(ctx context.Context, owner, other jid.JID) bool
}

// Rosters is what the router needs of the roster service.
type Rosters interface {
	Outbound(ctx context.Context, st *stanza.Stanza) error
	Contacts(ctx context.Context, user jid.JID) (roster.Contacts, error)
	IsSubscriber(ctx context.Context, user, contact jid.JID) bool
}

// Offline is what the router needs of offline storage.
type Offline interface {
	Store(ctx context.Context, to jid.JID, st *stanza.Stanza) error
	Deliver(ctx context.Context, c offline.Conn)
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

// FromClient handles a stanza a bound local session sent: presence without
// 'to' is broadcast, subscription verbs run the roster, and everything else
// is routed.
func (r *Router) FromClient(ctx context.Context, st *stanza.Stanza) {
	if r.cfg.Blocking != nil && !st.To.IsZero() && st.To.Localpart() != "" && st.To.Bare() != st.From.Bare() &&
		r.cfg.Blocking.Blocks(ctx, st.From.Bare(), st.To) {
		if st.Name == stanza.Presence {
			r.cfg.Dropped("blocked-outbound-presence")
			return
		}
		// Straight to the sender: routed, the error would come from the
		// blocked address and be dropped as blocked itself.
		if reply := stanza.ErrorReply(st, blockedError()); reply != nil {
			if s := r.cfg.Sessions.Lookup(st.From); s != nil {
				r.send(s.Conn, reply)
			}
		}
		return
	}
	if st.Name != stanza.Presence {
		r.Route(ctx, st)
		if st.Name == stanza.Message && carbonEligible(st) && st.To.Bare() != st.From.Bare() {
			from := st.From
			r.sendCarbons(from.Bare(), st, "sent", func(j jid.JID) bool { return j == from })
		}
		return
	}
	switch {
	case st.To.IsZero():
		r.broadcastPresence(ctx, st)
	case roster.IsSubscription(st.Type):
		if r.cfg.Roster == nil {
			r.bounce(ctx, st, stanza.Errorf(stanza.Cancel, stanza.FeatureNotImplemented, ""))
			return
		}
		if err := r.cfg.Roster.Outbound(ctx, st); err != nil {
			var se *stanza.Error
			if !errors.As(err, &se) {
				r.cfg.Logger.Error("subscription failed", "from", st.From.String(), "err", err)
				se = stanza.Errorf(stanza.Wait, stanza.InternalServerError, "")
			}
			r.bounce(ctx, st, se)
		}
	case st.Type == "probe":
		r.cfg.Dropped("probe-from-client")
	default:
		// Directed presence (RFC 6121 §4.6): remembered, so the recipient
		// learns when the session goes away.
		if s := r.cfg.Sessions.Lookup(st.From); s != nil {
			if st.Type == "unavailable" {
				r.cfg.Sessions.RemoveDirected(s.Conn, st.To)
			} else if r.cfg.Roster == nil || !r.cfg.Roster.IsSubscriber(ctx, st.From.Bare(), st.To) {
				r.cfg.Sessions.AddDirected(s.Conn, st.To)
			}
		}
		r.Route(ctx, st)
	}
}

// Route delivers st, whose From the caller has already verified.
func (r *Router) Route(ctx context.Context, st *stanza.Stanza) {
	to := st.To
	if to.IsZero() {
		r.routeNoTo(ctx, st)
		return
	}
	if !r.Hosted(to.Domainpart()) {
		if r.cfg.Components != nil {
			err := r.cfg.Components.Deliver(ctx, st)
			switch {
			case err == nil:
				return
			case errors.Is(err, bus.ErrBusy):
				r.bounce(ctx, st, stanza.Errorf(stanza.Wait, stanza.ResourceConstraint, to.Domainpart()+" is busy; try again"))
				return
			case !errors.Is(err, bus.ErrNoComponent):
				r.bounce(ctx, st, stanza.Errorf(stanza.Cancel, stanza.ServiceUnavailable, to.Domainpart()+" is not available"))
				return
			}
		}
		r.bounce(ctx, st, stanza.Errorf(stanza.Cancel, stanza.RemoteServerNotFound, "server-to-server delivery to "+to.Domainpart()+" is not available"))
		return
	}
	if to.Localpart() == "" {
		r.toServer(ctx, st)
		return
	}
	if r.blockedInbound(ctx, st) {
		return
	}
	if to.Resourcepart() == "" {
		r.toBare(ctx, st)
		return
	}
	r.toFull(ctx, st)
}

// blockedInbound drops or refuses a stanza from someone the recipient
// blocks (XEP-0191 §3.5).
func (r *Router) blockedInbound(ctx context.Context, st *stanza.Stanza) bool {
	if r.cfg.Blocking == nil || st.From.IsZero() || st.From.Bare() == st.To.Bare() ||
		!r.cfg.Blocking.Blocks(ctx, st.To.Bare(), st.From) {
		return false
	}
	switch {
	case st.Name == stanza.Message && st.Type != "error" && st.Type != "groupchat" && st.Type != "headline",
		st.Name == stanza.IQ && (st.Type == "get" || st.Type == "set"):
		r.bounce(ctx, st, stanza.Errorf(stanza.Cancel, stanza.ServiceUnavailable, ""))
	default:
		r.cfg.Dropped("blocked-inbound")
	}
	return true
}

func blockedError() *stanza.Error {
	return &stanza.Error{Type: stanza.Cancel, Condition: stanza.NotAcceptable, Text: "you are blocking this contact",
		App: xmltok.NewNode("urn:xmpp:blocking:errors", "blocked")}
}

// routeNoTo handles a stanza a client sent without 'to': it is for the
// server acting on behalf of the account (RFC 6120 §10.3).
func (r *Router) routeNoTo(ctx context.Context, st *stanza.Stanza) {
	switch st.Name {
	case stanza.Message:
		// Treated as addressed to the sender's bare JID.
		r.deliverBareMessage(ctx, st, st.From.Bare())
	case stanza.Presence:
		r.cfg.Dropped("presence-without-to")
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
		if st.Name == stanza.Message && carbonEligible(st) && st.From.Bare() != st.To.Bare() {
			to := st.To
			r.sendCarbons(to.Bare(), st, "received", func(j jid.JID) bool { return j == to })
		}
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
		if carbonEligible(st) && st.From.Bare() != bare {
			r.sendCarbons(bare, st, "received", func(j jid.JID) bool {
				for _, s := range ss {
					if s.Conn.JID() == j {
						return s.Available && s.Priority == best
					}
				}
				return false
			})
		}
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
		if r.cfg.Offline == nil {
			r.bounce(ctx, st, stanza.Errorf(stanza.Cancel, stanza.ServiceUnavailable, "the recipient is offline"))
			return
		}
		if err := r.cfg.Offline.Store(ctx, bare, st); err != nil {
			var se *stanza.Error
			if !errors.As(err, &se) {
				r.cfg.Logger.Error("offline storage failed", "to", bare.String(), "err", err)
				se = stanza.Errorf(stanza.Wait, stanza.InternalServerError, "the message could not be stored")
			}
			r.bounce(ctx, st, se)
		}
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

// broadcastPresence handles presence a client sent without 'to' (RFC 6121
// §4.2–§4.5): it sets the session's state and informs the account's
// subscribers, its own resources and, on unavailable, those that got
// directed presence. Initial presence also probes the account's
// subscriptions, re-delivers pending subscription requests and flushes
// offline messages.
func (r *Router) broadcastPresence(ctx context.Context, st *stanza.Stanza) {
	if st.Type != "" && st.Type != "unavailable" {
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
	user := st.From.Bare()
	var contacts roster.Contacts
	if r.cfg.Roster != nil {
		var err error
		if contacts, err = r.cfg.Roster.Contacts(ctx, user); err != nil {
			r.cfg.Logger.Error("presence broadcast without roster", "jid", user.String(), "err", err)
		}
	}
	r.toSubscribers(ctx, st, contacts.Subscribers)

	var buf [8]session.Snapshot
	for _, o := range r.cfg.Sessions.Sessions(buf[:0], user) {
		if !o.Available && o.Conn != s.Conn {
			continue
		}
		r.send(o.Conn, st)
		if initial && o.Conn != s.Conn && o.Presence != nil {
			r.send(s.Conn, o.Presence)
		}
	}
	if st.Type == "unavailable" {
		r.toDirected(ctx, st.From, r.cfg.Sessions.TakeDirected(s.Conn))
		return
	}
	if !initial {
		return
	}
	// Probes, answered locally for local contacts (§4.3).
	for _, c := range contacts.Subscriptions {
		if !r.Hosted(c.Domainpart()) {
			continue
		}
		for _, o := range r.cfg.Sessions.Sessions(buf[:0], c) {
			if o.Available && o.Presence != nil {
				if p, err := stanza.WithAddresses(o.Presence, o.Conn.JID(), st.From); err == nil {
					r.send(s.Conn, p)
				}
			}
		}
	}
	for _, p := range contacts.Pending {
		r.send(s.Conn, p)
	}
	if prio >= 0 && r.cfg.Offline != nil {
		r.cfg.Offline.Deliver(ctx, s.Conn)
	}
}

// toSubscribers sends st to each local subscriber's available resources.
// Remote subscribers need s2s, which is not there yet.
func (r *Router) toSubscribers(ctx context.Context, st *stanza.Stanza, subs []jid.JID) {
	for _, c := range subs {
		if !r.Hosted(c.Domainpart()) {
			r.cfg.Dropped("presence-to-remote-subscriber")
			continue
		}
		p, err := stanza.WithAddresses(st, st.From, c)
		if err != nil {
			continue
		}
		r.deliverBarePresence(ctx, p)
	}
}

// toDirected tells directed-presence recipients that from is gone.
func (r *Router) toDirected(ctx context.Context, from jid.JID, to []jid.JID) {
	for _, d := range to {
		r.Route(ctx, stanza.New(stanza.Presence, from, d, "unavailable", ""))
	}
}

// Unavailable broadcasts that a session went away, for a connection that
// closed without sending unavailable presence.
func (r *Router) Unavailable(ctx context.Context, gone *session.Session) {
	if gone == nil {
		return
	}
	from := gone.Conn.JID()
	st := stanza.New(stanza.Presence, from, jid.JID{}, "unavailable", "")
	if gone.Available() {
		if r.cfg.Roster != nil {
			if contacts, err := r.cfg.Roster.Contacts(ctx, from.Bare()); err == nil {
				r.toSubscribers(ctx, st, contacts.Subscribers)
			}
		}
		var buf [8]session.Snapshot
		for _, o := range r.cfg.Sessions.Sessions(buf[:0], from.Bare()) {
			if o.Available {
				r.send(o.Conn, st)
			}
		}
	}
	r.toDirected(ctx, from, gone.Directed())
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
