// Package stanza owns the XMPP stanza value (RFC 6120 §8): a parsed header
// (name, to, from, type, id) next to the stanza's serialized bytes, so that
// routing never re-serializes a stanza it does not need to look into.
package stanza

import (
	"fmt"
	"strings"

	"junction/xmpp/jid"
	"junction/xmpp/xmltok"
)

// Namespaces of the stanza content streams.
const (
	NSClient    = "jabber:client"
	NSServer    = "jabber:server"
	NSComponent = "jabber:component:accept"
	NSStanzas   = "urn:ietf:params:xml:ns:xmpp-stanzas"
)

// Stanza names.
const (
	Message  = "message"
	Presence = "presence"
	IQ       = "iq"
)

// Stanza is one message, presence or iq. Raw is its serialization for a
// jabber:client stream with From and To already as they must be delivered;
// the header fields are views of it. A Stanza is immutable once built: code
// that needs a changed copy builds a new one.
type Stanza struct {
	Name     string // message, presence or iq
	To, From jid.JID
	Type, ID string
	Raw      string

	node *xmltok.Node // parsed lazily by Node
}

// IsError reports whether the stanza is itself an error; errors are never
// answered with errors, so they cannot loop.
func (s *Stanza) IsError() bool { return s.Type == "error" }

// Node parses the stanza into a tree (off the routing hot path: iq payloads,
// presence state). The result is cached and must not be modified.
func (s *Stanza) Node() (*xmltok.Node, error) {
	if s.node != nil {
		return s.node, nil
	}
	n, err := xmltok.Parse([]byte(s.Raw), NSClient)
	if err != nil {
		return nil, fmt.Errorf("parse %s stanza: %w", s.Name, err)
	}
	s.node = n
	return n, nil
}

// Payload returns the first child element of the stanza, the payload of an
// iq, or nil.
func (s *Stanza) Payload() *xmltok.Node {
	n, err := s.Node()
	if err != nil || len(n.Children) == 0 {
		return nil
	}
	return n.Children[0]
}

// FromNode builds a stanza from a tree. n's To, From, Type and ID attributes
// are read from the tree; the tree is serialized once.
func FromNode(n *xmltok.Node) (*Stanza, error) {
	st := &Stanza{Name: n.Name.Local, Type: n.Attr("type"), ID: n.Attr("id"), node: n}
	var err error
	if v := n.Attr("to"); v != "" {
		if st.To, err = jid.Parse(v); err != nil {
			return nil, &Error{Type: Modify, Condition: JIDMalformed, Text: "invalid 'to' address", Err: err}
		}
	}
	if v := n.Attr("from"); v != "" {
		if st.From, err = jid.Parse(v); err != nil {
			return nil, &Error{Type: Modify, Condition: JIDMalformed, Text: "invalid 'from' address", Err: err}
		}
	}
	st.Raw = string(n.AppendXML(nil, NSClient))
	return st, nil
}

// FromElement turns a top-level element read from a client stream into a
// stanza whose 'from' is from, whatever the client wrote there: a client
// never chooses its own address. It costs two allocations on the common
// path (no 'from' on the wire, attribute values without escapes): the stanza
// and its bytes.
func FromElement(el *xmltok.Element, from jid.JID) (*Stanza, error) {
	switch el.Local {
	case Message, Presence, IQ:
	default:
		return nil, fmt.Errorf("stanza: %q is not a stanza", el.Local)
	}
	var (
		toVal, typeVal, idVal []byte
		toOff, typeOff, idOff = -1, -1, -1
		hasFrom, escaped      bool
	)
	for i := range el.Attrs {
		a := &el.Attrs[i]
		if a.Space != "" {
			continue
		}
		switch string(a.Local) {
		case "to":
			toVal, toOff = a.Value, a.ValueOff
		case "type":
			typeVal, typeOff = a.Value, a.ValueOff
		case "id":
			idVal, idOff = a.Value, a.ValueOff
		case "from":
			hasFrom = true
		}
		if a.ValueOff < 0 {
			escaped = true
		}
	}
	if hasFrom || escaped {
		return fromElementSlow(el, from)
	}

	// Insert from='…' right after "<name"; every later offset shifts by the
	// inserted length.
	fromStr := from.String()
	insertAt := 1 + len(el.Local)
	var b strings.Builder
	b.Grow(len(el.Raw) + len(fromStr) + 9)
	b.Write(el.Raw[:insertAt])
	b.WriteString(" from='")
	writeAttrEscaped(&b, fromStr)
	b.WriteByte('\'')
	shift := b.Len() - insertAt
	b.Write(el.Raw[insertAt:])
	raw := b.String()

	st := &Stanza{Name: el.Local, From: from, Raw: raw}
	view := func(off int, v []byte) string {
		if off < 0 {
			return ""
		}
		return raw[off+shift : off+shift+len(v)]
	}
	st.Type = view(typeOff, typeVal)
	st.ID = view(idOff, idVal)
	if toOff >= 0 {
		to, err := jid.Parse(view(toOff, toVal))
		if err != nil {
			return st, &Error{Type: Modify, Condition: JIDMalformed, Text: "invalid 'to' address", Err: err}
		}
		st.To = to
	}
	return st, nil
}

// fromElementSlow handles the rare stanza that carries its own 'from' or has
// escaped attribute values: parse, overwrite from, serialize.
func fromElementSlow(el *xmltok.Element, from jid.JID) (*Stanza, error) {
	n, err := el.Node()
	if err != nil {
		return nil, err
	}
	SetAttr(n, "from", from.String())
	st, err := FromNode(n)
	if st != nil {
		st.From = from
	}
	return st, err
}

// SetAttr sets or replaces the un-namespaced attribute name on n.
func SetAttr(n *xmltok.Node, name, value string) {
	for i := range n.Attrs {
		if n.Attrs[i].Name.Space == "" && n.Attrs[i].Name.Local == name {
			n.Attrs[i].Value = value
			return
		}
	}
	n.Attrs = append(n.Attrs, xmltok.Attr{Name: xmltok.Name{Local: name}, Value: value})
}

// DelAttr removes the un-namespaced attribute name from n.
func DelAttr(n *xmltok.Node, name string) {
	for i := range n.Attrs {
		if n.Attrs[i].Name.Space == "" && n.Attrs[i].Name.Local == name {
			n.Attrs = append(n.Attrs[:i], n.Attrs[i+1:]...)
			return
		}
	}
}

func writeAttrEscaped(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '&':
			b.WriteString("&amp;")
		case '\'':
			b.WriteString("&apos;")
		case '"':
			b.WriteString("&quot;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		default:
			b.WriteByte(c)
		}
	}
}

// WithAddresses returns a copy of st addressed from → to, for forwarding a
// stanza under other addresses (the stanza is re-serialized).
func WithAddresses(st *Stanza, from, to jid.JID) (*Stanza, error) {
	n, err := st.Node()
	if err != nil {
		return nil, err
	}
	c := cloneShallow(n)
	setOrDel(c, "from", from)
	setOrDel(c, "to", to)
	return FromNode(c)
}

func setOrDel(n *xmltok.Node, name string, j jid.JID) {
	if j.IsZero() {
		DelAttr(n, name)
		return
	}
	SetAttr(n, name, j.String())
}

// cloneShallow copies n and its attribute slice; children are shared, which
// is safe because parsed trees are never modified below the top.
func cloneShallow(n *xmltok.Node) *xmltok.Node {
	c := *n
	c.Attrs = append([]xmltok.Attr(nil), n.Attrs...)
	return &c
}

// New builds a stanza named name with the given header and payload children.
func New(name string, from, to jid.JID, typ, id string, payload ...*xmltok.Node) *Stanza {
	n := xmltok.NewNode(NSClient, name)
	if !to.IsZero() {
		SetAttr(n, "to", to.String())
	}
	if !from.IsZero() {
		SetAttr(n, "from", from.String())
	}
	if typ != "" {
		SetAttr(n, "type", typ)
	}
	if id != "" {
		SetAttr(n, "id", id)
	}
	n.Add(payload...)
	return &Stanza{Name: name, To: to, From: from, Type: typ, ID: id, Raw: string(n.AppendXML(nil, NSClient)), node: n}
}

// Result builds the empty type='result' reply to the iq req, with optional payload.
func Result(req *Stanza, payload ...*xmltok.Node) *Stanza {
	return New(IQ, req.To, req.From, "result", req.ID, payload...)
}

// Parse parses a serialized jabber:client stanza, such as one kept in the
// store.
func Parse(raw string) (*Stanza, error) {
	n, err := xmltok.Parse([]byte(raw), NSClient)
	if err != nil {
		return nil, fmt.Errorf("parse stored stanza: %w", err)
	}
	return FromNode(n)
}

// WithoutTree returns a copy of s that does not keep the parsed tree, for
// stanzas kept for a long time (a session's last presence): the bytes are
// enough, and the tree is rebuilt if ever needed.
func (s *Stanza) WithoutTree() *Stanza {
	c := *s
	c.node = nil
	return &c
}
