// Package component speaks XEP-0114 (Jabber Component Protocol) both ways:
// Server accepts external components (Biboumi, Slidge, Spectrum 2) that
// authenticate with a shared secret, and Dial connects our own components
// to another server (Prosody, ejabberd). Either way a connection is a
// stream of stanzas in the jabber:component:accept namespace with explicit
// 'to' and 'from'.
package component

import (
	"bufio"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"junction/xmpp/jid"
	"junction/xmpp/stanza"
	"junction/xmpp/stream"
	"junction/xmpp/xmltok"
)

// NS is the component stream namespace.
const NS = "jabber:component:accept"

const (
	defaultQueue       = 1024
	defaultNegotiation = 20 * time.Second
	writeTimeout       = 30 * time.Second
	closeGrace         = 2 * time.Second
)

// Errors.
var (
	ErrClosed    = errors.New("component: connection closed")
	ErrQueueFull = errors.New("component: outbound queue full")
)

// Handshake computes the XEP-0114 handshake value for a stream id and secret.
func Handshake(streamID, secret string) string {
	sum := sha1.Sum([]byte(streamID + secret))
	return hex.EncodeToString(sum[:])
}

// Conn is one established component stream (either side). Stanzas read from
// it go to the handler given at establishment; Send writes to it.
type Conn struct {
	nc     net.Conn
	dec    *xmltok.Decoder
	domain jid.JID
	log    *slog.Logger

	out       chan string
	quit      chan struct{}
	closeOnce sync.Once
	closeErr  *stream.Error
	done      chan struct{} // closed when both goroutines have ended
	writerEnd chan struct{}
}

// Domain is the component's domain.
func (c *Conn) Domain() jid.JID { return c.domain }

// Done is closed when the connection has ended.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Send queues st for the peer without blocking; a full queue is ErrQueueFull
// (the caller decides: the server answers resource-constraint).
func (c *Conn) Send(st *stanza.Stanza) error {
	select {
	case <-c.quit:
		return ErrClosed
	default:
	}
	select {
	case c.out <- st.Raw:
		return nil
	default:
		return ErrQueueFull
	}
}

// Close ends the stream with an optional stream error condition.
func (c *Conn) Close(condition string) {
	c.closeOnce.Do(func() {
		if condition != "" {
			c.closeErr = &stream.Error{Condition: condition}
		}
		close(c.quit)
	})
}

// run starts the reader and writer; handle receives each inbound stanza.
func (c *Conn) run(handle func(*stanza.Stanza) error) {
	go c.writeLoop()
	go func() {
		defer close(c.done)
		defer func() {
			if r := recover(); r != nil {
				c.log.Error("panic in component reader", "panic", r)
			}
			c.Close("")
			select {
			case <-c.writerEnd:
			case <-time.After(writeTimeout):
			}
			c.nc.Close()
		}()
		c.nc.SetReadDeadline(time.Time{})
		for {
			el, err := c.dec.ReadElement()
			if err != nil {
				var xe *xmltok.Error
				switch {
				case errors.As(err, &xe):
					c.Close(xe.Condition)
				case errors.Is(err, xmltok.ErrStreamEnd), errors.Is(err, io.EOF):
				default:
					c.log.Debug("component connection lost", "err", err)
				}
				return
			}
			if el.Space == xmltok.NSStream && el.Local == "error" {
				// The peer is closing with a stream error: nothing to answer.
				if n, err := el.Node(); err == nil && len(n.Children) > 0 {
					c.log.Info("peer closed the stream with an error", "condition", n.Children[0].Name.Local)
				}
				c.Close("")
				return
			}
			st, err := fromComponent(el)
			if err != nil {
				c.log.Warn("bad stanza from component", "err", err)
				c.Close(stream.InvalidXML)
				return
			}
			if err := handle(st); err != nil {
				c.log.Warn("stanza refused", "err", err)
				var se *stanza.Error
				if !errors.As(err, &se) {
					se = stanza.Errorf(stanza.Cancel, stanza.NotAllowed, "refused")
				}
				if reply := stanza.ErrorReply(st, se); reply != nil {
					c.Send(reply)
				}
			}
		}
	}()
}

func (c *Conn) writeLoop() {
	defer close(c.writerEnd)
	w := bufio.NewWriterSize(c.nc, 8192)
	for {
		select {
		case s := <-c.out:
			w.WriteString(s)
		drain:
			for {
				select {
				case s := <-c.out:
					w.WriteString(s)
				default:
					break drain
				}
			}
			c.nc.SetWriteDeadline(time.Now().Add(writeTimeout))
			if err := w.Flush(); err != nil {
				c.Close("")
				c.nc.Close()
				return
			}
		case <-c.quit:
			// What was queued before the close goes out first.
			for {
				select {
				case s := <-c.out:
					w.WriteString(s)
					continue
				default:
				}
				break
			}
			var b []byte
			if c.closeErr != nil {
				b = c.closeErr.AppendXML(b)
			}
			w.Write(append(b, stream.Close...))
			c.nc.SetWriteDeadline(time.Now().Add(closeGrace))
			w.Flush()
			c.nc.SetReadDeadline(time.Now().Add(closeGrace))
			return
		}
	}
}

// fromComponent turns an element of a component stream into a stanza. The
// 'from' is the component's to choose (the bus checks it); the bytes are
// re-serialized only when the stanza names its namespace explicitly, since
// delivered to a client it must read as jabber:client.
func fromComponent(el *xmltok.Element) (*stanza.Stanza, error) {
	if el.Space != NS {
		return nil, fmt.Errorf("component: element in namespace %q", el.Space)
	}
	n, err := el.Node()
	if err != nil {
		return nil, err
	}
	renamespace(n, NS, stanza.NSClient)
	st, err := stanza.FromNode(n)
	if err != nil {
		return nil, err
	}
	if st.To.IsZero() || st.From.IsZero() {
		return nil, errors.New("component: stanza without to or from")
	}
	return st, nil
}

// renamespace moves n and its descendants from namespace old to new.
func renamespace(n *xmltok.Node, old, new string) {
	if n.Name.Space == old {
		n.Name.Space = new
	}
	for _, c := range n.Children {
		renamespace(c, old, new)
	}
}

func newConn(nc net.Conn, dec *xmltok.Decoder, domain jid.JID, queue int, log *slog.Logger) *Conn {
	if queue <= 0 {
		queue = defaultQueue
	}
	return &Conn{nc: nc, dec: dec, domain: domain, log: log, out: make(chan string, queue),
		quit: make(chan struct{}), done: make(chan struct{}), writerEnd: make(chan struct{})}
}

// checkHandshake compares the peer's handshake with the expected one in
// constant time.
func checkHandshake(got, streamID, secret string) bool {
	want := Handshake(streamID, secret)
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}
