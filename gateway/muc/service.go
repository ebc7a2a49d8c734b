// Package muc is the multi-user chat service (XEP-0045) as a bus component:
// rooms created on first join (instant or reserved through the owner's
// XEP-0004 configuration form), occupants with roles and affiliations and
// the XEP's permission rules, moderation, subjects, password-protected,
// members-only and moderated rooms, discussion history (XEP-0203 stamps),
// private messages, mediated invitations, room destruction, persistent rooms
// kept in the store, service discovery, and XEP-0410 self-pings.
//
// Concurrency: each room has one owner goroutine and a bounded inbox; a
// room's state is touched only by its goroutine. Deliver only looks the room
// up and enqueues, never waiting. An idle room (no occupants, empty inbox)
// ends its goroutine: a persistent room stays in the service's map as plain
// data and gets a fresh goroutine at its next stanza; a temporary one is
// forgotten. One goroutine per room rather than one for the whole service
// because rooms never share state, so rooms run on every core, and a slow
// store write (a configuration change in one room) never delays another
// room; parking idle rooms keeps thousands of persistent rooms at the cost of
// their data only. Stanzas for the service itself and for rooms that do not
// exist go to one more goroutine with its own inbox.
//
// Fan-out: a groupchat message is serialized once into a head and a tail
// around the 'to' attribute; every recipient's stanza is head + to + tail,
// all built into one buffer (see fanout.go).
package muc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"junction/registry"
	"junction/xmpp/jid"
	"junction/xmpp/muc"
	"junction/xmpp/stanza"
	"junction/xmpp/xmltok"
)

// Defaults for Options fields left zero.
const (
	DefaultMaxRooms         = 10000
	DefaultMaxOccupants     = 1000
	DefaultHistoryLength    = 20
	DefaultMaxHistory       = 100
	DefaultMaxNickLength    = 128
	DefaultMaxSubjectLength = 1024
	DefaultInboxSize        = 256
	DefaultName             = "Chatrooms"
)

const (
	// storeTimeout bounds one store call made by a room.
	storeTimeout = 5 * time.Second
	// maxSessionsPerOccupant bounds how many clients of one user may share
	// a nick in one room.
	maxSessionsPerOccupant = 16
	// maxTextBytes bounds a room's title and description and reasons.
	maxTextBytes = 1024
)

// Errors returned by Deliver.
var (
	// ErrBusy is returned by Deliver when the addressed room's (or the
	// service's) inbox is full, unless Options.ErrBusy replaces it.
	ErrBusy = errors.New("muc: inbox full")
	// ErrNotRunning is returned by Deliver before Start and after Stop.
	ErrNotRunning = errors.New("muc: service not running")
)

// Sender carries the service's stanzas into the server (the bus). Its 'from'
// addresses are always the service's domain or a JID under it. Send must be
// safe for concurrent use: every room sends from its own goroutine.
type Sender interface {
	Send(ctx context.Context, st *stanza.Stanza) error
}

// Store is the part of the registry the service uses for persistent rooms.
type Store interface {
	Rooms(ctx context.Context, service string) ([]registry.Room, error)
	PutRoom(ctx context.Context, r registry.Room) error
	DeleteRoom(ctx context.Context, service, name string) error
}

// Options configure a Service. Zero fields take the Default… values.
type Options struct {
	// Logger receives lifecycle, warnings and panics; nil discards. The
	// caller derives it with the attributes that name the service
	// (component, domain).
	Logger *slog.Logger
	// Name is the service's disco identity name.
	Name string
	// MaxRooms bounds the rooms the service holds (persistent ones included);
	// joining a new room beyond it is refused with not-allowed.
	MaxRooms int
	// MaxOccupants bounds every room's occupants and is the most a room's
	// maxusers may be set to; a room with maxusers "none" uses it.
	MaxOccupants int
	// HistoryLength is a new room's discussion history length; MaxHistory is
	// the most a room may be configured to keep.
	HistoryLength, MaxHistory int
	// MaxNickLength and MaxSubjectLength bound nicks and subjects, in bytes.
	MaxNickLength, MaxSubjectLength int
	// InboxSize bounds each room's inbox and the service's own.
	InboxSize int
	// MayCreate, when set, decides who may create rooms (called from the
	// room's goroutine with the creator's full JID); refusal is not-allowed.
	MayCreate func(user jid.JID) bool
	// ErrBusy, when set, is what Deliver returns on a full inbox (so the bus
	// can pass its own sentinel); otherwise ErrBusy.
	ErrBusy error
	// OnPanic, when set, is called after a panic in a room or the service
	// goroutine was recovered and logged (to count it); the goroutine goes
	// on with its next stanza.
	OnPanic func()
	// Now is the clock, for tests; nil means time.Now.
	Now func() time.Time
}

func (o *Options) setDefaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Name == "" {
		o.Name = DefaultName
	}
	setIfZero(&o.MaxRooms, DefaultMaxRooms)
	setIfZero(&o.MaxOccupants, DefaultMaxOccupants)
	setIfZero(&o.MaxHistory, DefaultMaxHistory)
	setIfZero(&o.HistoryLength, DefaultHistoryLength)
	o.HistoryLength = min(o.HistoryLength, o.MaxHistory)
	setIfZero(&o.MaxNickLength, DefaultMaxNickLength)
	setIfZero(&o.MaxSubjectLength, DefaultMaxSubjectLength)
	setIfZero(&o.InboxSize, DefaultInboxSize)
	if o.ErrBusy == nil {
		o.ErrBusy = ErrBusy
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

func setIfZero(v *int, def int) {
	if *v <= 0 {
		*v = def
	}
}

// Service states.
const (
	stateNew = iota
	stateRunning
	stateStopped
)

// Service is the MUC service of one domain. It implements the bus's
// Component interface.
type Service struct {
	domain jid.JID
	store  Store
	opts   Options
	log    *slog.Logger

	// ctx carries every Send and store call; it is cancelled when Stop
	// returns.
	ctx    context.Context
	cancel context.CancelFunc
	sender Sender
	quit   chan struct{} // closed by Stop: every room shuts down
	wg     sync.WaitGroup

	mu    sync.RWMutex
	state int
	rooms map[string]*room // by localpart
	inbox chan *stanza.Stanza
}

// New returns the service for domain (a bare domain JID). store may be nil:
// persistent rooms then last until Stop. Nothing starts before Start.
func New(domain jid.JID, store Store, opts Options) *Service {
	opts.setDefaults()
	return &Service{
		domain: domain.Domain(),
		store:  store,
		opts:   opts,
		log:    opts.Logger,
		quit:   make(chan struct{}),
		rooms:  make(map[string]*room),
		inbox:  make(chan *stanza.Stanza, opts.InboxSize),
	}
}

// Domain returns the service's domain.
func (s *Service) Domain() jid.JID { return s.domain }

// Start loads the persistent rooms from the store and starts the service's
// goroutine; s carries everything the service sends from then on.
func (s *Service) Start(ctx context.Context, sender Sender) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != stateNew {
		return errors.New("muc: Start called twice")
	}
	var stored []registry.Room
	if s.store != nil {
		var err error
		if stored, err = s.store.Rooms(ctx, s.domain.Domainpart()); err != nil {
			return fmt.Errorf("muc: load rooms of %s: %w", s.domain, err)
		}
	}
	for _, rec := range stored {
		r, err := loadRoom(s, rec)
		if err != nil {
			s.log.Warn("stored room skipped", "room", rec.Name, "err", err)
			continue
		}
		s.rooms[r.name] = r
	}
	s.ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	s.sender = sender
	s.state = stateRunning
	s.wg.Add(1)
	go s.run()
	s.log.Info("MUC service started", "rooms", len(s.rooms))
	return nil
}

// Stop tells every occupant the service is shutting down (status 332), ends
// every goroutine and waits for them within ctx. Persistent rooms are
// already in the store; temporary rooms are gone.
func (s *Service) Stop(ctx context.Context) error {
	s.mu.Lock()
	if s.state != stateRunning {
		s.state = stateStopped
		s.mu.Unlock()
		return nil
	}
	s.state = stateStopped
	close(s.quit)
	s.mu.Unlock()

	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	defer s.cancel()
	select {
	case <-done:
		s.log.Info("MUC service stopped")
		return nil
	case <-ctx.Done():
		return fmt.Errorf("muc: stop %s: %w", s.domain, ctx.Err())
	}
}

// Deliver hands st (addressed to the service, a room or an occupant) to the
// goroutine that owns it. It never blocks: a full inbox returns
// Options.ErrBusy.
func (s *Service) Deliver(_ context.Context, st *stanza.Stanza) error {
	// The common case, a room whose goroutine runs, only needs the read
	// lock: deliveries to rooms do not wait for each other.
	s.mu.RLock()
	if s.state != stateRunning {
		s.mu.RUnlock()
		return ErrNotRunning
	}
	if name := st.To.Localpart(); name != "" && !st.From.IsZero() {
		if r := s.rooms[name]; r != nil && r.running {
			err := s.enqueue(r.inbox, st)
			s.mu.RUnlock()
			return err
		}
	}
	s.mu.RUnlock()

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != stateRunning {
		return ErrNotRunning
	}
	return s.routeLocked(st)
}

// routeLocked enqueues st for its room, creating the room for a join, or
// for the service goroutine. s.mu is held for writing.
func (s *Service) routeLocked(st *stanza.Stanza) error {
	name := st.To.Localpart()
	if name == "" || st.From.IsZero() {
		return s.enqueue(s.inbox, st)
	}
	r := s.rooms[name]
	if r == nil {
		if !isJoin(st) || len(s.rooms) >= s.opts.MaxRooms {
			return s.enqueue(s.inbox, st)
		}
		r = newRoom(s, name)
		s.rooms[name] = r
	}
	if r.inbox == nil {
		r.inbox = make(chan *stanza.Stanza, s.opts.InboxSize)
	}
	if err := s.enqueue(r.inbox, st); err != nil {
		return err
	}
	if !r.running {
		r.running = true
		s.wg.Add(1)
		go r.run()
	}
	return nil
}

func (s *Service) enqueue(ch chan *stanza.Stanza, st *stanza.Stanza) error {
	select {
	case ch <- st:
		return nil
	default:
		return s.opts.ErrBusy
	}
}

// isJoin reports whether st could enter (and so create) a room: available
// presence to an occupant JID.
func isJoin(st *stanza.Stanza) bool {
	return st.Name == stanza.Presence && st.Type == "" && st.To.Resourcepart() != ""
}

// park ends r's goroutine if nothing is waiting for it, forgetting r unless
// it is persistent; a parked room keeps no inbox. A destroyed room is always
// forgotten, and whatever reached its inbox meanwhile is routed afresh (a
// join creates a new room). It reports whether the goroutine must return.
func (s *Service) park(r *room) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(r.inbox) > 0 && !r.destroyed {
		return false
	}
	r.running = false
	if r.destroyed || !r.cfg.persistent {
		if s.rooms[r.name] == r {
			delete(s.rooms, r.name)
		}
	}
	if r.destroyed {
		for {
			select {
			case st := <-r.inbox:
				if s.state != stateRunning || s.routeLocked(st) != nil {
					s.bounceLater(st)
				}
				continue
			default:
			}
			break
		}
	}
	r.inbox = nil
	return true
}

// bounceLater answers st with service-unavailable from a new goroutine (the
// caller holds s.mu and must not send).
func (s *Service) bounceLater(st *stanza.Stanza) {
	if st.IsError() || st.Name == stanza.Presence || (st.Name == stanza.IQ && st.Type != "get" && st.Type != "set") {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.send(errorReply(st, stanza.Errorf(stanza.Wait, stanza.ServiceUnavailable, "the room is busy")))
	}()
}

// send passes st to the sender, logging failures.
func (s *Service) send(st *stanza.Stanza) {
	if st == nil {
		return
	}
	if err := s.sender.Send(s.ctx, st); err != nil {
		s.log.Debug("send failed", "to", st.To.String(), "err", err)
	}
}

// reply answers req with err: a *stanza.Error is sent as is, anything else
// is logged and answered internal-server-error.
func (s *Service) reply(req *stanza.Stanza, err error) {
	var se *stanza.Error
	if !errors.As(err, &se) {
		s.log.Error("request failed", "from", req.From.String(), "to", req.To.String(), "err", err)
		se = stanza.Errorf(stanza.Wait, stanza.InternalServerError, "")
	}
	s.send(errorReply(req, se))
}

// errorReply is stanza.ErrorReply, except that a refused join carries
// <x xmlns='http://jabber.org/protocol/muc'/> before the error as in every
// XEP-0045 §7.2 example; clients (slixmpp) match join errors on it.
func errorReply(req *stanza.Stanza, se *stanza.Error) *stanza.Stanza {
	if req.Name != stanza.Presence || req.IsError() {
		return stanza.ErrorReply(req, se)
	}
	return stanza.New(stanza.Presence, req.To, req.From, "error", req.ID, xmltok.NewNode(muc.NS, "x"), se.Node())
}

// recovered logs a panic while handling st and answers it with
// internal-server-error; the goroutine goes on with the next stanza.
func (s *Service) recovered(st *stanza.Stanza, v any) {
	s.log.Error("panic handling stanza", "panic", v, "stack", string(debug.Stack()),
		"from", st.From.String(), "to", st.To.String(), "name", st.Name, "type", st.Type)
	if s.opts.OnPanic != nil {
		s.opts.OnPanic()
	}
	if st.Name != stanza.Presence {
		s.send(stanza.ErrorReply(st, stanza.Errorf(stanza.Wait, stanza.InternalServerError, "")))
	}
}

// run is the service goroutine: the service's own address and rooms that do
// not exist.
func (s *Service) run() {
	defer s.wg.Done()
	for {
		select {
		case <-s.quit:
			return
		case st := <-s.inbox:
			s.handleSafe(st)
		}
	}
}

func (s *Service) handleSafe(st *stanza.Stanza) {
	defer func() {
		if v := recover(); v != nil {
			s.recovered(st, v)
		}
	}()
	if st.To.Localpart() != "" {
		s.handleNoRoom(st)
		return
	}
	s.handleService(st)
}

// handleNoRoom answers a stanza for a room that did not exist when it was
// routed.
func (s *Service) handleNoRoom(st *stanza.Stanza) {
	if st.From.IsZero() || st.IsError() {
		return
	}
	switch st.Name {
	case stanza.Presence:
		switch {
		case st.Type != "":
		case st.To.Resourcepart() == "":
			s.reply(st, stanza.Errorf(stanza.Modify, stanza.JIDMalformed, "a nickname is needed to enter a room"))
		default:
			s.reply(st, stanza.Errorf(stanza.Cancel, stanza.NotAllowed, "this service cannot hold more rooms"))
		}
	case stanza.IQ:
		if st.Type == "get" || st.Type == "set" {
			s.reply(st, stanza.Errorf(stanza.Cancel, stanza.ItemNotFound, "no such room"))
		}
	case stanza.Message:
		s.reply(st, stanza.Errorf(stanza.Cancel, stanza.ItemNotFound, "no such room"))
	}
}

// roomSummaries lists the rooms disco#items shows, sorted by JID.
func (s *Service) roomSummaries() []summary {
	s.mu.RLock()
	out := make([]summary, 0, len(s.rooms))
	for _, r := range s.rooms {
		if sum := r.info.Load(); sum != nil && sum.listed {
			out = append(out, *sum)
		}
	}
	s.mu.RUnlock()
	sortSummaries(out)
	return out
}
