package component

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"junction/xmpp/jid"
	"junction/xmpp/stanza"
	"junction/xmpp/stream"
	"junction/xmpp/xmltok"
)

// ErrConflict is what Attach returns when the domain is taken; the new
// connection is refused with a conflict stream error and the one already
// attached keeps working.
var ErrConflict = errors.New("component: domain already connected")

// ServerConfig configures the accepting side.
type ServerConfig struct {
	// Secret returns the shared secret of a component domain; ok is false
	// for domains not configured.
	Secret func(domain string) (secret string, ok bool)
	// Attach puts an authenticated connection on the bus and returns the
	// handler for its inbound stanzas; ErrConflict refuses it.
	Attach func(c *Conn) (handle func(*stanza.Stanza) error, err error)
	// Detach is called once when an attached connection has ended.
	Detach             func(c *Conn)
	MaxStanzaBytes     int
	QueueSize          int
	NegotiationTimeout time.Duration
	Logger             *slog.Logger
}

// Server accepts XEP-0114 component connections.
type Server struct {
	cfg ServerConfig

	mu      sync.Mutex
	lns     []net.Listener
	conns   map[*Conn]struct{}
	closing bool
	wg      sync.WaitGroup
}

// NewServer returns a Server; Secret and Attach are required.
func NewServer(cfg ServerConfig) (*Server, error) {
	if cfg.Secret == nil || cfg.Attach == nil {
		return nil, errors.New("component: Secret and Attach are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.NegotiationTimeout == 0 {
		cfg.NegotiationTimeout = defaultNegotiation
	}
	return &Server{cfg: cfg, conns: map[*Conn]struct{}{}}, nil
}

// Serve accepts on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	s.lns = append(s.lns, ln)
	s.mu.Unlock()
	for {
		nc, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			closing := s.closing
			s.mu.Unlock()
			if closing {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("component: accept: %w", err)
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serve(nc)
		}()
	}
}

// Shutdown closes the listeners and every component stream with
// system-shutdown, waiting until ctx is done.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	for _, ln := range s.lns {
		ln.Close()
	}
	for c := range s.conns {
		c.Close(stream.SystemShutdown)
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("component: shutdown: %w", ctx.Err())
	}
}

func (s *Server) serve(nc net.Conn) {
	log := s.cfg.Logger.With("remote", nc.RemoteAddr().String())
	defer func() {
		if r := recover(); r != nil {
			log.Error("panic in component negotiation", "panic", r)
			nc.Close()
		}
	}()
	nc.SetDeadline(time.Now().Add(s.cfg.NegotiationTimeout))
	dec := xmltok.NewDecoder(nc, xmltok.Options{MaxElementBytes: s.cfg.MaxStanzaBytes})
	var idb [12]byte
	rand.Read(idb[:])
	id := hex.EncodeToString(idb[:])
	headerSent := false
	fail := func(cond, text string) {
		var b []byte
		if !headerSent {
			b = stream.Header{NS: NS, ID: id}.AppendOpen(b)
		}
		b = (&stream.Error{Condition: cond, Text: text}).AppendXML(b)
		b = append(b, stream.Close...)
		nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
		nc.Write(b)
		nc.Close()
		log.Info("component refused", "condition", cond, "text", text)
	}
	h, err := dec.ReadStreamHeader()
	if err != nil {
		var xe *xmltok.Error
		if errors.As(err, &xe) {
			fail(xe.Condition, "")
		} else {
			nc.Close()
		}
		return
	}
	if h.Name.Space != xmltok.NSStream || h.Name.Local != "stream" || h.DefaultNS != NS {
		fail(stream.InvalidNamespace, "expected a jabber:component:accept stream")
		return
	}
	to := stream.Attr(h.Attrs, "to")
	domain, err := jid.Parse(to)
	secret, ok := s.cfg.Secret(domain.Domainpart())
	if err != nil || !domain.IsDomain() || !ok {
		fail(stream.HostUnknown, "no component is configured for "+to)
		return
	}
	if _, err := nc.Write(stream.Header{NS: NS, From: domain.Domainpart(), ID: id}.AppendOpen(nil)); err != nil {
		nc.Close()
		return
	}
	headerSent = true
	el, err := dec.ReadElement()
	if err != nil {
		var xe *xmltok.Error
		if errors.As(err, &xe) {
			fail(xe.Condition, "")
		} else if isTimeout(err) {
			fail(stream.ConnectionTimeout, "")
		} else {
			nc.Close()
		}
		return
	}
	if el.Space != NS || el.Local != "handshake" {
		fail(stream.NotAuthorized, "handshake first")
		return
	}
	n, err := el.Node()
	if err != nil || !checkHandshake(n.Text, id, secret) {
		fail(stream.NotAuthorized, "wrong handshake")
		return
	}
	c := newConn(nc, dec, domain, s.cfg.QueueSize, log.With("component", domain.Domainpart()))
	handle, err := s.cfg.Attach(c)
	if err != nil {
		if errors.Is(err, ErrConflict) {
			fail(stream.Conflict, domain.Domainpart()+" is already connected")
		} else {
			fail(stream.InternalServerError, "")
			log.Error("attach component", "err", err)
		}
		return
	}
	if _, err := nc.Write([]byte("<handshake/>")); err != nil {
		nc.Close()
		if s.cfg.Detach != nil {
			s.cfg.Detach(c)
		}
		return
	}
	nc.SetDeadline(time.Time{})
	s.mu.Lock()
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	log.Info("component connected", "domain", domain.Domainpart())
	c.run(handle)
	<-c.Done()
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	if s.cfg.Detach != nil {
		s.cfg.Detach(c)
	}
	log.Info("component disconnected", "domain", domain.Domainpart())
}

func isTimeout(err error) bool {
	var ne interface{ Timeout() bool }
	return errors.As(err, &ne) && ne.Timeout()
}
