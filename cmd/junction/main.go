// Command junction is the Junction XMPP server and its admin tool.
//
//	junction serve [-config FILE]
//	junction user add|del|passwd JID [-config FILE]
//	junction user list [HOST] [-config FILE]
//	junction config check FILE
//	junction config example
//	junction version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"junction/config"
	"junction/gateway"
	"junction/registry/sqlite"
)

// shutdownTimeout bounds a graceful stop.
const shutdownTimeout = 15 * time.Second

const usage = `usage:
  junction serve [-config FILE]               run the server
  junction user add JID [-config FILE]         create an account (password from prompt or stdin)
  junction user passwd JID [-config FILE]      change a password
  junction user del JID [-config FILE]         delete an account and all its data
  junction user list [HOST] [-config FILE]     list accounts
  junction component list [-config FILE]      list components and their state (running server)
  junction component enable|disable DOMAIN    turn a component on or off without a restart
  junction component connect -server HOST:PORT -domain DOMAIN [-config FILE]
                                              run the MUC service on another server (Prosody, ejabberd)
                                              over XEP-0114; secret from JUNCTION_COMPONENT_SECRET or stdin
  junction config check FILE                  validate a configuration file
  junction config example                     print the default configuration, every key explained
  junction version                            print the version
`

func main() {
	code := run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	os.Exit(code)
}

// run is main without the process: testable with arguments and streams.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = cmdServe(ctx, args[1:], stderr)
	case "user":
		err = cmdUser(ctx, args[1:], stdin, stdout, stderr)
	case "config":
		err = cmdConfig(args[1:], stdout)
	case "component":
		err = cmdComponent(ctx, args[1:], stdin, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "junction", version())
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "junction: unknown command %q\n%s", args[0], usage)
		return 2
	}
	if err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "junction: %v\n%s", err, usage)
			return 2
		}
		fmt.Fprintf(stderr, "junction: %v\n", err)
		return 1
	}
	return 0
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		v := bi.Main.Version
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return v + " (" + s.Value[:12] + ")"
			}
		}
		return v
	}
	return "(unknown)"
}

// flags parses -config among positional arguments, in any order.
func flags(name string, args []string) (cfgPath string, rest []string, err error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&cfgPath, "config", os.Getenv("JUNCTION_CONFIG"), "configuration file (YAML)")
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			return "", nil, usageError{err.Error()}
		}
		args = fs.Args()
		if len(args) > 0 {
			rest = append(rest, args[0])
			args = args[1:]
		}
	}
	return cfgPath, rest, nil
}

func newLogger(c config.Log, w io.Writer) *slog.Logger {
	var lvl slog.Level
	lvl.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: lvl}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func cmdServe(ctx context.Context, args []string, stderr io.Writer) error {
	cfgPath, rest, err := flags("serve", args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageError{"serve takes no arguments"}
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return err
	}
	log := newLogger(cfg.Log, stderr)
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	store, err := sqlite.Open(ctx, cfg.StorePath())
	if err != nil {
		return err
	}
	defer store.Close()

	srv, err := gateway.New(cfg, store, gateway.Options{Version: version(), Logger: log})
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	if err := srv.Start(ctx); err != nil {
		return err
	}
	log.Info("junction started", "version", version(), "hosts", len(cfg.Hosts), "data_dir", cfg.DataDir)
	var serveErr error
loop:
	for {
		select {
		case <-ctx.Done():
			log.Info("shutting down")
			break loop
		case serveErr = <-srv.Errors():
			log.Error("shutting down after a listener failed", "err", serveErr)
			break loop
		case <-hup:
			// A bad file changes nothing and says why.
			next, err := config.Load(cfgPath)
			if err == nil {
				err = checkHosts(next)
			}
			if err != nil {
				log.Error("configuration reload refused; still running the previous one", "err", err)
				continue
			}
			srv.Reload(ctx, next)
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("shutdown incomplete", "err", err)
	}
	log.Info("stopped")
	return serveErr
}

func cmdConfig(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError{"config needs a verb: check or example"}
	}
	switch args[0] {
	case "check":
		if len(args) != 2 {
			return usageError{"config check needs exactly one FILE"}
		}
		cfg, err := config.Load(args[1])
		if err != nil {
			return err
		}
		if err := checkHosts(cfg); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: ok (%d host(s))\n", args[1], len(cfg.Hosts))
		return nil
	case "example":
		stdout.Write(config.DefaultsYAML())
		return nil
	default:
		return usageError{fmt.Sprintf("unknown config verb %q", args[0])}
	}
}
