// Package stream owns the XML stream envelope of RFC 6120 §4: stream headers,
// stream errors and the namespaces of stream feature negotiation (STARTTLS,
// SASL, resource binding).
package stream

import (
	"fmt"

	"junction/xmpp/xmltok"
)

// Namespaces used during stream negotiation.
const (
	NSStreams  = xmltok.NSStream
	NSErrors   = "urn:ietf:params:xml:ns:xmpp-streams"
	NSTLS      = "urn:ietf:params:xml:ns:xmpp-tls"
	NSSASL     = "urn:ietf:params:xml:ns:xmpp-sasl"
	NSBind     = "urn:ietf:params:xml:ns:xmpp-bind"
	NSSession  = "urn:ietf:params:xml:ns:xmpp-session"
	NSSASLCB   = "urn:xmpp:sasl-cb:0" // XEP-0440 channel-binding type capability
	NSPing     = "urn:xmpp:ping"
	NSRosterVr = "urn:xmpp:features:rosterver"
)

// Stream error conditions (RFC 6120 §4.9.3).
const (
	BadFormat              = "bad-format"
	BadNamespacePrefix     = "bad-namespace-prefix"
	Conflict               = "conflict"
	ConnectionTimeout      = "connection-timeout"
	HostGone               = "host-gone"
	HostUnknown            = "host-unknown"
	ImproperAddressing     = "improper-addressing"
	InternalServerError    = "internal-server-error"
	InvalidFrom            = "invalid-from"
	InvalidNamespace       = "invalid-namespace"
	InvalidXML             = "invalid-xml"
	NotAuthorized          = "not-authorized"
	NotWellFormed          = "not-well-formed"
	PolicyViolation        = "policy-violation"
	RemoteConnectionFailed = "remote-connection-failed"
	Reset                  = "reset"
	ResourceConstraint     = "resource-constraint"
	RestrictedXML          = "restricted-xml"
	SeeOtherHost           = "see-other-host"
	SystemShutdown         = "system-shutdown"
	UndefinedCondition     = "undefined-condition"
	UnsupportedEncoding    = "unsupported-encoding"
	UnsupportedFeature     = "unsupported-feature"
	UnsupportedStanzaType  = "unsupported-stanza-type"
	UnsupportedVersion     = "unsupported-version"
)

// Error is a stream error: fatal to the stream, sent just before it closes.
type Error struct {
	Condition string
	Text      string // optional, safe to show the peer
}

func (e *Error) Error() string {
	if e.Text == "" {
		return "stream error " + e.Condition
	}
	return "stream error " + e.Condition + ": " + e.Text
}

// AppendXML writes <stream:error>…</stream:error> for e.
func (e *Error) AppendXML(dst []byte) []byte {
	dst = append(dst, "<stream:error><"...)
	dst = append(dst, e.Condition...)
	dst = append(dst, " xmlns='"+NSErrors+"'/>"...)
	if e.Text != "" {
		dst = append(dst, "<text xmlns='"+NSErrors+"'>"...)
		dst = xmltok.EscapeText(dst, e.Text)
		dst = append(dst, "</text>"...)
	}
	return append(dst, "</stream:error>"...)
}

// Header is what the initiating or receiving entity writes in its stream open tag.
type Header struct {
	NS      string // content namespace, e.g. jabber:client
	From    string
	To      string
	ID      string
	Version string // "1.0" when empty
	Lang    string
	// NoVersion leaves the version out, as XEP-0114 component streams do.
	NoVersion bool
}

// AppendOpen writes the XML declaration and the stream open tag of h.
func (h Header) AppendOpen(dst []byte) []byte {
	dst = append(dst, "<?xml version='1.0'?><stream:stream xmlns='"...)
	dst = xmltok.EscapeAttr(dst, h.NS)
	dst = append(dst, "' xmlns:stream='"+NSStreams+"'"...)
	attr := func(name, v string) {
		if v == "" {
			return
		}
		dst = append(dst, ' ')
		dst = append(dst, name...)
		dst = append(dst, "='"...)
		dst = xmltok.EscapeAttr(dst, v)
		dst = append(dst, '\'')
	}
	attr("from", h.From)
	attr("to", h.To)
	attr("id", h.ID)
	v := h.Version
	if v == "" {
		v = "1.0"
	}
	if !h.NoVersion {
		attr("version", v)
	}
	attr("xml:lang", h.Lang)
	return append(dst, '>')
}

// Close is the stream's closing tag.
const Close = "</stream:stream>"

// ErrorFromXML maps a tokenizer error onto the stream error to send.
func ErrorFromXML(err *xmltok.Error) *Error {
	return &Error{Condition: err.Condition}
}

// Attr returns the value of the un-namespaced attribute name in attrs.
func Attr(attrs []xmltok.Attr, name string) string {
	for _, a := range attrs {
		if a.Name.Space == "" && a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// Lang returns the xml:lang attribute in attrs.
func Lang(attrs []xmltok.Attr) string {
	for _, a := range attrs {
		if a.Name.Space == xmltok.NSXML && a.Name.Local == "lang" {
			return a.Value
		}
	}
	return ""
}

// CheckVersion enforces RFC 6120 §4.7.5: a missing version or a major
// version other than 1 is unsupported.
func CheckVersion(v string) error {
	var major, minor int
	if _, err := fmt.Sscanf(v, "%d.%d", &major, &minor); err != nil || major != 1 {
		return &Error{Condition: UnsupportedVersion, Text: "XMPP version 1.0 is required"}
	}
	return nil
}
