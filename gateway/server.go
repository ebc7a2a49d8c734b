// Package gateway is the Junction server: it wires listeners, the router,
// the session manager and the IM features together, starts them in order
// and stops them in reverse.
package gateway

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"junction/config"
	"junction/gateway/admin"
	"junction/gateway/blocking"
	"junction/gateway/bus"
	"junction/gateway/offline"
	"junction/gateway/privatexml"
	"junction/gateway/register"
	"junction/gateway/roster"
	"junction/gateway/router"
	"junction/gateway/serverinfo"
	"junction/gateway/session"
	"junction/gateway/vcard"
	"junction/registry"
	"junction/xmpp/c2s"
	"junction/xmpp/component"
	"junction/xmpp/jid"
	"junction/xmpp/sasl"
	"junction/xmpp/stanza"
)

// capsNode names Junction in XEP-0115 capabilities.
const capsNode = "https://junction.im/caps"

// Options are what the binary passes besides the config.
type Options struct {
	Version string
	Logger  *slog.Logger
}

// Server is a running Junction.
type Server struct {
	cfg     *config.Config
	store   registry.Store
	log     *slog.Logger
	version string

	metrics   *Metrics
	sessions  *session.Manager
	roster    *roster.Service
	register  *register.Service
	blocking  *blocking.Service
	caps      string // XEP-0115 <c/> for stream features
	bus       *bus.Bus
	compSrv   *component.Server
	externals map[*component.Conn]*external
	disabled  map[string]bool // component domains disabled at run time
	admin     *admin.Server
	cfgPtr    atomic.Pointer[config.Config]
	// newBuiltin builds a built-in component of a kind ("muc") for a domain.
	newBuiltin func(kind string, domain jid.JID) (bus.Component, error)
	offline    *offline.Storage
	router     *router.Router
	c2s        *c2s.Server
	tls        *tls.Config

	mu        sync.Mutex
	addrs     map[string]net.Addr
	httpSrv   *http.Server
	serveErrs chan error
	wg        sync.WaitGroup
}

// New builds a server from cfg over store. It opens nothing: Start does.
func New(cfg *config.Config, store registry.Store, opt Options) (*Server, error) {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	hosts := make([]string, 0, len(cfg.Hosts))
	for _, h := range cfg.Hosts {
		d, err := jid.Parse(h.Domain)
		if err != nil || !d.IsDomain() {
			return nil, fmt.Errorf("hosts: %q is not a valid domain: %v", h.Domain, err)
		}
		hosts = append(hosts, d.Domainpart())
	}
	s := &Server{
		cfg:       cfg,
		store:     store,
		log:       opt.Logger,
		version:   opt.Version,
		sessions:  session.NewManager(),
		addrs:     make(map[string]net.Addr),
		serveErrs: make(chan error, 4),
	}
	s.metrics = newMetrics(s.sessions.Count)

	var openHosts []string
	for _, h := range cfg.Hosts {
		if h.Registration == "open" {
			openHosts = append(openHosts, h.Domain)
		}
	}
	s.register = register.New(store, openHosts, cfg.C2S.RegistrationsPerIPHour, s.kickDeleted, opt.Logger.With("component", "register"))
	serverIQ := router.NewIQMux(serverinfo.Ping(), serverinfo.Version("Junction", opt.Version), s.register)
	var rt *router.Router
	route := func(ctx context.Context, st *stanza.Stanza) { rt.Route(ctx, st) }
	s.bus = bus.New(route, opt.Logger.With("component", "bus"))
	s.externals = map[*component.Conn]*external{}
	s.disabled = map[string]bool{}
	s.newBuiltin = func(kind string, d jid.JID) (bus.Component, error) {
		return NewBuiltin(kind, d, store, opt.Logger, s.metrics.panics.Inc)
	}
	s.cfgPtr.Store(cfg)
	s.roster = roster.New(store, s.sessions, route, func(d string) bool { return rt.Hosted(d) }, opt.Logger.With("component", "roster"))
	s.offline = offline.New(store, 0, opt.Logger.With("component", "offline"))

	accountIQ := router.NewIQMux(serverinfo.Ping(), s.roster, vcard.New(store), privatexml.New(store))
	accountIQ.Add(router.NewCarbons(s.sessions)...)
	s.blocking = blocking.New(store, s.sessions, route, opt.Logger.With("component", "blocking"))
	accountIQ.Add(s.blocking.Handlers()...)
	// Clients look for account features (carbons, blocking…) on the server.
	serverDisco := serverinfo.DiscoSource{
		Identities: []serverinfo.Identity{{Category: "server", Type: "im", Name: "Junction"}},
		Features: func() []string {
			f := slices.Concat(serverIQ.Features(), accountIQ.Features(), s.offline.Features())
			slices.Sort(f)
			return slices.Compact(f)
		},
		CapsNode: capsNode,
		Items: func(ctx context.Context, req *stanza.Stanza) []serverinfo.Item {
			// A host lists its own components: its MUC service and every
			// component under its domain (irc.example.org for example.org).
			host := req.To.Domainpart()
			mucOf := ""
			for _, h := range s.config().Hosts {
				if h.Domain == host {
					mucOf = h.MUC
				}
			}
			var items []serverinfo.Item
			for _, d := range s.bus.Domains() {
				if d == mucOf || strings.HasSuffix(d, "."+host) {
					items = append(items, serverinfo.Item{JID: d})
				}
			}
			return items
		},
	}
	serverIQ.Add(serverinfo.Disco(serverDisco)...)
	s.caps = string(serverinfo.Caps(serverDisco).AppendXML(nil, "jabber:client"))

	rt = router.New(router.Config{
		Hosts:      hosts,
		Sessions:   s.sessions,
		Accounts:   store,
		ServerIQ:   serverIQ,
		AccountIQ:  accountIQ,
		Logger:     opt.Logger.With("component", "router"),
		Dropped:    func(reason string) { s.metrics.dropped.WithLabelValues(reason).Inc() },
		Roster:     s.roster,
		Offline:    s.offline,
		Blocking:   s.blocking,
		Components: s.bus,
	})
	s.router = rt
	return s, nil
}

// config is the configuration in effect.
func (s *Server) config() *config.Config { return s.cfgPtr.Load() }

// Router is the server's router.
func (s *Server) Router() *router.Router { return s.router }

// Metrics are the server's metrics.
func (s *Server) Metrics() *Metrics { return s.metrics }

// Addr returns the bound address of a listener: "c2s", "c2s_tls" or "metrics".
func (s *Server) Addr(name string) net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addrs[name]
}

// Errors delivers listener failures after Start.
func (s *Server) Errors() <-chan error { return s.serveErrs }

// Start loads TLS material, then opens the listeners.
func (s *Server) Start(ctx context.Context) error {
	if err := os.MkdirAll(s.cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data dir %s: %w", s.cfg.DataDir, err)
	}
	var hosts []string
	for _, h := range s.cfg.Hosts {
		hosts = append(hosts, h.Domain)
	}
	cert, generated, err := loadOrCreateCert(s.cfg.TLS.CertFile, s.cfg.TLS.KeyFile, s.cfg.DataDir, hosts)
	if err != nil {
		return err
	}
	if generated {
		s.log.Warn("generated a self-signed certificate; clients will ask to trust it", "dir", filepath.Join(s.cfg.DataDir, "tls"))
	}
	s.tls = &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"xmpp-client"},
	}
	secret, err := loadSecret(filepath.Join(s.cfg.DataDir, "sasl-secret"))
	if err != nil {
		return err
	}

	c := s.cfg.C2S
	s.c2s, err = c2s.NewServer(c2s.Config{
		Hosted:             s.router.Hosted,
		Credentials:        func(host string) sasl.CredentialStore { return credentials{store: s.store, host: host} },
		Handler:            (*c2sHandler)(s),
		TLS:                s.tls,
		RequireTLS:         c.RequireTLS,
		ServerEndPoint:     serverEndPoint(cert),
		SASLSecret:         secret,
		MaxStanzaBytes:     c.MaxStanzaBytes,
		NegotiationTimeout: c.NegotiationTimeout,
		IdleTimeout:        c.IdleTimeout,
		MaxAuthAttempts:    c.MaxAuthAttempts,
		QueueSize:          c.QueueSize,
		MaxConnsPerIP:      c.MaxConnsPerIP,
		Features: []string{
			"<ver xmlns='urn:xmpp:features:rosterver'/>",
			"<sub xmlns='urn:xmpp:features:pre-approval'/>",
			s.caps,
		},
		Registrar: s.register,
		Logger:    s.log.With("component", "c2s"),
		Observer:  c2sObserver{s.metrics},
	})
	if err != nil {
		return err
	}

	if s.cfg.Metrics.Listen != "" {
		ln, err := net.Listen("tcp", s.cfg.Metrics.Listen)
		if err != nil {
			return fmt.Errorf("metrics listener on %s: %w", s.cfg.Metrics.Listen, err)
		}
		s.setAddr("metrics", ln.Addr())
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(s.metrics.Registry, promhttp.HandlerOpts{}))
		s.httpSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		s.serve("metrics", func() error { return s.httpSrv.Serve(ln) })
	}
	if err := s.startBuiltins(ctx); err != nil {
		return err
	}
	if err := s.startAdmin(); err != nil {
		return err
	}
	if s.cfg.Components.Listen != "" {
		ln, err := net.Listen("tcp", s.cfg.Components.Listen)
		if err != nil {
			return fmt.Errorf("component listener on %s: %w", s.cfg.Components.Listen, err)
		}
		s.compSrv, err = component.NewServer(component.ServerConfig{
			Secret:         s.componentSecret,
			Attach:         s.attachExternal,
			Detach:         s.detachExternal,
			MaxStanzaBytes: c.MaxStanzaBytes,
			Logger:         s.log.With("component", "xep0114"),
		})
		if err != nil {
			ln.Close()
			return err
		}
		s.setAddr("components", ln.Addr())
		s.log.Info("listening", "listener", "components", "addr", ln.Addr().String())
		s.serve("components", func() error { return s.compSrv.Serve(ln) })
	}
	for _, l := range []struct {
		name, addr string
		direct     bool
	}{
		{"c2s", c.Listen, false},
		{"c2s_tls", c.DirectTLSListen, true},
	} {
		if l.addr == "" {
			continue
		}
		ln, err := net.Listen("tcp", l.addr)
		if err != nil {
			s.Shutdown(ctx)
			return fmt.Errorf("%s listener on %s: %w", l.name, l.addr, err)
		}
		s.setAddr(l.name, ln.Addr())
		s.log.Info("listening", "listener", l.name, "addr", ln.Addr().String())
		direct := l.direct
		s.serve(l.name, func() error { return s.c2s.Serve(ln, direct) })
	}
	return nil
}

func (s *Server) setAddr(name string, a net.Addr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addrs[name] = a
}

func (s *Server) serve(name string, f func() error) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		err := f()
		if err != nil && !errors.Is(err, c2s.ErrServerClosed) && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("listener failed", "listener", name, "err", err)
			select {
			case s.serveErrs <- fmt.Errorf("%s: %w", name, err):
			default:
			}
		}
	}()
}

// Shutdown closes the listeners, ends every stream with system-shutdown and
// waits (until ctx is done) for the connections to finish. The store is the
// caller's to close, after Shutdown.
func (s *Server) Shutdown(ctx context.Context) error {
	var errs []error
	if s.admin != nil {
		s.admin.Close()
	}
	if s.c2s != nil {
		if err := s.c2s.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if s.compSrv != nil {
		if err := s.compSrv.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if err := s.bus.Stop(ctx); err != nil {
		errs = append(errs, err)
	}
	if s.httpSrv != nil {
		if err := s.httpSrv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("metrics: %w", err))
		}
	}
	s.wg.Wait()
	return errors.Join(errs...)
}

// kickDeleted answers the removal of an account, then closes its sessions.
func (s *Server) kickDeleted(reply *stanza.Stanza, bare jid.JID) {
	s.router.Route(context.Background(), reply)
	s.blocking.Forget(bare)
	var buf [8]session.Snapshot
	for _, ss := range s.sessions.Sessions(buf[:0], bare) {
		ss.Conn.CloseWithError(c2s.NotAuthorized)
	}
}

// serverEndPoint is the tls-server-end-point channel binding of cert.
func serverEndPoint(cert tls.Certificate) []byte {
	leaf := cert.Leaf
	if leaf == nil && len(cert.Certificate) > 0 {
		leaf, _ = x509.ParseCertificate(cert.Certificate[0])
	}
	return sasl.TLSServerEndPoint(leaf)
}

// loadSecret reads the server's SASL secret, creating it on first start. It
// keys the fake credentials of unknown users, so it must survive restarts.
func loadSecret(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil && len(b) >= 32 {
		return b, nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	b = make([]byte, 32)
	rand.Read(b)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return b, nil
}

// credentials adapts the store to SASL for one host.
type credentials struct {
	store registry.Store
	host  string
}

func (c credentials) SCRAMKeys(ctx context.Context, username string, h sasl.Hash) (sasl.Keys, error) {
	a, err := c.store.Account(ctx, c.host, username)
	if errors.Is(err, registry.ErrNotFound) {
		return sasl.Keys{}, sasl.ErrUnknownUser
	}
	if err != nil {
		return sasl.Keys{}, fmt.Errorf("look up %s@%s: %w", username, c.host, err)
	}
	k := a.SHA256
	if h == sasl.SHA1 {
		k = a.SHA1
	}
	if len(k.StoredKey) == 0 {
		return sasl.Keys{}, sasl.ErrUnknownUser
	}
	return sasl.Keys{Salt: k.Salt, Iterations: k.Iterations, StoredKey: k.StoredKey, ServerKey: k.ServerKey}, nil
}

// c2sHandler is the server seen from client connections.
type c2sHandler Server

func (h *c2sHandler) Bind(ctx context.Context, c *c2s.Conn, resource string) (jid.JID, error) {
	if resource == "" {
		resource = session.NewResource()
	}
	full, err := c.User().WithResource(resource)
	if err != nil {
		return jid.JID{}, stanza.Errorf(stanza.Modify, stanza.BadRequest, "invalid resource")
	}
	b := boundConn{c, full}
	old, ok := h.sessions.Bind(b)
	if !ok {
		return jid.JID{}, stanza.Errorf(stanza.Wait, stanza.ResourceConstraint, "too many sessions for this account")
	}
	if old != nil {
		h.log.Info("resource replaced by a new login", "jid", full.String())
		old.CloseWithError(c2s.Conflict)
	}
	return full, nil
}

func (h *c2sHandler) Route(ctx context.Context, c *c2s.Conn, st *stanza.Stanza) {
	if st.Name == stanza.Message {
		h.router.FromClient(ctx, st)
		return
	}
	// Presence and iq may reach the store (roster, offline messages), whose
	// calls run deep. Done on a short-lived goroutine, that stack is freed
	// when it returns instead of staying with the session's reader for as
	// long as the session lasts. The reader waits, so order is kept.
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if r := recover(); r != nil {
				h.metrics.panics.Inc()
				h.log.Error("panic routing a stanza", "panic", r, "stack", string(debug.Stack()), "from", st.From.String())
				c.CloseWithError(c2s.InternalServerError)
			}
		}()
		h.router.FromClient(ctx, st)
	}()
	<-done
}

func (h *c2sHandler) Unbind(c *c2s.Conn) {
	if c.JID().IsZero() {
		return
	}
	gone := h.sessions.Unbind(boundConn{c, c.JID()})
	h.router.Unavailable(context.Background(), gone)
}

// boundConn is a c2s connection as the session manager sees it. It is
// comparable, so Unbind finds it by value.
type boundConn struct {
	*c2s.Conn
	full jid.JID
}

func (b boundConn) JID() jid.JID { return b.full }
