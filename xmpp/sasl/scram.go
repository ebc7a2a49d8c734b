package sasl

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/secure/precis"
)

// scramState is what a SCRAM negotiation remembers between client-first and
// client-final.
type scramState struct {
	gs2Header       string // as the client sent it, e.g. "p=tls-exporter,,"
	cbData          []byte // the binding data the client must prove, nil without p=
	clientFirstBare string
	serverFirst     string
	nonce           string // client nonce + server nonce
	keys            Keys
	fake            error // non-nil when keys are fake; the reason, for the log
}

var (
	errBindingMismatch = errors.New("sasl: channel binding data differ")
	errNonceMismatch   = errors.New("sasl: nonce differs from the one sent")
	errDowngrade       = errors.New("sasl: client supports channel binding but thinks the server does not")
)

// scramClientFirst handles client-first-message (RFC 5802 §7):
//
//	gs2-header client-first-message-bare
//	gs2-header = ("p=" cb-name / "n" / "y") "," ["a=" saslname] ","
//	client-first-message-bare = ["m=" ext ","] "n=" saslname "," "r=" c-nonce ["," extensions]
//
// and answers server-first-message.
func (n *Negotiation) scramClientFirst(ctx context.Context, in []byte) ([]byte, bool, *Error) {
	msg := string(in)
	if !utf8.ValidString(msg) {
		return nil, false, malformed("not UTF-8")
	}
	flag, rest, ok := strings.Cut(msg, ",")
	if !ok {
		return nil, false, malformed("no gs2 header")
	}
	authz, bare, ok := strings.Cut(rest, ",")
	if !ok {
		return nil, false, malformed("no gs2 header")
	}
	gs2Header := msg[:len(msg)-len(bare)]

	var cbName string
	switch {
	case flag == "n", flag == "y":
	case strings.HasPrefix(flag, "p="):
		cbName = flag[len("p="):]
		if !validBindingName(cbName) {
			return nil, false, malformed("bad channel binding name")
		}
	default:
		return nil, false, malformed("bad gs2 channel binding flag")
	}
	if authz != "" {
		v, ok := strings.CutPrefix(authz, "a=")
		if !ok {
			return nil, false, malformed("bad authzid")
		}
		a, err := decodeSASLName(v)
		if err != nil {
			return nil, false, malformed("bad authzid")
		}
		if len(a) > maxFieldBytes {
			return nil, false, malformed("authzid too long")
		}
		n.authzID = a
	}

	var cbData []byte
	if n.mech.plus {
		if cbName == "" {
			return nil, false, malformed("-PLUS mechanism without channel binding")
		}
		cbData = n.cfg.Binding.data(cbName)
		if len(cbData) == 0 {
			return nil, false, &Error{Condition: condNotAuthorized, Text: "channel binding type not supported",
				Err: fmt.Errorf("sasl: client asks for channel binding %q", cbName)}
		}
	} else {
		if cbName != "" {
			return nil, false, malformed("channel binding needs a -PLUS mechanism")
		}
		if flag == "y" && len(n.cfg.Binding.Types()) > 0 && !n.cfg.TolerateYFlag {
			return nil, false, &Error{Condition: condNotAuthorized, Text: "channel binding downgrade", Err: errDowngrade}
		}
	}

	attrs := strings.Split(bare, ",")
	if strings.HasPrefix(attrs[0], "m=") {
		return nil, false, malformed("mandatory extension not supported")
	}
	if len(attrs) < 2 {
		return nil, false, malformed("missing attributes")
	}
	v, ok := strings.CutPrefix(attrs[0], "n=")
	if !ok {
		return nil, false, malformed("no username")
	}
	name, err := decodeSASLName(v)
	if err != nil {
		return nil, false, malformed("bad username")
	}
	cnonce, ok := strings.CutPrefix(attrs[1], "r=")
	if !ok {
		return nil, false, malformed("no nonce")
	}
	if len(cnonce) < minClientNonce || !validNonce(cnonce) {
		return nil, false, malformed("bad nonce")
	}
	for _, a := range attrs[2:] {
		if !validExtension(a) {
			return nil, false, malformed("bad extension")
		}
	}

	keys, e := n.scramKeys(ctx, name)
	if e != nil {
		return nil, false, e
	}
	snonce, err := n.newServerNonce()
	if err != nil {
		return nil, false, &Error{Condition: condTemporaryAuthFailure, Err: err}
	}
	nonce := cnonce + snonce
	serverFirst := "r=" + nonce + ",s=" + base64.StdEncoding.EncodeToString(keys.Salt) +
		",i=" + strconv.Itoa(keys.Iterations)
	s := &n.scram
	s.gs2Header, s.cbData, s.clientFirstBare = gs2Header, cbData, bare
	s.serverFirst, s.nonce, s.keys = serverFirst, nonce, keys
	n.state = stateClientFinal
	return []byte(serverFirst), false, nil
}

// scramKeys prepares name and looks up its keys. For a name that cannot be
// an account it returns fake keys and records why in n.scram.fake.
func (n *Negotiation) scramKeys(ctx context.Context, name string) (Keys, *Error) {
	h := n.mech.hash
	prepared, err := precis.UsernameCaseMapped.String(name)
	if err != nil {
		// Carry on with fake keys: the client learns no more than for an
		// unknown user.
		n.scram.fake = errBadUsername
		return fakeKeys(h, n.cfg.Secret, name, n.cfg.fakeIterations()), nil
	}
	if len(prepared) > maxFieldBytes {
		return Keys{}, malformed("username too long")
	}
	n.username = prepared
	keys, err := n.cfg.Store.SCRAMKeys(ctx, prepared, h)
	switch {
	case errors.Is(err, ErrUnknownUser), err == nil && len(keys.StoredKey) == 0:
		n.scram.fake = errUnknownUser
		return fakeKeys(h, n.cfg.Secret, prepared, n.cfg.fakeIterations()), nil
	case err != nil:
		return Keys{}, &Error{Condition: condTemporaryAuthFailure,
			Err: fmt.Errorf("sasl: look up %v keys of %q: %w", h, prepared, err)}
	case !keys.usable(h):
		return Keys{}, &Error{Condition: condTemporaryAuthFailure,
			Err: fmt.Errorf("sasl: stored %v keys of %q are unusable", h, prepared)}
	}
	return keys, nil
}

// newServerNonce returns the server's part of the nonce.
func (n *Negotiation) newServerNonce() (string, error) {
	if n.cfg.serverNonce != nil {
		return n.cfg.serverNonce(), nil
	}
	b := make([]byte, serverNonceBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("sasl: read server nonce: %w", err)
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

// scramClientFinal handles client-final-message (RFC 5802 §7):
//
//	"c=" base64(gs2-header cbind-data) "," "r=" nonce ["," extensions] "," "p=" base64(proof)
//
// and answers server-final-message.
func (n *Negotiation) scramClientFinal(in []byte) ([]byte, bool, *Error) {
	msg := string(in)
	i := strings.LastIndex(msg, ",p=")
	if i < 0 {
		return nil, false, malformed("no proof")
	}
	withoutProof, proofText := msg[:i], msg[i+len(",p="):]
	attrs := strings.Split(withoutProof, ",")
	if len(attrs) < 2 {
		return nil, false, malformed("missing attributes")
	}
	cbText, ok := strings.CutPrefix(attrs[0], "c=")
	if !ok {
		return nil, false, malformed("no channel binding")
	}
	nonce, ok := strings.CutPrefix(attrs[1], "r=")
	if !ok {
		return nil, false, malformed("no nonce")
	}
	for _, a := range attrs[2:] {
		if !validExtension(a) || strings.HasPrefix(a, "m=") {
			return nil, false, malformed("bad extension")
		}
	}
	cbInput, err := decodeBase64(cbText)
	if err != nil {
		return nil, false, malformed("bad channel binding encoding")
	}
	h := n.mech.hash
	proof, err := decodeBase64(proofText)
	if err != nil || len(proof) != h.size() {
		return nil, false, malformed("bad proof")
	}

	s := &n.scram
	if nonce != s.nonce {
		return nil, false, &Error{Condition: condNotAuthorized, Err: errNonceMismatch}
	}
	want := make([]byte, 0, len(s.gs2Header)+len(s.cbData))
	want = append(append(want, s.gs2Header...), s.cbData...)
	if subtle.ConstantTimeCompare(cbInput, want) != 1 {
		return nil, false, &Error{Condition: condNotAuthorized, Text: "channel binding mismatch", Err: errBindingMismatch}
	}

	authMessage := []byte(s.clientFirstBare + "," + s.serverFirst + "," + withoutProof)
	clientKey := hmacSum(h, s.keys.StoredKey, authMessage)
	subtle.XORBytes(clientKey, clientKey, proof)
	match := subtle.ConstantTimeCompare(hashSum(h, clientKey), s.keys.StoredKey) == 1
	switch {
	case s.fake != nil:
		return nil, false, &Error{Condition: condNotAuthorized, Err: s.fake}
	case !match:
		return nil, false, &Error{Condition: condNotAuthorized, Err: errBadPassword}
	}
	serverSignature := hmacSum(h, s.keys.ServerKey, authMessage)
	return []byte("v=" + base64.StdEncoding.EncodeToString(serverSignature)), true, nil
}

// decodeSASLName decodes a SCRAM saslname: "=2C" stands for "," and "=3D"
// for "="; any other "=", a ",", NUL or an empty name is an error.
func decodeSASLName(s string) (string, error) {
	if s == "" {
		return "", errors.New("empty saslname")
	}
	if !strings.ContainsAny(s, "=,\x00") {
		return s, nil
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '=':
			switch {
			case strings.HasPrefix(s[i:], "=2C"):
				b.WriteByte(',')
			case strings.HasPrefix(s[i:], "=3D"):
				b.WriteByte('=')
			default:
				return "", errors.New("bad escape in saslname")
			}
			i += 2
		case ',', 0:
			return "", errors.New("bad character in saslname")
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// encodeSASLName escapes "," and "=" in a saslname.
func encodeSASLName(s string) string {
	if !strings.ContainsAny(s, ",=") {
		return s
	}
	return strings.NewReplacer("=", "=3D", ",", "=2C").Replace(s)
}

// validBindingName reports whether s is a cb-name: 1*(ALPHA / DIGIT / "." / "-").
func validBindingName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// validNonce reports whether s is made of printable ASCII other than ",".
func validNonce(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e || c == ',' {
			return false
		}
	}
	return true
}

// validExtension reports whether s is an attr-val: ALPHA "=" 1*value-char.
func validExtension(s string) bool {
	if len(s) < 3 || s[1] != '=' {
		return false
	}
	if c := s[0]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
		return false
	}
	return !strings.ContainsRune(s[2:], 0)
}

// decodeBase64 decodes standard padded base64, refusing the line breaks the
// encoding/base64 decoder would skip.
func decodeBase64(s string) ([]byte, error) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, errors.New("line break in base64")
	}
	return base64.StdEncoding.Strict().DecodeString(s)
}
