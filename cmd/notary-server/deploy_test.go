package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// deployConfigs are the config files under deploy/ (and docs/) whose
// name starts with prefix: the samples operators copy.
func deployConfigs(t *testing.T, prefix string) []string {
	t.Helper()
	var out []string
	for _, root := range []string{"../../deploy", "../../docs"} {
		err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.HasPrefix(d.Name(), prefix) && strings.HasSuffix(d.Name(), ".json") {
				out = append(out, p)
			}
			return nil
		})
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no %s*.json under deploy/", prefix)
	}
	return out
}

// TestDeployConfigsLoad: every sample notary-server config in deploy/
// loads with the server's own parser, with no unknown keys, the database
// URL coming from the environment as the samples say.
func TestDeployConfigsLoad(t *testing.T) {
	env := envFrom(map[string]string{"NOTARY_SERVER_STORAGE_DB_URL": "postgres://u:p@db:5432/notaryserver?sslmode=verify-full"})
	for _, file := range deployConfigs(t, "notary-server") {
		t.Run(file, func(t *testing.T) {
			rc, err := loadRawConfig(file, env)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := parseConfig(rc, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			if len(cfg.unknownKeys) > 0 {
				t.Errorf("unknown keys %v", cfg.unknownKeys)
			}
			if cfg.tlsCert == "" || cfg.trustType != "remote" || cfg.backend != "postgres" {
				t.Errorf("a production sample without TLS, remote signer or postgres: %+v", cfg)
			}
		})
	}
}
