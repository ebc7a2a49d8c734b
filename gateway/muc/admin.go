package muc

import (
	"slices"
	"strings"

	"junction/xmpp/jid"
	"junction/xmpp/muc"
	"junction/xmpp/stanza"
	"junction/xmpp/xmltok"
)

// maxAdminItems bounds the items of one muc#admin request.
const maxAdminItems = 100

// admin handles muc#admin requests: reading the lists of roles and
// affiliations, and changing roles (kick, voice, moderator) and
// affiliations (ban, member, admin, owner). A set with several items is
// checked as a whole before anything changes.
func (r *room) admin(st *stanza.Stanza, q *xmltok.Node) error {
	nodes := q.ChildrenNamed(muc.NSAdmin, "item")
	if len(nodes) == 0 {
		return stanza.Errorf(stanza.Modify, stanza.BadRequest, "no item")
	}
	if len(nodes) > maxAdminItems {
		return stanza.Errorf(stanza.Modify, stanza.PolicyViolation, "too many items in one request")
	}
	items := make([]muc.Item, len(nodes))
	for i, n := range nodes {
		it, err := muc.ParseItem(n)
		if err != nil {
			return &stanza.Error{Type: stanza.Modify, Condition: stanza.BadRequest, Text: "malformed item", Err: err}
		}
		if (it.Role == "") == (it.Affiliation == "") {
			return stanza.Errorf(stanza.Modify, stanza.BadRequest, "an item changes either a role or an affiliation")
		}
		items[i] = it
	}
	if st.Type == "get" {
		return r.adminList(st, items[0])
	}
	return r.adminSet(st, items)
}

// adminList answers a request for the occupants with a role (moderators
// only) or the users with an affiliation (admins and owners; members too in
// a non-anonymous room, except for the ban list).
func (r *room) adminList(st *stanza.Stanza, want muc.Item) error {
	actor := r.byJID[st.From]
	actorAff := r.affiliation(st.From)
	q := xmltok.NewNode(muc.NSAdmin, "query")
	if want.Role != "" {
		if actor == nil || actor.role != muc.RoleModerator {
			return stanza.Errorf(stanza.Auth, stanza.Forbidden, "only moderators may list roles")
		}
		if want.Role == muc.RoleNone {
			return stanza.Errorf(stanza.Modify, stanza.BadRequest, "no one has the role none")
		}
		for _, nick := range sortedKeys(r.byNick) {
			o := r.byNick[nick]
			if o.role == want.Role {
				q.Add(muc.Item{Affiliation: r.affiliation(o.bare), Role: o.role, JID: o.newest().jid, Nick: o.nick}.Node(muc.NSAdmin))
			}
		}
		r.svc.send(stanza.Result(st, q))
		return nil
	}
	switch {
	case want.Affiliation == muc.AffiliationNone:
		return stanza.Errorf(stanza.Modify, stanza.BadRequest, "there is no list of unaffiliated users")
	case actorAff.Rank() >= muc.AffiliationAdmin.Rank():
	case actorAff == muc.AffiliationMember && r.cfg.whoisAnyone && want.Affiliation != muc.AffiliationOutcast:
	default:
		return stanza.Errorf(stanza.Auth, stanza.Forbidden, "you may not see this list")
	}
	nicks := make(map[jid.JID]string, len(r.byNick))
	for _, o := range r.byNick {
		nicks[o.bare] = o.nick
	}
	keys := make([]jid.JID, 0, len(r.affs))
	for j, e := range r.affs {
		if e.aff == want.Affiliation {
			keys = append(keys, j)
		}
	}
	slices.SortFunc(keys, func(a, b jid.JID) int { return strings.Compare(a.String(), b.String()) })
	for _, j := range keys {
		it := muc.Item{Affiliation: want.Affiliation, JID: j, Reason: r.affs[j].reason}
		if want.Affiliation != muc.AffiliationOutcast {
			it.Nick = nicks[j]
		}
		q.Add(it.Node(muc.NSAdmin))
	}
	r.svc.send(stanza.Result(st, q))
	return nil
}

// adminSet checks and applies role and affiliation changes.
func (r *room) adminSet(st *stanza.Stanza, items []muc.Item) error {
	actor := r.byJID[st.From]
	actorAff := r.affiliation(st.From)
	targets := make([]*occupant, len(items))
	owners := 0
	newAffs := map[jid.JID]muc.Affiliation{}
	for j, e := range r.affs {
		if e.aff == muc.AffiliationOwner {
			owners++
		}
		newAffs[j] = e.aff
	}
	for i, it := range items {
		if len(it.Reason) > maxTextBytes {
			return stanza.Errorf(stanza.Modify, stanza.NotAcceptable, "the reason is too long")
		}
		if it.Role != "" {
			if it.Nick == "" {
				return stanza.Errorf(stanza.Modify, stanza.BadRequest, "a role change names a nick")
			}
			target := r.byNick[it.Nick]
			if target == nil {
				return stanza.Errorf(stanza.Cancel, stanza.ItemNotFound, "no one in the room has that nickname")
			}
			if err := r.checkRoleChange(actor, actorAff, target, it.Role); err != nil {
				return err
			}
			targets[i] = target
			continue
		}
		j := it.JID.Bare()
		if j.IsZero() {
			target := r.byNick[it.Nick]
			if it.Nick == "" || target == nil {
				return stanza.Errorf(stanza.Modify, stanza.BadRequest, "an affiliation change names a jid")
			}
			j = target.bare
		}
		items[i].JID = j
		old := muc.AffiliationNone
		if e, ok := r.affs[j]; ok {
			old = e.aff
		}
		if err := checkAffiliationChange(actorAff, old, it.Affiliation); err != nil {
			return err
		}
		if newAffs[j] == muc.AffiliationOwner {
			owners--
		}
		if it.Affiliation == muc.AffiliationOwner {
			owners++
		}
		newAffs[j] = it.Affiliation
	}
	if owners < 1 {
		return stanza.Errorf(stanza.Cancel, stanza.Conflict, "a room must keep at least one owner")
	}
	actorNick := ""
	if actor != nil {
		actorNick = actor.nick
	}
	changedAffs := false
	for i, it := range items {
		if it.Role != "" {
			if target := targets[i]; r.byNick[target.nick] == target {
				r.setRole(target, it.Role, it.Reason, actorNick)
			}
			continue
		}
		r.setAffiliation(it.JID, it.Affiliation, it.Reason, actorNick)
		changedAffs = true
	}
	r.svc.send(stanza.Result(st))
	if changedAffs {
		r.save()
	}
	return nil
}

// checkRoleChange applies XEP-0045's rules for changing an occupant's
// role: only moderators change roles (else forbidden); nobody acts on
// someone with a higher affiliation, only admins and owners grant or take
// the moderator role, and admins and owners keep their voice (else
// not-allowed).
func (r *room) checkRoleChange(actor *occupant, actorAff muc.Affiliation, target *occupant, role muc.Role) error {
	if actor == nil || actor.role != muc.RoleModerator {
		return stanza.Errorf(stanza.Auth, stanza.Forbidden, "only moderators may change roles")
	}
	targetAff := r.affiliation(target.bare)
	switch {
	case targetAff.Rank() > actorAff.Rank():
		return stanza.Errorf(stanza.Cancel, stanza.NotAllowed, "you may not change the role of someone with a higher affiliation")
	case (role == muc.RoleModerator || target.role == muc.RoleModerator) && actorAff.Rank() < muc.AffiliationAdmin.Rank():
		return stanza.Errorf(stanza.Cancel, stanza.NotAllowed, "only admins and owners may grant or revoke moderation")
	case role != muc.RoleNone && role != muc.RoleModerator && targetAff.Rank() >= muc.AffiliationAdmin.Rank():
		return stanza.Errorf(stanza.Cancel, stanza.NotAllowed, "admins and owners are always moderators")
	}
	return nil
}

// checkAffiliationChange applies XEP-0045's rules for changing a user's
// affiliation: admins and owners change affiliations (else forbidden);
// admins only between outcast, none and member (else not-allowed).
func checkAffiliationChange(actorAff, old, aff muc.Affiliation) error {
	switch {
	case actorAff.Rank() < muc.AffiliationAdmin.Rank():
		return stanza.Errorf(stanza.Auth, stanza.Forbidden, "only admins and owners may change affiliations")
	case actorAff == muc.AffiliationAdmin && (old.Rank() >= muc.AffiliationAdmin.Rank() || aff.Rank() >= muc.AffiliationAdmin.Rank()):
		return stanza.Errorf(stanza.Cancel, stanza.NotAllowed, "only owners may change admins and owners")
	}
	return nil
}

// setRole changes an occupant's role and tells everyone; role none is a
// kick (status 307).
func (r *room) setRole(o *occupant, role muc.Role, reason, actor string) {
	item := muc.Item{Affiliation: r.affiliation(o.bare), Role: role, Reason: reason, Actor: actor}
	if role == muc.RoleNone {
		r.removeOccupant(o, presence{typ: "unavailable", item: item, statuses: []muc.Status{muc.StatusKicked}, noPayload: true})
		return
	}
	was := o.role
	o.role = role
	r.broadcastPresence(o, presence{item: item}, o.sessions, true)
	if role == muc.RoleModerator && was != muc.RoleModerator {
		r.revealJIDs(o)
	}
}

// revealJIDs sends a new moderator of a semi-anonymous room every other
// occupant's presence again, now with their real JIDs.
func (r *room) revealJIDs(o *occupant) {
	if r.cfg.whoisAnyone {
		return
	}
	for _, other := range r.byNick {
		if other == o {
			continue
		}
		x := &muc.User{Items: []muc.Item{withJID(r.item(other), other.newest().jid)}}
		t := newTmpl(stanza.Presence, other.nickJID, "", "", "", other.pres+xmlString(x.Node()))
		for _, sess := range o.sessions {
			r.svc.send(t.one(sess))
		}
	}
}

// setAffiliation records j's affiliation and applies it to the occupants it
// covers: outcasts are removed (301), non-members of a members-only room too
// (321), everyone else gets the role that goes with the new affiliation.
func (r *room) setAffiliation(j jid.JID, aff muc.Affiliation, reason, actor string) {
	if aff == muc.AffiliationNone {
		delete(r.affs, j)
	} else {
		r.affs[j] = affEntry{aff: aff, reason: reason}
	}
	var hit []*occupant
	for _, o := range r.byNick {
		if o.bare == j || (j.IsDomain() && o.bare.Domain() == j) {
			hit = append(hit, o)
		}
	}
	for _, o := range hit {
		now := r.affiliation(o.bare)
		item := muc.Item{Affiliation: now, Reason: reason, Actor: actor}
		switch {
		case now == muc.AffiliationOutcast:
			item.Role = muc.RoleNone
			r.removeOccupant(o, presence{typ: "unavailable", item: item, statuses: []muc.Status{muc.StatusBanned}, noPayload: true})
		case r.cfg.membersOnly && now.Rank() < muc.AffiliationMember.Rank():
			item.Role = muc.RoleNone
			r.removeOccupant(o, presence{typ: "unavailable", item: item, statuses: []muc.Status{muc.StatusAffiliationRemoved}, noPayload: true})
		default:
			was := o.role
			o.role = r.defaultRole(now)
			item.Role = o.role
			r.broadcastPresence(o, presence{item: item}, o.sessions, true)
			if o.role == muc.RoleModerator && was != muc.RoleModerator {
				r.revealJIDs(o)
			}
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
