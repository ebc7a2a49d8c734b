// Package xmltok reads XMPP's subset of XML (RFC 6120 §11): a stream header
// followed by top-level elements, each returned as the exact bytes received
// plus its parsed name and attributes ("parse once, route bytes").
//
// It does not use encoding/xml. DTDs, comments, processing instructions and
// entity references other than the five predefined ones are refused with
// restricted-xml; anything not well-formed (including invalid UTF-8,
// characters outside XML 1.0's Char production and unbound namespace
// prefixes) is refused with not-well-formed; elements over the configured
// size, depth or attribute count are refused with policy-violation. Every
// failure is an *Error carrying the RFC 6120 §4.9.3 stream error condition to
// send back.
//
// Decoder splits a live stream into top-level elements without building
// trees; Parse and Element.Node build a Node tree for the code paths that
// need one (IQ payloads, SASL, resource binding), and Node.AppendXML
// serializes one.
package xmltok

import (
	"errors"
	"fmt"
	"strconv"
)

// Namespaces the tokenizer knows about.
const (
	// NSStream is the namespace of the stream header element and stream errors.
	NSStream = "http://etherx.jabber.org/streams"
	// NSXML is the namespace bound to the xml prefix (xml:lang).
	NSXML = "http://www.w3.org/XML/1998/namespace"

	// nsXMLNS is the namespace of namespace declarations; nothing may be bound to it.
	nsXMLNS = "http://www.w3.org/2000/xmlns/"
)

// Stream error conditions (RFC 6120 §4.9.3) reported in Error.Condition.
const (
	CondNotWellFormed       = "not-well-formed"
	CondRestrictedXML       = "restricted-xml"
	CondPolicyViolation     = "policy-violation"
	CondUnsupportedEncoding = "unsupported-encoding"
)

// Error is an XML-level stream error. Condition is the RFC 6120 §4.9.3
// stream error condition to send.
type Error struct {
	Condition string // "not-well-formed", "restricted-xml", "policy-violation", "unsupported-encoding"
	Offset    int64  // byte offset in the stream where it was detected
	Msg       string // human text, safe to log (never more than ~40 bytes of input)
}

// Error returns the condition, offset and message as one line.
func (e *Error) Error() string {
	return "xmltok: " + e.Condition + " at offset " + strconv.FormatInt(e.Offset, 10) + ": " + e.Msg
}

// ErrStreamEnd is returned by ReadElement at the closing tag of the stream
// header element (</stream:stream>).
var ErrStreamEnd = errors.New("xmltok: end of stream")

// errNeedMore is the scanner's internal request for more input.
var errNeedMore = errors.New("xmltok: need more input")

// Name is a resolved XML name: Space is the namespace URI, not a prefix.
type Name struct{ Space, Local string }

// Attr is one attribute of a Node.
type Attr struct {
	Name  Name
	Value string
}

// snippetLen bounds how much input an error message quotes.
const snippetLen = 20

// snippet quotes at most snippetLen bytes of b for an error message.
func snippet(b []byte) string {
	if len(b) > snippetLen {
		return strconv.Quote(string(b[:snippetLen])) + "…"
	}
	return strconv.Quote(string(b))
}

// newError builds an *Error; msg is formatted with args.
func newError(cond string, off int64, format string, args ...any) *Error {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	return &Error{Condition: cond, Offset: off, Msg: msg}
}
