package xmltok

import "strconv"

// Node is a parsed element tree, for the paths where a tree is worth its
// allocations: IQ payloads, SASL, resource binding, building replies.
//
// As XML 1.0 requires, parsing turns \r\n and \r into \n in Text and
// literal tabs, newlines and carriage returns in attribute values into
// spaces (encoding/xml does the former but not the latter); characters
// written as references are kept.
type Node struct {
	Name     Name
	Attrs    []Attr // namespace declarations (xmlns, xmlns:p) excluded
	Children []*Node
	Text     string // this element's direct character data (CDATA included), concatenated
}

// NewNode returns an element named {space, local} with attrs.
func NewNode(space, local string, attrs ...Attr) *Node {
	return &Node{Name: Name{Space: space, Local: local}, Attrs: attrs}
}

// Add appends children to n and returns n.
func (n *Node) Add(children ...*Node) *Node {
	n.Children = append(n.Children, children...)
	return n
}

// SetText sets n's character data and returns n.
func (n *Node) SetText(s string) *Node {
	n.Text = s
	return n
}

// Attr returns the value of n's attribute local without a namespace, or "" if absent.
func (n *Node) Attr(local string) string {
	return n.AttrNS("", local)
}

// AttrNS returns the value of n's attribute {space, local}, or "" if absent.
func (n *Node) AttrNS(space, local string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == local && a.Name.Space == space {
			return a.Value
		}
	}
	return ""
}

// Child returns n's first child element named {space, local}, or nil. An
// empty space matches any namespace.
func (n *Node) Child(space, local string) *Node {
	for _, c := range n.Children {
		if c.Name.Local == local && (space == "" || c.Name.Space == space) {
			return c
		}
	}
	return nil
}

// ChildrenNamed returns n's child elements named {space, local}; an empty
// space matches any namespace.
func (n *Node) ChildrenNamed(space, local string) []*Node {
	var out []*Node
	for _, c := range n.Children {
		if c.Name.Local == local && (space == "" || c.Name.Space == space) {
			out = append(out, c)
		}
	}
	return out
}

// String returns n serialized with no namespace in effect around it.
func (n *Node) String() string { return string(n.AppendXML(nil, "")) }

// AppendXML appends n serialized to dst. parentSpace is the default
// namespace in effect where n is written: xmlns="..." is written only when
// n.Name.Space differs. Elements are written unprefixed (except those in
// NSXML, written with the xml prefix); attributes in NSXML
// get the xml prefix, attributes in other namespaces generated prefixes
// declared on the element. Text comes before the children (mixed content
// order is not kept by Node). Attributes that would declare namespaces
// (named xmlns or xmlns:*, or in the xmlns namespace) are not written.
func (n *Node) AppendXML(dst []byte, parentSpace string) []byte {
	// The xml namespace cannot be a default namespace: such an element
	// keeps the xml prefix and leaves the default as it was.
	prefix, childSpace := "", n.Name.Space
	if n.Name.Space == NSXML {
		prefix, childSpace = "xml:", parentSpace
	}
	dst = append(dst, '<')
	dst = append(dst, prefix...)
	dst = append(dst, n.Name.Local...)
	if childSpace != parentSpace {
		dst = append(dst, ` xmlns="`...)
		dst = EscapeAttr(dst, n.Name.Space)
		dst = append(dst, '"')
	}
	var spaces []string // generated prefixes: ns0 for spaces[0], ...
	for _, a := range n.Attrs {
		switch {
		case a.Name.Space == "":
			if a.Name.Local == "xmlns" || len(a.Name.Local) > 6 && a.Name.Local[:6] == "xmlns:" {
				continue
			}
			dst = append(dst, ' ')
		case a.Name.Space == NSXML:
			dst = append(dst, " xml:"...)
		case a.Name.Space == nsXMLNS:
			continue
		default:
			p := -1
			for i, s := range spaces {
				if s == a.Name.Space {
					p = i
				}
			}
			if p < 0 {
				p = len(spaces)
				spaces = append(spaces, a.Name.Space)
				dst = append(dst, " xmlns:ns"...)
				dst = strconv.AppendInt(dst, int64(p), 10)
				dst = append(dst, `="`...)
				dst = EscapeAttr(dst, a.Name.Space)
				dst = append(dst, '"')
			}
			dst = append(dst, " ns"...)
			dst = strconv.AppendInt(dst, int64(p), 10)
			dst = append(dst, ':')
		}
		dst = append(dst, a.Name.Local...)
		dst = append(dst, `="`...)
		dst = EscapeAttr(dst, a.Value)
		dst = append(dst, '"')
	}
	if n.Text == "" && len(n.Children) == 0 {
		return append(dst, "/>"...)
	}
	dst = append(dst, '>')
	dst = EscapeText(dst, n.Text)
	for _, c := range n.Children {
		dst = c.AppendXML(dst, childSpace)
	}
	dst = append(dst, "</"...)
	dst = append(dst, prefix...)
	dst = append(dst, n.Name.Local...)
	return append(dst, '>')
}

// Parse parses exactly one element, with optional whitespace around it,
// whose inherited default namespace is defaultNS. The prefixes stream
// (NSStream) and xml (NSXML) are bound. It refuses what the Decoder refuses,
// with the same conditions, and nests at most 64 elements with at most 64
// attributes each.
func Parse(raw []byte, defaultNS string) (*Node, error) {
	base := []binding{{prefix: "stream", uri: NSStream}, {prefix: "", uri: defaultNS}}
	return parse(raw, base, defaultMaxDepth, defaultMaxAttrs)
}

// parse builds the tree of the element in raw with the namespace scope base.
func parse(raw []byte, base []binding, maxDepth, maxAttrs int) (*Node, error) {
	s := scanner{
		buf:      raw,
		eof:      true,
		maxDepth: maxDepth,
		maxAttrs: maxAttrs,
		wantText: true,
		ns:       base,
		nbase:    len(base),
	}
	i := 0
	for i < len(raw) && isSpace(raw[i]) {
		i++
	}
	if err := outsideElement(raw, i); err != nil {
		return nil, err
	}
	if i == len(raw) {
		return nil, newError(CondNotWellFormed, int64(i), "no element")
	}
	s.pos = i

	type level struct {
		node *Node
		text []byte
	}
	var (
		stack []level
		root  *Node
	)
	for {
		k, err := s.next()
		if err != nil {
			return nil, err
		}
		switch k {
		case tokStart:
			n := &Node{Name: Name{Space: s.space, Local: s.str(s.name.local(s.buf))}}
			if len(s.attrs) > 0 {
				n.Attrs = make([]Attr, len(s.attrs))
				for j, a := range s.attrs {
					v := s.buf[a.valOff:a.valEnd]
					if a.decode {
						s.tmp = appendAttrValue(s.tmp[:0], v)
						v = s.tmp
					}
					n.Attrs[j] = Attr{Name: Name{Space: a.space, Local: s.str(a.name.local(s.buf))}, Value: string(v)}
				}
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1].node
				p.Children = append(p.Children, n)
			} else {
				root = n
			}
			if !s.selfClosing {
				stack = append(stack, level{node: n})
			}
		case tokText:
			l := &stack[len(stack)-1]
			t := s.buf[s.textStart:s.textEnd]
			if s.textDecode {
				l.text = appendText(l.text, t, s.textCDATA)
			} else {
				l.text = append(l.text, t...)
			}
		case tokEnd:
			l := stack[len(stack)-1]
			l.node.Text = string(l.text)
			stack = stack[:len(stack)-1]
		}
		if len(stack) == 0 {
			break
		}
	}
	i = s.pos
	for i < len(raw) && isSpace(raw[i]) {
		i++
	}
	if i < len(raw) {
		if err := outsideElement(raw, i); err != nil {
			return nil, err
		}
		return nil, newError(CondNotWellFormed, int64(i), "more than one element")
	}
	return root, nil
}

// outsideElement checks raw[i:] where an element may start; it returns nil
// at a start tag or the end of raw.
func outsideElement(raw []byte, i int) error {
	if i == len(raw) {
		return nil
	}
	if raw[i] != '<' {
		return newError(CondNotWellFormed, int64(i), "character data outside the element")
	}
	if i+1 == len(raw) {
		return newError(CondNotWellFormed, int64(i), "unexpected end of input")
	}
	switch raw[i+1] {
	case '!', '?':
		return markupError(raw[i:], true, int64(i))
	case '/':
		return newError(CondNotWellFormed, int64(i), "end tag without a start tag")
	}
	return nil
}
