package config

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad feeds arbitrary bytes to Load as the configuration file. Load
// must not panic, and whatever it accepts must be valid and resolved.
// Seeds live in testdata/fuzz/FuzzLoad.
func FuzzLoad(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "config.yaml")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Load(path, nil)
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Errorf("Load accepted a config that Validate rejects: %v", err)
		}
		if c.Database.DSN == "" {
			t.Errorf("Load returned no database DSN: %+v", c.Database)
		}
	})
}
