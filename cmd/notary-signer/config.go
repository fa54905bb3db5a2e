package main

import (
	"errors"
	"fmt"
	"path/filepath"
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
// sqlite3 (or unset) and storage.db_url is unset: beside the config file.
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
		v, err := rc.String(key)
		errs = append(errs, err)
		*dst = v
	}
	getPath := func(key string, dst *string) {
		v, err := rc.Path(key)
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
	n, _, err := rc.Int("pkcs11.max_sessions")
	errs = append(errs, err)
	c.pkcs11Max = int(n)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if _, ok := rc.Get("reporting.bugsnag"); ok {
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
			if rc.File() != "" {
				dir = filepath.Dir(rc.File())
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
			if v, ok := rc.LookupEnv(envDefaultAlias); ok {
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
		if _, inFile := rc.FileValue("pkcs11.pin"); inFile {
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
