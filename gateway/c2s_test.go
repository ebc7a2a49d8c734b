package gateway_test

import (
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"junction/config"
	"junction/gateway/gatewaytest"
	"junction/xmpp/stream"
	"junction/xmpp/xmltok"
	"junction/xmpp/xmpptest"
)

const pw = "correct horse battery staple"

func TestFeaturesBeforeAndAfterTLS(t *testing.T) {
	srv := gatewaytest.Start(t)
	c := srv.Dial(t)
	st := c.Features.Child(stream.NSTLS, "starttls")
	if st == nil || st.Child("", "required") == nil {
		t.Fatalf("got features %s, want <starttls><required/>", xmpptest.XML(c.Features))
	}
	if m := c.Mechanisms(); len(m) != 0 {
		t.Fatalf("got mechanisms %v before TLS, want none (TLS required)", m)
	}
	c.StartTLS()
	got := c.Mechanisms()
	for _, want := range []string{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"} {
		if !slices.Contains(got, want) {
			t.Errorf("got mechanisms %v after TLS, missing %s", got, want)
		}
	}
	if c.Features.Child(stream.NSTLS, "starttls") != nil {
		t.Errorf("starttls offered again after TLS")
	}
}

func TestLoginEveryMechanism(t *testing.T) {
	srv := gatewaytest.Start(t)
	srv.AddUser(t, "alice", pw)
	for _, tc := range []struct {
		name, mech string
		direct     bool
	}{
		{"scram-sha-256 starttls", "SCRAM-SHA-256", false},
		{"scram-sha-1 starttls", "SCRAM-SHA-1", false},
		{"scram-sha-256-plus starttls", "SCRAM-SHA-256-PLUS", false},
		{"scram-sha-1-plus direct", "SCRAM-SHA-1-PLUS", true},
		{"plain over tls", "PLAIN", false},
		{"scram-sha-256 direct tls", "SCRAM-SHA-256", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c *xmpptest.Client
			if tc.direct {
				c = xmpptest.DialTLS(t, srv.Addr("c2s_tls").String(), srv.Host)
			} else {
				c = srv.Dial(t)
				c.StartTLS()
			}
			if err := c.Auth(tc.mech, "alice", pw); err != nil {
				t.Fatalf("auth: %v", err)
			}
			if c.Features.Child(stream.NSBind, "bind") == nil {
				t.Fatalf("got features %s after auth, want bind", xmpptest.XML(c.Features))
			}
			j, err := c.Bind("laptop")
			if err != nil {
				t.Fatal(err)
			}
			if got, want := j.String(), "alice@localhost/laptop"; got != want {
				t.Fatalf("got bound JID %s, want %s", got, want)
			}
			c.Ping()
			c.Close()
		})
	}
}

func TestAuthFailures(t *testing.T) {
	srv := gatewaytest.Start(t)
	srv.AddUser(t, "alice", pw)
	for _, tc := range []struct {
		name, mech, user, pass, want string
	}{
		{"wrong password scram", "SCRAM-SHA-256", "alice", "wrong", "not-authorized"},
		{"unknown user scram", "SCRAM-SHA-256", "mallory", pw, "not-authorized"},
		{"wrong password plain", "PLAIN", "alice", "wrong", "not-authorized"},
		{"unknown mechanism", "DIGEST-MD5", "alice", pw, "invalid-mechanism"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := srv.Dial(t)
			c.StartTLS()
			var err error
			if tc.mech == "DIGEST-MD5" {
				c.Send("<auth xmlns='" + stream.NSSASL + "' mechanism='DIGEST-MD5'/>")
				n := c.MustNext()
				if n.Name.Local != "failure" || len(n.Children) == 0 {
					t.Fatalf("got %s, want failure", xmpptest.XML(n))
				}
				err = xmpptest.SASLError(n.Children[0].Name.Local)
			} else {
				err = c.Auth(tc.mech, tc.user, tc.pass)
			}
			var se xmpptest.SASLError
			if !errors.As(err, &se) || string(se) != tc.want {
				t.Fatalf("got %v, want SASL failure %s", err, tc.want)
			}
		})
	}
}

func TestPlainWithoutTLSRefused(t *testing.T) {
	srv := gatewaytest.Start(t, func(c *config.Config) { c.C2S.RequireTLS = false })
	srv.AddUser(t, "alice", pw)
	c := srv.Dial(t)
	if slices.Contains(c.Mechanisms(), "PLAIN") {
		t.Fatalf("PLAIN offered without TLS: %v", c.Mechanisms())
	}
	err := c.Auth("PLAIN", "alice", pw)
	var se xmpptest.SASLError
	if !errors.As(err, &se) || (se != "encryption-required" && se != "invalid-mechanism") {
		t.Fatalf("got %v, want encryption-required", err)
	}
	// SCRAM without TLS is allowed when TLS is not required.
	if err := c.Auth("SCRAM-SHA-256", "alice", pw); err != nil {
		t.Fatalf("SCRAM without TLS: %v", err)
	}
}

func TestAuthBeforeTLSWhenRequired(t *testing.T) {
	srv := gatewaytest.Start(t)
	srv.AddUser(t, "alice", pw)
	c := srv.Dial(t)
	err := c.Auth("SCRAM-SHA-256", "alice", pw)
	var se xmpptest.SASLError
	if !errors.As(err, &se) || se != "encryption-required" {
		t.Fatalf("got %v, want encryption-required", err)
	}
}

func TestTooManyAuthAttempts(t *testing.T) {
	srv := gatewaytest.Start(t)
	srv.AddUser(t, "alice", pw)
	c := srv.Dial(t)
	c.StartTLS()
	// 1,000 attempts written at once; the server must cut us off after
	// max_auth_attempts with policy-violation.
	go func() {
		var b strings.Builder
		for range 1000 {
			b.WriteString("<auth xmlns='" + stream.NSSASL + "' mechanism='PLAIN'>AGFsaWNlAHdyb25n</auth>")
		}
		c.Conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(c.Conn, b.String())
	}()
	failures := 0
	for {
		n, err := c.Next()
		if err != nil {
			t.Fatalf("got %v after %d failures, want a policy-violation stream error", err, failures)
		}
		if n.Name.Local == "failure" {
			failures++
			continue
		}
		if n.Name.Local != "error" || n.Child(stream.NSErrors, stream.PolicyViolation) == nil {
			t.Fatalf("got %s, want policy-violation", xmpptest.XML(n))
		}
		break
	}
	if want := srv.Config.C2S.MaxAuthAttempts; failures != want {
		t.Errorf("got %d SASL failures before the stream error, want %d", failures, want)
	}
}

// rawStream opens a TCP connection, writes input, and returns the stream
// error condition the server ends with.
func rawStream(t *testing.T, addr, input string) string {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	go func() {
		nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(nc, input)
	}()
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	dec := xmltok.NewDecoder(nc, xmltok.Options{})
	if _, err := dec.ReadStreamHeader(); err != nil {
		t.Fatalf("read server header: %v", err)
	}
	for {
		el, err := dec.ReadElement()
		if errors.Is(err, xmltok.ErrStreamEnd) {
			return ""
		}
		if err != nil {
			t.Fatalf("got %v before a stream error", err)
		}
		n, err := el.Node()
		if err != nil {
			t.Fatal(err)
		}
		if n.Name.Space == xmltok.NSStream && n.Name.Local == "error" {
			for _, ch := range n.Children {
				if ch.Name.Local != "text" {
					return ch.Name.Local
				}
			}
		}
	}
}

func TestBadInputStreamErrors(t *testing.T) {
	srv := gatewaytest.Start(t, func(c *config.Config) {
		c.C2S.RequireTLS = false
		c.C2S.NegotiationTimeout = 2 * time.Second
	})
	const open = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>"
	big := "<message to='bob@localhost'><body>" + strings.Repeat("A", 10<<20) + "</body></message>"
	for _, tc := range []struct {
		name, input, want string
	}{
		{"malformed", open + "<message><body></message>", stream.NotWellFormed},
		{"billion laughs", "<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol 'lol'><!ENTITY lol2 '&lol;&lol;&lol;&lol;'>]><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>", stream.RestrictedXML},
		{"comment", open + "<!-- hello -->", stream.RestrictedXML},
		{"processing instruction", open + "<?evil stuff?>", stream.RestrictedXML},
		{"unbound prefix", open + "<foo:message/>", stream.NotWellFormed},
		{"undefined entity", open + "<message><body>&lol;</body></message>", stream.RestrictedXML},
		{"10 MiB stanza", open + big, stream.PolicyViolation},
		{"wrong stream namespace", "<stream:stream xmlns='jabber:client' xmlns:stream='urn:wrong' to='localhost' version='1.0'>", stream.InvalidNamespace},
		{"wrong content namespace", "<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>", stream.InvalidNamespace},
		{"unknown host", "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='elsewhere.example' version='1.0'>", stream.HostUnknown},
		{"no version", "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost'>", stream.UnsupportedVersion},
		{"stanza before auth", open + "<message to='bob@localhost'><body>hi</body></message>", stream.NotAuthorized},
		{"data piggybacked on starttls", open + "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/><auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'/>", stream.PolicyViolation},
		{"never finishes negotiating", open, stream.ConnectionTimeout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := rawStream(t, srv.Addr("c2s").String(), tc.input); got != tc.want {
				t.Fatalf("got stream error %q, want %q", got, tc.want)
			}
		})
	}
}

func TestStreamCloseBothWays(t *testing.T) {
	srv := gatewaytest.Start(t)
	srv.AddUser(t, "alice", pw)
	c := srv.Login(t, "alice", pw, "a")
	c.Close() // fails unless the server answers </stream:stream>
}

func TestWhitespaceKeepalive(t *testing.T) {
	srv := gatewaytest.Start(t)
	srv.AddUser(t, "alice", pw)
	c := srv.Login(t, "alice", pw, "a")
	c.Send(" \n \t ")
	c.Ping()
}

func TestMetricsAndLogsWithoutSecrets(t *testing.T) {
	srv := gatewaytest.Start(t)
	srv.AddUser(t, "alice", pw)
	c := srv.Dial(t)
	c.StartTLS()
	if err := c.Auth("PLAIN", "alice", "wrong-password-123"); err == nil {
		t.Fatal("wrong password accepted")
	}
	if err := c.Auth("PLAIN", "alice", pw); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Bind("r"); err != nil {
		t.Fatal(err)
	}
	c.Ping()
	log := srv.Log()
	for _, secret := range []string{pw, "wrong-password-123", base64.StdEncoding.EncodeToString([]byte("\x00alice\x00" + pw))} {
		if strings.Contains(log, secret) {
			t.Fatalf("the server log contains a secret (%q)", secret)
		}
	}
	resp, err := http.Get("http://" + srv.Addr("metrics").String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{
		"junction_c2s_connections 1",
		`junction_auth_failures_total{mechanism="PLAIN"} 1`,
		"junction_sessions 1",
		"junction_stanzas_in_total",
		"junction_stanzas_out_total",
		"junction_queue_overflow_total",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
