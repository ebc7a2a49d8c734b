package peer

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ProsodyTimeout bounds every wait for Prosody in tests: startup,
// shutdown and prosodyctl.
const ProsodyTimeout = 30 * time.Second

// ProsodyHost is the one virtual host of the test Prosody.
const ProsodyHost = "localhost"

// ProsodyComponent is an external component (XEP-0114) the test Prosody
// accepts on its component port.
type ProsodyComponent struct {
	Domain, Secret string
}

// ProsodyOptions configures the test Prosody.
type ProsodyOptions struct {
	// Components are the external components it accepts.
	Components []ProsodyComponent
	// Debug logs at debug level (every stanza) instead of info.
	Debug bool
}

// ProsodyServer is a running Prosody with its configuration and data in
// a temporary directory.
type ProsodyServer struct {
	// C2SAddr is the client port (STARTTLS required, self-signed
	// certificate for ProsodyHost).
	C2SAddr string
	// ComponentAddr is the XEP-0114 component port; empty without
	// components.
	ComponentAddr string
	// Config is the path of the configuration file.
	Config string
	// Dir holds the configuration, certificate, pid file and data.
	Dir string
	// Proc is the current Prosody process; Restart replaces it.
	Proc *Process

	bin string
}

// Prosody starts /usr/bin/prosody in the foreground on loopback: c2s on a
// free 127.0.0.1 port with TLS required, no s2s, no HTTP, the virtual host
// ProsodyHost with internal_hashed accounts and a self-signed ECDSA
// certificate, and a component port for opts.Components. It returns once
// the client port offers STARTTLS and the component port accepts
// connections. The server is killed when the test ends, and its log is
// written to the test log then.
func Prosody(t testing.TB, opts ProsodyOptions) *ProsodyServer {
	t.Helper()
	s := &ProsodyServer{bin: Binary(t, "/usr/bin/prosody", "prosody"), Dir: t.TempDir()}
	Binary(t, "/usr/bin/prosodyctl", "prosody")
	if err := writeCertificate(s.Dir, ProsodyHost); err != nil {
		t.Fatalf("prosody certificate: %v", err)
	}
	if err := os.Mkdir(filepath.Join(s.Dir, "data"), 0o700); err != nil {
		t.Fatalf("prosody data dir: %v", err)
	}
	s.Config = filepath.Join(s.Dir, "prosody.cfg.lua")
	var err error
	for range 3 {
		// The free ports found here may be taken by the time Prosody
		// binds them: then it runs on other ones.
		s.C2SAddr = freeLoopbackAddr(t)
		if len(opts.Components) > 0 {
			s.ComponentAddr = freeLoopbackAddr(t)
		}
		if err := os.WriteFile(s.Config, []byte(s.config(opts)), 0o600); err != nil {
			t.Fatalf("write prosody config: %v", err)
		}
		if err = s.tryStart(t); !errors.Is(err, errPortTaken) {
			break
		}
		s.Stop(t, syscall.SIGKILL)
	}
	if err != nil {
		t.Fatalf("prosody is not ready: %v\n%s", err, s.Proc.Output())
	}
	return s
}

// AddUser creates the account user@ProsodyHost with password pw through
// prosodyctl, the password on its standard input.
func (s *ProsodyServer) AddUser(t testing.TB, user, pw string) {
	t.Helper()
	r := Run(t, ProsodyTimeout, pw+"\n"+pw+"\n", "/usr/bin/prosodyctl", "--config", s.Config, "adduser", user+"@"+ProsodyHost)
	if r.Err != nil {
		t.Fatalf("prosodyctl adduser %s: %v", user, r.Err)
	}
	acct := filepath.Join(s.Dir, "data", ProsodyHost, "accounts", user+".dat")
	if _, err := os.Stat(acct); err != nil {
		t.Fatalf("prosodyctl adduser %s left no account file: %v", user, err)
	}
}

// Restart stops Prosody with sig (SIGTERM for an orderly shutdown that
// closes every stream, SIGKILL for a crash), waits until it has exited,
// and starts it again on the same ports with the same data.
func (s *ProsodyServer) Restart(t testing.TB, sig syscall.Signal) {
	t.Helper()
	s.Stop(t, sig)
	s.start(t)
}

// Stop sends sig to Prosody and waits until it has exited, killing it if
// it is still there after ProsodyTimeout.
func (s *ProsodyServer) Stop(t testing.TB, sig syscall.Signal) {
	t.Helper()
	if err := s.Proc.Cmd.Process.Signal(sig); err != nil {
		t.Logf("signal prosody: %v", err)
	}
	select {
	case <-s.Proc.Done():
	case <-time.After(ProsodyTimeout):
		s.Proc.Cmd.Process.Kill()
		<-s.Proc.Done()
		t.Fatalf("prosody did not exit within %v of %v:\n%s", ProsodyTimeout, sig, s.Proc.Output())
	}
}

// start launches Prosody on the written configuration and waits until it
// serves.
func (s *ProsodyServer) start(t testing.TB) {
	t.Helper()
	if err := s.tryStart(t); err != nil {
		t.Fatalf("prosody is not ready: %v\n%s", err, s.Proc.Output())
	}
}

// tryStart launches Prosody on the written configuration and waits until
// it serves.
func (s *ProsodyServer) tryStart(t testing.TB) error {
	t.Helper()
	s.Proc = Launch(t, s.bin, "--config", s.Config, "-F")
	return s.waitReady()
}

// errPortTaken says Prosody could not listen on one of its ports.
var errPortTaken = errors.New("peer: a port of Prosody is taken")

// waitReady polls, every 100 ms up to ProsodyTimeout, until the client port
// offers STARTTLS for ProsodyHost and the component port accepts
// connections. Prosody announces nothing once its hosts are all loaded,
// so there is no signal to wait for instead.
func (s *ProsodyServer) waitReady() error {
	deadline := time.NewTimer(ProsodyTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var err error
	for {
		// Prosody runs on when a port is taken, and what answers there is
		// someone else: look at its log before and after the probe.
		taken := func() bool { return strings.Contains(s.Proc.Output(), "Failed to open server port") }
		if taken() {
			return errPortTaken
		}
		if err = s.probe(); err == nil {
			if taken() {
				return errPortTaken
			}
			return nil
		}
		select {
		case <-tick.C:
		case <-s.Proc.Done():
			return fmt.Errorf("prosody exited: %v", s.Proc.Err())
		case <-deadline.C:
			return fmt.Errorf("not within %v: %w", ProsodyTimeout, err)
		}
	}
}

// probe opens a client stream and reads the features, and connects to the
// component port.
func (s *ProsodyServer) probe() error {
	nc, err := net.DialTimeout("tcp", s.C2SAddr, time.Second)
	if err != nil {
		return err
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(2 * time.Second))
	_, err = fmt.Fprintf(nc, "<?xml version='1.0'?><stream:stream to='%s' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>", ProsodyHost)
	if err != nil {
		return err
	}
	var got []byte
	buf := make([]byte, 4096)
	for !bytes.Contains(got, []byte("</stream:features>")) {
		n, err := nc.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			return fmt.Errorf("read c2s features: %w (got %q)", err, got)
		}
	}
	if !bytes.Contains(got, []byte("urn:ietf:params:xml:ns:xmpp-tls")) {
		return fmt.Errorf("c2s features without STARTTLS: %q", got)
	}
	if s.ComponentAddr != "" {
		cc, err := net.DialTimeout("tcp", s.ComponentAddr, time.Second)
		if err != nil {
			return err
		}
		cc.Close()
	}
	return nil
}

// config is the Lua configuration for opts.
func (s *ProsodyServer) config(opts ProsodyOptions) string {
	q := strconv.Quote
	level := "info"
	if opts.Debug {
		level = "debug"
	}
	c2sHost, c2sPort, _ := net.SplitHostPort(s.C2SAddr)
	var b strings.Builder
	fmt.Fprintf(&b, "-- Written by junction/internal/peer for one test.\n")
	fmt.Fprintf(&b, "run_as_root = true\n")
	fmt.Fprintf(&b, "pidfile = %s\n", q(filepath.Join(s.Dir, "prosody.pid")))
	fmt.Fprintf(&b, "data_path = %s\n", q(filepath.Join(s.Dir, "data")))
	fmt.Fprintf(&b, "certificates = %s\n", q(s.Dir))
	fmt.Fprintf(&b, "log = { { levels = { min = %s }, to = \"console\" } }\n", q(level))
	fmt.Fprintf(&b, "modules_enabled = { \"roster\"; \"saslauth\"; \"tls\"; \"disco\"; \"ping\" }\n")
	fmt.Fprintf(&b, "modules_disabled = { \"s2s\"; \"s2s_auth_certs\"; \"http\" }\n")
	fmt.Fprintf(&b, "c2s_ports = { %s }\n", c2sPort)
	fmt.Fprintf(&b, "c2s_interfaces = { %s }\n", q(c2sHost))
	fmt.Fprintf(&b, "c2s_direct_tls_ports = { }\n")
	fmt.Fprintf(&b, "legacy_ssl_ports = { }\n")
	fmt.Fprintf(&b, "s2s_ports = { }\n")
	fmt.Fprintf(&b, "s2s_direct_tls_ports = { }\n")
	if s.ComponentAddr != "" {
		compHost, compPort, _ := net.SplitHostPort(s.ComponentAddr)
		fmt.Fprintf(&b, "component_ports = { %s }\n", compPort)
		fmt.Fprintf(&b, "component_interfaces = { %s }\n", q(compHost))
	}
	fmt.Fprintf(&b, "c2s_require_encryption = true\n")
	fmt.Fprintf(&b, "authentication = \"internal_hashed\"\n")
	fmt.Fprintf(&b, "storage = \"internal\"\n")
	fmt.Fprintf(&b, "limits = { }\n")
	fmt.Fprintf(&b, "ssl = { certificate = %s; key = %s }\n",
		q(filepath.Join(s.Dir, ProsodyHost+".crt")), q(filepath.Join(s.Dir, ProsodyHost+".key")))
	fmt.Fprintf(&b, "VirtualHost %s\n", q(ProsodyHost))
	for _, c := range opts.Components {
		fmt.Fprintf(&b, "Component %s\n\tcomponent_secret = %s\n", q(c.Domain), q(c.Secret))
	}
	return b.String()
}

// freeLoopbackAddr returns a 127.0.0.1 address with a port nothing
// listens on at the moment.
func freeLoopbackAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// writeCertificate writes a self-signed ECDSA P-256 certificate for host
// and its key to dir as host.crt and host.key.
func writeCertificate(dir, host string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("generate key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: host},
		DNSNames:              []string{host, "*." + host},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return fmt.Errorf("create certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("marshal key: %w", err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	if err := os.WriteFile(filepath.Join(dir, host+".crt"), certPEM, 0o600); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, host+".key"), keyPEM, 0o600)
}
