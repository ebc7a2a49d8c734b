// Package register is in-band registration (XEP-0077): account creation
// before login on hosts where an admin opened it (rate-limited per IP), and
// password change and account removal for logged-in users.
package register

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"junction/registry"
	"junction/xmpp/jid"
	"junction/xmpp/sasl"
	"junction/xmpp/stanza"
	"junction/xmpp/xmltok"
)

// NS is the registration namespace.
const NS = "jabber:iq:register"

// Limits.
const (
	maxPasswordBytes = 1023
	// maxTrackedIPs bounds the rate limiter's memory.
	maxTrackedIPs = 10000
	window        = time.Hour
)

// Store is the part of the registry registration uses.
type Store interface {
	CreateAccount(ctx context.Context, a registry.Account) error
	SetAccountKeys(ctx context.Context, host, username string, sha1, sha256 registry.SCRAMKeys) error
	DeleteAccount(ctx context.Context, host, username string) error
}

// Kicker delivers reply, then ends every session of the deleted account bare.
type Kicker func(reply *stanza.Stanza, bare jid.JID)

// Service implements both halves.
type Service struct {
	store      Store
	open       map[string]bool
	perIPHour  int
	iterations int
	kick       Kicker
	log        *slog.Logger
	now        func() time.Time

	mu     sync.Mutex
	recent map[netip.Addr][]time.Time
}

// New returns a Service; openHosts are the hosts with open registration,
// perIPHour bounds registrations per IP per hour (0: no limit).
func New(store Store, openHosts []string, perIPHour int, kick Kicker, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Service{store: store, open: map[string]bool{}, perIPHour: perIPHour, iterations: sasl.DefaultIterations,
		kick: kick, log: log, now: time.Now, recent: map[netip.Addr][]time.Time{}}
	for _, h := range openHosts {
		s.open[h] = true
	}
	return s
}

// Open implements c2s.Registrar.
func (s *Service) Open(host string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.open[host]
}

// SetOpen replaces the hosts with open registration (config reload).
func (s *Service) SetOpen(hosts []string) {
	m := map[string]bool{}
	for _, h := range hosts {
		m[h] = true
	}
	s.mu.Lock()
	s.open = m
	s.mu.Unlock()
}

// Register implements c2s.Registrar.
func (s *Service) Register(ctx context.Context, host, username, password string, from netip.Addr) error {
	if !s.Open(host) {
		return stanza.Errorf(stanza.Cancel, stanza.NotAllowed, "registration is closed on "+host)
	}
	u, err := jid.New(username, host, "")
	if err != nil || u.Localpart() == "" {
		return stanza.Errorf(stanza.Modify, stanza.NotAcceptable, "that username is not allowed")
	}
	a := registry.Account{Host: host, Username: u.Localpart(), Created: s.now().UTC()}
	if a.SHA1, a.SHA256, err = s.keys(password); err != nil {
		return err
	}
	if !s.allow(from, false) {
		return stanza.Errorf(stanza.Wait, stanza.ResourceConstraint, "too many registrations from your address; try again later")
	}
	if err := s.store.CreateAccount(ctx, a); err != nil {
		if errors.Is(err, registry.ErrExists) {
			return stanza.Errorf(stanza.Cancel, stanza.Conflict, "that username is taken")
		}
		return fmt.Errorf("create %s: %w", u, err)
	}
	s.allow(from, true) // only accounts created count against the limit
	return nil
}

func (s *Service) keys(password string) (registry.SCRAMKeys, registry.SCRAMKeys, error) {
	if password == "" || len(password) > maxPasswordBytes {
		return registry.SCRAMKeys{}, registry.SCRAMKeys{}, stanza.Errorf(stanza.Modify, stanza.NotAcceptable, "the password must be 1 to 1023 bytes")
	}
	var out [2]registry.SCRAMKeys
	for i, h := range []sasl.Hash{sasl.SHA1, sasl.SHA256} {
		k, err := sasl.NewKeys(h, password, s.iterations)
		if err != nil {
			return registry.SCRAMKeys{}, registry.SCRAMKeys{}, stanza.Errorf(stanza.Modify, stanza.NotAcceptable, "that password is not allowed")
		}
		out[i] = registry.SCRAMKeys{Salt: k.Salt, Iterations: k.Iterations, StoredKey: k.StoredKey, ServerKey: k.ServerKey}
	}
	return out[0], out[1], nil
}

// allow reports whether ip is under its hourly limit, and with record
// counts one more registration.
func (s *Service) allow(ip netip.Addr, record bool) bool {
	if s.perIPHour <= 0 {
		return true
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	times := s.recent[ip]
	kept := times[:0]
	for _, t := range times {
		if now.Sub(t) < window {
			kept = append(kept, t)
		}
	}
	if len(kept) >= s.perIPHour {
		s.recent[ip] = kept
		return false
	}
	if _, tracked := s.recent[ip]; !tracked && len(s.recent) >= maxTrackedIPs {
		// Forget everyone whose window has passed; if that is nobody, the
		// table is full of active addresses and new ones wait.
		for a, ts := range s.recent {
			if len(ts) == 0 || now.Sub(ts[len(ts)-1]) >= window {
				delete(s.recent, a)
			}
		}
		if _, tracked := s.recent[ip]; !tracked && len(s.recent) >= maxTrackedIPs {
			return false
		}
	}
	switch {
	case record:
		s.recent[ip] = append(kept, now)
	case len(kept) == 0:
		delete(s.recent, ip) // a check alone leaves nothing behind
	default:
		s.recent[ip] = kept
	}
	return true
}

// Payload implements router.IQHandler (for logged-in users, addressed to the server).
func (s *Service) Payload() xmltok.Name { return xmltok.Name{Space: NS, Local: "query"} }

// Features implements router.IQHandler.
func (s *Service) Features() []string { return []string{NS} }

// HandleIQ lets a logged-in user see their registration, change the
// password or remove the account (XEP-0077 §3.2, §3.3).
func (s *Service) HandleIQ(ctx context.Context, req *stanza.Stanza, q *xmltok.Node) (*stanza.Stanza, error) {
	user := req.From.Bare()
	if user.Localpart() == "" || user.Domainpart() != req.To.Domainpart() {
		return nil, stanza.Errorf(stanza.Cancel, stanza.Forbidden, "")
	}
	switch req.Type {
	case "get":
		return stanza.Result(req, xmltok.NewNode(NS, "query").Add(
			xmltok.NewNode(NS, "registered"),
			xmltok.NewNode(NS, "username").SetText(user.Localpart()),
		)), nil
	case "set":
	default:
		return nil, stanza.Errorf(stanza.Modify, stanza.BadRequest, "")
	}
	if q.Child(NS, "remove") != nil {
		if err := s.store.DeleteAccount(ctx, user.Domainpart(), user.Localpart()); err != nil {
			return nil, fmt.Errorf("delete %s: %w", user, err)
		}
		s.log.Info("account removed by its user", "jid", user.String())
		if s.kick == nil {
			return stanza.Result(req), nil
		}
		// The result is queued first; the sessions close after what they
		// have queued.
		s.kick(stanza.Result(req), user)
		return nil, nil
	}
	name, pass := q.Child(NS, "username"), q.Child(NS, "password")
	if pass == nil {
		return nil, stanza.Errorf(stanza.Modify, stanza.BadRequest, "a password change needs <password/>")
	}
	if name != nil {
		if u, err := jid.New(name.Text, user.Domainpart(), ""); err != nil || u != user {
			return nil, stanza.Errorf(stanza.Modify, stanza.BadRequest, "the username must be your own")
		}
	}
	k1, k256, err := s.keys(pass.Text)
	if err != nil {
		return nil, err
	}
	if err := s.store.SetAccountKeys(ctx, user.Domainpart(), user.Localpart(), k1, k256); err != nil {
		return nil, fmt.Errorf("change password of %s: %w", user, err)
	}
	s.log.Info("password changed by its user", "jid", user.String())
	return stanza.Result(req), nil
}
