package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/notary-go/notary/signer/keydb"
)

// envPrefix is v1's: every setting "a.b" can be overridden by the
// environment variable NOTARY_SIGNER_A_B (viper AutomaticEnv with "." → "_").
// Passphrases share the prefix: alias A's is NOTARY_SIGNER_<A uppercased>.
const envPrefix = "NOTARY_SIGNER"

// Environment variables beyond the NOTARY_SIGNER_<SECTION>_<KEY> overrides.
const (
	// envDefaultAlias is v1's backward-compatible spelling of
	// storage.default_alias (viper key "DEFAULT_ALIAS").
	envDefaultAlias = "NOTARY_SIGNER_DEFAULT_ALIAS"
	// envPKCS11PIN holds the token's user PIN. The PIN is only ever read
	// from the environment, never from the config file.
	envPKCS11PIN = "NOTARY_SIGNER_PKCS11_PIN"
)

// Storage backends. v1 accepts memory, mysql, postgres, sqlite3 and
// rethinkdb; we accept the first four (sqlite3 being the default, also
// spelled sqlite) plus pkcs11.
const (
	backendMemory   = "memory"
	backendSQLite   = "sqlite3"
	backendMySQL    = "mysql"
	backendPostgres = "postgres"
	backendPKCS11   = "pkcs11"
)

// defaultSQLiteFile is the key database used when storage.backend is
// sqlite3 (or unset) and storage.db_url is unset: beside the config file.
const defaultSQLiteFile = "notary-signer.db"

// defaultLogLevel is v1's: the signer logs errors only unless
// logging.level says otherwise.
const defaultLogLevel = "error"

// rawConfig is a parsed JSON config file with v1's lookup rules: keys are
// case-insensitive, an environment variable overrides the file, and
// relative paths resolve against the file's directory.
type rawConfig struct {
	file   string         // "" without a config file
	tree   map[string]any // lowercased keys
	lookup func(string) (string, bool)
}

func loadRawConfig(file string, lookup func(string) (string, bool)) (*rawConfig, error) {
	rc := &rawConfig{file: file, tree: map[string]any{}, lookup: lookup}
	if file == "" {
		return rc, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("could not read config at %s: %w", file, err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("could not parse config at %s (JSON expected): %w", file, err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("config at %s is not a JSON object", file)
	}
	rc.tree = lowerKeys(m)
	return rc, nil
}

func lowerKeys(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok {
			v = lowerKeys(sub)
		}
		out[strings.ToLower(k)] = v
	}
	return out
}

// envName is the variable overriding key ("storage.db_url" →
// NOTARY_SIGNER_STORAGE_DB_URL).
func envName(key string) string {
	return envPrefix + "_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// fileValue returns the value of a dotted key in the file only.
func (rc *rawConfig) fileValue(key string) (any, bool) {
	var cur any = rc.tree
	for _, part := range strings.Split(strings.ToLower(key), ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[part]; !ok {
			return nil, false
		}
	}
	return cur, cur != nil
}

// get returns the value of a dotted key: the environment first, then the
// file. ok is false when neither sets it.
func (rc *rawConfig) get(key string) (any, bool) {
	if v, ok := rc.lookup(envName(key)); ok {
		return v, true
	}
	return rc.fileValue(key)
}

func (rc *rawConfig) str(key string) (string, error) {
	v, ok := rc.get(key)
	if !ok {
		return "", nil
	}
	switch x := v.(type) {
	case string:
		return strings.TrimSpace(x), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case bool:
		return strconv.FormatBool(x), nil
	}
	return "", fmt.Errorf("config: %s must be a string", key)
}

// integer reads a whole number given as a JSON number or a string.
func (rc *rawConfig) integer(key string) (int64, error) {
	v, ok := rc.get(key)
	if !ok {
		return 0, nil
	}
	switch x := v.(type) {
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			return 0, fmt.Errorf("config: %s must be a whole number", key)
		}
		return int64(x), nil
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("config: %s must be a whole number, got %q", key, x)
		}
		return n, nil
	}
	return 0, fmt.Errorf("config: %s must be a whole number", key)
}

// path reads a file path, relative to the config file's directory (v1
// GetPathRelativeToConfig).
func (rc *rawConfig) path(key string) (string, error) {
	p, err := rc.str(key)
	if err != nil || p == "" || filepath.IsAbs(p) || rc.file == "" {
		return p, err
	}
	return filepath.Clean(filepath.Join(filepath.Dir(rc.file), p)), nil
}

// config is the signer's effective configuration. It holds no secret:
// passphrases and the PIN are read from the environment when used.
type config struct {
	grpcAddr     string
	httpAddr     string // v1 ignores server.http_addr; so do we (logged)
	tlsCert      string
	tlsKey       string
	clientCA     string
	backend      string // memory, sqlite3, mysql, postgres, pkcs11
	dbURL        string // may hold a password: never logged
	defaultAlias string
	pkcs11Module string
	pkcs11Token  string
	pkcs11Max    int
	logLevel     string
	bugsnag      bool // reporting.bugsnag is set (not supported; logged)
}

// parseConfig reads the settings v0.7.0's notary-signer reads, with its
// defaults and errors, plus our sqlite3 default and the pkcs11 backend.
// Unlike v1 it requires server.client_ca_file: the signing services are
// only ever offered over mutual TLS. With serving false (the migrate and
// rotate-alias commands) the server section is not checked.
func parseConfig(rc *rawConfig, serving bool) (*config, error) {
	c := &config{}
	var errs []error
	get := func(key string, dst *string) {
		v, err := rc.str(key)
		errs = append(errs, err)
		*dst = v
	}
	getPath := func(key string, dst *string) {
		v, err := rc.path(key)
		errs = append(errs, err)
		*dst = v
	}
	get("server.grpc_addr", &c.grpcAddr)
	get("server.http_addr", &c.httpAddr)
	getPath("server.tls_cert_file", &c.tlsCert)
	getPath("server.tls_key_file", &c.tlsKey)
	getPath("server.client_ca_file", &c.clientCA)
	get("storage.backend", &c.backend)
	get("storage.db_url", &c.dbURL)
	get("storage.default_alias", &c.defaultAlias)
	getPath("pkcs11.module", &c.pkcs11Module)
	get("pkcs11.token_label", &c.pkcs11Token)
	get("logging.level", &c.logLevel)
	n, err := rc.integer("pkcs11.max_sessions")
	errs = append(errs, err)
	c.pkcs11Max = int(n)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if _, ok := rc.get("reporting.bugsnag"); ok {
		c.bugsnag = true
	}

	if c.logLevel == "" {
		c.logLevel = defaultLogLevel
	}
	if _, err := parseLevel(c.logLevel); err != nil {
		return nil, err
	}

	if serving {
		if err := c.checkServer(); err != nil {
			return nil, err
		}
	}

	// storage
	switch b := strings.ToLower(c.backend); b {
	case "", "sqlite", backendSQLite:
		c.backend = backendSQLite
		if c.dbURL == "" {
			dir := "."
			if rc.file != "" {
				dir = filepath.Dir(rc.file)
			}
			c.dbURL = filepath.Join(dir, defaultSQLiteFile)
		}
	case backendMemory, backendMySQL, backendPostgres, backendPKCS11:
		c.backend = b
	case "postgresql":
		c.backend = backendPostgres
	case "rethinkdb":
		return nil, errors.New("rethinkdb is not supported by this notary-signer: use mysql, postgres, sqlite3, memory or pkcs11")
	default:
		return nil, fmt.Errorf("%s is not an allowed backend, must be one of: [memory mysql postgres sqlite3 pkcs11]", c.backend)
	}
	switch c.backend {
	case backendMySQL, backendPostgres:
		if c.dbURL == "" {
			return nil, fmt.Errorf("must provide a non-empty database source for %s", c.backend)
		}
	}
	if c.usesKeyDB() {
		if c.defaultAlias == "" {
			// backwards compatibility: v1's DEFAULT_ALIAS environment variable
			if v, ok := rc.lookup(envDefaultAlias); ok {
				c.defaultAlias = strings.TrimSpace(v)
			}
		}
		if c.defaultAlias == "" {
			return nil, errors.New("must provide a default alias for the key DB (storage.default_alias or " + envDefaultAlias + ")")
		}
		if len(c.defaultAlias) > keydb.MaxAliasLen {
			return nil, fmt.Errorf("storage.default_alias is longer than %d bytes", keydb.MaxAliasLen)
		}
	}
	if c.backend == backendPKCS11 {
		if _, inFile := rc.fileValue("pkcs11.pin"); inFile {
			return nil, errors.New("pkcs11.pin must not be in the config file: set " + envPKCS11PIN + " in the signer's environment")
		}
		if c.pkcs11Module == "" {
			return nil, errors.New("the pkcs11 backend needs pkcs11.module (the PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so)")
		}
		if c.pkcs11Token == "" {
			return nil, errors.New("the pkcs11 backend needs pkcs11.token_label")
		}
		if c.pkcs11Max < 0 {
			return nil, errors.New("pkcs11.max_sessions must not be negative")
		}
	}
	return c, nil
}

// checkServer applies v1's checks of the server section, and ours.
func (c *config) checkServer() error {
	if c.tlsCert == "" || c.tlsKey == "" {
		return errors.New("unable to set up TLS: server.tls_cert_file and server.tls_key_file are required (the signer only speaks TLS)")
	}
	if c.clientCA == "" {
		return errors.New("unable to set up TLS: server.client_ca_file is required: this notary-signer serves " +
			"KeyManagement and Signer only to clients with a certificate from that CA (mutual TLS). " +
			"v0.7.0 would start without one and let any client sign; we refuse")
	}
	if c.grpcAddr == "" {
		return errors.New("grpc listen address required for server (server.grpc_addr)")
	}
	return nil
}

// usesKeyDB reports whether keys live in an SQL key database (which needs
// a default passphrase alias).
func (c *config) usesKeyDB() bool {
	switch c.backend {
	case backendSQLite, backendMySQL, backendPostgres:
		return true
	}
	return false
}
