// Package muc owns the vocabulary of Multi-User Chat (XEP-0045): its
// namespaces and features, status codes, roles and affiliations with their
// order, the <item/> of muc#user presence and muc#admin queries, the
// muc#user extension built onto presence and messages, and the join request
// with its discussion-history limits. It holds no policy: who may do what in
// a room is decided by the service (gateway/muc).
package muc

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"junction/xmpp/jid"
	"junction/xmpp/xmltok"
)

// Namespaces of XEP-0045 and the XEPs it leans on.
const (
	NS           = "http://jabber.org/protocol/muc"
	NSUser       = NS + "#user"
	NSAdmin      = NS + "#admin"
	NSOwner      = NS + "#owner"
	NSRoomConfig = NS + "#roomconfig"
	NSRoomInfo   = NS + "#roominfo"
	// NSDelay is XEP-0203 delayed delivery, stamped on discussion history.
	NSDelay = "urn:xmpp:delay"
	// NSStanzaID is XEP-0359 unique and stable stanza IDs.
	NSStanzaID = "urn:xmpp:sid:0"
)

// Disco features of rooms and services (XEP-0045 §15.4, XEP-0410).
const (
	FeaturePublic            = "muc_public"
	FeatureHidden            = "muc_hidden"
	FeaturePersistent        = "muc_persistent"
	FeatureTemporary         = "muc_temporary"
	FeatureOpen              = "muc_open"
	FeatureMembersOnly       = "muc_membersonly"
	FeatureModerated         = "muc_moderated"
	FeatureUnmoderated       = "muc_unmoderated"
	FeaturePasswordProtected = "muc_passwordprotected"
	FeatureUnsecured         = "muc_unsecured"
	FeatureNonAnonymous      = "muc_nonanonymous"
	FeatureSemiAnonymous     = "muc_semianonymous"
	// FeatureStableID says the room keeps the id of reflected messages.
	FeatureStableID = NS + "#stable_id"
	// FeatureSelfPing says the service answers XEP-0410 self-pings itself.
	FeatureSelfPing = NS + "#self-ping-optimization"
)

// Status is a muc#user status code (XEP-0045 §15.6).
type Status int

// Status codes.
const (
	StatusNonAnonymous       Status = 100 // the room shows real JIDs to everyone
	StatusAffiliationOffline Status = 101 // affiliation changed while not in the room
	StatusConfigChanged      Status = 104 // a non-privacy configuration change
	StatusSelf               Status = 110 // this presence is about you
	StatusLogging            Status = 170 // the room is logged
	StatusLoggingOff         Status = 171 // the room is no longer logged
	StatusNowNonAnonymous    Status = 172 // the room now shows real JIDs to everyone
	StatusNowSemiAnonymous   Status = 173 // the room now shows real JIDs to moderators only
	StatusCreated            Status = 201 // a new room was created
	StatusNickModified       Status = 210 // the service changed your nick
	StatusBanned             Status = 301 // removed: banned
	StatusNickChanged        Status = 303 // the occupant changed nick (item carries the new one)
	StatusKicked             Status = 307 // removed: kicked
	StatusAffiliationRemoved Status = 321 // removed: affiliation change in a members-only room
	StatusMembersOnly        Status = 322 // removed: the room became members-only
	StatusShutdown           Status = 332 // removed: the service is shutting down
	StatusError              Status = 333 // removed: a technical problem (delivery error)
)

// Role is an occupant's role in a room (XEP-0045 §5.1).
type Role string

// Roles, lowest first.
const (
	RoleNone        Role = "none"
	RoleVisitor     Role = "visitor"
	RoleParticipant Role = "participant"
	RoleModerator   Role = "moderator"
)

// Rank orders roles: none 0, visitor 1, participant 2, moderator 3; -1 for
// an unknown role.
func (r Role) Rank() int {
	switch r {
	case RoleNone:
		return 0
	case RoleVisitor:
		return 1
	case RoleParticipant:
		return 2
	case RoleModerator:
		return 3
	}
	return -1
}

// ParseRole returns the role named s and whether it is one.
func ParseRole(s string) (Role, bool) {
	r := Role(s)
	return r, r.Rank() >= 0
}

// Affiliation is a user's long-lived affiliation with a room (XEP-0045 §5.2).
type Affiliation string

// Affiliations, lowest first.
const (
	AffiliationOutcast Affiliation = "outcast"
	AffiliationNone    Affiliation = "none"
	AffiliationMember  Affiliation = "member"
	AffiliationAdmin   Affiliation = "admin"
	AffiliationOwner   Affiliation = "owner"
)

// Rank orders affiliations: outcast 0, none 1, member 2, admin 3, owner 4;
// -1 for an unknown affiliation.
func (a Affiliation) Rank() int {
	switch a {
	case AffiliationOutcast:
		return 0
	case AffiliationNone:
		return 1
	case AffiliationMember:
		return 2
	case AffiliationAdmin:
		return 3
	case AffiliationOwner:
		return 4
	}
	return -1
}

// ParseAffiliation returns the affiliation named s and whether it is one.
func ParseAffiliation(s string) (Affiliation, bool) {
	a := Affiliation(s)
	return a, a.Rank() >= 0
}

// ErrInvalid is returned (wrapped) for a MUC element that cannot be read.
var ErrInvalid = errors.New("muc: invalid element")

// Item is the <item/> of muc#user presence and of muc#admin requests and
// results. Empty fields are left out on the wire.
type Item struct {
	Affiliation Affiliation
	Role        Role
	JID         jid.JID // the real JID, zero when hidden
	Nick        string
	Reason      string
	Actor       string // nick of the occupant who made the change
}

// Node returns the item element in namespace space (NSUser or NSAdmin).
func (it Item) Node(space string) *xmltok.Node {
	n := xmltok.NewNode(space, "item")
	if it.Affiliation != "" {
		n.Attrs = append(n.Attrs, attr("affiliation", string(it.Affiliation)))
	}
	if !it.JID.IsZero() {
		n.Attrs = append(n.Attrs, attr("jid", it.JID.String()))
	}
	if it.Nick != "" {
		n.Attrs = append(n.Attrs, attr("nick", it.Nick))
	}
	if it.Role != "" {
		n.Attrs = append(n.Attrs, attr("role", string(it.Role)))
	}
	if it.Actor != "" {
		n.Add(xmltok.NewNode(space, "actor", attr("nick", it.Actor)))
	}
	if it.Reason != "" {
		n.Add(xmltok.NewNode(space, "reason").SetText(it.Reason))
	}
	return n
}

// ParseItem reads an <item/> as sent in a muc#admin request. Unknown roles
// and affiliations and a malformed jid are errors wrapping ErrInvalid.
func ParseItem(n *xmltok.Node) (Item, error) {
	var it Item
	var ok bool
	if v := n.Attr("affiliation"); v != "" {
		if it.Affiliation, ok = ParseAffiliation(v); !ok {
			return Item{}, fmt.Errorf("%w: affiliation %q", ErrInvalid, v)
		}
	}
	if v := n.Attr("role"); v != "" {
		if it.Role, ok = ParseRole(v); !ok {
			return Item{}, fmt.Errorf("%w: role %q", ErrInvalid, v)
		}
	}
	if v := n.Attr("jid"); v != "" {
		j, err := jid.Parse(v)
		if err != nil {
			return Item{}, fmt.Errorf("%w: jid %q: %w", ErrInvalid, v, err)
		}
		it.JID = j
	}
	it.Nick = n.Attr("nick")
	if r := n.Child(n.Name.Space, "reason"); r != nil {
		it.Reason = r.Text
	}
	if a := n.Child(n.Name.Space, "actor"); a != nil {
		it.Actor = a.Attr("nick")
	}
	return it, nil
}

// Destroy is the <destroy/> of a room destruction: the request in muc#owner
// and the notice in muc#user presence.
type Destroy struct {
	JID      jid.JID // alternate venue, zero for none
	Reason   string
	Password string // for the alternate venue
}

// Node returns the destroy element in namespace space (NSOwner or NSUser).
func (d Destroy) Node(space string) *xmltok.Node {
	n := xmltok.NewNode(space, "destroy")
	if !d.JID.IsZero() {
		n.Attrs = append(n.Attrs, attr("jid", d.JID.String()))
	}
	if d.Reason != "" {
		n.Add(xmltok.NewNode(space, "reason").SetText(d.Reason))
	}
	if d.Password != "" {
		n.Add(xmltok.NewNode(space, "password").SetText(d.Password))
	}
	return n
}

// ParseDestroy reads a <destroy/> element; a malformed jid is an error
// wrapping ErrInvalid.
func ParseDestroy(n *xmltok.Node) (Destroy, error) {
	var d Destroy
	if v := n.Attr("jid"); v != "" {
		j, err := jid.Parse(v)
		if err != nil {
			return Destroy{}, fmt.Errorf("%w: destroy jid %q: %w", ErrInvalid, v, err)
		}
		d.JID = j
	}
	if r := n.Child(n.Name.Space, "reason"); r != nil {
		d.Reason = r.Text
	}
	if p := n.Child(n.Name.Space, "password"); p != nil {
		d.Password = p.Text
	}
	return d, nil
}

// User is the muc#user <x/> a service adds to presence and messages.
type User struct {
	Items    []Item
	Statuses []Status
	Destroy  *Destroy
	// Invites and Declines are carried by mediated invitation messages.
	Invites  []Invite
	Declines []Invite
	Password string
}

// Node returns the <x xmlns='http://jabber.org/protocol/muc#user'/> element.
func (u *User) Node() *xmltok.Node {
	x := xmltok.NewNode(NSUser, "x")
	for _, inv := range u.Invites {
		x.Add(inv.node("invite"))
	}
	for _, dec := range u.Declines {
		x.Add(dec.node("decline"))
	}
	if u.Destroy != nil {
		x.Add(u.Destroy.Node(NSUser))
	}
	for _, it := range u.Items {
		x.Add(it.Node(NSUser))
	}
	for _, s := range u.Statuses {
		x.Add(xmltok.NewNode(NSUser, "status", attr("code", strconv.Itoa(int(s)))))
	}
	if u.Password != "" {
		x.Add(xmltok.NewNode(NSUser, "password").SetText(u.Password))
	}
	return x
}

// ParseUser reads a muc#user <x/>: the invitations, declines and password a
// client sends to a room. Status codes and items are read too, for clients
// and tests. A malformed address is an error wrapping ErrInvalid.
func ParseUser(x *xmltok.Node) (*User, error) {
	u := &User{}
	for _, c := range x.Children {
		if c.Name.Space != NSUser {
			continue
		}
		switch c.Name.Local {
		case "invite", "decline":
			inv, err := parseInvite(c)
			if err != nil {
				return nil, err
			}
			if c.Name.Local == "invite" {
				u.Invites = append(u.Invites, inv)
			} else {
				u.Declines = append(u.Declines, inv)
			}
		case "item":
			it, err := ParseItem(c)
			if err != nil {
				return nil, err
			}
			u.Items = append(u.Items, it)
		case "status":
			code, err := strconv.Atoi(c.Attr("code"))
			if err != nil {
				return nil, fmt.Errorf("%w: status code %q", ErrInvalid, c.Attr("code"))
			}
			u.Statuses = append(u.Statuses, Status(code))
		case "destroy":
			d, err := ParseDestroy(c)
			if err != nil {
				return nil, err
			}
			u.Destroy = &d
		case "password":
			u.Password = c.Text
		}
	}
	return u, nil
}

// Invite is a mediated invitation or a decline (XEP-0045 §7.8.2). A client
// sets To; the room replaces it with From when it passes it on.
type Invite struct {
	From, To jid.JID
	Reason   string
}

func (inv Invite) node(name string) *xmltok.Node {
	n := xmltok.NewNode(NSUser, name)
	if !inv.From.IsZero() {
		n.Attrs = append(n.Attrs, attr("from", inv.From.String()))
	}
	if !inv.To.IsZero() {
		n.Attrs = append(n.Attrs, attr("to", inv.To.String()))
	}
	if inv.Reason != "" {
		n.Add(xmltok.NewNode(NSUser, "reason").SetText(inv.Reason))
	}
	return n
}

func parseInvite(n *xmltok.Node) (Invite, error) {
	var inv Invite
	for _, a := range []struct {
		name string
		dst  *jid.JID
	}{{"from", &inv.From}, {"to", &inv.To}} {
		if v := n.Attr(a.name); v != "" {
			j, err := jid.Parse(v)
			if err != nil {
				return Invite{}, fmt.Errorf("%w: %s %s %q: %w", ErrInvalid, n.Name.Local, a.name, v, err)
			}
			*a.dst = j
		}
	}
	if r := n.Child(NSUser, "reason"); r != nil {
		inv.Reason = r.Text
	}
	return inv, nil
}

// History is what discussion history a joining occupant asks for (XEP-0045
// §7.2.15). A negative count means the attribute was absent; a zero Since
// likewise.
type History struct {
	MaxChars, MaxStanzas, Seconds int
	Since                         time.Time
}

// NoLimit is a History that asks for nothing in particular.
var NoLimit = History{MaxChars: -1, MaxStanzas: -1, Seconds: -1}

// Join is the <x xmlns='http://jabber.org/protocol/muc'/> of a join presence.
type Join struct {
	Password string
	History  History
}

// ParseJoin reads a join request element. Malformed history attributes are
// errors wrapping ErrInvalid; negative numbers count as absent.
func ParseJoin(x *xmltok.Node) (Join, error) {
	j := Join{History: NoLimit}
	if p := x.Child(NS, "password"); p != nil {
		j.Password = p.Text
	}
	h := x.Child(NS, "history")
	if h == nil {
		return j, nil
	}
	for _, a := range []struct {
		name string
		dst  *int
	}{{"maxchars", &j.History.MaxChars}, {"maxstanzas", &j.History.MaxStanzas}, {"seconds", &j.History.Seconds}} {
		v := h.Attr(a.name)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return Join{}, fmt.Errorf("%w: history %s %q", ErrInvalid, a.name, v)
		}
		if n >= 0 {
			*a.dst = n
		}
	}
	if v := h.Attr("since"); v != "" {
		t, err := ParseTime(v)
		if err != nil {
			return Join{}, fmt.Errorf("%w: history since %q", ErrInvalid, v)
		}
		j.History.Since = t
	}
	return j, nil
}

// Node returns the join element for j (clients and tests build joins with it).
func (j Join) Node() *xmltok.Node {
	x := xmltok.NewNode(NS, "x")
	if j.Password != "" {
		x.Add(xmltok.NewNode(NS, "password").SetText(j.Password))
	}
	h := j.History
	var attrs []xmltok.Attr
	if h.MaxChars >= 0 {
		attrs = append(attrs, attr("maxchars", strconv.Itoa(h.MaxChars)))
	}
	if h.MaxStanzas >= 0 {
		attrs = append(attrs, attr("maxstanzas", strconv.Itoa(h.MaxStanzas)))
	}
	if h.Seconds >= 0 {
		attrs = append(attrs, attr("seconds", strconv.Itoa(h.Seconds)))
	}
	if !h.Since.IsZero() {
		attrs = append(attrs, attr("since", FormatTime(h.Since)))
	}
	if len(attrs) > 0 {
		x.Add(xmltok.NewNode(NS, "history", attrs...))
	}
	return x
}

// FormatTime formats t as an XEP-0082 DateTime in UTC, to the second.
func FormatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

// ParseTime reads an XEP-0082 DateTime (with optional fractional seconds and
// a Z or numeric zone).
func ParseTime(s string) (time.Time, error) {
	return time.Parse(time.RFC3339Nano, s)
}

// Delay returns the XEP-0203 <delay/> stamping something from from at t.
func Delay(from jid.JID, t time.Time) *xmltok.Node {
	return xmltok.NewNode(NSDelay, "delay", attr("from", from.String()), attr("stamp", FormatTime(t)))
}

func attr(name, value string) xmltok.Attr {
	return xmltok.Attr{Name: xmltok.Name{Local: name}, Value: value}
}
