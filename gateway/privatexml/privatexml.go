// Package privatexml is private XML storage (XEP-0049): an account keeps
// one XML element per namespace on the server (clients keep bookmarks
// there), readable and writable by the account only.
package privatexml

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"junction/registry"
	"junction/xmpp/stanza"
	"junction/xmpp/xmltok"
)

// NS is the private storage namespace.
const NS = "jabber:iq:private"

// MaxBytes bounds one stored element.
const MaxBytes = 64 << 10

// Store is the part of the registry private storage uses.
type Store interface {
	AccountData(ctx context.Context, host, username, key string) (string, error)
	SetAccountData(ctx context.Context, host, username, key, value string) error
}

// Handler answers jabber:iq:private.
type Handler struct{ store Store }

// New returns the private storage handler.
func New(store Store) *Handler { return &Handler{store: store} }

func (h *Handler) Payload() xmltok.Name { return xmltok.Name{Space: NS, Local: "query"} }
func (h *Handler) Features() []string   { return []string{NS} }

func (h *Handler) HandleIQ(ctx context.Context, req *stanza.Stanza, q *xmltok.Node) (*stanza.Stanza, error) {
	owner := req.To
	if req.From.Bare() != owner {
		return nil, stanza.Errorf(stanza.Cancel, stanza.Forbidden, "private storage belongs to its own account")
	}
	if len(q.Children) != 1 {
		return nil, stanza.Errorf(stanza.Modify, stanza.BadRequest, "one element per request")
	}
	el := q.Children[0]
	ns := el.Name.Space
	// XEP-0049 §3: the jabber: namespaces are the server's, not storage keys.
	if ns == "" || strings.HasPrefix(ns, "jabber:") || ns == "vcard-temp" {
		return nil, stanza.Errorf(stanza.Modify, stanza.NotAcceptable, "that namespace cannot be stored")
	}
	key := "private:" + ns
	switch req.Type {
	case "get":
		raw, err := h.store.AccountData(ctx, owner.Domainpart(), owner.Localpart(), key)
		out := xmltok.NewNode(NS, "query")
		switch {
		case errors.Is(err, registry.ErrNotFound):
			out.Add(xmltok.NewNode(ns, el.Name.Local))
		case err != nil:
			return nil, fmt.Errorf("load private %s of %s: %w", ns, owner, err)
		default:
			n, err := xmltok.Parse([]byte(raw), ns)
			if err != nil {
				return nil, fmt.Errorf("stored private %s of %s: %w", ns, owner, err)
			}
			out.Add(n)
		}
		return stanza.Result(req, out), nil
	case "set":
		raw := el.AppendXML(nil, "")
		if len(raw) > MaxBytes {
			return nil, stanza.Errorf(stanza.Modify, stanza.NotAcceptable, fmt.Sprintf("at most %d bytes per namespace", MaxBytes))
		}
		if err := h.store.SetAccountData(ctx, owner.Domainpart(), owner.Localpart(), key, string(raw)); err != nil {
			return nil, fmt.Errorf("store private %s of %s: %w", ns, owner, err)
		}
		return stanza.Result(req), nil
	}
	return nil, stanza.Errorf(stanza.Modify, stanza.BadRequest, "")
}
