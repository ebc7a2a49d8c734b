// Package jid owns the JID value type: XMPP addresses as defined by RFC 7622,
// prepared with the PRECIS profiles of RFC 8265 (UsernameCaseMapped for the
// localpart, OpaqueString for the resourcepart) and IDNA2008/UTS #46 for the
// domainpart, plus the XEP-0106 escaping of localparts.
//
// A JID is always canonical: Parse and New enforce the RFC 7622 rules and
// keep only the prepared form, so two JIDs name the same entity exactly when
// they are equal with ==, and a JID can be used as a map key.
//
// Parsing is on the hot path of every routed stanza. Input that is already
// canonical ASCII (a lowercase localpart, a lowercase LDH domain, a printable
// ASCII resource) skips PRECIS and IDNA entirely, and Parse then returns a
// JID that shares the input's memory instead of copying it.
package jid

import "fmt"

// Limits from RFC 7622 §3.2–3.4: every part is 1 to 1023 octets once
// prepared; a DNS label is at most 63 octets in its ASCII (A-label) form.
const (
	maxPartBytes  = 1023
	maxLabelBytes = 63

	// maxRawPartBytes bounds how much input a single part may have before
	// it is prepared. Width mapping and normalisation can shrink a part,
	// so raw input may exceed maxPartBytes, but not without limit: this
	// keeps the work PRECIS and IDNA do on hostile input proportional to
	// a small constant.
	maxRawPartBytes = 4 * maxPartBytes
)

// JID is a canonical XMPP address: localpart@domainpart/resourcepart, where
// the localpart and resourcepart are optional.
//
// JIDs are comparable with == and usable as map keys. The zero JID has no
// parts at all and stands for "no address" (for example an absent 'to'
// attribute); IsZero reports it.
type JID struct {
	// s is the full canonical string.
	s string
	// lend is the length of the localpart; 0 means there is none. When
	// it is not 0, s[lend] is the '@' separator.
	lend uint16
	// dend is the index just past the domainpart. When it is less than
	// len(s), s[dend] is the '/' separator.
	dend uint16
}

// Localpart returns the localpart of j, or "" if j has none.
func (j JID) Localpart() string {
	return j.s[:j.lend]
}

// Domainpart returns the domainpart of j, which is "" only for the zero JID.
func (j JID) Domainpart() string {
	return j.s[j.domainStart():j.dend]
}

// Resourcepart returns the resourcepart of j, or "" if j has none.
func (j JID) Resourcepart() string {
	if int(j.dend) == len(j.s) {
		return ""
	}
	return j.s[j.dend+1:]
}

// Bare returns j without its resourcepart. It does not allocate.
func (j JID) Bare() JID {
	return JID{s: j.s[:j.dend], lend: j.lend, dend: j.dend}
}

// Domain returns the JID that consists of j's domainpart only, the address
// of j's server or component. It does not allocate.
func (j JID) Domain() JID {
	ds := j.domainStart()
	return JID{s: j.s[ds:j.dend], dend: j.dend - ds}
}

// WithResource returns j's bare JID with resourcepart r, prepared with the
// OpaqueString profile. An empty r returns j.Bare(). WithResource fails on
// the zero JID, since a resource needs a domain.
func (j JID) WithResource(r string) (JID, error) {
	if j.IsZero() {
		return JID{}, &Error{Part: "domainpart", Reason: "empty"}
	}
	b := j.Bare()
	if r == "" {
		return b, nil
	}
	rp, err := prepareResource(r)
	if err != nil {
		return JID{}, err
	}
	return JID{s: b.s + "/" + rp, lend: b.lend, dend: b.dend}, nil
}

// String returns j in its canonical wire form, "" for the zero JID. It does
// not allocate.
func (j JID) String() string {
	return j.s
}

// IsZero reports whether j is the zero JID, "no address".
func (j JID) IsZero() bool {
	return j.s == ""
}

// IsBare reports whether j has no resourcepart.
func (j JID) IsBare() bool {
	return int(j.dend) == len(j.s)
}

// IsDomain reports whether j has neither a localpart nor a resourcepart.
func (j JID) IsDomain() bool {
	return j.lend == 0 && int(j.dend) == len(j.s)
}

// MarshalText implements encoding.TextMarshaler. The zero JID marshals to
// empty text.
func (j JID) MarshalText() ([]byte, error) {
	return []byte(j.s), nil
}

// UnmarshalText implements encoding.TextUnmarshaler with Parse. Empty text
// unmarshals to the zero JID, the inverse of MarshalText.
func (j *JID) UnmarshalText(text []byte) error {
	if len(text) == 0 {
		*j = JID{}
		return nil
	}
	p, err := Parse(string(text))
	if err != nil {
		return err
	}
	*j = p
	return nil
}

func (j JID) domainStart() uint16 {
	if j.lend == 0 {
		return 0
	}
	return j.lend + 1
}

// Error describes why a string is not a valid JID or JID part.
type Error struct {
	// Part is "localpart", "domainpart", "resourcepart", or "jid" when the
	// fault is not in one part (empty or malformed input).
	Part string
	// Reason says what is wrong, e.g. "empty" or "longer than 1023 bytes".
	Reason string

	// err is the PRECIS or IDNA error behind Reason, if any.
	err error
}

// Error returns the message, e.g. "jid: invalid localpart: empty".
func (e *Error) Error() string {
	return "jid: invalid " + e.Part + ": " + e.Reason
}

// Unwrap returns the underlying PRECIS or IDNA error, if there is one.
func (e *Error) Unwrap() error {
	return e.err
}

func partError(part, format string, args ...any) *Error {
	return &Error{Part: part, Reason: fmt.Sprintf(format, args...)}
}
