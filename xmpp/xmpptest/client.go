// Package xmpptest is a small XMPP client for tests: it negotiates STARTTLS
// or direct TLS, authenticates with any SASL mechanism, binds, and reads
// elements as trees, failing the test on timeouts instead of hanging.
package xmpptest

import (
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"junction/xmpp/jid"
	"junction/xmpp/sasl"
	"junction/xmpp/stream"
	"junction/xmpp/xmltok"
)

// readTimeout bounds every wait for the server in tests.
const readTimeout = 10 * time.Second

// Client is one test connection.
type Client struct {
	t        testing.TB
	Conn     net.Conn
	dec      *xmltok.Decoder
	Host     string
	JID      jid.JID
	Features *xmltok.Node
	// Header is the server's last stream header.
	Header xmltok.StreamHeader
	ids    atomic.Int64
}

// Dial connects to addr for host over plain TCP and reads the features.
func Dial(t testing.TB, addr, host string) *Client {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, readTimeout)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	c := &Client{t: t, Conn: nc, Host: host}
	t.Cleanup(func() { c.Conn.Close() })
	c.dec = xmltok.NewDecoder(nc, xmltok.Options{MaxElementBytes: 1 << 20})
	if err := c.Open(); err != nil {
		t.Fatalf("open stream: %v", err)
	}
	return c
}

// DialTLS connects with direct TLS (XEP-0368).
func DialTLS(t testing.TB, addr, host string) *Client {
	t.Helper()
	nc, err := tls.DialWithDialer(&net.Dialer{Timeout: readTimeout}, "tcp", addr, &tls.Config{InsecureSkipVerify: true, ServerName: host, NextProtos: []string{"xmpp-client"}})
	if err != nil {
		t.Fatalf("dial TLS %s: %v", addr, err)
	}
	c := &Client{t: t, Conn: nc, Host: host}
	t.Cleanup(func() { c.Conn.Close() })
	c.dec = xmltok.NewDecoder(nc, xmltok.Options{MaxElementBytes: 1 << 20})
	if err := c.Open(); err != nil {
		t.Fatalf("open stream: %v", err)
	}
	return c
}

// DialRaw connects without opening a stream (for component and raw tests).
func DialRaw(t testing.TB, addr string) *Client {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, readTimeout)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	c := &Client{t: t, Conn: nc}
	t.Cleanup(func() { c.Conn.Close() })
	c.dec = xmltok.NewDecoder(nc, xmltok.Options{MaxElementBytes: 1 << 20})
	return c
}

// ReadHeader reads the peer's stream header.
func (c *Client) ReadHeader() xmltok.StreamHeader {
	c.t.Helper()
	c.Conn.SetReadDeadline(time.Now().Add(readTimeout))
	h, err := c.dec.ReadStreamHeader()
	if err != nil {
		c.t.Fatalf("read stream header: %v", err)
	}
	c.Header = h
	return h
}

// Open sends a stream header and reads the server's header and features.
func (c *Client) Open() error {
	c.dec.Reset(c.Conn)
	c.Send(string(stream.Header{NS: "jabber:client", To: c.Host}.AppendOpen(nil)))
	c.Conn.SetReadDeadline(time.Now().Add(readTimeout))
	h, err := c.dec.ReadStreamHeader()
	if err != nil {
		return fmt.Errorf("read stream header: %w", err)
	}
	c.Header = h
	f, err := c.Next()
	if err != nil {
		return err
	}
	if f.Name.Local != "features" {
		return fmt.Errorf("got <%s/>, want stream features", f.Name.Local)
	}
	c.Features = f
	return nil
}

// Send writes raw XML.
func (c *Client) Send(s string) {
	c.t.Helper()
	c.Conn.SetWriteDeadline(time.Now().Add(readTimeout))
	if _, err := c.Conn.Write([]byte(s)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// Next reads the next top-level element. A stream error comes back as the
// <stream:error/> element itself; the end of the stream as io.EOF-like
// errors.
func (c *Client) Next() (*xmltok.Node, error) {
	c.Conn.SetReadDeadline(time.Now().Add(readTimeout))
	el, err := c.dec.ReadElement()
	if err != nil {
		return nil, err
	}
	return el.Node()
}

// MustNext is Next failing the test on error.
func (c *Client) MustNext() *xmltok.Node {
	c.t.Helper()
	n, err := c.Next()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return n
}

// StreamError reads until the stream ends and returns the stream error
// condition it carried ("" if it closed cleanly).
func (c *Client) StreamError() string {
	c.t.Helper()
	cond := ""
	for {
		n, err := c.Next()
		if err != nil {
			if errors.Is(err, xmltok.ErrStreamEnd) || cond != "" {
				return cond
			}
			c.t.Fatalf("waiting for stream error: %v", err)
		}
		if n.Name.Space == xmltok.NSStream && n.Name.Local == "error" {
			for _, ch := range n.Children {
				if ch.Name.Space == stream.NSErrors && ch.Name.Local != "text" {
					cond = ch.Name.Local
				}
			}
		}
	}
}

// StartTLS upgrades the stream.
func (c *Client) StartTLS() {
	c.t.Helper()
	c.Send("<starttls xmlns='" + stream.NSTLS + "'/>")
	if n := c.MustNext(); n.Name.Local != "proceed" {
		c.t.Fatalf("got <%s/>, want proceed", n.Name.Local)
	}
	tc := tls.Client(c.Conn, &tls.Config{InsecureSkipVerify: true, ServerName: c.Host})
	tc.SetDeadline(time.Now().Add(readTimeout))
	if err := tc.Handshake(); err != nil {
		c.t.Fatalf("TLS handshake: %v", err)
	}
	c.Conn = tc
	if err := c.Open(); err != nil {
		c.t.Fatalf("reopen after TLS: %v", err)
	}
}

// Mechanisms lists the offered SASL mechanisms.
func (c *Client) Mechanisms() []string {
	var out []string
	if m := c.Features.Child(stream.NSSASL, "mechanisms"); m != nil {
		for _, ch := range m.Children {
			out = append(out, ch.Text)
		}
	}
	return out
}

// SASLError is a SASL <failure/> condition.
type SASLError string

func (e SASLError) Error() string { return "sasl failure: " + string(e) }

// Auth authenticates and restarts the stream. A SASL failure is returned
// as a SASLError.
func (c *Client) Auth(mech, user, password string) error {
	c.t.Helper()
	var cb sasl.ChannelBinding
	if tc, ok := c.Conn.(*tls.Conn); ok && strings.HasSuffix(mech, "-PLUS") {
		cs := tc.ConnectionState()
		cb = sasl.ClientBindingFromTLS(&cs)
	}
	cl := sasl.NewClient(mech, user, password, cb)
	out, err := cl.Step(nil)
	if err != nil {
		return fmt.Errorf("client first: %w", err)
	}
	c.Send("<auth xmlns='" + stream.NSSASL + "' mechanism='" + mech + "'>" + enc(out) + "</auth>")
	for {
		n := c.MustNext()
		switch n.Name.Local {
		case "challenge":
			in, err := base64.StdEncoding.DecodeString(n.Text)
			if err != nil {
				return err
			}
			out, err := cl.Step(in)
			if err != nil {
				return err
			}
			c.Send("<response xmlns='" + stream.NSSASL + "'>" + enc(out) + "</response>")
		case "success":
			if n.Text != "" {
				in, err := base64.StdEncoding.DecodeString(n.Text)
				if err != nil {
					return err
				}
				if _, err := cl.Step(in); err != nil {
					return fmt.Errorf("verify server: %w", err)
				}
			}
			return c.Open()
		case "failure":
			for _, ch := range n.Children {
				if ch.Name.Local != "text" {
					return SASLError(ch.Name.Local)
				}
			}
			return SASLError("")
		default:
			return fmt.Errorf("unexpected <%s/> during SASL", n.Name.Local)
		}
	}
}

func enc(b []byte) string {
	if len(b) == 0 {
		return "="
	}
	return base64.StdEncoding.EncodeToString(b)
}

// Bind binds resource ("" lets the server choose).
func (c *Client) Bind(resource string) (jid.JID, error) {
	c.t.Helper()
	body := "<bind xmlns='" + stream.NSBind + "'/>"
	if resource != "" {
		body = "<bind xmlns='" + stream.NSBind + "'><resource>" + string(xmltok.EscapeText(nil, resource)) + "</resource></bind>"
	}
	c.Send("<iq type='set' id='bind1'>" + body + "</iq>")
	n := c.MustNext()
	if n.Attr("type") != "result" {
		return jid.JID{}, fmt.Errorf("bind failed: %s", n.AppendXML(nil, "jabber:client"))
	}
	b := n.Child(stream.NSBind, "bind")
	if b == nil || b.Child(stream.NSBind, "jid") == nil {
		return jid.JID{}, errors.New("bind result without jid")
	}
	j, err := jid.Parse(b.Child(stream.NSBind, "jid").Text)
	c.JID = j
	return j, err
}

// ID returns a fresh stanza id.
func (c *Client) ID() string { return "t" + strconv.FormatInt(c.ids.Add(1), 10) }

// Ping sends an XEP-0199 ping to the server and reads until its answer,
// returning what arrived before it: everything the server queued earlier.
func (c *Client) Ping() []*xmltok.Node {
	c.t.Helper()
	id := c.ID()
	c.Send("<iq type='get' id='" + id + "' to='" + c.Host + "'><ping xmlns='urn:xmpp:ping'/></iq>")
	var before []*xmltok.Node
	for {
		n := c.MustNext()
		if n.Name.Local == "iq" && n.Attr("id") == id {
			if n.Attr("type") != "result" {
				c.t.Fatalf("ping failed: %s", n.AppendXML(nil, "jabber:client"))
			}
			return before
		}
		before = append(before, n)
	}
}

// Close sends </stream:stream> and waits for the server's.
func (c *Client) Close() {
	c.t.Helper()
	c.Send(stream.Close)
	if cond := c.StreamError(); cond != "" {
		c.t.Fatalf("closing: got stream error %s", cond)
	}
}

// XML serializes n for failure messages.
func XML(n *xmltok.Node) string {
	if n == nil {
		return "<nil>"
	}
	return string(n.AppendXML(nil, "jabber:client"))
}
