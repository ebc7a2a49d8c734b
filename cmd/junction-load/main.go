// Command junction-load puts an XMPP server under load and measures it:
// any server, over STARTTLS or direct TLS, with SCRAM or PLAIN.
//
//	junction-load -addr 127.0.0.1:5222 -domain example.org -register -password pw -scenario throughput
//
// Scenarios:
//
//	idle        connect -n sessions (TLS, SASL, bind, initial presence), hold
//	            them, and report the server's RSS per session (needs -pid)
//	throughput  -pairs sender/receiver pairs, -window chat messages in flight
//	            per pair, refilled on receipt: delivered msgs/s and latency
//	rate        the same pairs sending -rate messages/s in total on a fixed
//	            schedule; latency counts from the scheduled send time
//	logins      -n logins, -concurrency at a time: logins/s and, with -pid,
//	            the server's CPU time per login
//	muc         -occupants sessions join one room (-room on -muc-domain, the
//	            first creates it as an instant room) and one of them sends
//	            groupchat messages: with -window messages in flight (max
//	            rate) or at -rate delivered stanzas/s; delivered stanzas/s
//	            (one per occupant per message) and latency at every occupant
//
// "junction-load compare DIR" prints a table of the results saved as
// DIR/SERVER-SCENARIO.json (with -json), one column per server and the
// ratios of the first server to the others (bench/compare.sh uses it).
//
// Accounts are user-pattern with %d from 0 up, all with one password;
// -register creates them with in-band registration (XEP-0077) first. With
// -pid the tool reads the server's VmRSS and utime+stime from /proc. It
// prints a summary and, with -json, writes the full result. It exits with
// status 1 when the run fails (refused connection, failed login, dropped
// sessions), 2 on bad flags, and 3 when -max-disturbance is set and other
// processes took more of the pinned CPUs than it allows.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
)

const usage = `usage: junction-load -addr HOST:PORT -domain DOMAIN -password PW [-register] -scenario idle|throughput|rate|logins|muc [flags]
       junction-load compare [-servers junction,prosody,ejabberd] DIR

`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is main without the process.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "compare" {
		return runCompare(args[1:], stdout, stderr)
	}
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "junction-load: %v\n", err)
		return 2
	}
	if cfg.Password == "" {
		cfg.Password = os.Getenv("JUNCTION_LOAD_PASSWORD")
	}
	cfg.Progress = stderr
	if err := cfg.validate(); err != nil {
		fmt.Fprintf(stderr, "junction-load: %v\n", err)
		return 2
	}
	if cfg.CPUProfile != "" {
		stop, err := startProfile(cfg.CPUProfile)
		if err != nil {
			fmt.Fprintf(stderr, "junction-load: %v\n", err)
			return 1
		}
		defer stop()
	}
	r, err := runScenario(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "junction-load: %s against %s failed: %v\n", cfg.Scenario, cfg.Addr, err)
		return 1
	}
	r.summary(stdout)
	if cfg.JSONPath != "" {
		if err := r.writeJSON(cfg.JSONPath); err != nil {
			fmt.Fprintf(stderr, "junction-load: %v\n", err)
			return 1
		}
	}
	if d := r.Server.disturbance(); d != nil && cfg.MaxDisturbance > 0 &&
		(d.ServerOther > cfg.MaxDisturbance || d.LoadOther > cfg.MaxDisturbance) {
		fmt.Fprintf(stderr, "junction-load: other processes took %.1f%% of CPU %d and %.1f%% of CPU %d, more than -max-disturbance %g%%\n",
			d.ServerOther, d.ServerCPU, d.LoadOther, d.LoadCPU, cfg.MaxDisturbance)
		return exitDisturbed
	}
	return 0
}

// exitDisturbed is the exit status of a run that other processes disturbed
// beyond -max-disturbance.
const exitDisturbed = 3

// startProfile starts the CPU profile; the returned function ends it.
func startProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("CPU profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("CPU profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
