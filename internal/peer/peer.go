// Package peer finds and starts the real software Junction's tests talk to
// (XMPP clients now; IRC, mail, SMS and XMPP servers as transports arrive),
// on loopback, with configuration in the test's temporary directory. With
// CI=true a missing peer fails the test instead of skipping it.
package peer

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Binary returns the path of the named program, or ends the test: a skip
// on a developer machine, a failure in CI.
func Binary(t testing.TB, name, debianPackage string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	msg := name + " not found; install the Debian package " + debianPackage + " (./test.sh does it as root)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// Result is what a finished peer process left behind.
type Result struct {
	Stdout, Stderr string
	Err            error
}

// Run runs a peer command to completion within timeout, with its output
// captured and logged to the test.
func Run(t testing.TB, timeout time.Duration, stdin string, name string, args ...string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Run()
	if ctx.Err() != nil {
		err = ctx.Err()
	}
	t.Logf("%s %s: err=%v\nstdout:\n%s\nstderr:\n%s", name, strings.Join(redact(args), " "), err, out.String(), errb.String())
	return Result{Stdout: out.String(), Stderr: errb.String(), Err: err}
}

// Start starts a long-running peer command; it is killed when the test
// ends. Its combined output is returned by the function Start returns.
func Start(t testing.TB, name string, args ...string) (cmd *exec.Cmd, output func() string) {
	t.Helper()
	cmd = exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	buf := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = buf, buf
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		t.Logf("%s output:\n%s", name, buf.String())
	})
	return cmd, buf.String
}

// redact hides the value after a password flag in logged command lines.
func redact(args []string) []string {
	out := append([]string(nil), args...)
	for i := 0; i+1 < len(out); i++ {
		if out[i] == "-p" || out[i] == "--password" {
			out[i+1] = "***"
		}
	}
	return out
}
