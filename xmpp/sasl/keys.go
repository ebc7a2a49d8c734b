package sasl

import (
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"

	"golang.org/x/text/secure/precis"
)

// ErrUnknownUser is returned by a CredentialStore for an account that does not exist.
var ErrUnknownUser = errors.New("sasl: unknown user")

// errNoSecret is the cause of the failure of a SCRAM negotiation started
// without Config.Secret.
var errNoSecret = errors.New("sasl: config has no secret for unknown-user salts")

// CredentialStore gives the SCRAM keys of accounts.
type CredentialStore interface {
	// SCRAMKeys returns the keys of the account username (already prepared
	// with UsernameCaseMapped) for h. It returns ErrUnknownUser (possibly
	// wrapped) when the account does not exist or has no keys for h.
	SCRAMKeys(ctx context.Context, username string, h Hash) (Keys, error)
}

// Keys are what the store keeps per account per hash: the salt and iteration
// count of the PBKDF2 derivation and the two keys of RFC 5802 §3. They let the
// server check a SCRAM proof or a PLAIN password, but not log in as the user.
type Keys struct {
	Salt       []byte
	Iterations int
	StoredKey  []byte
	ServerKey  []byte
}

// NewKeys prepares password with the PRECIS OpaqueString profile (RFC 8265),
// picks a random 16-byte salt and derives the keys with iterations rounds of
// PBKDF2 using h.
func NewKeys(h Hash, password string, iterations int) (Keys, error) {
	if !h.valid() {
		return Keys{}, fmt.Errorf("sasl: new keys: unknown hash %v", h)
	}
	if iterations < 1 {
		return Keys{}, fmt.Errorf("sasl: new keys: iteration count %d is not positive", iterations)
	}
	prepared, err := precis.OpaqueString.String(password)
	if err != nil {
		return Keys{}, fmt.Errorf("sasl: new keys: prepare password: %w", err)
	}
	salt := make([]byte, saltBytes)
	if _, err := rand.Read(salt); err != nil {
		return Keys{}, fmt.Errorf("sasl: new keys: read salt: %w", err)
	}
	k, err := deriveKeys(h, prepared, salt, iterations)
	if err != nil {
		return Keys{}, fmt.Errorf("sasl: new keys: %w", err)
	}
	return k, nil
}

// VerifyPassword derives keys from password with k's salt and iteration count
// and compares the stored key in constant time. It returns false for a
// password that fails OpaqueString preparation and for unusable keys.
func (k Keys) VerifyPassword(h Hash, password string) bool {
	prepared, err := precis.OpaqueString.String(password)
	if err != nil {
		return false
	}
	return k.verifyPrepared(h, prepared)
}

// verifyPrepared is VerifyPassword for a password already prepared with
// OpaqueString.
func (k Keys) verifyPrepared(h Hash, prepared string) bool {
	if !k.usable(h) {
		return false
	}
	got, err := deriveKeys(h, prepared, k.Salt, k.Iterations)
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare(got.StoredKey, k.StoredKey) == 1
}

// usable reports whether k can be used with h: a salt, a positive count, and
// keys of the hash's length.
func (k Keys) usable(h Hash) bool {
	return h.valid() && len(k.Salt) > 0 && k.Iterations > 0 &&
		len(k.StoredKey) == h.size() && len(k.ServerKey) == h.size()
}

// deriveKeys computes the RFC 5802 §3 keys from an already prepared password:
// SaltedPassword := Hi(password, salt, i), ClientKey := HMAC(SaltedPassword,
// "Client Key"), StoredKey := H(ClientKey), ServerKey := HMAC(SaltedPassword,
// "Server Key").
func deriveKeys(h Hash, prepared string, salt []byte, iterations int) (Keys, error) {
	salted, err := saltPassword(h, prepared, salt, iterations)
	if err != nil {
		return Keys{}, err
	}
	clientKey := hmacSum(h, salted, []byte("Client Key"))
	storedKey := hashSum(h, clientKey)
	return Keys{
		Salt:       append([]byte(nil), salt...),
		Iterations: iterations,
		StoredKey:  storedKey,
		ServerKey:  hmacSum(h, salted, []byte("Server Key")),
	}, nil
}

// saltPassword is Hi() of RFC 5802 §2.2, which is PBKDF2 with HMAC-h.
func saltPassword(h Hash, prepared string, salt []byte, iterations int) ([]byte, error) {
	salted, err := pbkdf2.Key(h.newFunc(), prepared, salt, iterations, h.size())
	if err != nil {
		return nil, fmt.Errorf("derive salted password: %w", err)
	}
	return salted, nil
}

// hmacSum returns HMAC-h(key, msg).
func hmacSum(h Hash, key, msg []byte) []byte {
	m := hmac.New(h.newFunc(), key)
	m.Write(msg)
	return m.Sum(nil)
}

// hashSum returns h(b).
func hashSum(h Hash, b []byte) []byte {
	d := h.newFunc()()
	d.Write(b)
	return d.Sum(nil)
}

// fakeKeys returns keys for an account that does not exist, so that its
// SCRAM exchange looks like a real account's: the salt is HMAC(secret,
// username) and stays the same across attempts, the keys match no password.
func fakeKeys(h Hash, secret []byte, username string, iterations int) Keys {
	label := func(what string) []byte {
		return []byte("junction sasl " + what + "\x00" + h.String() + "\x00" + username)
	}
	// The salt uses HMAC-SHA-256 for both hashes so it always has 16 bytes.
	salt := hmacSum(SHA256, secret, label("salt"))[:saltBytes]
	return Keys{
		Salt:       salt,
		Iterations: iterations,
		StoredKey:  hmacSum(h, secret, label("stored key")),
		ServerKey:  hmacSum(h, secret, label("server key")),
	}
}
