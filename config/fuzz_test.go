package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad feeds arbitrary bytes to Load as a configuration file. Load must
// never panic; a Config it accepts must pass Validate; a problem with the
// content must come back as *FieldError values sorted by line.
func FuzzLoad(f *testing.F) {
	clearEnv(f)
	f.Add(DefaultsYAML())
	for _, name := range []string{"valid.yaml", "invalid_many.yaml", "invalid_hosts.yaml", "invalid_types.yaml", "invalid_structure.yaml"} {
		b, err := os.ReadFile(filepath.Join(fixtureDir, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("c2s: &c {listen: *c}\nhosts: [*c]\n"))
	f.Add([]byte("hosts: [{domain: a}, ~, 5, [x]]\n"))
	f.Add([]byte("? {a: 1}\n: 2\n"))

	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "junction.yaml")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := Load(path)
		if err == nil {
			if verr := c.Validate(); verr != nil {
				t.Fatalf("Load accepted a config that Validate rejects: %v", verr)
			}
			return
		}
		var errs []error
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			errs = j.Unwrap()
		} else {
			errs = []error{err}
		}
		last := 0
		for _, e := range errs {
			var fe *FieldError
			if !errors.As(e, &fe) {
				t.Fatalf("got error %T %q, want *FieldError", e, e)
			}
			if fe.Line > 0 {
				if fe.Line < last {
					t.Fatalf("errors not sorted by line: %d after %d in\n%v", fe.Line, last, err)
				}
				last = fe.Line
			}
		}
	})
}
