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
	p := Launch(t, name, args...)
	return p.Cmd, p.Output
}

// Process is a long-running peer program started by Launch.
type Process struct {
	Cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{}
	err  error
}

// Launch starts a long-running peer command with HOME in a temporary
// directory; it is killed when the test ends, and its combined output is
// logged then.
func Launch(t testing.TB, name string, args ...string) *Process {
	t.Helper()
	p := &Process{Cmd: exec.Command(name, args...), out: newLockedBuffer(), done: make(chan struct{})}
	p.Cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	p.Cmd.Stdout, p.Cmd.Stderr = p.out, p.out
	if err := p.Cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		p.err = p.Cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.Cmd.Process.Kill()
		<-p.done
		t.Logf("%s output:\n%s", name, p.out.String())
	})
	return p
}

// Output returns what the process has written so far.
func (p *Process) Output() string { return p.out.String() }

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Err is the process's exit status; it is only meaningful after Done.
func (p *Process) Err() error {
	select {
	case <-p.done:
		return p.err
	default:
		return nil
	}
}

// WaitOutput waits until the process's output contains substr and
// reports whether it did; it gives up when the process exits or after
// timeout.
func (p *Process) WaitOutput(substr string, timeout time.Duration) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		text, changed := p.out.snapshot()
		if strings.Contains(text, substr) {
			return true
		}
		select {
		case <-changed:
		case <-p.done:
			return strings.Contains(p.out.String(), substr)
		case <-deadline.C:
			return false
		}
	}
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
