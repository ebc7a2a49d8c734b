package xmltok

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// validStanzas are well-formed elements Parse must accept, as encoding/xml does.
var validStanzas = []struct{ name, xml string }{
	{"empty", `<presence/>`},
	{"whitespace around", " \n\t<presence/>\r\n "},
	{"attributes both quotes", `<message to="a@b" from='c@d' type="chat"/>`},
	{"space around equals", `<iq id = 'x' type	=	"get" />`},
	{"nested", `<iq type='get' id='1'><query xmlns='jabber:iq:roster'><item jid='a@b'/></query></iq>`},
	{"default namespace undeclared", `<iq><query xmlns=''><item/></query></iq>`},
	{"prefixed element", `<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>`},
	{"own prefix", `<p:x xmlns:p='urn:p'><p:y/><z/></p:x>`},
	{"prefixed attribute", `<x xmlns:p='urn:p' p:a='1' a='2'/>`},
	{"same local different namespaces", `<x xmlns:p='urn:p' xmlns:q='urn:q' p:a='1' q:a='2'/>`},
	{"xml lang", `<body xml:lang='en'>hi</body>`},
	{"xml prefix element", `<xml:a><b/></xml:a>`},
	{"xml prefix redeclared", `<x xmlns:xml='http://www.w3.org/XML/1998/namespace' xml:lang='de'/>`},
	{"shadowed prefix", `<p:x xmlns:p='urn:1'><p:x xmlns:p='urn:2'><p:x/></p:x><p:x/></p:x>`},
	{"entities", `<body a='&lt;&gt;&amp;&quot;&apos;'>&lt;&gt;&amp;&quot;&apos;</body>`},
	{"character references", `<body a='&#65;&#x42;'>&#67;&#x44;&#x1F600;&#xD7FF;&#xE000;&#xFFFD;&#x10FFFF;</body>`},
	{"cdata", `<body>a<![CDATA[<&>]]]]><![CDATA[>]]>b</body>`},
	{"empty cdata", `<body><![CDATA[]]></body>`},
	{"mixed content", `<p>one<b>two</b>three<i/>four</p>`},
	{"brackets in text", `<body>a]b]]c] ]>d</body>`},
	{"gt in attribute", `<x a='>' b="]]>"/>`},
	{"quotes in attribute", `<x a="it's" b='say "hi"'/>`},
	{"newlines", "<body>\r\nline\rtwo\n</body>"},
	{"tab in attribute", "<x a='a\tb\nc\r\nd'/>"},
	{"utf8", `<body xml:lang='ja'>こんにちは 🌍 é ÿ</body>`},
	{"non-ascii names", `<café thé='1'><naïve/></café>`},
	{"names with punctuation", `<a-b.c_d e-f.g_h='1'><_x/></a-b.c_d>`},
	{"end tag space", `<a><b></b ></a	>`},
	{"max char", "<a>\U0010FFFF</a>"},
	{"del character", "<a>\x7f</a>"},
}

// stanzaFiles returns the contents of testdata/stanzas/*.xml by file name.
func stanzaFiles(t testing.TB) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "stanzas", "*.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < 10 {
		t.Fatalf("got %d files in testdata/stanzas, want at least 10", len(paths))
	}
	files := make(map[string][]byte)
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files[filepath.Base(p)] = b
	}
	return files
}

func TestParseMatchesEncodingXML(t *testing.T) {
	type input struct {
		name string
		raw  []byte
	}
	var inputs []input
	for _, tc := range validStanzas {
		inputs = append(inputs, input{tc.name, []byte(tc.xml)})
	}
	for name, b := range stanzaFiles(t) {
		inputs = append(inputs, input{name, b})
	}
	for _, in := range inputs {
		for _, ns := range []string{"jabber:client", ""} {
			t.Run(in.name+"/"+ns, func(t *testing.T) {
				got, err := Parse(in.raw, ns)
				if err != nil {
					t.Fatalf("Parse: got error %v, want nil", err)
				}
				want, err := stdParse(in.raw, ns)
				if err != nil {
					t.Fatalf("encoding/xml: got error %v, want nil", err)
				}
				if d := diffNodes(got, want, true); d != "" {
					t.Error(d)
				}
			})
		}
	}
}

func TestParseValues(t *testing.T) {
	for _, tc := range []struct {
		name, xml string
		check     func(n *Node) (got, want string)
	}{
		{"attribute whitespace normalized", "<x a='a\tb\nc\r\nd&#10;e'/>", func(n *Node) (string, string) {
			return n.Attr("a"), "a b c d\ne"
		}},
		{"text line ends normalized", "<x>a\r\nb\rc&#13;d</x>", func(n *Node) (string, string) {
			return n.Text, "a\nb\nc\rd"
		}},
		{"text concatenated", "<x>a<y/>b<![CDATA[&c]]>d</x>", func(n *Node) (string, string) {
			return n.Text, "ab&cd"
		}},
		{"default namespace inherited", "<x><y/></x>", func(n *Node) (string, string) {
			return n.Children[0].Name.Space, "jabber:client"
		}},
		{"default namespace undeclared", "<x xmlns=''><y/></x>", func(n *Node) (string, string) {
			return n.Children[0].Name.Space + "|" + n.Name.Space, "|"
		}},
		{"stream prefix", "<stream:error/>", func(n *Node) (string, string) {
			return n.Name.Space, NSStream
		}},
		{"xml lang", "<x xml:lang='en'/>", func(n *Node) (string, string) {
			return n.AttrNS(NSXML, "lang"), "en"
		}},
		{"declarations excluded", "<x xmlns='urn:a' xmlns:p='urn:p' p:y='1'/>", func(n *Node) (string, string) {
			return n.String(), `<x xmlns="urn:a" xmlns:ns0="urn:p" ns0:y="1"/>`
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := Parse([]byte(tc.xml), "jabber:client")
			if err != nil {
				t.Fatalf("Parse: got error %v, want nil", err)
			}
			if got, want := tc.check(n); got != want {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}

// badInputs are malformed or refused elements; each is tested through
// Parse and, after a stream header, through a Decoder.
var badInputs = []struct {
	name, xml string
	cond      string
}{
	{"mismatched end tag", `<message><body></message>`, CondNotWellFormed},
	{"end tag prefix differs", `<a xmlns:p='urn:a' xmlns:q='urn:a'><p:b></q:b></a>`, CondNotWellFormed},
	{"unquoted attribute", `<message to=romeo/>`, CondNotWellFormed},
	{"attribute without value", `<message to/>`, CondNotWellFormed},
	{"no space between attributes", `<message to='a'from='b'/>`, CondNotWellFormed},
	{"bad name start", `<1message/>`, CondNotWellFormed},
	{"space after lt", `< message/>`, CondNotWellFormed},
	{"slash without gt", `<message / >`, CondNotWellFormed},
	{"two colons", `<a:b:c/>`, CondNotWellFormed},
	{"empty prefix", `<:a/>`, CondNotWellFormed},
	{"empty local", `<a: xmlns:a='urn:a'/>`, CondNotWellFormed},
	{"duplicate attribute", `<message to='a' to='b'/>`, CondNotWellFormed},
	{"duplicate resolved attribute", `<x xmlns:p='urn:a' xmlns:q='urn:a' p:y='1' q:y='2'/>`, CondNotWellFormed},
	{"duplicate declaration", `<x xmlns='urn:a' xmlns='urn:b'/>`, CondNotWellFormed},
	{"lt in attribute", `<message to='<'/>`, CondNotWellFormed},
	{"amp alone in text", `<body>a & b</body>`, CondNotWellFormed},
	{"reference without semicolon", `<body>&amp</body>`, CondNotWellFormed},
	{"empty character reference", `<body>&#;</body>`, CondNotWellFormed},
	{"uppercase X reference", `<body>&#X41;</body>`, CondNotWellFormed},
	{"NUL reference", `<body>&#0;</body>`, CondNotWellFormed},
	{"control reference", `<body>&#x1;</body>`, CondNotWellFormed},
	{"surrogate reference", `<body>&#xD800;</body>`, CondNotWellFormed},
	{"FFFE reference", `<body>&#xFFFE;</body>`, CondNotWellFormed},
	{"reference beyond Unicode", `<body>&#x110000;</body>`, CondNotWellFormed},
	{"huge reference", `<body>&#99999999999999999999;</body>`, CondNotWellFormed},
	{"bad reference in attribute", `<a b='&#0;'/>`, CondNotWellFormed},
	{"cdata end in text", `<body>a]]>b</body>`, CondNotWellFormed},
	{"unterminated cdata", `<body><![CDATA[abc</body>`, CondNotWellFormed},
	{"bad markup", `<body><!ELEMENT a></body>`, CondNotWellFormed},
	{"unterminated start tag", `<message to='a'`, CondNotWellFormed},
	{"unterminated element", `<message><body>hi</body>`, CondNotWellFormed},
	{"unterminated attribute", `<message to='a>`, CondNotWellFormed},
	{"text after element", `<a/>b`, CondNotWellFormed},
	{"second element", `<a/><b/>`, CondNotWellFormed},
	{"invalid UTF-8 text", "<body>\xff</body>", CondNotWellFormed},
	{"invalid UTF-8 attribute", "<a b='\xc3'/>", CondNotWellFormed},
	{"invalid UTF-8 name", "<a\xe2\x82/>", CondNotWellFormed},
	{"overlong UTF-8", "<body>\xc0\xaf</body>", CondNotWellFormed},
	{"surrogate UTF-8", "<body>\xed\xa0\x80</body>", CondNotWellFormed},
	{"FFFF character", "<body>\xef\xbf\xbf</body>", CondNotWellFormed},
	{"control character", "<body>\x01</body>", CondNotWellFormed},
	{"NUL character", "<body>\x00</body>", CondNotWellFormed},
	{"escape character in attribute", "<a b='\x1b[31m'/>", CondNotWellFormed},
	{"control character in cdata", "<body><![CDATA[\x0c]]></body>", CondNotWellFormed},
	{"unbound element prefix", `<foo:bar/>`, CondNotWellFormed},
	{"unbound attribute prefix", `<message foo:bar='1'/>`, CondNotWellFormed},
	{"unbound prefix in child", `<message><x:y/></message>`, CondNotWellFormed},
	{"prefix out of scope", `<a><b xmlns:p='urn:p'/><p:c/></a>`, CondNotWellFormed},
	{"empty prefixed namespace", `<a xmlns:p=''/>`, CondNotWellFormed},
	{"xmlns prefix declared", `<a xmlns:xmlns='urn:x'/>`, CondNotWellFormed},
	{"xml prefix rebound", `<a xmlns:xml='urn:x'/>`, CondNotWellFormed},
	{"xml namespace bound to other prefix", `<a xmlns:x='http://www.w3.org/XML/1998/namespace'/>`, CondNotWellFormed},
	{"xmlns namespace as default", `<a xmlns='http://www.w3.org/2000/xmlns/'/>`, CondNotWellFormed},
	{"element with xmlns prefix", `<xmlns:a/>`, CondNotWellFormed},
	{"undefined entity", `<body>&nbsp;</body>`, CondRestrictedXML},
	{"undefined entity in attribute", `<a b='&foo;'/>`, CondRestrictedXML},
	{"long entity name", `<body>&aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;</body>`, CondRestrictedXML},
	{"comment", `<message><!-- hello --></message>`, CondRestrictedXML},
	{"processing instruction", `<message><?php echo 1; ?></message>`, CondRestrictedXML},
	{"xml declaration inside", `<message><?xml version='1.0'?></message>`, CondRestrictedXML},
	{"doctype", `<message><!DOCTYPE message></message>`, CondRestrictedXML},
	{"billion laughs", `<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">]><lolz>&lol2;</lolz>`, CondRestrictedXML},
	{"entity use without doctype", `<lolz>&lol9;</lolz>`, CondRestrictedXML},
	{"too deep", strings.Repeat("<a>", 65) + strings.Repeat("</a>", 65), CondPolicyViolation},
	{"too many attributes", "<a" + manyAttrs(65) + "/>", CondPolicyViolation},
	{"too many declarations", "<a" + manyDecls(65) + "/>", CondPolicyViolation},
}

func manyAttrs(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(" a" + strings.Repeat("x", i) + "='1'")
	}
	return b.String()
}

func manyDecls(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(" xmlns:p" + strings.Repeat("x", i) + "='urn:x'")
	}
	return b.String()
}

func TestParseRefuses(t *testing.T) {
	for _, tc := range badInputs {
		t.Run(tc.name, func(t *testing.T) {
			n, err := Parse([]byte(tc.xml), "jabber:client")
			if got := condition(err); got != tc.cond {
				t.Fatalf("got condition %q (error %v, node %v), want %q", got, err, n, tc.cond)
			}
			if msg := err.(*Error).Msg; len(msg) > 100 {
				t.Errorf("got message of %d bytes, want at most 100: %q", len(msg), msg)
			}
		})
	}
}

func TestParseLimitsAccepted(t *testing.T) {
	for _, tc := range []struct{ name, xml string }{
		{"depth 64", strings.Repeat("<a>", 64) + strings.Repeat("</a>", 64)},
		{"64 attributes", "<a" + manyAttrs(64) + "/>"},
		{"32 attributes and 32 declarations", "<a" + manyAttrs(32) + manyDecls(32) + "/>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Parse([]byte(tc.xml), ""); err != nil {
				t.Errorf("got error %v, want nil", err)
			}
		})
	}
}

func TestAppendXMLRoundTrip(t *testing.T) {
	var inputs [][]byte
	for _, tc := range validStanzas {
		inputs = append(inputs, []byte(tc.xml))
	}
	for _, b := range stanzaFiles(t) {
		inputs = append(inputs, b)
	}
	built := NewNode("jabber:client", "message",
		Attr{Name{"", "to"}, "a@b\t\n\r\"'<>&"},
		Attr{Name{NSXML, "lang"}, "en"},
		Attr{Name{"urn:x", "k"}, "1"},
		Attr{Name{"urn:y", "k"}, "2"},
		Attr{Name{"urn:x", "l"}, "3"},
	).Add(
		NewNode("jabber:client", "body").SetText("a\r\nb ]]> <&> \"'"),
		NewNode("", "nons").Add(NewNode("urn:z", "deep").Add(NewNode("", "back"))),
	)
	inputs = append(inputs, built.AppendXML(nil, ""))
	for _, raw := range inputs {
		for _, ns := range []string{"jabber:client", "jabber:server", ""} {
			n, err := Parse(raw, ns)
			if err != nil {
				t.Fatalf("Parse(%q): got error %v, want nil", raw, err)
			}
			out := n.AppendXML(nil, ns)
			n2, err := Parse(out, ns)
			if err != nil {
				t.Fatalf("Parse(AppendXML) of %q: got error %v, want nil", out, err)
			}
			if d := diffNodes(n2, n, false); d != "" {
				t.Errorf("round trip of %q through %q: %s", raw, out, d)
			}
		}
	}
	if got, _ := Parse(built.AppendXML(nil, ""), ""); diffNodes(got, built, false) != "" {
		t.Errorf("built node: %s", diffNodes(got, built, false))
	}
}

func TestAppendXML(t *testing.T) {
	for _, tc := range []struct {
		name   string
		n      *Node
		parent string
		want   string
	}{
		{"same namespace", NewNode("jabber:client", "presence"), "jabber:client", `<presence/>`},
		{"new namespace", NewNode("urn:xmpp:ping", "ping"), "jabber:client", `<ping xmlns="urn:xmpp:ping"/>`},
		{"no namespace", NewNode("", "x"), "jabber:client", `<x xmlns=""/>`},
		{"children inherit", NewNode("urn:a", "a").Add(NewNode("urn:a", "b"), NewNode("urn:c", "c")), "",
			`<a xmlns="urn:a"><b/><c xmlns="urn:c"/></a>`},
		{"text escaped", NewNode("", "body").SetText("<&>\"'\r\n"), "", "<body>&lt;&amp;&gt;\"'&#xD;\n</body>"},
		{"attributes escaped", NewNode("", "x", Attr{Name{"", "a"}, "<&>\"'\t\n\r"}), "",
			`<x a="&lt;&amp;&gt;&quot;&apos;&#x9;&#xA;&#xD;"/>`},
		{"xml lang", NewNode("", "x", Attr{Name{NSXML, "lang"}, "en"}), "", `<x xml:lang="en"/>`},
		{"element in xml namespace", NewNode(NSXML, "x").Add(NewNode("urn:a", "y")), "urn:a", `<xml:x><y/></xml:x>`},
		{"namespaced attributes", NewNode("", "x", Attr{Name{"urn:p", "a"}, "1"}, Attr{Name{"urn:p", "b"}, "2"}, Attr{Name{"urn:q", "a"}, "3"}), "",
			`<x xmlns:ns0="urn:p" ns0:a="1" ns0:b="2" xmlns:ns1="urn:q" ns1:a="3"/>`},
		{"declarations dropped", NewNode("", "x", Attr{Name{"", "xmlns"}, "urn:evil"}, Attr{Name{"", "xmlns:p"}, "urn:p"}, Attr{Name{nsXMLNS, "q"}, "urn:q"}), "",
			`<x/>`},
		{"invalid characters replaced", NewNode("", "x", Attr{Name{"", "a"}, "\x00\xff"}).SetText("bold\x02 \xef\xbf\xbe"), "",
			"<x a=\"\uFFFD\uFFFD\">bold\uFFFD \uFFFD</x>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(tc.n.AppendXML(nil, tc.parent)); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestEscape(t *testing.T) {
	for _, tc := range []struct{ in, text, attr string }{
		{"plain ascii", "plain ascii", "plain ascii"},
		{"", "", ""},
		{"a&b<c>d", "a&amp;b&lt;c&gt;d", "a&amp;b&lt;c&gt;d"},
		{`"'`, `"'`, "&quot;&apos;"},
		{"\t\n\r", "\t\n&#xD;", "&#x9;&#xA;&#xD;"},
		{"é☀🌍", "é☀🌍", "é☀🌍"},
		{"\x00\x1f\x7f", "\uFFFD\uFFFD\x7f", "\uFFFD\uFFFD\x7f"},
		{"a\xffb\xe2\x82", "a\uFFFDb\uFFFD\uFFFD", "a\uFFFDb\uFFFD\uFFFD"},
		{"\xed\xa0\x80", "\uFFFD\uFFFD\uFFFD", "\uFFFD\uFFFD\uFFFD"},
		{"\uFFFE\uFFFF\uFFFD", "\uFFFD\uFFFD\uFFFD", "\uFFFD\uFFFD\uFFFD"},
	} {
		if got := string(EscapeText(nil, tc.in)); got != tc.text {
			t.Errorf("EscapeText(%q): got %q, want %q", tc.in, got, tc.text)
		}
		if got := string(EscapeAttr([]byte("x"), tc.in)); got != "x"+tc.attr {
			t.Errorf("EscapeAttr(%q): got %q, want %q", tc.in, got, "x"+tc.attr)
		}
	}
}

func TestNodeAccessors(t *testing.T) {
	n, err := Parse([]byte(`<iq type='set' xmlns:p='urn:p' p:type='other'>`+
		`<query xmlns='jabber:iq:roster'><item jid='a'/><item jid='b'/><x xmlns='urn:x'/></query>`+
		`<item jid='c'/></iq>`), "jabber:client")
	if err != nil {
		t.Fatal(err)
	}
	q := n.Child("jabber:iq:roster", "query")
	for _, tc := range []struct{ name, got, want string }{
		{"Attr", n.Attr("type"), "set"},
		{"AttrNS", n.AttrNS("urn:p", "type"), "other"},
		{"Attr missing", n.Attr("id"), ""},
		{"Child any namespace", n.Child("", "query").Name.Space, "jabber:iq:roster"},
		{"Child wrong namespace", strings.TrimSuffix(nodeName(n.Child("urn:other", "query")), "<nil>"), ""},
		{"ChildrenNamed", joinAttr(q.ChildrenNamed("jabber:iq:roster", "item"), "jid"), "a,b"},
		{"ChildrenNamed other namespace", joinAttr(n.ChildrenNamed("jabber:client", "item"), "jid"), "c"},
		{"ChildrenNamed any namespace", joinAttr(q.ChildrenNamed("", "x"), "xmlns"), ""},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, tc.got, tc.want)
		}
	}
	if got := len(q.ChildrenNamed("", "x")); got != 1 {
		t.Errorf("ChildrenNamed any namespace: got %d nodes, want 1", got)
	}
}

func nodeName(n *Node) string {
	if n == nil {
		return "<nil>"
	}
	return n.Name.Local
}

func joinAttr(nodes []*Node, attr string) string {
	var vals []string
	for _, n := range nodes {
		vals = append(vals, n.Attr(attr))
	}
	return strings.Join(vals, ",")
}
