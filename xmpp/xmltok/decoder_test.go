package xmltok

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

const testHeader = `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='example.com' version='1.0'>`

// readers returns ways of delivering in: all at once and in small pieces.
func readers(in []byte) map[string]io.Reader {
	return map[string]io.Reader{
		"whole":     bytes.NewReader(in),
		"one byte":  iotest.OneByteReader(bytes.NewReader(in)),
		"half":      iotest.HalfReader(bytes.NewReader(in)),
		"data+EOF":  iotest.DataErrReader(bytes.NewReader(in)),
		"7 bytes":   &chunkReader{data: in, n: 7},
		"4093 byte": &chunkReader{data: in, n: 4093},
	}
}

// chunkReader returns data n bytes at a time.
type chunkReader struct {
	data []byte
	n    int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), r.n)], r.data)
	r.data = r.data[n:]
	return n, nil
}

// describe renders everything ReadElement returned, to compare runs.
func describe(e *Element) string {
	var b strings.Builder
	fmt.Fprintf(&b, "{%s}%s start=%d self=%v raw=%q", e.Space, e.Local, e.StartEnd, e.SelfClosing, e.Raw)
	for _, a := range e.Attrs {
		fmt.Fprintf(&b, " {%s}%s=%q@%d", a.Space, a.Local, a.Value, a.ValueOff)
	}
	return b.String()
}

// decodeAll reads a header and all elements; it returns the descriptions
// and the error that ended the stream.
func decodeAll(r io.Reader, opt Options) (StreamHeader, []string, error) {
	d := NewDecoder(r, opt)
	h, err := d.ReadStreamHeader()
	if err != nil {
		return h, nil, err
	}
	var out []string
	for {
		e, err := d.ReadElement()
		if err != nil {
			return h, out, err
		}
		out = append(out, describe(e))
	}
}

func TestDecoderStream(t *testing.T) {
	in := "\xEF\xBB\xBF<?xml version='1.0' encoding='utf-8' standalone='yes' ?>\n" +
		`<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='example.com' version='1.0' xml:lang='en' id='&amp;x'>` +
		"\n  " +
		`<message to='juliet@capulet.lit' type="chat" id='a&amp;b' xml:lang='it'><body>Ciao &lt;3</body><active xmlns='http://jabber.org/protocol/chatstates'/></message>` +
		" \n \n\t " + // whitespace keepalives
		`<presence/>` +
		` ` +
		`<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>` +
		`<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>` + "\r\n" +
		`<x:y xmlns:x='urn:x' x:a='1&#10;2' b='c	d'><![CDATA[</x:y>]]></x:y>` +
		`</stream:stream >` +
		`<garbage after the end`
	wantHeader := StreamHeader{
		Name:      Name{NSStream, "stream"},
		DefaultNS: "jabber:client",
		Attrs: []Attr{
			{Name{"", "to"}, "example.com"},
			{Name{"", "version"}, "1.0"},
			{Name{NSXML, "lang"}, "en"},
			{Name{"", "id"}, "&x"},
		},
	}
	want := []string{
		`{jabber:client}message start=72 self=false raw="<message to='juliet@capulet.lit' type=\"chat\" id='a&amp;b' xml:lang='it'><body>Ciao &lt;3</body><active xmlns='http://jabber.org/protocol/chatstates'/></message>"` +
			` {}to="juliet@capulet.lit"@13 {}type="chat"@39 {}id="a&b"@-1 {http://www.w3.org/XML/1998/namespace}lang="it"@68`,
		`{jabber:client}presence start=11 self=true raw="<presence/>"`,
		`{http://etherx.jabber.org/streams}features start=17 self=false raw="<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>"`,
		`{jabber:client}iq start=23 self=false raw="<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>"` +
			` {}type="get"@10 {}id="p1"@19`,
		`{urn:x}y start=43 self=false raw="<x:y xmlns:x='urn:x' x:a='1&#10;2' b='c\td'><![CDATA[</x:y>]]></x:y>"` +
			` {urn:x}a="1\n2"@-1 {}b="c d"@-1`,
	}
	for name, r := range readers([]byte(in)) {
		t.Run(name, func(t *testing.T) {
			h, got, err := decodeAll(r, Options{})
			if err != ErrStreamEnd {
				t.Fatalf("got error %v, want ErrStreamEnd", err)
			}
			if fmt.Sprint(h) != fmt.Sprint(wantHeader) {
				t.Errorf("got header %+v, want %+v", h, wantHeader)
			}
			if len(got) != len(want) {
				t.Fatalf("got %d elements, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
			}
			for i := range got {
				if got[i] != want[i] {
					t.Errorf("element %d:\ngot  %s\nwant %s", i, got[i], want[i])
				}
			}
		})
	}
}

func TestDecoderAfterEnd(t *testing.T) {
	d := NewDecoder(strings.NewReader(testHeader+`<a/></stream:stream>`), Options{})
	if _, err := d.ReadStreamHeader(); err != nil {
		t.Fatal(err)
	}
	for i, want := range []error{nil, ErrStreamEnd, ErrStreamEnd} {
		if _, err := d.ReadElement(); err != want {
			t.Errorf("call %d: got error %v, want %v", i, err, want)
		}
	}
	if _, err := d.ReadStreamHeader(); err == nil {
		t.Error("ReadStreamHeader after the header: got nil error, want one")
	}
}

func TestDecoderValuesAndNode(t *testing.T) {
	in := `<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback'>` +
		`<db:result from='a.example' to='b.example'>key</db:result>` +
		`<message from='a@a.example' to='b@b.example'><body>hi &amp; bye</body><x xmlns='urn:x' db:k='v'/></message>`
	d := NewDecoder(strings.NewReader(in), Options{})
	h, err := d.ReadStreamHeader()
	if err != nil {
		t.Fatal(err)
	}
	if h.DefaultNS != "jabber:server" {
		t.Errorf("got DefaultNS %q, want jabber:server", h.DefaultNS)
	}
	e, err := d.ReadElement()
	if err != nil {
		t.Fatal(err)
	}
	if e.Space != "jabber:server:dialback" || e.Local != "result" {
		t.Errorf("got {%s}%s, want {jabber:server:dialback}result", e.Space, e.Local)
	}
	n, err := e.Node()
	if err != nil {
		t.Fatalf("Node: got error %v, want nil", err)
	}
	if got, want := n.String(), `<result xmlns="jabber:server:dialback" from="a.example" to="b.example">key</result>`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	e, err = d.ReadElement()
	if err != nil {
		t.Fatal(err)
	}
	n, err = e.Node()
	if err != nil {
		t.Fatalf("Node: got error %v, want nil", err)
	}
	if got, want := string(n.AppendXML(nil, "jabber:server")),
		`<message from="a@a.example" to="b@b.example"><body>hi &amp; bye</body><x xmlns="urn:x" xmlns:ns0="jabber:server:dialback" ns0:k="v"/></message>`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if _, err := d.ReadElement(); err != io.EOF {
		t.Errorf("at the end of input: got error %v, want io.EOF", err)
	}
}

func TestDecoderRefuses(t *testing.T) {
	type badCase struct {
		name, in string
		cond     string
	}
	var cases []badCase
	for _, tc := range badInputs {
		if strings.HasPrefix(tc.name, "unterminated") {
			continue // end of input, tested in TestDecoderEOF
		}
		if tc.name == "text after element" || tc.name == "second element" {
			continue // fine in a stream
		}
		cases = append(cases, badCase{tc.name, testHeader + tc.xml + "</stream:stream>", tc.cond})
	}
	cases = append(cases, []badCase{
		{"text at stream level", testHeader + "<a/>hello", CondNotWellFormed},
		{"reference at stream level", testHeader + "&#32;", CondNotWellFormed},
		{"cdata at stream level", testHeader + "<![CDATA[x]]>", CondNotWellFormed},
		{"comment at stream level", testHeader + "<a/><!-- x -->", CondRestrictedXML},
		{"PI at stream level", testHeader + "<?foo?>", CondRestrictedXML},
		{"doctype at stream level", testHeader + "<!DOCTYPE x>", CondRestrictedXML},
		{"wrong stream end", testHeader + "</stream:streams>", CondNotWellFormed},
		{"wrong stream end prefix", testHeader + "</stream>", CondNotWellFormed},
		{"header encoding", `<?xml version='1.0' encoding='ISO-8859-1'?>` + testHeader, CondUnsupportedEncoding},
		{"header encoding utf-16", `<?xml version="1.0" encoding="UTF-16"?>` + testHeader, CondUnsupportedEncoding},
		{"header utf-16 BOM", "\xFF\xFE<\x00", CondUnsupportedEncoding},
		{"header bad version", `<?xml version='2.0'?>` + testHeader, CondNotWellFormed},
		{"header no version", `<?xml encoding='UTF-8'?>` + testHeader, CondNotWellFormed},
		{"header bad standalone", `<?xml version='1.0' standalone='maybe'?>` + testHeader, CondNotWellFormed},
		{"header declaration order", `<?xml version='1.0' standalone='yes' encoding='UTF-8'?>` + testHeader, CondNotWellFormed},
		{"header declaration not first", ` <?xml version='1.0'?>` + testHeader, CondRestrictedXML},
		{"header doctype", `<?xml version='1.0'?><!DOCTYPE stream>` + testHeader, CondRestrictedXML},
		{"header billion laughs", `<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>` + testHeader, CondRestrictedXML},
		{"header comment", `<!-- hi -->` + testHeader, CondRestrictedXML},
		{"header PI", `<?xml-stylesheet href='x'?>` + testHeader, CondRestrictedXML},
		{"header self-closing", `<stream:stream xmlns:stream='http://etherx.jabber.org/streams'/>`, CondNotWellFormed},
		{"header unbound prefix", `<stream:stream xmlns='jabber:client'>`, CondNotWellFormed},
		{"header text before", `hello` + testHeader, CondNotWellFormed},
		{"header end tag", `</stream:stream>`, CondNotWellFormed},
		{"header too many attributes", `<stream:stream` + manyAttrs(65) + `>`, CondPolicyViolation},
		{"prefix from header out of scope", testHeader + `<a xmlns:p='urn:p'/><p:b/>`, CondNotWellFormed},
	}...)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var first error
			for name, r := range readers([]byte(tc.in)) {
				_, _, err := decodeAll(r, Options{})
				if got := condition(err); got != tc.cond {
					t.Errorf("%s: got condition %q (error %v), want %q", name, got, err, tc.cond)
				}
				if first == nil {
					first = err
				} else if err.Error() != first.Error() {
					t.Errorf("%s: got error %v, want %v as with another reader", name, err, first)
				}
			}
		})
	}
}

func TestDecoderErrorIsFinal(t *testing.T) {
	d := NewDecoder(strings.NewReader(testHeader+`<a>&bad;</a><b/>`), Options{})
	if _, err := d.ReadStreamHeader(); err != nil {
		t.Fatal(err)
	}
	_, err1 := d.ReadElement()
	_, err2 := d.ReadElement()
	if condition(err1) != CondRestrictedXML || err2 != err1 {
		t.Errorf("got errors %v then %v, want restricted-xml twice", err1, err2)
	}
	if got := err1.(*Error).Offset; got != int64(len(testHeader)+3) {
		t.Errorf("got offset %d, want %d", got, len(testHeader)+3)
	}
}

func TestDecoderEOF(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     error
	}{
		{"empty", "", io.EOF},
		{"only whitespace", " \n", io.EOF},
		{"inside header", "<stream:stream xmlns:stream='http://etherx.jabber.org/streams'", io.ErrUnexpectedEOF},
		{"inside declaration", "<?xml version='1.0'", io.ErrUnexpectedEOF},
		{"between elements", testHeader + "<a/> ", io.EOF},
		{"inside start tag", testHeader + "<a b='c'", io.ErrUnexpectedEOF},
		{"inside text", testHeader + "<a>text", io.ErrUnexpectedEOF},
		{"inside reference", testHeader + "<a>&am", io.ErrUnexpectedEOF},
		{"inside UTF-8", testHeader + "<a>\xe2\x82", io.ErrUnexpectedEOF},
		{"inside cdata", testHeader + "<a><![CDATA[x]]", io.ErrUnexpectedEOF},
		{"inside end tag", testHeader + "<a></a", io.ErrUnexpectedEOF},
		{"inside stream end", testHeader + "</stream:str", io.ErrUnexpectedEOF},
		{"after lt", testHeader + "<", io.ErrUnexpectedEOF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for name, r := range readers([]byte(tc.in)) {
				_, _, err := decodeAll(r, Options{})
				if err != tc.want {
					t.Errorf("%s: got error %v, want %v", name, err, tc.want)
				}
			}
		})
	}
}

// timeoutReader fails once with errTimeout after every n bytes.
type timeoutReader struct {
	data    []byte
	n, left int
}

var errTimeout = errors.New("i/o timeout")

func (r *timeoutReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	if r.left == 0 {
		r.left = r.n
		return 0, errTimeout
	}
	n := copy(p[:min(len(p), r.left)], r.data)
	r.data, r.left = r.data[n:], r.left-n
	return n, nil
}

func TestDecoderResumesAfterReadError(t *testing.T) {
	in := testHeader + `<message to='a' id='b'><body>one two three</body><x xmlns='urn:x'><![CDATA[c]]></x></message><presence/>`
	_, want, wantErr := decodeAll(strings.NewReader(in), Options{})
	for _, n := range []int{1, 3, 10} {
		d := NewDecoder(&timeoutReader{data: []byte(in), n: n}, Options{})
		for {
			_, err := d.ReadStreamHeader()
			if err == nil {
				break
			}
			if !errors.Is(err, errTimeout) {
				t.Fatalf("n=%d: header: got error %v, want timeouts only", n, err)
			}
		}
		var got []string
		var err error
		for {
			var e *Element
			e, err = d.ReadElement()
			if errors.Is(err, errTimeout) {
				continue
			}
			if err != nil {
				break
			}
			got = append(got, describe(e))
		}
		if err != wantErr || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("n=%d: got %q, %v; want %q, %v", n, got, err, want, wantErr)
		}
	}
}

func TestDecoderReset(t *testing.T) {
	first := testHeader + `<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/><pipelined/>`
	second := `<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams'><message/></stream:stream>`
	d := NewDecoder(strings.NewReader(first), Options{})
	if _, err := d.ReadStreamHeader(); err != nil {
		t.Fatal(err)
	}
	e, err := d.ReadElement()
	if err != nil || e.Local != "starttls" {
		t.Fatalf("got %v, %v; want starttls", e, err)
	}
	if got, want := d.Buffered(), len("<pipelined/>"); got != want {
		t.Errorf("Buffered: got %d, want %d", got, want)
	}
	d.Reset(strings.NewReader(second))
	if got := d.InputOffset(); got != 0 {
		t.Errorf("InputOffset after Reset: got %d, want 0", got)
	}
	h, err := d.ReadStreamHeader()
	if err != nil || h.DefaultNS != "jabber:server" {
		t.Fatalf("got %+v, %v; want a jabber:server header", h, err)
	}
	e, err = d.ReadElement()
	if err != nil || e.Space != "jabber:server" || e.Local != "message" {
		t.Fatalf("got %v, %v; want {jabber:server}message (the pipelined element must be gone)", e, err)
	}
	if _, err := d.ReadElement(); err != ErrStreamEnd {
		t.Errorf("got error %v, want ErrStreamEnd", err)
	}
	if got, want := d.InputOffset(), int64(len(second)); got != want {
		t.Errorf("InputOffset: got %d, want %d", got, want)
	}
	// Reset also clears a final error.
	d.Reset(strings.NewReader(`<!DOCTYPE x>`))
	if _, err := d.ReadStreamHeader(); condition(err) != CondRestrictedXML {
		t.Fatalf("got error %v, want restricted-xml", err)
	}
	d.Reset(strings.NewReader(testHeader + `<a/>`))
	if _, err := d.ReadStreamHeader(); err != nil {
		t.Fatalf("after Reset: got error %v, want nil", err)
	}
	if e, err := d.ReadElement(); err != nil || e.Local != "a" {
		t.Fatalf("after Reset: got %v, %v; want <a/>", e, err)
	}
}

// patternReader produces n bytes: prefix, then filler repeated, then suffix.
type patternReader struct {
	prefix, filler, suffix []byte
	n, off                 int64
}

func (r *patternReader) Read(p []byte) (int, error) {
	if r.off >= r.n {
		return 0, io.EOF
	}
	i := 0
	for i < len(p) && r.off < r.n {
		var c byte
		switch fill := r.n - int64(len(r.suffix)); {
		case r.off < int64(len(r.prefix)):
			c = r.prefix[r.off]
		case r.off >= fill:
			c = r.suffix[r.off-fill]
		default:
			c = r.filler[(r.off-int64(len(r.prefix)))%int64(len(r.filler))]
		}
		p[i] = c
		i++
		r.off++
	}
	return i, nil
}

func TestDecoderSizeLimit(t *testing.T) {
	const limit = 64 << 10
	const huge = 10 << 20
	for _, tc := range []struct {
		name                   string
		prefix, filler, suffix string
	}{
		{"text", "<message><body>", "0123456789abcdef", "</body></message>"},
		{"attribute value", "<message to='", "x", "'/>"},
		{"start tag", "<message", " a='1'", "/>"},
		{"children", "<message>", "<b/>", "</message>"},
		{"cdata", "<message><![CDATA[", "]", "]]></message>"},
		{"end tag whitespace", "<message></message", " ", ">"},
		{"name", "<m", "m", "/>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &patternReader{
				prefix: []byte(testHeader + tc.prefix),
				filler: []byte(tc.filler),
				suffix: []byte(tc.suffix),
				n:      huge,
			}
			d := NewDecoder(r, Options{MaxElementBytes: limit})
			if _, err := d.ReadStreamHeader(); err != nil {
				t.Fatal(err)
			}
			_, err := d.ReadElement()
			if got := condition(err); got != CondPolicyViolation {
				t.Fatalf("got condition %q (error %v), want policy-violation", got, err)
			}
			if c := cap(d.buf); c > 2*limit {
				t.Errorf("got buffer capacity %d, want at most %d", c, 2*limit)
			}
			if r.off > 2*limit {
				t.Errorf("read %d bytes, want at most %d", r.off, 2*limit)
			}
		})
	}
}

func TestDecoderLargeElementThenShrink(t *testing.T) {
	const limit = 256 << 10
	body := strings.Repeat("x", limit-100)
	in := testHeader + "<message><body>" + body + "</body></message>" + strings.Repeat(" ", 10<<20) + "<presence/>"
	d := NewDecoder(iotest.HalfReader(strings.NewReader(in)), Options{})
	if _, err := d.ReadStreamHeader(); err != nil {
		t.Fatal(err)
	}
	e, err := d.ReadElement()
	if err != nil {
		t.Fatalf("got error %v, want nil", err)
	}
	if got, want := len(e.Raw), len("<message><body></body></message>")+len(body); got != want {
		t.Fatalf("got %d bytes, want %d", got, want)
	}
	if c := cap(d.buf); c <= shrinkAbove || c > limit+minRead {
		t.Errorf("got buffer capacity %d while holding the element, want between %d and %d", c, shrinkAbove, limit+minRead)
	}
	e, err = d.ReadElement()
	if err != nil || e.Local != "presence" {
		t.Fatalf("got %v, %v; want presence", e, err)
	}
	if c := cap(d.buf); c > initialBufSize {
		t.Errorf("got buffer capacity %d after 10 MiB of whitespace, want %d", c, initialBufSize)
	}
}

func TestDecoderExactLimit(t *testing.T) {
	const limit = 1000
	for _, tc := range []struct {
		size int
		cond string
	}{
		{limit, ""},
		{limit + 1, CondPolicyViolation},
	} {
		el := "<a>" + strings.Repeat("x", tc.size-len("<a></a>")) + "</a>"
		for name, r := range readers([]byte(testHeader + el + "<b/>")) {
			d := NewDecoder(r, Options{MaxElementBytes: limit})
			if _, err := d.ReadStreamHeader(); err != nil {
				t.Fatal(err)
			}
			_, err := d.ReadElement()
			if got := condition(err); got != tc.cond {
				t.Errorf("%s: element of %d bytes: got condition %q (error %v), want %q", name, tc.size, got, err, tc.cond)
			}
		}
	}
}

func TestDecoderOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		opt  Options
		in   string
		cond string
	}{
		{"depth 2 allowed", Options{MaxDepth: 2}, "<a><b/></a>", ""},
		{"depth 3 refused", Options{MaxDepth: 2}, "<a><b><c/></b></a>", CondPolicyViolation},
		{"depth 65 refused by default", Options{}, strings.Repeat("<a>", 65), CondPolicyViolation},
		{"depth 64 allowed by default", Options{}, strings.Repeat("<a>", 64) + strings.Repeat("</a>", 64), ""},
		{"4 attributes allowed", Options{MaxAttrs: 4}, "<a xmlns='urn:a' b='1' c='2' d='3'/>", ""},
		{"5 attributes refused", Options{MaxAttrs: 4}, "<a><b xmlns='urn:a' b='1' c='2' d='3' e='4'/></a>", CondPolicyViolation},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDecoder(strings.NewReader(testHeader+tc.in), tc.opt)
			if _, err := d.ReadStreamHeader(); err != nil {
				t.Fatal(err)
			}
			e, err := d.ReadElement()
			if got := condition(err); got != tc.cond {
				t.Fatalf("got condition %q (error %v), want %q", got, err, tc.cond)
			}
			if err == nil {
				if _, err := e.Node(); err != nil {
					t.Errorf("Node: got error %v, want nil", err)
				}
			}
		})
	}
}

func TestReadElementAllocs(t *testing.T) {
	for _, st := range benchStanzas {
		t.Run(st.name, func(t *testing.T) {
			d := NewDecoder(io.MultiReader(strings.NewReader(benchHeader), &repeatingReader{data: []byte(st.xml)}), Options{})
			if _, err := d.ReadStreamHeader(); err != nil {
				t.Fatal(err)
			}
			for range 10 { // warm up buffers
				if _, err := d.ReadElement(); err != nil {
					t.Fatal(err)
				}
			}
			allocs := testing.AllocsPerRun(100, func() {
				if _, err := d.ReadElement(); err != nil {
					t.Fatal(err)
				}
			})
			if allocs > 0 {
				t.Errorf("got %v allocations per element, want 0", allocs)
			}
		})
	}
}

func TestBufferedMarkup(t *testing.T) {
	for _, tc := range []struct {
		name, after string
		want        bool
	}{
		{"nothing", "", false},
		{"newline", "\n", false},
		{"whitespace", " \r\n\t", false},
		{"markup", "<auth/>", true},
		{"space then markup", " x", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'><starttls/>" + tc.after
			d := NewDecoder(strings.NewReader(in), Options{})
			if _, err := d.ReadStreamHeader(); err != nil {
				t.Fatal(err)
			}
			if _, err := d.ReadElement(); err != nil {
				t.Fatal(err)
			}
			if got := d.BufferedMarkup(); got != tc.want {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// TestReleaseIdle: a decoder that gives its buffer back between elements
// reads exactly what one that keeps it reads, whatever the read sizes.
func TestReleaseIdle(t *testing.T) {
	in := "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='example.org' version='1.0'>" +
		"<message to='a@example.org' id='1'><body>one &amp; two</body></message> \n " +
		"<presence/><iq type='get' id='2'><query xmlns='jabber:iq:roster'/></iq>" +
		"<message><body>" + strings.Repeat("x", 5000) + "</body></message>   " +
		"<message to='b@example.org'><body>last</body></message></stream:stream>"
	decode := func(r io.Reader, release bool) []string {
		d := NewDecoder(r, Options{})
		d.SetReleaseIdle(release)
		if _, err := d.ReadStreamHeader(); err != nil {
			t.Fatal(err)
		}
		var out []string
		for {
			el, err := d.ReadElement()
			if errors.Is(err, ErrStreamEnd) {
				return out
			}
			if err != nil {
				t.Fatalf("release=%v: %v", release, err)
			}
			out = append(out, fmt.Sprintf("%d:%s", d.InputOffset(), el.Raw))
		}
	}
	want := decode(strings.NewReader(in), false)
	for _, tc := range []struct {
		name string
		r    func() io.Reader
	}{
		{"whole", func() io.Reader { return strings.NewReader(in) }},
		{"one byte", func() io.Reader { return iotest.OneByteReader(strings.NewReader(in)) }},
		{"half", func() io.Reader { return iotest.HalfReader(strings.NewReader(in)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := decode(tc.r(), true)
			if !slices.Equal(got, want) {
				t.Fatalf("got %q\nwant %q", got, want)
			}
		})
	}
}
