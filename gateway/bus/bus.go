// Package bus is the component bus: every component (the MUC service, an
// in-process transport, an external XEP-0114 connection) owns one domain,
// receives every stanza addressed to that domain or a JID under it, and
// sends stanzas whose 'from' must be in its domain. The router cannot tell
// in-process and external components apart.
package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"junction/xmpp/jid"
	"junction/xmpp/stanza"
)

// Errors.
var (
	// ErrBusy is returned by Component.Deliver when its inbox is full; the
	// sender gets resource-constraint.
	ErrBusy = errors.New("bus: component busy")
	// ErrForeignFrom is returned to a component sending as someone else.
	ErrForeignFrom = errors.New("bus: foreign from address")
	// ErrNoComponent means no component owns the domain.
	ErrNoComponent = errors.New("bus: no component for domain")
	// ErrConflict means the domain already has a component.
	ErrConflict = errors.New("bus: domain already has a component")
)

// Component owns one domain on the bus.
type Component interface {
	// Domain is the bare domain this component answers for.
	Domain() jid.JID
	// Start is called once before the first Deliver; s carries the
	// component's own traffic.
	Start(ctx context.Context, s Sender) error
	// Deliver hands over a stanza addressed to the component's domain or a
	// JID under it. It must not block: a full inbox returns ErrBusy.
	Deliver(ctx context.Context, st *stanza.Stanza) error
	// Stop ends the component within ctx.
	Stop(ctx context.Context) error
}

// Sender carries a component's stanzas into the server.
type Sender interface {
	Send(ctx context.Context, st *stanza.Stanza) error
}

// Bus holds the components by domain.
type Bus struct {
	route func(ctx context.Context, st *stanza.Stanza)
	log   *slog.Logger

	mu    sync.RWMutex
	comps map[string]Component
}

// New returns an empty bus whose components' output goes to route.
func New(route func(context.Context, *stanza.Stanza), log *slog.Logger) *Bus {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Bus{route: route, log: log, comps: map[string]Component{}}
}

// Add starts c and makes it the owner of its domain.
func (b *Bus) Add(ctx context.Context, c Component) error {
	d := c.Domain().Domainpart()
	b.mu.Lock()
	if _, ok := b.comps[d]; ok {
		b.mu.Unlock()
		return fmt.Errorf("add component %s: %w", d, ErrConflict)
	}
	b.comps[d] = c
	b.mu.Unlock()
	if err := c.Start(ctx, &sender{bus: b, comp: c, domain: d}); err != nil {
		b.mu.Lock()
		delete(b.comps, d)
		b.mu.Unlock()
		return fmt.Errorf("start component %s: %w", d, err)
	}
	b.log.Info("component added", "domain", d)
	return nil
}

// Remove stops the component of domain and forgets it.
func (b *Bus) Remove(ctx context.Context, domain string) error {
	b.mu.Lock()
	c, ok := b.comps[domain]
	delete(b.comps, domain)
	b.mu.Unlock()
	if !ok {
		return fmt.Errorf("remove %s: %w", domain, ErrNoComponent)
	}
	b.log.Info("component removed", "domain", domain)
	return c.Stop(ctx)
}

// Detach forgets c without stopping it (an external component whose
// connection ended stops itself). It is a no-op when another component has
// taken the domain since.
func (b *Bus) Detach(c Component) {
	d := c.Domain().Domainpart()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.comps[d] == c {
		delete(b.comps, d)
		b.log.Info("component detached", "domain", d)
	}
}

// Has reports whether a component owns domain.
func (b *Bus) Has(domain string) bool {
	b.mu.RLock()
	defer b.mu.RUnlock()
	_, ok := b.comps[domain]
	return ok
}

// Domains lists the component domains, sorted.
func (b *Bus) Domains() []string {
	b.mu.RLock()
	defer b.mu.RUnlock()
	out := make([]string, 0, len(b.comps))
	for d := range b.comps {
		out = append(out, d)
	}
	slices.Sort(out)
	return out
}

// Deliver hands st to the component owning st.To's domain.
func (b *Bus) Deliver(ctx context.Context, st *stanza.Stanza) error {
	b.mu.RLock()
	c, ok := b.comps[st.To.Domainpart()]
	b.mu.RUnlock()
	if !ok {
		return ErrNoComponent
	}
	return c.Deliver(ctx, st)
}

// Stop stops every component, in reverse domain order, within ctx.
func (b *Bus) Stop(ctx context.Context) error {
	b.mu.Lock()
	comps := b.comps
	b.comps = map[string]Component{}
	b.mu.Unlock()
	var errs []error
	keys := sortedKeys(comps)
	for i := len(keys) - 1; i >= 0; i-- {
		if err := comps[keys[i]].Stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop %s: %w", keys[i], err))
		}
	}
	return errors.Join(errs...)
}

func sortedKeys(m map[string]Component) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// sender checks that a component only speaks for its own domain.
type sender struct {
	bus    *Bus
	comp   Component
	domain string
}

func (s *sender) Send(ctx context.Context, st *stanza.Stanza) error {
	if st.From.Domainpart() != s.domain {
		s.bus.log.Warn("component sent a stanza with a foreign from, dropped", "component", s.domain, "from", st.From.String())
		return fmt.Errorf("%s sending as %s: %w", s.domain, st.From, ErrForeignFrom)
	}
	if st.To.IsZero() {
		return fmt.Errorf("%s: stanza without 'to': %w", s.domain, ErrNoComponent)
	}
	s.bus.route(ctx, st)
	return nil
}
