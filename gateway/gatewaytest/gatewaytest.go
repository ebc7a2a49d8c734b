// Package gatewaytest runs a whole Junction on 127.0.0.1 with a temporary
// data directory, for tests, and logs in test clients.
package gatewaytest

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"junction/config"
	"junction/gateway"
	"junction/registry"
	"junction/registry/sqlite"
	"junction/xmpp/jid"
	"junction/xmpp/sasl"
	"junction/xmpp/xmltok"
	"junction/xmpp/xmpptest"
)

// Server is a running test server.
type Server struct {
	*gateway.Server
	Config *config.Config
	Store  registry.Store
	Host   string
	log    *logBuffer
}

// Option changes the configuration before start.
type Option func(*config.Config)

// Start runs a server for host "localhost" on free loopback ports and stops
// it when the test ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.C2S.Listen = "127.0.0.1:0"
	cfg.C2S.DirectTLSListen = "127.0.0.1:0"
	cfg.Metrics.Listen = "127.0.0.1:0"
	for _, o := range opts {
		o(cfg)
	}
	ctx := context.Background()
	store, err := sqlite.Open(ctx, cfg.StorePath())
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	lb := &logBuffer{t: t}
	log := slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := gateway.New(cfg, store, gateway.Options{Version: "test", Logger: log})
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	if err := srv.Start(ctx); err != nil {
		t.Fatalf("start server: %v", err)
	}
	s := &Server{Server: srv, Config: cfg, Store: store, Host: cfg.Hosts[0].Domain, log: lb}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		store.Close()
	})
	return s
}

// AddUser creates local@host with password, with SCRAM keys at the minimum
// iteration count so tests stay fast.
func (s *Server) AddUser(t testing.TB, local, password string) jid.JID {
	t.Helper()
	a := registry.Account{Host: s.Host, Username: local, Created: time.Now()}
	for _, h := range []sasl.Hash{sasl.SHA1, sasl.SHA256} {
		k, err := sasl.NewKeys(h, password, sasl.DefaultIterations)
		if err != nil {
			t.Fatalf("keys: %v", err)
		}
		rk := registry.SCRAMKeys{Salt: k.Salt, Iterations: k.Iterations, StoredKey: k.StoredKey, ServerKey: k.ServerKey}
		if h == sasl.SHA1 {
			a.SHA1 = rk
		} else {
			a.SHA256 = rk
		}
	}
	if err := s.Store.CreateAccount(context.Background(), a); err != nil {
		t.Fatalf("create %s: %v", local, err)
	}
	return jid.MustParse(local + "@" + s.Host)
}

// Dial opens a plain connection to the STARTTLS port.
func (s *Server) Dial(t testing.TB) *xmpptest.Client {
	t.Helper()
	return xmpptest.Dial(t, s.Addr("c2s").String(), s.Host)
}

// Login connects with STARTTLS, authenticates with SCRAM-SHA-256, binds
// resource and sends initial presence, then pings so the presence has been
// processed.
func (s *Server) Login(t testing.TB, local, password, resource string) *xmpptest.Client {
	t.Helper()
	c, _ := s.LoginSeen(t, local, password, resource)
	return c
}

// LoginSeen is Login that also returns what the server sent after the
// initial presence (presence of others, stored requests, offline messages).
func (s *Server) LoginSeen(t testing.TB, local, password, resource string) (*xmpptest.Client, []*xmltok.Node) {
	t.Helper()
	c := s.Dial(t)
	c.StartTLS()
	if err := c.Auth("SCRAM-SHA-256", local, password); err != nil {
		t.Fatalf("auth %s: %v", local, err)
	}
	if _, err := c.Bind(resource); err != nil {
		t.Fatalf("bind %s: %v", local, err)
	}
	c.Send("<presence/>")
	return c, c.Ping()
}

// Log returns everything the server has logged so far.
func (s *Server) Log() string { return s.log.String() }

// WaitOnline waits until bare has a bound session, for tests driving
// clients that cannot tell us when they are ready.
func (s *Server) WaitOnline(t testing.TB, bare jid.JID) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(15 * time.Second)
	for !s.Router().Sessions().Online(bare) {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("%s did not come online", bare)
		}
	}
}

// logBuffer writes the server log to the test log and keeps a copy.
type logBuffer struct {
	t  testing.TB
	mu sync.Mutex
	b  strings.Builder
}

func (w *logBuffer) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.b.Len() < 4<<20 {
		w.b.Write(p)
	}
	return len(p), nil
}

func (w *logBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}
