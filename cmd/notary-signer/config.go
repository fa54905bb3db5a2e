package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/notary-go/notary/internal/jsonconfig"
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
// sqlite3 (or unset) and storage.db_url is unset: beside the config file
// (in the working directory without one).
const defaultSQLiteFile = "notary-signer.db"

// defaultLogLevel is v1's: the signer logs errors only unless
// logging.level says otherwise.
const defaultLogLevel = "error"

// rawConfig is a parsed JSON config file with v1's lookup rules (see
// jsonconfig).
type rawConfig = jsonconfig.Config

func loadRawConfig(file string, lookup func(string) (string, bool)) (*rawConfig, error) {
	return jsonconfig.Load(file, envPrefix, lookup)
}

// configKeys are the keys notary-signer reads: v0.7.0's plus the pkcs11
// section. A file with other keys loads, with a warning naming each; a key
// or section of the wrong type stops the signer.
var configKeys = jsonconfig.Schema{
	"server.grpc_addr":      jsonconfig.KindString,
	"server.http_addr":      jsonconfig.KindString,
	"server.tls_cert_file":  jsonconfig.KindString,
	"server.tls_key_file":   jsonconfig.KindString,
	"server.client_ca_file": jsonconfig.KindString,
	"storage.backend":       jsonconfig.KindString,
	"storage.db_url":        jsonconfig.KindString,
	"storage.default_alias": jsonconfig.KindString,
	"pkcs11.module":         jsonconfig.KindString,
	"pkcs11.token_label":    jsonconfig.KindString,
	"pkcs11.max_sessions":   jsonconfig.KindInt,
	"pkcs11.pin":            jsonconfig.KindAny, // known, to be refused by name (see parsePKCS11)
	"logging.level":         jsonconfig.KindString,
	"reporting.bugsnag":     jsonconfig.KindAny, // not supported; logged
	// ours (see authz.go)
	"authorization":                jsonconfig.KindObject, // its clients list is checked by parseAuthz
	"signing.max_timestamp_expiry": jsonconfig.KindString,
	"signing.max_snapshot_expiry":  jsonconfig.KindString,
	"signing.max_version_jump":     jsonconfig.KindInt,
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
	// unknownKeys are the file's keys the signer does not read, logged as
	// warnings once the logger exists.
	unknownKeys []string
}

// parseConfig reads the settings v0.7.0's notary-signer reads, with its
// defaults and errors, plus our sqlite3 default and the pkcs11 backend,
// one config section at a time. Unlike v1 it requires
// server.client_ca_file: the signing services are only ever offered over
// mutual TLS. With serving false (the migrate and rotate-alias commands)
// the server section is not checked. Relative paths (certificates, the
// PKCS#11 module, a SQLite db_url) are relative to the config file.
func parseConfig(rc *rawConfig, serving bool) (*config, error) {
	unknown, err := rc.Check(configKeys)
	if err != nil {
		return nil, err
	}
	c := &config{unknownKeys: unknown}
	for _, section := range []func(*rawConfig) error{
		c.parseLogging,
		c.parseReporting,
		c.parseServer,
		c.parseStorage,
		c.parsePKCS11,
	} {
		if err := section(rc); err != nil {
			return nil, err
		}
	}
	if serving {
		if err := c.checkServer(); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// parseLogging reads logging.level.
func (c *config) parseLogging(rc *rawConfig) error {
	var err error
	if c.logLevel, err = rc.String("logging.level"); err != nil {
		return err
	}
	if c.logLevel == "" {
		c.logLevel = defaultLogLevel
	}
	_, err = parseLevel(c.logLevel)
	return err
}

// parseReporting notes reporting.bugsnag, which is not supported.
func (c *config) parseReporting(rc *rawConfig) error {
	_, c.bugsnag = rc.Get("reporting.bugsnag")
	return nil
}

// parseServer reads the server section (checked by checkServer when
// serving).
func (c *config) parseServer(rc *rawConfig) error {
	r := rc.Reader()
	r.String("server.grpc_addr", &c.grpcAddr)
	r.String("server.http_addr", &c.httpAddr)
	r.Path("server.tls_cert_file", &c.tlsCert)
	r.Path("server.tls_key_file", &c.tlsKey)
	r.Path("server.client_ca_file", &c.clientCA)
	return r.Err()
}

// parseStorage reads the storage section: the backend, its database and
// the default passphrase alias of an SQL key database.
func (c *config) parseStorage(rc *rawConfig) error {
	r := rc.Reader()
	r.String("storage.backend", &c.backend)
	r.String("storage.db_url", &c.dbURL)
	r.String("storage.default_alias", &c.defaultAlias)
	if err := r.Err(); err != nil {
		return err
	}
	switch b := strings.ToLower(c.backend); b {
	case "", "sqlite", backendSQLite:
		c.backend = backendSQLite
		if c.dbURL == "" {
			c.dbURL = rc.Resolve(defaultSQLiteFile)
		} else {
			c.dbURL = rc.ResolveSQLite(c.dbURL)
		}
	case backendMemory, backendMySQL, backendPostgres, backendPKCS11:
		c.backend = b
	case "postgresql":
		c.backend = backendPostgres
	case "rethinkdb":
		return errors.New("rethinkdb is not supported by this notary-signer: use mysql, postgres, sqlite3, memory or pkcs11")
	default:
		return fmt.Errorf("%s is not an allowed backend, must be one of: [memory mysql postgres sqlite3 pkcs11]", c.backend)
	}
	switch c.backend {
	case backendMySQL, backendPostgres:
		if c.dbURL == "" {
			return fmt.Errorf("must provide a non-empty database source for %s", c.backend)
		}
	}
	if !c.usesKeyDB() {
		return nil
	}
	if c.defaultAlias == "" {
		// backwards compatibility: v1's DEFAULT_ALIAS environment variable
		if v, ok := rc.LookupEnv(envDefaultAlias); ok {
			c.defaultAlias = strings.TrimSpace(v)
		}
	}
	if c.defaultAlias == "" {
		return errors.New("must provide a default alias for the key DB (storage.default_alias or " + envDefaultAlias + ")")
	}
	if len(c.defaultAlias) > keydb.MaxAliasLen {
		return fmt.Errorf("storage.default_alias is longer than %d bytes", keydb.MaxAliasLen)
	}
	return nil
}

// parsePKCS11 reads the pkcs11 section (pkcs11 backend only).
func (c *config) parsePKCS11(rc *rawConfig) error {
	r := rc.Reader()
	r.Path("pkcs11.module", &c.pkcs11Module)
	r.String("pkcs11.token_label", &c.pkcs11Token)
	if err := r.Err(); err != nil {
		return err
	}
	n, _, err := rc.Int("pkcs11.max_sessions")
	if err != nil {
		return err
	}
	c.pkcs11Max = int(n)
	if c.backend != backendPKCS11 {
		return nil
	}
	if _, inFile := rc.FileValue("pkcs11.pin"); inFile {
		return errors.New("pkcs11.pin must not be in the config file: set " + envPKCS11PIN + " in the signer's environment")
	}
	if c.pkcs11Module == "" {
		return errors.New("the pkcs11 backend needs pkcs11.module (the PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so)")
	}
	if c.pkcs11Token == "" {
		return errors.New("the pkcs11 backend needs pkcs11.token_label")
	}
	if c.pkcs11Max < 0 {
		return errors.New("pkcs11.max_sessions must not be negative")
	}
	return nil
}

// warnUnknown logs the config file's keys the signer does not read. The
// signer logs errors only by default (as v0.7.0); these warnings are
// raised to that level then, since a misspelt key ignored in silence is
// what they are for.
func (c *config) warnUnknown(log *slog.Logger, file string) {
	level := slog.LevelWarn
	if !log.Enabled(context.Background(), level) {
		level = slog.LevelError
	}
	for _, k := range c.unknownKeys {
		log.Log(context.Background(), level, "ignoring unknown config key", "key", k, "config", file)
	}
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
