package serverinfo

import "testing"

func TestCapsVer(t *testing.T) {
	// XEP-0115 §5.2, the simple example.
	got := CapsVer([]Identity{{Category: "client", Type: "pc", Name: "Exodus 0.9.1"}}, []string{
		"http://jabber.org/protocol/disco#info",
		"http://jabber.org/protocol/disco#items",
		"http://jabber.org/protocol/muc",
		"http://jabber.org/protocol/caps",
	})
	if want := "QgayPKawpkPSDYmwT/WM94uAlu0="; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}
