package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"junction/xmpp/xmpptest"
)

// writeConfig writes a config using a temp data dir and free ports.
func writeConfig(t *testing.T, extra string) string {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "junction.yaml")
	cfg := "data_dir: " + filepath.Join(dir, "data") + "\n" + extra
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestUserCommands(t *testing.T) {
	cfg := writeConfig(t, "hosts:\n  - domain: localhost\n  - domain: example.org\n")
	for _, tc := range []struct {
		name       string
		stdin      string
		args       []string
		wantCode   int
		wantOut    string
		wantErrOut string
	}{
		{"add", "s3cret\n", []string{"user", "add", "alice@localhost", "-config", cfg}, 0, "created alice@localhost", ""},
		{"add normalizes case", "pw\n", []string{"user", "add", "Bob@Example.ORG", "-config", cfg}, 0, "created bob@example.org", ""},
		{"add duplicate", "s3cret\n", []string{"user", "add", "alice@localhost", "-config", cfg}, 1, "", "alice@localhost already exists"},
		{"add empty password", "\n", []string{"user", "add", "carol@localhost", "-config", cfg}, 1, "", "empty password"},
		{"add unknown host", "pw\n", []string{"user", "add", "dave@elsewhere.net", "-config", cfg}, 1, "", "elsewhere.net is not a host of this server"},
		{"add full jid", "pw\n", []string{"user", "add", "dave@localhost/res", "-config", cfg}, 1, "", "an account is a bare JID"},
		{"add invalid jid", "pw\n", []string{"user", "add", "a@@b", "-config", cfg}, 1, "", "jid:"},
		{"list", "", []string{"user", "list", "-config", cfg}, 0, "alice@localhost\nbob@example.org\n", ""},
		{"list one host", "", []string{"user", "list", "example.org", "-config", cfg}, 0, "bob@example.org\n", ""},
		{"passwd", "n3w\n", []string{"user", "passwd", "alice@localhost", "-config", cfg}, 0, "password changed for alice@localhost", ""},
		{"passwd missing", "n3w\n", []string{"user", "passwd", "zed@localhost", "-config", cfg}, 1, "", "zed@localhost does not exist"},
		{"del", "", []string{"user", "del", "bob@example.org", "-config", cfg}, 0, "deleted bob@example.org", ""},
		{"del missing", "", []string{"user", "del", "bob@example.org", "-config", cfg}, 1, "", "does not exist"},
		{"no jid", "", []string{"user", "add", "-config", cfg}, 2, "", "needs exactly one JID"},
		{"unknown verb", "", []string{"user", "frob", "x@localhost", "-config", cfg}, 2, "", "unknown user verb"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tc.stdin, tc.args...)
			if code != tc.wantCode {
				t.Fatalf("got exit %d, want %d (stdout %q, stderr %q)", code, tc.wantCode, out, errOut)
			}
			if !strings.Contains(out, tc.wantOut) {
				t.Errorf("got stdout %q, want it to contain %q", out, tc.wantOut)
			}
			if !strings.Contains(errOut, tc.wantErrOut) {
				t.Errorf("got stderr %q, want it to contain %q", errOut, tc.wantErrOut)
			}
		})
	}
}

func TestConfigCheck(t *testing.T) {
	good := writeConfig(t, "hosts:\n  - domain: localhost\n")
	bad := writeConfig(t, "c2s:\n  max_stanza_bytes: 10\n")
	badHost := writeConfig(t, "hosts:\n  - domain: \"[not-an-ip]\"\n")
	for _, tc := range []struct {
		name     string
		file     string
		wantCode int
		want     string
	}{
		{"good", good, 0, "ok (1 host(s))"},
		{"bad value names key and line", bad, 1, "c2s.max_stanza_bytes ("},
		{"bad host", badHost, 1, "hosts[0].domain"},
		{"missing file", filepath.Join(t.TempDir(), "nope.yaml"), 1, "nope.yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", "config", "check", tc.file)
			if code != tc.wantCode || !strings.Contains(out+errOut, tc.want) {
				t.Fatalf("got exit %d, output %q; want exit %d containing %q", code, out+errOut, tc.wantCode, tc.want)
			}
		})
	}
}

// TestServeAndSignal runs the real binary: a client logs in, SIGTERM makes
// the server close the stream with system-shutdown and exit 0.
func TestServeAndSignal(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "junction")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	addr := freeAddr(t)
	tlsAddr := freeAddr(t)
	cfg := writeConfig(t, "c2s:\n  listen: "+addr+"\n  direct_tls_listen: "+tlsAddr+"\nmetrics:\n  listen: \"\"\n")
	add := exec.Command(bin, "user", "add", "alice@localhost", "-config", cfg)
	add.Stdin = strings.NewReader("pw\n")
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	srv := exec.Command(bin, "serve", "-config", cfg)
	var logs syncBuffer
	srv.Stderr = &logs
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Wait() }()
	t.Cleanup(func() { srv.Process.Kill() })

	c := dialRetry(t, addr)
	c.StartTLS()
	if err := c.Auth("SCRAM-SHA-256", "alice", "pw"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Bind("r"); err != nil {
		t.Fatal(err)
	}
	c.Ping()
	srv.Process.Signal(syscall.SIGTERM)
	if got := c.StreamError(); got != "system-shutdown" {
		t.Fatalf("got stream error %q, want system-shutdown\n%s", got, logs.String())
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve exited with %v\n%s", err, logs.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("serve did not exit after SIGTERM\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "pw") && strings.Contains(logs.String(), "password") {
		t.Errorf("log mentions the password:\n%s", logs.String())
	}
}

// TestOfflineMessagesSurviveSIGKILL: messages stored for an offline user
// survive a server killed without warning, and arrive exactly once.
func TestOfflineMessagesSurviveSIGKILL(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "junction")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	addr := freeAddr(t)
	cfg := writeConfig(t, "c2s:\n  listen: "+addr+"\n  direct_tls_listen: \"\"\nmetrics:\n  listen: \"\"\n")
	for _, u := range []string{"alice@localhost", "bob@localhost"} {
		add := exec.Command(bin, "user", "add", u, "-config", cfg)
		add.Stdin = strings.NewReader("pw\n")
		if out, err := add.CombinedOutput(); err != nil {
			t.Fatalf("user add: %v\n%s", err, out)
		}
	}
	start := func() *exec.Cmd {
		srv := exec.Command(bin, "serve", "-config", cfg)
		if err := srv.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
		return srv
	}
	login := func(user string) *xmpptest.Client {
		c := dialRetry(t, addr)
		c.StartTLS()
		if err := c.Auth("SCRAM-SHA-256", user, "pw"); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Bind("r"); err != nil {
			t.Fatal(err)
		}
		return c
	}

	srv := start()
	alice := login("alice")
	const n = 5
	for i := range n {
		alice.Send("<message to='bob@localhost' type='chat'><body>m" + strconv.Itoa(i) + "</body></message>")
	}
	if got := alice.Ping(); len(got) != 0 {
		t.Fatalf("alice got %s, want no bounce", xmpptest.XML(got[0]))
	}
	srv.Process.Signal(syscall.SIGKILL)
	srv.Wait()

	start()
	count := func() []string {
		bob := login("bob")
		bob.Send("<presence/>")
		var bodies []string
		for _, m := range bob.Ping() {
			if b := m.Child("", "body"); m.Name.Local == "message" && b != nil {
				bodies = append(bodies, b.Text)
			}
		}
		bob.Close()
		return bodies
	}
	if got, want := strings.Join(count(), ","), "m0,m1,m2,m3,m4"; got != want {
		t.Fatalf("after SIGKILL and restart bob got %q, want %q", got, want)
	}
	if got := count(); len(got) != 0 {
		t.Fatalf("second login got %v again, want nothing", got)
	}
}

// TestReloadAndComponentVerbs: SIGHUP adds a MUC service from the edited
// file, a broken file changes nothing, and the component verbs reach the
// running server through its control socket.
func TestReloadAndComponentVerbs(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "junction")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	addr := freeAddr(t)
	base := "c2s:\n  listen: " + addr + "\n  direct_tls_listen: \"\"\nmetrics:\n  listen: \"\"\n"
	cfg := writeConfig(t, base)
	srv := exec.Command(bin, "serve", "-config", cfg)
	var logs syncBuffer
	srv.Stderr = &logs
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	dialRetry(t, addr)

	cli := func(args ...string) (int, string) {
		code, out, errOut := runCLI(t, "", append(args, "-config", cfg)...)
		return code, out + errOut
	}
	if code, out := cli("component", "list"); code != 0 || !strings.HasPrefix(out, "no components configured") {
		t.Fatalf("list before reload: exit %d, %q", code, out)
	}
	data, _ := os.ReadFile(cfg)
	edited := strings.Replace(string(data), "c2s:", "hosts:\n  - domain: localhost\n    muc: conference.localhost\nc2s:", 1)
	reload := func(content, wantList string) {
		t.Helper()
		if err := os.WriteFile(cfg, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		srv.Process.Signal(syscall.SIGHUP)
		deadline := time.Now().Add(15 * time.Second)
		for {
			_, out := cli("component", "list")
			if strings.TrimSpace(out) == wantList {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("after SIGHUP: list %q, want %q\n%s", out, wantList, logs.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	reload(edited, "conference.localhost muc running")
	// A broken file is refused and changes nothing.
	os.WriteFile(cfg, []byte(edited+"\nnot: [valid\n"), 0o600)
	srv.Process.Signal(syscall.SIGHUP)
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(logs.String(), "reload refused") {
		if time.Now().After(deadline) {
			t.Fatalf("no log about the refused reload:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	os.WriteFile(cfg, []byte(edited), 0o600)
	if _, out := cli("component", "list"); strings.TrimSpace(out) != "conference.localhost muc running" {
		t.Fatalf("got %q after a refused reload", out)
	}

	if code, out := cli("component", "disable", "conference.localhost"); code != 0 {
		t.Fatalf("disable: %d %s", code, out)
	}
	if _, out := cli("component", "list"); strings.TrimSpace(out) != "conference.localhost muc disabled" {
		t.Fatalf("got %q after disable", out)
	}
	if code, out := cli("component", "enable", "conference.localhost"); code != 0 {
		t.Fatalf("enable: %d %s", code, out)
	}
	if _, out := cli("component", "list"); strings.TrimSpace(out) != "conference.localhost muc running" {
		t.Fatalf("got %q after enable", out)
	}
	if code, out := cli("component", "disable", "nope.localhost"); code != 1 || !strings.Contains(out, "not a configured component") {
		t.Fatalf("disable unknown: %d %q", code, out)
	}
}
