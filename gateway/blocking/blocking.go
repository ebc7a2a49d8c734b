// Package blocking is XEP-0191 blocking command: an account's block list
// (get, block, unblock, pushes) and the check the router applies to every
// stanza between a local account and the outside.
package blocking

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"

	"junction/gateway/router"
	"junction/gateway/session"
	"junction/xmpp/jid"
	"junction/xmpp/stanza"
	"junction/xmpp/xmltok"
)

// Namespaces.
const (
	NS       = "urn:xmpp:blocking"
	NSErrors = "urn:xmpp:blocking:errors"
)

// MaxItems bounds one block list.
const MaxItems = 1000

// Store is the part of the registry blocking uses.
type Store interface {
	BlockList(ctx context.Context, host, username string) ([]string, error)
	Block(ctx context.Context, host, username string, jids []string) error
	Unblock(ctx context.Context, host, username string, jids []string) error
}

// Service keeps block lists, cached in memory after first use.
type Service struct {
	store    Store
	sessions *session.Manager
	route    func(ctx context.Context, st *stanza.Stanza)
	log      *slog.Logger
	ids      atomic.Uint64

	mu    sync.RWMutex
	cache map[jid.JID][]jid.JID // bare account → blocked JIDs
}

// New returns a Service.
func New(store Store, sessions *session.Manager, route func(context.Context, *stanza.Stanza), log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{store: store, sessions: sessions, route: route, log: log, cache: map[jid.JID][]jid.JID{}}
}

func (s *Service) list(ctx context.Context, owner jid.JID) ([]jid.JID, error) {
	s.mu.RLock()
	l, ok := s.cache[owner]
	s.mu.RUnlock()
	if ok {
		return l, nil
	}
	raw, err := s.store.BlockList(ctx, owner.Domainpart(), owner.Localpart())
	if err != nil {
		return nil, fmt.Errorf("load block list of %s: %w", owner, err)
	}
	l = make([]jid.JID, 0, len(raw))
	for _, r := range raw {
		if j, err := jid.Parse(r); err == nil {
			l = append(l, j)
		}
	}
	s.mu.Lock()
	s.cache[owner] = l
	s.mu.Unlock()
	return l, nil
}

// Forget drops owner's cached list (after the account is deleted).
func (s *Service) Forget(owner jid.JID) {
	s.mu.Lock()
	delete(s.cache, owner)
	s.mu.Unlock()
}

// Blocks reports whether owner (a local account) blocks other. Items match
// as in XEP-0016: full JID, bare JID, domain, or domain/resource.
func (s *Service) Blocks(ctx context.Context, owner, other jid.JID) bool {
	if other.IsZero() || owner.Localpart() == "" {
		return false
	}
	l, err := s.list(ctx, owner.Bare())
	if err != nil {
		s.log.Error("block list unavailable", "err", err)
		return false
	}
	if len(l) == 0 {
		return false
	}
	dr, _ := jid.New("", other.Domainpart(), other.Resourcepart())
	for _, b := range l {
		if b == other || b == other.Bare() || b == other.Domain() || (other.Resourcepart() != "" && b == dr) {
			return true
		}
	}
	return false
}

func (s *Service) Payload() xmltok.Name { return xmltok.Name{Space: NS, Local: "blocklist"} }
func (s *Service) Features() []string   { return []string{NS} }

// HandleIQ answers a blocklist get.
func (s *Service) HandleIQ(ctx context.Context, req *stanza.Stanza, _ *xmltok.Node) (*stanza.Stanza, error) {
	owner := req.From.Bare()
	if req.To != owner || req.Type != "get" {
		return nil, stanza.Errorf(stanza.Modify, stanza.BadRequest, "")
	}
	l, err := s.list(ctx, owner)
	if err != nil {
		return nil, err
	}
	out := xmltok.NewNode(NS, "blocklist")
	for _, j := range l {
		out.Add(item(j))
	}
	return stanza.Result(req, out), nil
}

func item(j jid.JID) *xmltok.Node {
	return xmltok.NewNode(NS, "item", xmltok.Attr{Name: xmltok.Name{Local: "jid"}, Value: j.String()})
}

// Handlers returns the iq handlers: blocklist get, block, unblock.
func (s *Service) Handlers() []router.IQHandler {
	return []router.IQHandler{s, blockVerb{s, "block"}, blockVerb{s, "unblock"}}
}

type blockVerb struct {
	s    *Service
	verb string
}

func (b blockVerb) Payload() xmltok.Name { return xmltok.Name{Space: NS, Local: b.verb} }
func (b blockVerb) Features() []string   { return nil }

func (b blockVerb) HandleIQ(ctx context.Context, req *stanza.Stanza, p *xmltok.Node) (*stanza.Stanza, error) {
	s := b.s
	owner := req.From.Bare()
	if req.To != owner || req.Type != "set" {
		return nil, stanza.Errorf(stanza.Modify, stanza.BadRequest, "")
	}
	var jids []jid.JID
	for _, it := range p.ChildrenNamed(NS, "item") {
		j, err := jid.Parse(it.Attr("jid"))
		if err != nil {
			return nil, stanza.Errorf(stanza.Modify, stanza.JIDMalformed, "invalid JID in the block list")
		}
		jids = append(jids, j)
	}
	if b.verb == "block" && len(jids) == 0 {
		return nil, stanza.Errorf(stanza.Modify, stanza.BadRequest, "block at least one JID")
	}
	strs := make([]string, len(jids))
	for i, j := range jids {
		strs[i] = j.String()
	}
	var err error
	if b.verb == "block" {
		cur, lerr := s.list(ctx, owner)
		if lerr != nil {
			return nil, lerr
		}
		if len(cur)+len(jids) > MaxItems {
			return nil, stanza.Errorf(stanza.Wait, stanza.ResourceConstraint, "the block list is full")
		}
		err = s.store.Block(ctx, owner.Domainpart(), owner.Localpart(), strs)
	} else {
		err = s.store.Unblock(ctx, owner.Domainpart(), owner.Localpart(), strs)
	}
	if err != nil {
		return nil, fmt.Errorf("%s for %s: %w", b.verb, owner, err)
	}
	s.Forget(owner)
	s.push(owner, b.verb, jids)
	if b.verb == "block" {
		// The blocked stop seeing the owner (XEP-0191 §3.3).
		var buf [8]session.Snapshot
		for _, ss := range s.sessions.Sessions(buf[:0], owner) {
			if !ss.Available {
				continue
			}
			for _, j := range jids {
				if j.Localpart() != "" {
					s.route(ctx, stanza.New(stanza.Presence, ss.Conn.JID(), j, "unavailable", ""))
				}
			}
		}
	}
	return stanza.Result(req), nil
}

// push tells every resource of owner about the change.
func (s *Service) push(owner jid.JID, verb string, jids []jid.JID) {
	n := xmltok.NewNode(NS, verb)
	for _, j := range jids {
		n.Add(item(j))
	}
	var buf [8]session.Snapshot
	for _, ss := range s.sessions.Sessions(buf[:0], owner) {
		id := "block" + strconv.FormatUint(s.ids.Add(1), 10)
		ss.Conn.Send(stanza.New(stanza.IQ, owner, ss.Conn.JID(), "set", id, n))
	}
}
