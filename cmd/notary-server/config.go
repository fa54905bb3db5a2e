package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/notary-go/notary/gun"
	"github.com/notary-go/notary/internal/jsonconfig"
)

// envPrefix is v1's: every setting "a.b" can be overridden by the
// environment variable NOTARY_SERVER_A_B (viper AutomaticEnv with "." → "_").
const envPrefix = "NOTARY_SERVER"

// rawConfig is a parsed JSON config file with v1's lookup rules (see
// jsonconfig).
type rawConfig = jsonconfig.Config

func loadRawConfig(file string, lookup func(string) (string, bool)) (*rawConfig, error) {
	return jsonconfig.Load(file, envPrefix, lookup)
}

// configKeys are the keys notary-server reads: v0.7.0's, plus
// server.max_update_size, the timeouts, trust_service.tls_server_name and
// the htpasswd auth type. A file with other keys loads, with a warning
// naming each; a key or section of the wrong type stops the server.
var configKeys = jsonconfig.Schema{
	"server.http_addr":                    jsonconfig.KindString,
	"server.tls_cert_file":                jsonconfig.KindString,
	"server.tls_key_file":                 jsonconfig.KindString,
	"server.client_ca_file":               jsonconfig.KindString,
	"server.max_update_size":              jsonconfig.KindInt,
	"server.read_timeout":                 jsonconfig.KindDuration,
	"server.write_timeout":                jsonconfig.KindDuration,
	"server.idle_timeout":                 jsonconfig.KindDuration,
	"trust_service.type":                  jsonconfig.KindString,
	"trust_service.key_algorithm":         jsonconfig.KindString,
	"trust_service.hostname":              jsonconfig.KindString,
	"trust_service.port":                  jsonconfig.KindString,
	"trust_service.tls_server_name":       jsonconfig.KindString,
	"trust_service.tls_ca_file":           jsonconfig.KindString,
	"trust_service.tls_client_cert":       jsonconfig.KindString,
	"trust_service.tls_client_key":        jsonconfig.KindString,
	"storage.backend":                     jsonconfig.KindString,
	"storage.db_url":                      jsonconfig.KindString,
	"logging.level":                       jsonconfig.KindString,
	"caching.max_age.current_metadata":    jsonconfig.KindInt,
	"caching.max_age.consistent_metadata": jsonconfig.KindInt,
	"repositories.gun_prefixes":           jsonconfig.KindStrings,
	"auth.type":                           jsonconfig.KindString,
	"auth.options":                        jsonconfig.KindObject,
	"ui.enabled":                          jsonconfig.KindBool,
}

// config is the server's effective configuration.
type config struct {
	addr             string
	tlsCert, tlsKey  string
	clientCA         string
	maxUpdateSize    int64
	readTimeout      time.Duration
	writeTimeout     time.Duration
	idleTimeout      time.Duration
	trustType        string // "local" or "remote"
	keyAlgorithm     string
	signerHost       string
	signerPort       string
	signerServerName string // name the signer's certificate must carry (default signerHost)
	signerCA         string
	signerCert       string
	signerKey        string
	backend          string // memory, sqlite, mysql, postgres
	dbURL            string
	logLevel         string
	currentMaxAge    time.Duration // server.Options semantics: <0 disables
	consistentMaxAge time.Duration
	gunPrefixes      []string
	dataDir          string
	authType         string         // auth.type: "", "token" or "htpasswd"
	authOptions      map[string]any // auth.options
	uiEnabled        bool           // ui.enabled: the web view at /ui/ (default true)
	// baseDir is what relative paths of the config file are relative to
	// (its directory; "" without a config file). Paths read through
	// rawConfig.Path are already absolute; auth.options' paths are
	// resolved by package auth against it.
	baseDir string
	// unknownKeys are the file's keys the server does not read, logged as
	// warnings once the logger exists.
	unknownKeys []string
}

// Defaults when neither the config file nor the environment says
// otherwise (and with no config file at all).
const (
	defaultAddr          = "127.0.0.1:4443"
	defaultDBFile        = "notary-server.db"
	defaultReadTimeout   = 5 * time.Minute
	defaultWriteTimeout  = 5 * time.Minute
	defaultIdleTimeout   = 2 * time.Minute
	defaultLogLevel      = "info"
	defaultKeyAlgorithm  = "ecdsa"
	defaultSignerPort    = "7899"
	maxCacheAgeSeconds   = 31536000
	passphraseEnv        = "NOTARY_SERVER_KEY_PASSPHRASE"
	passphraseFile       = "key-passphrase"
	dataDirEnv           = "NOTARY_SERVER_DATA_DIR"
	defaultDataDir       = "notary-data"
	defaultMaxUpdateSize = 100 << 20
)

// parseConfig turns the raw config into the effective one, applying the
// defaults and v1's checks, one config section at a time.
func parseConfig(rc *rawConfig, dataDir string) (*config, error) {
	unknown, err := rc.Check(configKeys)
	if err != nil {
		return nil, err
	}
	c := &config{dataDir: dataDir, baseDir: rc.Dir(), unknownKeys: unknown}
	for _, section := range []func(*rawConfig) error{
		c.parseServer,
		c.parseTrustService,
		c.parseStorage,
		c.parseLogging,
		c.parseCaching,
		c.parseRepositories,
		c.parseAuth,
		c.parseUI,
	} {
		if err := section(rc); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// parseServer reads the server section: listen address, TLS, limits.
func (c *config) parseServer(rc *rawConfig) error {
	r := rc.Reader()
	r.String("server.http_addr", &c.addr)
	r.Path("server.tls_cert_file", &c.tlsCert)
	r.Path("server.tls_key_file", &c.tlsKey)
	r.Path("server.client_ca_file", &c.clientCA)
	if err := r.Err(); err != nil {
		return err
	}
	if c.addr == "" {
		if rc.File() != "" && !rc.Has("server.http_addr") {
			return fmt.Errorf("config: server.http_addr is required (e.g. \":4443\")")
		}
		c.addr = defaultAddr
	}
	switch {
	case c.tlsCert == "" && c.tlsKey == "" && c.clientCA != "":
		return fmt.Errorf("config: server.client_ca_file needs server.tls_cert_file and server.tls_key_file")
	case (c.tlsCert == "") != (c.tlsKey == ""):
		return fmt.Errorf("config: either include both a cert and key file, or no TLS information at all to disable TLS")
	}
	n, set, err := rc.Int("server.max_update_size")
	if err != nil {
		return err
	}
	c.maxUpdateSize = defaultMaxUpdateSize
	if set {
		if n <= 0 {
			return fmt.Errorf("config: server.max_update_size must be positive")
		}
		c.maxUpdateSize = n
	}
	for _, t := range []struct {
		key string
		dst *time.Duration
		def time.Duration
	}{
		{"server.read_timeout", &c.readTimeout, defaultReadTimeout},
		{"server.write_timeout", &c.writeTimeout, defaultWriteTimeout},
		{"server.idle_timeout", &c.idleTimeout, defaultIdleTimeout},
	} {
		d, set, err := rc.Duration(t.key)
		if err != nil {
			return err
		}
		if !set {
			d = t.def
		}
		if d <= 0 {
			return fmt.Errorf("config: %s must be positive", t.key)
		}
		*t.dst = d
	}
	return nil
}

// parseTrustService reads the trust_service section: in-process signing,
// or a notary-signer reached over mutual TLS.
func (c *config) parseTrustService(rc *rawConfig) error {
	r := rc.Reader()
	r.String("trust_service.type", &c.trustType)
	r.String("trust_service.key_algorithm", &c.keyAlgorithm)
	r.String("trust_service.hostname", &c.signerHost)
	r.String("trust_service.port", &c.signerPort)
	r.String("trust_service.tls_server_name", &c.signerServerName)
	r.Path("trust_service.tls_ca_file", &c.signerCA)
	r.Path("trust_service.tls_client_cert", &c.signerCert)
	r.Path("trust_service.tls_client_key", &c.signerKey)
	if err := r.Err(); err != nil {
		return err
	}
	if c.trustType == "" {
		c.trustType = "local"
	}
	if c.keyAlgorithm == "" {
		c.keyAlgorithm = defaultKeyAlgorithm
	}
	switch c.trustType {
	case "local":
		if c.keyAlgorithm != "ecdsa" && c.keyAlgorithm != "ed25519" {
			return fmt.Errorf("config: invalid key algorithm configured: %s (the local trust service makes ecdsa or ed25519 keys)", c.keyAlgorithm)
		}
	case "remote":
		if c.keyAlgorithm != "ecdsa" && c.keyAlgorithm != "ed25519" && c.keyAlgorithm != "rsa" {
			return fmt.Errorf("config: invalid key algorithm configured: %s", c.keyAlgorithm)
		}
		if c.signerHost == "" {
			return fmt.Errorf("config: trust_service.hostname is required for a remote trust service")
		}
		if c.signerPort == "" {
			c.signerPort = defaultSignerPort
		}
		if c.signerServerName == "" {
			// v0.7.0 verifies the signer's certificate against the name
			// it dials.
			c.signerServerName = c.signerHost
		}
		if (c.signerCert == "") != (c.signerKey == "") {
			return fmt.Errorf("config: either pass both client key and cert, or neither")
		}
		if c.signerCA == "" {
			return fmt.Errorf("config: trust_service.tls_ca_file is required for a remote trust service (the signer only speaks TLS)")
		}
	default:
		return fmt.Errorf("config: must specify either a \"local\" or \"remote\" type for trust_service")
	}
	return nil
}

// parseStorage reads the storage section. A relative SQLite file is
// relative to the config file (to the working directory without one).
func (c *config) parseStorage(rc *rawConfig) error {
	r := rc.Reader()
	r.String("storage.backend", &c.backend)
	r.String("storage.db_url", &c.dbURL)
	if err := r.Err(); err != nil {
		return err
	}
	switch strings.ToLower(c.backend) {
	case "":
		c.backend = "sqlite"
	case "memory":
		c.backend = "memory"
	case "sqlite", "sqlite3":
		c.backend = "sqlite"
	case "mysql":
		c.backend = "mysql"
	case "postgres", "postgresql":
		c.backend = "postgres"
	case "rethinkdb":
		return fmt.Errorf("config: storage.backend rethinkdb is not supported by this server; use sqlite3, postgres or mysql")
	default:
		return fmt.Errorf("config: %s is not a supported storage backend", c.backend)
	}
	switch c.backend {
	case "sqlite":
		if c.dbURL == "" {
			c.dbURL = filepath.Join(c.dataDir, defaultDBFile)
		} else {
			c.dbURL = rc.ResolveSQLite(c.dbURL)
		}
	case "mysql", "postgres":
		if c.dbURL == "" {
			return fmt.Errorf("config: must provide a non-empty database source (storage.db_url) for %s", c.backend)
		}
	}
	return nil
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

// parseCaching reads caching.max_age (v1 getCacheConfig: 0..one year, 0
// disables).
func (c *config) parseCaching(rc *rawConfig) error {
	for _, cc := range []struct {
		key string
		dst *time.Duration
	}{
		{"caching.max_age.current_metadata", &c.currentMaxAge},
		{"caching.max_age.consistent_metadata", &c.consistentMaxAge},
	} {
		n, set, err := rc.Int(cc.key)
		if err != nil || (set && (n < 0 || n > maxCacheAgeSeconds)) {
			return fmt.Errorf("config: %s: must specify a cache-control max-age between 0 and %d", cc.key, maxCacheAgeSeconds)
		}
		switch {
		case !set:
			*cc.dst = 0 // server default
		case n == 0:
			*cc.dst = -1 // disabled
		default:
			*cc.dst = time.Duration(n) * time.Second
		}
	}
	return nil
}

// parseRepositories reads repositories.gun_prefixes (v1
// getRequiredGunPrefixes).
func (c *config) parseRepositories(rc *rawConfig) error {
	var err error
	if c.gunPrefixes, err = rc.Strings("repositories.gun_prefixes"); err != nil {
		return err
	}
	if _, err := gun.ParsePrefixes(c.gunPrefixes); err != nil {
		return fmt.Errorf("config: repositories.gun_prefixes: %w", err)
	}
	return nil
}

// parseAuth reads auth.type and auth.options (v1's; the options are
// checked by auth.New when the server starts).
func (c *config) parseAuth(rc *rawConfig) error {
	var err error
	if c.authType, err = rc.String("auth.type"); err != nil {
		return err
	}
	if v, ok := rc.Get("auth.options"); ok {
		m, isMap := v.(map[string]any)
		if !isMap {
			return fmt.Errorf("config: auth.options must be an object")
		}
		c.authOptions = m
	}
	return nil
}

// parseUI reads ui.enabled: the read-only web view at /ui/ is on unless
// it is false (in the file, or "false" in NOTARY_SERVER_UI_ENABLED).
func (c *config) parseUI(rc *rawConfig) error {
	c.uiEnabled = true
	v, ok := rc.Get("ui.enabled")
	if !ok {
		return nil
	}
	switch b := v.(type) {
	case bool:
		c.uiEnabled = b
		return nil
	case string:
		switch strings.ToLower(strings.TrimSpace(b)) {
		case "true", "1", "yes":
			return nil
		case "false", "0", "no":
			c.uiEnabled = false
			return nil
		}
	}
	return fmt.Errorf("config: ui.enabled must be true or false")
}
