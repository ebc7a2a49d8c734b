package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"junction/config"
	"junction/gateway"
	"junction/gateway/bus"
	"junction/registry/sqlite"
	"junction/xmpp/component"
	"junction/xmpp/jid"
)

// cmdComponentConnect runs one of Junction's own components (the MUC
// service) against another server over XEP-0114, reconnecting when that
// server restarts. The secret comes from JUNCTION_COMPONENT_SECRET or one
// line on stdin, never from the command line.
func cmdComponentConnect(ctx context.Context, args []string, stdin io.Reader, stderr io.Writer) error {
	var server, domain, kind string
	rest := args
	var cfgPath string
	for len(rest) > 0 {
		a := rest[0]
		rest = rest[1:]
		val := func() (string, error) {
			if len(rest) == 0 {
				return "", usageError{a + " needs a value"}
			}
			v := rest[0]
			rest = rest[1:]
			return v, nil
		}
		var err error
		switch strings.TrimLeft(a, "-") {
		case "server":
			server, err = val()
		case "domain":
			domain, err = val()
		case "kind":
			kind, err = val()
		case "config":
			cfgPath, err = val()
		default:
			return usageError{"component connect: unknown argument " + a}
		}
		if err != nil {
			return err
		}
	}
	if server == "" || domain == "" {
		return usageError{"component connect needs -server HOST:PORT and -domain DOMAIN"}
	}
	if kind == "" {
		kind = "muc"
	}
	d, err := jid.Parse(domain)
	if err != nil || !d.IsDomain() {
		return fmt.Errorf("-domain %q is not a domain", domain)
	}
	secret := os.Getenv("JUNCTION_COMPONENT_SECRET")
	if secret == "" {
		line, err := bufio.NewReaderSize(io.LimitReader(stdin, 1024), 1024).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read the component secret from stdin: %w", err)
		}
		secret = strings.TrimRight(line, "\r\n")
	}
	if secret == "" {
		return errors.New("no component secret: set JUNCTION_COMPONENT_SECRET or pass it on stdin")
	}
	if cfgPath == "" {
		cfgPath = os.Getenv("JUNCTION_CONFIG")
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
	comp, err := gateway.NewBuiltin(kind, d, store, log, nil)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	log.Info("running component against another server", "kind", kind, "domain", d.String(), "server", server)
	return bus.RunRemote(ctx, comp, component.DialConfig{
		Addr:           server,
		Domain:         d,
		Secret:         secret,
		MaxStanzaBytes: cfg.C2S.MaxStanzaBytes,
		Logger:         log.With("component", "xep0114"),
	}, log)
}
