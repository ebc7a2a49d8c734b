package main

import (
	"os"
	"strings"
	"testing"

	"junction/config"
)

// TestReadmeShowsDefaults keeps README's configuration reference equal to
// the embedded defaults that `junction config example` prints.
func TestReadmeShowsDefaults(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "```yaml\n"+string(config.DefaultsYAML())+"```") {
		t.Fatal("README.md's configuration block differs from config/defaults.yaml; copy the file into README")
	}
	first := strings.SplitN(string(b), "\n## ", 2)[0]
	for _, cmd := range []string{"go run ./cmd/junction serve", "./test.sh"} {
		if !strings.Contains(first, cmd) {
			t.Errorf("README does not open with %q", cmd)
		}
	}
}
