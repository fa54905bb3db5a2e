package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/notary-go/notary/auth/htpasswd"
	"github.com/notary-go/notary/internal/testpki"
	"github.com/notary-go/notary/server"
)

// TestPathsRelativeToConfigFile starts the server (-bootstrap) from a
// working directory other than the config file's, with every path in the
// config relative: certificates, client CA, SQLite database and htpasswd
// file must all be found beside the config file, and nothing written to
// the working directory (issue 19, bug 5).
func TestPathsRelativeToConfigFile(t *testing.T) {
	ca := testpki.New(t, "ca")
	ca.Issue(t, "server", testpki.Options{DNS: []string{"localhost"}, IPs: testpki.Loopback(), ServerAuth: true})
	line, err := htpasswd.Line("alice", "pw", 4)
	if err != nil {
		t.Fatal(err)
	}
	testpki.WriteFile(t, filepath.Join(ca.Dir, "users.htpasswd"), []byte(line+"\n"))
	cfgFile := filepath.Join(ca.Dir, "server.json")
	testpki.WriteFile(t, cfgFile, []byte(`{
		"server": {"http_addr": "127.0.0.1:0", "tls_cert_file": "server.crt", "tls_key_file": "server.key", "client_ca_file": "ca.crt"},
		"storage": {"backend": "sqlite3", "db_url": "db/notary.db"},
		"auth": {"type": "htpasswd", "options": {"realm": "notary", "path": "users.htpasswd"}}
	}`))

	cwd := t.TempDir()
	t.Chdir(cwd)
	rel, err := filepath.Rel(cwd, cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{cfgFile, rel} {
		var out bytes.Buffer
		if code := run([]string{"-config", name, "-bootstrap"}, &out, envFrom(nil)); code != 0 {
			t.Fatalf("-config %s -bootstrap: exit %d\n%s", name, code, out.String())
		}
	}
	if _, err := os.Stat(filepath.Join(ca.Dir, "db", "notary.db")); err != nil {
		t.Errorf("database not beside the config file: %v", err)
	}
	if ents, _ := os.ReadDir(cwd); len(ents) > 0 {
		t.Errorf("the server wrote into its working directory: %v", ents)
	}

	// A missing file is named by its full path.
	testpki.WriteFile(t, cfgFile, []byte(`{"server": {"http_addr": "127.0.0.1:0", "tls_cert_file": "missing.crt", "tls_key_file": "server.key"}, "storage": {"backend": "memory"}}`))
	var out bytes.Buffer
	if code := run([]string{"-config", rel}, &out, envFrom(nil)); code != 1 || !strings.Contains(out.String(), filepath.Join(ca.Dir, "missing.crt")) {
		t.Errorf("missing certificate: exit %d, want 1 and the full path %s in:\n%s", code, filepath.Join(ca.Dir, "missing.crt"), out.String())
	}
	out.Reset()
	if code := run([]string{"-config", "nope.json"}, &out, envFrom(nil)); code != 1 || !strings.Contains(out.String(), filepath.Join(cwd, "nope.json")) {
		t.Errorf("missing config: exit %d, want 1 and the full path in:\n%s", code, out.String())
	}
}

// TestPassphraseBesideDatabase checks that the generated key passphrase
// is kept beside the SQLite database the config names, not in the working
// directory (issue 14), and that one an earlier version left in the data
// directory is still used.
func TestPassphraseBesideDatabase(t *testing.T) {
	dbDir := t.TempDir()
	cfgFile := filepath.Join(dbDir, "server.json")
	testpki.WriteFile(t, cfgFile, []byte(`{"server": {"http_addr": "127.0.0.1:0"}, "storage": {"backend": "sqlite3", "db_url": "keys/server.db"}}`))
	cwd := t.TempDir()
	t.Chdir(cwd)

	start := func() {
		t.Helper()
		rc, err := loadRawConfig(cfgFile, envFrom(nil))
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := parseConfig(rc, defaultDataDir)
		if err != nil {
			t.Fatal(err)
		}
		log, _ := newLogger(&bytes.Buffer{}, "json", "error")
		st, err := openStore(context.Background(), cfg, log)
		if err != nil {
			t.Fatal(err)
		}
		defer st.close()
		var opts server.Options
		closeKeys, err := setupKeys(context.Background(), cfg, &opts, st.pool, st.dialect, envFrom(nil), log)
		if err != nil {
			t.Fatal(err)
		}
		closeKeys()
	}
	start()
	want := filepath.Join(dbDir, "keys", passphraseFile)
	fi, err := os.Stat(want)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("passphrase not kept 0600 beside the database at %s: %v %v", want, fi, err)
	}
	if ents, _ := os.ReadDir(cwd); len(ents) > 0 {
		t.Errorf("the server wrote into its working directory: %v", ents)
	}
	first, _ := os.ReadFile(want)
	start() // a second start reads it back
	if again, _ := os.ReadFile(want); !bytes.Equal(first, again) {
		t.Error("the passphrase changed on the second start")
	}

	// A passphrase an earlier version kept in the data directory is
	// used while none is beside the database.
	legacy := filepath.Join(cwd, defaultDataDir, passphraseFile)
	if err := os.MkdirAll(filepath.Dir(legacy), 0o700); err != nil {
		t.Fatal(err)
	}
	testpki.WriteFile(t, legacy, []byte("legacy-pass\n"))
	var logs bytes.Buffer
	log, _ := newLogger(&logs, "json", "info")
	p, err := keyPassphrase(filepath.Join(t.TempDir(), passphraseFile), filepath.Join(defaultDataDir, passphraseFile), envFrom(nil), log)
	if err != nil || p != "legacy-pass" {
		t.Errorf("legacy passphrase: %q %v", p, err)
	}
	if !strings.Contains(logs.String(), "move it beside the database") {
		t.Errorf("no warning to move the legacy passphrase:\n%s", logs.String())
	}
}

// TestSignerTLSServerName: the signer's certificate is verified against
// trust_service.tls_server_name when set, else against the hostname
// dialled (v0.7.0's only behaviour).
func TestSignerTLSServerName(t *testing.T) {
	ca := testpki.New(t, "ca")
	for _, tc := range []struct{ name, extra, want string }{
		{"Default", ``, "10.0.0.7"},
		{"Explicit", `,"tls_server_name":"signer.internal"`, "signer.internal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(ca.Dir, tc.name+".json")
			testpki.WriteFile(t, file, []byte(`{"server":{"http_addr":":1"},"trust_service":{"type":"remote","hostname":"10.0.0.7","tls_ca_file":"ca.crt"`+tc.extra+`}}`))
			rc, err := loadRawConfig(file, envFrom(nil))
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := parseConfig(rc, "data")
			if err != nil {
				t.Fatal(err)
			}
			c, err := signerTLS(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if c.ServerName != tc.want {
				t.Errorf("ServerName = %q, want %q", c.ServerName, tc.want)
			}
		})
	}
}
