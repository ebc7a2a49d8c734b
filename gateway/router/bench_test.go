package router

import (
	"bytes"
	"context"
	"testing"

	"junction/gateway/session"
	"junction/registry"
	"junction/xmpp/jid"
	"junction/xmpp/stanza"
	"junction/xmpp/xmltok"
)

type countConn struct {
	j jid.JID
	n int
}

func (c *countConn) JID() jid.JID                    { return c.j }
func (c *countConn) Send(*stanza.Stanza) error       { c.n++; return nil }
func (c *countConn) CloseWithError(condition string) {}

type noAccounts struct{}

func (noAccounts) Account(context.Context, string, string) (registry.Account, error) {
	return registry.Account{}, registry.ErrNotFound
}

// BenchmarkRouteMessage measures the server's hot path for one chat message
// between two local sessions: the element as read off the socket becomes a
// stanza with a stamped 'from', and the router hands it to the recipient's
// queue.
func BenchmarkRouteMessage(b *testing.B) {
	sessions := session.NewManager()
	alice := &countConn{j: jid.MustParse("alice@localhost/phone")}
	bob := &countConn{j: jid.MustParse("bob@localhost/desk")}
	sessions.Bind(alice)
	sessions.Bind(bob)
	r := New(Config{Hosts: []string{"localhost"}, Sessions: sessions, Accounts: noAccounts{}})

	const msg = `<message to='bob@localhost/desk' type='chat' id='a1b2c3d4'><body>Hello Bob, are we still on for lunch tomorrow at noon?</body><active xmlns='http://jabber.org/protocol/chatstates'/></message>`
	header := `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>`
	dec := xmltok.NewDecoder(bytes.NewReader([]byte(header+msg)), xmltok.Options{})
	if _, err := dec.ReadStreamHeader(); err != nil {
		b.Fatal(err)
	}
	el, err := dec.ReadElement()
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	b.ResetTimer()
	for b.Loop() {
		st, err := stanza.FromElement(el, alice.j)
		if err != nil {
			b.Fatal(err)
		}
		r.FromClient(ctx, st)
	}
	if bob.n == 0 {
		b.Fatal("nothing delivered")
	}
}
