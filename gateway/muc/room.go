package muc

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"junction/registry"
	"junction/xmpp/jid"
	"junction/xmpp/muc"
	"junction/xmpp/stanza"
	"junction/xmpp/xmltok"
)

// config is a room's configuration (the muc#roomconfig form).
type config struct {
	title, desc   string
	persistent    bool
	public        bool
	membersOnly   bool
	moderated     bool
	password      string // "" when not password-protected
	whoisAnyone   bool   // non-anonymous: everyone sees real JIDs
	maxUsers      int    // 0: the service's MaxOccupants
	changeSubject bool   // participants may change the subject
	allowInvites  bool   // participants may invite
	historyLength int
}

// session is one client of an occupant: its real full JID and that JID
// escaped for a 'to' attribute, computed once at join.
type session struct {
	jid    jid.JID
	toAttr string
}

func newSession(j jid.JID) *session {
	return &session{jid: j, toAttr: string(xmltok.EscapeAttr(nil, j.String()))}
}

// occupant is one nick in a room: a user (bare JID) with one or more
// clients joined under that nick.
type occupant struct {
	nick     string
	nickJID  jid.JID // room@service/nick
	bare     jid.JID
	role     muc.Role
	sessions []*session // newest last; never empty while joined
	pres     string     // the presence children last sent by any session, serialized
}

// newest returns the session that joined or spoke last.
func (o *occupant) newest() *session { return o.sessions[len(o.sessions)-1] }

func (o *occupant) session(j jid.JID) *session {
	for _, s := range o.sessions {
		if s.jid == j {
			return s
		}
	}
	return nil
}

// affEntry is a stored affiliation.
type affEntry struct {
	aff    muc.Affiliation
	reason string
}

// summary is what the service's disco#items knows about a room without
// asking its goroutine.
type summary struct {
	jid    jid.JID
	title  string
	listed bool // public and usable
}

// room is one chat room. The fields below running are owned by the room's
// goroutine while it runs and by nobody while it is parked.
type room struct {
	svc  *Service
	name string
	jid  jid.JID
	info atomic.Pointer[summary]

	// inbox and running are guarded by svc.mu; inbox is nil while the room
	// is parked and is read without the lock by the room's goroutine.
	inbox   chan *stanza.Stanza
	running bool

	isNew     bool // no one has joined yet: the first join creates it
	locked    bool // created but not yet configured (XEP-0045 §10.1.1)
	destroyed bool
	cfg       config
	affs      map[jid.JID]affEntry // by bare JID or domain
	byNick    map[string]*occupant
	byJID     map[jid.JID]*occupant // by each session's real full JID
	nsessions int

	subject     string
	subjectNick string
	subjectTime time.Time

	history []historyEntry // oldest first, at most cfg.historyLength

	// recips caches every session for fan-out; nil when stale.
	recips []*session

	pending   map[string]pendingIQ // forwarded iqs by the id we gave them
	pendingQ  []string             // ids in forwarding order, to bound pending
	iqCounter uint64
}

func newRoom(s *Service, name string) *room {
	j, _ := jid.New(name, s.domain.Domainpart(), "")
	r := &room{
		svc:    s,
		name:   name,
		jid:    j,
		isNew:  true,
		affs:   make(map[jid.JID]affEntry),
		byNick: make(map[string]*occupant),
		byJID:  make(map[jid.JID]*occupant),
		cfg: config{
			public:        true,
			historyLength: s.opts.HistoryLength,
		},
	}
	r.publish()
	return r
}

// run is the room's goroutine: it handles stanzas until the room is idle or
// the service stops.
func (r *room) run() {
	s := r.svc
	defer s.wg.Done()
	for {
		select {
		case <-s.quit:
			r.shutdown()
			return
		case st := <-r.inbox:
			r.handleSafe(st)
			continue
		default:
		}
		if len(r.byNick) == 0 && s.park(r) {
			return
		}
		select {
		case <-s.quit:
			r.shutdown()
			return
		case st := <-r.inbox:
			r.handleSafe(st)
		}
	}
}

func (r *room) handleSafe(st *stanza.Stanza) {
	defer func() {
		if v := recover(); v != nil {
			r.svc.recovered(st, v)
		}
	}()
	if r.destroyed {
		// Routed here before the room was forgotten: route it afresh.
		r.svc.mu.Lock()
		err := ErrNotRunning
		if r.svc.state == stateRunning {
			if r.svc.rooms[r.name] == r {
				delete(r.svc.rooms, r.name)
			}
			err = r.svc.routeLocked(st)
		}
		r.svc.mu.Unlock()
		if err != nil {
			r.svc.reply(st, stanza.Errorf(stanza.Wait, stanza.ServiceUnavailable, "the room is busy"))
		}
		return
	}
	var err error
	switch st.Name {
	case stanza.Presence:
		err = r.handlePresence(st)
	case stanza.Message:
		err = r.handleMessage(st)
	case stanza.IQ:
		err = r.handleIQ(st)
	}
	if err != nil {
		r.svc.reply(st, err)
	}
}

// shutdown tells every occupant the service is going away (status 332) and
// bounces what is left in the inbox.
func (r *room) shutdown() {
	for _, o := range r.byNick {
		item := muc.Item{Affiliation: r.affiliation(o.bare), Role: muc.RoleNone}
		for _, sess := range o.sessions {
			x := &muc.User{Items: []muc.Item{withJID(item, sess.jid)}, Statuses: []muc.Status{muc.StatusSelf, muc.StatusShutdown}}
			r.svc.send(newTmpl(stanza.Presence, o.nickJID, "unavailable", "", "", xmlString(x.Node())).one(sess))
		}
	}
	for {
		select {
		case st := <-r.inbox:
			if st.Name != stanza.Presence {
				r.svc.send(errorReply(st, stanza.Errorf(stanza.Cancel, stanza.ServiceUnavailable, "the chat service is shutting down")))
			}
		default:
			return
		}
	}
}

// publish refreshes the summary the service's disco#items reads.
func (r *room) publish() {
	r.info.Store(&summary{
		jid:    r.jid,
		title:  r.cfg.title,
		listed: r.cfg.public && !r.locked && !r.isNew && !r.destroyed,
	})
}

// affiliation returns the affiliation of user (any JID: its bare JID, then
// its domain, are looked up).
func (r *room) affiliation(user jid.JID) muc.Affiliation {
	if e, ok := r.affs[user.Bare()]; ok {
		return e.aff
	}
	if e, ok := r.affs[user.Domain()]; ok {
		return e.aff
	}
	return muc.AffiliationNone
}

// defaultRole is the role an occupant with aff gets on entering
// (XEP-0045 §5.1.2).
func (r *room) defaultRole(aff muc.Affiliation) muc.Role {
	switch {
	case aff.Rank() >= muc.AffiliationAdmin.Rank():
		return muc.RoleModerator
	case aff == muc.AffiliationMember || !r.cfg.moderated:
		return muc.RoleParticipant
	}
	return muc.RoleVisitor
}

// seesJIDs reports whether o may see other occupants' real JIDs.
func (r *room) seesJIDs(o *occupant) bool {
	return r.cfg.whoisAnyone || o.role == muc.RoleModerator
}

// maxUsers is the room's effective occupant limit.
func (r *room) maxUsers() int {
	if r.cfg.maxUsers > 0 && r.cfg.maxUsers < r.svc.opts.MaxOccupants {
		return r.cfg.maxUsers
	}
	return r.svc.opts.MaxOccupants
}

// occupantJID returns the occupant JID room@service/nick.
func (r *room) occupantJID(nick string) (jid.JID, error) {
	return r.jid.WithResource(nick)
}

// recipients returns every session in the room.
func (r *room) recipients() []*session {
	if r.recips == nil {
		r.recips = make([]*session, 0, r.nsessions)
		for _, o := range r.byNick {
			r.recips = append(r.recips, o.sessions...)
		}
	}
	return r.recips
}

// addSession joins sess to o (a new occupant if o is not yet in the room).
func (r *room) addSession(o *occupant, sess *session) {
	if len(o.sessions) == 0 {
		r.byNick[o.nick] = o
	}
	o.sessions = append(o.sessions, sess)
	r.byJID[sess.jid] = o
	r.nsessions++
	r.recips = nil
}

// dropSession removes one session; the occupant leaves with its last one.
func (r *room) dropSession(o *occupant, j jid.JID) {
	i := slices.IndexFunc(o.sessions, func(s *session) bool { return s.jid == j })
	if i < 0 {
		return
	}
	o.sessions = slices.Delete(o.sessions, i, i+1)
	delete(r.byJID, j)
	r.nsessions--
	r.recips = nil
	if len(o.sessions) == 0 && r.byNick[o.nick] == o {
		delete(r.byNick, o.nick)
	}
}

// dropOccupant removes o and all its sessions.
func (r *room) dropOccupant(o *occupant) {
	for len(o.sessions) > 0 {
		r.dropSession(o, o.sessions[0].jid)
	}
}

// save writes a persistent room to the store; failures are logged (the room
// goes on in memory).
func (r *room) save() {
	if !r.cfg.persistent || r.svc.store == nil || r.isNew {
		return
	}
	ctx, cancel := context.WithTimeout(r.svc.ctx, storeTimeout)
	defer cancel()
	if err := r.svc.store.PutRoom(ctx, r.record()); err != nil {
		r.svc.log.Error("save room", "room", r.jid.String(), "err", err)
	}
}

// unsave removes the room from the store.
func (r *room) unsave() {
	if r.svc.store == nil {
		return
	}
	ctx, cancel := context.WithTimeout(r.svc.ctx, storeTimeout)
	defer cancel()
	if err := r.svc.store.DeleteRoom(ctx, r.svc.domain.Domainpart(), r.name); err != nil && !errors.Is(err, registry.ErrNotFound) {
		r.svc.log.Error("delete room", "room", r.jid.String(), "err", err)
	}
}

// record is the room as the store keeps it.
func (r *room) record() registry.Room {
	c := r.cfg
	rec := registry.Room{
		Service: r.svc.domain.Domainpart(),
		Name:    r.name,
		Config: registry.RoomConfig{
			Title: c.title, Description: c.desc, Public: c.public, MembersOnly: c.membersOnly,
			Moderated: c.moderated, Password: c.password, WhoIs: "moderators", MaxUsers: c.maxUsers,
			ChangeSubject: c.changeSubject, AllowInvites: c.allowInvites, HistoryLength: c.historyLength,
		},
		Subject:   r.subject,
		SubjectBy: r.subjectNick,
	}
	if c.whoisAnyone {
		rec.Config.WhoIs = "anyone"
	}
	for j, e := range r.affs {
		rec.Affiliations = append(rec.Affiliations, registry.RoomAffiliation{JID: j.String(), Affiliation: string(e.aff), Reason: e.reason})
	}
	slices.SortFunc(rec.Affiliations, func(a, b registry.RoomAffiliation) int {
		switch {
		case a.JID < b.JID:
			return -1
		case a.JID > b.JID:
			return 1
		}
		return 0
	})
	return rec
}

// loadRoom rebuilds a parked persistent room from its record.
func loadRoom(s *Service, rec registry.Room) (*room, error) {
	if _, err := jid.New(rec.Name, s.domain.Domainpart(), ""); err != nil {
		return nil, fmt.Errorf("room name %q: %w", rec.Name, err)
	}
	r := newRoom(s, rec.Name)
	c := rec.Config
	r.isNew = false
	r.cfg = config{
		title: c.Title, desc: c.Description, persistent: true, public: c.Public, membersOnly: c.MembersOnly,
		moderated: c.Moderated, password: c.Password, whoisAnyone: c.WhoIs == "anyone",
		maxUsers: min(max(c.MaxUsers, 0), s.opts.MaxOccupants), changeSubject: c.ChangeSubject,
		allowInvites: c.AllowInvites, historyLength: min(max(c.HistoryLength, 0), s.opts.MaxHistory),
	}
	r.subject, r.subjectNick = rec.Subject, rec.SubjectBy
	for _, a := range rec.Affiliations {
		j, err := jid.Parse(a.JID)
		aff, ok := muc.ParseAffiliation(a.Affiliation)
		if err != nil || !ok || aff == muc.AffiliationNone {
			s.log.Warn("stored affiliation skipped", "room", rec.Name, "jid", a.JID, "affiliation", a.Affiliation)
			continue
		}
		r.affs[j.Bare()] = affEntry{aff: aff, reason: a.Reason}
	}
	r.publish()
	return r, nil
}

// withJID returns it with its JID set to j.
func withJID(it muc.Item, j jid.JID) muc.Item {
	it.JID = j
	return it
}

// xmlString serializes n as a child of a jabber:client stanza.
func xmlString(n *xmltok.Node) string {
	return string(n.AppendXML(nil, stanza.NSClient))
}
