package stanza

import (
	"strings"
	"testing"

	"junction/xmpp/jid"
	"junction/xmpp/xmltok"
)

const header = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>"

func element(t *testing.T, raw string) *xmltok.Element {
	t.Helper()
	d := xmltok.NewDecoder(strings.NewReader(header+raw), xmltok.Options{})
	if _, err := d.ReadStreamHeader(); err != nil {
		t.Fatal(err)
	}
	el, err := d.ReadElement()
	if err != nil {
		t.Fatal(err)
	}
	return el
}

func TestFromElement(t *testing.T) {
	from := jid.MustParse("alice@example.org/phone")
	for _, tc := range []struct {
		name, raw    string
		to, typ, id  string
		wantErr      Condition
		wantNotInRaw string
	}{
		{name: "plain", raw: "<message to='bob@example.org' type='chat' id='1'><body>hi</body></message>", to: "bob@example.org", typ: "chat", id: "1"},
		{name: "spoofed from is replaced", raw: "<message from='mallory@evil.example' to='bob@example.org'/>", to: "bob@example.org", wantNotInRaw: "mallory"},
		{name: "escaped attribute", raw: "<iq to='bob@example.org' type='get' id='a&amp;b'><ping xmlns='urn:xmpp:ping'/></iq>", to: "bob@example.org", typ: "get", id: "a&b"},
		{name: "to is canonicalized", raw: "<presence to='Bob@Example.ORG'/>", to: "bob@example.org"},
		{name: "bad to", raw: "<message to='a@b@c'/>", wantErr: JIDMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := FromElement(element(t, tc.raw), from)
			if tc.wantErr != "" {
				se, ok := err.(*Error)
				if !ok || se.Condition != tc.wantErr {
					t.Fatalf("got %v, want %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if st.From != from || st.To.String() != tc.to || st.Type != tc.typ || st.ID != tc.id {
				t.Fatalf("got from=%s to=%s type=%q id=%q", st.From, st.To, st.Type, st.ID)
			}
			if tc.wantNotInRaw != "" && strings.Contains(st.Raw, tc.wantNotInRaw) {
				t.Fatalf("raw still holds %q: %s", tc.wantNotInRaw, st.Raw)
			}
			// The bytes carry the stamped from and parse back to the same header.
			n, err := st.Node()
			if err != nil {
				t.Fatalf("raw %q does not parse: %v", st.Raw, err)
			}
			if n.Attr("from") != from.String() {
				t.Fatalf("raw from %q, want %q", n.Attr("from"), from)
			}
		})
	}
}

func TestErrorReplyNeverAnswersErrors(t *testing.T) {
	a, b := jid.MustParse("a@example.org/x"), jid.MustParse("b@example.org")
	req := New(IQ, a, b, "get", "q1")
	reply := ErrorReply(req, Errorf(Cancel, ServiceUnavailable, "nope"))
	if reply == nil || reply.To != a || reply.From != b || reply.Type != "error" || reply.ID != "q1" {
		t.Fatalf("got %+v", reply)
	}
	if !strings.Contains(reply.Raw, "<service-unavailable xmlns=\"urn:ietf:params:xml:ns:xmpp-stanzas\"/>") && !strings.Contains(reply.Raw, "<service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>") {
		t.Fatalf("got %s", reply.Raw)
	}
	if ErrorReply(reply, Errorf(Cancel, ServiceUnavailable, "")) != nil {
		t.Fatal("an error was answered with an error")
	}
}

func BenchmarkFromElement(b *testing.B) {
	d := xmltok.NewDecoder(strings.NewReader(header+"<message to='bob@example.org/desk' type='chat' id='a1b2'><body>Hello Bob, lunch?</body></message>"), xmltok.Options{})
	d.ReadStreamHeader()
	el, _ := d.ReadElement()
	from := jid.MustParse("alice@example.org/phone")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := FromElement(el, from); err != nil {
			b.Fatal(err)
		}
	}
}
