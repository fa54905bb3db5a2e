package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestConfigChecked checks the signer's config against its schema: a
// section or key of the wrong type is an error, an unknown key loads and
// is named for a warning (issue 19).
func TestConfigChecked(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name        string
		file        string
		wantUnknown []string
		wantErr     string
	}{
		{name: "UnknownKeys", file: `{"storage":{"backend":"memory","dburl":"x"},"reporting":{"bugsnag":{"api_key":"k"},"sentry":{}},"auth":{}}`,
			wantUnknown: []string{"auth", "reporting.sentry", "storage.dburl"}},
		{name: "StorageString", file: `{"storage":"memory"}`, wantErr: `storage must be an object, not a string; write "storage": {"backend": ..., ...}`},
		{name: "ServerList", file: `{"server":[":7899"],"storage":{"backend":"memory"}}`, wantErr: "server must be an object, not a list"},
		{name: "AliasObject", file: `{"storage":{"backend":"sqlite3","default_alias":{"name":"a"}}}`, wantErr: "storage.default_alias must be a string, not an object"},
		{name: "MaxSessionsFraction", file: `{"storage":{"backend":"memory"},"pkcs11":{"max_sessions":1.5}}`, wantErr: "pkcs11.max_sessions must be a whole number"},
		{name: "PINStillRefusedByName", file: `{"storage":{"backend":"pkcs11"},"pkcs11":{"module":"m","token_label":"t","pin":1234}}`, wantErr: "pkcs11.pin must not be in the config file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(dir, tc.name+".json")
			if err := os.WriteFile(file, []byte(tc.file), 0o600); err != nil {
				t.Fatal(err)
			}
			rc, err := loadRawConfig(file, mapLookup(nil))
			if err != nil {
				t.Fatal(err)
			}
			c, err := parseConfig(rc, false)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(c.unknownKeys, tc.wantUnknown) {
				t.Errorf("unknown keys %q, want %q", c.unknownKeys, tc.wantUnknown)
			}
		})
	}
}

// TestPathsFromAnotherDirectory runs the signer from a working directory
// other than its config file's: a relative SQLite db_url and relative
// certificates resolve against the config file (issue 19, bug 5), and
// unknown keys are logged by name.
func TestPathsFromAnotherDirectory(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "signer.json")
	body := `{"server":{"grpc_addr":":0","tls_cert_file":"tls/signer.crt","tls_key_file":"tls/signer.key","client_ca_file":"tls/ca.crt"},
		"storage":{"backend":"sqlite3","db_url":"keys/signer.db?_pragma=foreign_keys(1)","default_alias":"a1"},"extra":{"x":1}}`
	if err := os.WriteFile(cfgFile, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "keys"), 0o700); err != nil {
		t.Fatal(err)
	}
	cwd := t.TempDir()
	t.Chdir(cwd)
	rel, err := filepath.Rel(cwd, cfgFile)
	if err != nil {
		t.Fatal(err)
	}

	rc, err := loadRawConfig(rel, mapLookup(nil))
	if err != nil {
		t.Fatal(err)
	}
	c, err := parseConfig(rc, true)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "tls", "signer.crt"); c.tlsCert != want {
		t.Errorf("tls_cert_file = %q, want %q", c.tlsCert, want)
	}
	if want := filepath.Join(dir, "keys", "signer.db") + "?_pragma=foreign_keys(1)"; c.dbURL != want {
		t.Errorf("db_url = %q, want %q", c.dbURL, want)
	}

	var out syncBuffer
	if code := run(context.Background(), []string{"migrate", "-config", rel}, env{stdout: &out, stderr: &out, lookup: mapLookup(map[string]string{"NOTARY_SIGNER_A1": "pw"})}); code != 0 {
		t.Fatalf("migrate: exit %d\n%s", code, out.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "keys", "signer.db")); err != nil {
		t.Errorf("key database not beside the config file: %v", err)
	}
	if ents, _ := os.ReadDir(cwd); len(ents) > 0 {
		t.Errorf("the signer wrote into its working directory: %v", ents)
	}
	if !strings.Contains(out.String(), "ignoring unknown config key") || !strings.Contains(out.String(), `"extra"`) {
		t.Errorf("no warning naming the unknown key:\n%s", out.String())
	}
}
