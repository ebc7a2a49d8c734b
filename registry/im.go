package registry

import (
	"errors"
	"time"
)

// ErrQuota is returned (possibly wrapped) when a per-account limit would be exceeded.
var ErrQuota = errors.New("registry: quota exceeded")

// Subscription is the RFC 6121 subscription state of a roster item.
type Subscription string

// The subscription states of RFC 6121 §2.1.2.5.
const (
	SubNone Subscription = "none"
	SubTo   Subscription = "to"
	SubFrom Subscription = "from"
	SubBoth Subscription = "both"
)

// RosterItem is one contact of an account and the subscription state between them.
type RosterItem struct {
	Host, Username  string       // the owning account
	Contact         string       // the contact's bare JID, canonical
	Name            string       // the user's name for the contact, "" for none
	Groups          []string     // sorted, no duplicates (stored as given; the caller normalizes); nil when read back empty
	Subscription    Subscription // "" is stored as none
	Ask             bool         // pending out: the account asked to subscribe to the contact
	PendingIn       bool         // pending in: the contact asked to subscribe and got no answer yet
	PendingInStanza string       // the contact's subscribe stanza (XML), re-delivered at next login while PendingIn
	Approved        bool         // subscription pre-approved (RFC 6121 §3.4)
	InRoster        bool         // shown in the roster; false rows only track a pending request or a pre-approval
}

// OfflineMessage is a message stored for an account that was offline.
type OfflineMessage struct {
	// ID identifies the message for DeleteOffline. IDs increase in storage
	// order and are never reused.
	ID int64
	// Stanza is the stanza XML as it will be delivered.
	Stanza string
	// Stored is when the store accepted the message, in UTC. Stores keep it
	// to at least millisecond precision.
	Stored time.Time
}
