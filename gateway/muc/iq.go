package muc

import (
	"slices"
	"strconv"
	"strings"

	"junction/xmpp/form"
	"junction/xmpp/jid"
	"junction/xmpp/muc"
	"junction/xmpp/stanza"
	"junction/xmpp/xmltok"
)

// Namespaces of the iq payloads rooms and the service answer.
const (
	nsDiscoInfo  = "http://jabber.org/protocol/disco#info"
	nsDiscoItems = "http://jabber.org/protocol/disco#items"
	nsPing       = "urn:xmpp:ping"
	nsVCard      = "vcard-temp"
)

// maxPendingIQs bounds the iqs a room forwards to occupants and waits on;
// the oldest is forgotten first.
const maxPendingIQs = 256

// pendingIQ is an iq forwarded to an occupant, waiting for its answer.
type pendingIQ struct {
	id        string  // the requester's id
	requester jid.JID // the requester's real JID
	target    jid.JID // where the request went: the answer must come from there
	from      jid.JID // the target's occupant JID, the answer's 'from'
}

// handleIQ handles an iq to the room or to an occupant.
func (r *room) handleIQ(st *stanza.Stanza) error {
	nick := st.To.Resourcepart()
	if st.Type != "get" && st.Type != "set" {
		if nick != "" {
			r.iqAnswer(st)
		}
		return nil
	}
	p := st.Payload()
	if p == nil {
		return stanza.Errorf(stanza.Modify, stanza.BadRequest, "an iq request needs a payload")
	}
	aff := r.affiliation(st.From)
	if r.isNew || (r.locked && aff != muc.AffiliationOwner) {
		return stanza.Errorf(stanza.Cancel, stanza.ItemNotFound, "no such room")
	}
	if nick != "" {
		return r.iqToOccupant(st, p, nick)
	}
	switch p.Name {
	case xmltok.Name{Space: nsDiscoInfo, Local: "query"}:
		if st.Type != "get" {
			return stanza.Errorf(stanza.Cancel, stanza.BadRequest, "disco#info is a get")
		}
		if p.Attr("node") != "" {
			return stanza.Errorf(stanza.Cancel, stanza.ItemNotFound, "no such node")
		}
		r.svc.send(stanza.Result(st, r.discoInfo()))
	case xmltok.Name{Space: nsDiscoItems, Local: "query"}:
		// Occupants are not listed: in a semi-anonymous room that would
		// leak who is present to anyone asking (XEP-0045 §6.5).
		r.svc.send(stanza.Result(st, xmltok.NewNode(nsDiscoItems, "query")))
	case xmltok.Name{Space: nsPing, Local: "ping"}:
		r.svc.send(stanza.Result(st))
	case xmltok.Name{Space: muc.NSAdmin, Local: "query"}:
		return r.admin(st, p)
	case xmltok.Name{Space: muc.NSOwner, Local: "query"}:
		return r.owner(st, p)
	default:
		return stanza.Errorf(stanza.Cancel, stanza.ServiceUnavailable, "")
	}
	return nil
}

// discoInfo describes the room (XEP-0045 §6.4) with the muc#roominfo form.
func (r *room) discoInfo() *xmltok.Node {
	c := r.cfg
	name := c.title
	if name == "" {
		name = r.name
	}
	q := xmltok.NewNode(nsDiscoInfo, "query")
	q.Add(xmltok.NewNode(nsDiscoInfo, "identity", attr("category", "conference"), attr("type", "text"), attr("name", name)))
	pick := func(b bool, yes, no string) string {
		if b {
			return yes
		}
		return no
	}
	for _, f := range []string{
		muc.NS, nsDiscoInfo, nsPing, muc.FeatureStableID, muc.FeatureSelfPing,
		pick(c.public, muc.FeaturePublic, muc.FeatureHidden),
		pick(c.persistent, muc.FeaturePersistent, muc.FeatureTemporary),
		pick(c.membersOnly, muc.FeatureMembersOnly, muc.FeatureOpen),
		pick(c.moderated, muc.FeatureModerated, muc.FeatureUnmoderated),
		pick(c.password != "", muc.FeaturePasswordProtected, muc.FeatureUnsecured),
		pick(c.whoisAnyone, muc.FeatureNonAnonymous, muc.FeatureSemiAnonymous),
	} {
		q.Add(xmltok.NewNode(nsDiscoInfo, "feature", attr("var", f)))
	}
	info := form.Form{Type: form.TypeResult, Fields: []form.Field{
		{Var: form.FormTypeVar, Type: form.Hidden, Values: []string{muc.NSRoomInfo}},
		{Var: "muc#roominfo_description", Label: "Description", Values: []string{c.desc}},
		{Var: "muc#roominfo_occupants", Label: "Number of occupants", Values: []string{strconv.Itoa(len(r.byNick))}},
		{Var: "muc#roominfo_subject", Label: "Subject", Values: []string{r.subject}},
		{Var: "muc#roominfo_subjectmod", Type: form.Boolean, Label: "Occupants may change the subject", Values: []string{form.FormatBool(c.changeSubject)}},
		{Var: "muc#roomconfig_roomname", Label: "Name", Values: []string{c.title}},
		{Var: "muc#maxhistoryfetch", Label: "Maximum number of history messages", Values: []string{strconv.Itoa(c.historyLength)}},
	}}
	q.Add(info.Node())
	return q
}

// iqToOccupant answers a self-ping (XEP-0410) or forwards an iq to the
// occupant's client (vCard requests to its bare JID), hiding both real JIDs
// (XEP-0045 §17.3.4).
func (r *room) iqToOccupant(st *stanza.Stanza, p *xmltok.Node, nick string) error {
	o := r.byJID[st.From]
	if o == nil {
		return stanza.Errorf(stanza.Modify, stanza.NotAcceptable, "you are not in this room")
	}
	target := r.byNick[nick]
	if target == nil {
		return stanza.Errorf(stanza.Cancel, stanza.ItemNotFound, "no one in the room has that nickname")
	}
	if target == o && p.Name == (xmltok.Name{Space: nsPing, Local: "ping"}) {
		r.svc.send(stanza.Result(st))
		return nil
	}
	to := target.newest().jid
	if p.Name == (xmltok.Name{Space: nsVCard, Local: "vCard"}) && st.Type == "get" {
		to = target.bare
	}
	r.iqCounter++
	id := "muc" + strconv.FormatUint(r.iqCounter, 36)
	fwd, err := readdress(st, o.nickJID, to, id)
	if err != nil {
		return stanza.Errorf(stanza.Modify, stanza.BadRequest, "")
	}
	if len(r.pendingQ) >= maxPendingIQs {
		delete(r.pending, r.pendingQ[0])
		r.pendingQ = r.pendingQ[1:]
	}
	if r.pending == nil {
		r.pending = make(map[string]pendingIQ)
	}
	r.pending[id] = pendingIQ{id: st.ID, requester: st.From, target: to, from: target.nickJID}
	r.pendingQ = append(r.pendingQ, id)
	r.svc.send(fwd)
	return nil
}

// iqAnswer passes an occupant's answer to a forwarded iq back to the
// requester; anything else is dropped.
func (r *room) iqAnswer(st *stanza.Stanza) {
	p, ok := r.pending[st.ID]
	if !ok || p.target != st.From {
		return
	}
	delete(r.pending, st.ID)
	for i, id := range r.pendingQ {
		if id == st.ID {
			r.pendingQ = append(r.pendingQ[:i], r.pendingQ[i+1:]...)
			break
		}
	}
	if back, err := readdress(st, p.from, p.requester, p.id); err == nil {
		r.svc.send(back)
	}
}

// readdress copies st with new addresses and id.
func readdress(st *stanza.Stanza, from, to jid.JID, id string) (*stanza.Stanza, error) {
	n, err := st.Node()
	if err != nil {
		return nil, err
	}
	c := *n
	c.Attrs = append([]xmltok.Attr(nil), n.Attrs...)
	stanza.SetAttr(&c, "from", from.String())
	stanza.SetAttr(&c, "to", to.String())
	if id == "" {
		stanza.DelAttr(&c, "id")
	} else {
		stanza.SetAttr(&c, "id", id)
	}
	return stanza.FromNode(&c)
}

// handleService answers stanzas to the service's own address: disco and
// ping (XEP-0045 §6.1–6.3).
func (s *Service) handleService(st *stanza.Stanza) {
	if st.IsError() || st.Name == stanza.Presence || st.From.IsZero() {
		return
	}
	if st.Name == stanza.Message {
		s.reply(st, stanza.Errorf(stanza.Cancel, stanza.ServiceUnavailable, ""))
		return
	}
	if st.Type != "get" && st.Type != "set" {
		return
	}
	p := st.Payload()
	if p == nil {
		s.reply(st, stanza.Errorf(stanza.Modify, stanza.BadRequest, "an iq request needs a payload"))
		return
	}
	if st.Type == "get" && p.Attr("node") != "" && (p.Name.Space == nsDiscoInfo || p.Name.Space == nsDiscoItems) {
		s.reply(st, stanza.Errorf(stanza.Cancel, stanza.ItemNotFound, "no such node"))
		return
	}
	switch {
	case st.Type == "get" && p.Name == xmltok.Name{Space: nsDiscoInfo, Local: "query"}:
		q := xmltok.NewNode(nsDiscoInfo, "query")
		q.Add(xmltok.NewNode(nsDiscoInfo, "identity", attr("category", "conference"), attr("type", "text"), attr("name", s.opts.Name)))
		for _, f := range []string{muc.NS, nsDiscoInfo, nsDiscoItems, nsPing, muc.FeatureStableID, muc.FeatureSelfPing} {
			q.Add(xmltok.NewNode(nsDiscoInfo, "feature", attr("var", f)))
		}
		s.send(stanza.Result(st, q))
	case st.Type == "get" && p.Name == xmltok.Name{Space: nsDiscoItems, Local: "query"}:
		q := xmltok.NewNode(nsDiscoItems, "query")
		for _, sum := range s.roomSummaries() {
			attrs := []xmltok.Attr{attr("jid", sum.jid.String())}
			if sum.title != "" {
				attrs = append(attrs, attr("name", sum.title))
			}
			q.Add(xmltok.NewNode(nsDiscoItems, "item", attrs...))
		}
		s.send(stanza.Result(st, q))
	case st.Type == "get" && p.Name == xmltok.Name{Space: nsPing, Local: "ping"}:
		s.send(stanza.Result(st))
	default:
		s.reply(st, stanza.Errorf(stanza.Cancel, stanza.ServiceUnavailable, ""))
	}
}

// sortSummaries sorts rooms by JID.
func sortSummaries(sums []summary) {
	slices.SortFunc(sums, func(a, b summary) int { return strings.Compare(a.jid.String(), b.jid.String()) })
}

func attr(name, value string) xmltok.Attr {
	return xmltok.Attr{Name: xmltok.Name{Local: name}, Value: value}
}
