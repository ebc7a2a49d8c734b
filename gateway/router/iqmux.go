package router

import (
	"context"
	"fmt"
	"sort"

	"junction/xmpp/stanza"
	"junction/xmpp/xmltok"
)

// IQHandler answers iq get/set requests whose payload has one qualified name.
type IQHandler interface {
	// Payload is the namespace and local name of the payload it handles.
	Payload() xmltok.Name
	// Features are the disco#info features it implements.
	Features() []string
	// HandleIQ returns the reply to req (a result or an error built by the
	// handler). A returned *stanza.Error is sent as the error reply; any other
	// error is logged and answered internal-server-error.
	HandleIQ(ctx context.Context, req *stanza.Stanza, payload *xmltok.Node) (*stanza.Stanza, error)
}

// IQMux dispatches iq requests by payload name. Two handlers for one name
// panic at construction: wiring mistakes fail at startup, not at the first
// stanza.
type IQMux struct {
	handlers map[xmltok.Name]IQHandler
	features []string
}

// NewIQMux returns a mux over handlers.
func NewIQMux(handlers ...IQHandler) *IQMux {
	m := &IQMux{handlers: make(map[xmltok.Name]IQHandler)}
	seen := map[string]bool{}
	for _, h := range handlers {
		n := h.Payload()
		if _, dup := m.handlers[n]; dup {
			panic(fmt.Sprintf("router: two iq handlers for {%s}%s", n.Space, n.Local))
		}
		m.handlers[n] = h
		for _, f := range h.Features() {
			if !seen[f] {
				seen[f] = true
				m.features = append(m.features, f)
			}
		}
	}
	sort.Strings(m.features)
	return m
}

// Add registers more handlers (for handlers that need the mux itself, like
// disco). It panics on duplicates, like NewIQMux.
func (m *IQMux) Add(handlers ...IQHandler) {
	for _, h := range handlers {
		n := h.Payload()
		if _, dup := m.handlers[n]; dup {
			panic(fmt.Sprintf("router: two iq handlers for {%s}%s", n.Space, n.Local))
		}
		m.handlers[n] = h
		m.features = append(m.features, h.Features()...)
	}
	sort.Strings(m.features)
}

// Features lists the features of every registered handler, sorted.
func (m *IQMux) Features() []string { return m.features }

// Handle finds the handler for req and runs it. ok is false when no handler
// matches (the caller answers service-unavailable).
func (m *IQMux) Handle(ctx context.Context, req *stanza.Stanza) (reply *stanza.Stanza, ok bool, err error) {
	p := req.Payload()
	if p == nil {
		return nil, false, stanza.Errorf(stanza.Modify, stanza.BadRequest, "an iq request needs exactly one payload")
	}
	h := m.handlers[p.Name]
	if h == nil {
		return nil, false, nil
	}
	reply, err = h.HandleIQ(ctx, req, p)
	return reply, true, err
}
