package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"junction/xmpp/stream"
	"junction/xmpp/xmltok"
)

// Sizes of a session's buffers and limits on what it reads.
const (
	writeBufBytes  = 16 << 10
	maxElemBytes   = 1 << 20
	closeWaitLimit = 2 * time.Second
)

// Raw byte patterns the reader looks for without parsing trees.
var (
	nsPingBytes   = []byte(stream.NSPing)
	nsRosterBytes = []byte("jabber:iq:roster")
	attrID        = []byte("id")
	attrType      = []byte("type")
)

// session is one logged-in client stream. After login, one reader
// goroutine (run) owns the decoder; writes go through w under wmu, from
// any goroutine.
type session struct {
	full    string // the full JID the server bound
	nc      net.Conn
	dec     *xmltok.Decoder
	timeout time.Duration

	wmu  sync.Mutex
	w    *bufio.Writer
	werr error // first write error, sticky

	closing  atomic.Bool
	errMsg   atomic.Pointer[string] // why the stream ended, if not by us
	pingResp []byte                 // owned by the reader goroutine
}

// handler gets the message stanzas a session's reader sees. It runs on the
// reader goroutine; el is valid only during the call. batchEnd is called
// when the reader has no more buffered input, before it blocks.
type handler interface {
	message(s *session, el *xmltok.Element, now int64)
	batchEnd(s *session)
}

// write appends b to the session's buffer; it does not flush.
func (s *session) write(b []byte) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return s.writeLocked(b)
}

func (s *session) writeLocked(b []byte) error {
	if s.werr != nil {
		return s.werr
	}
	if s.w.Available() < len(b) && s.w.Buffered() > 0 {
		s.nc.SetWriteDeadline(time.Now().Add(s.timeout))
	}
	if _, err := s.w.Write(b); err != nil {
		s.werr = fmt.Errorf("write to %s: %w", s.full, err)
	}
	return s.werr
}

// flush writes out what is buffered.
func (s *session) flush() error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return s.flushLocked()
}

func (s *session) flushLocked() error {
	if s.werr != nil {
		return s.werr
	}
	if s.w.Buffered() == 0 {
		return nil
	}
	s.nc.SetWriteDeadline(time.Now().Add(s.timeout))
	if err := s.w.Flush(); err != nil {
		s.werr = fmt.Errorf("write to %s: %w", s.full, err)
	}
	return s.werr
}

// send writes b and flushes.
func (s *session) send(b []byte) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if err := s.writeLocked(b); err != nil {
		return err
	}
	return s.flushLocked()
}

// run reads stanzas until the stream ends or the connection is closed. It
// answers XEP-0199 pings and IQ requests, hands messages to h and skips
// everything else. When the stream ends while the session was not being
// closed, the reason is kept for err.
func (s *session) run(h handler, now func() int64) {
	for {
		el, err := s.dec.ReadElement()
		if err != nil {
			s.ended(err)
			return
		}
		switch el.Local {
		case "message":
			if h != nil {
				h.message(s, el, now())
			}
		case "iq":
			s.iq(el)
		case "error":
			if el.Space == xmltok.NSStream {
				s.ended(fmt.Errorf("stream error from server: %s", streamErrorCondition(el)))
				return
			}
		}
		if s.dec.Buffered() == 0 {
			if h != nil {
				h.batchEnd(s)
			}
		}
	}
}

// ended records why the reader stopped, unless we closed the session.
func (s *session) ended(err error) {
	if s.closing.Load() {
		return
	}
	msg := fmt.Sprintf("%s: stream ended: %v", s.full, err)
	if errors.Is(err, xmltok.ErrStreamEnd) {
		msg = s.full + ": server closed the stream"
	}
	s.errMsg.CompareAndSwap(nil, &msg)
}

// err returns why the stream ended by itself, or nil.
func (s *session) err() error {
	if p := s.errMsg.Load(); p != nil {
		return errors.New(*p)
	}
	return nil
}

// iq answers requests as a polite client does: a ping or a roster push
// with a result, anything else with service-unavailable. Results are
// ignored.
func (s *session) iq(el *xmltok.Element) {
	typ := rawAttr(el, attrType)
	if !bytes.Equal(typ, []byte("get")) && !bytes.Equal(typ, []byte("set")) {
		return
	}
	payload := el.Raw[el.StartEnd:]
	ok := bytes.Equal(typ, []byte("get")) && bytes.Contains(payload, nsPingBytes) ||
		bytes.Equal(typ, []byte("set")) && bytes.Contains(payload, nsRosterBytes)
	b := s.pingResp[:0]
	if ok {
		b = append(b, "<iq type='result'"...)
	} else {
		b = append(b, "<iq type='error'"...)
	}
	if from := rawAttr(el, []byte("from")); from != nil {
		b = append(b, " to='"...)
		b = xmltok.EscapeAttr(b, string(from))
		b = append(b, '\'')
	}
	b = append(b, " id='"...)
	b = xmltok.EscapeAttr(b, string(rawAttr(el, attrID)))
	if ok {
		b = append(b, "'/>"...)
	} else {
		b = append(b, "'><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"...)
	}
	s.pingResp = b
	s.send(b)
}

// rawAttr returns the value of the un-namespaced attribute name of el, or nil.
func rawAttr(el *xmltok.Element, name []byte) []byte {
	for i := range el.Attrs {
		a := &el.Attrs[i]
		if a.Space == "" && bytes.Equal(a.Local, name) {
			return a.Value
		}
	}
	return nil
}

// streamErrorCondition returns the condition element's name of a stream error.
func streamErrorCondition(el *xmltok.Element) string {
	n, err := el.Node()
	if err != nil {
		return "unreadable"
	}
	cond, text := "", ""
	for _, ch := range n.Children {
		if ch.Name.Local == "text" {
			text = ch.Text
		} else if cond == "" {
			cond = ch.Name.Local
		}
	}
	if text != "" {
		return cond + " (" + text + ")"
	}
	return cond
}

// close ends the stream politely and closes the connection without
// waiting for the server's answer beyond a short bound.
func (s *session) close() {
	if s.closing.Swap(true) {
		return
	}
	s.wmu.Lock()
	if s.werr == nil {
		s.nc.SetWriteDeadline(time.Now().Add(closeWaitLimit))
		s.w.WriteString(stream.Close)
		s.w.Flush()
	}
	s.werr = errors.New("session closed")
	s.wmu.Unlock()
	if tc, ok := s.nc.(*tls.Conn); ok {
		// Skip the close_notify alert's write deadline wait.
		tc.NetConn().Close()
		return
	}
	s.nc.Close()
}
