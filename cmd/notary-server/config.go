package main

import (
	"fmt"
	"github.com/notary-go/notary/gun"
	"path/filepath"
	"strings"
	"time"

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
// defaults and v1's checks.
func parseConfig(rc *rawConfig, dataDir string) (*config, error) {
	c := &config{dataDir: dataDir}
	var err error
	get := func(key string, dst *string) {
		if err == nil {
			*dst, err = rc.String(key)
		}
	}
	getPath := func(key string, dst *string) {
		if err == nil {
			*dst, err = rc.Path(key)
		}
	}
	get("server.http_addr", &c.addr)
	getPath("server.tls_cert_file", &c.tlsCert)
	getPath("server.tls_key_file", &c.tlsKey)
	getPath("server.client_ca_file", &c.clientCA)
	get("trust_service.type", &c.trustType)
	get("trust_service.key_algorithm", &c.keyAlgorithm)
	get("trust_service.hostname", &c.signerHost)
	get("trust_service.port", &c.signerPort)
	getPath("trust_service.tls_ca_file", &c.signerCA)
	getPath("trust_service.tls_client_cert", &c.signerCert)
	getPath("trust_service.tls_client_key", &c.signerKey)
	get("storage.backend", &c.backend)
	get("storage.db_url", &c.dbURL)
	get("logging.level", &c.logLevel)
	if err != nil {
		return nil, err
	}

	// server
	if c.addr == "" {
		if rc.File() != "" && !rc.Has("server.http_addr") {
			return nil, fmt.Errorf("config: server.http_addr is required (e.g. \":4443\")")
		}
		c.addr = defaultAddr
	}
	switch {
	case c.tlsCert == "" && c.tlsKey == "" && c.clientCA != "":
		return nil, fmt.Errorf("config: server.client_ca_file needs server.tls_cert_file and server.tls_key_file")
	case (c.tlsCert == "") != (c.tlsKey == ""):
		return nil, fmt.Errorf("config: either include both a cert and key file, or no TLS information at all to disable TLS")
	}
	n, set, err := rc.Int("server.max_update_size")
	if err != nil {
		return nil, err
	}
	c.maxUpdateSize = defaultMaxUpdateSize
	if set {
		if n <= 0 {
			return nil, fmt.Errorf("config: server.max_update_size must be positive")
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
			return nil, err
		}
		if !set {
			d = t.def
		}
		if d <= 0 {
			return nil, fmt.Errorf("config: %s must be positive", t.key)
		}
		*t.dst = d
	}

	// trust_service
	if c.trustType == "" {
		c.trustType = "local"
	}
	if c.keyAlgorithm == "" {
		c.keyAlgorithm = defaultKeyAlgorithm
	}
	switch c.trustType {
	case "local":
		if c.keyAlgorithm != "ecdsa" && c.keyAlgorithm != "ed25519" {
			return nil, fmt.Errorf("config: invalid key algorithm configured: %s (the local trust service makes ecdsa or ed25519 keys)", c.keyAlgorithm)
		}
	case "remote":
		if c.keyAlgorithm != "ecdsa" && c.keyAlgorithm != "ed25519" && c.keyAlgorithm != "rsa" {
			return nil, fmt.Errorf("config: invalid key algorithm configured: %s", c.keyAlgorithm)
		}
		if c.signerHost == "" {
			return nil, fmt.Errorf("config: trust_service.hostname is required for a remote trust service")
		}
		if c.signerPort == "" {
			c.signerPort = defaultSignerPort
		}
		if (c.signerCert == "") != (c.signerKey == "") {
			return nil, fmt.Errorf("config: either pass both client key and cert, or neither")
		}
		if c.signerCA == "" {
			return nil, fmt.Errorf("config: trust_service.tls_ca_file is required for a remote trust service (the signer only speaks TLS)")
		}
	default:
		return nil, fmt.Errorf("config: must specify either a \"local\" or \"remote\" type for trust_service")
	}

	// storage
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
		return nil, fmt.Errorf("config: storage.backend rethinkdb is not supported by this server; use sqlite3, postgres or mysql")
	default:
		return nil, fmt.Errorf("config: %s is not a supported storage backend", c.backend)
	}
	if c.backend == "sqlite" && c.dbURL == "" {
		c.dbURL = filepath.Join(c.dataDir, defaultDBFile)
	}
	if (c.backend == "mysql" || c.backend == "postgres") && c.dbURL == "" {
		return nil, fmt.Errorf("config: must provide a non-empty database source (storage.db_url) for %s", c.backend)
	}

	// logging
	if c.logLevel == "" {
		c.logLevel = defaultLogLevel
	}
	if _, err := parseLevel(c.logLevel); err != nil {
		return nil, err
	}

	// caching (v1 getCacheConfig: 0..one year, 0 disables)
	for _, cc := range []struct {
		key string
		dst *time.Duration
	}{
		{"caching.max_age.current_metadata", &c.currentMaxAge},
		{"caching.max_age.consistent_metadata", &c.consistentMaxAge},
	} {
		n, set, err := rc.Int(cc.key)
		if err != nil || (set && (n < 0 || n > maxCacheAgeSeconds)) {
			return nil, fmt.Errorf("config: %s: must specify a cache-control max-age between 0 and %d", cc.key, maxCacheAgeSeconds)
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

	// repositories (v1 getRequiredGunPrefixes)
	if c.gunPrefixes, err = rc.Strings("repositories.gun_prefixes"); err != nil {
		return nil, err
	}
	if _, err := gun.ParsePrefixes(c.gunPrefixes); err != nil {
		return nil, fmt.Errorf("config: repositories.gun_prefixes: %w", err)
	}

	// auth (v1 auth.type/auth.options; checked by auth.New when the
	// server starts)
	if c.authType, err = rc.String("auth.type"); err != nil {
		return nil, err
	}
	if v, ok := rc.Get("auth.options"); ok {
		m, isMap := v.(map[string]any)
		if !isMap {
			return nil, fmt.Errorf("config: auth.options must be an object")
		}
		c.authOptions = m
	}
	return c, nil
}
