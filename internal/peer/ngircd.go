package peer

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// IRCTimeout bounds every wait for an IRC server or client in tests.
const IRCTimeout = 20 * time.Second

// IRCName is the server name the test ngircd announces.
const IRCName = "irc.test"

// ircPorts are the ports an IRC client like Biboumi tries on a host
// without configuration: TLS 6697 and 6670 first, then plain 6667. The
// test server listens on the last; the others must be free on its address
// so the TLS attempts are refused at once.
var ircPorts = []string{"6667", "6697", "6670"}

// IRCServer is a running ngircd.
type IRCServer struct {
	// Host is the loopback address the server listens on, on port 6667;
	// Biboumi reaches it by this name (#chan%Host@biboumi).
	Host string
	// Addr is Host:6667.
	Addr string
	Proc *Process
}

// NGIRCd starts ngircd in the foreground on port 6667 of a loopback
// address of its own (127.0.0.2 if free, otherwise another 127/8 address),
// without PAM, ident, DNS lookups, penalties or per-IP limits, and waits
// until it listens. It is killed when the test ends.
func NGIRCd(t testing.TB) *IRCServer {
	t.Helper()
	bin := Binary(t, "/usr/sbin/ngircd", "ngircd")
	dir := t.TempDir()
	var last string
	for attempt := 0; attempt < 8; attempt++ {
		host := "127.0.0.2"
		if attempt > 0 {
			host = fmt.Sprintf("127.%d.%d.%d", rand.IntN(256), rand.IntN(256), 2+rand.IntN(253))
		}
		if !portsFree(host) {
			continue
		}
		conf := filepath.Join(dir, fmt.Sprintf("ngircd-%d.conf", attempt))
		if err := os.WriteFile(conf, []byte(ngircdConf(host)), 0o644); err != nil {
			t.Fatalf("write ngircd config: %v", err)
		}
		p := Launch(t, bin, "-n", "-f", conf)
		if p.WaitOutput("Now listening on ["+host+"]:6667", IRCTimeout) {
			return &IRCServer{Host: host, Addr: net.JoinHostPort(host, "6667"), Proc: p}
		}
		last = p.Output()
		if !strings.Contains(last, "Address already in use") {
			break
		}
	}
	t.Fatalf("ngircd did not start listening within %v:\n%s", IRCTimeout, last)
	return nil
}

// portsFree reports whether nothing listens on host's IRC ports.
func portsFree(host string) bool {
	for _, port := range ircPorts {
		l, err := net.Listen("tcp", net.JoinHostPort(host, port))
		if err != nil {
			return false
		}
		l.Close()
	}
	return true
}

// ngircdConf is a configuration for a server on host:6667 that lets any
// number of local clients in at once, quickly.
func ngircdConf(host string) string {
	return `[Global]
	Name = ` + IRCName + `
	Info = Junction test IRC server
	AdminInfo1 = Junction tests
	AdminInfo2 = loopback
	AdminEMail = nobody@localhost
	Listen = ` + host + `
	Ports = 6667
	MotdPhrase = "Junction test server"
[Limits]
	MaxConnections = 0
	MaxConnectionsIP = 0
	MaxJoins = 0
	MaxNickLength = 30
	MaxPenaltyTime = 0
	PingTimeout = 600
	PongTimeout = 60
[Options]
	DNS = no
	Ident = no
	PAM = no
	RequireAuthPing = no
`
}

// Dial connects an IRC client with nick to the server and waits for the
// welcome (001). The connection is closed when the test ends.
func (s *IRCServer) Dial(t testing.TB, nick string) *IRCClient {
	t.Helper()
	nc, err := net.DialTimeout("tcp", s.Addr, IRCTimeout)
	if err != nil {
		t.Fatalf("dial IRC %s: %v", s.Addr, err)
	}
	c := newIRCClient(t, nc, nick)
	t.Cleanup(func() { nc.Close() })
	c.Send("NICK " + nick)
	c.Send("USER " + nick + " 0 * :" + nick)
	c.Expect("welcome (001)", func(m IRCMessage) bool { return m.Command == "001" })
	return c
}
