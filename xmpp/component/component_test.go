package component

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"junction/xmpp/jid"
	"junction/xmpp/stanza"
	"junction/xmpp/stream"
	"junction/xmpp/xmltok"
)

func TestHandshake(t *testing.T) {
	// Expected values computed independently with sha1sum.
	tests := []struct {
		id, secret, want string
	}{
		{"3BF96D32", "test", "aaee83c26aeeafcbabeabfcbcd50df997e0a2a1e"}, // XEP-0114 Example 3
		{"3BF96D32", "Dr8ksNmuAe3xYFz4", "cda8ee9d71ca8f9d7295d84ecdaae28f0897021b"},
		{"ab", "c", "a9993e364706816aba3e25717850c26c9cd0d89d"}, // SHA-1("abc"): id and secret are concatenated
		{"", "", "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
	}
	for _, tc := range tests {
		if got := Handshake(tc.id, tc.secret); got != tc.want {
			t.Errorf("Handshake(%q, %q): got %s, want %s", tc.id, tc.secret, got, tc.want)
		}
	}
}

func TestCheckHandshake(t *testing.T) {
	tests := []struct {
		name, got string
		want      bool
	}{
		{"right", "aaee83c26aeeafcbabeabfcbcd50df997e0a2a1e", true},
		{"wrong digest", "aaee83c26aeeafcbabeabfcbcd50df997e0a2a1f", false},
		{"truncated", "aaee83c26aeeafcbabeabfcbcd50df997e0a2a1", false},
		{"empty", "", false},
		{"secret in clear", "test", false},
	}
	for _, tc := range tests {
		if got := checkHandshake(tc.got, "3BF96D32", "test"); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

// testServer is a Server on a loopback port with one configured
// component domain, irc.example.com, whose secret is "s3cret".
type testServer struct {
	srv  *Server
	addr string

	mu       sync.Mutex
	attached []*Conn
	detached []*Conn
	attachFn func(c *Conn) error // nil: accept
	handleFn func(st *stanza.Stanza) error
	got      chan *stanza.Stanza
}

func startServer(t *testing.T) *testServer {
	t.Helper()
	ts := &testServer{got: make(chan *stanza.Stanza, 16)}
	srv, err := NewServer(ServerConfig{
		Secret: func(domain string) (string, bool) {
			if domain == "irc.example.com" {
				return "s3cret", true
			}
			return "", false
		},
		Attach: func(c *Conn) (func(*stanza.Stanza) error, error) {
			ts.mu.Lock()
			fn := ts.attachFn
			ts.mu.Unlock()
			if fn != nil {
				if err := fn(c); err != nil {
					return nil, err
				}
			}
			ts.mu.Lock()
			ts.attached = append(ts.attached, c)
			ts.mu.Unlock()
			return func(st *stanza.Stanza) error {
				ts.got <- st
				ts.mu.Lock()
				fn := ts.handleFn
				ts.mu.Unlock()
				if fn != nil {
					return fn(st)
				}
				return nil
			}, nil
		},
		Detach: func(c *Conn) {
			ts.mu.Lock()
			ts.detached = append(ts.detached, c)
			ts.mu.Unlock()
		},
		NegotiationTimeout: 10 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.srv, ts.addr = srv, ln.Addr().String()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return ts
}

func (ts *testServer) setAttach(fn func(*Conn) error) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.attachFn = fn
}

func (ts *testServer) setHandle(fn func(*stanza.Stanza) error) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.handleFn = fn
}

func TestNewServerRequires(t *testing.T) {
	secret := func(string) (string, bool) { return "", false }
	attach := func(*Conn) (func(*stanza.Stanza) error, error) { return nil, nil }
	tests := []struct {
		name string
		cfg  ServerConfig
		ok   bool
	}{
		{"both", ServerConfig{Secret: secret, Attach: attach}, true},
		{"no Secret", ServerConfig{Attach: attach}, false},
		{"no Attach", ServerConfig{Secret: secret}, false},
	}
	for _, tc := range tests {
		if _, err := NewServer(tc.cfg); (err == nil) != tc.ok {
			t.Errorf("%s: got %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

// rawClient speaks the component protocol by hand.
type rawClient struct {
	t   *testing.T
	nc  net.Conn
	dec *xmltok.Decoder
	id  string
}

func dialRaw(t *testing.T, addr, header string) (*rawClient, error) {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := nc.Write([]byte(header)); err != nil {
		t.Fatal(err)
	}
	c := &rawClient{t: t, nc: nc, dec: xmltok.NewDecoder(nc, xmltok.Options{})}
	h, err := c.dec.ReadStreamHeader()
	if err != nil {
		return nil, err
	}
	c.id = stream.Attr(h.Attrs, "id")
	return c, nil
}

func header(ns, to string) string {
	return "<?xml version='1.0'?><stream:stream xmlns='" + ns + "' xmlns:stream='http://etherx.jabber.org/streams' to='" + to + "'>"
}

func (c *rawClient) next() *xmltok.Node {
	c.t.Helper()
	el, err := c.dec.ReadElement()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	n, err := el.Node()
	if err != nil {
		c.t.Fatal(err)
	}
	return n
}

// streamError returns the condition of a <stream:error/>, or "".
func streamError(n *xmltok.Node) string {
	if n.Name.Space != xmltok.NSStream || n.Name.Local != "error" {
		return ""
	}
	for _, ch := range n.Children {
		if ch.Name.Space == stream.NSErrors && ch.Name.Local != "text" {
			return ch.Name.Local
		}
	}
	return ""
}

func TestAcceptRefusals(t *testing.T) {
	tests := []struct {
		name      string
		ns, to    string
		handshake func(id string) string
		attach    error
		want      string
	}{
		{"wrong secret", NS, "irc.example.com", func(id string) string { return "<handshake>" + Handshake(id, "wrong") + "</handshake>" }, nil, stream.NotAuthorized},
		{"handshake for another id", NS, "irc.example.com", func(string) string { return "<handshake>" + Handshake("other", "s3cret") + "</handshake>" }, nil, stream.NotAuthorized},
		{"stanza before handshake", NS, "irc.example.com", func(string) string { return "<message to='a@example.com' from='irc.example.com'/>" }, nil, stream.NotAuthorized},
		{"unknown domain", NS, "other.example.com", nil, nil, stream.HostUnknown},
		{"user JID as domain", NS, "user@irc.example.com", nil, nil, stream.HostUnknown},
		{"client namespace", "jabber:client", "irc.example.com", nil, nil, stream.InvalidNamespace},
		{"conflict", NS, "irc.example.com", func(id string) string { return "<handshake>" + Handshake(id, "s3cret") + "</handshake>" }, ErrConflict, stream.Conflict},
		{"attach fails", NS, "irc.example.com", func(id string) string { return "<handshake>" + Handshake(id, "s3cret") + "</handshake>" }, errors.New("bus down"), stream.InternalServerError},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t)
			if tc.attach != nil {
				ts.setAttach(func(*Conn) error { return tc.attach })
			}
			c, err := dialRaw(t, ts.addr, header(tc.ns, tc.to))
			if err != nil {
				t.Fatalf("read header: %v", err)
			}
			if c.id == "" {
				t.Errorf("got a stream header without id, want one")
			}
			if tc.handshake != nil {
				if _, err := c.nc.Write([]byte(tc.handshake(c.id))); err != nil {
					t.Fatal(err)
				}
			}
			n := c.next()
			if got := streamError(n); got != tc.want {
				t.Errorf("got %s, want stream error %s", xmlOf(n), tc.want)
			}
			if _, err := c.dec.ReadElement(); !errors.Is(err, xmltok.ErrStreamEnd) {
				t.Errorf("after the error: got %v, want the stream's end", err)
			}
			ts.mu.Lock()
			defer ts.mu.Unlock()
			if len(ts.attached) != 0 || len(ts.detached) != 0 {
				t.Errorf("got %d attached, %d detached, want none", len(ts.attached), len(ts.detached))
			}
		})
	}
}

func xmlOf(n *xmltok.Node) string { return string(n.AppendXML(nil, "")) }

func TestAcceptRoundTrip(t *testing.T) {
	ts := startServer(t)
	ts.setHandle(func(st *stanza.Stanza) error {
		if st.ID == "refuse" {
			return stanza.Errorf(stanza.Cancel, stanza.ItemNotFound, "")
		}
		if st.ID == "fail" {
			return errors.New("internal")
		}
		return nil
	})
	c, err := dialRaw(t, ts.addr, header(NS, "irc.example.com"))
	if err != nil {
		t.Fatal(err)
	}
	c.nc.Write([]byte("<handshake>" + Handshake(c.id, "s3cret") + "</handshake>"))
	if n := c.next(); n.Name.Local != "handshake" || n.Name.Space != NS {
		t.Fatalf("got %s, want <handshake/>", xmlOf(n))
	}
	ts.mu.Lock()
	if len(ts.attached) != 1 || ts.attached[0].Domain() != jid.MustParse("irc.example.com") {
		t.Fatalf("got attached %v, want irc.example.com", ts.attached)
	}
	server := ts.attached[0]
	ts.mu.Unlock()

	// Component to server: the stanza reads as jabber:client.
	c.nc.Write([]byte("<message from='#chan@irc.example.com/nick' to='alice@example.com' id='m1'><body>hi</body></message>"))
	st := <-ts.got
	if st.From.String() != "#chan@irc.example.com/nick" || st.To.String() != "alice@example.com" || st.ID != "m1" {
		t.Errorf("got %s, want the message with its addresses", st.Raw)
	}
	n, err := st.Node()
	if err != nil || n.Name.Space != stanza.NSClient || n.Child(stanza.NSClient, "body") == nil {
		t.Errorf("got %s (%v), want it in %s with its body", st.Raw, err, stanza.NSClient)
	}

	// Server to component.
	out := stanza.New(stanza.Message, jid.MustParse("alice@example.com/phone"), jid.MustParse("#chan@irc.example.com"), "groupchat", "m2")
	if err := server.Send(out); err != nil {
		t.Fatal(err)
	}
	if n := c.next(); n.Name.Space != NS || n.Name.Local != "message" || n.Attr("id") != "m2" {
		t.Errorf("got %s, want message m2 in %s", xmlOf(n), NS)
	}

	// Refused stanzas are answered with an error.
	tests := []struct {
		id, want string
	}{{"refuse", "item-not-found"}, {"fail", "not-allowed"}}
	for _, tc := range tests {
		c.nc.Write([]byte("<iq type='get' from='x@irc.example.com' to='alice@example.com' id='" + tc.id + "'><query xmlns='urn:x'/></iq>"))
		<-ts.got
		n := c.next()
		e := n.Child("", "error")
		if n.Attr("type") != "error" || n.Attr("id") != tc.id || e == nil || e.Child(stanza.NSStanzas, tc.want) == nil {
			t.Errorf("got %s, want an error reply %s", xmlOf(n), tc.want)
		}
	}

	// A stanza without from ends the stream; Detach is called once.
	c.nc.Write([]byte("<message to='alice@example.com'/>"))
	if n := c.next(); streamError(n) != stream.InvalidXML {
		t.Errorf("got %s, want stream error %s", xmlOf(n), stream.InvalidXML)
	}
	<-server.Done()
	if err := server.Send(out); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after the end: got %v, want ErrClosed", err)
	}
}

func dialConfig(addr, domain, secret string) DialConfig {
	return DialConfig{Addr: addr, Domain: jid.MustParse(domain), Secret: secret}
}

func TestDialRoundTrip(t *testing.T) {
	ts := startServer(t)
	got := make(chan *stanza.Stanza, 4)
	c, err := Dial(t.Context(), dialConfig(ts.addr, "irc.example.com", "s3cret"), func(st *stanza.Stanza) error {
		got <- st
		return nil
	})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer c.Close("")
	if c.Domain() != jid.MustParse("irc.example.com") {
		t.Errorf("got domain %v, want irc.example.com", c.Domain())
	}
	up := stanza.New(stanza.Presence, jid.MustParse("#chan@irc.example.com/nick"), jid.MustParse("alice@example.com/phone"), "", "p1")
	if err := c.Send(up); err != nil {
		t.Fatal(err)
	}
	st := <-ts.got
	if st.ID != "p1" || st.From != up.From || st.To != up.To {
		t.Errorf("server got %s, want %s", st.Raw, up.Raw)
	}
	ts.mu.Lock()
	server := ts.attached[0]
	ts.mu.Unlock()
	down := stanza.New(stanza.Message, jid.MustParse("alice@example.com/phone"), jid.MustParse("#chan@irc.example.com"), "groupchat", "m1",
		xmltok.NewNode(stanza.NSClient, "body").SetText("a <b> & c"))
	if err := server.Send(down); err != nil {
		t.Fatal(err)
	}
	st = <-got
	n, err := st.Node()
	if err != nil || st.ID != "m1" || st.From != down.From || st.To != down.To || n.Child(stanza.NSClient, "body").Text != "a <b> & c" {
		t.Errorf("component got %s (%v), want %s", st.Raw, err, down.Raw)
	}
}

func TestDialRefused(t *testing.T) {
	tests := []struct {
		name, domain, secret string
		conflict             bool
		want                 string
	}{
		{"wrong secret", "irc.example.com", "wrong", false, stream.NotAuthorized},
		{"unknown domain", "other.example.com", "s3cret", false, stream.HostUnknown},
		{"conflict", "irc.example.com", "s3cret", true, stream.Conflict},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t)
			if tc.conflict {
				ts.setAttach(func(*Conn) error { return ErrConflict })
			}
			c, err := Dial(t.Context(), dialConfig(ts.addr, tc.domain, tc.secret), func(*stanza.Stanza) error { return nil })
			if c != nil {
				c.Close("")
			}
			if !errors.Is(err, ErrRefused) {
				t.Fatalf("got %v, want ErrRefused", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %q, want it to name %s", err, tc.want)
			}
		})
	}
}

func TestDialUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = Dial(t.Context(), dialConfig(addr, "irc.example.com", "s3cret"), func(*stanza.Stanza) error { return nil })
	if err == nil || errors.Is(err, ErrRefused) {
		t.Errorf("got %v, want a dial error that is not ErrRefused", err)
	}
}

// TestCloseFlushesQueue checks that what was queued before Close reaches the
// peer before the stream error and the closing tag.
func TestCloseFlushesQueue(t *testing.T) {
	tests := []struct {
		name, condition string
	}{{"plain close", ""}, {"with stream error", stream.SystemShutdown}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t)
			c, err := dialRaw(t, ts.addr, header(NS, "irc.example.com"))
			if err != nil {
				t.Fatal(err)
			}
			c.nc.Write([]byte("<handshake>" + Handshake(c.id, "s3cret") + "</handshake>"))
			c.next()
			ts.mu.Lock()
			server := ts.attached[0]
			ts.mu.Unlock()
			const n = 50
			for i := range n {
				st := stanza.New(stanza.Message, jid.MustParse("alice@example.com"), jid.MustParse("x@irc.example.com"), "", "q"+string(rune('A'+i%26))+string(rune('a'+i/26)))
				if err := server.Send(st); err != nil {
					t.Fatalf("Send %d: %v", i, err)
				}
			}
			server.Close(tc.condition)
			for i := range n {
				el := c.next()
				if el.Name.Local != "message" {
					t.Fatalf("element %d: got %s, want a queued message", i, xmlOf(el))
				}
			}
			if tc.condition != "" {
				if got := streamError(c.next()); got != tc.condition {
					t.Errorf("got stream error %q, want %q", got, tc.condition)
				}
			}
			if _, err := c.dec.ReadElement(); !errors.Is(err, xmltok.ErrStreamEnd) {
				t.Errorf("got %v, want the stream's end", err)
			}
			c.nc.Write([]byte(stream.Close))
			<-server.Done()
		})
	}
}

func TestSendQueueFull(t *testing.T) {
	c := newConn(nil, nil, jid.MustParse("irc.example.com"), 2, nil)
	st := stanza.New(stanza.Message, jid.MustParse("a@example.com"), jid.MustParse("b@irc.example.com"), "", "")
	want := []error{nil, nil, ErrQueueFull}
	for i, w := range want {
		if err := c.Send(st); !errors.Is(err, w) {
			t.Errorf("Send %d: got %v, want %v", i, err, w)
		}
	}
	c.Close("")
	if err := c.Send(st); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after Close: got %v, want ErrClosed", err)
	}
}

func TestShutdownClosesComponents(t *testing.T) {
	ts := startServer(t)
	c, err := Dial(t.Context(), dialConfig(ts.addr, "irc.example.com", "s3cret"), func(*stanza.Stanza) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	// A round trip makes sure the server has attached the connection.
	if err := c.Send(stanza.New(stanza.Presence, jid.MustParse("irc.example.com"), jid.MustParse("alice@example.com"), "", "p")); err != nil {
		t.Fatal(err)
	}
	<-ts.got
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := ts.srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	<-c.Done()
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if len(ts.detached) != 1 || ts.detached[0] != ts.attached[0] {
		t.Errorf("got detached %v, want the one attached connection once", ts.detached)
	}
}
