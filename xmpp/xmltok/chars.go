package xmltok

import "unicode/utf8"

// Byte classes for the scanning loops. Class 0 means "ordinary, keep going";
// every loop stops only on a non-zero class, so the common ASCII case costs
// one table lookup per byte.
const (
	clsLT   = 1 + iota // <
	clsAmp             // &
	clsRBr             // ] (text and CDATA: possible ]]>)
	clsCR              // \r (text: needs line-end normalization)
	clsWS              // \t \n \r in attribute values (normalized to a space)
	clsQuot            // the closing quote of an attribute value
	clsCtl             // a control character that is not an XML Char
	clsHigh            // first byte of a multi-byte UTF-8 sequence (or garbage)
)

// Name byte flags for ASCII.
const (
	nameStart = 1 << iota
	nameChar
)

var (
	textClass  = makeClass("<&]\r", "")
	cdataClass = makeClass("]\r", "")
	aposClass  = makeClass("<&'", "\t\n\r")
	quotClass  = makeClass("<&\"", "\t\n\r")
	nameClass  = makeNameClass()
)

// makeClass builds a byte class table: stops lists bytes with their own
// class, ws lists whitespace that gets clsWS.
func makeClass(stops, ws string) (t [256]uint8) {
	for c := 0; c < 0x20; c++ {
		if c != '\t' && c != '\n' && c != '\r' {
			t[c] = clsCtl
		}
	}
	for c := 0x80; c < 0x100; c++ {
		t[c] = clsHigh
	}
	for i := 0; i < len(stops); i++ {
		switch c := stops[i]; c {
		case '<':
			t[c] = clsLT
		case '&':
			t[c] = clsAmp
		case ']':
			t[c] = clsRBr
		case '\r':
			t[c] = clsCR
		case '\'', '"':
			t[c] = clsQuot
		}
	}
	for i := 0; i < len(ws); i++ {
		t[ws[i]] = clsWS
	}
	return t
}

func makeNameClass() (t [256]uint8) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = nameStart | nameChar
		t[c-'a'+'A'] = nameStart | nameChar
	}
	t['_'] = nameStart | nameChar
	for c := '0'; c <= '9'; c++ {
		t[c] = nameChar
	}
	t['-'] = nameChar
	t['.'] = nameChar
	return t
}

// isSpace reports whether c is XML whitespace (production S).
func isSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\t' || c == '\r'
}

// isChar reports whether r is an XML 1.0 Char.
func isChar(r rune) bool {
	switch {
	case r < 0x20:
		return r == '\t' || r == '\n' || r == '\r'
	case r <= 0xD7FF:
		return true
	case r < 0xE000:
		return false
	case r <= 0xFFFD:
		return true
	default:
		return r >= 0x10000 && r <= utf8.MaxRune
	}
}

// isNameStartChar reports whether a non-ASCII r is an XML 1.0 (5th edition) NameStartChar.
func isNameStartChar(r rune) bool {
	switch {
	case r < 0xC0:
		return r < 0x80 && nameClass[r]&nameStart != 0
	case r <= 0x2FF:
		return r != 0xD7 && r != 0xF7
	case r < 0x370:
		return false
	case r <= 0x1FFF:
		return r != 0x37E
	case r == 0x200C, r == 0x200D:
		return true
	case r >= 0x2070 && r <= 0x218F:
		return true
	case r >= 0x2C00 && r <= 0x2FEF:
		return true
	case r >= 0x3001 && r <= 0xD7FF:
		return true
	case r >= 0xF900 && r <= 0xFDCF:
		return true
	case r >= 0xFDF0 && r <= 0xFFFD:
		return true
	default:
		return r >= 0x10000 && r <= 0xEFFFF
	}
}

// isNameChar reports whether a non-ASCII r is an XML 1.0 (5th edition) NameChar.
func isNameChar(r rune) bool {
	if r < 0x80 {
		return nameClass[r]&nameChar != 0
	}
	return isNameStartChar(r) || r == 0xB7 || r >= 0x300 && r <= 0x36F || r == 0x203F || r == 0x2040
}

// decodeChar decodes the UTF-8 sequence at the start of b (b[0] >= 0x80).
// n is 0 when b ends inside a sequence that could still be valid, and r is
// -1 when the bytes are not valid UTF-8 or not an XML Char.
func decodeChar(b []byte) (r rune, n int) {
	if !utf8.FullRune(b) {
		return -1, 0
	}
	r, n = utf8.DecodeRune(b)
	if r == utf8.RuneError && n == 1 || r == 0xFFFE || r == 0xFFFF {
		return -1, n
	}
	return r, n
}

// Results of parseRef and matchEndTag.
const (
	stOK = iota
	stIncomplete
	stBad       // not-well-formed
	stUndefined // an entity other than the predefined five: restricted-xml
)

// maxRefLen bounds a character or entity reference, '&' and ';' included;
// longer ones are refused without looking further.
const maxRefLen = 32

// parseRef parses the reference at the start of b (b[0] == '&'). It returns
// the character it stands for, its length and a st* status; for a bad or
// undefined reference, n is how much of it was examined.
func parseRef(b []byte) (r rune, n int, status int) {
	if len(b) < 2 {
		return 0, 0, stIncomplete
	}
	if b[1] == '#' {
		i, base := 2, rune(10)
		if len(b) > 2 && b[2] == 'x' {
			i, base = 3, 16
		}
		start := i
		for ; i < len(b); i++ {
			c := b[i]
			var d rune
			switch {
			case c >= '0' && c <= '9':
				d = rune(c - '0')
			case base == 16 && c >= 'a' && c <= 'f':
				d = rune(c-'a') + 10
			case base == 16 && c >= 'A' && c <= 'F':
				d = rune(c-'A') + 10
			case c == ';':
				if i == start || !isChar(r) {
					return 0, min(i+1, len(b)), stBad
				}
				return r, i + 1, stOK
			default:
				return 0, min(i+1, len(b)), stBad
			}
			r = r*base + d
			if r > utf8.MaxRune || i >= maxRefLen {
				return 0, min(i+1, len(b)), stBad
			}
		}
		return 0, 0, stIncomplete
	}
	// Entity reference: '&' Name ';'.
	i := 1
	for i < len(b) {
		c := b[i]
		if c == ';' {
			break
		}
		if c < 0x80 {
			if nameClass[c]&nameChar == 0 || i == 1 && nameClass[c]&nameStart == 0 {
				return 0, min(i+1, len(b)), stBad
			}
			i++
		} else {
			cr, cn := decodeChar(b[i:])
			if cn == 0 {
				return 0, 0, stIncomplete
			}
			if cr < 0 || !isNameChar(cr) || i == 1 && !isNameStartChar(cr) {
				return 0, min(i+1, len(b)), stBad
			}
			i += cn
		}
		if i >= maxRefLen {
			return 0, i, stUndefined
		}
	}
	if i >= len(b) {
		return 0, 0, stIncomplete
	}
	if i == 1 {
		return 0, min(i+1, len(b)), stBad
	}
	switch string(b[1:i]) {
	case "lt":
		r = '<'
	case "gt":
		r = '>'
	case "amp":
		r = '&'
	case "quot":
		r = '"'
	case "apos":
		r = '\''
	default:
		return 0, i + 1, stUndefined
	}
	return r, i + 1, stOK
}

// appendText appends already validated character data raw to dst,
// resolving references (unless cdata) and normalizing line ends to \n.
func appendText(dst, raw []byte, cdata bool) []byte {
	for i := 0; i < len(raw); {
		c := raw[i]
		switch {
		case c == '\r':
			dst = append(dst, '\n')
			i++
			if i < len(raw) && raw[i] == '\n' {
				i++
			}
		case c == '&' && !cdata:
			r, n, _ := parseRef(raw[i:])
			dst = utf8.AppendRune(dst, r)
			i += n
		default:
			j := i + 1
			for j < len(raw) && raw[j] != '\r' && (cdata || raw[j] != '&') {
				j++
			}
			dst = append(dst, raw[i:j]...)
			i = j
		}
	}
	return dst
}

// appendAttrValue appends an already validated attribute value raw to dst,
// resolving references and normalizing literal whitespace to spaces (XML 1.0
// §3.3.3; a \r\n pair becomes one space).
func appendAttrValue(dst, raw []byte) []byte {
	for i := 0; i < len(raw); {
		switch c := raw[i]; c {
		case '\r':
			dst = append(dst, ' ')
			i++
			if i < len(raw) && raw[i] == '\n' {
				i++
			}
		case '\t', '\n':
			dst = append(dst, ' ')
			i++
		case '&':
			r, n, _ := parseRef(raw[i:])
			dst = utf8.AppendRune(dst, r)
			i += n
		default:
			j := i + 1
			for j < len(raw) && raw[j] != '&' && raw[j] >= 0x20 {
				j++
			}
			dst = append(dst, raw[i:j]...)
			i = j
		}
	}
	return dst
}

// EscapeText appends s to dst escaped as character data: & < > become
// entity references and \r becomes &#xD; (so it survives line-end
// normalization). Bytes that are not valid UTF-8 and characters that are not
// XML Chars (control characters, U+FFFE, U+FFFF) become U+FFFD, so the
// output is always well-formed.
func EscapeText(dst []byte, s string) []byte {
	return escape(dst, s, false)
}

// EscapeAttr appends s to dst escaped for an attribute value in either kind
// of quotes: & < > " ' become entity references and \t \n \r character
// references (so they survive attribute-value normalization). Invalid
// characters become U+FFFD as in EscapeText.
func EscapeAttr(dst []byte, s string) []byte {
	return escape(dst, s, true)
}

// escapeClass marks bytes escape must look at: 1 for text and attributes,
// 2 for attributes only.
var escapeClass = makeEscapeClass()

func makeEscapeClass() (t [256]uint8) {
	for c := 0; c < 0x20; c++ {
		t[c] = 1
	}
	t['\t'], t['\n'] = 2, 2
	for c := 0x80; c < 0x100; c++ {
		t[c] = 1
	}
	t['&'], t['<'], t['>'] = 1, 1, 1
	t['"'], t['\''] = 2, 2
	return t
}

func escape(dst []byte, s string, attr bool) []byte {
	mask := uint8(1)
	if attr {
		mask = 3
	}
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		if escapeClass[c]&mask == 0 {
			i++
			continue
		}
		var esc string
		n := 1
		switch c {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '"':
			esc = "&quot;"
		case '\'':
			esc = "&apos;"
		case '\t':
			esc = "&#x9;"
		case '\n':
			esc = "&#xA;"
		case '\r':
			esc = "&#xD;"
		default:
			if c < 0x80 {
				esc = "\uFFFD"
				break
			}
			r, size := utf8.DecodeRuneInString(s[i:])
			n = size
			if r == utf8.RuneError && size == 1 || r == 0xFFFE || r == 0xFFFF {
				esc = "\uFFFD"
				break
			}
			i += size
			continue
		}
		dst = append(dst, s[last:i]...)
		dst = append(dst, esc...)
		i += n
		last = i
	}
	return append(dst, s[last:]...)
}
