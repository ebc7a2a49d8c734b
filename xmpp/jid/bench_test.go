package jid

import "testing"

func BenchmarkParse(b *testing.B) {
	for _, bc := range []struct {
		name, in string
	}{
		{name: "bare", in: "juliet@example.com"},
		{name: "full", in: "juliet@example.com/balcony-4f2a9c"},
		{name: "unicode", in: "Σίσυφος@παράδειγμα.δοκιμή/♚"},
		{name: "escaped", in: `d\27artagnan@musketeers.lit/gate`},
		{name: "uppercase", in: "Juliet@Example.com/Balcony"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.in)))
			for b.Loop() {
				if _, err := Parse(bc.in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkBare(b *testing.B) {
	j := MustParse("juliet@example.com/balcony")
	b.ReportAllocs()
	for b.Loop() {
		if j.Bare().IsZero() {
			b.Fatal("zero")
		}
	}
}

func BenchmarkEscape(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = Unescape(Escape("here's_a_wild_&_/cr%zy/_address@example.com"))
	}
}
