package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"junction/xmpp/jid"
	"junction/xmpp/sasl"
	"junction/xmpp/stream"
	"junction/xmpp/xmltok"
)

// SASL mechanisms the tool can use, strongest first for -mech auto.
const (
	mechSCRAMSHA256 = "SCRAM-SHA-256"
	mechSCRAMSHA1   = "SCRAM-SHA-1"
	mechPLAIN       = "PLAIN"
)

var autoMechs = []string{mechSCRAMSHA256, mechSCRAMSHA1, mechPLAIN}

// nsRegister is XEP-0077's namespace.
const nsRegister = "jabber:iq:register"

// Errors a run can end with, for callers that want to tell them apart.
var (
	errAuth     = errors.New("load: authentication failed")
	errRegister = errors.New("load: registration refused")
	errProtocol = errors.New("load: unexpected answer from server")
)

// streamError is a stream error the server sent; it is an errProtocol.
type streamError struct{ condition string }

func (e *streamError) Error() string { return errProtocol.Error() + ": stream error " + e.condition }
func (e *streamError) Unwrap() error { return errProtocol }

// dialer opens client streams for one run; it is safe for concurrent use.
type dialer struct {
	cfg  *Config
	tlsc *tls.Config
	keys keyCache
	mech atomic.Pointer[string] // the mechanism the first login used
}

// newDialer prepares the TLS settings every connection shares. Certificates
// are not verified: benchmark servers use self-signed ones. Key exchange
// is limited to X25519 and P-256 so that a Go server does not pick the
// post-quantum hybrid, which costs more and which OpenSSL 3.0 servers do
// not offer: every server then does the same work per handshake.
func newDialer(cfg *Config) *dialer {
	tc := &tls.Config{
		ServerName:         cfg.Domain,
		InsecureSkipVerify: true,
		MinVersion:         tls.VersionTLS12,
		CurvePreferences:   []tls.CurveID{tls.X25519, tls.CurveP256},
	}
	if cfg.Resume {
		tc.ClientSessionCache = tls.NewLRUClientSessionCache(1024)
	}
	if cfg.TLS == "direct" {
		tc.NextProtos = []string{"xmpp-client"}
	}
	return &dialer{cfg: cfg, tlsc: tc}
}

// conn is a stream being negotiated.
type conn struct {
	nc       net.Conn
	dec      *xmltok.Decoder
	w        *bufio.Writer
	domain   string
	features *xmltok.Node
}

// connect dials, opens the stream and secures it with STARTTLS or direct
// TLS, up to the features of the encrypted stream. The whole negotiation
// (including what the caller does next) must finish within cfg.Timeout; the
// deadline stays set on the connection.
func (d *dialer) connect(ctx context.Context) (*conn, error) {
	dl := net.Dialer{Timeout: d.cfg.Timeout}
	nc, err := dl.DialContext(ctx, "tcp", d.cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", d.cfg.Addr, err)
	}
	nc.SetDeadline(time.Now().Add(d.cfg.Timeout))
	c := &conn{nc: nc, domain: d.cfg.Domain}
	if d.cfg.TLS == "direct" {
		tc := tls.Client(nc, d.tlsc)
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, fmt.Errorf("TLS handshake with %s: %w", d.cfg.Addr, err)
		}
		c.nc = tc
	}
	c.dec = xmltok.NewDecoder(c.nc, xmltok.Options{MaxElementBytes: maxElemBytes})
	c.w = bufio.NewWriterSize(c.nc, writeBufBytes)
	if err := c.open(); err != nil {
		c.nc.Close()
		return nil, err
	}
	if d.cfg.TLS == "direct" {
		return c, nil
	}
	if c.features.Child(stream.NSTLS, "starttls") == nil {
		c.nc.Close()
		return nil, fmt.Errorf("%w: %s does not offer STARTTLS", errProtocol, d.cfg.Addr)
	}
	if err := c.startTLS(ctx, d.tlsc); err != nil {
		c.nc.Close()
		return nil, err
	}
	return c, nil
}

// sendString writes s and flushes.
func (c *conn) sendString(s string) error {
	c.w.WriteString(s)
	if err := c.w.Flush(); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

// open sends a stream header and reads the server's header and features.
func (c *conn) open() error {
	c.dec.Reset(c.nc)
	if err := c.sendString(string(stream.Header{NS: "jabber:client", To: c.domain}.AppendOpen(nil))); err != nil {
		return err
	}
	if _, err := c.dec.ReadStreamHeader(); err != nil {
		return fmt.Errorf("read stream header: %w", err)
	}
	n, err := c.next()
	if err != nil {
		return err
	}
	if n.Name.Space != xmltok.NSStream || n.Name.Local != "features" {
		return fmt.Errorf("%w: got <%s/>, want stream features", errProtocol, n.Name.Local)
	}
	c.features = n
	return nil
}

// next reads one element as a tree. A stream error becomes an error.
func (c *conn) next() (*xmltok.Node, error) {
	el, err := c.dec.ReadElement()
	if err != nil {
		if errors.Is(err, xmltok.ErrStreamEnd) {
			return nil, fmt.Errorf("%w: server closed the stream", errProtocol)
		}
		return nil, fmt.Errorf("read: %w", err)
	}
	if el.Space == xmltok.NSStream && el.Local == "error" {
		return nil, &streamError{condition: streamErrorCondition(el)}
	}
	return el.Node()
}

// startTLS upgrades the stream and reopens it.
func (c *conn) startTLS(ctx context.Context, tc *tls.Config) error {
	if err := c.sendString("<starttls xmlns='" + stream.NSTLS + "'/>"); err != nil {
		return err
	}
	n, err := c.next()
	if err != nil {
		return fmt.Errorf("STARTTLS: %w", err)
	}
	if n.Name.Local != "proceed" {
		return fmt.Errorf("%w: got <%s/> after <starttls/>, want <proceed/>", errProtocol, n.Name.Local)
	}
	tlsConn := tls.Client(c.nc, tc)
	if err := tlsConn.HandshakeContext(ctx); err != nil {
		return fmt.Errorf("TLS handshake: %w", err)
	}
	c.nc = tlsConn
	c.w.Reset(tlsConn)
	return c.open()
}

// mechanisms lists the SASL mechanisms in the features.
func (c *conn) mechanisms() []string {
	var out []string
	if m := c.features.Child(stream.NSSASL, "mechanisms"); m != nil {
		for _, ch := range m.Children {
			out = append(out, strings.TrimSpace(ch.Text))
		}
	}
	return out
}

// stepper is one side of a SASL exchange, as sasl.Client.
type stepper interface {
	Step(in []byte) ([]byte, error)
}

// auth runs the SASL exchange for user and reopens the stream. SCRAM uses
// the tool's own client with its key cache; PLAIN uses sasl.Client.
func (c *conn) auth(want, user, password string, keys *keyCache) (string, error) {
	offered := c.mechanisms()
	mech := ""
	if want == "auto" {
		for _, m := range autoMechs {
			if slices.Contains(offered, m) {
				mech = m
				break
			}
		}
	} else if slices.Contains(offered, want) {
		mech = want
	}
	if mech == "" {
		return "", fmt.Errorf("%w: server offers SASL %v, none usable with -mech %s", errAuth, offered, want)
	}
	var cl stepper = sasl.NewClient(mech, user, password, sasl.ChannelBinding{})
	sc := newSCRAM(mech, user, password, keys)
	if sc != nil {
		cl = sc
	}
	out, err := cl.Step(nil)
	if err != nil {
		return "", fmt.Errorf("SASL %s: %w", mech, err)
	}
	if err := c.sendString("<auth xmlns='" + stream.NSSASL + "' mechanism='" + mech + "'>" + b64(out) + "</auth>"); err != nil {
		return "", err
	}
	for range 4 {
		n, err := c.next()
		if err != nil {
			return "", fmt.Errorf("SASL %s: %w", mech, err)
		}
		switch n.Name.Local {
		case "challenge":
			in, err := base64.StdEncoding.DecodeString(n.Text)
			if err != nil {
				return "", fmt.Errorf("%w: SASL challenge: %v", errProtocol, err)
			}
			out, err := cl.Step(in)
			if err != nil {
				return "", fmt.Errorf("%w as %s: %v", errAuth, user, err)
			}
			if err := c.sendString("<response xmlns='" + stream.NSSASL + "'>" + b64(out) + "</response>"); err != nil {
				return "", err
			}
		case "success":
			if t := strings.TrimSpace(n.Text); t != "" && t != "=" {
				in, err := base64.StdEncoding.DecodeString(t)
				if err != nil {
					return "", fmt.Errorf("%w: SASL success data: %v", errProtocol, err)
				}
				if _, err := cl.Step(in); err != nil {
					return "", fmt.Errorf("%w as %s: %v", errAuth, user, err)
				}
			}
			if sc != nil && !sc.verified {
				return "", fmt.Errorf("%w as %s: server did not prove it knows the password", errAuth, user)
			}
			return mech, c.open()
		case "failure":
			cond, text := "", ""
			for _, ch := range n.Children {
				if ch.Name.Local == "text" {
					text = ch.Text
				} else if cond == "" {
					cond = ch.Name.Local
				}
			}
			if text != "" {
				cond += " (" + text + ")"
			}
			return "", fmt.Errorf("%w as %s with %s: %s", errAuth, user, mech, cond)
		default:
			return "", fmt.Errorf("%w: got <%s/> during SASL", errProtocol, n.Name.Local)
		}
	}
	return "", fmt.Errorf("%w: SASL exchange too long", errProtocol)
}

// iq sends an IQ and reads until its answer, skipping anything else, and
// returns the answer.
func (c *conn) iq(id, body string) (*xmltok.Node, error) {
	if err := c.sendString(body); err != nil {
		return nil, err
	}
	for range 1000 {
		n, err := c.next()
		if err != nil {
			return nil, err
		}
		if n.Name.Local == "iq" && n.Attr("id") == id {
			return n, nil
		}
	}
	return nil, fmt.Errorf("%w: no answer to iq %s", errProtocol, id)
}

// bind binds resource and, when the server insists, establishes the
// RFC 3921 session. It returns the full JID.
func (c *conn) bind(resource string) (string, error) {
	if c.features.Child(stream.NSBind, "bind") == nil {
		return "", fmt.Errorf("%w: no resource binding offered after login", errProtocol)
	}
	res := xmltok.EscapeText(nil, resource)
	n, err := c.iq("bind", "<iq type='set' id='bind'><bind xmlns='"+stream.NSBind+"'><resource>"+string(res)+"</resource></bind></iq>")
	if err != nil {
		return "", fmt.Errorf("bind: %w", err)
	}
	if n.Attr("type") != "result" {
		return "", fmt.Errorf("%w: bind failed: %s", errProtocol, n.String())
	}
	b := n.Child(stream.NSBind, "bind")
	if b == nil || b.Child(stream.NSBind, "jid") == nil {
		return "", fmt.Errorf("%w: bind result without a JID", errProtocol)
	}
	full, err := jid.Parse(strings.TrimSpace(b.Child(stream.NSBind, "jid").Text))
	if err != nil {
		return "", fmt.Errorf("%w: bound JID: %v", errProtocol, err)
	}
	if s := c.features.Child(stream.NSSession, "session"); s != nil && s.Child("", "optional") == nil {
		n, err := c.iq("sess", "<iq type='set' id='sess'><session xmlns='"+stream.NSSession+"'/></iq>")
		if err != nil {
			return "", fmt.Errorf("session: %w", err)
		}
		if n.Attr("type") != "result" {
			return "", fmt.Errorf("%w: session failed: %s", errProtocol, n.String())
		}
	}
	return full.String(), nil
}

// login connects account idx with resource; with presence it also sends
// initial presence and waits for a ping's answer, so the server has set
// the session up completely. The session's reader is not started.
func (d *dialer) login(ctx context.Context, idx int, resource string, presence bool) (*session, error) {
	user := d.cfg.user(idx)
	c, err := d.connect(ctx)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { c.nc.Close() })
	defer stop()
	fail := func(err error) (*session, error) {
		c.nc.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("log in %s: %w", user, err)
	}
	mech, err := c.auth(d.cfg.Mech, user, d.cfg.Password, &d.keys)
	if err != nil {
		return fail(err)
	}
	d.mech.CompareAndSwap(nil, &mech)
	full, err := c.bind(resource)
	if err != nil {
		return fail(err)
	}
	if presence {
		up := "<presence/><iq type='get' id='up' to='" + string(xmltok.EscapeAttr(nil, d.cfg.Domain)) + "'><ping xmlns='" + stream.NSPing + "'/></iq>"
		if _, err := c.iq("up", up); err != nil {
			return fail(fmt.Errorf("initial presence: %w", err))
		}
	}
	c.nc.SetDeadline(time.Time{})
	return &session{
		full:    full,
		nc:      c.nc,
		dec:     c.dec,
		w:       c.w,
		timeout: d.cfg.Timeout,
	}, nil
}

// register creates account idx with XEP-0077. An account that exists
// already (conflict) is not an error.
func (d *dialer) register(ctx context.Context, idx int) error {
	user := d.cfg.user(idx)
	c, err := d.connect(ctx)
	if err != nil {
		return err
	}
	defer c.nc.Close()
	stop := context.AfterFunc(ctx, func() { c.nc.Close() })
	defer stop()
	body := "<iq type='set' id='reg'><query xmlns='" + nsRegister + "'><username>" +
		string(xmltok.EscapeText(nil, user)) + "</username><password>" +
		string(xmltok.EscapeText(nil, d.cfg.Password)) + "</password></query></iq>"
	n, err := c.iq("reg", body)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var se *streamError
		if errors.As(err, &se) {
			return fmt.Errorf("%w: register %s: server closed the stream with %s", errRegister, user, se.condition)
		}
		return fmt.Errorf("register %s: %w", user, err)
	}
	if n.Attr("type") == "result" {
		c.sendString(stream.Close)
		return nil
	}
	cond, text := stanzaErrorCondition(n)
	if cond == "conflict" {
		c.sendString(stream.Close)
		return nil
	}
	if text != "" {
		cond += " (" + text + ")"
	}
	return fmt.Errorf("%w: register %s: %s", errRegister, user, cond)
}

// stanzaErrorCondition returns the defined condition of an error stanza
// and its text, if any.
func stanzaErrorCondition(n *xmltok.Node) (cond, text string) {
	e := n.Child("", "error")
	if e == nil {
		return "error without a condition", ""
	}
	for _, ch := range e.Children {
		if ch.Name.Local == "text" {
			text = ch.Text
		} else if cond == "" {
			cond = ch.Name.Local
		}
	}
	return cond, text
}

// b64 encodes SASL data, "=" for none.
func b64(b []byte) string {
	if len(b) == 0 {
		return "="
	}
	return base64.StdEncoding.EncodeToString(b)
}
