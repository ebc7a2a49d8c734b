package config

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the .err files in testdata/config from the current output")

// fixtureDir holds the shared configuration fixtures.
const fixtureDir = "../testdata/config"

// clearEnv unsets every JUNCTION_* variable for the rest of the test, so
// the caller's environment cannot leak into results.
func clearEnv(t testing.TB) {
	t.Helper()
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, envPrefix+"_") {
			t.Setenv(name, "") // restores the old value at cleanup
			os.Unsetenv(name)
		}
	}
}

// defaults is what defaults.yaml must decode to.
var defaults = Config{
	DataDir: "./junction-data",
	Hosts:   []Host{{Domain: "localhost", Registration: "closed"}},
	C2S: C2S{
		Listen:                 "127.0.0.1:5222",
		DirectTLSListen:        "127.0.0.1:5223",
		RequireTLS:             true,
		MaxStanzaBytes:         262144,
		NegotiationTimeout:     30 * time.Second,
		IdleTimeout:            5 * time.Minute,
		MaxAuthAttempts:        5,
		QueueSize:              32,
		MaxConnsPerIP:          100,
		RegistrationsPerIPHour: 5,
	},
	Store:      Store{Driver: "sqlite"},
	Metrics:    Metrics{Listen: "127.0.0.1:9477"},
	Components: Components{External: []ExternalComponent{}},
	Log:        Log{Level: "info", Format: "text"},
}

func TestDefault(t *testing.T) {
	clearEnv(t)
	got := Default()
	if !reflect.DeepEqual(*got, defaults) {
		t.Errorf("Default():\ngot  %+v\nwant %+v", *got, defaults)
	}
	if err := got.Validate(); err != nil {
		t.Errorf("Default().Validate(): got %v, want nil", err)
	}
	loaded, err := Load("")
	if err != nil {
		t.Fatalf(`Load(""): got %v, want nil`, err)
	}
	if !reflect.DeepEqual(loaded, got) {
		t.Errorf("Load(\"\"):\ngot  %+v\nwant %+v", *loaded, *got)
	}
	// Default hands out copies.
	got.Hosts[0].Domain = "changed"
	if d := Default().Hosts[0].Domain; d != "localhost" {
		t.Errorf("Default() after changing an earlier result: got host %q, want %q", d, "localhost")
	}
}

func TestDefaultIgnoresEnv(t *testing.T) {
	clearEnv(t)
	t.Setenv("JUNCTION_LOG_LEVEL", "loud")
	t.Setenv("JUNCTION_HOSTS", "example.org")
	got := Default()
	if got.Log.Level != "info" || got.Hosts[0].Domain != "localhost" {
		t.Errorf("Default() with JUNCTION_* set: got level %q, hosts %v, want info, [localhost]", got.Log.Level, got.Hosts)
	}
}

// TestDefaultsDocumented checks that defaults.yaml, which users read as the
// example configuration, sets every key and has a comment naming it above.
func TestDefaultsDocumented(t *testing.T) {
	l := &loader{file: "defaults.yaml", lines: map[string]pos{}, env: map[string]string{}, failed: map[string]bool{}}
	if _, err := l.checkFile(DefaultsYAML(), schemaOf(configType)); err != nil || len(l.errs) > 0 {
		t.Fatalf("defaults.yaml: got %v %v, want no problems", err, l.errs)
	}
	lines := strings.Split(string(DefaultsYAML()), "\n")
	keys := append(schemaOf(configType).leafKeys(""), "hosts", "hosts[0].domain", "tls", "c2s", "store", "metrics", "log")
	for _, key := range keys {
		p, ok := l.lines[key]
		n := p.line
		if !ok {
			t.Errorf("defaults.yaml: got no %s, want every key set", key)
			continue
		}
		name := key[strings.LastIndexAny(key, ".]")+1:]
		if key == "hosts[0].domain" {
			continue // explained with hosts
		}
		documented := false
		for i := n - 2; i >= 0 && i >= n-12; i-- {
			if c, ok := strings.CutPrefix(strings.TrimSpace(lines[i]), "#"); ok && strings.Contains(c, name) {
				documented = true
				break
			}
		}
		if !documented {
			t.Errorf("defaults.yaml:%d: got no comment naming %s above it, want one", n, key)
		}
	}
}

func TestSchema(t *testing.T) {
	got := schemaOf(configType).leafKeys("")
	want := []string{
		"data_dir",
		"tls.cert_file", "tls.key_file",
		"c2s.listen", "c2s.direct_tls_listen", "c2s.require_tls", "c2s.max_stanza_bytes",
		"c2s.negotiation_timeout", "c2s.idle_timeout", "c2s.max_auth_attempts", "c2s.queue_size",
		"c2s.max_conns_per_ip", "c2s.registrations_per_ip_hour",
		"store.driver", "store.path",
		"metrics.listen",
		"components.listen",
		"log.level", "log.format",
	}
	if !slices.Equal(got, want) {
		t.Errorf("leaf keys:\ngot  %q\nwant %q", got, want)
	}
}

func TestLoadValid(t *testing.T) {
	clearEnv(t)
	got, err := Load(filepath.Join(fixtureDir, "valid.yaml"))
	if err != nil {
		t.Fatalf("Load(valid.yaml): got %v, want nil", err)
	}
	want := Config{
		DataDir: "/var/lib/junction",
		Hosts:   []Host{{Domain: "example.org", Registration: "open", MUC: "conference.example.org"}, {Domain: "chat.example.net"}},
		TLS:     TLS{CertFile: "/etc/junction/fullchain.pem", KeyFile: "/etc/junction/privkey.pem"},
		C2S: C2S{
			Listen:                 "[::]:5222",
			DirectTLSListen:        ":5223",
			RequireTLS:             false,
			MaxStanzaBytes:         65536,
			NegotiationTimeout:     time.Minute,
			IdleTimeout:            2*time.Hour + 30*time.Minute,
			MaxAuthAttempts:        3,
			QueueSize:              1024,
			MaxConnsPerIP:          0,
			RegistrationsPerIPHour: 20,
		},
		Store:      Store{Driver: "sqlite", Path: "/var/lib/junction/db/junction.sqlite"},
		Metrics:    Metrics{Listen: ""},
		Components: Components{Listen: "127.0.0.1:5347", External: []ExternalComponent{{Domain: "irc.example.org", Secret: "correct-horse-battery"}}},
		Log:        Log{Level: "debug", Format: "json"},
	}
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("Load(valid.yaml):\ngot  %+v\nwant %+v", *got, want)
	}
	// valid.yaml must exercise every key with a non-default value (the
	// driver has only one possible value).
	gv, dv := reflect.ValueOf(*got), reflect.ValueOf(defaults)
	sc := schemaOf(configType)
	for _, f := range sc.fields {
		if f.kind == kindSection {
			for _, sub := range f.elem.fields {
				a, b := gv.Field(f.index).Field(sub.index), dv.Field(f.index).Field(sub.index)
				if reflect.DeepEqual(a.Interface(), b.Interface()) && f.name+"."+sub.name != "store.driver" {
					t.Errorf("valid.yaml: got default value for %s.%s, want every key changed", f.name, sub.name)
				}
			}
		}
	}
}

// TestLoadInvalid loads every testdata/config/invalid_*.yaml and compares
// the error text with the sibling .err file. Run with -update to rewrite
// the .err files after reviewing the new messages.
func TestLoadInvalid(t *testing.T) {
	clearEnv(t)
	t.Chdir(fixtureDir) // so messages name the file as admins would see it
	files, err := filepath.Glob("invalid_*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 5 {
		t.Fatalf("got %d invalid_*.yaml fixtures, want at least 5", len(files))
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(file, ".yaml"), func(t *testing.T) {
			c, err := Load(file)
			if err == nil {
				t.Fatalf("Load(%s): got %+v, want an error", file, c)
			}
			errFile := strings.TrimSuffix(file, ".yaml") + ".err"
			if *update {
				if err := os.WriteFile(errFile, []byte(err.Error()+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, rerr := os.ReadFile(errFile)
			if rerr != nil {
				t.Fatalf("read expected error: %v", rerr)
			}
			if got := err.Error(); got != strings.TrimSuffix(string(want), "\n") {
				t.Errorf("Load(%s):\ngot\n%s\nwant\n%s", file, got, want)
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Errorf("Load(%s): got %T, want an error holding a *FieldError", file, err)
			} else if fe.File != file {
				t.Errorf("Load(%s): got first FieldError.File %q, want %q", file, fe.File, file)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	clearEnv(t)
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing file): got %v, want an error wrapping %v", err, os.ErrNotExist)
	}
}

func TestLoadEmptyFile(t *testing.T) {
	clearEnv(t)
	for _, tc := range []struct{ name, data string }{
		{"empty", ""},
		{"comments only", "# nothing here\n"},
		{"empty document", "---\n"},
		{"empty sections", "c2s:\nlog: ~\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "junction.yaml")
			if err := os.WriteFile(path, []byte(tc.data), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := Load(path)
			if err != nil {
				t.Fatalf("Load: got %v, want nil", err)
			}
			if !reflect.DeepEqual(*got, defaults) {
				t.Errorf("Load:\ngot  %+v\nwant the defaults %+v", *got, defaults)
			}
		})
	}
}

func TestEnvOverrides(t *testing.T) {
	const file = "log:\n  level: warn\nc2s:\n  max_stanza_bytes: 10\nhosts:\n  - domain: a.example\n  - domain: b.example\n"
	for _, tc := range []struct {
		name    string
		env     map[string]string
		check   func(c *Config) (got, want any)
		wantErr string
	}{
		{
			name:  "listen",
			env:   map[string]string{"JUNCTION_C2S_LISTEN": "0.0.0.0:6222", "JUNCTION_C2S_MAX_STANZA_BYTES": "65536"},
			check: func(c *Config) (any, any) { return c.C2S.Listen, "0.0.0.0:6222" },
		},
		{
			name:  "empty disables",
			env:   map[string]string{"JUNCTION_C2S_DIRECT_TLS_LISTEN": "", "JUNCTION_METRICS_LISTEN": "", "JUNCTION_C2S_MAX_STANZA_BYTES": "65536"},
			check: func(c *Config) (any, any) { return c.C2S.DirectTLSListen + c.Metrics.Listen, "" },
		},
		{
			name:  "data dir",
			env:   map[string]string{"JUNCTION_DATA_DIR": "/srv/junction", "JUNCTION_C2S_MAX_STANZA_BYTES": "65536"},
			check: func(c *Config) (any, any) { return c.StorePath(), filepath.Join("/srv/junction", "junction.db") },
		},
		{
			name:  "env wins over file",
			env:   map[string]string{"JUNCTION_LOG_LEVEL": "debug", "JUNCTION_C2S_MAX_STANZA_BYTES": "65536"},
			check: func(c *Config) (any, any) { return c.Log.Level, "debug" },
		},
		{
			name:  "file wins over defaults",
			env:   map[string]string{"JUNCTION_C2S_MAX_STANZA_BYTES": "65536"},
			check: func(c *Config) (any, any) { return c.Log.Level, "warn" },
		},
		{
			name:  "int",
			env:   map[string]string{"JUNCTION_C2S_MAX_STANZA_BYTES": " 65536 "},
			check: func(c *Config) (any, any) { return c.C2S.MaxStanzaBytes, 65536 },
		},
		{
			name: "bool and duration",
			env: map[string]string{
				"JUNCTION_C2S_REQUIRE_TLS": "false", "JUNCTION_C2S_IDLE_TIMEOUT": "90s",
				"JUNCTION_C2S_MAX_STANZA_BYTES": "65536",
			},
			check: func(c *Config) (any, any) {
				return []any{c.C2S.RequireTLS, c.C2S.IdleTimeout}, []any{false, 90 * time.Second}
			},
		},
		{
			name: "tls and store",
			env: map[string]string{
				"JUNCTION_TLS_CERT_FILE": "/c.pem", "JUNCTION_TLS_KEY_FILE": "/k.pem", "JUNCTION_STORE_PATH": "/db",
				"JUNCTION_C2S_MAX_STANZA_BYTES": "65536",
			},
			check: func(c *Config) (any, any) {
				return []string{c.TLS.CertFile, c.TLS.KeyFile, c.StorePath()}, []string{"/c.pem", "/k.pem", "/db"}
			},
		},
		{
			name: "hosts",
			env:  map[string]string{"JUNCTION_HOSTS": "example.org, chat.example.net", "JUNCTION_C2S_MAX_STANZA_BYTES": "65536"},
			check: func(c *Config) (any, any) {
				return c.Hosts, []Host{{Domain: "example.org"}, {Domain: "chat.example.net"}}
			},
		},
		{
			name:    "file error kept",
			env:     map[string]string{"JUNCTION_LOG_LEVEL": "debug"},
			wantErr: "c2s.max_stanza_bytes (junction.yaml:4): must be between 4096 and 16777216, got 10",
		},
		{
			name:    "bad int",
			env:     map[string]string{"JUNCTION_C2S_MAX_STANZA_BYTES": "lots"},
			wantErr: `c2s.max_stanza_bytes (JUNCTION_C2S_MAX_STANZA_BYTES): must be a whole number, got "lots"`,
		},
		{
			name:    "bad range",
			env:     map[string]string{"JUNCTION_C2S_MAX_STANZA_BYTES": "100"},
			wantErr: "c2s.max_stanza_bytes (JUNCTION_C2S_MAX_STANZA_BYTES): must be between 4096 and 16777216, got 100",
		},
		{
			name: "bad choice, bool and duration",
			env: map[string]string{
				"JUNCTION_LOG_LEVEL": "loud", "JUNCTION_C2S_REQUIRE_TLS": "maybe", "JUNCTION_C2S_IDLE_TIMEOUT": "300",
				"JUNCTION_C2S_MAX_STANZA_BYTES": "65536",
			},
			wantErr: `c2s.require_tls (JUNCTION_C2S_REQUIRE_TLS): must be true or false, got "maybe"` + "\n" +
				`c2s.idle_timeout (JUNCTION_C2S_IDLE_TIMEOUT): not a duration: "300" (use e.g. 30s, 5m)` + "\n" +
				`log.level (JUNCTION_LOG_LEVEL): must be one of debug, info, warn, error, got "loud"`,
		},
		{
			name:    "no hosts",
			env:     map[string]string{"JUNCTION_HOSTS": " ", "JUNCTION_C2S_MAX_STANZA_BYTES": "65536"},
			wantErr: "hosts (JUNCTION_HOSTS): at least one host is required",
		},
		{
			name:  "file hosts",
			env:   map[string]string{"JUNCTION_C2S_MAX_STANZA_BYTES": "65536"},
			check: func(c *Config) (any, any) { return c.Hosts, []Host{{Domain: "a.example"}, {Domain: "b.example"}} },
		},
		{
			name:    "env hosts replace file hosts",
			env:     map[string]string{"JUNCTION_HOSTS": "x.example,X.example", "JUNCTION_C2S_MAX_STANZA_BYTES": "65536"},
			wantErr: `hosts[1].domain (JUNCTION_HOSTS): duplicate host "X.example"`,
		},
		{
			name:    "duplicate hosts",
			env:     map[string]string{"JUNCTION_HOSTS": "a.example,b.example,A.example,", "JUNCTION_C2S_MAX_STANZA_BYTES": "65536"},
			wantErr: `hosts[2].domain (JUNCTION_HOSTS): duplicate host "A.example"` + "\n" + "hosts[3].domain (JUNCTION_HOSTS): must not be empty",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "junction.yaml"), []byte(file), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Chdir(dir)
			c, err := Load("junction.yaml")
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("Load: got error\n%v\nwant\n%s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: got %v, want nil", err)
			}
			if got, want := tc.check(c); !reflect.DeepEqual(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(c *Config)
		want   string
	}{
		{"defaults", func(c *Config) {}, ""},
		{"no data dir", func(c *Config) { c.DataDir = "" }, "data_dir: must not be empty (it holds the database and the generated certificate)"},
		{"no hosts", func(c *Config) { c.Hosts = nil }, "hosts: at least one host is required"},
		{"ipv6 host", func(c *Config) { c.Hosts = []Host{{Domain: "[::1]"}} }, ""},
		{"idn host", func(c *Config) { c.Hosts = []Host{{Domain: "exämple.org"}} }, ""},
		{"long host", func(c *Config) { c.Hosts = []Host{{Domain: strings.Repeat("a", 1024)}} }, "hosts[0].domain: must be at most 1023 bytes, got 1024"},
		{"control char host", func(c *Config) { c.Hosts = []Host{{Domain: "a\x00b"}} }, `hosts[0].domain: must not contain spaces or control characters, got "a\x00b"`},
		{"invalid utf8 host", func(c *Config) { c.Hosts = []Host{{Domain: "a\xffb"}} }, `hosts[0].domain: must be valid UTF-8, got "a\xffb"`},
		{"key without cert", func(c *Config) { c.TLS.KeyFile = "k.pem" }, "tls.key_file: tls.cert_file must be set too (set both, or neither for a generated certificate)"},
		{"cert and key", func(c *Config) { c.TLS = TLS{"c.pem", "k.pem"} }, ""},
		{"listeners off", func(c *Config) { c.C2S.Listen, c.C2S.DirectTLSListen, c.Metrics.Listen = "", "", "" }, ""},
		{"port zero twice", func(c *Config) { c.C2S.Listen, c.C2S.DirectTLSListen = "127.0.0.1:0", "127.0.0.1:0" }, ""},
		{"listen no port", func(c *Config) { c.Metrics.Listen = "127.0.0.1:" }, `metrics.listen: must be host:port (e.g. 127.0.0.1:9477), or "" to turn it off, got "127.0.0.1:"`},
		{"listen service name", func(c *Config) { c.C2S.Listen = ":xmpp-client" }, `c2s.listen: must be host:port (e.g. 127.0.0.1:5222), or "" to turn it off, got ":xmpp-client"`},
		{"same address", func(c *Config) { c.Metrics.Listen = c.C2S.DirectTLSListen }, `metrics.listen: same address as c2s.direct_tls_listen ("127.0.0.1:5223")`},
		{"stanza bounds", func(c *Config) { c.C2S.MaxStanzaBytes = 16<<20 + 1 }, "c2s.max_stanza_bytes: must be between 4096 and 16777216, got 16777217"},
		{"stanza lower bound ok", func(c *Config) { c.C2S.MaxStanzaBytes = 4096 }, ""},
		{"negotiation bounds", func(c *Config) { c.C2S.NegotiationTimeout = 500 * time.Millisecond }, "c2s.negotiation_timeout: must be between 1s and 10m, got 500ms"},
		{"idle bounds", func(c *Config) { c.C2S.IdleTimeout = 25 * time.Hour }, "c2s.idle_timeout: must be between 10s and 24h, got 25h"},
		{"idle upper bound ok", func(c *Config) { c.C2S.IdleTimeout = 24 * time.Hour }, ""},
		{"auth attempts", func(c *Config) { c.C2S.MaxAuthAttempts = 101 }, "c2s.max_auth_attempts: must be between 1 and 100, got 101"},
		{"queue size", func(c *Config) { c.C2S.QueueSize = 7 }, "c2s.queue_size: must be between 8 and 65536, got 7"},
		{"conns per ip", func(c *Config) { c.C2S.MaxConnsPerIP = -5 }, "c2s.max_conns_per_ip: must be 0 (no limit) or more, got -5"},
		{"driver", func(c *Config) { c.Store.Driver = "" }, `store.driver: must be one of sqlite, got ""`},
		{"log format", func(c *Config) { c.Log.Format = "JSON" }, `log.format: must be one of text, json, got "JSON"`},
		{"two problems", func(c *Config) { c.Log.Level = "loud"; c.DataDir = "" },
			"data_dir: must not be empty (it holds the database and the generated certificate)\n" +
				`log.level: must be one of debug, info, warn, error, got "loud"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			tc.change(c)
			err := c.Validate()
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Errorf("Validate():\ngot  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestStorePath(t *testing.T) {
	for _, tc := range []struct {
		dataDir, path, want string
	}{
		{"./junction-data", "", filepath.Join("junction-data", "junction.db")},
		{"/var/lib/junction", "", "/var/lib/junction/junction.db"},
		{"/var/lib/junction", "/srv/db.sqlite", "/srv/db.sqlite"},
		{"/var/lib/junction", "relative.db", "relative.db"},
	} {
		c := &Config{DataDir: tc.dataDir, Store: Store{Path: tc.path}}
		if got := c.StorePath(); got != tc.want {
			t.Errorf("StorePath() with data_dir %q, path %q: got %q, want %q", tc.dataDir, tc.path, got, tc.want)
		}
	}
}

func TestFieldErrorString(t *testing.T) {
	for _, tc := range []struct {
		fe   FieldError
		want string
	}{
		{FieldError{Key: "c2s.listn", File: "junction.yaml", Line: 7, Msg: "unknown key"}, "c2s.listn (junction.yaml:7): unknown key"},
		{FieldError{Key: "log.level", Msg: "bad"}, "log.level: bad"},
		{FieldError{Key: "log.level", Env: "JUNCTION_LOG_LEVEL", Msg: "bad"}, "log.level (JUNCTION_LOG_LEVEL): bad"},
		{FieldError{File: "junction.yaml", Line: 3, Msg: "not valid YAML"}, "junction.yaml:3: not valid YAML"},
		{FieldError{File: "junction.yaml", Msg: "not valid YAML"}, "junction.yaml: not valid YAML"},
		{FieldError{Key: "x", File: "junction.yaml", Msg: "m"}, "x (junction.yaml): m"},
		{FieldError{Msg: "m"}, "m"},
	} {
		if got := tc.fe.Error(); got != tc.want {
			t.Errorf("%+v.Error(): got %q, want %q", tc.fe, got, tc.want)
		}
	}
}

func TestDefaultsYAMLIsACopy(t *testing.T) {
	b := DefaultsYAML()
	b[0] = 'X'
	if DefaultsYAML()[0] == 'X' {
		t.Errorf("DefaultsYAML()[0] after changing an earlier result: got 'X', want the original")
	}
}
