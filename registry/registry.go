// Package registry owns Junction's persistent records (accounts, rosters,
// offline messages, per-account XML, block lists and MUC rooms today;
// transport registrations later) and the Store interface every storage back
// end implements. It imports nothing else
// from Junction; registry/sqlite is the default implementation and
// registry/registrytest is the conformance suite every Store passes.
package registry

import (
	"context"
	"errors"
	"time"
)

var (
	// ErrNotFound is returned (possibly wrapped) when a record does not exist.
	ErrNotFound = errors.New("registry: not found")
	// ErrExists is returned (possibly wrapped) when creating a record that is already present.
	ErrExists = errors.New("registry: already exists")
)

// SCRAMKeys are the salted SCRAM credentials (RFC 5802) of one hash function.
// They are derived from the password, which is never stored.
type SCRAMKeys struct {
	Salt       []byte
	Iterations int
	StoredKey  []byte
	ServerKey  []byte
}

// Account is one local XMPP account on one of the server's hosts.
type Account struct {
	// Host and Username are already canonical (PRECIS-prepared, lowercase);
	// the caller validates them and the store compares them byte for byte.
	Host, Username string
	// SHA1 and SHA256 are the keys for SCRAM-SHA-1 and SCRAM-SHA-256.
	SHA1, SHA256 SCRAMKeys
	// Created is when the account was created. Stores keep it to at least
	// one-second precision.
	Created time.Time
}

// Store is the persistent state of a Junction server. Every method takes a
// context, returns an error wrapping ErrNotFound for an absent record, and is
// safe for concurrent use. Methods that only read an account's lists (Roster,
// OfflineMessages, BlockList, the counts and RosterVersion) treat an unknown
// account as one with empty lists; methods that write return ErrNotFound.
type Store interface {
	// CreateAccount stores a new account; an error wrapping ErrExists means
	// an account with the same host and username is already present.
	CreateAccount(ctx context.Context, a Account) error
	// Account returns the account username@host or an error wrapping ErrNotFound.
	Account(ctx context.Context, host, username string) (Account, error)
	// SetAccountKeys replaces the SCRAM keys of username@host (a password
	// change) or returns an error wrapping ErrNotFound.
	SetAccountKeys(ctx context.Context, host, username string, sha1, sha256 SCRAMKeys) error
	// DeleteAccount removes username@host and everything that belongs to it,
	// in one transaction, or returns an error wrapping ErrNotFound.
	DeleteAccount(ctx context.Context, host, username string) error
	// Accounts lists the accounts of host sorted by username (byte order);
	// an unknown host has no accounts and is not an error.
	Accounts(ctx context.Context, host string) ([]Account, error)

	// Roster returns every item of username@host (InRoster or not) sorted by
	// Contact (byte order), and the roster version, read in one snapshot.
	Roster(ctx context.Context, host, username string) ([]RosterItem, int64, error)
	// RosterItem returns one item or an error wrapping ErrNotFound.
	RosterItem(ctx context.Context, host, username, contact string) (RosterItem, error)
	// PutRosterItem inserts or replaces it and returns the roster version
	// after the change. Versions increase by one per change and start at 1 for
	// the first change; an account with no roster has version 0. An unknown
	// account is an error wrapping ErrNotFound; an unknown Subscription is an
	// error.
	PutRosterItem(ctx context.Context, it RosterItem) (int64, error)
	// DeleteRosterItem removes an item (an error wrapping ErrNotFound if
	// absent) and returns the new roster version.
	DeleteRosterItem(ctx context.Context, host, username, contact string) (int64, error)
	// RosterVersion returns the current roster version (0 if never changed).
	RosterVersion(ctx context.Context, host, username string) (int64, error)
	// CountRoster counts the InRoster items (for the roster size limit).
	CountRoster(ctx context.Context, host, username string) (int, error)

	// AddOffline stores stanza for username@host unless it already has limit
	// messages (then an error wrapping ErrQuota; limit <= 0 stores nothing);
	// check and insert are atomic. An unknown account is an error wrapping
	// ErrNotFound.
	AddOffline(ctx context.Context, host, username, stanza string, limit int) error
	// OfflineMessages returns up to max stored messages (all if max <= 0),
	// oldest first.
	OfflineMessages(ctx context.Context, host, username string, max int) ([]OfflineMessage, error)
	// DeleteOffline deletes the given messages of username@host; missing IDs
	// and IDs of other accounts' messages are ignored.
	DeleteOffline(ctx context.Context, host, username string, ids []int64) error
	// CountOffline counts stored messages.
	CountOffline(ctx context.Context, host, username string) (int, error)

	// AccountData returns a stored per-account XML blob by key ("vcard",
	// "private:<namespace>", …) or an error wrapping ErrNotFound.
	AccountData(ctx context.Context, host, username, key string) (string, error)
	// SetAccountData stores value under key; an empty value deletes the key.
	// An unknown account is an error wrapping ErrNotFound.
	SetAccountData(ctx context.Context, host, username, key, value string) error

	// BlockList returns the blocked JIDs of username@host sorted (byte order).
	BlockList(ctx context.Context, host, username string) ([]string, error)
	// Block adds JIDs (duplicates ignored). An unknown account is an error
	// wrapping ErrNotFound.
	Block(ctx context.Context, host, username string, jids []string) error
	// Unblock removes JIDs; an empty list removes all. An unknown account is
	// an error wrapping ErrNotFound.
	Unblock(ctx context.Context, host, username string, jids []string) error

	// Rooms returns the stored rooms of the MUC service whose domain is
	// service, sorted by Name (byte order); an unknown service has none.
	Rooms(ctx context.Context, service string) ([]Room, error)
	// Room returns one room or an error wrapping ErrNotFound.
	Room(ctx context.Context, service, name string) (Room, error)
	// PutRoom inserts or replaces a room with its affiliations, which it
	// replaces as a whole, in one transaction. An unknown affiliation or
	// WhoIs value is an error.
	PutRoom(ctx context.Context, r Room) error
	// DeleteRoom removes a room and its affiliations or returns an error
	// wrapping ErrNotFound.
	DeleteRoom(ctx context.Context, service, name string) error

	// Close releases the store. No method may be called after it.
	Close() error
}
