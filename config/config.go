// Package config loads Junction's configuration: one YAML file read through
// viper over embedded, documented defaults, then JUNCTION_* environment
// overrides, decoded strictly into a typed Config and validated. Every error
// about a key names the key and where its value came from (file and line, or
// environment variable), says what is wrong and what is expected.
package config

import (
	"bytes"
	"cmp"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/viper"
)

// defaultsYAML is both the built-in defaults and the documented example
// configuration; it must mention every key.
//
//go:embed defaults.yaml
var defaultsYAML []byte

// envPrefix starts every environment variable that overrides a key.
const envPrefix = "JUNCTION"

// Config is Junction's whole configuration.
type Config struct {
	DataDir string  `mapstructure:"data_dir"` // default "./junction-data"
	Hosts   []Host  `mapstructure:"hosts"`    // default [{domain: localhost}]
	TLS     TLS     `mapstructure:"tls"`
	C2S     C2S     `mapstructure:"c2s"`
	Store   Store   `mapstructure:"store"`
	Metrics Metrics `mapstructure:"metrics"`
	// Components configures the component bus (XEP-0114 and built-in
	// components such as the MUC service).
	Components Components `mapstructure:"components"`
	Log        Log        `mapstructure:"log"`
}

// Host is one XMPP domain served by Junction.
type Host struct {
	Domain string `mapstructure:"domain"` // loosely checked; the caller does full JID validation
	// MUC is the domain of this host's multi-user chat service
	// (e.g. conference.example.org); "" runs none.
	MUC string `mapstructure:"muc"`
	// Registration is "open" (anyone may create an account with in-band
	// registration, XEP-0077) or "closed" (the default; "" means closed).
	Registration string `mapstructure:"registration"`
}

// TLS names the certificate for all hosts.
type TLS struct {
	CertFile string `mapstructure:"cert_file"` // "" with KeyFile "": generate a self-signed one into DataDir
	KeyFile  string `mapstructure:"key_file"`
}

// C2S configures client connections.
type C2S struct {
	Listen             string        `mapstructure:"listen"`              // default "127.0.0.1:5222"; "" disables
	DirectTLSListen    string        `mapstructure:"direct_tls_listen"`   // default "127.0.0.1:5223"; "" disables
	RequireTLS         bool          `mapstructure:"require_tls"`         // default true
	MaxStanzaBytes     int           `mapstructure:"max_stanza_bytes"`    // default 262144; 4096..16777216
	NegotiationTimeout time.Duration `mapstructure:"negotiation_timeout"` // default 30s; 1s..10m
	IdleTimeout        time.Duration `mapstructure:"idle_timeout"`        // default 5m; 10s..24h
	MaxAuthAttempts    int           `mapstructure:"max_auth_attempts"`   // default 5; 1..100
	QueueSize          int           `mapstructure:"queue_size"`          // default 32; 8..65536
	MaxConnsPerIP      int           `mapstructure:"max_conns_per_ip"`    // default 100; 0 = unlimited
	// RegistrationsPerIPHour bounds in-band registrations from one IP
	// address per hour on hosts with open registration; 0 = unlimited.
	RegistrationsPerIPHour int `mapstructure:"registrations_per_ip_hour"` // default 5
}

// Store selects the database.
type Store struct {
	Driver string `mapstructure:"driver"` // "sqlite"
	Path   string `mapstructure:"path"`   // "" → <data_dir>/junction.db
}

// Components configures the component bus.
type Components struct {
	// Listen is the host:port where external XEP-0114 components connect;
	// "" (the default) turns it off.
	Listen string `mapstructure:"listen"`
	// External are the components allowed to connect, each with its secret.
	External []ExternalComponent `mapstructure:"external"`
}

// ExternalComponent is one XEP-0114 component allowed to connect.
type ExternalComponent struct {
	Domain string `mapstructure:"domain"`
	Secret string `mapstructure:"secret"`
}

// Metrics configures the Prometheus endpoint.
type Metrics struct {
	Listen string `mapstructure:"listen"` // default "127.0.0.1:9477"; "" disables
}

// Log configures logging.
type Log struct {
	Level  string `mapstructure:"level"`  // debug|info|warn|error, default info
	Format string `mapstructure:"format"` // text|json, default text
}

// DefaultsYAML returns the embedded defaults.yaml: the defaults, every key
// commented, usable as an example configuration file.
func DefaultsYAML() []byte {
	return bytes.Clone(defaultsYAML)
}

// Default returns the embedded defaults, without environment overrides.
func Default() *Config {
	c, err := load("", nil, false)
	if err != nil {
		// TestDefault keeps this unreachable.
		panic("config: embedded defaults are invalid: " + err.Error())
	}
	return c
}

// Load reads the YAML file at path over the embedded defaults, applies
// JUNCTION_* environment overrides (JUNCTION_C2S_LISTEN for c2s.listen, and
// so on; JUNCTION_HOSTS is a comma-separated list of domains), and validates
// the result. With path "" only the defaults and the environment count.
//
// Problems with the configuration come back together, sorted by line, as
// *FieldError values joined with errors.Join; use errors.As to get at them.
// A file that cannot be read is an error wrapping the fs error.
func Load(path string) (*Config, error) {
	var data []byte
	if path != "" {
		var err error
		data, err = os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
	}
	return load(path, data, true)
}

// load builds a Config from the defaults, the file data (named path) and,
// if env is set, the environment.
func load(path string, data []byte, env bool) (*Config, error) {
	l := &loader{
		file:   path,
		lines:  map[string]pos{},
		env:    map[string]string{},
		failed: map[string]bool{},
	}
	sc := schemaOf(configType)

	v := viper.New()
	v.SetConfigType("yaml")
	if err := v.ReadConfig(bytes.NewReader(defaultsYAML)); err != nil {
		return nil, fmt.Errorf("config: read embedded defaults: %w", err)
	}
	if path != "" {
		clean, err := l.checkFile(data, sc)
		if err != nil {
			return nil, err // not YAML: nothing else can be said
		}
		if clean != nil {
			// The checks above catch nearly everything viper's own YAML
			// decoding refuses; report its error only if they found nothing.
			if err := v.MergeConfig(bytes.NewReader(clean)); err != nil && len(l.errs) == 0 {
				l.add(&FieldError{File: path, Msg: "not valid YAML: " + strings.TrimPrefix(err.Error(), "While parsing config: yaml: ")})
			}
		}
	}
	if env {
		v.SetEnvPrefix(envPrefix)
		v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
		v.AllowEmptyEnv(true) // JUNCTION_C2S_LISTEN= turns the listener off
		v.AutomaticEnv()
		for _, key := range sc.leafKeys("") {
			name := envName(key)
			if _, ok := os.LookupEnv(name); ok {
				l.env[key] = name
			}
		}
		if hosts, ok := os.LookupEnv(envPrefix + "_HOSTS"); ok {
			l.env["hosts"] = envPrefix + "_HOSTS"
			v.Set("hosts", splitHosts(hosts))
		}
	}

	c := new(Config)
	l.decodeStruct(c, sc, "", v.Get)
	for _, fe := range c.validate() {
		if !l.isFailed(fe.Key) {
			l.add(fe)
		}
	}
	if err := l.err(); err != nil {
		return nil, err
	}
	return c, nil
}

// envName returns the environment variable that overrides key.
func envName(key string) string {
	return envPrefix + "_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// splitHosts turns JUNCTION_HOSTS into the shape of the hosts list in YAML.
// Spaces around domains are dropped; empty entries are kept for validation
// to reject.
func splitHosts(s string) []any {
	if strings.TrimSpace(s) == "" {
		return []any{}
	}
	var hosts []any
	for d := range strings.SplitSeq(s, ",") {
		hosts = append(hosts, map[string]any{"domain": strings.TrimSpace(d)})
	}
	return hosts
}

// StorePath returns Store.Path, or junction.db under DataDir when it is empty.
func (c *Config) StorePath() string {
	if c.Store.Path != "" {
		return c.Store.Path
	}
	return filepath.Join(c.DataDir, "junction.db")
}

// Validate checks every value and returns all problems, as *FieldError values
// joined with errors.Join. Errors from Validate name keys but not where
// their values came from; Load's errors do.
func (c *Config) Validate() error {
	fes := c.validate()
	errs := make([]error, len(fes))
	for i, fe := range fes {
		errs[i] = fe
	}
	return errors.Join(errs...)
}

// loader collects what Load learns about where each key came from and every
// problem found on the way.
type loader struct {
	file   string
	lines  map[string]pos    // key path (c2s.listen, hosts[1].domain) → where in the file
	env    map[string]string // key path → the environment variable that set it
	failed map[string]bool   // keys whose value could not be decoded
	errs   []*FieldError
}

// pos is a position in the configuration file.
type pos struct{ line, col int }

// add records fe, filling in where its key came from.
func (l *loader) add(fe *FieldError) {
	if fe.Key != "" && fe.File == "" && fe.Env == "" {
		var p pos
		fe.File, p, fe.Env = l.origin(fe.Key)
		fe.Line, fe.col = p.line, p.col
	}
	l.errs = append(l.errs, fe)
}

// fail records a problem with the value of key; validation then stays
// quiet about key and everything under it.
func (l *loader) fail(key, format string, args ...any) {
	l.failed[key] = true
	l.add(&FieldError{Key: key, Msg: fmt.Sprintf(format, args...)})
}

// origin returns where the value of key came from: an environment
// variable, a line in the file, or neither (a default). A key inside a list
// item that the file does not spell out (a missing domain) is placed at the
// item or the list.
func (l *loader) origin(key string) (file string, p pos, env string) {
	// The environment wins over the file, also for a whole list.
	for k := key; k != ""; k = parentKey(k) {
		if name, ok := l.env[k]; ok {
			return "", pos{}, name
		}
	}
	for k := key; ; k = parentKey(k) {
		if p, ok := l.lines[k]; ok {
			return l.file, p, ""
		}
		if !strings.Contains(k, "[") {
			return "", pos{}, ""
		}
	}
}

// isFailed reports whether key or a key above it could not be decoded.
func (l *loader) isFailed(key string) bool {
	for k := key; k != ""; k = parentKey(k) {
		if l.failed[k] {
			return true
		}
	}
	return false
}

// parentKey returns the key one level up: hosts[1].domain → hosts[1] →
// hosts → "".
func parentKey(key string) string {
	i := strings.LastIndexAny(key, ".[")
	if i < 0 {
		return ""
	}
	return key[:i]
}

// err returns all recorded problems sorted by position in the file (those
// not from the file last, in the order found), or nil.
func (l *loader) err() error {
	if len(l.errs) == 0 {
		return nil
	}
	slices.SortStableFunc(l.errs, func(a, b *FieldError) int {
		return cmp.Or(cmp.Compare(sortLine(a), sortLine(b)), cmp.Compare(a.col, b.col))
	})
	errs := make([]error, len(l.errs))
	for i, fe := range l.errs {
		errs[i] = fe
	}
	return errors.Join(errs...)
}

// sortLine orders errors: by line for those from the file, then the rest.
func sortLine(fe *FieldError) int {
	if fe.Line > 0 {
		return fe.Line
	}
	if fe.File != "" && fe.Key == "" {
		return 0 // about the whole file
	}
	return 1 << 30
}
