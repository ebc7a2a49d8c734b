package c2s

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"junction/xmpp/jid"
	"junction/xmpp/stanza"
	"junction/xmpp/stream"
	"junction/xmpp/xmltok"
)

// Errors returned by Send.
var (
	ErrClosed    = errors.New("c2s: connection closed")
	ErrQueueFull = errors.New("c2s: outbound queue full")
)

var errTooManyFiles = syscall.EMFILE

// Stream error conditions a caller may close a session with.
const (
	Conflict        = stream.Conflict
	SystemShutdown  = stream.SystemShutdown
	PolicyViolation = stream.PolicyViolation
	NotAuthorized   = stream.NotAuthorized
	// InternalServerError closes a stream after a server fault.
	InternalServerError = stream.InternalServerError
)

// Conn is one client connection. After binding, its reader goroutine hands
// stanzas to the Handler and its writer goroutine drains a bounded queue.
type Conn struct {
	srv *Server
	id  string
	log *slog.Logger
	ip  netip.Addr

	nc      net.Conn // the socket, or the TLS connection over it
	rd      *deadlineReader
	dec     *xmltok.Decoder
	tls     bool
	host    string  // the domain the client asked for
	user    jid.JID // bare JID once authenticated
	full    jid.JID // full JID once bound
	lang    string
	started time.Time

	ctx    context.Context
	cancel context.CancelFunc

	out        chan *stanza.Stanza
	mu         sync.Mutex       // guards spill
	spill      []*stanza.Stanza // overflow of out, in order
	spillBytes int
	quit       chan struct{} // closed when the stream must close
	closeOnce  sync.Once
	closeErr   atomic.Pointer[stream.Error] // stream error to send on close, if any
	writerEnd  chan struct{}                // closed when the writing side is done
	writerOnce sync.Once
	writing    atomic.Bool // a writer goroutine is running
	bound      atomic.Bool
}

func newConn(s *Server, nc net.Conn) *Conn {
	ctx, cancel := context.WithCancel(context.Background())
	c := &Conn{
		srv:       s,
		ip:        remoteIP(nc),
		nc:        nc,
		started:   time.Now(),
		ctx:       ctx,
		cancel:    cancel,
		out:       make(chan *stanza.Stanza, s.cfg.QueueSize),
		quit:      make(chan struct{}),
		writerEnd: make(chan struct{}),
	}
	c.id = connID()
	c.log = s.cfg.Logger.With("conn", c.id, "remote", nc.RemoteAddr().String())
	return c
}

func connID() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// JID is the session's full JID (zero before binding).
func (c *Conn) JID() jid.JID { return c.full }

// User is the authenticated bare JID (zero before authentication).
func (c *Conn) User() jid.JID { return c.user }

// Context is done when the connection has closed.
func (c *Conn) Context() context.Context { return c.ctx }

// Logger is the connection's logger.
func (c *Conn) Logger() *slog.Logger { return c.log }

// RemoteAddr is the client's address.
func (c *Conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// SendRaw queues serialized XML for the client; see Send.
func (c *Conn) SendRaw(s string) error { return c.Send(&stanza.Stanza{Raw: s}) }

// SendWait queues st, waiting for room in the queue until ctx is done. It
// is for senders that may wait (offline delivery at login), never for the
// router.
func (c *Conn) SendWait(ctx context.Context, st *stanza.Stanza) error {
	c.mu.Lock()
	spilled := len(c.spill) > 0
	c.mu.Unlock()
	if spilled {
		// Keep order behind what already spilled over.
		return c.Send(st)
	}
	select {
	case c.out <- st:
		c.kick()
		return nil
	case <-c.quit:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Send hands st to the writer. It never blocks. A burst larger than the
// queue (joining a busy room) spills into a list bounded in bytes; a client
// that lets even that fill up cannot keep up, so the stream closes with
// policy-violation.
func (c *Conn) Send(st *stanza.Stanza) error {
	select {
	case <-c.quit:
		return ErrClosed
	default:
	}
	c.mu.Lock()
	if len(c.spill) == 0 {
		select {
		case c.out <- st:
			c.mu.Unlock()
			c.kick()
			return nil
		default:
		}
	}
	if c.spillBytes+len(st.Raw) > c.srv.maxSpillBytes {
		c.mu.Unlock()
		c.srv.cfg.Observer.QueueOverflow()
		c.log.Warn("client too slow, closing", "queue", cap(c.out), "spilled_bytes", c.spillBytes)
		c.closeWith(&stream.Error{Condition: stream.PolicyViolation, Text: "too many unread stanzas"})
		// The writer may be stuck on a full socket: make its flush fail soon.
		c.nc.SetWriteDeadline(time.Now().Add(time.Second))
		return ErrQueueFull
	}
	c.spill = append(c.spill, st)
	c.spillBytes += len(st.Raw)
	c.mu.Unlock()
	c.kick()
	return nil
}

func (c *Conn) spilled() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.spill) > 0
}

// takeSpill returns and clears what spilled over.
func (c *Conn) takeSpill() []*stanza.Stanza {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.spill
	c.spill, c.spillBytes = nil, 0
	return s
}

// CloseWithError closes the stream with the given stream error condition
// (after what is already queued). It does not wait.
func (c *Conn) CloseWithError(condition string) {
	c.closeWith(&stream.Error{Condition: condition})
}

// Close closes the stream cleanly with </stream:stream>.
func (c *Conn) Close() { c.closeWith(nil) }

func (c *Conn) closeWith(e *stream.Error) {
	c.closeOnce.Do(func() {
		if e != nil {
			c.closeErr.Store(e)
		}
		close(c.quit)
		if !c.bound.Load() {
			// The negotiating goroutine is blocked reading: wake it.
			c.nc.SetReadDeadline(time.Now())
			return
		}
		c.kick()
	})
}

// kick makes sure a writer goroutine is draining the queue. Writers exist
// only while there is something to write: an idle session holds no writer
// goroutine and no write buffer.
func (c *Conn) kick() {
	if !c.bound.Load() {
		return // negotiation writes for itself; runSession kicks
	}
	if c.writing.CompareAndSwap(false, true) {
		c.srv.wg.Add(1)
		go c.writeLoop()
	}
}

func (c *Conn) closing() bool {
	select {
	case <-c.quit:
		return true
	default:
		return false
	}
}

// writeNow writes during negotiation, before the writer goroutine exists.
func (c *Conn) writeNow(b []byte) error {
	c.nc.SetWriteDeadline(time.Now().Add(writeTimeout))
	_, err := c.nc.Write(b)
	return err
}

// failNegotiation ends a stream that is still negotiating: our header if
// not yet sent, the stream error, the close tag.
func (c *Conn) failNegotiation(headerSent bool, e *stream.Error) {
	var b []byte
	if !headerSent {
		b = c.header().AppendOpen(b)
	}
	if e != nil {
		b = e.AppendXML(b)
		c.log.Info("stream error during negotiation", "condition", e.Condition, "text", e.Text)
	}
	b = append(b, stream.Close...)
	c.writeNow(b)
	c.nc.Close()
	c.cancel()
}

func (c *Conn) header() stream.Header {
	return stream.Header{NS: stanza.NSClient, From: c.host, ID: connID() + connID(), Lang: "en"}
}

// runSession starts fresh reader and writer goroutines for the bound
// session (so the negotiation's grown stack is dropped) and returns.
func (c *Conn) runSession() {
	c.srv.wg.Add(1)
	go c.readLoop()
	c.kick()
}

func (c *Conn) readLoop() {
	defer c.srv.wg.Done()
	defer c.finish()
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("panic in client reader", "panic", r, "stack", stackTrace())
			c.srv.cfg.Observer.Panic()
		}
	}()
	c.rd.session(c.srv.cfg.IdleTimeout, c.pingOnIdle)
	// An idle session holds no read buffer (TLS keeps what has arrived).
	c.dec.SetReleaseIdle(true)
	h := c.srv.cfg.Handler
	for {
		el, err := c.dec.ReadElement()
		if err != nil {
			c.readFailed(err)
			return
		}
		if el.Space != stanza.NSClient {
			c.closeWith(&stream.Error{Condition: stream.InvalidNamespace})
			return
		}
		st, err := stanza.FromElement(el, c.full)
		if err != nil {
			var se *stanza.Error
			if errors.As(err, &se) && st != nil {
				if reply := stanza.ErrorReply(st, se); reply != nil {
					c.Send(reply)
				}
				continue
			}
			var xe *xmltok.Error
			if errors.As(err, &xe) {
				c.closeWith(stream.ErrorFromXML(xe))
			} else {
				c.closeWith(&stream.Error{Condition: stream.UnsupportedStanzaType})
			}
			return
		}
		c.srv.cfg.Observer.StanzaIn()
		if st.Name == stanza.IQ && st.Type == "set" && st.To.IsZero() && isSessionIQ(el.Raw) {
			c.Send(stanza.New(stanza.IQ, jid.JID{}, c.full, "result", st.ID))
			continue
		}
		h.Route(c.ctx, c, st)
	}
}

// readFailed decides how the stream ends after the reader stopped.
func (c *Conn) readFailed(err error) {
	var xe *xmltok.Error
	switch {
	case errors.Is(err, xmltok.ErrStreamEnd):
		c.closeWith(nil)
	case errors.As(err, &xe):
		c.closeWith(stream.ErrorFromXML(xe))
	case errors.Is(err, errIdle):
		c.closeWith(&stream.Error{Condition: stream.ConnectionTimeout})
	default:
		if !c.closing() {
			c.log.Debug("client connection lost", "err", err)
		}
		c.closeWith(nil)
	}
}

// finish runs when the reader exits: wait for the writer to say goodbye,
// close the socket, and tell the handler.
func (c *Conn) finish() {
	c.closeWith(nil)
	select {
	case <-c.writerEnd:
	case <-time.After(writeTimeout):
	}
	c.nc.Close()
	c.cancel()
	c.srv.cfg.Handler.Unbind(c)
	c.srv.cfg.Observer.ConnClosed()
	c.srv.release(c)
	c.log.Info("session closed", "duration", time.Since(c.started).Round(time.Millisecond))
}

var writerPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 4096) }}

// writeLoop drains the queue, one flush per batch, and exits when the queue
// is empty (kick starts another when something is queued). The writer that
// sees the stream closing writes the goodbye.
func (c *Conn) writeLoop() {
	defer c.srv.wg.Done()
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("panic in client writer", "panic", r, "stack", stackTrace())
			c.srv.cfg.Observer.Panic()
			c.failWriter()
		}
	}()
	w := writerPool.Get().(*bufio.Writer)
	w.Reset(c.nc)
	defer func() {
		w.Reset(nil)
		writerPool.Put(w)
	}()
	obs := c.srv.cfg.Observer
	for {
		if c.closing() {
			c.writeClose(w)
			return
		}
		n := 0
	drain:
		for {
			select {
			case st := <-c.out:
				w.WriteString(st.Raw)
				n++
			default:
				break drain
			}
		}
		// What spilled over is newer than everything that was in the queue.
		for _, st := range c.takeSpill() {
			w.WriteString(st.Raw)
			n++
		}
		if n > 0 {
			obs.StanzaOut(n)
			c.nc.SetWriteDeadline(time.Now().Add(writeTimeout))
			if err := w.Flush(); err != nil {
				c.log.Debug("write to client failed", "err", err)
				c.failWriter()
				return
			}
			continue
		}
		// Nothing left: give the goroutine up, unless a stanza or the close
		// arrived between the drain and now and no other writer took it.
		c.writing.Store(false)
		if len(c.out) == 0 && !c.spilled() && !c.closing() {
			return
		}
		if !c.writing.CompareAndSwap(false, true) {
			return
		}
	}
}

// writeClose writes what is still queued, the stream error if any and the
// closing tag, then gives the client a moment to close its side.
func (c *Conn) writeClose(w *bufio.Writer) {
	defer c.endWriter()
	for {
		select {
		case st := <-c.out:
			w.WriteString(st.Raw)
			continue
		default:
		}
		break
	}
	for _, st := range c.takeSpill() {
		w.WriteString(st.Raw)
	}
	var b []byte
	if e := c.closeErr.Load(); e != nil {
		b = e.AppendXML(b)
		c.log.Info("closing stream with error", "condition", e.Condition, "text", e.Text)
	}
	w.Write(append(b, stream.Close...))
	c.nc.SetWriteDeadline(time.Now().Add(closeGrace))
	w.Flush()
	// Give the client a moment to send its own </stream:stream>.
	c.nc.SetReadDeadline(time.Now().Add(closeGrace))
}

// failWriter ends the connection after a failed write.
func (c *Conn) failWriter() {
	c.closeWith(nil)
	c.nc.Close()
	c.endWriter()
}

// endWriter marks the writing side finished, once; the writing flag stays
// set so no writer starts again.
func (c *Conn) endWriter() {
	c.writerOnce.Do(func() { close(c.writerEnd) })
}

func (c *Conn) pingOnIdle() {
	c.SendRaw("<iq type='get' id='c2s-ping-" + strconv.FormatInt(time.Now().Unix(), 10) + "' from='" + c.host + "'><ping xmlns='" + stream.NSPing + "'/></iq>")
}

func isSessionIQ(raw []byte) bool {
	return bytes.Contains(raw, []byte(stream.NSSession))
}

var errIdle = errors.New("c2s: idle timeout")

// deadlineReader is the reader under the decoder. During negotiation one
// absolute deadline applies. In a session every read that returns data
// pushes the idle deadline out (whitespace keepalives count), and the first
// idle timeout sends a ping instead of failing, so the decoder never sees a
// timeout it could not recover from.
type deadlineReader struct {
	r      io.Reader
	nc     net.Conn
	idle   time.Duration
	onIdle func()
	pinged bool
	stop   <-chan struct{}
}

func (d *deadlineReader) session(idle time.Duration, onIdle func()) {
	d.idle, d.onIdle = idle, onIdle
	d.nc.SetReadDeadline(time.Now().Add(idle))
}

func (d *deadlineReader) Read(p []byte) (int, error) {
	for {
		n, err := d.r.Read(p)
		if d.idle == 0 {
			return n, err
		}
		if n > 0 {
			d.pinged = false
			d.nc.SetReadDeadline(time.Now().Add(d.idle))
			return n, err
		}
		if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
			select {
			case <-d.stop:
				return 0, err // closing: the deadline was ours
			default:
			}
			if !d.pinged {
				d.pinged = true
				d.onIdle()
				d.nc.SetReadDeadline(time.Now().Add(pingGrace))
				continue
			}
			return 0, errIdle
		}
		return n, err
	}
}

func stackTrace() string { return string(debug.Stack()) }

// refuse answers a connection we will not serve and closes it.
func refuse(nc net.Conn, text string) {
	defer nc.Close()
	var b []byte
	b = stream.Header{NS: stanza.NSClient}.AppendOpen(b)
	b = (&stream.Error{Condition: stream.PolicyViolation, Text: text}).AppendXML(b)
	b = append(b, stream.Close...)
	nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	nc.Write(b)
}
