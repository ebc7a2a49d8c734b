package gateway

import (
	"context"
	"fmt"
	"log/slog"

	"junction/gateway/bus"
	"junction/gateway/muc"
	"junction/registry"
	"junction/xmpp/jid"
)

// mucComponent is the MUC service as a bus component.
type mucComponent struct{ *muc.Service }

var _ bus.Component = mucComponent{}

func (m mucComponent) Start(ctx context.Context, s bus.Sender) error { return m.Service.Start(ctx, s) }

// NewBuiltin builds a built-in component of kind for domain: the one list
// of in-process components, shared by `serve` and `component connect`.
// onPanic (may be nil) counts panics the component recovers from.
func NewBuiltin(kind string, domain jid.JID, store registry.Store, log *slog.Logger, onPanic func()) (bus.Component, error) {
	switch kind {
	case "muc":
		return mucComponent{muc.New(domain, store, muc.Options{
			Logger:  log.With("component", "muc", "domain", domain.String()),
			Name:    "Chat rooms",
			ErrBusy: bus.ErrBusy,
			OnPanic: onPanic,
		})}, nil
	}
	return nil, fmt.Errorf("no built-in component %q", kind)
}
