package sasl

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/text/secure/precis"
)

// maxClientIterations bounds the iteration count a Client accepts from a
// server, so a hostile server cannot make it spin.
const maxClientIterations = 1 << 20

// clientNonceBytes is how many random bytes make up a Client's nonce.
const clientNonceBytes = 18

// Client is the client side of SCRAM-SHA-256(-PLUS), SCRAM-SHA-1(-PLUS) and
// PLAIN, for tests and tools that log in to a server. It is single-use and not
// safe for concurrent use.
type Client struct {
	// AuthzID is the authorization identity to request, "" for none. Set it
	// before the first Step.
	AuthzID string

	mech     string
	username string
	password string
	cb       ChannelBinding
	step     int
	done     bool
	failed   error

	nonce           string // the client nonce; tests set it to replay RFC exchanges
	gs2Header       string
	clientFirstBare string
	serverSignature []byte
}

// NewClient returns a client for mech that logs in as username with password.
// cb is the connection's channel binding data as the client sees it (see
// ClientBindingFromTLS). A -PLUS mechanism binds to tls-exporter if cb has it,
// else tls-server-end-point. A non-PLUS SCRAM mechanism sends the gs2 flag
// "y" (the client supports channel binding but thinks the server does not)
// when cb has data and "n" when cb is empty, so pass an empty ChannelBinding
// unless the server really did not offer -PLUS. An unknown mechanism makes
// the first Step fail.
func NewClient(mech, username, password string, cb ChannelBinding) *Client {
	return &Client{mech: mech, username: username, password: password, cb: cb}
}

// Step takes the server's data (nil for the first call) and returns the
// client's next data: the first call gives the initial response. With SCRAM,
// the last call takes the additional data of <success/> and verifies the
// server's signature; it returns nil data and a nil error when the server
// proved it knows the keys.
func (c *Client) Step(in []byte) (out []byte, err error) {
	if c.failed != nil {
		return nil, c.failed
	}
	if c.done {
		return nil, errors.New("sasl: client exchange is over")
	}
	out, err = c.next(in)
	if err != nil {
		c.failed = err
		return nil, err
	}
	c.step++
	return out, nil
}

// Done reports whether the exchange finished successfully: for SCRAM, that
// the server's signature was verified; for PLAIN, that Step was given the
// (empty) data of <success/>.
func (c *Client) Done() bool { return c.done }

// next is Step without the bookkeeping.
func (c *Client) next(in []byte) ([]byte, error) {
	if c.mech == mechPLAIN {
		return c.plain(in)
	}
	var h Hash
	var plus bool
	switch c.mech {
	case mechSCRAMSHA256Plus:
		h, plus = SHA256, true
	case mechSCRAMSHA1Plus:
		h, plus = SHA1, true
	case mechSCRAMSHA256:
		h = SHA256
	case mechSCRAMSHA1:
		h = SHA1
	default:
		return nil, fmt.Errorf("sasl: client: unknown mechanism %q", c.mech)
	}
	switch c.step {
	case 0:
		return c.clientFirst(plus)
	case 1:
		return c.clientFinal(h, plus, string(in))
	default:
		return nil, c.verifyServer(string(in))
	}
}

// plain returns the PLAIN message, then accepts an empty <success/>.
func (c *Client) plain(in []byte) ([]byte, error) {
	if c.step > 0 {
		if len(in) > 0 {
			return nil, errors.New("sasl: client: unexpected data after PLAIN")
		}
		c.done = true
		return nil, nil
	}
	return []byte(c.AuthzID + "\x00" + c.username + "\x00" + c.password), nil
}

// bindingType returns the channel binding type a -PLUS client uses.
func (c *Client) bindingType() (string, error) {
	types := c.cb.Types()
	if len(types) == 0 {
		return "", errors.New("sasl: client: -PLUS mechanism without channel binding data")
	}
	return types[0], nil
}

// clientFirst returns client-first-message.
func (c *Client) clientFirst(plus bool) ([]byte, error) {
	flag := "n"
	switch {
	case plus:
		t, err := c.bindingType()
		if err != nil {
			return nil, err
		}
		flag = "p=" + t
	case len(c.cb.Types()) > 0:
		flag = "y"
	}
	c.gs2Header = flag + ","
	if c.AuthzID != "" {
		c.gs2Header += "a=" + encodeSASLName(c.AuthzID)
	}
	c.gs2Header += ","
	if c.nonce == "" {
		b := make([]byte, clientNonceBytes)
		if _, err := rand.Read(b); err != nil {
			return nil, fmt.Errorf("sasl: client: read nonce: %w", err)
		}
		c.nonce = base64.StdEncoding.EncodeToString(b)
	}
	c.clientFirstBare = "n=" + encodeSASLName(c.username) + ",r=" + c.nonce
	return []byte(c.gs2Header + c.clientFirstBare), nil
}

// clientFinal reads server-first-message and returns client-final-message.
func (c *Client) clientFinal(h Hash, plus bool, serverFirst string) ([]byte, error) {
	attrs := strings.Split(serverFirst, ",")
	if len(attrs) < 3 {
		return nil, fmt.Errorf("sasl: client: bad server-first-message %q", serverFirst)
	}
	nonce, ok1 := strings.CutPrefix(attrs[0], "r=")
	saltText, ok2 := strings.CutPrefix(attrs[1], "s=")
	iterText, ok3 := strings.CutPrefix(attrs[2], "i=")
	if !ok1 || !ok2 || !ok3 {
		return nil, fmt.Errorf("sasl: client: bad server-first-message %q", serverFirst)
	}
	if !strings.HasPrefix(nonce, c.nonce) || len(nonce) == len(c.nonce) {
		return nil, errors.New("sasl: client: server nonce does not extend the client's")
	}
	salt, err := decodeBase64(saltText)
	if err != nil || len(salt) == 0 {
		return nil, fmt.Errorf("sasl: client: bad salt %q", saltText)
	}
	iterations, err := strconv.Atoi(iterText)
	if err != nil || iterations < 1 || iterations > maxClientIterations {
		return nil, fmt.Errorf("sasl: client: bad iteration count %q", iterText)
	}
	password, err := precis.OpaqueString.String(c.password)
	if err != nil {
		return nil, fmt.Errorf("sasl: client: prepare password: %w", err)
	}
	salted, err := saltPassword(h, password, salt, iterations)
	if err != nil {
		return nil, fmt.Errorf("sasl: client: %w", err)
	}

	cbInput := []byte(c.gs2Header)
	if plus {
		t, err := c.bindingType()
		if err != nil {
			return nil, err
		}
		cbInput = append(cbInput, c.cb.data(t)...)
	}
	withoutProof := "c=" + base64.StdEncoding.EncodeToString(cbInput) + ",r=" + nonce
	authMessage := []byte(c.clientFirstBare + "," + serverFirst + "," + withoutProof)

	clientKey := hmacSum(h, salted, []byte("Client Key"))
	proof := hmacSum(h, hashSum(h, clientKey), authMessage)
	subtle.XORBytes(proof, proof, clientKey)
	c.serverSignature = hmacSum(h, hmacSum(h, salted, []byte("Server Key")), authMessage)
	return []byte(withoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof)), nil
}

// verifyServer checks server-final-message.
func (c *Client) verifyServer(serverFinal string) error {
	if e, ok := strings.CutPrefix(serverFinal, "e="); ok {
		return fmt.Errorf("sasl: client: server error %q", e)
	}
	v, ok := strings.CutPrefix(serverFinal, "v=")
	if !ok {
		return fmt.Errorf("sasl: client: bad server-final-message %q", serverFinal)
	}
	sig, err := decodeBase64(v)
	if err != nil || subtle.ConstantTimeCompare(sig, c.serverSignature) != 1 {
		return errors.New("sasl: client: server signature does not verify")
	}
	c.done = true
	return nil
}
