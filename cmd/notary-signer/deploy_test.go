package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDeployConfigsLoad: every sample notary-signer config under deploy/
// loads with the signer's own parser (server section checked, as when
// serving), including its authorization section, with no unknown keys.
func TestDeployConfigsLoad(t *testing.T) {
	env := func(k string) (string, bool) {
		if k == "NOTARY_SIGNER_STORAGE_DB_URL" {
			return "postgres://u:p@db:5432/notarysigner?sslmode=verify-full", true
		}
		return "", false
	}
	var files []string
	err := filepath.WalkDir("../../deploy", func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasPrefix(d.Name(), "notary-signer") && strings.HasSuffix(d.Name(), ".json") {
			files = append(files, p)
		}
		return err
	})
	if err != nil || len(files) == 0 {
		t.Fatalf("no notary-signer*.json under deploy/: %v", err)
	}
	for _, file := range files {
		t.Run(file, func(t *testing.T) {
			rc, err := loadRawConfig(file, env)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := parseConfig(rc, true)
			if err != nil {
				t.Fatal(err)
			}
			if len(cfg.unknownKeys) > 0 {
				t.Errorf("unknown keys %v", cfg.unknownKeys)
			}
			if cfg.backend != "postgres" || cfg.defaultAlias == "" {
				t.Errorf("backend %q alias %q", cfg.backend, cfg.defaultAlias)
			}
			ac, err := parseAuthz(rc)
			if err != nil {
				t.Fatal(err)
			}
			if ac == nil {
				t.Error("a production sample without an authorization section")
			}
		})
	}
}
