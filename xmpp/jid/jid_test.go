package jid

import (
	"encoding"
	"errors"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/text/secure/precis"
)

var (
	_ encoding.TextMarshaler   = JID{}
	_ encoding.TextUnmarshaler = (*JID)(nil)
)

func TestParseValid(t *testing.T) {
	for _, tc := range []struct {
		name, in                string
		want                    string // canonical form; "" means the same as in
		local, domain, resource string
	}{
		// RFC 7622 §3.5, "Examples of valid JIDs".
		{name: "bare", in: "juliet@example.com", local: "juliet", domain: "example.com"},
		{name: "full", in: "juliet@example.com/foo", local: "juliet", domain: "example.com", resource: "foo"},
		{name: "space in resource", in: "juliet@example.com/foo bar", local: "juliet", domain: "example.com", resource: "foo bar"},
		{name: "at in resource", in: "juliet@example.com/foo@bar", local: "juliet", domain: "example.com", resource: "foo@bar"},
		{name: "escaped space", in: `foo\20bar@example.com`, local: `foo\20bar`, domain: "example.com"},
		{name: "fussball", in: "fussball@example.com", local: "fussball", domain: "example.com"},
		{name: "sharp s kept", in: "fußball@example.com", local: "fußball", domain: "example.com"},
		{name: "pi", in: "π@example.com", local: "π", domain: "example.com"},
		{name: "capital sigma lowercased", in: "Σ@example.com/foo", want: "σ@example.com/foo", local: "σ", domain: "example.com", resource: "foo"},
		{name: "small sigma", in: "σ@example.com/foo", local: "σ", domain: "example.com", resource: "foo"},
		{name: "final sigma kept", in: "ς@example.com/foo", local: "ς", domain: "example.com", resource: "foo"},
		{name: "symbol in resource", in: "king@example.com/♚", local: "king", domain: "example.com", resource: "♚"},
		{name: "domain", in: "example.com", domain: "example.com"},
		{name: "domain and resource", in: "example.com/foobar", domain: "example.com", resource: "foobar"},
		{name: "at after slash is resource", in: "a.example.com/b@example.net", domain: "a.example.com", resource: "b@example.net"},

		// Case: localpart and domainpart are case-insensitive, resourcepart is not.
		{name: "case", in: "JULIET@EXAMPLE.COM/Balcony", want: "juliet@example.com/Balcony", local: "juliet", domain: "example.com", resource: "Balcony"},
		{name: "slash in resource", in: "juliet@example.com/a/b", local: "juliet", domain: "example.com", resource: "a/b"},
		{name: "leading digit", in: "1abc@example.com", local: "1abc", domain: "example.com"},
		{name: "single label", in: "admin@localhost", local: "admin", domain: "localhost"},
		{name: "biboumi channel", in: "#go-nuts%irc.libera.chat@irc.example.org/Nick", local: "#go-nuts%irc.libera.chat", domain: "irc.example.org", resource: "Nick"},
		{name: "e164", in: "+15551234567@sms.example.org", local: "+15551234567", domain: "sms.example.org"},

		// Domainpart preparation (§3.2).
		{name: "trailing dot stripped", in: "juliet@example.com./r", want: "juliet@example.com/r", local: "juliet", domain: "example.com", resource: "r"},
		{name: "fullwidth domain", in: "juliet@ＥＸＡＭＰＬＥ.com", want: "juliet@example.com", local: "juliet", domain: "example.com"},
		{name: "ideographic full stop", in: "a@example。com", want: "a@example.com", local: "a", domain: "example.com"},
		{name: "A-label to U-label", in: "juliet@xn--mnchen-3ya.de", want: "juliet@münchen.de", local: "juliet", domain: "münchen.de"},
		{name: "uppercase U-label", in: "juliet@MÜNCHEN.de", want: "juliet@münchen.de", local: "juliet", domain: "münchen.de"},
		{name: "nontransitional sharp s", in: "a@faß.de", local: "a", domain: "faß.de"},
		{name: "IPv4", in: "a@192.0.2.1/r", local: "a", domain: "192.0.2.1", resource: "r"},
		{name: "IPv6", in: "a@[2001:db8::1]/r", local: "a", domain: "[2001:db8::1]", resource: "r"},
		{name: "IPv6 to RFC 5952", in: "a@[2001:DB8:0:0:0:0:0:1]", want: "a@[2001:db8::1]", local: "a", domain: "[2001:db8::1]"},
		{name: "label of 63", in: "a@" + strings.Repeat("x", 63) + ".com", local: "a", domain: strings.Repeat("x", 63) + ".com"},

		// Localpart and resourcepart preparation.
		{name: "fullwidth localpart", in: "ｊｕｌｉｅｔ@example.com", want: "juliet@example.com", local: "juliet", domain: "example.com"},
		{name: "no-break space in resource", in: "x@example.com/\u00a0foo", want: "x@example.com/ foo", local: "x", domain: "example.com", resource: " foo"},
		{name: "NFC resource", in: "x@example.com/e\u0301", want: "x@example.com/é", local: "x", domain: "example.com", resource: "é"},
		{name: "longest parts", in: strings.Repeat("l", 1023) + "@" + strings.Repeat(strings.Repeat("d", 63)+".", 15) + "abcdefghijklmnopq/" + strings.Repeat("r", 1023),
			local: strings.Repeat("l", 1023), domain: strings.Repeat(strings.Repeat("d", 63)+".", 15) + "abcdefghijklmnopq", resource: strings.Repeat("r", 1023)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j, err := Parse(tc.in)
			if err != nil {
				t.Fatalf("Parse(%q): got error %v, want none", tc.in, err)
			}
			want := tc.want
			if want == "" {
				want = tc.in
			}
			if got := j.String(); got != want {
				t.Errorf("String: got %q, want %q", got, want)
			}
			if got := j.Localpart(); got != tc.local {
				t.Errorf("Localpart: got %q, want %q", got, tc.local)
			}
			if got := j.Domainpart(); got != tc.domain {
				t.Errorf("Domainpart: got %q, want %q", got, tc.domain)
			}
			if got := j.Resourcepart(); got != tc.resource {
				t.Errorf("Resourcepart: got %q, want %q", got, tc.resource)
			}
			n, err := New(tc.local, tc.domain, tc.resource)
			if err != nil {
				t.Fatalf("New(%q, %q, %q): got error %v, want none", tc.local, tc.domain, tc.resource, err)
			}
			if n != j {
				t.Errorf("New: got %q, want %q", n, j)
			}
		})
	}
}

func TestParseInvalid(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		part     string
		reason   string // a substring of Reason, if set
	}{
		// RFC 7622 §3.5, "Examples of invalid JIDs".
		{name: "two ats", in: "juliet@@example.com", part: "domainpart"},
		{name: "space in localpart", in: "foo bar@example.com", part: "localpart"},
		{name: "at in domain", in: "juliet@test@example.com", part: "domainpart"},
		{name: "empty localpart", in: "@example.com", part: "localpart"},
		{name: "roman numeral four", in: "henry\u2163@example.com", part: "localpart"},
		{name: "symbol in localpart", in: "♚@example.com", part: "localpart"},
		{name: "empty domain", in: "juliet@", part: "domainpart"},
		{name: "no domain", in: "/foobar", part: "domainpart"},

		{name: "empty", in: "", part: "jid"},
		{name: "invalid UTF-8", in: "juliet@example.com/\xff", part: "jid"},
		{name: "empty resource", in: "juliet@example.com/", part: "resourcepart"},
		{name: "domain with empty resource", in: "example.com/", part: "resourcepart"},
		{name: "only separators", in: "@/", part: "localpart"},
		{name: "only dot", in: "a@.", part: "domainpart"},
		{name: "two trailing dots", in: "a@example.com..", part: "domainpart"},
		{name: "empty label", in: "a@example..com", part: "domainpart"},
		{name: "leading dot", in: "a@.example.com", part: "domainpart"},
		{name: "underscore", in: "a@ex_ample.com", part: "domainpart"},
		{name: "space in domain", in: "a@exa mple.com", part: "domainpart"},
		{name: "leading hyphen", in: "a@-example.com", part: "domainpart"},
		{name: "trailing hyphen", in: "a@example-.com", part: "domainpart"},
		{name: "hyphens in 3rd and 4th place", in: "a@ab--c.com", part: "domainpart"},
		{name: "bad punycode", in: "a@xn--abc.com", part: "domainpart"},
		{name: "label of 64", in: "a@" + strings.Repeat("x", 64) + ".com", part: "domainpart", reason: "label longer than 63 bytes"},
		{name: "U-label of 63 is 69 as A-label", in: "a@abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghiü.com", part: "domainpart", reason: "label longer than 63 bytes"},
		{name: "IPv4 in brackets", in: "a@[192.0.2.1]", part: "domainpart"},
		{name: "IPv6 zone", in: "a@[fe80::1%eth0]", part: "domainpart"},
		{name: "unclosed IP literal", in: "a@[::1", part: "domainpart"},
		{name: "fullwidth at in localpart", in: "ju\uff20liet@example.com", part: "localpart"},
		{name: "quote in localpart", in: `"juliet"@example.com`, part: "localpart"},
		{name: "apostrophe in localpart", in: "d'artagnan@example.com", part: "localpart"},
		{name: "colon in localpart", in: "a:b@example.com", part: "localpart"},
		{name: "angle brackets in localpart", in: "<a>@example.com", part: "localpart"},
		{name: "ampersand in localpart", in: "at&t@example.com", part: "localpart"},
		{name: "control in resource", in: "x@example.com/\tfoo", part: "resourcepart"},
		{name: "DEL in resource", in: "x@example.com/\x7f", part: "resourcepart"},
		{name: "localpart of 1024", in: strings.Repeat("l", 1024) + "@example.com", part: "localpart", reason: "longer than 1023 bytes"},
		{name: "resource of 1024", in: "example.com/" + strings.Repeat("r", 1024), part: "resourcepart", reason: "longer than 1023 bytes"},
		{name: "fullwidth localpart of 1024", in: strings.Repeat("Ｌ", 1024) + "@example.com", part: "localpart", reason: "longer than 1023 bytes"},
		{name: "domain of 1025", in: strings.Repeat(strings.Repeat("d", 63)+".", 16) + "d", part: "domainpart", reason: "longer than 1023 bytes"},
		{name: "U-label domain over 1023", in: strings.Repeat(strings.Repeat("ü", 30)+".", 17) + "x", part: "domainpart", reason: "longer than 1023 bytes"},
		{name: "huge localpart", in: strings.Repeat("Ｌ", 2000) + "@example.com", part: "localpart", reason: "longer than 4092 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j, err := Parse(tc.in)
			if err == nil {
				t.Fatalf("Parse(%q): got %q, want an error", tc.in, j)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q): got error %T %v, want *Error", tc.in, err, err)
			}
			if e.Part != tc.part {
				t.Errorf("Parse(%q): got part %q (%v), want %q", tc.in, e.Part, err, tc.part)
			}
			if !strings.Contains(e.Reason, tc.reason) {
				t.Errorf("Parse(%q): got reason %q, want it to contain %q", tc.in, e.Reason, tc.reason)
			}
			if !strings.HasPrefix(err.Error(), "jid: invalid "+tc.part+": ") {
				t.Errorf("Error(): got %q, want prefix %q", err.Error(), "jid: invalid "+tc.part+": ")
			}
			if j != (JID{}) {
				t.Errorf("Parse(%q): got %q with the error, want the zero JID", tc.in, j)
			}
		})
	}
}

func TestEquality(t *testing.T) {
	for _, tc := range []struct {
		a, b  string
		equal bool
	}{
		{a: "juliet@example.com", b: "Juliet@Example.COM", equal: true},
		{a: "juliet@example.com", b: "juliet@example.com.", equal: true},
		{a: "juliet@münchen.de", b: "juliet@xn--mnchen-3ya.de", equal: true},
		{a: "σ@example.com", b: "Σ@example.com", equal: true},
		{a: "σ@example.com", b: "ς@example.com", equal: false},
		{a: "juliet@example.com/balcony", b: "juliet@example.com/Balcony", equal: false},
		{a: "juliet@example.com", b: "juliet@example.com/balcony", equal: false},
		{a: "example.com", b: "juliet@example.com", equal: false},
	} {
		a, b := MustParse(tc.a), MustParse(tc.b)
		if got := a == b; got != tc.equal {
			t.Errorf("%q == %q: got %v, want %v (parsed %q and %q)", tc.a, tc.b, got, tc.equal, a, b)
		}
	}
}

func TestParts(t *testing.T) {
	for _, tc := range []struct {
		in               string
		bare, domain     string
		isBare, isDomain bool
	}{
		{in: "juliet@example.com/balcony", bare: "juliet@example.com", domain: "example.com"},
		{in: "juliet@example.com", bare: "juliet@example.com", domain: "example.com", isBare: true},
		{in: "example.com/r", bare: "example.com", domain: "example.com"},
		{in: "example.com", bare: "example.com", domain: "example.com", isBare: true, isDomain: true},
		{in: "Σ@ÉXAMPLE.com/♚", bare: "σ@éxample.com", domain: "éxample.com"},
	} {
		j := MustParse(tc.in)
		if got := j.Bare(); got != MustParse(tc.bare) {
			t.Errorf("%q.Bare(): got %q, want %q", tc.in, got, tc.bare)
		}
		if got := j.Domain(); got != MustParse(tc.domain) {
			t.Errorf("%q.Domain(): got %q, want %q", tc.in, got, tc.domain)
		}
		if got := j.IsBare(); got != tc.isBare {
			t.Errorf("%q.IsBare(): got %v, want %v", tc.in, got, tc.isBare)
		}
		if got := j.IsDomain(); got != tc.isDomain {
			t.Errorf("%q.IsDomain(): got %v, want %v", tc.in, got, tc.isDomain)
		}
		if j.IsZero() {
			t.Errorf("%q.IsZero(): got true, want false", tc.in)
		}
	}
}

func TestZero(t *testing.T) {
	var z JID
	for _, tc := range []struct {
		name      string
		got, want any
	}{
		{name: "IsZero", got: z.IsZero(), want: true},
		{name: "String", got: z.String(), want: ""},
		{name: "Localpart", got: z.Localpart(), want: ""},
		{name: "Domainpart", got: z.Domainpart(), want: ""},
		{name: "Resourcepart", got: z.Resourcepart(), want: ""},
		{name: "Bare", got: z.Bare(), want: JID{}},
		{name: "Domain", got: z.Domain(), want: JID{}},
	} {
		if tc.got != tc.want {
			t.Errorf("zero JID %s: got %#v, want %#v", tc.name, tc.got, tc.want)
		}
	}
	if _, err := z.WithResource("r"); err == nil {
		t.Errorf("zero JID WithResource: got no error, want one")
	}
}

func TestNew(t *testing.T) {
	for _, tc := range []struct {
		name                    string
		local, domain, resource string
		want                    string
		wantPart                string
	}{
		{name: "full", local: "Juliet", domain: "Example.com", resource: "Balcony", want: "juliet@example.com/Balcony"},
		{name: "domain only", domain: "example.com", want: "example.com"},
		{name: "escaped", local: Escape("alice@example.com"), domain: "email.example.org", want: `alice\40example.com@email.example.org`},
		{name: "at in localpart", local: "a@b", domain: "example.com", wantPart: "localpart"},
		{name: "slash in localpart", local: "a/b", domain: "example.com", wantPart: "localpart"},
		{name: "no domain", local: "a", wantPart: "domainpart"},
		{name: "slash in domain", domain: "example.com/x", wantPart: "domainpart"},
		{name: "at in domain", domain: "a@example.com", wantPart: "domainpart"},
		{name: "bad resource", domain: "example.com", resource: "\x00", wantPart: "resourcepart"},
		{name: "invalid UTF-8 resource", domain: "example.com", resource: "\xff", wantPart: "resourcepart"},
		{name: "invalid UTF-8 localpart", local: "a\xff", domain: "example.com", wantPart: "localpart"},
		{name: "invalid UTF-8 domain", domain: "example.\xff", wantPart: "domainpart"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j, err := New(tc.local, tc.domain, tc.resource)
			if tc.wantPart != "" {
				var e *Error
				if !errors.As(err, &e) || e.Part != tc.wantPart {
					t.Fatalf("New: got %q, %v; want an error in the %s", j, err, tc.wantPart)
				}
				return
			}
			if err != nil {
				t.Fatalf("New: got error %v, want %q", err, tc.want)
			}
			if j != MustParse(tc.want) {
				t.Errorf("New: got %q, want %q", j, tc.want)
			}
		})
	}
}

func TestWithResource(t *testing.T) {
	for _, tc := range []struct {
		in, resource string
		want         string
		wantErr      bool
	}{
		{in: "juliet@example.com", resource: "balcony", want: "juliet@example.com/balcony"},
		{in: "juliet@example.com/balcony", resource: "Chamber", want: "juliet@example.com/Chamber"},
		{in: "juliet@example.com/balcony", resource: "", want: "juliet@example.com"},
		{in: "example.com", resource: "\u00a0x", want: "example.com/ x"},
		{in: "example.com", resource: "a\x00", wantErr: true},
		{in: "example.com", resource: "a\xffb", wantErr: true},
		{in: "example.com", resource: strings.Repeat("r", 1024), wantErr: true},
	} {
		got, err := MustParse(tc.in).WithResource(tc.resource)
		if tc.wantErr {
			if err == nil {
				t.Errorf("%q.WithResource(%q): got %q, want an error", tc.in, tc.resource, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q.WithResource(%q): got error %v, want %q", tc.in, tc.resource, err, tc.want)
			continue
		}
		if got != MustParse(tc.want) {
			t.Errorf("%q.WithResource(%q): got %q, want %q", tc.in, tc.resource, got, tc.want)
		}
	}
}

func TestMustParsePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Errorf("MustParse(%q): got no panic, want one", "@")
		}
	}()
	MustParse("@")
}

func TestText(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		wantErr  bool
	}{
		{in: "Juliet@Example.com/Balcony", want: "juliet@example.com/Balcony"},
		{in: "", want: ""},
		{in: "@example.com", wantErr: true},
	} {
		var j JID
		err := j.UnmarshalText([]byte(tc.in))
		if tc.wantErr {
			if err == nil {
				t.Errorf("UnmarshalText(%q): got %q, want an error", tc.in, j)
			}
			continue
		}
		if err != nil {
			t.Errorf("UnmarshalText(%q): got error %v, want %q", tc.in, err, tc.want)
			continue
		}
		b, err := j.MarshalText()
		if err != nil || string(b) != tc.want {
			t.Errorf("MarshalText after UnmarshalText(%q): got %q, %v; want %q", tc.in, b, err, tc.want)
		}
	}
}

// TestFastPathBytes checks the fast path's byte sets against the PRECIS
// profiles themselves, one ASCII byte at a time.
func TestFastPathBytes(t *testing.T) {
	for c := 0; c < 256; c++ {
		s := string([]byte{byte(c)})
		p, err := precis.UsernameCaseMapped.String(s)
		wantLocal := err == nil && p == s && !strings.Contains(localExcluded, s)
		if got := canonicalASCIILocal(s); got != wantLocal {
			t.Errorf("canonicalASCIILocal(%q): got %v, want %v", s, got, wantLocal)
		}
		p, err = precis.OpaqueString.String(s)
		wantResource := err == nil && p == s
		if got := canonicalASCIIResource(s); got != wantResource {
			t.Errorf("canonicalASCIIResource(%q): got %v, want %v", s, got, wantResource)
		}
	}
}

func TestParseAllocs(t *testing.T) {
	for _, s := range []string{
		"juliet@example.com",
		"juliet@example.com/balcony",
		"example.com",
		`d\27artagnan@musketeers.lit/gate`,
		"π@example.com/♚", // canonical but not ASCII: PRECIS allocates, the JID does not copy s
	} {
		j := MustParse(s)
		if !sameMemory(j.String(), s) {
			t.Errorf("Parse(%q): got a copy of the input, want the input itself", s)
		}
		if s == "π@example.com/♚" {
			continue
		}
		if n := testing.AllocsPerRun(100, func() { j, _ = Parse(s) }); n != 0 {
			t.Errorf("Parse(%q): got %v allocations, want 0", s, n)
		}
		if n := testing.AllocsPerRun(100, func() { _ = j.Bare().String() + ""; _ = j.Domain() }); n != 0 {
			t.Errorf("Bare/Domain of %q: got %v allocations, want 0", s, n)
		}
	}
}

// sameMemory reports whether a and b are the same bytes in memory, not
// just equal.
func sameMemory(a, b string) bool {
	return len(a) == len(b) && unsafe.StringData(a) == unsafe.StringData(b)
}
