// Package vcard stores and serves vcard-temp (XEP-0054): each account's
// vCard, which clients use for nicknames and avatars, readable by anyone and
// writable by its owner.
package vcard

import (
	"context"
	"errors"
	"fmt"

	"junction/registry"
	"junction/xmpp/stanza"
	"junction/xmpp/xmltok"
)

// NS is the vcard-temp namespace.
const NS = "vcard-temp"

// MaxBytes bounds a stored vCard (avatars are inline base64).
const MaxBytes = 128 << 10

const dataKey = "vcard"

// Store is the part of the registry vCards use.
type Store interface {
	AccountData(ctx context.Context, host, username, key string) (string, error)
	SetAccountData(ctx context.Context, host, username, key, value string) error
}

// Handler answers vCard get and set on account JIDs.
type Handler struct{ store Store }

// New returns the vCard handler.
func New(store Store) *Handler { return &Handler{store: store} }

func (h *Handler) Payload() xmltok.Name { return xmltok.Name{Space: NS, Local: "vCard"} }
func (h *Handler) Features() []string   { return []string{NS} }

func (h *Handler) HandleIQ(ctx context.Context, req *stanza.Stanza, v *xmltok.Node) (*stanza.Stanza, error) {
	owner := req.To
	switch req.Type {
	case "get":
		raw, err := h.store.AccountData(ctx, owner.Domainpart(), owner.Localpart(), dataKey)
		if errors.Is(err, registry.ErrNotFound) {
			return stanza.Result(req, xmltok.NewNode(NS, "vCard")), nil
		}
		if err != nil {
			return nil, fmt.Errorf("load vcard of %s: %w", owner, err)
		}
		n, err := xmltok.Parse([]byte(raw), NS)
		if err != nil {
			return nil, fmt.Errorf("stored vcard of %s: %w", owner, err)
		}
		return stanza.Result(req, n), nil
	case "set":
		if req.From.Bare() != owner {
			return nil, stanza.Errorf(stanza.Auth, stanza.Forbidden, "only the owner may change a vCard")
		}
		raw := v.AppendXML(nil, "")
		if len(raw) > MaxBytes {
			return nil, stanza.Errorf(stanza.Modify, stanza.NotAcceptable, fmt.Sprintf("a vCard may have at most %d bytes", MaxBytes))
		}
		if err := h.store.SetAccountData(ctx, owner.Domainpart(), owner.Localpart(), dataKey, string(raw)); err != nil {
			return nil, fmt.Errorf("store vcard of %s: %w", owner, err)
		}
		return stanza.Result(req), nil
	}
	return nil, stanza.Errorf(stanza.Modify, stanza.BadRequest, "")
}
