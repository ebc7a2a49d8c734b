package jid

import "strings"

// escapeCode returns the two hex digits XEP-0106 escapes c to, or "" if c
// is not one of the ten escaped characters. (The backslash is escaped only
// where it would otherwise start a sequence; see Escape.)
func escapeCode(c byte) string {
	switch c {
	case ' ':
		return "20"
	case '"':
		return "22"
	case '&':
		return "26"
	case '\'':
		return "27"
	case '/':
		return "2f"
	case ':':
		return "3a"
	case '<':
		return "3c"
	case '>':
		return "3e"
	case '@':
		return "40"
	case '\\':
		return "5c"
	}
	return ""
}

// unescapeCode returns the character that the escape sequence '\' + h1 + h2
// stands for, if it is one of the ten XEP-0106 defines. Case is
// significant: the sequences are lowercase (XEP-0106 §3.1).
func unescapeCode(h1, h2 byte) (byte, bool) {
	switch uint16(h1)<<8 | uint16(h2) {
	case '2'<<8 | '0':
		return ' ', true
	case '2'<<8 | '2':
		return '"', true
	case '2'<<8 | '6':
		return '&', true
	case '2'<<8 | '7':
		return '\'', true
	case '2'<<8 | 'f':
		return '/', true
	case '3'<<8 | 'a':
		return ':', true
	case '3'<<8 | 'c':
		return '<', true
	case '3'<<8 | 'e':
		return '>', true
	case '4'<<8 | '0':
		return '@', true
	case '5'<<8 | 'c':
		return '\\', true
	}
	return 0, false
}

// startsEscape reports whether s begins with the two hex digits of an
// XEP-0106 escape sequence, ignoring case. Uppercase is included because
// the localpart is case-mapped when a JID is prepared: a literal "\2F" would
// otherwise become "\2f" and unescape to '/'.
func startsEscape(s string) bool {
	if len(s) < 2 {
		return false
	}
	_, ok := unescapeCode(lower(s[0]), lower(s[1]))
	return ok
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// Escape applies XEP-0106 JID escaping to a localpart, for example one
// taken from an email address: space " & ' / : < > @ become \20 \22 \26
// \27 \2f \3a \3c \3e \40, and a backslash becomes \5c where it starts
// something that reads as one of those sequences or as \5c itself (matched
// regardless of case, see below); every other byte, including a backslash
// that starts nothing, is kept.
//
// Escape is lossless: Unescape(Escape(s)) == s for every s. XEP-0106 §4.1
// also says an escaped localpart must not begin or end with \20. Escape
// cannot refuse, so it escapes a leading or trailing space like any other;
// callers that must produce conforming JIDs trim or reject such input
// first (an email local-part never has them).
//
// Where XEP-0106 leaves a backslash alone because the sequence after it
// differs from a defined one only in case ("\2F"), Escape still escapes it,
// to "\5c2F": the localpart's PRECIS preparation lowercases, and "\2F"
// would come back from Parse as "\2f", which unescapes to '/'. Any
// XEP-0106 implementation still unescapes "\5c2F" to "\2F".
//
// Escape does not check the other rules of a localpart; New or Parse do.
func Escape(local string) string {
	n := 0
	for i := 0; i < len(local); i++ {
		if needsEscape(local, i) {
			n++
		}
	}
	if n == 0 {
		return local
	}
	var b strings.Builder
	b.Grow(len(local) + 2*n)
	for i := 0; i < len(local); i++ {
		c := local[i]
		if needsEscape(local, i) {
			b.WriteByte('\\')
			b.WriteString(escapeCode(c))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func needsEscape(s string, i int) bool {
	c := s[i]
	if c == '\\' {
		return startsEscape(s[i+1:])
	}
	return escapeCode(c) != ""
}

// Unescape reverses XEP-0106 escaping, for presenting a localpart to a
// person or handing it to another network. Only the ten sequences \20 \22
// \26 \27 \2f \3a \3c \3e \40 \5c, in lowercase, are replaced; anything
// else, such as "\2plus" or "\41", is kept as it is (XEP-0106 §4.3).
func Unescape(local string) string {
	i := strings.IndexByte(local, '\\')
	if i < 0 {
		return local
	}
	var b strings.Builder
	b.Grow(len(local))
	b.WriteString(local[:i])
	for ; i < len(local); i++ {
		c := local[i]
		if c == '\\' && i+2 < len(local) {
			if u, ok := unescapeCode(local[i+1], local[i+2]); ok {
				b.WriteByte(u)
				i += 2
				continue
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}
