package sasl

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"slices"
	"testing"
	"time"
)

// newCert returns a self-signed ECDSA P-256 certificate for example.org.
func newCert(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "example.org"},
		DNSNames:     []string{"example.org"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

// tlsBindings completes a TLS handshake over loopback with cert and version
// maxVersion and returns the channel binding data as the server and as the
// client see it.
func tlsBindings(t *testing.T, cert tls.Certificate, maxVersion uint16) (server, client ChannelBinding) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()

	type result struct {
		cs  tls.ConnectionState
		err error
	}
	done := make(chan result, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			done <- result{err: err}
			return
		}
		defer conn.Close()
		srv := tls.Server(conn, &tls.Config{Certificates: []tls.Certificate{cert}, MaxVersion: maxVersion})
		err = srv.Handshake()
		done <- result{cs: srv.ConnectionState(), err: err}
	}()

	roots := x509.NewCertPool()
	roots.AddCert(cert.Leaf)
	conn, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: roots, ServerName: "example.org", MaxVersion: maxVersion})
	if err != nil {
		t.Fatalf("client handshake: %v", err)
	}
	defer conn.Close()
	r := <-done
	if r.err != nil {
		t.Fatalf("server handshake: %v", r.err)
	}
	if r.cs.Version != maxVersion {
		t.Fatalf("got TLS version %x, want %x", r.cs.Version, maxVersion)
	}
	ccs := conn.ConnectionState()
	server = BindingFromTLS(&r.cs)
	server.TLSServerEndPoint = TLSServerEndPoint(cert.Leaf)
	return server, ClientBindingFromTLS(&ccs)
}

func TestBindingFromTLS(t *testing.T) {
	cert := newCert(t)
	for _, tc := range []struct {
		name      string
		version   uint16
		wantTypes []string
	}{
		{name: "TLS 1.3", version: tls.VersionTLS13, wantTypes: []string{"tls-exporter", "tls-server-end-point"}},
		{name: "TLS 1.2", version: tls.VersionTLS12, wantTypes: []string{"tls-server-end-point"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			server, client := tlsBindings(t, cert, tc.version)
			if got := server.Types(); !slices.Equal(got, tc.wantTypes) {
				t.Fatalf("got server types %q, want %q", got, tc.wantTypes)
			}
			if got := client.Types(); !slices.Equal(got, tc.wantTypes) {
				t.Fatalf("got client types %q, want %q", got, tc.wantTypes)
			}
			if !bytes.Equal(server.TLSExporter, client.TLSExporter) {
				t.Fatalf("got exporter %x on the server, %x on the client; want them equal", server.TLSExporter, client.TLSExporter)
			}
			if !bytes.Equal(server.TLSServerEndPoint, client.TLSServerEndPoint) {
				t.Fatalf("got end-point %x on the server, %x on the client; want them equal", server.TLSServerEndPoint, client.TLSServerEndPoint)
			}
			if n := len(server.TLSExporter); n != 0 && n != 32 {
				t.Fatalf("got %d bytes of exporter data, want 32", n)
			}
		})
	}
	if got := BindingFromTLS(nil).Types(); got != nil {
		t.Fatalf("got types %q for no TLS, want none", got)
	}
	if got := BindingFromTLS(&tls.ConnectionState{Version: tls.VersionTLS13}).Types(); got != nil {
		t.Fatalf("got types %q before the handshake, want none", got)
	}
}

func TestChannelBindingExchange(t *testing.T) {
	cert := newCert(t)
	server13, client13 := tlsBindings(t, cert, tls.VersionTLS13)
	_, otherClient13 := tlsBindings(t, cert, tls.VersionTLS13)           // same cert, other connection
	_, otherCertClient13 := tlsBindings(t, newCert(t), tls.VersionTLS13) // another cert
	server12, client12 := tlsBindings(t, cert, tls.VersionTLS12)

	endPointOnly := func(cb ChannelBinding) ChannelBinding { return ChannelBinding{TLSServerEndPoint: cb.TLSServerEndPoint} }
	store := newStore(t, testIterations, map[string]string{"juliet": "pencil"}, SHA1, SHA256)
	for _, tc := range []struct {
		name     string
		mech     string
		server   ChannelBinding
		client   ChannelBinding
		wantCond string
		wantText string
	}{
		{name: "exporter SHA-256", mech: "SCRAM-SHA-256-PLUS", server: server13, client: client13},
		{name: "exporter SHA-1", mech: "SCRAM-SHA-1-PLUS", server: server13, client: client13},
		{name: "end-point SHA-256", mech: "SCRAM-SHA-256-PLUS", server: server13, client: endPointOnly(client13)},
		{name: "end-point TLS 1.2", mech: "SCRAM-SHA-256-PLUS", server: server12, client: client12},
		{name: "exporter of another connection", mech: "SCRAM-SHA-256-PLUS", server: server13, client: otherClient13,
			wantCond: condNotAuthorized, wantText: "channel binding mismatch"},
		{name: "end-point of another certificate", mech: "SCRAM-SHA-256-PLUS", server: server13, client: endPointOnly(otherCertClient13),
			wantCond: condNotAuthorized, wantText: "channel binding mismatch"},
		{name: "exporter on TLS 1.2", mech: "SCRAM-SHA-256-PLUS", server: server12, client: client13,
			wantCond: condNotAuthorized, wantText: "channel binding type not supported"},
		{name: "end-point unavailable", mech: "SCRAM-SHA-1-PLUS", server: ChannelBinding{TLSExporter: server13.TLSExporter}, client: endPointOnly(client13),
			wantCond: condNotAuthorized, wantText: "channel binding type not supported"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &Config{Store: store, Secret: testSecret, TLS: true, Binding: tc.server}
			n, err := exchange(t, cfg, tc.mech, NewClient(tc.mech, "juliet", "pencil", tc.client))
			checkCondition(t, err, tc.wantCond)
			if err != nil {
				if got := err.(*Error).Text; got != tc.wantText {
					t.Fatalf("got text %q, want %q", got, tc.wantText)
				}
				return
			}
			if got := n.Username(); got != "juliet" {
				t.Fatalf("got username %q, want %q", got, "juliet")
			}
		})
	}
}

func TestClientPlusWithoutBinding(t *testing.T) {
	c := NewClient("SCRAM-SHA-256-PLUS", "juliet", "pencil", ChannelBinding{})
	if out, err := c.Step(nil); err == nil {
		t.Fatalf("got %q, want an error for -PLUS without binding data", out)
	}
}

func TestTLSServerEndPoint(t *testing.T) {
	raw := []byte("certificate")
	sum256 := sha256.Sum256(raw)
	sum384 := sha512.Sum384(raw)
	sum512 := sha512.Sum512(raw)
	for _, tc := range []struct {
		alg  x509.SignatureAlgorithm
		want []byte
	}{
		{alg: x509.SHA1WithRSA, want: sum256[:]},
		{alg: x509.ECDSAWithSHA1, want: sum256[:]},
		{alg: x509.MD5WithRSA, want: sum256[:]},
		{alg: x509.SHA256WithRSA, want: sum256[:]},
		{alg: x509.ECDSAWithSHA256, want: sum256[:]},
		{alg: x509.SHA256WithRSAPSS, want: sum256[:]},
		{alg: x509.SHA384WithRSA, want: sum384[:]},
		{alg: x509.ECDSAWithSHA384, want: sum384[:]},
		{alg: x509.SHA512WithRSAPSS, want: sum512[:]},
		{alg: x509.ECDSAWithSHA512, want: sum512[:]},
		{alg: x509.PureEd25519, want: nil},
		{alg: x509.UnknownSignatureAlgorithm, want: nil},
	} {
		got := TLSServerEndPoint(&x509.Certificate{Raw: raw, SignatureAlgorithm: tc.alg})
		if !bytes.Equal(got, tc.want) {
			t.Errorf("%v: got %x, want %x", tc.alg, got, tc.want)
		}
	}
	if got := TLSServerEndPoint(nil); got != nil {
		t.Errorf("nil certificate: got %x, want nil", got)
	}
}
