package xmltok

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
)

// Defaults and buffer sizes.
const (
	defaultMaxElementBytes = 256 << 10
	defaultMaxDepth        = 64
	defaultMaxAttrs        = 64

	// initialBufSize is the read buffer of an idle connection. A read is
	// given at least minFree bytes of room; a buffer grows by at least
	// minRead, up to MaxElementBytes + minRead.
	initialBufSize = 2 << 10
	minRead        = 4 << 10
	minFree        = 1 << 10
	// shrinkAbove is the buffer size past which the buffer is given back
	// once the large element that needed it has been consumed.
	shrinkAbove = 16 << 10
	// maxXMLDeclBytes bounds the XML declaration.
	maxXMLDeclBytes = 256
	// maxEmptyReads is how many (0, nil) reads in a row count as no progress.
	maxEmptyReads = 100
)

// Options bounds what a Decoder accepts. Zero values select the defaults.
type Options struct {
	// MaxElementBytes bounds a top-level element (and the stream header);
	// a larger one is a policy-violation, detected while reading. Default 256 KiB.
	MaxElementBytes int
	// MaxDepth bounds element nesting below the stream element (a stanza
	// is depth 1); deeper is a policy-violation. Default 64.
	MaxDepth int
	// MaxAttrs bounds the attributes of one element, namespace
	// declarations included; more is a policy-violation. Default 64.
	MaxAttrs int
}

func (o Options) withDefaults() Options {
	if o.MaxElementBytes <= 0 {
		o.MaxElementBytes = defaultMaxElementBytes
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = defaultMaxDepth
	}
	if o.MaxAttrs <= 0 {
		o.MaxAttrs = defaultMaxAttrs
	}
	return o
}

// StreamHeader is the stream's start tag.
type StreamHeader struct {
	Name      Name   // resolved, e.g. {NSStream, "stream"}; the Decoder does not check it
	DefaultNS string // default namespace declared on the header ("" if none), e.g. "jabber:client"
	Attrs     []Attr // to, from, id, version, xml:lang (Space NSXML); namespace declarations excluded
}

// Element is one complete top-level child of the stream exactly as
// received. Everything in it, Raw and the attribute slices included, is
// valid only until the next ReadElement or Reset call.
type Element struct {
	Raw         []byte    // the bytes from '<' through the end of its end tag (or "/>")
	Space       string    // resolved namespace
	Local       string    // local name
	Attrs       []RawAttr // the element's attributes, namespace declarations excluded
	StartEnd    int       // offset in Raw just past the start tag's '>'
	SelfClosing bool

	d *Decoder
}

// RawAttr is one attribute of a top-level element.
type RawAttr struct {
	Space    string // resolved namespace, "" for unprefixed
	Local    []byte
	Value    []byte // the value with references resolved and whitespace normalized
	ValueOff int    // offset in Raw where Value appears verbatim, or -1 if Value had to be decoded
}

// Node parses e into a tree, resolving prefixes declared on the stream
// header. The tree does not share memory with e.
func (e *Element) Node() (*Node, error) {
	if e.d == nil {
		return Parse(e.Raw, "")
	}
	d := e.d
	base := d.s.ns[:d.s.nbase:d.s.nbase]
	return parse(e.Raw, base, d.opt.MaxDepth, d.opt.MaxAttrs)
}

// Decoder states.
const (
	stateHeader = iota
	stateContent
	stateEnded
)

// Decoder reads an XMPP stream: the stream header, then top-level elements
// one at a time. It reads through its own buffer, which starts small,
// grows up to the element limit for large elements and shrinks back
// afterwards. A Decoder is not safe for concurrent use.
//
// An *Error is final: every later call returns it. A read error is not:
// the call can be repeated (after a read deadline, say) and carries on
// where it stopped.
type Decoder struct {
	rd      io.Reader
	opt     Options
	buf     []byte
	r, w    int   // buf[r:w] is input not consumed yet
	off     int64 // stream offset of buf[0]
	readErr error // error that came with the last bytes read, returned by the next fill
	err     error // sticky *Error
	state   int
	inElem  bool // an element is being scanned: buf[r:] starts with it

	hdrName  []byte // raw name of the stream element, for its end tag
	s        scanner
	elem     Element
	attrs    []RawAttr
	topAttrs []attrRec // the top-level start tag's attributes, taken from the scanner
	scratch  []byte    // decoded top-level attribute values
	cache    strCache

	releaseIdle bool    // give the read buffer back while waiting for input
	one         [1]byte // where an idle decoder waits for input
}

// idleBufs holds read buffers of idle decoders.
var idleBufs = sync.Pool{New: func() any {
	b := make([]byte, initialBufSize)
	return &b
}}

// SetReleaseIdle makes the decoder give its read buffer back to a shared
// pool whenever everything read has been consumed, and wait for the next
// input with a one-byte read: an idle connection then holds no read buffer.
// The reader must return buffered data without blocking once data has
// arrived (as a tls.Conn or a net.Conn do).
func (d *Decoder) SetReleaseIdle(on bool) { d.releaseIdle = on }

// NewDecoder returns a Decoder reading from r.
func NewDecoder(r io.Reader, opt Options) *Decoder {
	d := &Decoder{opt: opt.withDefaults()}
	d.s.cache = &d.cache
	d.Reset(r)
	return d
}

// Reset starts over on reader r, for a stream restart after STARTTLS or
// SASL. It keeps the buffers but discards buffered input (bytes received
// before a STARTTLS upgrade must never be read as part of the new stream),
// the namespace scope and all state.
func (d *Decoder) Reset(r io.Reader) {
	d.rd = r
	if cap(d.buf) > shrinkAbove || d.buf == nil {
		d.buf = make([]byte, initialBufSize)
	}
	d.buf = d.buf[:cap(d.buf)]
	d.r, d.w, d.off = 0, 0, 0
	d.readErr, d.err = nil, nil
	d.state, d.inElem = stateHeader, false
	d.hdrName = d.hdrName[:0]
	d.s.ns, d.s.nbase = d.s.ns[:0], 0
	d.s.maxDepth, d.s.maxAttrs = d.opt.MaxDepth, d.opt.MaxAttrs
	d.s.wantText = false
	d.s.reset(nil, 0)
	d.elem = Element{d: d}
	if cap(d.scratch) > shrinkAbove {
		d.scratch = nil
	}
}

// InputOffset returns the stream offset of the first byte not consumed yet:
// just past the last element returned.
func (d *Decoder) InputOffset() int64 { return d.off + int64(d.r) }

// Buffered returns how many bytes have been read from the reader but not
// consumed. After the <starttls/> element it must be 0: anything else was
// pipelined in plain text and must be refused.
func (d *Decoder) Buffered() int { return d.w - d.r }

// BufferedMarkup reports whether the unconsumed input holds anything but
// XML whitespace (clients often follow <starttls/> with a newline, which is
// harmless; markup is not).
func (d *Decoder) BufferedMarkup() bool {
	for _, b := range d.buf[d.r:d.w] {
		if b != ' ' && b != '\t' && b != '\n' && b != '\r' {
			return true
		}
	}
	return false
}

// fail makes err sticky if it is an *Error.
func (d *Decoder) fail(err error) error {
	var xe *Error
	if errors.As(err, &xe) {
		d.err = err
		d.inElem = false
	}
	return err
}

// fillIdle waits for input with nothing buffered: the read buffer goes back
// to the pool during the wait, and the first byte lands in d.one.
func (d *Decoder) fillIdle() error {
	d.off += int64(d.w)
	d.r, d.w = 0, 0
	if d.buf != nil && cap(d.buf) == initialBufSize {
		b := d.buf[:initialBufSize]
		idleBufs.Put(&b)
	}
	d.buf = nil
	for range maxEmptyReads {
		n, err := d.rd.Read(d.one[:])
		if n > 0 {
			d.buf = *idleBufs.Get().(*[]byte)
			d.buf[0] = d.one[0]
			d.w = 1
			if err != nil {
				d.readErr = err
			}
			return nil
		}
		if err != nil {
			if err == io.EOF {
				return io.EOF
			}
			return fmt.Errorf("xmltok: reading stream: %w", err)
		}
	}
	return io.ErrNoProgress
}

// fill reads more input into buf[w:], keeping buf[r:w]; it may move that
// data to the front of buf or into a larger buf, up to MaxElementBytes +
// minRead.
func (d *Decoder) fill() error {
	if err := d.readErr; err != nil {
		d.readErr = nil
		return err
	}
	if d.releaseIdle && d.r == d.w {
		return d.fillIdle()
	}
	if d.buf == nil {
		d.buf = *idleBufs.Get().(*[]byte)
	}
	if len(d.buf)-d.w < minFree && d.r > 0 {
		n := copy(d.buf, d.buf[d.r:d.w])
		d.off += int64(d.r)
		d.r, d.w = 0, n
	}
	if len(d.buf)-d.w < minFree {
		size := min(max(2*len(d.buf), d.w+minRead), d.opt.MaxElementBytes+minRead)
		if size <= d.w {
			// Unreachable while callers check the element limit first.
			return newError(CondPolicyViolation, d.off+int64(d.w), "element larger than %d bytes", d.opt.MaxElementBytes)
		}
		nb := make([]byte, size)
		copy(nb, d.buf[:d.w])
		d.buf = nb
	}
	for range maxEmptyReads {
		n, err := d.rd.Read(d.buf[d.w:])
		if n < 0 || n > len(d.buf)-d.w {
			return fmt.Errorf("xmltok: reader returned invalid count %d", n)
		}
		d.w += n
		if err != nil {
			if n > 0 {
				d.readErr = err
				return nil
			}
			if err == io.EOF {
				return io.EOF
			}
			return fmt.Errorf("xmltok: reading stream: %w", err)
		}
		if n > 0 {
			return nil
		}
	}
	return io.ErrNoProgress
}

// need fills until at least n bytes are buffered at r. EOF after some
// input is io.ErrUnexpectedEOF.
func (d *Decoder) need(n int) error {
	for d.w-d.r < n {
		if err := d.fill(); err != nil {
			if err == io.EOF {
				return io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}

// skipSpace discards whitespace at r, reading more as needed, until a
// non-space byte is buffered. It returns io.EOF at a clean end of input.
func (d *Decoder) skipSpace() error {
	for {
		i := d.r
		for i < d.w && isSpace(d.buf[i]) {
			i++
		}
		if i < d.w {
			d.r = i
			return nil
		}
		d.off += int64(d.w)
		d.r, d.w = 0, 0
		if err := d.fill(); err != nil {
			return err
		}
	}
}

// scan returns the next token of the element at r, reading as needed. The
// scanner never sees more than MaxElementBytes of the element, so what it
// reports does not depend on how the input was split into reads.
func (d *Decoder) scan() (tokKind, error) {
	for {
		end := min(d.w, d.r+d.opt.MaxElementBytes)
		d.s.buf = d.buf[d.r:end]
		d.s.base = d.off + int64(d.r)
		k, err := d.s.next()
		if err != errNeedMore {
			return k, err
		}
		if end-d.r >= d.opt.MaxElementBytes {
			return tokNone, d.giveUp(newError(CondPolicyViolation, d.off+int64(end), "element larger than %d bytes", d.opt.MaxElementBytes))
		}
		if err := d.fill(); err != nil {
			if err == io.EOF {
				return tokNone, d.giveUp(io.ErrUnexpectedEOF)
			}
			return tokNone, err
		}
	}
}

// giveUp returns err, unless a last full parse of a tag the scanner is
// waiting on finds an error in the input already buffered (fill may have
// moved it).
func (d *Decoder) giveUp(err error) error {
	if d.s.waiting {
		d.s.buf = d.buf[d.r:min(d.w, d.r+d.opt.MaxElementBytes)]
		d.s.retry()
		var xe *Error
		if _, e := d.s.next(); errors.As(e, &xe) {
			return e
		}
	}
	return err
}

// ReadStreamHeader reads the stream's start tag, after an optional UTF-8
// byte order mark, XML declaration and whitespace. The declaration's version
// must be 1.x and its encoding, if given, UTF-8; another encoding is
// unsupported-encoding. A DOCTYPE, comment or processing instruction is
// restricted-xml. The start tag must not be self-closing. The header's
// namespace declarations stay in scope for every element of the stream.
func (d *Decoder) ReadStreamHeader() (StreamHeader, error) {
	if d.err != nil {
		return StreamHeader{}, d.err
	}
	if d.state != stateHeader {
		return StreamHeader{}, errors.New("xmltok: stream header already read")
	}
	h, err := d.readHeader()
	if err != nil {
		return StreamHeader{}, d.fail(err)
	}
	return h, nil
}

func (d *Decoder) readHeader() (StreamHeader, error) {
	if d.InputOffset() == 0 {
		if err := d.prolog(); err != nil {
			return StreamHeader{}, err
		}
	}
	if err := d.skipSpace(); err != nil {
		return StreamHeader{}, err
	}
	if err := d.need(2); err != nil {
		return StreamHeader{}, err
	}
	b := d.buf[d.r:d.w]
	switch {
	case b[0] != '<':
		return StreamHeader{}, newError(CondNotWellFormed, d.InputOffset(), "character data before the stream header")
	case b[1] == '!' || b[1] == '?':
		for {
			err := markupError(d.buf[d.r:d.w], false, d.InputOffset())
			if err != errNeedMore {
				return StreamHeader{}, err
			}
			if err := d.need(d.w - d.r + 1); err != nil {
				return StreamHeader{}, err
			}
		}
	case b[1] == '/':
		return StreamHeader{}, newError(CondNotWellFormed, d.InputOffset(), "end tag before the stream header")
	}
	s := &d.s
	s.ns, s.nbase = s.ns[:0], 0
	s.reset(d.buf[d.r:d.w], d.InputOffset())
	k, err := d.scan()
	if err != nil {
		return StreamHeader{}, err
	}
	if k != tokStart {
		return StreamHeader{}, newError(CondNotWellFormed, d.InputOffset(), "no stream header")
	}
	if s.selfClosing {
		return StreamHeader{}, newError(CondNotWellFormed, d.InputOffset(), "self-closing stream header")
	}
	b = s.buf
	h := StreamHeader{Name: Name{Space: s.space, Local: s.str(s.name.local(b))}}
	for _, a := range s.decls {
		if a.name.colon < 0 {
			h.DefaultNS = s.str(appendAttrValue(d.scratch[:0], b[a.valOff:a.valEnd]))
		}
	}
	for _, a := range s.attrs {
		h.Attrs = append(h.Attrs, Attr{
			Name:  Name{Space: a.space, Local: s.str(a.name.local(b))},
			Value: string(appendAttrValue(d.scratch[:0], b[a.valOff:a.valEnd])),
		})
	}
	d.hdrName = append(d.hdrName[:0], s.name.raw(b)...)
	// The header's declarations become the base scope of every element.
	s.nbase = len(s.ns)
	d.r += s.pos
	d.state = stateContent
	return h, nil
}

// prolog consumes a byte order mark and an XML declaration at the start of the stream.
func (d *Decoder) prolog() error {
	// Wait for enough bytes to recognize a BOM and "<?xml ", or the end of input.
	for d.w-d.r < len("\xEF\xBB\xBF<?xml ") {
		if err := d.fill(); err != nil {
			if err == io.EOF && d.w > d.r {
				break
			}
			return err
		}
	}
	b := d.buf[d.r:d.w]
	i := 0
	switch {
	case hasPrefix(b, "\xEF\xBB\xBF"):
		i = 3
	case hasPrefix(b, "\xFE\xFF"), hasPrefix(b, "\xFF\xFE"), hasPrefix(b, "\x00<"), hasPrefix(b, "<\x00"):
		return newError(CondUnsupportedEncoding, 0, "stream is not UTF-8")
	}
	if !hasPrefix(b[i:], "<?xml") || len(b) < i+6 || !isSpace(b[i+5]) {
		d.r += i
		return nil
	}
	for {
		b = d.buf[d.r:d.w]
		if end := bytes.Index(b[i:], []byte("?>")); end >= 0 {
			if err := checkXMLDecl(b[i:i+end], d.InputOffset()+int64(i)); err != nil {
				return err
			}
			d.r += i + end + 2
			return nil
		}
		if len(b) > maxXMLDeclBytes {
			return newError(CondNotWellFormed, d.InputOffset(), "XML declaration too long")
		}
		if err := d.need(len(b) + 1); err != nil {
			return err
		}
	}
}

// checkXMLDecl checks an XML declaration, b being "<?xml ..." without "?>".
func checkXMLDecl(b []byte, off int64) error {
	fail := func(msg string) error { return newError(CondNotWellFormed, off, "XML declaration: %s", msg) }
	i := len("<?xml")
	names := []string{"version", "encoding", "standalone"}
	seen := 0
	for {
		j := i
		for j < len(b) && isSpace(b[j]) {
			j++
		}
		if j == len(b) {
			break
		}
		if j == i {
			return fail("missing whitespace")
		}
		k := j
		for k < len(b) && b[k] >= 'a' && b[k] <= 'z' {
			k++
		}
		name := string(b[j:k])
		idx := -1
		for n := seen; n < len(names); n++ {
			if names[n] == name {
				idx = n
			}
		}
		if idx < 0 || seen == 0 && idx != 0 {
			return fail("unexpected " + snippet(b[j:k]))
		}
		seen = idx + 1
		for k < len(b) && isSpace(b[k]) {
			k++
		}
		if k == len(b) || b[k] != '=' {
			return fail("expected =")
		}
		k++
		for k < len(b) && isSpace(b[k]) {
			k++
		}
		if k == len(b) || b[k] != '"' && b[k] != '\'' {
			return fail("unquoted value")
		}
		q := b[k]
		k++
		v := k
		for k < len(b) && b[k] != q {
			k++
		}
		if k == len(b) {
			return fail("unterminated value")
		}
		val := string(b[v:k])
		i = k + 1
		switch name {
		case "version":
			if len(val) < 3 || val[:2] != "1." || strings.Trim(val[2:], "0123456789") != "" {
				return fail("version must be 1.x")
			}
		case "encoding":
			if !isEncName(val) {
				return fail("malformed encoding name")
			}
			if !strings.EqualFold(val, "UTF-8") {
				return newError(CondUnsupportedEncoding, off, "encoding %s is not UTF-8", snippet(b[v:k]))
			}
		case "standalone":
			if val != "yes" && val != "no" {
				return fail("standalone must be yes or no")
			}
		}
	}
	if seen == 0 {
		return fail("no version")
	}
	return nil
}

// isEncName reports whether s matches [A-Za-z] ([A-Za-z0-9._] | '-')*.
func isEncName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !letter && (i == 0 || !(c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-')) {
			return false
		}
	}
	return s != ""
}

// ReadElement reads the next top-level element, skipping whitespace
// between elements. At the stream's end tag it returns ErrStreamEnd. At the
// end of input it returns io.EOF between elements and io.ErrUnexpectedEOF
// inside one. The returned Element belongs to the Decoder and is reused by
// the next call.
func (d *Decoder) ReadElement() (*Element, error) {
	if d.err != nil {
		return nil, d.err
	}
	switch d.state {
	case stateHeader:
		return nil, errors.New("xmltok: ReadElement before ReadStreamHeader")
	case stateEnded:
		return nil, ErrStreamEnd
	}
	if !d.inElem {
		d.release()
		if err := d.streamLevel(); err != nil {
			if err == ErrStreamEnd {
				d.state = stateEnded
				return nil, err
			}
			return nil, d.fail(err)
		}
	}
	e, err := d.element()
	if err != nil {
		return nil, d.fail(err)
	}
	return e, nil
}

// release gives back a buffer grown for an unusually large element.
func (d *Decoder) release() {
	if len(d.buf) > shrinkAbove && d.w-d.r <= initialBufSize {
		nb := make([]byte, initialBufSize)
		d.off += int64(d.r)
		d.w = copy(nb, d.buf[d.r:d.w])
		d.r = 0
		d.buf = nb
	}
	if cap(d.scratch) > shrinkAbove {
		d.scratch = nil
	}
	if cap(d.s.tmp) > shrinkAbove {
		d.s.tmp = nil
	}
}

// streamLevel skips whitespace to the next element and handles what may
// appear between elements.
func (d *Decoder) streamLevel() error {
	if err := d.skipSpace(); err != nil {
		return err
	}
	if d.buf[d.r] != '<' {
		return newError(CondNotWellFormed, d.InputOffset(), "character data at stream level")
	}
	if err := d.need(2); err != nil {
		return err
	}
	switch d.buf[d.r+1] {
	case '/':
		for {
			n, st := matchEndTag(d.buf[d.r:d.w], d.hdrName)
			switch st {
			case stOK:
				d.r += n
				return ErrStreamEnd
			case stBad:
				return newError(CondNotWellFormed, d.InputOffset(), "end tag does not match the stream header")
			}
			if d.w-d.r >= d.opt.MaxElementBytes {
				return newError(CondPolicyViolation, d.InputOffset(), "stream end tag too long")
			}
			if err := d.need(d.w - d.r + 1); err != nil {
				return err
			}
		}
	case '!', '?':
		for {
			err := markupError(d.buf[d.r:d.w], false, d.InputOffset())
			if err != errNeedMore {
				return err
			}
			if err := d.need(d.w - d.r + 1); err != nil {
				return err
			}
		}
	}
	d.s.reset(d.buf[d.r:d.w], d.InputOffset())
	d.scratch = d.scratch[:0]
	d.topAttrs = d.topAttrs[:0]
	d.inElem = true
	return nil
}

// element scans the element at r to its end.
func (d *Decoder) element() (*Element, error) {
	s := &d.s
	for {
		k, err := d.scan()
		if err != nil {
			return nil, err
		}
		if k == tokStart && (len(s.open) == 1 && !s.selfClosing || len(s.open) == 0) {
			d.topStart()
		}
		if len(s.open) == 0 {
			break
		}
	}
	d.inElem = false
	size := s.pos
	if size > d.opt.MaxElementBytes {
		return nil, newError(CondPolicyViolation, d.InputOffset(), "element larger than %d bytes", d.opt.MaxElementBytes)
	}
	raw := d.buf[d.r : d.r+size : d.r+size]
	d.r += size
	e := &d.elem
	e.Raw = raw
	e.Attrs = nil
	if len(d.topAttrs) > 0 {
		if cap(d.attrs) < len(d.topAttrs) {
			d.attrs = make([]RawAttr, len(d.topAttrs))
		}
		e.Attrs = d.attrs[:len(d.topAttrs)]
		for i := range d.topAttrs {
			p := &d.topAttrs[i]
			local := p.name.off
			if p.name.colon >= 0 {
				local = p.name.colon + 1
			}
			a := &e.Attrs[i]
			a.Space = p.space
			a.Local = raw[local:p.name.end:p.name.end]
			if p.decode {
				// Decoded by topStart: valOff..valEnd is in scratch.
				a.Value = d.scratch[p.valOff:p.valEnd:p.valEnd]
				a.ValueOff = -1
			} else {
				a.Value = raw[p.valOff:p.valEnd:p.valEnd]
				a.ValueOff = p.valOff
			}
		}
	}
	return e, nil
}

// topStart records the start tag of the top-level element. It takes the
// scanner's attribute records rather than copying them, and decodes values
// that need it into scratch while the tag's bytes are at hand.
func (d *Decoder) topStart() {
	s := &d.s
	b := s.buf
	e := &d.elem
	e.Space = s.space
	e.Local = s.str(s.name.local(b))
	e.StartEnd = s.pos
	e.SelfClosing = s.selfClosing
	d.topAttrs, s.attrs = s.attrs, d.topAttrs[:0]
	for i := range d.topAttrs {
		a := &d.topAttrs[i]
		if a.decode {
			start := len(d.scratch)
			d.scratch = appendAttrValue(d.scratch, b[a.valOff:a.valEnd])
			a.valOff, a.valEnd = start, len(d.scratch)
		}
	}
}
