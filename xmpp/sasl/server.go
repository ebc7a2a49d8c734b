package sasl

import (
	"context"
	"errors"
	"slices"
)

// Mechanism names as advertised in <mechanisms/>.
const (
	mechSCRAMSHA256Plus = "SCRAM-SHA-256-PLUS"
	mechSCRAMSHA1Plus   = "SCRAM-SHA-1-PLUS"
	mechSCRAMSHA256     = "SCRAM-SHA-256"
	mechSCRAMSHA1       = "SCRAM-SHA-1"
	mechPLAIN           = "PLAIN"
)

// mechanism describes one mechanism name.
type mechanism struct {
	name  string
	hash  Hash // SCRAM only
	plus  bool // SCRAM with channel binding
	plain bool
}

// mechanisms lists every mechanism this package implements, strongest first.
var mechanisms = [...]mechanism{
	{name: mechSCRAMSHA256Plus, hash: SHA256, plus: true},
	{name: mechSCRAMSHA1Plus, hash: SHA1, plus: true},
	{name: mechSCRAMSHA256, hash: SHA256},
	{name: mechSCRAMSHA1, hash: SHA1},
	{name: mechPLAIN, plain: true},
}

var (
	errNoStore         = errors.New("sasl: config has no credential store")
	errNegotiationOver = errors.New("sasl: negotiation is over")
	errUnknownUser     = errors.New("sasl: no such account")
	errBadUsername     = errors.New("sasl: username fails preparation")
	errBadPassword     = errors.New("sasl: wrong password")
)

// Config is what a connection knows when a client starts authenticating.
// A Config is not changed by Start and may be shared by the negotiations of
// one connection.
type Config struct {
	Store   CredentialStore
	TLS     bool           // the connection is encrypted
	Binding ChannelBinding // the connection's channel binding data
	// Secret is a server secret used to fake SCRAM salts and keys for unknown
	// users, so that they are indistinguishable from wrong passwords. It must
	// stay the same across restarts (or an unknown user's salt changes) and
	// must not be empty: SCRAM negotiations fail with
	// temporary-auth-failure without it.
	Secret []byte
	// Iterations is the iteration count of fake keys, default
	// DefaultIterations. Set it to the count the store's real keys use.
	Iterations int
	// TolerateYFlag accepts a SCRAM gs2 flag 'y' ("I support channel
	// binding but think you do not") even though binding is offered. RFC 5802
	// calls that a downgrade, but with XEP-0440 a client that supports only
	// other binding types (slixmpp 1.8 and the clients built on it know only
	// tls-unique, which TLS 1.3 lacks) sends 'y' in good faith; accepting it
	// gives that client exactly the protection of 'n', while clients that
	// can bind still send 'p' and are bound.
	TolerateYFlag bool

	// serverNonce, when set, replaces the random server nonce; tests use it
	// to replay the RFC exchanges.
	serverNonce func() string
}

// Mechanisms lists mechanism names to advertise, strongest first:
// SCRAM-SHA-256-PLUS, SCRAM-SHA-1-PLUS (only with binding data),
// SCRAM-SHA-256, SCRAM-SHA-1, PLAIN (only if TLS).
func (c *Config) Mechanisms() []string {
	names := make([]string, 0, len(mechanisms))
	for _, m := range mechanisms {
		if c.offers(m) {
			names = append(names, m.name)
		}
	}
	return names
}

// offers reports whether c advertises m.
func (c *Config) offers(m mechanism) bool {
	switch {
	case m.plus:
		return len(c.Binding.Types()) > 0
	case m.plain:
		return c.TLS
	}
	return true
}

// fakeIterations returns the iteration count for fake keys.
func (c *Config) fakeIterations() int {
	if c.Iterations > 0 {
		return c.Iterations
	}
	return DefaultIterations
}

// Start begins a negotiation for mech. An unknown or not offered mechanism
// gives *Error with Condition "invalid-mechanism"; PLAIN without TLS gives
// "encryption-required".
func (c *Config) Start(mech string) (*Negotiation, error) {
	i := slices.IndexFunc(mechanisms[:], func(m mechanism) bool { return m.name == mech })
	if i < 0 {
		return nil, &Error{Condition: condInvalidMechanism}
	}
	m := mechanisms[i]
	if m.plain && !c.TLS {
		return nil, &Error{Condition: condEncryptionRequired}
	}
	if !c.offers(m) {
		return nil, &Error{Condition: condInvalidMechanism}
	}
	if c.Store == nil {
		return nil, &Error{Condition: condTemporaryAuthFailure, Err: errNoStore}
	}
	if !m.plain && len(c.Secret) == 0 {
		return nil, &Error{Condition: condTemporaryAuthFailure, Err: errNoSecret}
	}
	return &Negotiation{cfg: *c, mech: m}, nil
}

// negotiationState says which client message a Negotiation expects next.
type negotiationState uint8

const (
	stateInitial     negotiationState = iota // the initial response (client-first for SCRAM)
	stateClientFinal                         // SCRAM client-final
	stateOver                                // succeeded or failed
)

// Negotiation is one authentication exchange, made by Config.Start. It is
// single-use and not safe for concurrent use.
type Negotiation struct {
	cfg       Config
	mech      mechanism
	state     negotiationState
	sentEmpty bool // an empty challenge answered an empty initial response
	succeeded bool
	username  string
	authzID   string
	scram     scramState
}

// Step consumes the client's data (already base64-decoded; the initial
// response may be empty) and returns the server's next data. When done is
// true the exchange succeeded and out is the additional data for <success/>
// (the server-final-message for SCRAM, nil for PLAIN). Otherwise out is the
// challenge; it is empty but not nil when the client gave no initial
// response. Errors are *Error, and end the negotiation.
func (n *Negotiation) Step(ctx context.Context, in []byte) (out []byte, done bool, err error) {
	if n.state == stateOver {
		return nil, false, &Error{Condition: condMalformedRequest, Text: "negotiation is over", Err: errNegotiationOver}
	}
	out, done, e := n.step(ctx, in)
	if e != nil {
		n.state = stateOver
		return nil, false, e
	}
	if done {
		n.state = stateOver
		n.succeeded = true
	}
	return out, done, nil
}

// step is Step without the bookkeeping.
func (n *Negotiation) step(ctx context.Context, in []byte) ([]byte, bool, *Error) {
	if len(in) > maxInputBytes {
		return nil, false, malformed("too much data")
	}
	switch n.state {
	case stateInitial:
		if len(in) == 0 && !n.sentEmpty {
			n.sentEmpty = true
			return []byte{}, false, nil
		}
		if n.mech.plain {
			return n.plainStep(ctx, in)
		}
		return n.scramClientFirst(ctx, in)
	case stateClientFinal:
		return n.scramClientFinal(in)
	}
	return nil, false, &Error{Condition: condMalformedRequest, Err: errNegotiationOver}
}

// Username returns the prepared username. It is valid after success; after a
// failure it is the name that was tried, if it could be prepared.
func (n *Negotiation) Username() string { return n.username }

// AuthzID returns the authorization identity as requested by the client, ""
// if none. The caller checks it against the user's JID.
func (n *Negotiation) AuthzID() string { return n.authzID }

// Mechanism returns the name of the mechanism being negotiated.
func (n *Negotiation) Mechanism() string { return n.mech.name }
