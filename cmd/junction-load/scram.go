package main

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/text/secure/precis"
)

// SCRAM client limits.
const (
	maxSCRAMIterations = 1 << 20
	scramNonceBytes    = 18
	maxKeyCache        = 1 << 17
)

// scramKeys are what a SCRAM client derives from the password, salt and
// iteration count: the expensive part of a login for the client.
type scramKeys struct {
	clientKey, storedKey, serverKey []byte
}

// keyCache remembers derived SCRAM keys per hash, salt and iteration
// count, so repeated logins to one account cost the tool a few HMACs
// instead of thousands: the load generator spends its core on the server,
// not on PBKDF2. It is safe for concurrent use and bounded.
type keyCache struct {
	mu sync.Mutex
	m  map[string]scramKeys
}

func (kc *keyCache) get(k string) (scramKeys, bool) {
	kc.mu.Lock()
	defer kc.mu.Unlock()
	v, ok := kc.m[k]
	return v, ok
}

func (kc *keyCache) put(k string, v scramKeys) {
	kc.mu.Lock()
	defer kc.mu.Unlock()
	if kc.m == nil || len(kc.m) >= maxKeyCache {
		kc.m = make(map[string]scramKeys)
	}
	kc.m[k] = v
}

// scramClient is the client side of SCRAM-SHA-1 and SCRAM-SHA-256 (RFC 5802,
// RFC 7677) without channel binding (gs2 flag "n"), for one login.
type scramClient struct {
	mech     string
	newHash  func() hash.Hash
	user     string
	password string
	cache    *keyCache

	nonce     string
	firstBare string
	serverSig []byte
	step      int
	verified  bool
}

// newSCRAM returns a client for mech, or nil if mech is not SCRAM.
func newSCRAM(mech, user, password string, cache *keyCache) *scramClient {
	c := &scramClient{mech: mech, user: user, password: password, cache: cache}
	switch mech {
	case mechSCRAMSHA256:
		c.newHash = sha256.New
	case mechSCRAMSHA1:
		c.newHash = sha1.New
	default:
		return nil
	}
	return c
}

// first returns client-first-message.
func (c *scramClient) first() ([]byte, error) {
	b := make([]byte, scramNonceBytes)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("SCRAM nonce: %w", err)
	}
	c.nonce = base64.RawStdEncoding.EncodeToString(b)
	name := strings.NewReplacer("=", "=3D", ",", "=2C").Replace(c.user)
	c.firstBare = "n=" + name + ",r=" + c.nonce
	return []byte("n,," + c.firstBare), nil
}

// final takes server-first-message and returns client-final-message.
func (c *scramClient) final(serverFirst string) ([]byte, error) {
	parts := strings.Split(serverFirst, ",")
	if len(parts) < 3 {
		return nil, fmt.Errorf("bad server-first-message %q", serverFirst)
	}
	nonce, ok1 := strings.CutPrefix(parts[0], "r=")
	saltB64, ok2 := strings.CutPrefix(parts[1], "s=")
	iterText, ok3 := strings.CutPrefix(parts[2], "i=")
	if !ok1 || !ok2 || !ok3 {
		return nil, fmt.Errorf("bad server-first-message %q", serverFirst)
	}
	if len(nonce) <= len(c.nonce) || !strings.HasPrefix(nonce, c.nonce) {
		return nil, errors.New("server nonce does not extend ours")
	}
	iter, err := strconv.Atoi(iterText)
	if err != nil || iter < 1 || iter > maxSCRAMIterations {
		return nil, fmt.Errorf("bad iteration count %q", iterText)
	}
	salt, err := base64.StdEncoding.DecodeString(saltB64)
	if err != nil || len(salt) == 0 {
		return nil, fmt.Errorf("bad salt %q", saltB64)
	}
	keys, err := c.keys(salt, iter)
	if err != nil {
		return nil, err
	}
	withoutProof := "c=biws,r=" + nonce
	authMessage := []byte(c.firstBare + "," + serverFirst + "," + withoutProof)
	proof := c.hmac(keys.storedKey, authMessage)
	subtle.XORBytes(proof, proof, keys.clientKey)
	c.serverSig = c.hmac(keys.serverKey, authMessage)
	return []byte(withoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof)), nil
}

// keys derives (or recalls) the keys for salt and iter.
func (c *scramClient) keys(salt []byte, iter int) (scramKeys, error) {
	ck := c.mech + "\x00" + strconv.Itoa(iter) + "\x00" + string(salt) + "\x00" + c.password
	if k, ok := c.cache.get(ck); ok {
		return k, nil
	}
	pw, err := precis.OpaqueString.String(c.password)
	if err != nil {
		return scramKeys{}, fmt.Errorf("prepare password: %w", err)
	}
	salted, err := pbkdf2.Key(c.newHash, pw, salt, iter, c.newHash().Size())
	if err != nil {
		return scramKeys{}, fmt.Errorf("derive SCRAM key: %w", err)
	}
	k := scramKeys{clientKey: c.hmac(salted, []byte("Client Key")), serverKey: c.hmac(salted, []byte("Server Key"))}
	h := c.newHash()
	h.Write(k.clientKey)
	k.storedKey = h.Sum(nil)
	c.cache.put(ck, k)
	return k, nil
}

// verify checks server-final-message.
func (c *scramClient) verify(serverFinal string) error {
	if e, ok := strings.CutPrefix(serverFinal, "e="); ok {
		return fmt.Errorf("server error %q", e)
	}
	v, ok := strings.CutPrefix(serverFinal, "v=")
	if !ok {
		return fmt.Errorf("bad server-final-message %q", serverFinal)
	}
	sig, err := base64.StdEncoding.DecodeString(v)
	if err != nil || !hmac.Equal(sig, c.serverSig) {
		return errors.New("server signature does not verify")
	}
	c.verified = true
	return nil
}

// Step follows the shape of sasl.Client.Step: nil in gives the first
// message; the challenge gives the final message; success data is verified.
func (c *scramClient) Step(in []byte) ([]byte, error) {
	c.step++
	switch c.step {
	case 1:
		return c.first()
	case 2:
		return c.final(string(in))
	case 3:
		return nil, c.verify(string(in))
	}
	return nil, errors.New("SCRAM exchange is over")
}

func (c *scramClient) hmac(key, msg []byte) []byte {
	m := hmac.New(c.newHash, key)
	m.Write(msg)
	return m.Sum(nil)
}
