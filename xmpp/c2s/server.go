// Package c2s serves XMPP client connections (RFC 6120): STARTTLS and direct
// TLS (XEP-0368), SASL, resource binding, then one reader and one writer
// goroutine per session with a bounded outbound queue. It is protocol only:
// what a stanza means is the Handler's business.
package c2s

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"junction/xmpp/jid"
	"junction/xmpp/sasl"
	"junction/xmpp/stanza"
)

// Defaults for Config fields left zero.
const (
	defaultMaxStanzaBytes     = 256 << 10
	defaultNegotiationTimeout = 30 * time.Second
	defaultIdleTimeout        = 5 * time.Minute
	defaultMaxAuthAttempts    = 5
	defaultQueueSize          = 32
	// pingGrace is how long a silent client has to answer the server's
	// XEP-0199 ping before the stream closes with connection-timeout.
	pingGrace = 30 * time.Second
	// writeTimeout bounds one flush to a client; a client that does not read
	// for this long is gone.
	writeTimeout = 30 * time.Second
	// closeGrace is how long we wait for the client's </stream:stream>
	// after sending ours.
	closeGrace = 2 * time.Second
)

// Handler is what a bound session talks to: the server's session manager
// and router.
type Handler interface {
	// Bind makes c a session of c.User() with the requested resource ("" lets
	// the server choose) and returns its full JID. A *stanza.Error is sent to
	// the client as the bind error.
	Bind(ctx context.Context, c *Conn, resource string) (jid.JID, error)
	// Route handles a stanza from the bound session c; st.From is c's full JID.
	Route(ctx context.Context, c *Conn, st *stanza.Stanza)
	// Unbind is called once when a bound session's connection has closed.
	Unbind(c *Conn)
}

// Observer receives the events that metrics count. Methods must not block.
type Observer interface {
	ConnOpened(directTLS bool)
	ConnClosed()
	StanzaIn()
	StanzaOut(n int)
	AuthFailure(mechanism string)
	QueueOverflow()
	// Panic counts a recovered panic in a connection goroutine.
	Panic()
}

// Config is what a Server needs. Hosted, Credentials and Handler are required.
type Config struct {
	// Hosted reports whether domain is served here.
	Hosted func(domain string) bool
	// Credentials returns the SCRAM credential store of a hosted domain.
	Credentials func(domain string) sasl.CredentialStore
	Handler     Handler
	TLS         *tls.Config // nil disables STARTTLS and direct TLS
	RequireTLS  bool
	// ServerEndPoint is the RFC 5929 tls-server-end-point channel binding
	// of the certificate served (sasl.TLSServerEndPoint of the leaf).
	ServerEndPoint []byte
	// SASLSecret keys the fake credentials of unknown users.
	SASLSecret         []byte
	MaxStanzaBytes     int
	NegotiationTimeout time.Duration
	IdleTimeout        time.Duration
	MaxAuthAttempts    int
	QueueSize          int
	MaxConnsPerIP      int // 0: unlimited
	// Registrar, when set, offers in-band registration (XEP-0077) before
	// authentication on hosts where it is open.
	Registrar Registrar
	// Features are extra stream features (serialized XML) offered after
	// authentication, next to bind, e.g. roster versioning.
	Features []string
	Logger   *slog.Logger
	Observer Observer
}

func (c *Config) setDefaults() {
	if c.MaxStanzaBytes == 0 {
		c.MaxStanzaBytes = defaultMaxStanzaBytes
	}
	if c.NegotiationTimeout == 0 {
		c.NegotiationTimeout = defaultNegotiationTimeout
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = defaultIdleTimeout
	}
	if c.MaxAuthAttempts == 0 {
		c.MaxAuthAttempts = defaultMaxAuthAttempts
	}
	if c.QueueSize == 0 {
		c.QueueSize = defaultQueueSize
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Observer == nil {
		c.Observer = nopObserver{}
	}
}

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("c2s: server closed")

// Server accepts client connections on any number of listeners.
type Server struct {
	cfg Config
	// maxSpillBytes bounds what may wait beyond the queue per connection.
	maxSpillBytes int

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*Conn]struct{}
	perIP     map[netip.Addr]int
	closing   bool
	wg        sync.WaitGroup
}

// NewServer checks cfg and returns a Server that is not yet listening.
func NewServer(cfg Config) (*Server, error) {
	if cfg.Hosted == nil || cfg.Credentials == nil || cfg.Handler == nil {
		return nil, errors.New("c2s: Hosted, Credentials and Handler are required")
	}
	if cfg.RequireTLS && cfg.TLS == nil {
		return nil, errors.New("c2s: RequireTLS without a TLS config")
	}
	cfg.setDefaults()
	return &Server{
		cfg:           cfg,
		maxSpillBytes: max(2*cfg.MaxStanzaBytes, 256<<10),
		listeners:     make(map[net.Listener]struct{}),
		conns:         make(map[*Conn]struct{}),
		perIP:         make(map[netip.Addr]int),
	}, nil
}

// Serve accepts connections on ln until Shutdown; with directTLS every
// connection starts with a TLS handshake (XEP-0368).
func (s *Server) Serve(ln net.Listener, directTLS bool) error {
	if directTLS && s.cfg.TLS == nil {
		return errors.New("c2s: direct TLS without a TLS config")
	}
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()

	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			closing := s.closing
			s.mu.Unlock()
			if closing {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, errTooManyFiles) {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.cfg.Logger.Warn("accept failed, retrying", "err", err, "in", backoff)
				time.Sleep(backoff)
				continue
			}
			return fmt.Errorf("c2s: accept on %s: %w", ln.Addr(), err)
		}
		backoff = 0
		if !s.admit(nc) {
			continue
		}
		go s.serveConn(nc, directTLS)
	}
}

// admit registers a new socket, enforcing the per-IP limit.
func (s *Server) admit(nc net.Conn) bool {
	ip := remoteIP(nc)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		nc.Close()
		return false
	}
	if s.cfg.MaxConnsPerIP > 0 && s.perIP[ip] >= s.cfg.MaxConnsPerIP {
		s.cfg.Logger.Warn("connection refused: too many from one address", "ip", ip)
		go refuse(nc, "too many connections from your address")
		return false
	}
	s.perIP[ip]++
	s.wg.Add(1)
	return true
}

func (s *Server) release(c *Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	if s.perIP[c.ip]--; s.perIP[c.ip] <= 0 {
		delete(s.perIP, c.ip)
	}
	s.wg.Done()
}

func (s *Server) track(c *Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

// Shutdown stops accepting, closes every stream with system-shutdown, and
// waits for the connections to finish until ctx is done.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	for ln := range s.listeners {
		ln.Close()
	}
	conns := make([]*Conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()

	for _, c := range conns {
		c.CloseWithError(SystemShutdown)
	}
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		for c := range s.conns {
			c.nc.Close()
		}
		s.mu.Unlock()
		return fmt.Errorf("c2s: shutdown: %w", ctx.Err())
	}
}

func (s *Server) serveConn(nc net.Conn, directTLS bool) {
	c := newConn(s, nc)
	if !s.track(c) {
		nc.Close()
		s.release(c)
		return
	}
	s.cfg.Observer.ConnOpened(directTLS)
	handedOff := false
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("panic in client connection", "panic", r, "stack", stackTrace())
			s.cfg.Observer.Panic()
			nc.Close()
			handedOff = false
		}
		if !handedOff {
			// The session goroutines did not take over: this connection ends here.
			s.cfg.Observer.ConnClosed()
			s.release(c)
		}
	}()
	handedOff = c.negotiate(directTLS)
}

func remoteIP(nc net.Conn) netip.Addr {
	if ta, ok := nc.RemoteAddr().(*net.TCPAddr); ok {
		a, _ := netip.AddrFromSlice(ta.IP)
		return a.Unmap()
	}
	return netip.Addr{}
}

type nopObserver struct{}

func (nopObserver) ConnOpened(bool)    {}
func (nopObserver) ConnClosed()        {}
func (nopObserver) StanzaIn()          {}
func (nopObserver) StanzaOut(int)      {}
func (nopObserver) AuthFailure(string) {}
func (nopObserver) Panic()             {}
func (nopObserver) QueueOverflow()     {}
