package c2s

import (
	"context"
	"errors"
	"net/netip"
	"time"

	"junction/xmpp/stanza"
	"junction/xmpp/stream"
	"junction/xmpp/xmltok"
)

// XEP-0077 namespaces.
const (
	NSRegister        = "jabber:iq:register"
	NSRegisterFeature = "http://jabber.org/features/iq-register"
)

// Registrar creates accounts for in-band registration.
type Registrar interface {
	// Open reports whether host lets anyone register.
	Open(host string) bool
	// Register creates username@host. A *stanza.Error is sent to the client.
	Register(ctx context.Context, host, username, password string, from netip.Addr) error
}

// registrationOpen reports whether this not yet authenticated stream may
// register an account: the host allows it and the stream is encrypted (or
// encryption is not required).
func (c *Conn) registrationOpen() bool {
	r := c.srv.cfg.Registrar
	return r != nil && (c.tls || !c.srv.cfg.RequireTLS) && r.Open(c.host)
}

// registerElement answers an iq on an unauthenticated stream: only
// jabber:iq:register get and set are allowed there.
func (c *Conn) registerElement(el *xmltok.Element) error {
	n, err := el.Node()
	if err != nil {
		c.failRead(true, err)
		return errStop
	}
	q := n.Child(NSRegister, "query")
	if q == nil || (n.Attr("type") != "get" && n.Attr("type") != "set") {
		c.failNegotiation(true, &stream.Error{Condition: stream.NotAuthorized, Text: "authenticate or register first"})
		return errStop
	}
	id := n.Attr("id")
	write := func(b []byte) error {
		if err := c.writeNow(b); err != nil {
			c.nc.Close()
			c.cancel()
			return errStop
		}
		return nil
	}
	result := func(payload *xmltok.Node) []byte {
		b := []byte("<iq type='result' id='")
		b = xmltok.EscapeAttr(b, id)
		b = append(b, "'>"...)
		if payload != nil {
			b = payload.AppendXML(b, stanza.NSClient)
		}
		return append(b, "</iq>"...)
	}
	if n.Attr("type") == "get" {
		form := xmltok.NewNode(NSRegister, "query").Add(
			xmltok.NewNode(NSRegister, "instructions").SetText("Choose a username and password for "+c.host+"."),
			xmltok.NewNode(NSRegister, "username"),
			xmltok.NewNode(NSRegister, "password"),
		)
		return write(result(form))
	}
	user, pass := q.Child(NSRegister, "username"), q.Child(NSRegister, "password")
	var regErr error
	if user == nil || pass == nil || user.Text == "" || pass.Text == "" {
		regErr = stanza.Errorf(stanza.Modify, stanza.NotAcceptable, "username and password are required")
	} else {
		ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
		regErr = c.srv.cfg.Registrar.Register(ctx, c.host, user.Text, pass.Text, c.ip)
		cancel()
	}
	if regErr == nil {
		c.log.Info("account registered in-band", "username", user.Text)
		return write(result(nil))
	}
	var se *stanza.Error
	if !errors.As(regErr, &se) {
		c.log.Error("in-band registration failed", "err", regErr)
		se = stanza.Errorf(stanza.Wait, stanza.InternalServerError, "")
	}
	b := []byte("<iq type='error' id='")
	b = xmltok.EscapeAttr(b, id)
	b = append(b, "'>"...)
	b = se.Node().AppendXML(b, stanza.NSClient)
	return write(append(b, "</iq>"...))
}
