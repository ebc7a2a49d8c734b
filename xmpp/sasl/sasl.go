// Package sasl implements the server side of the SASL mechanisms Junction
// offers on client-to-server streams: SCRAM-SHA-256 and SCRAM-SHA-1 (RFC 5802,
// RFC 7677), their -PLUS variants with channel binding (tls-exporter, RFC 9266;
// tls-server-end-point, RFC 5929), and PLAIN (RFC 4616). It also derives the
// SCRAM keys an account store keeps instead of passwords.
//
// The package speaks the mechanisms only: the caller (xmpp/c2s) wraps the
// exchanged data in RFC 6120 <auth/>, <challenge/>, <response/>, <success/>
// and <failure/> elements, base64-encodes it, and decides policy such as
// whether an authorization identity is acceptable.
package sasl

import (
	"crypto/sha1"
	"crypto/sha256"
	"hash"
	"strconv"
)

// Limits on what a client may send.
const (
	// maxInputBytes bounds every piece of client data given to Step.
	maxInputBytes = 4096
	// maxFieldBytes bounds a prepared username, authorization identity or
	// password; it is the size limit of an XMPP localpart (RFC 7622 §3.3).
	maxFieldBytes = 1023
	// minClientNonce is the shortest SCRAM client nonce accepted. The server
	// nonce carries the freshness; this only rejects clients that send
	// essentially none.
	minClientNonce = 8
	// serverNonceBytes is how many random bytes make up the server nonce.
	serverNonceBytes = 18
	// saltBytes is the length of the random salt NewKeys picks.
	saltBytes = 16
)

// DefaultIterations is the PBKDF2 iteration count for new keys. 4096 is the
// minimum RFC 7677 §4 asks for with SCRAM-SHA-256 and the count deployed
// clients expect (some warn about or refuse lower counts); a higher count costs
// every SCRAM client at each login, which matters on phones, and costs the
// server the same for every PLAIN attempt, since PLAIN derives on the server.
// Every function that derives keys takes the count as a parameter, so an
// admin can raise it.
const DefaultIterations = 4096

// Hash is the hash function a SCRAM mechanism is built on.
type Hash uint8

// The hash functions SCRAM is defined for here.
const (
	SHA1 Hash = iota + 1
	SHA256
)

// String returns the hash's name as RFC 5802 and RFC 7677 spell it in
// mechanism names: "SHA-1" or "SHA-256".
func (h Hash) String() string {
	switch h {
	case SHA1:
		return "SHA-1"
	case SHA256:
		return "SHA-256"
	}
	return "Hash(" + strconv.Itoa(int(h)) + ")"
}

// valid reports whether h is one of the defined hashes.
func (h Hash) valid() bool { return h == SHA1 || h == SHA256 }

// newFunc returns the constructor of h; h must be valid.
func (h Hash) newFunc() func() hash.Hash {
	if h == SHA1 {
		return sha1.New
	}
	return sha256.New
}

// size returns the output length of h in bytes; h must be valid.
func (h Hash) size() int {
	if h == SHA1 {
		return sha1.Size
	}
	return sha256.Size
}

// Conditions from RFC 6120 §6.5 that this package reports.
const (
	condEncryptionRequired   = "encryption-required"
	condInvalidMechanism     = "invalid-mechanism"
	condMalformedRequest     = "malformed-request"
	condNotAuthorized        = "not-authorized"
	condTemporaryAuthFailure = "temporary-auth-failure"
)

// Error is a SASL failure. Condition is the RFC 6120 §6.5 condition name to
// put in <failure/>, Text is safe to show the client, and Err is the cause,
// for the log only.
type Error struct {
	Condition string
	Text      string
	Err       error
}

// Error returns the condition, the text and the cause.
func (e *Error) Error() string {
	s := "sasl: " + e.Condition
	if e.Text != "" {
		s += ": " + e.Text
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// malformed returns a malformed-request failure with text for the client.
func malformed(text string) *Error {
	return &Error{Condition: condMalformedRequest, Text: text}
}
