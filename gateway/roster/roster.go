// Package roster owns RFC 6121 rosters and presence subscriptions: the
// jabber:iq:roster get/set/push protocol with versioning (§2), and the
// subscription state machine none/to/from/both with pending-in, pending-out
// and pre-approval (§3), for accounts on this server.
package roster

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"junction/gateway/session"
	"junction/registry"
	"junction/xmpp/jid"
	"junction/xmpp/stanza"
	"junction/xmpp/xmltok"
)

// NS is the roster namespace.
const NS = "jabber:iq:roster"

// Limits on what a client may store.
const (
	MaxItems      = 1000
	MaxNameBytes  = 1023
	MaxGroupBytes = 1023
	MaxGroups     = 64
)

// Store is the part of the registry the roster uses.
type Store interface {
	Roster(ctx context.Context, host, username string) ([]registry.RosterItem, int64, error)
	RosterItem(ctx context.Context, host, username, contact string) (registry.RosterItem, error)
	PutRosterItem(ctx context.Context, it registry.RosterItem) (int64, error)
	DeleteRosterItem(ctx context.Context, host, username, contact string) (int64, error)
	RosterVersion(ctx context.Context, host, username string) (int64, error)
	CountRoster(ctx context.Context, host, username string) (int, error)
}

// Service answers roster requests and runs subscriptions.
type Service struct {
	store    Store
	sessions *session.Manager
	route    func(ctx context.Context, st *stanza.Stanza)
	local    func(domain string) bool
	log      *slog.Logger

	seed  maphash.Seed
	locks [64]sync.Mutex // per-account serialization of read-modify-write
	ids   atomic.Uint64
}

// New returns a Service. route delivers stanzas (the router's Route); local
// reports whether a domain is hosted here.
func New(store Store, sessions *session.Manager, route func(context.Context, *stanza.Stanza), local func(string) bool, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{store: store, sessions: sessions, route: route, local: local, log: log, seed: maphash.MakeSeed()}
}

func (s *Service) lock(a, b jid.JID) func() {
	i := maphash.String(s.seed, a.String()) % uint64(len(s.locks))
	j := maphash.String(s.seed, b.String()) % uint64(len(s.locks))
	if i > j {
		i, j = j, i
	}
	s.locks[i].Lock()
	if j != i {
		s.locks[j].Lock()
	}
	return func() {
		if j != i {
			s.locks[j].Unlock()
		}
		s.locks[i].Unlock()
	}
}

func (s *Service) item(ctx context.Context, user, contact jid.JID) (registry.RosterItem, error) {
	it, err := s.store.RosterItem(ctx, user.Domainpart(), user.Localpart(), contact.String())
	if errors.Is(err, registry.ErrNotFound) {
		return registry.RosterItem{Host: user.Domainpart(), Username: user.Localpart(), Contact: contact.String(), Subscription: registry.SubNone}, nil
	}
	if it.Subscription == "" {
		it.Subscription = registry.SubNone
	}
	return it, err
}

// put stores it (or deletes it when it carries no state) and pushes it to
// the owner's interested resources when it is in the roster.
func (s *Service) put(ctx context.Context, it registry.RosterItem, push bool) error {
	var ver int64
	var err error
	empty := !it.InRoster && !it.PendingIn && !it.Approved && !it.Ask && it.Subscription == registry.SubNone
	if empty {
		ver, err = s.store.DeleteRosterItem(ctx, it.Host, it.Username, it.Contact)
		if errors.Is(err, registry.ErrNotFound) {
			return nil
		}
	} else {
		ver, err = s.store.PutRosterItem(ctx, it)
	}
	if err != nil {
		return fmt.Errorf("store roster item %s of %s@%s: %w", it.Contact, it.Username, it.Host, err)
	}
	if push && it.InRoster {
		s.push(ctx, it, ver, false)
	}
	return nil
}

// push sends a roster push for it to every interested resource.
func (s *Service) push(ctx context.Context, it registry.RosterItem, ver int64, removed bool) {
	user, err := jid.New(it.Username, it.Host, "")
	if err != nil {
		return
	}
	q := xmltok.NewNode(NS, "query", attr("ver", strconv.FormatInt(ver, 10)))
	n := itemNode(it)
	if removed {
		n = xmltok.NewNode(NS, "item", attr("jid", it.Contact), attr("subscription", "remove"))
	}
	q.Add(n)
	var buf [8]session.Conn
	for _, c := range s.sessions.Interested(buf[:0], user) {
		id := "push" + strconv.FormatUint(s.ids.Add(1), 10)
		c.Send(stanza.New(stanza.IQ, user, c.JID(), "set", id, q))
	}
}

func attr(name, value string) xmltok.Attr {
	return xmltok.Attr{Name: xmltok.Name{Local: name}, Value: value}
}

func itemNode(it registry.RosterItem) *xmltok.Node {
	sub := it.Subscription
	if sub == "" {
		sub = registry.SubNone
	}
	n := xmltok.NewNode(NS, "item", attr("jid", it.Contact), attr("subscription", string(sub)))
	if it.Name != "" {
		n.Attrs = append(n.Attrs, attr("name", it.Name))
	}
	if it.Ask {
		n.Attrs = append(n.Attrs, attr("ask", "subscribe"))
	}
	if it.Approved {
		n.Attrs = append(n.Attrs, attr("approved", "true"))
	}
	for _, g := range it.Groups {
		n.Add(xmltok.NewNode(NS, "group").SetText(g))
	}
	return n
}

// Payload implements router.IQHandler.
func (s *Service) Payload() xmltok.Name { return xmltok.Name{Space: NS, Local: "query"} }

// Features implements router.IQHandler.
func (s *Service) Features() []string { return []string{NS} }

// HandleIQ answers roster get and set (RFC 6121 §2.1.3, §2.1.5, §2.5).
func (s *Service) HandleIQ(ctx context.Context, req *stanza.Stanza, q *xmltok.Node) (*stanza.Stanza, error) {
	user := req.From.Bare()
	if req.To != user {
		return nil, stanza.Errorf(stanza.Cancel, stanza.Forbidden, "a roster belongs to its own account")
	}
	switch req.Type {
	case "get":
		return s.get(ctx, req, q)
	case "set":
		return s.set(ctx, req, q)
	}
	return nil, stanza.Errorf(stanza.Modify, stanza.BadRequest, "")
}

func (s *Service) get(ctx context.Context, req *stanza.Stanza, q *xmltok.Node) (*stanza.Stanza, error) {
	user := req.From.Bare()
	if c := s.sessions.Lookup(req.From); c != nil {
		s.sessions.SetInterested(c.Conn)
	}
	items, ver, err := s.store.Roster(ctx, user.Domainpart(), user.Localpart())
	if err != nil {
		return nil, fmt.Errorf("load roster of %s: %w", user, err)
	}
	verStr := strconv.FormatInt(ver, 10)
	if hasAttr(q, "ver") && q.Attr("ver") == verStr {
		// RFC 6121 §2.6.3: the client's cached roster is current.
		return stanza.Result(req), nil
	}
	out := xmltok.NewNode(NS, "query", attr("ver", verStr))
	for _, it := range items {
		if it.InRoster {
			out.Add(itemNode(it))
		}
	}
	return stanza.Result(req, out), nil
}

func hasAttr(n *xmltok.Node, name string) bool {
	for _, a := range n.Attrs {
		if a.Name.Space == "" && a.Name.Local == name {
			return true
		}
	}
	return false
}

func (s *Service) set(ctx context.Context, req *stanza.Stanza, q *xmltok.Node) (*stanza.Stanza, error) {
	user := req.From.Bare()
	items := q.ChildrenNamed(NS, "item")
	if len(items) != 1 || len(q.Children) != 1 {
		return nil, stanza.Errorf(stanza.Modify, stanza.BadRequest, "a roster set carries exactly one item")
	}
	in := items[0]
	contact, err := jid.Parse(in.Attr("jid"))
	if err != nil || contact.Resourcepart() != "" {
		return nil, stanza.Errorf(stanza.Modify, stanza.JIDMalformed, "the item needs a bare JID")
	}
	unlock := s.lock(user, contact)
	defer unlock()
	it, err := s.item(ctx, user, contact)
	if err != nil {
		return nil, err
	}
	if in.Attr("subscription") == "remove" {
		if err := s.remove(ctx, user, contact, it); err != nil {
			return nil, err
		}
		return stanza.Result(req), nil
	}
	switch in.Attr("subscription") {
	case "", "none", "to", "from", "both":
		// Clients may echo the subscription; it is the server's to set (§2.1.2.5).
	default:
		return nil, stanza.Errorf(stanza.Modify, stanza.BadRequest, "invalid subscription")
	}
	name := in.Attr("name")
	if len(name) > MaxNameBytes {
		return nil, stanza.Errorf(stanza.Modify, stanza.NotAcceptable, "the name is too long")
	}
	var groups []string
	for _, g := range in.ChildrenNamed(NS, "group") {
		switch {
		case g.Text == "":
			return nil, stanza.Errorf(stanza.Modify, stanza.NotAcceptable, "a group name cannot be empty")
		case len(g.Text) > MaxGroupBytes:
			return nil, stanza.Errorf(stanza.Modify, stanza.NotAcceptable, "a group name is too long")
		case slices.Contains(groups, g.Text):
			return nil, stanza.Errorf(stanza.Modify, stanza.BadRequest, "duplicate group "+g.Text)
		}
		groups = append(groups, g.Text)
	}
	if len(groups) > MaxGroups {
		return nil, stanza.Errorf(stanza.Modify, stanza.NotAcceptable, "too many groups")
	}
	slices.Sort(groups)
	if !it.InRoster {
		n, err := s.store.CountRoster(ctx, user.Domainpart(), user.Localpart())
		if err != nil {
			return nil, err
		}
		if n >= MaxItems {
			return nil, stanza.Errorf(stanza.Wait, stanza.ResourceConstraint, "the roster is full ("+strconv.Itoa(MaxItems)+" items)")
		}
	}
	it.Name, it.Groups, it.InRoster = name, groups, true
	if err := s.put(ctx, it, true); err != nil {
		return nil, err
	}
	return stanza.Result(req), nil
}

// remove deletes contact from user's roster, cancelling subscriptions both
// ways (RFC 6121 §2.5.2).
func (s *Service) remove(ctx context.Context, user, contact jid.JID, it registry.RosterItem) error {
	if !it.InRoster && !it.PendingIn && it.Subscription == registry.SubNone && !it.Ask {
		return stanza.Errorf(stanza.Cancel, stanza.ItemNotFound, "no such contact")
	}
	ver, err := s.store.DeleteRosterItem(ctx, user.Domainpart(), user.Localpart(), contact.String())
	if err != nil && !errors.Is(err, registry.ErrNotFound) {
		return err
	}
	if it.InRoster {
		s.push(ctx, it, ver, true)
	}
	sub := it.Subscription
	if sub == registry.SubTo || sub == registry.SubBoth || it.Ask {
		s.sendAsUser(ctx, user, contact, "unsubscribe")
	}
	if sub == registry.SubFrom || sub == registry.SubBoth || it.PendingIn {
		s.sendAsUser(ctx, user, contact, "unsubscribed")
	}
	return nil
}

// sendAsUser runs an outbound subscription stanza of typ from user.
func (s *Service) sendAsUser(ctx context.Context, user, contact jid.JID, typ string) {
	st := stanza.New(stanza.Presence, user, contact, typ, "")
	s.inbound(ctx, st)
}
