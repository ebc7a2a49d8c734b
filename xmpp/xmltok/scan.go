package xmltok

import "bytes"

// tokKind is what scanner.next found.
type tokKind uint8

const (
	tokNone  tokKind = iota
	tokStart         // a start tag; scanner.selfClosing says whether it also ended
	tokEnd           // an end tag
	tokText          // character data: scanner.textStart..textEnd
)

// qname is a raw qualified name in the scanner's buffer.
type qname struct {
	off, end int // the name is buf[off:end]
	colon    int // index of its ':' in buf, or -1
}

func (q qname) raw(b []byte) []byte { return b[q.off:q.end] }

func (q qname) local(b []byte) []byte {
	if q.colon < 0 {
		return b[q.off:q.end]
	}
	return b[q.colon+1 : q.end]
}

// attrRec is one attribute of the current start tag.
type attrRec struct {
	name           qname
	valOff, valEnd int    // the raw value, between the quotes
	decode         bool   // the value has references or whitespace to normalize
	space          string // resolved namespace
}

// openElem is an element whose end tag has not been seen yet.
type openElem struct {
	name   qname
	nsMark int // len(scanner.ns) before the element's declarations
}

// binding is one namespace declaration in scope; prefix "" is the default namespace.
type binding struct{ prefix, uri string }

// scanner tokenizes the content of one element, from its start tag to its
// end tag, held in buf. When buf ends inside a token it returns errNeedMore
// (unless eof is set) having consumed only whole tokens, or a validated prefix
// of character data; the caller appends input and calls next again. All
// offsets are relative to buf[0], which the caller keeps at the element's
// first byte.
type scanner struct {
	buf  []byte
	pos  int   // first unconsumed byte
	eof  bool  // buf holds all input there is; running out is an error
	base int64 // stream offset of buf[0], for errors

	maxDepth, maxAttrs int
	wantText           bool // return tokText; otherwise text is only validated

	ns    []binding // namespace scope, innermost last; ns[:nbase] comes from outside
	nbase int
	open  []openElem

	// Set with tokStart.
	name        qname
	space       string
	selfClosing bool
	attrs       []attrRec // attributes other than namespace declarations
	decls       []attrRec // namespace declarations

	// Set with tokText.
	textStart, textEnd int
	textDecode         bool // has references or \r
	textCDATA          bool // from a CDATA section

	inCDATA bool

	// A tag known to be incomplete (at waitTag): rather than re-parsing it
	// each time a little more input arrives, a quick scan looks for its
	// closing '>' (waitPos is how far it got, waitQuote the quote it is
	// inside), and the tag is parsed again only once that is found or the
	// input after the tag start has doubled since the last try (waitLen).
	// This keeps input arriving in small pieces linear, and errors are
	// still found in input order.
	waiting   bool
	waitTag   int
	waitPos   int
	waitLen   int
	waitQuote byte

	tmp   []byte    // scratch for namespace URIs with references
	cache *strCache // may be nil
}

// reset prepares s for a new element at the start of buf.
func (s *scanner) reset(buf []byte, base int64) {
	s.buf, s.pos, s.base = buf, 0, base
	s.ns = s.ns[:s.nbase]
	s.open = s.open[:0]
	s.inCDATA, s.waiting, s.waitTag = false, false, -1
}

func (s *scanner) fail(i int, cond, format string, args ...any) error {
	return newError(cond, s.base+int64(i), format, args...)
}

// more reports running out of input at the end of buf.
func (s *scanner) more() error {
	if s.eof {
		return s.fail(len(s.buf), CondNotWellFormed, "unexpected end of input")
	}
	return errNeedMore
}

// incomplete reports that the tag at start continues past the end of buf.
func (s *scanner) incomplete(start int) (tokKind, error) {
	if !s.eof {
		if s.waitTag != start {
			s.waitTag, s.waitPos, s.waitQuote = start, start+1, 0
		}
		s.waiting, s.waitLen = true, len(s.buf)-start
	}
	return tokNone, s.more()
}

// retry makes the next call to next parse a waiting tag in full, to report
// any error in it before giving up on the element.
func (s *scanner) retry() { s.waiting = false }

// next returns the next token.
func (s *scanner) next() (tokKind, error) {
	for {
		if s.inCDATA {
			k, err := s.cdata()
			if err != nil || k != tokNone {
				return k, err
			}
			continue
		}
		b := s.buf
		i := s.pos
		if i >= len(b) {
			return tokNone, s.more()
		}
		if b[i] != '<' {
			if len(s.open) == 0 {
				return tokNone, s.fail(i, CondNotWellFormed, "character data outside the element")
			}
			k, err := s.text()
			if err != nil || k != tokNone {
				return k, err
			}
			continue
		}
		if s.waiting {
			if !s.findTagEnd() && len(b)-i < 2*s.waitLen {
				return tokNone, s.more()
			}
			s.waiting = false
		}
		if i+1 >= len(b) {
			return tokNone, s.more()
		}
		switch b[i+1] {
		case '/':
			return s.endTag()
		case '!':
			if len(s.open) > 0 {
				if hasPrefix(b[i:], "<![CDATA[") {
					s.pos += len("<![CDATA[")
					s.inCDATA = true
					continue
				}
				if isPrefixOf(b[i:], "<![CDATA[") {
					return tokNone, s.more()
				}
			}
			return tokNone, markupError(b[i:], s.eof, s.base+int64(i))
		case '?':
			return tokNone, markupError(b[i:], s.eof, s.base+int64(i))
		default:
			return s.startTag()
		}
	}
}

// findTagEnd continues the quick scan for the '>' closing the tag at pos.
func (s *scanner) findTagEnd() bool {
	b := s.buf
	endTag := b[s.pos+1] == '/'
	i, q := s.waitPos, s.waitQuote
	for ; i < len(b); i++ {
		c := b[i]
		switch {
		case q != 0:
			if c == q {
				q = 0
			}
		case c == '>':
			s.waitPos, s.waitQuote = i+1, 0
			return true
		case (c == '"' || c == '\'') && !endTag:
			q = c
		}
	}
	s.waitPos, s.waitQuote = i, q
	return false
}

// text scans character data at pos.
func (s *scanner) text() (tokKind, error) {
	b := s.buf
	start := s.pos
	i := start
	decode, partial := false, false
scan:
	for {
		for i < len(b) && textClass[b[i]] == 0 {
			i++
		}
		if i >= len(b) {
			partial = true
			break
		}
		switch textClass[b[i]] {
		case clsLT:
			break scan
		case clsAmp:
			_, n, st := parseRef(b[i:])
			switch st {
			case stOK:
				i += n
				decode = true
			case stIncomplete:
				partial = true
				break scan
			default:
				return tokNone, s.refError(i, n, st)
			}
		case clsRBr:
			if i+1 < len(b) && b[i+1] != ']' {
				i++
				continue
			}
			if i+2 >= len(b) {
				partial = true
				break scan
			}
			if b[i+2] == '>' {
				return tokNone, s.fail(i, CondNotWellFormed, "]]> in character data")
			}
			i++
		case clsCR:
			decode = true
			i++
		case clsCtl:
			return tokNone, s.fail(i, CondNotWellFormed, "control character %U", rune(b[i]))
		default:
			r, n := decodeChar(b[i:])
			if n == 0 {
				partial = true
				break scan
			}
			if r < 0 {
				return tokNone, s.fail(i, CondNotWellFormed, "invalid UTF-8 or character")
			}
			i += n
		}
	}
	s.pos = i
	if i > start && s.wantText {
		s.textStart, s.textEnd, s.textDecode, s.textCDATA = start, i, decode, false
		return tokText, nil
	}
	if partial {
		return tokNone, s.more()
	}
	return tokNone, nil
}

// refError reports the bad or undefined reference of length n at i.
func (s *scanner) refError(i, n, st int) error {
	ref := snippet(s.buf[i : i+n])
	if st == stUndefined {
		return s.fail(i, CondRestrictedXML, "undefined entity reference %s", ref)
	}
	return s.fail(i, CondNotWellFormed, "malformed reference %s", ref)
}

// cdata scans the content of a CDATA section at pos.
func (s *scanner) cdata() (tokKind, error) {
	b := s.buf
	start := s.pos
	i := start
	decode, end := false, false
scan:
	for {
		for i < len(b) && cdataClass[b[i]] == 0 {
			i++
		}
		if i >= len(b) {
			break
		}
		switch cdataClass[b[i]] {
		case clsRBr:
			if i+1 < len(b) && b[i+1] != ']' {
				i++
				continue
			}
			if i+2 >= len(b) {
				break scan
			}
			if b[i+2] == '>' {
				end = true
				break scan
			}
			i++
		case clsCR:
			decode = true
			i++
		case clsCtl:
			return tokNone, s.fail(i, CondNotWellFormed, "control character %U", rune(b[i]))
		default:
			r, n := decodeChar(b[i:])
			if n == 0 {
				break scan
			}
			if r < 0 {
				return tokNone, s.fail(i, CondNotWellFormed, "invalid UTF-8 or character")
			}
			i += n
		}
	}
	s.pos = i
	if end {
		s.pos = i + len("]]>")
		s.inCDATA = false
	}
	if i > start && s.wantText {
		s.textStart, s.textEnd, s.textDecode, s.textCDATA = start, i, decode, true
		return tokText, nil
	}
	if !end {
		return tokNone, s.more()
	}
	return tokNone, nil
}

// qname scans a qualified name at b[i:]: NCName (':' NCName)?.
func (s *scanner) qname(i int) (qname, int, error) {
	b := s.buf
	q := qname{off: i, colon: -1}
	for first := true; ; {
		if first {
			if i >= len(b) {
				return q, i, errNeedMore
			}
			if c := b[i]; c < 0x80 {
				if nameClass[c]&nameStart == 0 {
					return q, i, s.fail(i, CondNotWellFormed, "invalid character %q at the start of a name", c)
				}
				i++
			} else {
				r, n := decodeChar(b[i:])
				if n == 0 {
					return q, i, errNeedMore
				}
				if r < 0 || !isNameStartChar(r) {
					return q, i, s.fail(i, CondNotWellFormed, "invalid character at the start of a name")
				}
				i += n
			}
			first = false
		}
		for i < len(b) && nameClass[b[i]]&nameChar != 0 {
			i++
		}
		if i >= len(b) {
			return q, i, errNeedMore
		}
		c := b[i]
		if c == ':' {
			if q.colon >= 0 {
				return q, i, s.fail(i, CondNotWellFormed, "name with two colons")
			}
			q.colon = i
			i++
			first = true
			continue
		}
		if c >= 0x80 {
			r, n := decodeChar(b[i:])
			if n == 0 {
				return q, i, errNeedMore
			}
			if r < 0 {
				return q, i, s.fail(i, CondNotWellFormed, "invalid UTF-8 or character in a name")
			}
			if isNameChar(r) {
				i += n
				continue
			}
		}
		q.end = i
		return q, i, nil
	}
}

// startTag parses the start tag at pos, declares its namespaces and
// resolves its names.
func (s *scanner) startTag() (tokKind, error) {
	b := s.buf
	start := s.pos
	q, i, err := s.qname(start + 1)
	if err != nil {
		if err == errNeedMore {
			return s.incomplete(start)
		}
		return tokNone, err
	}
	s.attrs, s.decls = s.attrs[:0], s.decls[:0]
	self := false
	for {
		j := i
		for j < len(b) && isSpace(b[j]) {
			j++
		}
		if j >= len(b) {
			return s.incomplete(start)
		}
		c := b[j]
		if c == '>' {
			i = j + 1
			break
		}
		if c == '/' {
			if j+1 >= len(b) {
				return s.incomplete(start)
			}
			if b[j+1] != '>' {
				return tokNone, s.fail(j, CondNotWellFormed, "expected /> in start tag")
			}
			i, self = j+2, true
			break
		}
		if j == i {
			return tokNone, s.fail(j, CondNotWellFormed, "unexpected %q in start tag", c)
		}
		if len(s.attrs)+len(s.decls) >= s.maxAttrs {
			return tokNone, s.fail(j, CondPolicyViolation, "more than %d attributes", s.maxAttrs)
		}
		aq, k, err := s.qname(j)
		if err != nil {
			if err == errNeedMore {
				return s.incomplete(start)
			}
			return tokNone, err
		}
		for k < len(b) && isSpace(b[k]) {
			k++
		}
		if k >= len(b) {
			return s.incomplete(start)
		}
		if b[k] != '=' {
			return tokNone, s.fail(k, CondNotWellFormed, "attribute without a value")
		}
		k++
		for k < len(b) && isSpace(b[k]) {
			k++
		}
		if k >= len(b) {
			return s.incomplete(start)
		}
		cls := &aposClass
		switch b[k] {
		case '\'':
		case '"':
			cls = &quotClass
		default:
			return tokNone, s.fail(k, CondNotWellFormed, "unquoted attribute value")
		}
		k++
		vstart, decode := k, false
	value:
		for {
			for k < len(b) && cls[b[k]] == 0 {
				k++
			}
			if k >= len(b) {
				return s.incomplete(start)
			}
			switch cls[b[k]] {
			case clsQuot:
				break value
			case clsLT:
				return tokNone, s.fail(k, CondNotWellFormed, "< in attribute value")
			case clsAmp:
				_, n, st := parseRef(b[k:])
				switch st {
				case stOK:
					k += n
					decode = true
				case stIncomplete:
					return s.incomplete(start)
				default:
					return tokNone, s.refError(k, n, st)
				}
			case clsWS:
				decode = true
				k++
			case clsCtl:
				return tokNone, s.fail(k, CondNotWellFormed, "control character %U", rune(b[k]))
			default:
				r, n := decodeChar(b[k:])
				if n == 0 {
					return s.incomplete(start)
				}
				if r < 0 {
					return tokNone, s.fail(k, CondNotWellFormed, "invalid UTF-8 or character")
				}
				k += n
			}
		}
		a := attrRec{name: aq, valOff: vstart, valEnd: k, decode: decode}
		if isNSDecl(b, aq) {
			s.decls = append(s.decls, a)
		} else {
			s.attrs = append(s.attrs, a)
		}
		i = k + 1
	}
	if len(s.open) >= s.maxDepth {
		return tokNone, s.fail(start, CondPolicyViolation, "elements nested more than %d deep", s.maxDepth)
	}
	mark := len(s.ns)
	if len(s.decls) > 0 {
		if err := s.declare(start); err != nil {
			s.ns = s.ns[:mark]
			return tokNone, err
		}
	}
	s.name = q
	s.space, err = s.resolve(q, true)
	if err == nil {
		err = s.resolveAttrs()
	}
	if err != nil {
		s.ns = s.ns[:mark]
		return tokNone, err
	}
	s.selfClosing = self
	s.pos = i
	if self {
		s.ns = s.ns[:mark]
	} else {
		s.open = append(s.open, openElem{name: q, nsMark: mark})
	}
	return tokStart, nil
}

// isNSDecl reports whether the attribute named q declares a namespace.
func isNSDecl(b []byte, q qname) bool {
	if q.colon < 0 {
		return string(b[q.off:q.end]) == "xmlns"
	}
	return string(b[q.off:q.colon]) == "xmlns"
}

// declare pushes the current tag's namespace declarations onto the scope.
func (s *scanner) declare(start int) error {
	b := s.buf
	for i := range s.decls {
		d := &s.decls[i]
		var prefix []byte // nil: the default namespace
		if d.name.colon >= 0 {
			prefix = d.name.local(b)
		}
		for _, e := range s.decls[:i] {
			if (e.name.colon < 0) == (d.name.colon < 0) && bytes.Equal(e.name.local(b), d.name.local(b)) {
				return s.fail(d.name.off, CondNotWellFormed, "duplicate namespace declaration %s", snippet(d.name.raw(b)))
			}
		}
		value := b[d.valOff:d.valEnd]
		if d.decode {
			s.tmp = appendAttrValue(s.tmp[:0], value)
			value = s.tmp
		}
		if prefix != nil {
			switch string(prefix) {
			case "xml":
				if string(value) != NSXML {
					return s.fail(d.name.off, CondNotWellFormed, "the xml prefix bound to another namespace")
				}
				continue // always bound
			case "xmlns":
				return s.fail(d.name.off, CondNotWellFormed, "the xmlns prefix declared")
			}
			if len(value) == 0 {
				return s.fail(d.name.off, CondNotWellFormed, "prefix %s bound to the empty namespace", snippet(prefix))
			}
		}
		if string(value) == NSXML || string(value) == nsXMLNS {
			return s.fail(d.name.off, CondNotWellFormed, "reserved namespace bound to another prefix")
		}
		s.ns = append(s.ns, binding{prefix: s.str(prefix), uri: s.str(value)})
	}
	return nil
}

// resolve returns the namespace of name q; unprefixed attributes have none.
func (s *scanner) resolve(q qname, elem bool) (string, error) {
	if q.colon < 0 {
		if !elem {
			return "", nil
		}
		for i := len(s.ns) - 1; i >= 0; i-- {
			if s.ns[i].prefix == "" {
				return s.ns[i].uri, nil
			}
		}
		return "", nil
	}
	p := s.buf[q.off:q.colon]
	switch string(p) {
	case "xml":
		return NSXML, nil
	case "xmlns":
		return "", s.fail(q.off, CondNotWellFormed, "element with the xmlns prefix")
	}
	for i := len(s.ns) - 1; i >= 0; i-- {
		if s.ns[i].prefix == string(p) {
			return s.ns[i].uri, nil
		}
	}
	return "", s.fail(q.off, CondNotWellFormed, "unbound prefix %s", snippet(p))
}

// resolveAttrs resolves the current tag's attribute names and refuses duplicates.
func (s *scanner) resolveAttrs() error {
	b := s.buf
	for i := range s.attrs {
		a := &s.attrs[i]
		if a.name.colon >= 0 {
			sp, err := s.resolve(a.name, false)
			if err != nil {
				return err
			}
			a.space = sp
		} else {
			a.space = ""
		}
		local := a.name.local(b)
		for _, o := range s.attrs[:i] {
			if o.space == a.space && bytes.Equal(o.name.local(b), local) {
				return s.fail(a.name.off, CondNotWellFormed, "duplicate attribute %s", snippet(a.name.raw(b)))
			}
		}
	}
	return nil
}

// endTag parses the end tag at pos, which must close the innermost open element.
func (s *scanner) endTag() (tokKind, error) {
	b := s.buf
	start := s.pos
	if len(s.open) == 0 {
		return tokNone, s.fail(start, CondNotWellFormed, "end tag without a start tag")
	}
	top := s.open[len(s.open)-1]
	n, st := matchEndTag(b[start:], top.name.raw(b))
	switch st {
	case stOK:
	case stIncomplete:
		return s.incomplete(start)
	default:
		return tokNone, s.fail(start, CondNotWellFormed, "end tag does not match start tag %s", snippet(top.name.raw(b)))
	}
	s.pos = start + n
	s.ns = s.ns[:top.nsMark]
	s.open = s.open[:len(s.open)-1]
	return tokEnd, nil
}

// matchEndTag matches b, which starts with "</", against the end tag for
// name and returns its length and an st* status.
func matchEndTag(b, name []byte) (int, int) {
	rest := b[2:]
	if len(rest) < len(name) {
		if bytes.HasPrefix(name, rest) {
			return 0, stIncomplete
		}
		return 0, stBad
	}
	if !bytes.Equal(rest[:len(name)], name) {
		return 0, stBad
	}
	i := 2 + len(name)
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	if i >= len(b) {
		return 0, stIncomplete
	}
	if b[i] != '>' {
		return 0, stBad
	}
	return i + 1, stOK
}

// markupError classifies markup b (starting with "<!" or "<?") that is not
// allowed where it appears: comments, processing instructions and DTDs are
// restricted-xml, anything else not-well-formed. It returns errNeedMore if
// b is too short to tell and more input may follow.
func markupError(b []byte, eof bool, off int64) error {
	switch {
	case hasPrefix(b, "<?"):
		return newError(CondRestrictedXML, off, "processing instruction")
	case hasPrefix(b, "<!--"):
		return newError(CondRestrictedXML, off, "comment")
	case hasPrefix(b, "<!DOCTYPE"):
		return newError(CondRestrictedXML, off, "document type declaration")
	case !eof && (isPrefixOf(b, "<!--") || isPrefixOf(b, "<!DOCTYPE")):
		return errNeedMore
	}
	// Quote up to the first byte that rules out every allowed construct, so
	// that the message does not depend on how much input was buffered.
	n := max(commonPrefix(b, "<!--"), commonPrefix(b, "<!DOCTYPE")) + 1
	return newError(CondNotWellFormed, off, "unexpected markup %s", snippet(b[:min(len(b), n)]))
}

// commonPrefix returns the length of the common prefix of b and p.
func commonPrefix(b []byte, p string) int {
	i := 0
	for i < len(b) && i < len(p) && b[i] == p[i] {
		i++
	}
	return i
}

func hasPrefix(b []byte, p string) bool { return len(b) >= len(p) && string(b[:len(p)]) == p }

// isPrefixOf reports whether b is a proper prefix of p.
func isPrefixOf(b []byte, p string) bool { return len(b) < len(p) && string(b) == p[:len(b)] }

// str returns b as a string, without allocating for well-known names and
// namespaces or for strings the cache has seen.
func (s *scanner) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if v := knownString(b); v != "" {
		return v
	}
	return s.cache.get(b)
}

// Bounds on strCache: only short strings are kept, and the map is cleared
// when full, so its memory stays small whatever a peer sends.
const (
	cacheMaxLen     = 64
	cacheMaxEntries = 128
)

// strCache interns strings a decoder sees repeatedly (namespaces declared
// inside stanzas, unusual element names).
type strCache struct{ m map[string]string }

// get returns b as a string, from the cache when possible. A nil cache just converts.
func (c *strCache) get(b []byte) string {
	if c == nil || len(b) > cacheMaxLen {
		return string(b)
	}
	if v, ok := c.m[string(b)]; ok {
		return v
	}
	v := string(b)
	if c.m == nil {
		c.m = make(map[string]string)
	} else if len(c.m) >= cacheMaxEntries {
		clear(c.m)
	}
	c.m[v] = v
	return v
}
