package jid

import (
	"errors"
	"net/netip"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/text/secure/precis"
)

// Parse enforces the RFC 7622 rules on s and returns the canonical JID.
//
// s is split before anything is prepared (RFC 7622 §3.1): the first '/'
// starts the resourcepart, and the first '@' before it ends the localpart.
// The localpart is prepared with the PRECIS UsernameCaseMapped profile and
// may not contain any of " & ' / : < > @ (§3.3); the resourcepart with the
// OpaqueString profile (§3.4); the domainpart (§3.2) loses one trailing dot
// and is either an IP literal ("[2001:db8::1]", written in RFC 5952 form),
// or a domain name mapped with UTS #46 and validated as IDNA2008 labels,
// kept as lowercase, NFC U-labels.
//
// Each part is 1 to 1023 bytes once prepared, as RFC 7622 requires. For
// the domainpart that is RFC 7622's cap on its UTF-8 U-label form, not
// DNS's 253 bytes of A-labels, which RFC 7622 does not impose. Each label
// must still be at most 63 bytes as an A-label, or it could never be put
// in DNS.
//
// When s is already canonical ASCII, Parse does not allocate and the JID
// refers to s itself (so it keeps all of s reachable).
func Parse(s string) (JID, error) {
	if j, ok := parseFast(s); ok {
		return j, nil
	}
	return parseSlow(s)
}

// MustParse is like Parse but panics if s is not a valid JID. It is meant
// for tests and for addresses fixed in the program.
func MustParse(s string) JID {
	j, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return j
}

// New builds a JID from its parts, preparing each as Parse does. local
// and resource may be empty for a JID without them; domain may not.
func New(local, domain, resource string) (JID, error) {
	var lp, rp string
	var err error
	if local != "" {
		if lp, err = prepareLocal(local); err != nil {
			return JID{}, err
		}
	}
	dp, err := prepareDomain(domain)
	if err != nil {
		return JID{}, err
	}
	if resource != "" {
		if rp, err = prepareResource(resource); err != nil {
			return JID{}, err
		}
	}
	orig := ""
	if local == "" && resource == "" {
		orig = dp // a domain JID is its domainpart: nothing to build
	}
	return assemble(orig, lp, dp, rp, local != "", resource != ""), nil
}

// split divides s into its raw parts as RFC 7622 §3.1 says: the first '/'
// separates the resourcepart, then the first '@' before it separates the
// localpart. Nothing has been prepared yet, so a '@' or '/' that some
// mapping would produce later cannot move a separator.
func split(s string) (local, domain, resource string, hasLocal, hasResource bool) {
	head := s
	if i := strings.IndexByte(s, '/'); i >= 0 {
		head, resource, hasResource = s[:i], s[i+1:], true
	}
	domain = head
	if i := strings.IndexByte(head, '@'); i >= 0 {
		local, domain, hasLocal = head[:i], head[i+1:], true
	}
	return local, domain, resource, hasLocal, hasResource
}

// parseFast accepts s only if it is canonical ASCII that needs no
// preparation at all, and then returns a JID that refers to s. Anything
// else, valid or not, is left to parseSlow.
func parseFast(s string) (JID, bool) {
	local, domain, resource, hasLocal, hasResource := split(s)
	if hasLocal && !canonicalASCIILocal(local) {
		return JID{}, false
	}
	if !canonicalLDHDomain(domain) {
		return JID{}, false
	}
	if hasResource && !canonicalASCIIResource(resource) {
		return JID{}, false
	}
	j := JID{s: s, dend: uint16(len(domain))}
	if hasLocal {
		j.lend = uint16(len(local))
		j.dend += j.lend + 1
	}
	return j, true
}

// parseSlow prepares each part of s with PRECIS or IDNA.
func parseSlow(s string) (JID, error) {
	if s == "" {
		return JID{}, &Error{Part: "jid", Reason: "empty"}
	}
	if !utf8.ValidString(s) {
		return JID{}, &Error{Part: "jid", Reason: "not valid UTF-8"}
	}
	local, domain, resource, hasLocal, hasResource := split(s)
	var lp, rp string
	var err error
	if hasLocal {
		if lp, err = prepareLocal(local); err != nil {
			return JID{}, err
		}
	}
	dp, err := prepareDomain(domain)
	if err != nil {
		return JID{}, err
	}
	if hasResource {
		if rp, err = prepareResource(resource); err != nil {
			return JID{}, err
		}
	}
	orig := ""
	if lp == local && dp == domain && rp == resource {
		orig = s // already canonical: share s rather than build a copy
	}
	return assemble(orig, lp, dp, rp, hasLocal, hasResource), nil
}

// assemble builds a JID from prepared parts. If orig is not empty it is
// the canonical string already and is used as is.
func assemble(orig, lp, dp, rp string, hasLocal, hasResource bool) JID {
	s := orig
	if s == "" {
		var b strings.Builder
		b.Grow(len(lp) + len(dp) + len(rp) + 2)
		if hasLocal {
			b.WriteString(lp)
			b.WriteByte('@')
		}
		b.WriteString(dp)
		if hasResource {
			b.WriteByte('/')
			b.WriteString(rp)
		}
		s = b.String()
	}
	j := JID{s: s, dend: uint16(len(dp))}
	if hasLocal {
		j.lend = uint16(len(lp))
		j.dend += j.lend + 1
	}
	return j
}

// prepareLocal enforces RFC 7622 §3.3 on a raw localpart.
func prepareLocal(raw string) (string, error) {
	if raw == "" {
		return "", &Error{Part: "localpart", Reason: "empty"}
	}
	if canonicalASCIILocal(raw) {
		return raw, nil
	}
	if len(raw) > maxRawPartBytes {
		return "", partError("localpart", "longer than %d bytes", maxRawPartBytes)
	}
	if !utf8.ValidString(raw) {
		// PRECIS would quietly turn bad bytes into U+FFFD.
		return "", &Error{Part: "localpart", Reason: "not valid UTF-8"}
	}
	if l, ok := lowerASCII(raw); ok && canonicalASCIILocal(l) {
		// For ASCII, UsernameCaseMapped only lowercases.
		return l, nil
	}
	p, err := enforce(precis.UsernameCaseMapped, raw)
	if err != nil {
		return "", &Error{Part: "localpart", Reason: "not allowed by the PRECIS UsernameCaseMapped profile: " + err.Error(), err: err}
	}
	switch {
	case p == "":
		return "", &Error{Part: "localpart", Reason: "empty"}
	case len(p) > maxPartBytes:
		return "", partError("localpart", "longer than %d bytes", maxPartBytes)
	}
	if i := strings.IndexAny(p, localExcluded); i >= 0 {
		return "", partError("localpart", "contains %q", p[i])
	}
	return p, nil
}

// localExcluded are the characters RFC 7622 §3.3.1 forbids in a localpart
// on top of what UsernameCaseMapped forbids.
const localExcluded = "\"&'/:<>@"

// prepareResource enforces RFC 7622 §3.4 on a raw resourcepart.
func prepareResource(raw string) (string, error) {
	if raw == "" {
		return "", &Error{Part: "resourcepart", Reason: "empty"}
	}
	if canonicalASCIIResource(raw) {
		return raw, nil
	}
	if len(raw) > maxRawPartBytes {
		return "", partError("resourcepart", "longer than %d bytes", maxRawPartBytes)
	}
	if !utf8.ValidString(raw) {
		// PRECIS would quietly turn bad bytes into U+FFFD.
		return "", &Error{Part: "resourcepart", Reason: "not valid UTF-8"}
	}
	p, err := enforce(precis.OpaqueString, raw)
	if err != nil {
		return "", &Error{Part: "resourcepart", Reason: "not allowed by the PRECIS OpaqueString profile: " + err.Error(), err: err}
	}
	switch {
	case p == "":
		return "", &Error{Part: "resourcepart", Reason: "empty"}
	case len(p) > maxPartBytes:
		return "", partError("resourcepart", "longer than %d bytes", maxPartBytes)
	}
	return p, nil
}

// enforce applies profile p until its output no longer changes, as RFC 8264
// §7 asks of an implementation, and rejects input that does not settle
// within a few rounds. Without it a prepared JID could differ from the one
// obtained by parsing its own String.
func enforce(p *precis.Profile, s string) (string, error) {
	const rounds = 4
	for range rounds {
		t, err := p.String(s)
		if err != nil {
			return "", err
		}
		if t == s || isASCII(t) {
			// ASCII output of these profiles is a fixed point.
			return t, nil
		}
		s = t
	}
	return "", errUnstable
}

// errUnstable reports input whose preparation does not settle.
var errUnstable = errors.New("jid: preparation does not reach a stable result")

// prepareDomain enforces RFC 7622 §3.2 on a raw domainpart.
func prepareDomain(raw string) (string, error) {
	if canonicalLDHDomain(raw) {
		return raw, nil
	}
	if len(raw) > maxRawPartBytes {
		return "", partError("domainpart", "longer than %d bytes", maxRawPartBytes)
	}
	// One trailing dot, the DNS root, is stripped (§3.2).
	d := strings.TrimSuffix(raw, ".")
	if d == "" {
		return "", &Error{Part: "domainpart", Reason: "empty"}
	}
	if d[0] == '[' {
		return prepareIPLiteral(d)
	}
	if l, ok := lowerASCII(d); ok && canonicalLDHDomain(l) {
		// For LDH labels, UTS #46 mapping only lowercases.
		return l, nil
	}
	if !utf8.ValidString(d) {
		return "", &Error{Part: "domainpart", Reason: "not valid UTF-8"}
	}
	u, err := idna.Lookup.ToUnicode(d)
	if err != nil {
		return "", &Error{Part: "domainpart", Reason: "not a valid IDNA2008 domain name: " + err.Error(), err: err}
	}
	if len(u) > maxPartBytes {
		return "", partError("domainpart", "longer than %d bytes", maxPartBytes)
	}
	if err := checkLabels(u); err != nil {
		return "", err
	}
	return u, nil
}

// checkLabels rejects empty labels (which IDNA lookup tolerates) and labels
// longer than 63 bytes in A-label form.
func checkLabels(u string) error {
	for label := range strings.SplitSeq(u, ".") {
		if label == "" {
			return &Error{Part: "domainpart", Reason: "empty label"}
		}
		n := len(label)
		if !isASCII(label) {
			a, err := idna.Punycode.ToASCII(label)
			if err != nil {
				return &Error{Part: "domainpart", Reason: "label cannot be encoded as an A-label: " + err.Error(), err: err}
			}
			n = len(a)
		}
		if n > maxLabelBytes {
			return partError("domainpart", "label longer than %d bytes", maxLabelBytes)
		}
	}
	return nil
}

// prepareIPLiteral accepts "[IPv6address]" (RFC 3986 IP-literal without
// IPvFuture or zones) and writes it in RFC 5952 form.
func prepareIPLiteral(d string) (string, error) {
	if len(d) < 2 || d[len(d)-1] != ']' {
		return "", &Error{Part: "domainpart", Reason: "IP literal without closing ']'"}
	}
	a, err := netip.ParseAddr(d[1 : len(d)-1])
	if err != nil || !a.Is6() || a.Zone() != "" {
		return "", &Error{Part: "domainpart", Reason: "not an IPv6 address in brackets", err: err}
	}
	c := "[" + a.String() + "]"
	if c == d {
		return d, nil
	}
	return c, nil
}

// Bit sets of the ASCII bytes that the fast path accepts. Bytes 0–63 are
// in the first word, 64–127 in the second.
const (
	// A canonical ASCII localpart is printable ASCII without space (the
	// IdentifierClass), without uppercase (UsernameCaseMapped lowercases)
	// and without " & ' / : < > @ (RFC 7622 §3.3.1).
	localLo = (1<<64 - 1<<0x21) &^ (1<<'"' | 1<<'&' | 1<<'\'' | 1<<'/' | 1<<':' | 1<<'<' | 1<<'>')
	localHi = 1<<(0x7f-64) - 1<<('Z'+1-64)

	// A canonical ASCII resourcepart is printable ASCII including space
	// (the FreeformClass; OpaqueString maps no ASCII character).
	resourceLo = 1<<64 - 1<<0x20
	resourceHi = 1<<(0x7f-64) - 1
)

func inSet(c byte, lo, hi uint64) bool {
	if c < 64 {
		return lo&(1<<c) != 0
	}
	if c < 128 {
		return hi&(1<<(c-64)) != 0
	}
	return false
}

// canonicalASCIILocal reports whether s is a localpart that
// UsernameCaseMapped leaves unchanged and RFC 7622 allows.
func canonicalASCIILocal(s string) bool {
	if len(s) == 0 || len(s) > maxPartBytes {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !inSet(s[i], localLo, localHi) {
			return false
		}
	}
	return true
}

// canonicalASCIIResource reports whether s is a resourcepart that
// OpaqueString leaves unchanged.
func canonicalASCIIResource(s string) bool {
	if len(s) == 0 || len(s) > maxPartBytes {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !inSet(s[i], resourceLo, resourceHi) {
			return false
		}
	}
	return true
}

// canonicalLDHDomain reports whether s is a domain name of lowercase
// letter-digit-hyphen labels, without a trailing dot, that IDNA lookup
// leaves unchanged: every label 1 to 63 bytes, not starting or ending with
// a hyphen and without hyphens in its third and fourth places (which
// would make it an A-label to decode, or a reserved label).
func canonicalLDHDomain(s string) bool {
	if len(s) == 0 || len(s) > maxPartBytes {
		return false
	}
	start := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) {
			c := s[i]
			if 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' {
				continue
			}
			if c != '.' {
				return false
			}
		}
		label := s[start:i]
		n := len(label)
		if n == 0 || n > maxLabelBytes || label[0] == '-' || label[n-1] == '-' ||
			n >= 4 && label[2] == '-' && label[3] == '-' {
			return false
		}
		start = i + 1
	}
	return true
}

// lowerASCII returns s with A–Z lowercased, and false if s is not ASCII.
// It allocates only if s has an uppercase letter.
func lowerASCII(s string) (string, bool) {
	upper := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return "", false
		}
		upper = upper || 'A' <= c && c <= 'Z'
	}
	if !upper {
		return s, true
	}
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b), true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
