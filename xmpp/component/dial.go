package component

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"junction/xmpp/jid"
	"junction/xmpp/stanza"
	"junction/xmpp/stream"
	"junction/xmpp/xmltok"
)

// DialConfig says where and as what to connect.
type DialConfig struct {
	Addr           string // the server's component port, host:port
	Domain         jid.JID
	Secret         string
	MaxStanzaBytes int
	QueueSize      int
	Logger         *slog.Logger
}

// ErrRefused is a handshake the server rejected (wrong secret, unknown
// domain, conflict): retrying will not help until the configuration changes.
var ErrRefused = errors.New("component: refused by the server")

// Dial connects to a server's component port, authenticates, and starts
// the stream; handle receives every inbound stanza.
func Dial(ctx context.Context, cfg DialConfig, handle func(*stanza.Stanza) error) (*Conn, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	d := net.Dialer{Timeout: 10 * time.Second}
	nc, err := d.DialContext(ctx, "tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("component: dial %s: %w", cfg.Addr, err)
	}
	nc.SetDeadline(time.Now().Add(defaultNegotiation))
	fail := func(err error) (*Conn, error) {
		nc.Close()
		return nil, err
	}
	if _, err := nc.Write(stream.Header{NS: NS, To: cfg.Domain.Domainpart(), NoVersion: true}.AppendOpen(nil)); err != nil {
		return fail(fmt.Errorf("component: write header: %w", err))
	}
	dec := xmltok.NewDecoder(nc, xmltok.Options{MaxElementBytes: cfg.MaxStanzaBytes})
	h, err := dec.ReadStreamHeader()
	if err != nil {
		return fail(fmt.Errorf("component: read header: %w", err))
	}
	id := stream.Attr(h.Attrs, "id")
	if id == "" {
		return fail(readStreamError(dec, "the server sent no stream id"))
	}
	if _, err := nc.Write([]byte("<handshake>" + Handshake(id, cfg.Secret) + "</handshake>")); err != nil {
		return fail(fmt.Errorf("component: write handshake: %w", err))
	}
	el, err := dec.ReadElement()
	if err != nil {
		return fail(fmt.Errorf("component: read handshake answer: %w", err))
	}
	if el.Local != "handshake" {
		n, _ := el.Node()
		return fail(streamErrorOf(n))
	}
	nc.SetDeadline(time.Time{})
	c := newConn(nc, dec, cfg.Domain, cfg.QueueSize, cfg.Logger)
	c.run(handle)
	return c, nil
}

func readStreamError(dec *xmltok.Decoder, fallback string) error {
	el, err := dec.ReadElement()
	if err != nil {
		return fmt.Errorf("component: %s: %w", fallback, err)
	}
	n, _ := el.Node()
	return streamErrorOf(n)
}

// streamErrorOf turns a <stream:error/> into an error wrapping ErrRefused.
func streamErrorOf(n *xmltok.Node) error {
	if n == nil || n.Name.Local != "error" {
		return fmt.Errorf("component: unexpected answer to the handshake: %w", ErrRefused)
	}
	cond, text := "", ""
	for _, ch := range n.Children {
		if ch.Name.Local == "text" {
			text = ch.Text
		} else {
			cond = ch.Name.Local
		}
	}
	return fmt.Errorf("component: %s %s: %w", cond, text, ErrRefused)
}
