package sasl

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"unicode/utf8"

	"golang.org/x/text/secure/precis"
)

var errBadPasswordPrep = errors.New("sasl: password fails preparation")

// plainStep handles the one PLAIN message (RFC 4616 §2):
//
//	[authzid] NUL authcid NUL passwd
func (n *Negotiation) plainStep(ctx context.Context, in []byte) ([]byte, bool, *Error) {
	authz, rest, ok := bytes.Cut(in, []byte{0})
	if !ok {
		return nil, false, malformed("no NUL separator")
	}
	authc, pass, ok := bytes.Cut(rest, []byte{0})
	if !ok || bytes.IndexByte(pass, 0) >= 0 {
		return nil, false, malformed("want exactly two NUL separators")
	}
	if len(authc) == 0 || len(pass) == 0 {
		return nil, false, malformed("empty username or password")
	}
	if !utf8.Valid(in) {
		return nil, false, malformed("not UTF-8")
	}
	if len(authz) > maxFieldBytes {
		return nil, false, malformed("authzid too long")
	}
	n.authzID = string(authz)

	user, err := precis.UsernameCaseMapped.String(string(authc))
	if err != nil {
		return nil, false, &Error{Condition: condNotAuthorized, Err: errBadUsername}
	}
	if len(user) > maxFieldBytes {
		return nil, false, malformed("username too long")
	}
	n.username = user
	password, err := precis.OpaqueString.String(string(pass))
	if err != nil {
		return nil, false, &Error{Condition: condNotAuthorized, Err: errBadPasswordPrep}
	}
	if len(password) > maxFieldBytes {
		return nil, false, malformed("password too long")
	}

	keys, h, known, e := n.plainKeys(ctx, user)
	if e != nil {
		return nil, false, e
	}
	// An unknown user's fake keys cost the same derivation as real ones.
	match := keys.verifyPrepared(h, password)
	switch {
	case !known:
		return nil, false, &Error{Condition: condNotAuthorized, Err: errUnknownUser}
	case !match:
		return nil, false, &Error{Condition: condNotAuthorized, Err: errBadPassword}
	}
	return nil, true, nil
}

// plainKeys returns the keys to check a PLAIN password against: SHA-256
// keys, else SHA-1 keys, else fake ones (known is false).
func (n *Negotiation) plainKeys(ctx context.Context, user string) (keys Keys, h Hash, known bool, e *Error) {
	for _, h := range [...]Hash{SHA256, SHA1} {
		keys, err := n.cfg.Store.SCRAMKeys(ctx, user, h)
		switch {
		case errors.Is(err, ErrUnknownUser), err == nil && len(keys.StoredKey) == 0:
			continue
		case err != nil:
			return Keys{}, 0, false, &Error{Condition: condTemporaryAuthFailure,
				Err: fmt.Errorf("sasl: look up %v keys of %q: %w", h, user, err)}
		case !keys.usable(h):
			return Keys{}, 0, false, &Error{Condition: condTemporaryAuthFailure,
				Err: fmt.Errorf("sasl: stored %v keys of %q are unusable", h, user)}
		}
		return keys, h, true, nil
	}
	return fakeKeys(SHA256, n.cfg.Secret, user, n.cfg.fakeIterations()), SHA256, false, nil
}
