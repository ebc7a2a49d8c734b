package xmltok

import (
	"bytes"
	"encoding/xml"
	"io"
	"testing"
)

// benchHeader opens the streams the benchmarks read.
const benchHeader = `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='capulet.lit' version='1.0'>`

// benchStanzas are typical client stanzas of about 300 bytes.
var benchStanzas = []struct{ name, xml string }{
	{"message", `<message to='juliet@capulet.lit/balcony' from='romeo@montague.lit/orchard' type='chat' id='ktx72v49'>` +
		`<body>Art thou not Romeo, and a Montague? Neither, fair saint, if either thee dislike.</body>` +
		`<thread>e0ffe42b28561960c6b12b944a092794b9683a38</thread>` +
		`<active xmlns='http://jabber.org/protocol/chatstates'/></message>`},
	{"presence", `<presence from='romeo@montague.lit/orchard' id='pres-1' xml:lang='en'>` +
		`<show>away</show><status>Wherefore art thou, Juliet?</status><priority>5</priority>` +
		`<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='https://gajim.org' ver='QgayPKawpkPSDYmwT/WM94uAlu0='/></presence>`},
	{"iq", `<iq from='juliet@capulet.lit/balcony' id='roster-push-1' type='set'>` +
		`<query xmlns='jabber:iq:roster' ver='ver14'><item jid='nurse@capulet.lit' name='Nurse' subscription='both'>` +
		`<group>Servants</group></item></query></iq>`},
}

// repeatingReader returns data over and over, as a live connection would.
type repeatingReader struct {
	data []byte
	off  int
}

func (r *repeatingReader) Read(p []byte) (int, error) {
	n := copy(p, r.data[r.off:])
	r.off = (r.off + n) % len(r.data)
	return n, nil
}

func BenchmarkReadElement(b *testing.B) {
	for _, st := range benchStanzas {
		b.Run(st.name, func(b *testing.B) {
			d := NewDecoder(io.MultiReader(bytes.NewReader([]byte(benchHeader)), &repeatingReader{data: []byte(st.xml)}), Options{})
			if _, err := d.ReadStreamHeader(); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(st.xml)))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if _, err := d.ReadElement(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkEncodingXML(b *testing.B) {
	for _, st := range benchStanzas {
		b.Run(st.name, func(b *testing.B) {
			d := xml.NewDecoder(io.MultiReader(bytes.NewReader([]byte(benchHeader)), &repeatingReader{data: []byte(st.xml)}))
			if _, err := d.Token(); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(st.xml)))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				// One stanza: tokens until its end tag closes depth 1.
				depth := 0
				for {
					t, err := d.Token()
					if err != nil {
						b.Fatal(err)
					}
					switch t.(type) {
					case xml.StartElement:
						depth++
					case xml.EndElement:
						depth--
					}
					if depth == 0 {
						if _, ok := t.(xml.EndElement); ok {
							break
						}
					}
				}
			}
		})
	}
}
