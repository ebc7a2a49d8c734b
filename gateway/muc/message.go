package muc

import (
	"time"

	"junction/xmpp/jid"
	"junction/xmpp/muc"
	"junction/xmpp/stanza"
	"junction/xmpp/xmltok"
)

// maxInvites bounds the invitations one message may carry.
const maxInvites = 20

// historyEntry is one message of discussion history, ready to send: its
// template already carries the XEP-0203 delay.
type historyEntry struct {
	t     *tmpl
	stamp time.Time
}

// handleMessage handles a message to the room or to an occupant.
func (r *room) handleMessage(st *stanza.Stanza) error {
	if st.IsError() {
		if o := r.byJID[st.From]; o != nil && isGhostError(st) {
			r.removeGhost(o, st.From)
		}
		return nil
	}
	if r.isNew || (r.locked && r.affiliation(st.From) != muc.AffiliationOwner) {
		return stanza.Errorf(stanza.Cancel, stanza.ItemNotFound, "no such room")
	}
	o := r.byJID[st.From]
	if nick := st.To.Resourcepart(); nick != "" {
		return r.privateMessage(o, st, nick)
	}
	if st.Type == "groupchat" {
		return r.groupchat(o, st)
	}
	n, err := st.Node()
	if err != nil {
		return stanza.Errorf(stanza.Modify, stanza.BadRequest, "")
	}
	if x := n.Child(muc.NSUser, "x"); x != nil {
		return r.invitations(o, st, x)
	}
	return stanza.Errorf(stanza.Modify, stanza.BadRequest, "messages to everyone must be of type groupchat")
}

// messagePayload serializes a message's children for reflection, leaving
// out what only the room may say: muc#user extensions and stanza-ids
// claiming to be the room's (XEP-0359 §3.1).
func (r *room) messagePayload(n *xmltok.Node) string {
	var b []byte
	for _, c := range n.Children {
		switch {
		case c.Name.Space == muc.NSUser:
			continue
		case c.Name.Space == muc.NSStanzaID && c.Name.Local == "stanza-id" && c.Attr("by") == r.jid.String():
			continue
		}
		b = c.AppendXML(b, stanza.NSClient)
	}
	return string(b)
}

// langAttr returns the message's xml:lang as an escaped attribute, or "".
func langAttr(n *xmltok.Node) string {
	lang := n.AttrNS(xmltok.NSXML, "lang")
	if lang == "" {
		return ""
	}
	return ` xml:lang="` + string(xmltok.EscapeAttr(nil, lang)) + `"`
}

// groupchat reflects an occupant's message to every occupant, the sender
// included, with its id kept (XEP-0045 §7.4), or changes the subject.
func (r *room) groupchat(o *occupant, st *stanza.Stanza) error {
	if o == nil {
		return stanza.Errorf(stanza.Modify, stanza.NotAcceptable, "you are not in this room")
	}
	n, err := st.Node()
	if err != nil {
		return stanza.Errorf(stanza.Modify, stanza.BadRequest, "")
	}
	body := n.Child(stanza.NSClient, "body")
	if subj := n.Child(stanza.NSClient, "subject"); subj != nil && body == nil {
		return r.setSubject(o, st, n, subj.Text)
	}
	if o.role.Rank() < muc.RoleParticipant.Rank() {
		return stanza.Errorf(stanza.Auth, stanza.Forbidden, "visitors may not speak in a moderated room")
	}
	lang, payload := langAttr(n), r.messagePayload(n)
	r.svc.fanout(newTmpl(stanza.Message, o.nickJID, "groupchat", st.ID, lang, payload), r.recipients())
	if body != nil {
		r.remember(o, st.ID, lang, payload)
	}
	return nil
}

// remember adds a message to the discussion history.
func (r *room) remember(o *occupant, id, lang, payload string) {
	if r.cfg.historyLength <= 0 {
		return
	}
	now := r.svc.opts.Now()
	inner := payload + xmlString(muc.Delay(r.jid, now))
	e := historyEntry{t: newTmpl(stanza.Message, o.nickJID, "groupchat", id, lang, inner), stamp: now}
	if len(r.history) >= r.cfg.historyLength {
		k := len(r.history) - r.cfg.historyLength + 1
		r.history = append(r.history[:0], r.history[k:]...)
	}
	r.history = append(r.history, e)
}

// trimHistory drops the oldest entries beyond the configured length.
func (r *room) trimHistory() {
	if k := len(r.history) - r.cfg.historyLength; k > 0 {
		r.history = append(r.history[:0], r.history[k:]...)
	}
}

// historyFor picks the history to send a joining client: the smallest set
// of the newest messages meeting every limit it asked for (XEP-0045
// §7.2.15). maxchars counts whole stanzas, without the 'to' attribute value.
func (r *room) historyFor(h muc.History) []historyEntry {
	if h.MaxChars == 0 || h.MaxStanzas == 0 {
		return nil
	}
	var oldest time.Time
	if h.Seconds >= 0 {
		oldest = r.svc.opts.Now().Add(-time.Duration(h.Seconds) * time.Second)
	}
	if h.Since.After(oldest) {
		oldest = h.Since
	}
	start, chars := len(r.history), 0
	for i := len(r.history) - 1; i >= 0; i-- {
		e := r.history[i]
		if h.MaxStanzas >= 0 && len(r.history)-i > h.MaxStanzas {
			break
		}
		if !oldest.IsZero() && e.stamp.Before(oldest) {
			break
		}
		if h.MaxChars >= 0 {
			chars += e.t.size()
			if chars > h.MaxChars {
				break
			}
		}
		start = i
	}
	return r.history[start:]
}

// setSubject changes the room's subject (XEP-0045 §8.1) and tells everyone.
func (r *room) setSubject(o *occupant, st *stanza.Stanza, n *xmltok.Node, subject string) error {
	switch {
	case o.role == muc.RoleModerator:
	case r.cfg.changeSubject && o.role == muc.RoleParticipant:
	default:
		return stanza.Errorf(stanza.Auth, stanza.Forbidden, "you may not change the subject of this room")
	}
	if len(subject) > r.svc.opts.MaxSubjectLength {
		return stanza.Errorf(stanza.Modify, stanza.NotAcceptable, "the subject is too long")
	}
	r.subject, r.subjectNick, r.subjectTime = subject, o.nick, r.svc.opts.Now()
	r.svc.fanout(newTmpl(stanza.Message, o.nickJID, "groupchat", st.ID, langAttr(n), r.messagePayload(n)), r.recipients())
	r.save()
	return nil
}

// sendSubject sends the subject to a joining client: always, empty when
// there is none (XEP-0045 §7.2.16).
func (r *room) sendSubject(sess *session) {
	from := r.jid
	if r.subjectNick != "" {
		if j, err := r.occupantJID(r.subjectNick); err == nil {
			from = j
		}
	}
	inner := xmlString(xmltok.NewNode(stanza.NSClient, "subject").SetText(r.subject))
	if !r.subjectTime.IsZero() {
		inner += xmlString(muc.Delay(r.jid, r.subjectTime))
	}
	r.svc.send(newTmpl(stanza.Message, from, "groupchat", "", "", inner).one(sess))
}

// privateMessage passes a message from one occupant to another, from the
// sender's occupant JID to every client of the recipient (XEP-0045 §7.5).
func (r *room) privateMessage(o *occupant, st *stanza.Stanza, nick string) error {
	if st.Type == "groupchat" {
		return stanza.Errorf(stanza.Modify, stanza.BadRequest, "a groupchat message goes to the room, not to an occupant")
	}
	if o == nil {
		return stanza.Errorf(stanza.Modify, stanza.NotAcceptable, "you are not in this room")
	}
	to := r.byNick[nick]
	if to == nil {
		return stanza.Errorf(stanza.Cancel, stanza.ItemNotFound, "no one in the room has that nickname")
	}
	n, err := st.Node()
	if err != nil {
		return stanza.Errorf(stanza.Modify, stanza.BadRequest, "")
	}
	inner := r.messagePayload(n) + xmlString(xmltok.NewNode(muc.NSUser, "x"))
	t := newTmpl(stanza.Message, o.nickJID, st.Type, st.ID, langAttr(n), inner)
	for _, sess := range to.sessions {
		r.svc.send(t.one(sess))
	}
	return nil
}

// invitations passes on mediated invitations and declines (XEP-0045 §7.8.2).
func (r *room) invitations(o *occupant, st *stanza.Stanza, x *xmltok.Node) error {
	u, err := muc.ParseUser(x)
	if err != nil {
		return &stanza.Error{Type: stanza.Modify, Condition: stanza.JIDMalformed, Text: "malformed invitation", Err: err}
	}
	if len(u.Invites)+len(u.Declines) > maxInvites {
		return stanza.Errorf(stanza.Modify, stanza.PolicyViolation, "too many invitations in one message")
	}
	for _, d := range u.Declines {
		if d.To.IsZero() {
			return stanza.Errorf(stanza.Modify, stanza.BadRequest, "a decline needs a 'to'")
		}
	}
	if len(u.Invites) > 0 {
		if err := r.mayInvite(o, st.From); err != nil {
			return err
		}
	}
	for _, d := range u.Declines {
		out := &muc.User{Declines: []muc.Invite{{From: st.From.Bare(), Reason: d.Reason}}}
		r.svc.send(stanza.New(stanza.Message, r.jid, d.To, "", st.ID, out.Node()))
	}
	saved := false
	for _, inv := range u.Invites {
		if inv.To.IsZero() {
			return stanza.Errorf(stanza.Modify, stanza.BadRequest, "an invitation needs a 'to'")
		}
		if r.cfg.membersOnly && r.affiliation(inv.To) == muc.AffiliationNone {
			r.affs[inv.To.Bare()] = affEntry{aff: muc.AffiliationMember}
			saved = true
		}
		out := &muc.User{Invites: []muc.Invite{{From: st.From.Bare(), Reason: inv.Reason}}, Password: r.cfg.password}
		body := xmltok.NewNode(stanza.NSClient, "body").SetText(st.From.Bare().String() + " invites you to the room " + r.jid.String())
		r.svc.send(stanza.New(stanza.Message, r.jid, inv.To, "", st.ID, out.Node(), body))
	}
	if saved {
		r.save()
	}
	return nil
}

// mayInvite checks that from may invite others: an occupant in a room that
// allows invitations, or a moderator; in a members-only room an admin or
// owner, or any occupant if the room allows invitations (the invitee then
// becomes a member).
func (r *room) mayInvite(o *occupant, from jid.JID) error {
	if o == nil {
		return stanza.Errorf(stanza.Modify, stanza.NotAcceptable, "you are not in this room")
	}
	aff := r.affiliation(from)
	switch {
	case r.cfg.allowInvites:
	case r.cfg.membersOnly && aff.Rank() >= muc.AffiliationAdmin.Rank():
	case !r.cfg.membersOnly && o.role == muc.RoleModerator:
	default:
		return stanza.Errorf(stanza.Auth, stanza.Forbidden, "you may not invite others to this room")
	}
	return nil
}
