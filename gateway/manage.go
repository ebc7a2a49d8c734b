package gateway

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"junction/config"
	"junction/gateway/admin"
	"junction/xmpp/jid"
)

// ControlSocket is where the control socket lives under the data dir.
func ControlSocket(dataDir string) string { return filepath.Join(dataDir, "control.sock") }

// builtinDomains maps each configured built-in component domain to its kind.
func builtinDomains(cfg *config.Config) map[string]string {
	m := map[string]string{}
	for _, h := range cfg.Hosts {
		if h.MUC != "" {
			m[strings.ToLower(h.MUC)] = "muc"
		}
	}
	return m
}

// startBuiltin puts the built-in component of domain on the bus.
func (s *Server) startBuiltin(ctx context.Context, domain, kind string) error {
	d, err := jid.Parse(domain)
	if err != nil || !d.IsDomain() {
		return fmt.Errorf("%s: not a domain", domain)
	}
	if s.newBuiltin == nil {
		return fmt.Errorf("%s: no %s component in this build", domain, kind)
	}
	c, err := s.newBuiltin(kind, d)
	if err != nil {
		return fmt.Errorf("%s: %w", domain, err)
	}
	return s.bus.Add(ctx, c)
}

// startBuiltins starts every configured, enabled built-in component.
func (s *Server) startBuiltins(ctx context.Context) error {
	cfg := s.config()
	for d, kind := range builtinDomains(cfg) {
		if s.isDisabled(d) {
			continue
		}
		if err := s.startBuiltin(ctx, d, kind); err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) isDisabled(domain string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.disabled[domain]
}

// Components lists every configured component: domain, kind and state.
func (s *Server) Components() []string {
	cfg := s.config()
	var out []string
	for d, kind := range builtinDomains(cfg) {
		out = append(out, d+" "+kind+" "+s.state(d, "running", "stopped"))
	}
	for _, e := range cfg.Components.External {
		out = append(out, e.Domain+" external "+s.state(e.Domain, "connected", "not-connected"))
	}
	slices.Sort(out)
	return out
}

func (s *Server) state(domain, on, off string) string {
	switch {
	case s.isDisabled(domain):
		return "disabled"
	case s.bus.Has(domain):
		return on
	}
	return off
}

// SetComponentEnabled enables or disables a configured component at run
// time: a disabled built-in component stops, a disabled external one is
// disconnected and refused until enabled again.
func (s *Server) SetComponentEnabled(ctx context.Context, domain string, on bool) error {
	cfg := s.config()
	kind, builtin := builtinDomains(cfg)[domain]
	_, external := s.componentSecret(domain)
	if !builtin && !external {
		s.mu.Lock()
		external = s.disabled[domain] // disabled externals still count as configured
		s.mu.Unlock()
		if !external {
			return fmt.Errorf("%s is not a configured component", domain)
		}
	}
	s.mu.Lock()
	if on {
		delete(s.disabled, domain)
	} else {
		s.disabled[domain] = true
	}
	s.mu.Unlock()
	switch {
	case !on && s.bus.Has(domain):
		return s.bus.Remove(ctx, domain)
	case on && builtin && !s.bus.Has(domain):
		return s.startBuiltin(ctx, domain, kind)
	}
	return nil
}

// Reload applies a new configuration: component and registration changes
// take effect now; listener, TLS, store and host changes are logged as
// needing a restart.
func (s *Server) Reload(ctx context.Context, next *config.Config) error {
	prev := s.config()
	var restart []string
	if !slices.Equal(hostDomains(prev), hostDomains(next)) {
		restart = append(restart, "hosts")
	}
	if prev.C2S.Listen != next.C2S.Listen || prev.C2S.DirectTLSListen != next.C2S.DirectTLSListen ||
		prev.Components.Listen != next.Components.Listen || prev.Metrics.Listen != next.Metrics.Listen {
		restart = append(restart, "listeners")
	}
	if prev.TLS != next.TLS || prev.DataDir != next.DataDir || prev.Store != next.Store {
		restart = append(restart, "tls/data_dir/store")
	}
	s.cfgPtr.Store(next)

	var open []string
	for _, h := range next.Hosts {
		if h.Registration == "open" {
			open = append(open, h.Domain)
		}
	}
	s.register.SetOpen(open)

	before, after := builtinDomains(prev), builtinDomains(next)
	for d := range before {
		if _, keep := after[d]; !keep && s.bus.Has(d) {
			if err := s.bus.Remove(ctx, d); err != nil {
				s.log.Warn("stopping removed component", "domain", d, "err", err)
			}
		}
	}
	for d, kind := range after {
		if _, had := before[d]; !had && !s.isDisabled(d) {
			if err := s.startBuiltin(ctx, d, kind); err != nil {
				s.log.Error("starting added component", "domain", d, "err", err)
			}
		}
	}
	for _, e := range prev.Components.External {
		if _, still := s.componentSecret(e.Domain); !still && s.bus.Has(e.Domain) {
			s.bus.Remove(ctx, e.Domain)
		}
	}
	if len(restart) > 0 {
		s.log.Warn("configuration reloaded; some changes need a restart", "changed", strings.Join(restart, ", "))
	} else {
		s.log.Info("configuration reloaded")
	}
	return nil
}

func hostDomains(c *config.Config) []string {
	var out []string
	for _, h := range c.Hosts {
		out = append(out, h.Domain)
	}
	return out
}

// adminCommand answers the control socket.
func (s *Server) adminCommand(ctx context.Context, args []string) (string, error) {
	usage := fmt.Errorf("unknown command %q (known: component list|enable DOMAIN|disable DOMAIN)", strings.Join(args, " "))
	if len(args) < 2 || args[0] != "component" {
		return "", usage
	}
	switch {
	case args[1] == "list" && len(args) == 2:
		return strings.Join(s.Components(), "\n") + "\n", nil
	case (args[1] == "enable" || args[1] == "disable") && len(args) == 3:
		if err := s.SetComponentEnabled(ctx, strings.ToLower(args[2]), args[1] == "enable"); err != nil {
			return "", err
		}
		return args[2] + " " + args[1] + "d\n", nil
	}
	return "", usage
}

// startAdmin opens the control socket.
func (s *Server) startAdmin() error {
	a, err := admin.Listen(ControlSocket(s.config().DataDir), s.adminCommand, s.log.With("component", "admin"))
	if err != nil {
		return err
	}
	s.admin = a
	return nil
}
