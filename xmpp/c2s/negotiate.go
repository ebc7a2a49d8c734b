package c2s

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"strings"
	"time"

	"junction/xmpp/jid"
	"junction/xmpp/sasl"
	"junction/xmpp/stanza"
	"junction/xmpp/stream"
	"junction/xmpp/xmltok"
)

// errStop ends negotiation after the stream has been closed.
var errStop = errors.New("c2s: negotiation stopped")

// negotiate runs the stream from the first byte to a bound session, or to a
// stream error. It runs on the accepting goroutine; on success it starts the
// session's reader and writer, which own the connection from then on, and
// returns true.
func (c *Conn) negotiate(directTLS bool) bool {
	c.nc.SetDeadline(time.Now().Add(c.srv.cfg.NegotiationTimeout))
	c.rd = &deadlineReader{r: c.nc, nc: c.nc, stop: c.quit}
	c.dec = xmltok.NewDecoder(c.rd, xmltok.Options{MaxElementBytes: c.srv.cfg.MaxStanzaBytes})
	if directTLS {
		if err := c.startTLS(); err != nil {
			c.log.Debug("direct TLS handshake failed", "err", err)
			c.nc.Close()
			c.cancel()
			return false
		}
	}
	attempts := 0
	for {
		if err := c.openStream(); err != nil {
			return false
		}
		if err := c.sendFeatures(); err != nil {
			c.nc.Close()
			c.cancel()
			return false
		}
		restart, err := c.negotiateStep(&attempts)
		if err != nil {
			return false
		}
		if restart {
			continue
		}
		// Bound.
		c.nc.SetDeadline(time.Time{})
		c.bound.Store(true)
		c.runSession()
		return true
	}
}

// openStream reads the client's stream header and checks it.
func (c *Conn) openStream() error {
	h, err := c.dec.ReadStreamHeader()
	if err != nil {
		c.failRead(false, err)
		return errStop
	}
	if h.Name.Space != xmltok.NSStream || h.Name.Local != "stream" {
		c.failNegotiation(false, &stream.Error{Condition: stream.InvalidNamespace, Text: "expected a stream:stream in " + xmltok.NSStream})
		return errStop
	}
	if h.DefaultNS != stanza.NSClient {
		c.failNegotiation(false, &stream.Error{Condition: stream.InvalidNamespace, Text: "the content namespace must be jabber:client"})
		return errStop
	}
	to := stream.Attr(h.Attrs, "to")
	if c.host != "" && to != c.host {
		c.failNegotiation(false, &stream.Error{Condition: stream.HostUnknown, Text: "the host changed on a stream restart"})
		return errStop
	}
	if c.host == "" {
		d, err := jid.Parse(to)
		if err != nil || !d.IsDomain() || !c.srv.cfg.Hosted(d.Domainpart()) {
			c.failNegotiation(false, &stream.Error{Condition: stream.HostUnknown, Text: "this server does not serve " + truncate(to, 64)})
			return errStop
		}
		c.host = d.Domainpart()
	}
	if err := stream.CheckVersion(stream.Attr(h.Attrs, "version")); err != nil {
		c.failNegotiation(false, err.(*stream.Error))
		return errStop
	}
	if l := stream.Lang(h.Attrs); l != "" {
		c.lang = l
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// failRead closes a negotiating stream after a read error.
func (c *Conn) failRead(headerSent bool, err error) {
	var xe *xmltok.Error
	switch {
	case errors.As(err, &xe):
		c.failNegotiation(headerSent, stream.ErrorFromXML(xe))
	case c.closing():
		var e *stream.Error
		if p := c.closeErr.Load(); p != nil {
			e = p
		}
		c.failNegotiation(headerSent, e)
	case errors.Is(err, xmltok.ErrStreamEnd):
		c.failNegotiation(headerSent, nil)
	case isTimeout(err):
		c.failNegotiation(headerSent, &stream.Error{Condition: stream.ConnectionTimeout, Text: "stream negotiation took too long"})
	default:
		c.log.Debug("connection lost during negotiation", "err", err)
		c.nc.Close()
		c.cancel()
	}
}

func isTimeout(err error) bool {
	var ne interface{ Timeout() bool }
	return errors.As(err, &ne) && ne.Timeout()
}

func (c *Conn) sendFeatures() error {
	b := c.header().AppendOpen(nil)
	b = append(b, "<stream:features>"...)
	switch {
	case c.user.IsZero():
		if !c.tls && c.srv.cfg.TLS != nil {
			b = append(b, "<starttls xmlns='"+stream.NSTLS+"'>"...)
			if c.srv.cfg.RequireTLS {
				b = append(b, "<required/>"...)
			}
			b = append(b, "</starttls>"...)
		}
		if c.registrationOpen() {
			b = append(b, "<register xmlns='"+NSRegisterFeature+"'/>"...)
		}
		if c.tls || !c.srv.cfg.RequireTLS {
			sc := c.saslConfig()
			b = append(b, "<mechanisms xmlns='"+stream.NSSASL+"'>"...)
			for _, m := range sc.Mechanisms() {
				b = append(b, "<mechanism>"...)
				b = append(b, m...)
				b = append(b, "</mechanism>"...)
			}
			b = append(b, "</mechanisms>"...)
			if types := sc.Binding.Types(); len(types) > 0 {
				b = append(b, "<sasl-channel-binding xmlns='"+stream.NSSASLCB+"'>"...)
				for _, t := range types {
					b = append(b, "<channel-binding type='"...)
					b = append(b, t...)
					b = append(b, "'/>"...)
				}
				b = append(b, "</sasl-channel-binding>"...)
			}
		}
	default:
		b = append(b, "<bind xmlns='"+stream.NSBind+"'/><session xmlns='"+stream.NSSession+"'><optional/></session>"...)
		for _, f := range c.srv.cfg.Features {
			b = append(b, f...)
		}
	}
	b = append(b, "</stream:features>"...)
	return c.writeNow(b)
}

func (c *Conn) saslConfig() *sasl.Config {
	cfg := &sasl.Config{
		Store:  c.srv.cfg.Credentials(c.host),
		TLS:    c.tls,
		Secret: c.srv.cfg.SASLSecret,
		// See sasl.Config.TolerateYFlag: strictness here would lock out
		// every slixmpp-based client (Poezio among them) on TLS 1.3.
		TolerateYFlag: true,
	}
	if tc, ok := c.nc.(*tls.Conn); ok {
		cs := tc.ConnectionState()
		cfg.Binding = sasl.BindingFromTLS(&cs)
		cfg.Binding.TLSServerEndPoint = c.srv.cfg.ServerEndPoint
	}
	return cfg
}

// negotiateStep reads elements until the stream restarts (restart=true) or
// a resource is bound (restart=false).
func (c *Conn) negotiateStep(attempts *int) (restart bool, err error) {
	var neg *sasl.Negotiation
	var mech string
	for {
		el, err := c.dec.ReadElement()
		if err != nil {
			c.failRead(true, err)
			return false, errStop
		}
		switch {
		case el.Space == stream.NSTLS && el.Local == "starttls":
			if c.tls || c.srv.cfg.TLS == nil || !c.user.IsZero() {
				c.writeNow([]byte("<failure xmlns='" + stream.NSTLS + "'/>" + stream.Close))
				c.nc.Close()
				c.cancel()
				return false, errStop
			}
			if c.dec.BufferedMarkup() {
				// Bytes sent after <starttls/> but before the handshake would
				// be read as if they came over TLS (a command injection).
				c.failNegotiation(true, &stream.Error{Condition: stream.PolicyViolation, Text: "data after <starttls/>"})
				return false, errStop
			}
			if err := c.writeNow([]byte("<proceed xmlns='" + stream.NSTLS + "'/>")); err != nil {
				c.nc.Close()
				c.cancel()
				return false, errStop
			}
			if err := c.startTLS(); err != nil {
				c.log.Debug("STARTTLS handshake failed", "err", err)
				c.nc.Close()
				c.cancel()
				return false, errStop
			}
			return true, nil

		case el.Space == stream.NSSASL && c.user.IsZero():
			done, err := c.saslElement(el, &neg, &mech, attempts)
			if err != nil {
				return false, err
			}
			if done {
				c.dec.Reset(c.rd)
				return true, nil
			}

		case el.Space == stanza.NSClient && el.Local == stanza.IQ && !c.user.IsZero():
			bound, err := c.bindElement(el)
			if err != nil {
				return false, err
			}
			if bound {
				return false, nil
			}

		case el.Space == stanza.NSClient && el.Local == stanza.IQ && c.user.IsZero() && c.registrationOpen():
			if err := c.registerElement(el); err != nil {
				return false, err
			}

		default:
			cond := stream.NotAuthorized
			if el.Space != stanza.NSClient && el.Space != stream.NSSASL && el.Space != stream.NSTLS {
				cond = stream.UnsupportedStanzaType
			}
			c.failNegotiation(true, &stream.Error{Condition: cond})
			return false, errStop
		}
	}
}

func (c *Conn) startTLS() error {
	tc := tls.Server(c.nc, c.srv.cfg.TLS)
	if err := tc.HandshakeContext(c.ctx); err != nil {
		return err
	}
	c.nc = tc
	c.tls = true
	c.rd.r = tc
	c.rd.nc = tc
	c.dec.Reset(c.rd)
	return nil
}

// saslElement handles one SASL element. done reports success.
func (c *Conn) saslElement(el *xmltok.Element, neg **sasl.Negotiation, mech *string, attempts *int) (done bool, err error) {
	n, perr := el.Node()
	if perr != nil {
		c.failRead(true, perr)
		return false, errStop
	}
	fail := func(cond, text string) error {
		*neg = nil
		*attempts++
		c.srv.cfg.Observer.AuthFailure(*mech)
		b := "<failure xmlns='" + stream.NSSASL + "'><" + cond + "/>"
		if text != "" {
			b += "<text>" + string(xmltok.EscapeText(nil, text)) + "</text>"
		}
		b += "</failure>"
		if err := c.writeNow([]byte(b)); err != nil {
			c.nc.Close()
			c.cancel()
			return errStop
		}
		c.log.Info("authentication failed", "mechanism", *mech, "condition", cond, "attempt", *attempts)
		if *attempts >= c.srv.cfg.MaxAuthAttempts {
			c.failNegotiation(true, &stream.Error{Condition: stream.PolicyViolation, Text: "too many failed authentication attempts"})
			return errStop
		}
		return nil
	}

	var in []byte
	switch n.Name.Local {
	case "auth":
		if !c.tls && c.srv.cfg.RequireTLS {
			return false, fail("encryption-required", "use STARTTLS first")
		}
		*mech = n.Attr("mechanism")
		ng, err := c.saslConfig().Start(*mech)
		if err != nil {
			return false, fail(saslCondition(err), "")
		}
		*neg = ng
		text := strings.TrimSpace(n.Text)
		if text == "=" || text == "" {
			// "=" is an empty initial response; no text means none yet. Both
			// start the mechanism with empty input.
			text = ""
		}
		if in, err = base64.StdEncoding.DecodeString(text); err != nil {
			return false, fail("incorrect-encoding", "")
		}
	case "response":
		if *neg == nil {
			return false, fail("malformed-request", "no authentication in progress")
		}
		var err error
		if in, err = base64.StdEncoding.DecodeString(strings.TrimSpace(n.Text)); err != nil {
			return false, fail("incorrect-encoding", "")
		}
	case "abort":
		return false, fail("aborted", "")
	default:
		c.failNegotiation(true, &stream.Error{Condition: stream.UnsupportedStanzaType})
		return false, errStop
	}

	ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
	out, ok, err := (*neg).Step(ctx, in)
	cancel()
	if err != nil {
		return false, fail(saslCondition(err), "")
	}
	if !ok {
		if werr := c.writeNow([]byte("<challenge xmlns='" + stream.NSSASL + "'>" + base64.StdEncoding.EncodeToString(out) + "</challenge>")); werr != nil {
			c.nc.Close()
			c.cancel()
			return false, errStop
		}
		return false, nil
	}
	user, jerr := jid.New((*neg).Username(), c.host, "")
	if jerr != nil {
		return false, fail("not-authorized", "")
	}
	if az := (*neg).AuthzID(); az != "" && az != user.String() {
		return false, fail("invalid-authzid", "")
	}
	success := "<success xmlns='" + stream.NSSASL + "'"
	if len(out) > 0 {
		success += ">" + base64.StdEncoding.EncodeToString(out) + "</success>"
	} else {
		success += "/>"
	}
	if err := c.writeNow([]byte(success)); err != nil {
		c.nc.Close()
		c.cancel()
		return false, errStop
	}
	c.user = user
	c.log.Info("authenticated", "user", user.String(), "mechanism", *mech, "tls", c.tls)
	return true, nil
}

func saslCondition(err error) string {
	var se *sasl.Error
	if errors.As(err, &se) {
		return se.Condition
	}
	return "temporary-auth-failure"
}

// bindElement handles an iq during the bind phase. bound reports success.
func (c *Conn) bindElement(el *xmltok.Element) (bound bool, err error) {
	n, perr := el.Node()
	if perr != nil {
		c.failRead(true, perr)
		return false, errStop
	}
	id := n.Attr("id")
	typ := n.Attr("type")
	reply := func(payload string) error {
		return c.writeNow([]byte("<iq type='result' id='" + string(xmltok.EscapeAttr(nil, id)) + "'>" + payload + "</iq>"))
	}
	replyErr := func(e *stanza.Error) error {
		b := []byte("<iq type='error' id='")
		b = xmltok.EscapeAttr(b, id)
		b = append(b, "'>"...)
		b = e.Node().AppendXML(b, stanza.NSClient)
		b = append(b, "</iq>"...)
		return c.writeNow(b)
	}
	if typ == "set" && n.Child(stream.NSSession, "session") != nil {
		return false, reply("")
	}
	bind := n.Child(stream.NSBind, "bind")
	if typ != "set" || bind == nil {
		c.failNegotiation(true, &stream.Error{Condition: stream.NotAuthorized, Text: "bind a resource first"})
		return false, errStop
	}
	resource := ""
	if r := bind.Child(stream.NSBind, "resource"); r != nil {
		resource = r.Text
	}
	full, berr := c.srv.cfg.Handler.Bind(c.ctx, c, resource)
	if berr != nil {
		var se *stanza.Error
		if !errors.As(berr, &se) {
			c.log.Error("bind failed", "err", berr)
			se = &stanza.Error{Type: stanza.Wait, Condition: stanza.InternalServerError}
		}
		if err := replyErr(se); err != nil {
			c.nc.Close()
			c.cancel()
			return false, errStop
		}
		return false, nil
	}
	c.full = full
	// One logger for the session's lifetime, built once (each With copies
	// its attributes: idle sessions should not carry a chain of them).
	c.log = c.srv.cfg.Logger.With("conn", c.id, "jid", full.String())
	jb := xmltok.EscapeText(nil, full.String())
	// Queue the result so it is written in order with what the handler may
	// already have queued for the session.
	c.SendRaw("<iq type='result' id='" + string(xmltok.EscapeAttr(nil, id)) + "'><bind xmlns='" + stream.NSBind + "'><jid>" + string(jb) + "</jid></bind></iq>")
	c.log.Info("session bound")
	return true, nil
}
