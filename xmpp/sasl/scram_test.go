package sasl

import (
	"context"
	"encoding/base64"
	"errors"
	"regexp"
	"strings"
	"testing"
)

// rfcVectors are the example exchanges of RFC 5802 §5 and RFC 7677 §3, user
// "user", password "pencil".
var rfcVectors = []struct {
	name        string
	mech        string
	h           Hash
	salt        string // base64
	cnonce      string
	snonce      string
	clientFirst string
	serverFirst string
	clientFinal string
	serverFinal string
}{
	{
		name:        "RFC 5802 SCRAM-SHA-1",
		mech:        "SCRAM-SHA-1",
		h:           SHA1,
		salt:        "QSXCR+Q6sek8bf92",
		cnonce:      "fyko+d2lbbFgONRv9qkxdawL",
		snonce:      "3rfcNHYJY1ZVvWVs7j",
		clientFirst: "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
		serverFirst: "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
		clientFinal: "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
		serverFinal: "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=",
	},
	{
		name:        "RFC 7677 SCRAM-SHA-256",
		mech:        "SCRAM-SHA-256",
		h:           SHA256,
		salt:        "W22ZaJ0SNY7soEsUEjb6gQ==",
		cnonce:      "rOprNGfwEbeRWgbNEkqO",
		snonce:      "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
		clientFirst: "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
		serverFirst: "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
		clientFinal: "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
		serverFinal: "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
	},
}

func TestRFCVectorsServer(t *testing.T) {
	ctx := context.Background()
	for _, tc := range rfcVectors {
		t.Run(tc.name, func(t *testing.T) {
			salt, err := base64.StdEncoding.DecodeString(tc.salt)
			if err != nil {
				t.Fatal(err)
			}
			keys, err := deriveKeys(tc.h, "pencil", salt, 4096)
			if err != nil {
				t.Fatal(err)
			}
			cfg := &Config{
				Store:       memStore{"user": {tc.h: keys}},
				Secret:      testSecret,
				serverNonce: func() string { return tc.snonce },
			}
			n, err := cfg.Start(tc.mech)
			if err != nil {
				t.Fatal(err)
			}
			out, done, err := n.Step(ctx, []byte(tc.clientFirst))
			if err != nil || done {
				t.Fatalf("client-first: got done %v, error %v; want a challenge", done, err)
			}
			if string(out) != tc.serverFirst {
				t.Fatalf("got server-first %q, want %q", out, tc.serverFirst)
			}
			out, done, err = n.Step(ctx, []byte(tc.clientFinal))
			if err != nil || !done {
				t.Fatalf("client-final: got done %v, error %v; want success", done, err)
			}
			if string(out) != tc.serverFinal {
				t.Fatalf("got server-final %q, want %q", out, tc.serverFinal)
			}
			if got := n.Username(); got != "user" {
				t.Fatalf("got username %q, want %q", got, "user")
			}
			if got := n.AuthzID(); got != "" {
				t.Fatalf("got authzid %q, want none", got)
			}
		})
	}
}

func TestRFCVectorsClient(t *testing.T) {
	for _, tc := range rfcVectors {
		t.Run(tc.name, func(t *testing.T) {
			c := NewClient(tc.mech, "user", "pencil", ChannelBinding{})
			c.nonce = tc.cnonce
			for i, step := range []struct{ in, want string }{
				{"", tc.clientFirst},
				{tc.serverFirst, tc.clientFinal},
				{tc.serverFinal, ""},
			} {
				out, err := c.Step([]byte(step.in))
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				if string(out) != step.want {
					t.Fatalf("step %d: got %q, want %q", i, out, step.want)
				}
			}
			if !c.Done() {
				t.Fatal("got Done false, want true")
			}
		})
	}
}

func TestClientRejectsBadServer(t *testing.T) {
	tc := rfcVectors[1]
	for _, bad := range []struct {
		name        string
		serverFirst string
		serverFinal string
	}{
		{name: "forged signature", serverFirst: tc.serverFirst, serverFinal: "v=" + base64.StdEncoding.EncodeToString(make([]byte, 32))},
		{name: "server error", serverFirst: tc.serverFirst, serverFinal: "e=invalid-proof"},
		{name: "garbage final", serverFirst: tc.serverFirst, serverFinal: "x"},
		{name: "nonce not extended", serverFirst: "r=" + tc.cnonce + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"},
		{name: "foreign nonce", serverFirst: "r=abcdefghijklmnopqrstuvwxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"},
		{name: "huge iteration count", serverFirst: "r=" + tc.cnonce + "xyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=100000000"},
		{name: "zero iterations", serverFirst: "r=" + tc.cnonce + "xyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=0"},
		{name: "bad salt", serverFirst: "r=" + tc.cnonce + "xyz,s=!!,i=4096"},
		{name: "short", serverFirst: "r=" + tc.cnonce + "xyz"},
	} {
		t.Run(bad.name, func(t *testing.T) {
			c := NewClient(tc.mech, "user", "pencil", ChannelBinding{})
			c.nonce = tc.cnonce
			if _, err := c.Step(nil); err != nil {
				t.Fatal(err)
			}
			_, err := c.Step([]byte(bad.serverFirst))
			if err == nil {
				_, err = c.Step([]byte(bad.serverFinal))
			}
			if err == nil {
				t.Fatal("got no error, want the client to refuse the server")
			}
			if c.Done() {
				t.Fatal("got Done true, want false")
			}
			if _, again := c.Step(nil); again == nil {
				t.Fatal("got no error stepping a failed client, want one")
			}
		})
	}
}

func TestSCRAMExchange(t *testing.T) {
	store := newStore(t, testIterations, map[string]string{"juliet": "pencil", "a,b=c": "pencil"}, SHA1, SHA256)
	for _, tc := range []struct {
		name, mech, user, password, authzID string
		wantUser                            string
		wantCond                            string
	}{
		{name: "SHA-256", mech: "SCRAM-SHA-256", user: "juliet", password: "pencil", wantUser: "juliet"},
		{name: "SHA-1", mech: "SCRAM-SHA-1", user: "juliet", password: "pencil", wantUser: "juliet"},
		{name: "case mapped", mech: "SCRAM-SHA-256", user: "JuLiet", password: "pencil", wantUser: "juliet"},
		{name: "authzid", mech: "SCRAM-SHA-256", user: "juliet", password: "pencil", authzID: "romeo@example.org,=x", wantUser: "juliet"},
		{name: "escaped username", mech: "SCRAM-SHA-256", user: "a,b=c", password: "pencil", wantUser: "a,b=c"},
		{name: "wrong password", mech: "SCRAM-SHA-256", user: "juliet", password: "pencil2", wantCond: condNotAuthorized},
		{name: "wrong password SHA-1", mech: "SCRAM-SHA-1", user: "juliet", password: "Pencil", wantCond: condNotAuthorized},
		{name: "unknown user", mech: "SCRAM-SHA-256", user: "romeo", password: "pencil", wantCond: condNotAuthorized},
		{name: "username fails preparation", mech: "SCRAM-SHA-256", user: "jul iet", password: "pencil", wantCond: condNotAuthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &Config{Store: store, Secret: testSecret, Iterations: testIterations}
			c := NewClient(tc.mech, tc.user, tc.password, ChannelBinding{})
			c.AuthzID = tc.authzID
			n, err := exchange(t, cfg, tc.mech, c)
			checkCondition(t, err, tc.wantCond)
			if err != nil {
				var e *Error
				errors.As(err, &e)
				if e.Text != "" {
					t.Fatalf("got text %q, want none (nothing to tell apart failures)", e.Text)
				}
				return
			}
			if got := n.Username(); got != tc.wantUser {
				t.Fatalf("got username %q, want %q", got, tc.wantUser)
			}
			if got := n.AuthzID(); got != tc.authzID {
				t.Fatalf("got authzid %q, want %q", got, tc.authzID)
			}
		})
	}
}

// serverFirstShape matches a server-first-message with a 24-character server
// nonce after the client's, a 16-byte salt, and the test iteration count.
var serverFirstShape = regexp.MustCompile(`^r=abcdefghijklmnop[A-Za-z0-9+/]{24},s=([A-Za-z0-9+/]{22}==),i=64$`)

func TestUnknownUserIndistinguishable(t *testing.T) {
	ctx := context.Background()
	store := newStore(t, testIterations, map[string]string{"juliet": "pencil"}, SHA256)
	cfg := &Config{Store: store, Secret: testSecret, Iterations: testIterations}

	// first returns the server-first-message for user and the error on a
	// wrong proof.
	first := func(t *testing.T, user string) (string, error) {
		t.Helper()
		n, err := cfg.Start("SCRAM-SHA-256")
		if err != nil {
			t.Fatal(err)
		}
		out, _, err := n.Step(ctx, []byte("n,,n="+user+",r=abcdefghijklmnop"))
		if err != nil {
			t.Fatalf("client-first for %q: %v", user, err)
		}
		nonce := strings.TrimPrefix(strings.Split(string(out), ",")[0], "r=")
		proof := base64.StdEncoding.EncodeToString(make([]byte, 32))
		_, _, err = n.Step(ctx, []byte("c=biws,r="+nonce+",p="+proof))
		return string(out), err
	}

	salts := map[string]string{}
	for _, user := range []string{"juliet", "romeo", "romeo", "mercutio", "jul iet"} {
		out, err := first(t, user)
		m := serverFirstShape.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("user %q: got server-first %q, want it to match %v", user, out, serverFirstShape)
		}
		checkCondition(t, err, condNotAuthorized)
		var e *Error
		errors.As(err, &e)
		if e.Text != "" {
			t.Fatalf("user %q: got text %q, want none", user, e.Text)
		}
		if prev, ok := salts[user]; ok && prev != m[1] {
			t.Fatalf("user %q: got salt %s, then %s; want the same salt on every attempt", user, prev, m[1])
		}
		salts[user] = m[1]
	}
	if salts["romeo"] == salts["mercutio"] {
		t.Fatalf("got the same salt %s for two unknown users, want different ones", salts["romeo"])
	}
}

func TestChannelBindingDowngrade(t *testing.T) {
	store := newStore(t, testIterations, map[string]string{"juliet": "pencil"}, SHA256)
	binding := ChannelBinding{TLSExporter: []byte("0123456789abcdef0123456789abcdef")}
	for _, tc := range []struct {
		name          string
		serverBinding ChannelBinding
		clientBinding ChannelBinding
		tolerateY     bool
		wantCond      string
	}{
		{name: "y while server offers PLUS", serverBinding: binding, clientBinding: binding, wantCond: condNotAuthorized},
		{name: "y while server offers PLUS, tolerated", serverBinding: binding, clientBinding: binding, tolerateY: true},
		{name: "y while server has no binding", clientBinding: binding},
		{name: "n while server offers PLUS", serverBinding: binding},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &Config{Store: store, Secret: testSecret, TLS: true, Binding: tc.serverBinding, TolerateYFlag: tc.tolerateY}
			_, err := exchange(t, cfg, "SCRAM-SHA-256", NewClient("SCRAM-SHA-256", "juliet", "pencil", tc.clientBinding))
			checkCondition(t, err, tc.wantCond)
		})
	}
}

func TestSCRAMClientFirstMalformed(t *testing.T) {
	ctx := context.Background()
	store := newStore(t, testIterations, map[string]string{"user": "pencil"}, SHA1, SHA256)
	exporterOnly := ChannelBinding{TLSExporter: []byte("0123456789abcdef0123456789abcdef")}
	for _, tc := range []struct {
		name     string
		mech     string
		binding  ChannelBinding
		in       string
		wantCond string
	}{
		{name: "valid", in: "n,,n=user,r=abcdefghij"},
		{name: "valid with authzid", in: "n,a=user@example.org,n=user,r=abcdefghij"},
		{name: "unknown extension ignored", in: "n,,n=user,r=abcdefghij,x=whatever"},
		{name: "no comma", in: "n", wantCond: condMalformedRequest},
		{name: "one comma", in: "n,", wantCond: condMalformedRequest},
		{name: "bad flag", in: "q,,n=user,r=abcdefghij", wantCond: condMalformedRequest},
		{name: "empty flag", in: ",,n=user,r=abcdefghij", wantCond: condMalformedRequest},
		{name: "authzid without a=", in: "n,user,n=user,r=abcdefghij", wantCond: condMalformedRequest},
		{name: "empty authzid", in: "n,a=,n=user,r=abcdefghij", wantCond: condMalformedRequest},
		{name: "bad authzid escape", in: "n,a=x=41,n=user,r=abcdefghij", wantCond: condMalformedRequest},
		{name: "mandatory extension", in: "n,,m=ext,n=user,r=abcdefghij", wantCond: condMalformedRequest},
		{name: "no nonce", in: "n,,n=user", wantCond: condMalformedRequest},
		{name: "nonce first", in: "n,,r=abcdefghij,n=user", wantCond: condMalformedRequest},
		{name: "empty username", in: "n,,n=,r=abcdefghij", wantCond: condMalformedRequest},
		{name: "bad username escape", in: "n,,n=us=2Xer,r=abcdefghij", wantCond: condMalformedRequest},
		{name: "bare = in username", in: "n,,n=us=er,r=abcdefghij", wantCond: condMalformedRequest},
		{name: "NUL in username", in: "n,,n=us\x00er,r=abcdefghij", wantCond: condMalformedRequest},
		{name: "r= missing", in: "n,,n=user,x=abcdefghij", wantCond: condMalformedRequest},
		{name: "short nonce", in: "n,,n=user,r=abc", wantCond: condMalformedRequest},
		{name: "space in nonce", in: "n,,n=user,r=abcde fghij", wantCond: condMalformedRequest},
		{name: "bad extension name", in: "n,,n=user,r=abcdefghij,1=x", wantCond: condMalformedRequest},
		{name: "empty extension value", in: "n,,n=user,r=abcdefghij,x=", wantCond: condMalformedRequest},
		{name: "trailing comma", in: "n,,n=user,r=abcdefghij,", wantCond: condMalformedRequest},
		{name: "not UTF-8", in: "n,,n=us\xffer,r=abcdefghij", wantCond: condMalformedRequest},
		{name: "too long", in: "n,,n=user,r=" + strings.Repeat("a", maxInputBytes), wantCond: condMalformedRequest},
		{name: "username too long", in: "n,,n=" + strings.Repeat("u", 1024) + ",r=abcdefghij", wantCond: condMalformedRequest},
		{name: "p= on non-PLUS", in: "p=tls-exporter,,n=user,r=abcdefghij", wantCond: condMalformedRequest},
		{name: "bad binding name", in: "p=tls exporter,,n=user,r=abcdefghij", wantCond: condMalformedRequest},
		{name: "empty binding name", in: "p=,,n=user,r=abcdefghij", wantCond: condMalformedRequest},
		{name: "PLUS valid", mech: "SCRAM-SHA-256-PLUS", binding: exporterOnly, in: "p=tls-exporter,,n=user,r=abcdefghij"},
		{name: "PLUS with n", mech: "SCRAM-SHA-256-PLUS", binding: exporterOnly, in: "n,,n=user,r=abcdefghij", wantCond: condMalformedRequest},
		{name: "PLUS with y", mech: "SCRAM-SHA-1-PLUS", binding: exporterOnly, in: "y,,n=user,r=abcdefghij", wantCond: condMalformedRequest},
		{name: "PLUS unknown type", mech: "SCRAM-SHA-256-PLUS", binding: exporterOnly, in: "p=tls-unique,,n=user,r=abcdefghij", wantCond: condNotAuthorized},
		{name: "PLUS type without data", mech: "SCRAM-SHA-256-PLUS", binding: exporterOnly, in: "p=tls-server-end-point,,n=user,r=abcdefghij", wantCond: condNotAuthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mech := tc.mech
			if mech == "" {
				mech = "SCRAM-SHA-256"
			}
			cfg := &Config{Store: store, Secret: testSecret, Binding: tc.binding}
			n, err := cfg.Start(mech)
			if err != nil {
				t.Fatal(err)
			}
			out, done, err := n.Step(ctx, []byte(tc.in))
			checkCondition(t, err, tc.wantCond)
			if err == nil && (done || !strings.HasPrefix(string(out), "r=abcdefghij")) {
				t.Fatalf("got done %v, out %q; want a server-first-message", done, out)
			}
			if err != nil && out != nil {
				t.Fatalf("got out %q with an error, want nil", out)
			}
		})
	}
}

func TestSCRAMClientFinalMalformed(t *testing.T) {
	ctx := context.Background()
	store := newStore(t, testIterations, map[string]string{"user": "pencil"}, SHA256)
	const snonce = "SERVERNONCE"
	const nonce = "abcdefghij" + snonce
	proof := base64.StdEncoding.EncodeToString(make([]byte, 32))
	for _, tc := range []struct {
		name     string
		in       string
		wantCond string
	}{
		{name: "garbage", in: "garbage", wantCond: condMalformedRequest},
		{name: "empty", in: "", wantCond: condMalformedRequest},
		{name: "no nonce", in: "c=biws,p=" + proof, wantCond: condMalformedRequest},
		{name: "order swapped", in: "r=" + nonce + ",c=biws,p=" + proof, wantCond: condMalformedRequest},
		{name: "proof not base64", in: "c=biws,r=" + nonce + ",p=!!!!", wantCond: condMalformedRequest},
		{name: "short proof", in: "c=biws,r=" + nonce + ",p=AAAA", wantCond: condMalformedRequest},
		{name: "binding not base64", in: "c=bi ws,r=" + nonce + ",p=" + proof, wantCond: condMalformedRequest},
		{name: "line break in base64", in: "c=bi\nws,r=" + nonce + ",p=" + proof, wantCond: condMalformedRequest},
		{name: "mandatory extension", in: "c=biws,r=" + nonce + ",m=x,p=" + proof, wantCond: condMalformedRequest},
		{name: "bad extension", in: "c=biws,r=" + nonce + ",,p=" + proof, wantCond: condMalformedRequest},
		{name: "too long", in: "c=biws,r=" + nonce + ",x=" + strings.Repeat("a", maxInputBytes) + ",p=" + proof, wantCond: condMalformedRequest},
		{name: "wrong nonce", in: "c=biws,r=abcdefghijOTHER,p=" + proof, wantCond: condNotAuthorized},
		{name: "client nonce only", in: "c=biws,r=abcdefghij,p=" + proof, wantCond: condNotAuthorized},
		{name: "binding differs from gs2 header", in: "c=eSws,r=" + nonce + ",p=" + proof, wantCond: condNotAuthorized},
		{name: "wrong proof", in: "c=biws,r=" + nonce + ",p=" + proof, wantCond: condNotAuthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &Config{Store: store, Secret: testSecret, serverNonce: func() string { return snonce }}
			n, err := cfg.Start("SCRAM-SHA-256")
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := n.Step(ctx, []byte("n,,n=user,r=abcdefghij")); err != nil {
				t.Fatal(err)
			}
			out, done, err := n.Step(ctx, []byte(tc.in))
			checkCondition(t, err, tc.wantCond)
			if done || out != nil {
				t.Fatalf("got done %v, out %q; want neither", done, out)
			}
		})
	}
}

func TestNegotiationSingleUse(t *testing.T) {
	ctx := context.Background()
	store := newStore(t, testIterations, map[string]string{"juliet": "pencil"}, SHA256)
	cfg := &Config{Store: store, Secret: testSecret, TLS: true}
	for _, tc := range []struct {
		name     string
		mech     string
		client   *Client
		wantCond string // of the exchange itself
	}{
		{name: "after SCRAM success", mech: "SCRAM-SHA-256", client: NewClient("SCRAM-SHA-256", "juliet", "pencil", ChannelBinding{})},
		{name: "after SCRAM failure", mech: "SCRAM-SHA-256", client: NewClient("SCRAM-SHA-256", "juliet", "x", ChannelBinding{}), wantCond: condNotAuthorized},
		{name: "after PLAIN success", mech: "PLAIN", client: NewClient("PLAIN", "juliet", "pencil", ChannelBinding{})},
		{name: "after PLAIN failure", mech: "PLAIN", client: NewClient("PLAIN", "juliet", "x", ChannelBinding{}), wantCond: condNotAuthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := exchange(t, cfg, tc.mech, tc.client)
			checkCondition(t, err, tc.wantCond)
			out, done, err := n.Step(ctx, []byte("n,,n=juliet,r=abcdefghij"))
			checkCondition(t, err, condMalformedRequest)
			if !errors.Is(err, errNegotiationOver) {
				t.Fatalf("got %v, want it to wrap %v", err, errNegotiationOver)
			}
			if done || out != nil {
				t.Fatalf("got done %v, out %q; want neither", done, out)
			}
		})
	}
}

func TestEmptyInitialResponse(t *testing.T) {
	ctx := context.Background()
	store := newStore(t, testIterations, map[string]string{"juliet": "pencil"}, SHA256)
	cfg := &Config{Store: store, Secret: testSecret, TLS: true}
	for _, mech := range []string{"SCRAM-SHA-256", "PLAIN"} {
		t.Run(mech, func(t *testing.T) {
			c := NewClient(mech, "juliet", "pencil", ChannelBinding{})
			n, err := cfg.Start(mech)
			if err != nil {
				t.Fatal(err)
			}
			out, done, err := n.Step(ctx, nil)
			if err != nil || done || out == nil || len(out) != 0 {
				t.Fatalf("got out %q (nil %v), done %v, error %v; want an empty challenge", out, out == nil, done, err)
			}
			in, err := c.Step(nil)
			if err != nil {
				t.Fatal(err)
			}
			for !done {
				if out, done, err = n.Step(ctx, in); err != nil {
					t.Fatalf("got error %v, want success", err)
				}
				if in, err = c.Step(out); err != nil {
					t.Fatal(err)
				}
			}
			// A second empty message is not a retry but a malformed request.
			n, err = cfg.Start(mech)
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := n.Step(ctx, nil); err != nil {
				t.Fatal(err)
			}
			_, _, err = n.Step(ctx, []byte{})
			checkCondition(t, err, condMalformedRequest)
		})
	}
}

func TestSCRAMStoreErrors(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		store    CredentialStore
		wantCond string
		wantErr  error
	}{
		{name: "store down", store: brokenStore{}, wantCond: condTemporaryAuthFailure, wantErr: errStoreDown},
		{name: "short keys", store: memStore{"user": {SHA256: {Salt: []byte("s"), Iterations: 1, StoredKey: []byte("x"), ServerKey: []byte("y")}}}, wantCond: condTemporaryAuthFailure},
		{name: "empty keys act as unknown user", store: memStore{"user": {SHA256: {}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &Config{Store: tc.store, Secret: testSecret}
			n, err := cfg.Start("SCRAM-SHA-256")
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = n.Step(ctx, []byte("n,,n=user,r=abcdefghij"))
			checkCondition(t, err, tc.wantCond)
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("got %v, want it to wrap %v", err, tc.wantErr)
			}
		})
	}
}

func TestSASLName(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		wantErr  bool
	}{
		{in: "user", want: "user"},
		{in: "a=2Cb=3Dc", want: "a,b=c"},
		{in: "=3D=3D", want: "=="},
		{in: "", wantErr: true},
		{in: "a=", wantErr: true},
		{in: "a=2", wantErr: true},
		{in: "a=2c", wantErr: true},
		{in: "a=41", wantErr: true},
		{in: "a,b", wantErr: true},
		{in: "a\x00b", wantErr: true},
	} {
		got, err := decodeSASLName(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("decodeSASLName(%q): got %q, %v; want %q, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
		if err == nil {
			if back := encodeSASLName(got); back != tc.in {
				t.Errorf("encodeSASLName(%q): got %q, want %q", got, back, tc.in)
			}
		}
	}
}
