package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"junction/config"
	"junction/registry"
	"junction/registry/sqlite"
	"junction/xmpp/jid"
	"junction/xmpp/sasl"
)

// maxPasswordBytes bounds a password read from stdin.
const maxPasswordBytes = 1023

func cmdUser(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{"user needs a verb: add, del, passwd or list"}
	}
	verb := args[0]
	cfgPath, rest, err := flags("user "+verb, args[1:])
	if err != nil {
		return err
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	store, err := sqlite.Open(ctx, cfg.StorePath())
	if err != nil {
		return err
	}
	defer store.Close()

	if verb == "list" {
		if len(rest) > 1 {
			return usageError{"user list takes at most one HOST"}
		}
		hosts := rest
		if len(hosts) == 0 {
			for _, h := range cfg.Hosts {
				hosts = append(hosts, h.Domain)
			}
		}
		for _, h := range hosts {
			as, err := store.Accounts(ctx, h)
			if err != nil {
				return fmt.Errorf("list accounts of %s: %w", h, err)
			}
			for _, a := range as {
				fmt.Fprintf(stdout, "%s@%s\n", a.Username, a.Host)
			}
		}
		return nil
	}

	if len(rest) != 1 {
		return usageError{fmt.Sprintf("user %s needs exactly one JID, like alice@localhost", verb)}
	}
	user, err := accountJID(cfg, rest[0])
	if err != nil {
		return err
	}
	host, name := user.Domainpart(), user.Localpart()
	switch verb {
	case "add":
		pw, err := readPassword(stdin, stderr, true)
		if err != nil {
			return err
		}
		a := registry.Account{Host: host, Username: name, Created: time.Now().UTC()}
		if a.SHA1, a.SHA256, err = deriveKeys(pw); err != nil {
			return err
		}
		if err := store.CreateAccount(ctx, a); err != nil {
			if errors.Is(err, registry.ErrExists) {
				return fmt.Errorf("%s already exists", user)
			}
			return fmt.Errorf("create %s: %w", user, err)
		}
		fmt.Fprintf(stdout, "created %s\n", user)
	case "passwd":
		if _, err := store.Account(ctx, host, name); err != nil {
			return accountErr(user, err)
		}
		pw, err := readPassword(stdin, stderr, true)
		if err != nil {
			return err
		}
		k1, k256, err := deriveKeys(pw)
		if err != nil {
			return err
		}
		if err := store.SetAccountKeys(ctx, host, name, k1, k256); err != nil {
			return accountErr(user, err)
		}
		fmt.Fprintf(stdout, "password changed for %s\n", user)
	case "del":
		if err := store.DeleteAccount(ctx, host, name); err != nil {
			return accountErr(user, err)
		}
		fmt.Fprintf(stdout, "deleted %s\n", user)
	default:
		return usageError{fmt.Sprintf("unknown user verb %q", verb)}
	}
	return nil
}

func accountErr(user jid.JID, err error) error {
	if errors.Is(err, registry.ErrNotFound) {
		return fmt.Errorf("%s does not exist", user)
	}
	return fmt.Errorf("%s: %w", user, err)
}

// accountJID parses s as the bare JID of an account on a configured host.
func accountJID(cfg *config.Config, s string) (jid.JID, error) {
	j, err := jid.Parse(s)
	if err != nil {
		return jid.JID{}, fmt.Errorf("%q: %w", s, err)
	}
	if j.Localpart() == "" || j.Resourcepart() != "" {
		return jid.JID{}, fmt.Errorf("%q: an account is a bare JID like alice@%s", s, cfg.Hosts[0].Domain)
	}
	for _, h := range cfg.Hosts {
		if h.Domain == j.Domainpart() {
			return j, nil
		}
	}
	return jid.JID{}, fmt.Errorf("%s is not a host of this server (configured: %s)", j.Domainpart(), hostList(cfg))
}

func hostList(cfg *config.Config) string {
	var hs []string
	for _, h := range cfg.Hosts {
		hs = append(hs, h.Domain)
	}
	return strings.Join(hs, ", ")
}

// checkHosts validates host names as JID domainparts.
func checkHosts(cfg *config.Config) error {
	var errs []error
	for i, h := range cfg.Hosts {
		j, err := jid.Parse(h.Domain)
		if err != nil || !j.IsDomain() {
			errs = append(errs, fmt.Errorf("hosts[%d].domain: %q is not a valid XMPP domain", i, h.Domain))
		}
	}
	return errors.Join(errs...)
}

func deriveKeys(pw string) (registry.SCRAMKeys, registry.SCRAMKeys, error) {
	var out [2]registry.SCRAMKeys
	for i, h := range []sasl.Hash{sasl.SHA1, sasl.SHA256} {
		k, err := sasl.NewKeys(h, pw, sasl.DefaultIterations)
		if err != nil {
			return registry.SCRAMKeys{}, registry.SCRAMKeys{}, fmt.Errorf("password not usable: %w", err)
		}
		out[i] = registry.SCRAMKeys{Salt: k.Salt, Iterations: k.Iterations, StoredKey: k.StoredKey, ServerKey: k.ServerKey}
	}
	return out[0], out[1], nil
}

// readPassword prompts twice on a terminal; otherwise it reads one line from
// stdin. Passwords never come from the command line, where ps would show them.
func readPassword(stdin io.Reader, stderr io.Writer, confirm bool) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stderr, "Password: ")
		a, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		if confirm {
			fmt.Fprint(stderr, "Again: ")
			b, err := term.ReadPassword(int(f.Fd()))
			fmt.Fprintln(stderr)
			if err != nil {
				return "", fmt.Errorf("read password: %w", err)
			}
			if string(a) != string(b) {
				return "", errors.New("the passwords do not match")
			}
		}
		return checkPassword(string(a))
	}
	line, err := bufio.NewReaderSize(io.LimitReader(stdin, maxPasswordBytes+2), maxPasswordBytes+2).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from stdin: %w", err)
	}
	return checkPassword(strings.TrimRight(line, "\r\n"))
}

func checkPassword(pw string) (string, error) {
	switch {
	case pw == "":
		return "", errors.New("empty password")
	case len(pw) > maxPasswordBytes:
		return "", fmt.Errorf("password longer than %d bytes", maxPasswordBytes)
	}
	return pw, nil
}
