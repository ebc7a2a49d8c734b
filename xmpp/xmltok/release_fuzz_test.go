package xmltok

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// FuzzReleaseIdle checks that giving the buffer back between elements never
// changes what is decoded or which error ends the stream.
func FuzzReleaseIdle(f *testing.F) {
	for _, s := range []string{
		"<message><body>hi</body></message> <presence/>",
		"  <iq type='get'/>\n<a:b xmlns:a='x'/>",
		"<message>&lol;</message>",
		"<m>" + strings.Repeat("y", 3000) + "</m><p/>",
		"</stream:stream>",
	} {
		f.Add(s)
	}
	const header = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>"
	decode := func(r io.Reader, release bool) string {
		d := NewDecoder(r, Options{MaxElementBytes: 4096})
		d.SetReleaseIdle(release)
		if _, err := d.ReadStreamHeader(); err != nil {
			return "header: " + err.Error()
		}
		var b strings.Builder
		for range 1000 {
			el, err := d.ReadElement()
			if err != nil {
				var xe *Error
				if errors.As(err, &xe) {
					return b.String() + "error " + xe.Condition
				}
				if errors.Is(err, ErrStreamEnd) {
					return b.String() + "end"
				}
				return b.String() + "eof"
			}
			fmt.Fprintf(&b, "%d:%q;", d.InputOffset(), el.Raw)
		}
		return b.String()
	}
	f.Fuzz(func(t *testing.T, body string) {
		in := header + body
		want := decode(strings.NewReader(in), false)
		if got := decode(iotest.OneByteReader(strings.NewReader(in)), true); got != want {
			t.Fatalf("one byte, released:\ngot  %s\nwant %s", got, want)
		}
		if got := decode(strings.NewReader(in), true); got != want {
			t.Fatalf("whole, released:\ngot  %s\nwant %s", got, want)
		}
	})
}
