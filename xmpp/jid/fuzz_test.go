package jid

import (
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/text/secure/precis"
)

// referenceLocal prepares a localpart with PRECIS alone, without the ASCII
// shortcuts of prepareLocal.
func referenceLocal(raw string) (string, bool) {
	p, err := enforce(precis.UsernameCaseMapped, raw)
	if err != nil || p == "" || len(p) > maxPartBytes || strings.ContainsAny(p, localExcluded) {
		return "", false
	}
	return p, true
}

// referenceDomain prepares a domainpart with IDNA alone, without the LDH
// shortcuts of prepareDomain.
func referenceDomain(raw string) (string, bool) {
	d := strings.TrimSuffix(raw, ".")
	if d == "" {
		return "", false
	}
	if d[0] == '[' {
		p, err := prepareIPLiteral(d)
		return p, err == nil
	}
	u, err := idna.Lookup.ToUnicode(d)
	if err != nil || len(u) > maxPartBytes || checkLabels(u) != nil {
		return "", false
	}
	return u, true
}

// checkShortcuts compares the preparation of s's parts with the reference.
func checkShortcuts(t *testing.T, s string) {
	if !utf8.ValidString(s) {
		return
	}
	local, domain, _, hasLocal, _ := split(s)
	if hasLocal && local != "" && len(local) <= maxRawPartBytes {
		got, err := prepareLocal(local)
		want, ok := referenceLocal(local)
		if (err == nil) != ok || got != want {
			t.Fatalf("prepareLocal(%q): got %q, %v; reference gives %q, %v", local, got, err, want, ok)
		}
	}
	if len(domain) <= maxRawPartBytes {
		got, err := prepareDomain(domain)
		want, ok := referenceDomain(domain)
		if (err == nil) != ok || got != want {
			t.Fatalf("prepareDomain(%q): got %q, %v; reference gives %q, %v", domain, got, err, want, ok)
		}
	}
}

// checkNew uses s as each part of a JID in turn: what New and WithResource
// accept must be canonical.
func checkNew(t *testing.T, s string) {
	for _, parts := range [][3]string{
		{s, "example.com", ""},
		{"", s, ""},
		{"", "example.com", s},
	} {
		j, err := New(parts[0], parts[1], parts[2])
		if err != nil {
			continue
		}
		if again, err := Parse(j.String()); err != nil || again != j || !utf8.ValidString(j.String()) {
			t.Fatalf("New(%q, %q, %q) gave %q, which parses to %q, %v", parts[0], parts[1], parts[2], j, again, err)
		}
	}
	if s == "" {
		return
	}
	if j, err := MustParse("example.com").WithResource(s); err == nil {
		if again, err := Parse(j.String()); err != nil || again != j || j.Resourcepart() == "" {
			t.Fatalf("WithResource(%q) gave %q, which parses to %q, %v", s, j, again, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"juliet@example.com",
		"juliet@example.com/foo bar",
		"a.example.com/b@example.net",
		"Σ@example.com/foo",
		"fußball@xn--mnchen-3ya.de./♚",
		`foo\20bar@example.com`,
		"a@[2001:DB8::1]/r",
		"juliet@@example.com",
		"ju\uff20liet@ＥＸＡＭＰＬＥ。com",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkShortcuts(t, s)
		checkNew(t, s)
		j, err := Parse(s)
		if fast, ok := parseFast(s); ok {
			// The fast path must agree with full preparation.
			slow, err := parseSlow(s)
			if err != nil || slow != fast {
				t.Fatalf("Parse(%q): fast path gave %q, full preparation %q, %v", s, fast, slow, err)
			}
		}
		if err != nil {
			if j != (JID{}) {
				t.Fatalf("Parse(%q): got %q with error %v, want the zero JID", s, j, err)
			}
			return
		}
		if j.IsZero() {
			t.Fatalf("Parse(%q): got the zero JID and no error", s)
		}

		// Canonical: parsing the output again changes nothing.
		again, err := Parse(j.String())
		if err != nil {
			t.Fatalf("Parse(%q) gave %q, which does not parse: %v", s, j, err)
		}
		if again != j {
			t.Fatalf("Parse(%q) gave %q, which parses to %q", s, j, again)
		}

		// The parts put together are the JID.
		l, d, r := j.Localpart(), j.Domainpart(), j.Resourcepart()
		if n, err := New(l, d, r); err != nil || n != j {
			t.Fatalf("New(%q, %q, %q): got %q, %v; want %q", l, d, r, n, err, j)
		}
		want := d
		if l != "" {
			want = l + "@" + d
		}
		if b := j.Bare(); b.String() != want || b.Localpart() != l || b.Domainpart() != d || !b.IsBare() {
			t.Fatalf("%q.Bare(): got %q (%q, %q), want %q", j, b, b.Localpart(), b.Domainpart(), want)
		}
		if b, err := Parse(want); err != nil || b != j.Bare() {
			t.Fatalf("Parse(%q): got %q, %v; want %q.Bare()", want, b, err, j)
		}
		if dj := j.Domain(); dj.String() != d || !dj.IsDomain() || dj.Domainpart() != d {
			t.Fatalf("%q.Domain(): got %q, want %q", j, dj, d)
		}
		if j.IsBare() != (r == "") || j.IsDomain() != (l == "" && r == "") {
			t.Fatalf("%q: IsBare %v, IsDomain %v do not match its parts", j, j.IsBare(), j.IsDomain())
		}
		if r != "" {
			if w, err := j.Bare().WithResource(r); err != nil || w != j {
				t.Fatalf("%q.Bare().WithResource(%q): got %q, %v; want %q", j, r, w, err, j)
			}
		}
		for _, p := range []string{l, d, r} {
			if len(p) > maxPartBytes {
				t.Fatalf("Parse(%q): got a part of %d bytes", s, len(p))
			}
		}
		if strings.ContainsAny(l, localExcluded) || strings.ContainsAny(d, "@/") {
			t.Fatalf("Parse(%q): got %q with a separator inside a part", s, j)
		}
		var u JID
		if err := u.UnmarshalText([]byte(j.String())); err != nil || u != j {
			t.Fatalf("UnmarshalText(%q): got %q, %v", j, u, err)
		}
	})
}

func FuzzEscape(f *testing.F) {
	for _, s := range []string{
		"space cadet",
		`call me "ishmael"`,
		`c:\5commas`,
		`\3and\2is\5cool`,
		`\5C\2F`,
		"alice@example.com",
		`call me\20`,
		`\`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := Escape(s)
		if got := Unescape(e); got != s {
			t.Fatalf("Unescape(Escape(%q)) = Unescape(%q): got %q, want %q", s, e, got, s)
		}
		if i := strings.IndexAny(e, ` "&'/:<>@`); i >= 0 {
			t.Fatalf("Escape(%q): got %q, which still contains %q", s, e, e[i])
		}
		if !strings.ContainsAny(s, ` "&'/:<>@\`) && e != s {
			t.Fatalf("Escape(%q): got %q, want it unchanged", s, e)
		}
		// An escaped localpart that is valid otherwise is a valid JID, and
		// its localpart unescapes to s up to case mapping.
		if j, err := New(e, "example.com", ""); err == nil {
			if s2 := Unescape(j.Localpart()); Escape(s2) != j.Localpart() {
				t.Fatalf("localpart %q of New(%q): unescapes to %q, which escapes to %q", j.Localpart(), e, s2, Escape(s2))
			}
		}
	})
}
