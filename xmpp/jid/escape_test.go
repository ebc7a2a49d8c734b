package jid

import "testing"

func TestEscape(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		// XEP-0106 §5.1, "Jabber Identifiers".
		{name: "1", in: "space cadet", want: `space\20cadet`},
		{name: "2", in: `call me "ishmael"`, want: `call\20me\20\22ishmael\22`},
		{name: "3", in: "at&t guy", want: `at\26t\20guy`},
		{name: "4", in: "d'artagnan", want: `d\27artagnan`},
		{name: "5", in: "/.fanboy", want: `\2f.fanboy`},
		{name: "6", in: "::foo::", want: `\3a\3afoo\3a\3a`},
		{name: "7", in: "<foo>", want: `\3cfoo\3e`},
		{name: "8", in: "user@host", want: `user\40host`},
		{name: "9", in: `c:\net`, want: `c\3a\net`},
		{name: "10", in: `c:\\net`, want: `c\3a\\net`},
		{name: "11", in: `c:\cool stuff`, want: `c\3a\cool\20stuff`},
		{name: "12", in: `c:\5commas`, want: `c\3a\5c5commas`},
		// XEP-0106 §4.2 and §5.2–5.5.
		{name: "IMPS", in: `\3and\2is\5cool`, want: `\5c3and\2is\5c5cool`},
		{name: "email", in: "here's_a_wild_&_/cr%zy/_address", want: `here\27s_a_wild_\26_\2fcr%zy\2f_address`},
		{name: "email address", in: "alice@example.com", want: `alice\40example.com`},
		// XEP-0106 §4.3: partial and undefined sequences are left alone.
		{name: "partial", in: `\2plus\2is\4`, want: `\2plus\2is\4`},
		{name: "undefined 1", in: `foo\bar`, want: `foo\bar`},
		{name: "undefined 2", in: `foob\41r`, want: `foob\41r`},
		{name: "escaped space", in: `call me\20`, want: `call\20me\5c20`},
		{name: "backslash", in: `\5c`, want: `\5c5c`},
		{name: "trailing backslash", in: `a\`, want: `a\`},
		{name: "uppercase sequence", in: `a\2Fb`, want: `a\5c2Fb`},
		{name: "edge spaces", in: " a ", want: `\20a\20`},
		{name: "nothing to do", in: "juliet", want: "juliet"},
		{name: "empty", in: "", want: ""},
		{name: "non-ASCII", in: "tréville@musketeers.lit", want: `tréville\40musketeers.lit`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Escape(tc.in); got != tc.want {
				t.Errorf("Escape(%q): got %q, want %q", tc.in, got, tc.want)
			}
			if got := Unescape(tc.want); got != tc.in {
				t.Errorf("Unescape(%q): got %q, want %q", tc.want, got, tc.in)
			}
		})
	}
}

func TestUnescape(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{in: `d\27artagnan`, want: "d'artagnan"},
		{in: `\20\22\26\27\2f\3a\3c\3e\40\5c`, want: ` "&'/:<>@\`},
		{in: `\2F\3A\5C`, want: `\2F\3A\5C`}, // case is significant
		{in: `\5c20`, want: `\20`},
		{in: `\5c5c20`, want: `\5c20`},
		{in: `\41`, want: `\41`},
		{in: `\2`, want: `\2`},
		{in: `\`, want: `\`},
		{in: `\\27`, want: `\'`},
		{in: "juliet", want: "juliet"},
	} {
		if got := Unescape(tc.in); got != tc.want {
			t.Errorf("Unescape(%q): got %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestEscapeJID checks that an escaped address survives a trip through a
// JID: escape, build the JID, read the localpart back, unescape.
func TestEscapeJID(t *testing.T) {
	for _, addr := range []string{
		"alice@example.com",
		"here's_a_wild_&_/cr%zy/_address@example.com",
		`c:\5commas`,
		`a\2fb`,
	} {
		j, err := New(Escape(addr), "email.example.org", "")
		if err != nil {
			t.Errorf("New(Escape(%q), ...): got error %v, want none", addr, err)
			continue
		}
		if got := Unescape(j.Localpart()); got != addr {
			t.Errorf("Unescape(localpart of %q): got %q, want %q", j, got, addr)
		}
	}
}
