package muc

import (
	"crypto/subtle"
	"slices"
	"strings"
	"unicode"

	"junction/xmpp/jid"
	"junction/xmpp/muc"
	"junction/xmpp/stanza"
	"junction/xmpp/xmltok"
)

// ghostConditions are the delivery errors after which an occupant's client
// is taken to be gone (XEP-0045 §17.4 "ghost" users).
var ghostConditions = []stanza.Condition{
	stanza.Gone, stanza.ItemNotFound, stanza.RecipientUnavailable, stanza.Redirect,
	stanza.RemoteServerNotFound, stanza.RemoteServerTimeout, stanza.ServiceUnavailable,
}

// handlePresence handles presence to the room or an occupant JID: joins,
// nick changes, presence updates and exits.
func (r *room) handlePresence(st *stanza.Stanza) error {
	o := r.byJID[st.From]
	nick := st.To.Resourcepart()
	switch st.Type {
	case "":
		n, err := st.Node()
		if err != nil {
			return stanza.Errorf(stanza.Modify, stanza.BadRequest, "")
		}
		switch {
		case o == nil && nick == "":
			return stanza.Errorf(stanza.Modify, stanza.JIDMalformed, "a nickname is needed to enter a room")
		case o == nil:
			return r.join(st, n, nick)
		case nick != "" && nick != o.nick:
			return r.changeNick(o, st, n)
		case n.Child(muc.NS, "x") != nil:
			// A join from a client already in: resynchronise it (XEP-0045 §17.3.3).
			return r.rejoin(o, st, n)
		default:
			r.updatePresence(o, n)
		}
	case "unavailable":
		if o != nil {
			n, err := st.Node()
			if err != nil {
				return nil
			}
			r.leave(o, st.From, presencePayload(n))
		}
	case "error":
		if o != nil && isGhostError(st) {
			r.removeGhost(o, st.From)
		}
	}
	return nil
}

// presencePayload serializes what the occupant's presence carries for
// others (show, status, priority, caps…): everything but the MUC elements,
// which only the service may generate.
func presencePayload(n *xmltok.Node) string {
	var b []byte
	for _, c := range n.Children {
		if c.Name.Local == "x" && (c.Name.Space == muc.NS || c.Name.Space == muc.NSUser) {
			continue
		}
		b = c.AppendXML(b, stanza.NSClient)
	}
	return string(b)
}

// checkNick refuses nicks that are too long or invisible (XEP-0045 §17.1).
func (r *room) checkNick(nick string) error {
	if len(nick) > r.svc.opts.MaxNickLength {
		return stanza.Errorf(stanza.Modify, stanza.NotAcceptable, "the nickname is too long")
	}
	if strings.TrimFunc(nick, func(c rune) bool { return unicode.IsSpace(c) || !unicode.IsGraphic(c) }) == "" {
		return stanza.Errorf(stanza.Modify, stanza.JIDMalformed, "the nickname is empty")
	}
	return nil
}

// join enters st.From into the room under nick, creating the room if it is
// new.
func (r *room) join(st *stanza.Stanza, n *xmltok.Node, nick string) error {
	if err := r.checkNick(nick); err != nil {
		return err
	}
	req := muc.Join{History: muc.NoLimit}
	if x := n.Child(muc.NS, "x"); x != nil {
		var err error
		if req, err = muc.ParseJoin(x); err != nil {
			return &stanza.Error{Type: stanza.Modify, Condition: stanza.BadRequest, Text: "malformed history request", Err: err}
		}
	}
	user := st.From.Bare()
	created := r.isNew
	if created {
		if f := r.svc.opts.MayCreate; f != nil && !f(st.From) {
			return stanza.Errorf(stanza.Cancel, stanza.NotAllowed, "room creation is restricted")
		}
	}
	aff := r.affiliation(user)
	existing := r.byNick[nick]
	if !created {
		switch {
		case r.locked && aff != muc.AffiliationOwner:
			return stanza.Errorf(stanza.Cancel, stanza.ItemNotFound, "the room is locked until its owner configures it")
		case aff == muc.AffiliationOutcast:
			return stanza.Errorf(stanza.Auth, stanza.Forbidden, "you are banned from this room")
		case r.cfg.membersOnly && aff.Rank() < muc.AffiliationMember.Rank():
			return stanza.Errorf(stanza.Auth, stanza.RegistrationRequired, "this room is for members only")
		case existing != nil && existing.bare != user:
			return stanza.Errorf(stanza.Cancel, stanza.Conflict, "that nickname is in use")
		case r.cfg.password != "" && aff != muc.AffiliationOwner &&
			subtle.ConstantTimeCompare([]byte(req.Password), []byte(r.cfg.password)) != 1:
			return stanza.Errorf(stanza.Auth, stanza.NotAuthorized, "a password is required")
		case existing == nil && len(r.byNick) >= r.maxUsers() && aff.Rank() < muc.AffiliationAdmin.Rank():
			return stanza.Errorf(stanza.Wait, stanza.ServiceUnavailable, "the room is full")
		case existing != nil && len(existing.sessions) >= maxSessionsPerOccupant:
			return stanza.Errorf(stanza.Wait, stanza.ResourceConstraint, "too many clients joined under this nickname")
		}
	}
	if created {
		r.isNew = false
		r.locked = true
		aff = muc.AffiliationOwner
		r.affs[user] = affEntry{aff: aff}
		r.svc.log.Info("room created", "room", r.jid.String(), "owner", user.String())
	}
	sess := newSession(st.From)
	pres := presencePayload(n)
	if existing != nil {
		// Another client of the same user under the same nick.
		r.addSession(existing, sess)
		changed := existing.pres != pres
		existing.pres = pres
		r.sendRoomState(existing, sess, req.History, nil)
		if changed {
			r.broadcastPresence(existing, presence{item: r.item(existing)}, nil, true)
		}
		return nil
	}
	o := &occupant{nick: nick, nickJID: st.To, bare: user, role: r.defaultRole(aff), pres: pres}
	r.addSession(o, sess)
	r.broadcastPresence(o, presence{item: r.item(o)}, nil, true)
	var self []muc.Status
	if created {
		self = append(self, muc.StatusCreated)
	}
	r.sendRoomState(o, sess, req.History, self)
	r.publish()
	return nil
}

// rejoin answers a join from a client already in the room with everything
// a join would send it, and tells the others if its presence changed.
func (r *room) rejoin(o *occupant, st *stanza.Stanza, n *xmltok.Node) error {
	req, err := muc.ParseJoin(n.Child(muc.NS, "x"))
	if err != nil {
		return &stanza.Error{Type: stanza.Modify, Condition: stanza.BadRequest, Text: "malformed history request", Err: err}
	}
	pres := presencePayload(n)
	changed := pres != o.pres
	o.pres = pres
	r.sendRoomState(o, o.session(st.From), req.History, nil)
	if changed {
		r.broadcastPresence(o, presence{item: r.item(o)}, nil, true)
	}
	return nil
}

// sendRoomState sends a joining client the other occupants' presence, its
// own presence, the discussion history it asked for and the subject, in
// that order (XEP-0045 §7.2.3, §7.2.15, §7.2.16).
func (r *room) sendRoomState(o *occupant, sess *session, h muc.History, selfStatuses []muc.Status) {
	sees := r.seesJIDs(o)
	for _, other := range r.byNick {
		if other == o {
			continue
		}
		item := r.item(other)
		if sees {
			item.JID = other.newest().jid
		}
		x := &muc.User{Items: []muc.Item{item}}
		r.svc.send(newTmpl(stanza.Presence, other.nickJID, "", "", "", other.pres+xmlString(x.Node())).one(sess))
	}
	if r.cfg.whoisAnyone {
		selfStatuses = append(selfStatuses, muc.StatusNonAnonymous)
	}
	r.sendSelfPresence(o, sess, presence{item: r.item(o), selfStatuses: selfStatuses})
	for _, e := range r.historyFor(h) {
		r.svc.send(e.t.one(sess))
	}
	r.sendSubject(sess)
}

// item returns o's item as others see it, without the real JID.
func (r *room) item(o *occupant) muc.Item {
	return muc.Item{Affiliation: r.affiliation(o.bare), Role: o.role}
}

// presence describes one presence broadcast about an occupant.
type presence struct {
	typ          string // "" or "unavailable"
	item         muc.Item
	statuses     []muc.Status // for everyone
	selfStatuses []muc.Status // also, for the occupant's own clients (110 is added)
	destroy      *muc.Destroy
	noPayload    bool // leave out the occupant's show/status
}

func (p presence) inner(o *occupant, item muc.Item, statuses []muc.Status) string {
	x := &muc.User{Items: []muc.Item{item}, Statuses: statuses, Destroy: p.destroy}
	if p.noPayload {
		return xmlString(x.Node())
	}
	return o.pres + xmlString(x.Node())
}

// broadcastPresence sends o's presence to every other occupant (when
// others) and to o's clients in self. Real JIDs go only to those allowed to
// see them.
func (r *room) broadcastPresence(o *occupant, p presence, self []*session, others bool) {
	if others {
		var seen, hidden *tmpl
		for _, x := range r.byNick {
			if x == o {
				continue
			}
			var t *tmpl
			if r.seesJIDs(x) {
				if seen == nil {
					seen = newTmpl(stanza.Presence, o.nickJID, p.typ, "", "", p.inner(o, withJID(p.item, o.newest().jid), p.statuses))
				}
				t = seen
			} else {
				if hidden == nil {
					hidden = newTmpl(stanza.Presence, o.nickJID, p.typ, "", "", p.inner(o, p.item, p.statuses))
				}
				t = hidden
			}
			for _, sess := range x.sessions {
				r.svc.send(t.one(sess))
			}
		}
	}
	for _, sess := range self {
		r.sendSelfPresence(o, sess, p)
	}
}

// sendSelfPresence sends o's own presence to one of its clients, with
// status 110.
func (r *room) sendSelfPresence(o *occupant, sess *session, p presence) {
	statuses := slices.Concat(p.statuses, p.selfStatuses, []muc.Status{muc.StatusSelf})
	slices.Sort(statuses)
	statuses = slices.Compact(statuses)
	r.svc.send(newTmpl(stanza.Presence, o.nickJID, p.typ, "", "", p.inner(o, withJID(p.item, sess.jid), statuses)).one(sess))
}

// updatePresence records and broadcasts an occupant's new show/status.
func (r *room) updatePresence(o *occupant, n *xmltok.Node) {
	o.pres = presencePayload(n)
	r.broadcastPresence(o, presence{item: r.item(o)}, o.sessions, true)
}

// changeNick moves o to the nick st is addressed to (XEP-0045 §7.6).
func (r *room) changeNick(o *occupant, st *stanza.Stanza, n *xmltok.Node) error {
	nick := st.To.Resourcepart()
	if err := r.checkNick(nick); err != nil {
		return err
	}
	if r.byNick[nick] != nil {
		return stanza.Errorf(stanza.Cancel, stanza.Conflict, "that nickname is in use")
	}
	if len(o.sessions) > 1 {
		return stanza.Errorf(stanza.Cancel, stanza.NotAcceptable, "leave with your other clients before changing nickname")
	}
	item := r.item(o)
	gone := item
	gone.Nick = nick
	r.broadcastPresence(o, presence{typ: "unavailable", item: gone, statuses: []muc.Status{muc.StatusNickChanged}, noPayload: true}, o.sessions, true)
	delete(r.byNick, o.nick)
	o.nick, o.nickJID = nick, st.To
	r.byNick[nick] = o
	o.pres = presencePayload(n)
	r.broadcastPresence(o, presence{item: item}, o.sessions, true)
	return nil
}

// leave takes one client of o out of the room; o leaves with its last one.
func (r *room) leave(o *occupant, from jid.JID, payload string) {
	p := presence{typ: "unavailable", item: muc.Item{Affiliation: r.affiliation(o.bare), Role: muc.RoleNone}}
	if len(o.sessions) > 1 {
		p.noPayload = true
		r.sendSelfPresence(o, o.session(from), p)
		r.dropSession(o, from)
		return
	}
	o.pres = payload
	r.removeOccupant(o, p)
}

// removeOccupant tells everyone (o included) that o has left and removes it.
func (r *room) removeOccupant(o *occupant, p presence) {
	r.broadcastPresence(o, p, o.sessions, true)
	r.dropOccupant(o)
	r.publish()
}

// removeGhost removes a client that bounced a stanza with a delivery error
// (status 333).
func (r *room) removeGhost(o *occupant, from jid.JID) {
	if len(o.sessions) > 1 {
		r.dropSession(o, from)
		return
	}
	r.svc.log.Debug("removing unreachable occupant", "room", r.jid.String(), "jid", from.String())
	r.removeOccupant(o, presence{typ: "unavailable", item: muc.Item{Affiliation: r.affiliation(o.bare), Role: muc.RoleNone},
		statuses: []muc.Status{muc.StatusError}, noPayload: true})
}

// isGhostError reports whether st is an error saying its sender's client
// cannot be reached.
func isGhostError(st *stanza.Stanza) bool {
	n, err := st.Node()
	if err != nil {
		return false
	}
	e := n.Child(stanza.NSClient, "error")
	if e == nil {
		return false
	}
	for _, c := range e.Children {
		if c.Name.Space == stanza.NSStanzas && slices.Contains(ghostConditions, stanza.Condition(c.Name.Local)) {
			return true
		}
	}
	return false
}
