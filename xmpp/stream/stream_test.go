package stream

import (
	"bytes"
	"errors"
	"testing"

	"junction/xmpp/xmltok"
)

func TestHeaderAppendOpen(t *testing.T) {
	const prefix = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'"
	tests := []struct {
		name string
		h    Header
		want string
	}{
		{"defaults to version 1.0", Header{NS: "jabber:client"}, prefix + " version='1.0'>"},
		{"all attributes in order", Header{NS: "jabber:client", From: "example.com", To: "juliet@example.com", ID: "abc", Version: "1.0", Lang: "en"},
			prefix + " from='example.com' to='juliet@example.com' id='abc' version='1.0' xml:lang='en'>"},
		{"explicit version kept", Header{NS: "jabber:client", Version: "1.1"}, prefix + " version='1.1'>"},
		{"no version for components", Header{NS: "jabber:client", To: "irc.example.com", NoVersion: true}, prefix + " to='irc.example.com'>"},
		{"NoVersion wins over Version", Header{NS: "jabber:client", Version: "1.0", NoVersion: true}, prefix + ">"},
		{"attribute values escaped", Header{NS: "jabber:client", From: "a'b\"c<d>&e", ID: "x\ny"},
			prefix + " from='a&apos;b&quot;c&lt;d&gt;&amp;e' id='x&#xA;y' version='1.0'>"},
		{"namespace escaped", Header{NS: "a'b", NoVersion: true},
			"<?xml version='1.0'?><stream:stream xmlns='a&apos;b' xmlns:stream='http://etherx.jabber.org/streams'>"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := string(tc.h.AppendOpen([]byte("X")))
			if got != "X"+tc.want {
				t.Errorf("got %s, want X%s", got, tc.want)
			}
		})
	}
}

// TestHeaderAppendOpenParses checks that what AppendOpen writes is a
// stream header our own tokenizer accepts, with every attribute intact.
func TestHeaderAppendOpenParses(t *testing.T) {
	h := Header{NS: "jabber:server", From: "a'b&c", To: "x<y>", ID: "i\"d\t", Lang: "fr"}
	dec := xmltok.NewDecoder(bytes.NewReader(h.AppendOpen(nil)), xmltok.Options{})
	sh, err := dec.ReadStreamHeader()
	if err != nil {
		t.Fatalf("ReadStreamHeader: %v", err)
	}
	if sh.DefaultNS != h.NS {
		t.Errorf("got namespace %q, want %q", sh.DefaultNS, h.NS)
	}
	for name, want := range map[string]string{"from": h.From, "to": h.To, "id": h.ID, "version": "1.0"} {
		if got := Attr(sh.Attrs, name); got != want {
			t.Errorf("got %s=%q, want %q", name, got, want)
		}
	}
	if got := Lang(sh.Attrs); got != "fr" {
		t.Errorf("got xml:lang=%q, want %q", got, "fr")
	}
}

func TestErrorAppendXML(t *testing.T) {
	tests := []struct {
		err  Error
		want string
	}{
		{Error{Condition: HostUnknown}, "<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>"},
		{Error{Condition: PolicyViolation, Text: "too <fast> & loud"},
			"<stream:error><policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>" +
				"<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>too &lt;fast&gt; &amp; loud</text></stream:error>"},
	}
	for _, tc := range tests {
		t.Run(tc.err.Condition, func(t *testing.T) {
			got := string(tc.err.AppendXML([]byte("X")))
			if got != "X"+tc.want {
				t.Errorf("got %s, want X%s", got, tc.want)
			}
		})
	}
}

func TestErrorString(t *testing.T) {
	tests := []struct {
		err  Error
		want string
	}{
		{Error{Condition: Conflict}, "stream error conflict"},
		{Error{Condition: Conflict, Text: "replaced"}, "stream error conflict: replaced"},
	}
	for _, tc := range tests {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}

func TestCheckVersion(t *testing.T) {
	tests := []struct {
		v  string
		ok bool
	}{
		{"1.0", true},
		{"1.1", true},
		{"1.23", true},
		{"", false},
		{"1", false},
		{"0.9", false},
		{"2.0", false},
		{"one.zero", false},
		{"-1.0", false},
	}
	for _, tc := range tests {
		t.Run(tc.v, func(t *testing.T) {
			err := CheckVersion(tc.v)
			if (err == nil) != tc.ok {
				t.Fatalf("CheckVersion(%q) = %v, want ok=%v", tc.v, err, tc.ok)
			}
			if err == nil {
				return
			}
			var se *Error
			if !errors.As(err, &se) || se.Condition != UnsupportedVersion {
				t.Errorf("got %v, want a stream error %s", err, UnsupportedVersion)
			}
		})
	}
}

func TestErrorFromXML(t *testing.T) {
	got := ErrorFromXML(&xmltok.Error{Condition: NotWellFormed})
	if got.Condition != NotWellFormed {
		t.Errorf("got %s, want %s", got.Condition, NotWellFormed)
	}
}
