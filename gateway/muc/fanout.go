package muc

import (
	"strings"

	"junction/xmpp/jid"
	"junction/xmpp/stanza"
	"junction/xmpp/xmltok"
)

// tmpl is one stanza serialized once with a hole for the value of its 'to'
// attribute, the one thing that differs between recipients: a recipient's
// stanza is head + its escaped JID + tail. Building it costs one string
// concatenation, never a serialization or a parse.
type tmpl struct {
	name, typ, id string
	from          jid.JID
	head, tail    string
}

// newTmpl builds the template of <name from id type attrs to=…>inner</name>.
// attrs are extra attributes, already escaped, each with a leading space;
// inner is the serialized content.
func newTmpl(name string, from jid.JID, typ, id, attrs, inner string) *tmpl {
	b := make([]byte, 0, 64+len(attrs))
	b = append(b, '<')
	b = append(b, name...)
	b = append(b, ` from="`...)
	b = xmltok.EscapeAttr(b, from.String())
	if id != "" {
		b = append(b, `" id="`...)
		b = xmltok.EscapeAttr(b, id)
	}
	if typ != "" {
		b = append(b, `" type="`...)
		b = xmltok.EscapeAttr(b, typ)
	}
	b = append(b, '"')
	b = append(b, attrs...)
	b = append(b, ` to="`...)
	t := &tmpl{name: name, typ: typ, id: id, from: from, head: string(b)}
	if inner == "" {
		t.tail = `"/>`
	} else {
		t.tail = `">` + inner + "</" + name + ">"
	}
	return t
}

// size is the length of the stanza without its 'to' value.
func (t *tmpl) size() int { return len(t.head) + len(t.tail) }

// one returns the stanza for one recipient.
func (t *tmpl) one(to *session) *stanza.Stanza {
	return &stanza.Stanza{Name: t.name, To: to.jid, From: t.from, Type: t.typ, ID: t.id, Raw: t.head + to.toAttr + t.tail}
}

// many returns the stanzas for every recipient in to. All their bytes live
// in one string and the stanzas in one array: two allocations whatever the
// number of recipients. (The shared buffer lives until the last recipient's
// stanza is written out; it is no larger than the separate strings would be.)
func (t *tmpl) many(to []*session) []stanza.Stanza {
	if len(to) == 0 {
		return nil
	}
	n := len(to) * t.size()
	for _, s := range to {
		n += len(s.toAttr)
	}
	var b strings.Builder
	b.Grow(n)
	for _, s := range to {
		b.WriteString(t.head)
		b.WriteString(s.toAttr)
		b.WriteString(t.tail)
	}
	all := b.String()
	out := make([]stanza.Stanza, len(to))
	off := 0
	for i, s := range to {
		l := t.size() + len(s.toAttr)
		out[i] = stanza.Stanza{Name: t.name, To: s.jid, From: t.from, Type: t.typ, ID: t.id, Raw: all[off : off+l]}
		off += l
	}
	return out
}

// fanout sends t to every session in to.
func (s *Service) fanout(t *tmpl, to []*session) {
	out := t.many(to)
	for i := range out {
		s.send(&out[i])
	}
}
