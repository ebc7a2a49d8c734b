package muc

import (
	"fmt"
	"slices"
	"strconv"

	"junction/xmpp/form"
	"junction/xmpp/muc"
	"junction/xmpp/stanza"
	"junction/xmpp/xmltok"
)

// Fields of the muc#roomconfig form (XEP-0045 §15.5.3; historylength as
// Prosody names it, muc#maxhistoryfetch accepted too).
const (
	fieldName          = "muc#roomconfig_roomname"
	fieldDesc          = "muc#roomconfig_roomdesc"
	fieldPersistent    = "muc#roomconfig_persistentroom"
	fieldPublic        = "muc#roomconfig_publicroom"
	fieldMembersOnly   = "muc#roomconfig_membersonly"
	fieldModerated     = "muc#roomconfig_moderatedroom"
	fieldProtected     = "muc#roomconfig_passwordprotectedroom"
	fieldSecret        = "muc#roomconfig_roomsecret"
	fieldWhois         = "muc#roomconfig_whois"
	fieldMaxUsers      = "muc#roomconfig_maxusers"
	fieldChangeSubject = "muc#roomconfig_changesubject"
	fieldAllowInvites  = "muc#roomconfig_allowinvites"
	fieldHistoryLength = "muc#roomconfig_historylength"
	fieldMaxHistory    = "muc#maxhistoryfetch"
)

// owner handles muc#owner requests: the configuration form, its submission
// (which also unlocks a new room), and room destruction.
func (r *room) owner(st *stanza.Stanza, q *xmltok.Node) error {
	if r.affiliation(st.From) != muc.AffiliationOwner {
		return stanza.Errorf(stanza.Auth, stanza.Forbidden, "only owners may configure or destroy the room")
	}
	if st.Type == "get" {
		r.svc.send(stanza.Result(st, xmltok.NewNode(muc.NSOwner, "query").Add(r.configForm().Node())))
		return nil
	}
	if d := q.Child(muc.NSOwner, "destroy"); d != nil {
		dst, err := muc.ParseDestroy(d)
		if err != nil {
			return &stanza.Error{Type: stanza.Modify, Condition: stanza.JIDMalformed, Text: "malformed alternate venue", Err: err}
		}
		if len(dst.Reason) > maxTextBytes {
			return stanza.Errorf(stanza.Modify, stanza.NotAcceptable, "the reason is too long")
		}
		r.destroy(dst)
		r.svc.send(stanza.Result(st))
		return nil
	}
	x := q.Child(form.NS, "x")
	if x == nil {
		return stanza.Errorf(stanza.Modify, stanza.BadRequest, "no data form")
	}
	f, err := form.Parse(x)
	if err != nil {
		return &stanza.Error{Type: stanza.Modify, Condition: stanza.BadRequest, Text: "malformed data form", Err: err}
	}
	switch f.Type {
	case form.TypeCancel:
		// Cancelling the initial configuration destroys the new room
		// (XEP-0045 §10.1.3); later, it changes nothing.
		r.svc.send(stanza.Result(st))
		if r.locked {
			r.destroy(muc.Destroy{})
		}
		return nil
	case form.TypeSubmit:
		if err := r.configure(f); err != nil {
			return err
		}
		r.svc.send(stanza.Result(st))
		return nil
	}
	return stanza.Errorf(stanza.Modify, stanza.BadRequest, "submit or cancel the form")
}

// configForm returns the room's configuration as a form to fill in.
func (r *room) configForm() *form.Form {
	c := r.cfg
	b := form.FormatBool
	whois := "moderators"
	if c.whoisAnyone {
		whois = "anyone"
	}
	maxUsers := "none"
	if c.maxUsers > 0 {
		maxUsers = strconv.Itoa(c.maxUsers)
	}
	limits := []form.Option{{Label: "No limit", Value: "none"}}
	for _, n := range []int{10, 20, 30, 50, 100, 200, 500, 1000, 5000} {
		if n < r.svc.opts.MaxOccupants {
			limits = append(limits, form.Option{Value: strconv.Itoa(n)})
		}
	}
	limits = append(limits, form.Option{Value: strconv.Itoa(r.svc.opts.MaxOccupants)})
	return &form.Form{
		Type:         form.TypeForm,
		Title:        "Configuration of " + r.jid.String(),
		Instructions: []string{"Submit the form to configure the room; submit it empty to accept the defaults."},
		Fields: []form.Field{
			{Var: form.FormTypeVar, Type: form.Hidden, Values: []string{muc.NSRoomConfig}},
			{Var: fieldName, Type: form.TextSingle, Label: "Name", Values: []string{c.title}},
			{Var: fieldDesc, Type: form.TextSingle, Label: "Description", Values: []string{c.desc}},
			{Var: fieldPersistent, Type: form.Boolean, Label: "Keep the room when it is empty", Values: []string{b(c.persistent)}},
			{Var: fieldPublic, Type: form.Boolean, Label: "List the room publicly", Values: []string{b(c.public)}},
			{Var: fieldMembersOnly, Type: form.Boolean, Label: "Only members may enter", Values: []string{b(c.membersOnly)}},
			{Var: fieldModerated, Type: form.Boolean, Label: "Only occupants with voice may speak", Values: []string{b(c.moderated)}},
			{Var: fieldProtected, Type: form.Boolean, Label: "A password is needed to enter", Values: []string{b(c.password != "")}},
			{Var: fieldSecret, Type: form.TextPrivate, Label: "Password", Values: []string{c.password}},
			{Var: fieldWhois, Type: form.ListSingle, Label: "Who may see occupants' real addresses", Values: []string{whois},
				Options: []form.Option{{Label: "Moderators", Value: "moderators"}, {Label: "Anyone", Value: "anyone"}}},
			{Var: fieldMaxUsers, Type: form.ListSingle, Label: "Maximum number of occupants", Values: []string{maxUsers}, Options: limits},
			{Var: fieldChangeSubject, Type: form.Boolean, Label: "Occupants may change the subject", Values: []string{b(c.changeSubject)}},
			{Var: fieldAllowInvites, Type: form.Boolean, Label: "Occupants may invite others", Values: []string{b(c.allowInvites)}},
			{Var: fieldHistoryLength, Type: form.TextSingle, Label: fmt.Sprintf("Messages of history to keep (at most %d)", r.svc.opts.MaxHistory),
				Values: []string{strconv.Itoa(c.historyLength)}},
		},
	}
}

// configure applies a submitted configuration form. Fields left out keep
// their values, so an empty form accepts the defaults (an instant room).
func (r *room) configure(f *form.Form) error {
	if ft := f.FormType(); ft != "" && ft != muc.NSRoomConfig {
		return stanza.Errorf(stanza.Modify, stanza.BadRequest, "not a room configuration form")
	}
	c := r.cfg
	protected, protectedSet := c.password != "", false
	secret, secretSet := c.password, false
	for _, fl := range f.Fields {
		v := fl.Value()
		var err error
		switch fl.Var {
		case fieldName, fieldDesc:
			if len(v) > maxTextBytes {
				return stanza.Errorf(stanza.Modify, stanza.NotAcceptable, fl.Var+" is too long")
			}
			if fl.Var == fieldName {
				c.title = v
			} else {
				c.desc = v
			}
		case fieldPersistent:
			c.persistent, err = form.ParseBool(v)
		case fieldPublic:
			c.public, err = form.ParseBool(v)
		case fieldMembersOnly:
			c.membersOnly, err = form.ParseBool(v)
		case fieldModerated:
			c.moderated, err = form.ParseBool(v)
		case fieldProtected:
			protected, err = form.ParseBool(v)
			protectedSet = true
		case fieldSecret:
			if len(v) > maxTextBytes {
				return stanza.Errorf(stanza.Modify, stanza.NotAcceptable, "the password is too long")
			}
			secret, secretSet = v, true
		case fieldWhois:
			switch v {
			case "moderators":
				c.whoisAnyone = false
			case "anyone":
				c.whoisAnyone = true
			default:
				return stanza.Errorf(stanza.Modify, stanza.NotAcceptable, "whois is moderators or anyone")
			}
		case fieldMaxUsers:
			switch v {
			case "", "none", "0":
				c.maxUsers = 0
			default:
				n, perr := strconv.Atoi(v)
				if perr != nil || n < 1 || n > r.svc.opts.MaxOccupants {
					return stanza.Errorf(stanza.Modify, stanza.NotAcceptable, fmt.Sprintf("maxusers is none or 1 to %d", r.svc.opts.MaxOccupants))
				}
				c.maxUsers = n
			}
		case fieldChangeSubject:
			c.changeSubject, err = form.ParseBool(v)
		case fieldAllowInvites:
			c.allowInvites, err = form.ParseBool(v)
		case fieldHistoryLength, fieldMaxHistory:
			n, perr := strconv.Atoi(v)
			if perr != nil || n < 0 {
				return stanza.Errorf(stanza.Modify, stanza.NotAcceptable, "the history length is a number")
			}
			c.historyLength = min(n, r.svc.opts.MaxHistory)
		}
		if err != nil {
			return &stanza.Error{Type: stanza.Modify, Condition: stanza.BadRequest, Text: fl.Var + " is a boolean", Err: err}
		}
	}
	if secretSet && !protectedSet {
		protected = secret != ""
	}
	switch {
	case !protected:
		c.password = ""
	case secret == "":
		return stanza.Errorf(stanza.Modify, stanza.NotAcceptable, "a password-protected room needs a password")
	default:
		c.password = secret
	}

	old, wasLocked := r.cfg, r.locked
	r.cfg, r.locked = c, false
	r.trimHistory()
	switch {
	case c.persistent:
		r.save()
	case old.persistent:
		r.unsave()
	}
	if c.membersOnly && !old.membersOnly {
		r.removeNonMembers()
	}
	if !wasLocked && c != old {
		status := muc.StatusConfigChanged
		if c.whoisAnyone != old.whoisAnyone {
			status = muc.StatusNowSemiAnonymous
			if c.whoisAnyone {
				status = muc.StatusNowNonAnonymous
			}
		}
		x := &muc.User{Statuses: []muc.Status{status}}
		r.svc.fanout(newTmpl(stanza.Message, r.jid, "groupchat", "", "", xmlString(x.Node())), r.recipients())
	}
	r.publish()
	return nil
}

// removeNonMembers removes everyone below member from a room that just
// became members-only (status 322).
func (r *room) removeNonMembers() {
	var out []*occupant
	for _, o := range r.byNick {
		if r.affiliation(o.bare).Rank() < muc.AffiliationMember.Rank() {
			out = append(out, o)
		}
	}
	slices.SortFunc(out, func(a, b *occupant) int {
		switch {
		case a.nick < b.nick:
			return -1
		case a.nick > b.nick:
			return 1
		}
		return 0
	})
	for _, o := range out {
		r.removeOccupant(o, presence{typ: "unavailable", item: muc.Item{Affiliation: muc.AffiliationNone, Role: muc.RoleNone},
			statuses: []muc.Status{muc.StatusMembersOnly}, noPayload: true})
	}
}

// destroy removes every occupant with one presence each carrying the
// reason and alternate venue (XEP-0045 §10.9), deletes a persistent room
// from the store and forgets the room.
func (r *room) destroy(d muc.Destroy) {
	item := muc.Item{Affiliation: muc.AffiliationNone, Role: muc.RoleNone}
	for _, o := range r.byNick {
		x := &muc.User{Items: []muc.Item{item}, Destroy: &d}
		t := newTmpl(stanza.Presence, o.nickJID, "unavailable", "", "", xmlString(x.Node()))
		for _, sess := range o.sessions {
			r.svc.send(t.one(sess))
		}
	}
	for _, o := range r.byNick {
		r.dropOccupant(o)
	}
	r.destroyed = true
	r.svc.log.Info("room destroyed", "room", r.jid.String())
	if r.cfg.persistent {
		r.unsave()
	}
	r.publish()
	s := r.svc
	s.mu.Lock()
	if s.rooms[r.name] == r {
		delete(s.rooms, r.name)
	}
	s.mu.Unlock()
}
