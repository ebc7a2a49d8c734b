// Package registry owns Junction's persistent records (accounts today;
// rosters, offline messages, rooms and transport registrations later) and the
// Store interface every storage back end implements. It imports nothing else
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
// safe for concurrent use.
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
	// Close releases the store. No method may be called after it.
	Close() error
}
