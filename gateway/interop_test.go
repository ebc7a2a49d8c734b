package gateway_test

import (
	"strings"
	"testing"
	"time"

	"junction/gateway/gatewaytest"
	"junction/internal/peer"
)

// These tests drive Junction with XMPP clients we did not write.

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(15 * time.Second)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestGoSendxmpp(t *testing.T) {
	bin := peer.Binary(t, "go-sendxmpp", "go-sendxmpp")
	srv := gatewaytest.Start(t)
	srv.AddUser(t, "alice", pw)
	bob := srv.AddUser(t, "bob", pw)
	for _, tc := range []struct {
		name     string
		listener string
		flags    []string
	}{
		{"starttls", "c2s", nil},
		{"direct tls", "c2s_tls", []string{"-t"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := srv.Addr(tc.listener).String()
			args := append([]string{"-u", "bob@localhost", "-p", pw, "-j", addr, "-n", "-l"}, tc.flags...)
			_, out := peer.Start(t, bin, args...)
			srv.WaitOnline(t, bob)

			msg := "hello from go-sendxmpp over " + tc.name
			args = append(append([]string{"-u", "alice@localhost", "-p", pw, "-j", addr, "-n"}, tc.flags...), "bob@localhost")
			res := peer.Run(t, 30*time.Second, msg+"\n", bin, args...)
			if res.Err != nil {
				t.Fatalf("go-sendxmpp send: %v: %s", res.Err, res.Stderr)
			}
			waitFor(t, "bob's go-sendxmpp to print the message", func() bool { return strings.Contains(out(), msg) })
		})
	}
	// This go-sendxmpp (Debian 12) only speaks PLAIN, which Junction offers
	// over TLS only; SCRAM-SHA-256 is covered by slixmpp below.
	if !strings.Contains(srv.Log(), "mechanism=PLAIN tls=true") {
		t.Errorf("go-sendxmpp did not authenticate with PLAIN over TLS; server log:\n%s", srv.Log())
	}

	t.Run("wrong password", func(t *testing.T) {
		res := peer.Run(t, 30*time.Second, "x\n", bin, "-u", "alice@localhost", "-p", "wrong", "-j", srv.Addr("c2s").String(), "-n", "bob@localhost")
		if res.Err == nil {
			t.Fatalf("go-sendxmpp with a wrong password succeeded")
		}
		if !strings.Contains(srv.Log(), "condition=not-authorized") {
			t.Fatalf("server did not log a not-authorized failure")
		}
	})
}

func TestSlixmpp(t *testing.T) {
	py := peer.Binary(t, "/usr/bin/python3", "python3")
	peerCheckSlixmpp(t, py)
	srv := gatewaytest.Start(t)
	srv.AddUser(t, "alice", pw)
	srv.AddUser(t, "bob", pw)
	script := "../testdata/clients/slixclient.py"
	for _, tc := range []struct {
		name  string
		addr  string
		flags []string
	}{
		{"starttls scram-sha-256", srv.Addr("c2s").String(), nil},
		{"direct tls scram-sha-256", srv.Addr("c2s_tls").String(), []string{"--direct-tls"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			port := tc.addr[strings.LastIndex(tc.addr, ":")+1:]
			args := append([]string{script, "--mode", "exchange", "--port", port, "--a", "alice@localhost/slix", "--b", "bob@localhost/slix", "--mech", "SCRAM-SHA-256"}, tc.flags...)
			res := peer.Run(t, 60*time.Second, pw+"\n"+pw+"\n", py, args...)
			if res.Err != nil {
				t.Fatalf("slixmpp exchange failed: %v", res.Err)
			}
			for _, want := range []string{"A bound alice@localhost/slix", "A ping ok", "B got: hello from slixmpp", "A got: pong: hello from slixmpp", "OK"} {
				if !strings.Contains(res.Stdout, want) {
					t.Errorf("slixmpp output lacks %q:\n%s", want, res.Stdout)
				}
			}
		})
	}
	t.Run("wrong password", func(t *testing.T) {
		port := srv.Addr("c2s").String()
		port = port[strings.LastIndex(port, ":")+1:]
		res := peer.Run(t, 60*time.Second, "wrong\n", py, script, "--mode", "badauth", "--port", port, "--a", "alice@localhost/slix", "--mech", "SCRAM-SHA-256")
		if !strings.Contains(res.Stdout, "AUTH FAILED not-authorized") {
			t.Fatalf("got %q, want AUTH FAILED not-authorized", res.Stdout)
		}
	})
}

// peerCheckSlixmpp fails (CI) or skips when python3-slixmpp is missing.
func peerCheckSlixmpp(t *testing.T, py string) {
	t.Helper()
	res := peer.Run(t, 30*time.Second, "", py, "-c", "import slixmpp")
	if res.Err != nil {
		peer.Binary(t, "slixmpp-is-not-installed", "python3-slixmpp")
	}
}
