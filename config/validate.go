package config

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits on values an admin may set.
const (
	minStanzaBytes         = 4096
	maxStanzaBytes         = 16 << 20
	minNegotiationTimeout  = time.Second
	maxNegotiationTimeout  = 10 * time.Minute
	minIdleTimeout         = 10 * time.Second
	maxIdleTimeout         = 24 * time.Hour
	minAuthAttempts        = 1
	maxAuthAttempts        = 100
	minQueueSize           = 8
	maxQueueSize           = 65536
	maxDomainBytes         = 1023 // RFC 7622 §3.2
	listenExampleC2S       = "127.0.0.1:5222"
	listenExampleDirectTLS = "127.0.0.1:5223"
	listenExampleMetrics   = "127.0.0.1:9477"
)

var (
	storeDrivers = []string{"sqlite"}
	logLevels    = []string{"debug", "info", "warn", "error"}
	logFormats   = []string{"text", "json"}
)

// validate returns every problem with c's values, in key order, without
// locations.
func (c *Config) validate() []*FieldError {
	var errs []*FieldError
	bad := func(key, format string, args ...any) {
		errs = append(errs, &FieldError{Key: key, Msg: fmt.Sprintf(format, args...)})
	}

	if c.DataDir == "" {
		bad("data_dir", "must not be empty (it holds the database and the generated certificate)")
	}

	if len(c.Hosts) == 0 {
		bad("hosts", "at least one host is required")
	}
	seen := map[string]bool{}
	for i, h := range c.Hosts {
		key := fmt.Sprintf("hosts[%d].domain", i)
		if msg := checkDomain(h.Domain); msg != "" {
			bad(key, "%s", msg)
			continue
		}
		switch h.Registration {
		case "", "open", "closed":
		default:
			bad(fmt.Sprintf("hosts[%d].registration", i), "must be open or closed, got %q", h.Registration)
		}
		d := strings.ToLower(h.Domain)
		if seen[d] {
			bad(key, "duplicate host %q", h.Domain)
		}
		seen[d] = true
	}

	switch {
	case c.TLS.CertFile != "" && c.TLS.KeyFile == "":
		bad("tls.cert_file", "tls.key_file must be set too (set both, or neither for a generated certificate)")
	case c.TLS.CertFile == "" && c.TLS.KeyFile != "":
		bad("tls.key_file", "tls.cert_file must be set too (set both, or neither for a generated certificate)")
	}

	listeners := []struct{ key, addr, example string }{
		{"c2s.listen", c.C2S.Listen, listenExampleC2S},
		{"c2s.direct_tls_listen", c.C2S.DirectTLSListen, listenExampleDirectTLS},
		{"metrics.listen", c.Metrics.Listen, listenExampleMetrics},
		{"components.listen", c.Components.Listen, "127.0.0.1:5347"},
	}
	for i, ln := range listeners {
		if msg := checkListen(ln.addr, ln.example); msg != "" {
			bad(ln.key, "%s", msg)
			continue
		}
		for _, prev := range listeners[:i] {
			if ln.addr != "" && ln.addr == prev.addr && !strings.HasSuffix(ln.addr, ":0") {
				bad(ln.key, "same address as %s (%q)", prev.key, ln.addr)
				break
			}
		}
	}

	componentDomains := map[string]string{}
	for i, h := range c.Hosts {
		if h.MUC == "" {
			continue
		}
		key := fmt.Sprintf("hosts[%d].muc", i)
		if msg := checkDomain(h.MUC); msg != "" {
			bad(key, "%s", msg)
			continue
		}
		d := strings.ToLower(h.MUC)
		if seen[d] {
			bad(key, "%q is also a host; a component needs a domain of its own", h.MUC)
		} else if prev, dup := componentDomains[d]; dup {
			bad(key, "%q is already used by %s", h.MUC, prev)
		}
		componentDomains[d] = key
	}
	for i, e := range c.Components.External {
		key := fmt.Sprintf("components.external[%d]", i)
		if msg := checkDomain(e.Domain); msg != "" {
			bad(key+".domain", "%s", msg)
			continue
		}
		d := strings.ToLower(e.Domain)
		if seen[d] {
			bad(key+".domain", "%q is also a host; a component needs a domain of its own", e.Domain)
		} else if prev, dup := componentDomains[d]; dup {
			bad(key+".domain", "%q is already used by %s", e.Domain, prev)
		}
		componentDomains[d] = key + ".domain"
		if len(e.Secret) < 8 {
			bad(key+".secret", "must be at least 8 characters (the component authenticates with it)")
		}
	}
	if len(c.Components.External) > 0 && c.Components.Listen == "" {
		bad("components.listen", "must be set when components.external lists components")
	}

	intRange := func(key string, v, lo, hi int) {
		if v < lo || v > hi {
			bad(key, "must be between %d and %d, got %d", lo, hi, v)
		}
	}
	durRange := func(key string, v, lo, hi time.Duration) {
		if v < lo || v > hi {
			bad(key, "must be between %s and %s, got %s", formatDuration(lo), formatDuration(hi), formatDuration(v))
		}
	}
	intRange("c2s.max_stanza_bytes", c.C2S.MaxStanzaBytes, minStanzaBytes, maxStanzaBytes)
	durRange("c2s.negotiation_timeout", c.C2S.NegotiationTimeout, minNegotiationTimeout, maxNegotiationTimeout)
	durRange("c2s.idle_timeout", c.C2S.IdleTimeout, minIdleTimeout, maxIdleTimeout)
	intRange("c2s.max_auth_attempts", c.C2S.MaxAuthAttempts, minAuthAttempts, maxAuthAttempts)
	intRange("c2s.queue_size", c.C2S.QueueSize, minQueueSize, maxQueueSize)
	if c.C2S.RegistrationsPerIPHour < 0 {
		bad("c2s.registrations_per_ip_hour", "must be 0 (no limit) or more, got %d", c.C2S.RegistrationsPerIPHour)
	}
	if c.C2S.MaxConnsPerIP < 0 {
		bad("c2s.max_conns_per_ip", "must be 0 (no limit) or more, got %d", c.C2S.MaxConnsPerIP)
	}

	choice := func(key, v string, choices []string) {
		if !slices.Contains(choices, v) {
			bad(key, "must be one of %s, got %q", oneOf(choices), v)
		}
	}
	choice("store.driver", c.Store.Driver, storeDrivers)
	choice("log.level", c.Log.Level, logLevels)
	choice("log.format", c.Log.Format, logFormats)
	return errs
}

// checkDomain loosely checks a host's domain and returns what is wrong with
// it, or "". Full JID domainpart validation (IDNA, length of labels) is the
// caller's.
func checkDomain(d string) string {
	switch {
	case d == "":
		return "must not be empty"
	case !utf8.ValidString(d):
		return fmt.Sprintf("must be valid UTF-8, got %q", d)
	case len(d) > maxDomainBytes:
		return fmt.Sprintf("must be at most %d bytes, got %d", maxDomainBytes, len(d))
	case strings.ContainsFunc(d, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		return fmt.Sprintf("must not contain spaces or control characters, got %q", d)
	case strings.ContainsAny(d, "@/"):
		return fmt.Sprintf(`must be a bare domain without "@" or "/", got %q`, d)
	case strings.Contains(d, ":") && !strings.HasPrefix(d, "["):
		return fmt.Sprintf("must be a domain without a port, got %q", d)
	}
	return ""
}

// checkListen returns what is wrong with a listen address, or "". The empty
// address turns a listener off.
func checkListen(addr, example string) string {
	if addr == "" {
		return ""
	}
	_, port, err := net.SplitHostPort(addr)
	if err == nil {
		_, err = strconv.ParseUint(port, 10, 16)
	}
	if err != nil {
		return fmt.Sprintf(`must be host:port (e.g. %s), or "" to turn it off, got %q`, example, addr)
	}
	return ""
}

// formatDuration writes d the way an admin would: 10m rather than 10m0s.
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}
