package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func envFrom(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "server-config.json")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// upstreamConfig is v0.7.0's fixtures/server-config.json, unchanged.
const upstreamConfig = `{
	"server": {
		"http_addr": ":4443",
		"tls_key_file": "./notary-server.key",
		"tls_cert_file": "./notary-server.crt"
	},
	"trust_service": {
		"type": "remote",
		"hostname": "notarysigner",
		"port": "7899",
		"tls_ca_file": "./root-ca.crt",
		"key_algorithm": "ecdsa",
		"tls_client_cert": "./notary-server.crt",
		"tls_client_key": "./notary-server.key"
	},
	"logging": {
		"level": "debug"
	},
	"storage": {
		"backend": "mysql",
		"db_url": "server@tcp(mysql:3306)/notaryserver?parseTime=True"
	}
}`

func TestParseConfig(t *testing.T) {
	cmpOpt := cmp.AllowUnexported(config{})
	for _, tc := range []struct {
		name    string
		file    string // "" for no config file
		env     map[string]string
		want    func(dir string) *config
		wantErr string
	}{
		{
			name: "UIDisabled",
			file: `{"server":{"http_addr":":1"},"ui":{"enabled":false}}`,
			want: func(dir string) *config {
				return &config{addr: ":1", trustType: "local", keyAlgorithm: "ecdsa", backend: "sqlite", baseDir: dir,
					dbURL: filepath.Join("data", "notary-server.db"), logLevel: "info", dataDir: "data",
					maxUpdateSize: 100 << 20, readTimeout: 5 * time.Minute, writeTimeout: 5 * time.Minute, idleTimeout: 2 * time.Minute}
			},
		},
		{
			name: "UIDisabledByEnv",
			env:  map[string]string{"NOTARY_SERVER_UI_ENABLED": "false"},
			want: func(string) *config {
				return &config{addr: "127.0.0.1:4443", trustType: "local", keyAlgorithm: "ecdsa", backend: "sqlite",
					dbURL: filepath.Join("data", "notary-server.db"), logLevel: "info", dataDir: "data",
					maxUpdateSize: 100 << 20, readTimeout: 5 * time.Minute, writeTimeout: 5 * time.Minute, idleTimeout: 2 * time.Minute}
			},
		},
		{
			name: "ZeroConfig",
			want: func(string) *config {
				return &config{uiEnabled: true, addr: "127.0.0.1:4443", trustType: "local", keyAlgorithm: "ecdsa", backend: "sqlite",
					dbURL: filepath.Join("data", "notary-server.db"), logLevel: "info", dataDir: "data",
					maxUpdateSize: 100 << 20, readTimeout: 5 * time.Minute, writeTimeout: 5 * time.Minute, idleTimeout: 2 * time.Minute}
			},
		},
		{
			name: "Upstream",
			file: upstreamConfig,
			want: func(dir string) *config {
				return &config{uiEnabled: true, addr: ":4443", tlsCert: filepath.Join(dir, "notary-server.crt"), tlsKey: filepath.Join(dir, "notary-server.key"),
					trustType: "remote", keyAlgorithm: "ecdsa", signerHost: "notarysigner", signerPort: "7899", signerServerName: "notarysigner", baseDir: dir,
					signerCA: filepath.Join(dir, "root-ca.crt"), signerCert: filepath.Join(dir, "notary-server.crt"), signerKey: filepath.Join(dir, "notary-server.key"),
					backend: "mysql", dbURL: "server@tcp(mysql:3306)/notaryserver?parseTime=True", logLevel: "debug", dataDir: "data",
					maxUpdateSize: 100 << 20, readTimeout: 5 * time.Minute, writeTimeout: 5 * time.Minute, idleTimeout: 2 * time.Minute}
			},
		},
		{
			name: "EnvOverrides",
			file: `{"server":{"http_addr":":4443"},"storage":{"backend":"memory"},"caching":{"max_age":{"current_metadata":60,"consistent_metadata":0}},"repositories":{"gun_prefixes":["a/"]}}`,
			env: map[string]string{
				"NOTARY_SERVER_SERVER_HTTP_ADDR":                 "127.0.0.1:9999",
				"NOTARY_SERVER_STORAGE_BACKEND":                  "postgres",
				"NOTARY_SERVER_STORAGE_DB_URL":                   "postgres://u@h/db",
				"NOTARY_SERVER_TRUST_SERVICE_KEY_ALGORITHM":      "ed25519",
				"NOTARY_SERVER_REPOSITORIES_GUN_PREFIXES":        "b/ c/",
				"NOTARY_SERVER_CACHING_MAX_AGE_CURRENT_METADATA": "120",
			},
			want: func(dir string) *config {
				return &config{uiEnabled: true, baseDir: dir, addr: "127.0.0.1:9999", trustType: "local", keyAlgorithm: "ed25519", backend: "postgres", dbURL: "postgres://u@h/db",
					logLevel: "info", dataDir: "data", currentMaxAge: 120 * time.Second, consistentMaxAge: -1, gunPrefixes: []string{"b/", "c/"},
					maxUpdateSize: 100 << 20, readTimeout: 5 * time.Minute, writeTimeout: 5 * time.Minute, idleTimeout: 2 * time.Minute}
			},
		},
		{
			name: "CaseInsensitiveKeysAndLimits",
			file: `{"Server":{"HTTP_Addr":":1","max_update_size":1024,"read_timeout":"10s","write_timeout":30,"idle_timeout":"1m"},"Storage":{"Backend":"SQLITE3","db_url":"/tmp/x.db"}}`,
			want: func(dir string) *config {
				return &config{uiEnabled: true, addr: ":1", trustType: "local", keyAlgorithm: "ecdsa", backend: "sqlite", dbURL: "/tmp/x.db", logLevel: "info", dataDir: "data", baseDir: dir,
					maxUpdateSize: 1024, readTimeout: 10 * time.Second, writeTimeout: 30 * time.Second, idleTimeout: time.Minute}
			},
		},
		{
			// A signer whose certificate names another host than the
			// one dialled (a load balancer, an IP address).
			name: "TLSServerName",
			file: `{"server":{"http_addr":":1"},"trust_service":{"type":"remote","hostname":"10.0.0.7","port":"7899","tls_server_name":"signer.internal","tls_ca_file":"ca.crt"}}`,
			want: func(dir string) *config {
				return &config{uiEnabled: true, addr: ":1", trustType: "remote", keyAlgorithm: "ecdsa", signerHost: "10.0.0.7", signerPort: "7899", signerServerName: "signer.internal",
					signerCA: filepath.Join(dir, "ca.crt"), backend: "sqlite", dbURL: filepath.Join("data", "notary-server.db"), logLevel: "info", dataDir: "data", baseDir: dir,
					maxUpdateSize: 100 << 20, readTimeout: 5 * time.Minute, writeTimeout: 5 * time.Minute, idleTimeout: 2 * time.Minute}
			},
		},
		{
			// Relative SQLite files are relative to the config file, like
			// every other path in it.
			name: "RelativeSQLite",
			file: `{"server":{"http_addr":":1"},"storage":{"backend":"sqlite3","db_url":"file:db/server.db?_pragma=foreign_keys(1)"}}`,
			want: func(dir string) *config {
				return &config{uiEnabled: true, addr: ":1", trustType: "local", keyAlgorithm: "ecdsa", backend: "sqlite", dbURL: "file:" + filepath.Join(dir, "db", "server.db") + "?_pragma=foreign_keys(1)",
					logLevel: "info", dataDir: "data", baseDir: dir,
					maxUpdateSize: 100 << 20, readTimeout: 5 * time.Minute, writeTimeout: 5 * time.Minute, idleTimeout: 2 * time.Minute}
			},
		},
		{
			// v0.7.0 configs may hold keys we do not read: they load, and
			// each is named for a warning.
			name: "UnknownKeys",
			file: `{"server":{"http_addr":":1","htp_addr":":2"},"storage":{"backend":"memory"},"reporting":{"bugsnag":{"api_key":"x"}}}`,
			want: func(dir string) *config {
				return &config{uiEnabled: true, addr: ":1", trustType: "local", keyAlgorithm: "ecdsa", backend: "memory", logLevel: "info", dataDir: "data", baseDir: dir,
					unknownKeys:   []string{"reporting", "server.htp_addr"},
					maxUpdateSize: 100 << 20, readTimeout: 5 * time.Minute, writeTimeout: 5 * time.Minute, idleTimeout: 2 * time.Minute}
			},
		},
		// Issue 19: a string for trust_service meant in-process signing
		// with keys in memory; v0.7.0 refuses it, and so do we, showing
		// the right shape.
		{name: "TrustServiceString", file: `{"server":{"http_addr":":1"},"trust_service":"remote"}`, wantErr: `trust_service must be an object, not the string "remote"; write "trust_service": {"type": "remote", ...}`},
		{name: "SectionList", file: `{"server":{"http_addr":":1"},"storage":["sqlite3"]}`, wantErr: `storage must be an object, not a list; write "storage": {"backend": ..., ...}`},
		{name: "SectionSecretNotEchoed", file: `{"server":{"http_addr":":1"},"storage":"postgres://u:secret@h/db"}`, wantErr: "storage must be an object, not a string"},
		{name: "WrongTypeInt", file: `{"server":{"http_addr":":1","max_update_size":"big"}}`, wantErr: `server.max_update_size must be a whole number, got "big"`},
		{name: "WrongTypeString", file: `{"server":{"http_addr":":1"},"auth":{"type":{"token":true}}}`, wantErr: "auth.type must be a string, not an object"},
		{name: "WrongTypeList", file: `{"server":{"http_addr":":1"},"repositories":{"gun_prefixes":[1]}}`, wantErr: "repositories.gun_prefixes must be a list of strings, not a list"},
		{name: "WrongTypeDuration", file: `{"server":{"http_addr":":1","idle_timeout":true}}`, wantErr: "server.idle_timeout must be a duration"},
		{name: "MissingAddr", file: `{"storage":{"backend":"memory"}}`, wantErr: "server.http_addr is required"},
		{name: "HalfTLS", file: `{"server":{"http_addr":":1","tls_cert_file":"c.pem"}}`, wantErr: "both a cert and key file"},
		{name: "ClientCAWithoutTLS", file: `{"server":{"http_addr":":1","client_ca_file":"ca.pem"}}`, wantErr: "client_ca_file needs"},
		{name: "AuthOptionsNotObject", file: `{"server":{"http_addr":":1"},"auth":{"type":"token","options":"realm"}}`, wantErr: "auth.options must be an object"},
		{name: "BadTrustType", file: `{"server":{"http_addr":":1"},"trust_service":{"type":"magic"}}`, wantErr: `"local" or "remote"`},
		{name: "BadKeyAlgorithm", file: `{"server":{"http_addr":":1"},"trust_service":{"type":"local","key_algorithm":"rsa"}}`, wantErr: "invalid key algorithm"},
		{name: "RemoteWithoutCA", file: `{"server":{"http_addr":":1"},"trust_service":{"type":"remote","hostname":"s"}}`, wantErr: "tls_ca_file is required"},
		{name: "RemoteHalfClientCert", file: `{"server":{"http_addr":":1"},"trust_service":{"type":"remote","hostname":"s","tls_ca_file":"ca","tls_client_cert":"c"}}`, wantErr: "both client key and cert"},
		{name: "Rethink", file: `{"server":{"http_addr":":1"},"storage":{"backend":"rethinkdb","db_url":"x"}}`, wantErr: "rethinkdb is not supported"},
		{name: "UnknownBackend", file: `{"server":{"http_addr":":1"},"storage":{"backend":"files"}}`, wantErr: "not a supported storage backend"},
		{name: "MySQLWithoutURL", file: `{"server":{"http_addr":":1"},"storage":{"backend":"mysql"}}`, wantErr: "non-empty database source"},
		{name: "CacheTooLong", file: `{"server":{"http_addr":":1"},"caching":{"max_age":{"current_metadata":31536001}}}`, wantErr: "max-age between 0 and 31536000"},
		{name: "CacheNegative", file: `{"server":{"http_addr":":1"},"caching":{"max_age":{"consistent_metadata":-1}}}`, wantErr: "max-age between"},
		{name: "BadPrefix", file: `{"server":{"http_addr":":1"},"repositories":{"gun_prefixes":["noslash"]}}`, wantErr: "invalid GUN prefix noslash"},
		{name: "BadLogLevel", file: `{"server":{"http_addr":":1"},"logging":{"level":"loud"}}`, wantErr: "not a valid logging.level"},
		{name: "NotJSON", file: `server: {}`, wantErr: "could not parse config"},
		{name: "UIEnabledNotBool", file: `{"server":{"http_addr":":1"},"ui":{"enabled":"maybe"}}`, wantErr: "ui.enabled"},
		{name: "BadTimeout", file: `{"server":{"http_addr":":1","read_timeout":"soon"}}`, wantErr: "not a duration"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var path string
			if tc.file != "" {
				path = writeConfig(t, tc.file)
			}
			rc, err := loadRawConfig(path, envFrom(tc.env))
			var cfg *config
			if err == nil {
				cfg, err = parseConfig(rc, "data")
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want(filepath.Dir(path)), cfg, cmpOpt); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRunFlags(t *testing.T) {
	var out bytes.Buffer
	if code := run([]string{"-help"}, &out, envFrom(nil)); code != 0 || !strings.Contains(out.String(), "NOTARY_SERVER_KEY_PASSPHRASE") || !strings.Contains(out.String(), "-config") ||
		!strings.Contains(out.String(), "relative to the config file's directory") || !strings.Contains(out.String(), "tls_server_name") || !strings.Contains(out.String(), "ui.enabled") {
		t.Errorf("-help: exit %d, output:\n%s", code, out.String())
	}
	out.Reset()
	if code := run([]string{"-version"}, &out, envFrom(nil)); code != 0 || !strings.Contains(out.String(), "notary-server") {
		t.Errorf("-version: exit %d, %q", code, out.String())
	}
	out.Reset()
	if code := run([]string{"-nope"}, &out, envFrom(nil)); code != 2 {
		t.Errorf("unknown flag: exit %d", code)
	}
}

// TestRunRefusesBadTLS checks that a certificate that does not load stops
// the server with an error, never a fallback to plain HTTP.
func TestRunRefusesBadTLS(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "cert.pem"), []byte("not a cert"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, `{"server":{"http_addr":"127.0.0.1:0","tls_cert_file":"`+filepath.Join(dir, "cert.pem")+`","tls_key_file":"`+filepath.Join(dir, "key.pem")+`"},"storage":{"backend":"memory"}}`)
	var out bytes.Buffer
	if code := run([]string{"-config", cfg, "-data-dir", dir}, &out, envFrom(nil)); code != 1 || !strings.Contains(out.String(), "loading TLS certificate") {
		t.Errorf("bad TLS files: exit %d, output:\n%s", code, out.String())
	}
}

// TestKeyPassphrase checks the passphrase sources: environment first,
// then a generated one kept 0600 in the data directory.
func TestKeyPassphrase(t *testing.T) {
	dir := t.TempDir()
	log, _ := newLogger(&bytes.Buffer{}, "json", "info")
	file := filepath.Join(dir, passphraseFile)
	p, err := keyPassphrase(file, "", envFrom(map[string]string{passphraseEnv: "from-env"}), log)
	if err != nil || p != "from-env" {
		t.Fatalf("env passphrase: %q %v", p, err)
	}
	if _, err := os.Stat(filepath.Join(dir, passphraseFile)); !os.IsNotExist(err) {
		t.Error("a passphrase file was written although the environment had one")
	}
	p1, err := keyPassphrase(file, "", envFrom(nil), log)
	if err != nil || len(p1) < 32 {
		t.Fatalf("generated passphrase: %q %v", p1, err)
	}
	fi, err := os.Stat(filepath.Join(dir, passphraseFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("passphrase file mode %v (%v), want 0600", fi.Mode(), err)
	}
	p2, err := keyPassphrase(file, "", envFrom(nil), log)
	if err != nil || p2 != p1 {
		t.Errorf("second start read %q (%v), want the stored %q", p2, err, p1)
	}
}
