// Command notary-server is a drop-in for Notary v0.7.0's notary-server: the
// same HTTP API, the same JSON config file and environment overrides, and
// by default no config at all (SQLite storage and in-process signing in a
// data directory, listening on 127.0.0.1:4443).
package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/notary-go/notary/auth"
	"github.com/notary-go/notary/internal/daemon"
	"github.com/notary-go/notary/keystore"
	"github.com/notary-go/notary/server"
	"github.com/notary-go/notary/server/keyservice"
	"github.com/notary-go/notary/signer"
	"github.com/notary-go/notary/signer/keydb"
	"github.com/notary-go/notary/storage"
	"github.com/notary-go/notary/storage/memory"
	"github.com/notary-go/notary/storage/sqlstore"
	"github.com/notary-go/notary/storage/sqlstore/drivers"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// debugAddr is v1's debug server address (-debug).
const debugAddr = "localhost:8080"

const usageText = `Usage: notary-server [flags]
       notary-server import-v1 -help   (copy a v0.7.0 server database into this one)

notary-server serves Notary trust data (TUF metadata) over HTTP(S), a
drop-in for Notary v0.7.0's notary-server: same API, same config file.

With no -config it needs nothing: it listens on 127.0.0.1:4443 (plain
HTTP, since no certificate is configured), stores metadata in SQLite and
keeps its timestamp/snapshot keys, encrypted, in the same database, both
under the data directory (-data-dir, $NOTARY_SERVER_DATA_DIR, default
./notary-data, relative to the working directory). To listen elsewhere
without a config file, set NOTARY_SERVER_SERVER_HTTP_ADDR (e.g. ":4443").
Keys are encrypted with $NOTARY_SERVER_KEY_PASSPHRASE; if it is unset, a
random passphrase is generated on first start and kept (mode 0600) in
key-passphrase beside the SQLite database.

With -tls-auto it serves HTTPS instead (the Docker CLI refuses a plain
HTTP trust server): it makes a local CA and a certificate for localhost,
127.0.0.1 and ::1 in <data-dir>/tls (keys 0600), keeps them across
restarts, and prints the commands that make notary and Docker trust it.

Config file (JSON, v0.7.0's format). Relative paths in it (certificates,
CA files, a SQLite storage.db_url, auth.options' rootcertbundle and path)
are relative to the config file's directory, wherever the server is
started from. Every key can be overridden by the environment variable
NOTARY_SERVER_<SECTION>_<KEY>, e.g. NOTARY_SERVER_STORAGE_DB_URL. Keys it
does not read are logged as warnings; a section or key of the wrong type
(e.g. "trust_service": "remote" for {"type": "remote", ...}) stops it.

  server.http_addr            listen address (required in a config file; e.g. ":4443")
  server.tls_cert_file        TLS certificate (PEM); with tls_key_file turns TLS on
  server.tls_key_file         TLS private key (PEM)
  server.client_ca_file       require client certificates from this CA bundle
  server.max_update_size      largest update body in bytes (default 104857600)
  server.read_timeout         also write_timeout, idle_timeout ("5m", "2m")
  trust_service.type          local (in-process, default) | remote (notary-signer)
  trust_service.key_algorithm ecdsa (default) | ed25519
  trust_service.hostname      signer host (remote); also port (7899),
  trust_service.tls_ca_file   tls_ca_file, tls_client_cert, tls_client_key
  trust_service.tls_server_name  name the signer's certificate must carry
                              (default: hostname)
  storage.backend             sqlite3 (default) | memory | postgres | mysql
  storage.db_url              database file or DSN (sqlite3 default:
                              <data-dir>/notary-server.db)
  logging.level               debug | info (default) | warn | error
  caching.max_age.current_metadata     seconds, 0 disables (default 300)
  caching.max_age.consistent_metadata  seconds, 0 disables (default 2592000)
  repositories.gun_prefixes   only serve GUNs with one of these prefixes
  auth.type                   token | htpasswd (default: no authentication)
  auth.options                token: realm, service, issuer, rootcertbundle;
                              htpasswd: realm, path (see docs/docker.md)
  ui.enabled                  the read-only web view at /ui/ (default true;
                              same auth as the API, see docs/ui.md)

Flags take one dash or two (-config or --config, -config=FILE too).

Flags:
`

type flags struct {
	config    string
	dataDir   string
	debug     bool
	logFormat string
	bootstrap bool
	version   bool
	tlsAuto   bool
}

func main() {
	os.Exit(run(os.Args[1:], os.Stderr, os.LookupEnv))
}

func run(args []string, stderr io.Writer, lookup func(string) (string, bool)) int {
	if len(args) > 0 && args[0] == "import-v1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		if err := runImportV1(ctx, args[1:], os.Stdout, stderr); err != nil {
			fmt.Fprintf(stderr, "notary-server import-v1: %v\n", err)
			return 1
		}
		return 0
	}
	fs := flag.NewFlagSet("notary-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f flags
	fs.StringVar(&f.config, "config", "", "Path to the JSON configuration file (optional)")
	fs.StringVar(&f.dataDir, "data-dir", "", "Directory for the default SQLite database and key passphrase (default $"+dataDirEnv+" or ./"+defaultDataDir+")")
	fs.BoolVar(&f.debug, "debug", false, "Serve pprof and expvar on "+debugAddr)
	fs.StringVar(&f.logFormat, "logf", "json", "Log format: json or logfmt (text)")
	fs.BoolVar(&f.bootstrap, "bootstrap", false, "Create or migrate the database schema, then exit")
	fs.BoolVar(&f.version, "version", false, "Print the version and exit")
	fs.BoolVar(&f.tlsAuto, "tls-auto", false, "Serve HTTPS with a local CA and a certificate for localhost, made and kept in <data-dir>/tls, and print how to trust it")
	fs.Usage = func() {
		fmt.Fprint(stderr, usageText)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "notary-server: unexpected arguments %q (see -help)\n", fs.Args())
		return 2
	}
	if f.version {
		fmt.Fprintf(stderr, "notary-server Version: %s, Go version: %s\n", version, runtime.Version())
		return 0
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, f, stderr, lookup); err != nil {
		fmt.Fprintf(stderr, "notary-server: %v\n", err)
		return 1
	}
	return 0
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	lvl, err := parseLevel(level)
	if err != nil {
		return nil, err
	}
	return daemon.NewLogger(w, format, lvl)
}

// parseLevel accepts logrus's level names, as v1's logging.level does.
func parseLevel(s string) (slog.Level, error) { return daemon.ParseLevel(s) }

func serve(ctx context.Context, f flags, stderr io.Writer, lookup func(string) (string, bool)) error {
	dataDir := f.dataDir
	if dataDir == "" {
		if v, ok := lookup(dataDirEnv); ok && v != "" {
			dataDir = v
		} else {
			dataDir = defaultDataDir
		}
	}
	rc, err := loadRawConfig(f.config, lookup)
	if err != nil {
		return err
	}
	cfg, err := parseConfig(rc, dataDir)
	if err != nil {
		return err
	}
	log, err := newLogger(stderr, f.logFormat, cfg.logLevel)
	if err != nil {
		return err
	}
	slog.SetDefault(log)
	log.Info("starting notary-server", "version", version, "go", runtime.Version(), "config", f.config)
	for _, k := range cfg.unknownKeys {
		log.Warn("ignoring unknown config key", "key", k, "config", f.config)
	}

	// TLS first: a certificate that does not load stops the server before
	// it touches any state.
	var tlsConfig *tls.Config
	var onListen func(net.Addr)
	if f.tlsAuto {
		if cfg.tlsCert != "" {
			return errors.New("-tls-auto and server.tls_cert_file both given: choose one")
		}
		a, err := ensureAutoTLS(cfg.dataDir, time.Now())
		if err != nil {
			return err
		}
		cfg.tlsCert, cfg.tlsKey = a.certFile, a.keyFile
		onListen = func(addr net.Addr) { printTrustHelp(stderr, a, addr) }
	}
	if cfg.tlsCert != "" {
		if tlsConfig, err = serverTLS(cfg.tlsCert, cfg.tlsKey, cfg.clientCA); err != nil {
			return err
		}
	}
	// Auth next, for the same reason (a root bundle or htpasswd file
	// that does not load).
	withAuth, err := auth.New(auth.Config{
		Type:        cfg.authType,
		Options:     cfg.authOptions,
		BaseDir:     cfg.baseDir,
		GUNPrefixes: cfg.gunPrefixes,
		Logger:      log,
	})
	if err != nil {
		return err
	}

	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.close()
	if f.bootstrap {
		log.Info("database schema is up to date", "backend", cfg.backend)
		return nil
	}

	opts := server.Options{
		Store:            st.store,
		KeyAlgorithm:     cfg.keyAlgorithm,
		CurrentMaxAge:    cfg.currentMaxAge,
		ConsistentMaxAge: cfg.consistentMaxAge,
		GUNPrefixes:      cfg.gunPrefixes,
		MaxUpdateSize:    cfg.maxUpdateSize,
		// Inside the server's metrics and request log, so refusals are
		// counted in /metrics like any response.
		Middleware: withAuth,
		DisableUI:  !cfg.uiEnabled,
		Logger:     log,
	}
	closeKeys, err := setupKeys(ctx, cfg, &opts, st.pool, st.dialect, lookup, log)
	if err != nil {
		return err
	}
	defer closeKeys()

	srv, err := server.New(opts)
	if err != nil {
		return err
	}
	if f.debug {
		go serveDebug(log)
	}
	// Expiry gauges, warnings and ahead-of-time timestamp renewal
	// (docs/expiry.md); stops with ctx.
	go srv.WatchExpiry(ctx, server.ExpiryWatchOptions{})
	return listenAndServe(ctx, cfg, srv, tlsConfig, log, onListen)
}

// openedStore is the storage openStore opened.
type openedStore struct {
	store storage.MetaStore
	close func()
	// pool and dialect are the SQL connection pool and its dialect, which
	// the in-process key service shares; nil and "" for memory storage.
	pool    *sqlPool
	dialect string
}

// openStore opens the configured storage.
func openStore(ctx context.Context, cfg *config, log *slog.Logger) (*openedStore, error) {
	if cfg.backend == "memory" {
		log.Warn("using memory storage: all trust data is lost when the server stops")
		return &openedStore{store: memory.New(), close: func() {}}, nil
	}
	if p := sqlitePath(cfg.dbURL); cfg.backend == "sqlite" && p != "" && p != ":memory:" {
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return nil, fmt.Errorf("creating the database directory: %w", err)
		}
		// The database holds the (encrypted) signing keys: create it
		// private; SQLite gives its -wal and -shm files the same mode.
		if fh, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
			fh.Close()
		}
	}
	octx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	db, d, err := drivers.OpenDB(octx, cfg.backend, cfg.dbURL, drivers.Options{})
	if err != nil {
		return nil, fmt.Errorf("error starting %s driver: %w", cfg.backend, err)
	}
	st, err := sqlstore.Open(octx, db, d, sqlstore.Options{})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("opening %s storage: %w", cfg.backend, err)
	}
	attrs := []any{"backend", cfg.backend}
	if cfg.backend == "sqlite" {
		attrs = append(attrs, "file", sqlitePath(cfg.dbURL))
	}
	log.Info("using SQL storage", attrs...)
	return &openedStore{store: st, close: func() { st.Close() }, pool: &sqlPool{db}, dialect: string(d)}, nil
}

// sqlitePath is the file part of a SQLite DSN.
func sqlitePath(dsn string) string {
	p, _, _ := strings.Cut(dsn, "?")
	return strings.TrimPrefix(p, "file:")
}

// setupKeys configures the key service: in-process (keys encrypted in the
// SQL database, or in memory with memory storage) or a remote
// notary-signer.
func setupKeys(ctx context.Context, cfg *config, opts *server.Options, pool *sqlPool, dialect string, lookup func(string) (string, bool), log *slog.Logger) (func(), error) {
	switch cfg.trustType {
	case "remote":
		addr := net.JoinHostPort(cfg.signerHost, cfg.signerPort)
		tlsCfg, err := signerTLS(cfg)
		if err != nil {
			return nil, err
		}
		c, err := signer.Dial(addr, tlsCfg, signer.ClientOptions{})
		if err != nil {
			return nil, err
		}
		opts.Keys = newRemoteKeys(c, log)
		// Not only the health services (any peer may ask those) but an
		// authenticated call: a signer that refuses this server's
		// certificate makes signing impossible (issue 19 bug 4).
		opts.HealthChecks = remoteHealthChecks(c, time.Now)
		log.Info("using remote signing service", "addr", addr, "tls_server_name", cfg.signerServerName, "key_algorithm", cfg.keyAlgorithm)
		return func() { c.Close() }, nil
	}
	if pool == nil {
		opts.Keys = keyservice.NewLocal(keystore.NewMemory())
		log.Info("using in-process signing with keys in memory", "key_algorithm", cfg.keyAlgorithm)
		return func() {}, nil
	}
	if v, _ := lookup(passphraseEnv); v == "" && cfg.backend != "sqlite" {
		// Servers sharing a database must decrypt each other's keys: a
		// passphrase generated into one server's data directory would
		// not do.
		return nil, fmt.Errorf("set %s: with trust_service.type local and %s storage the signing keys are encrypted in the shared database with it", passphraseEnv, cfg.backend)
	}
	pass, err := keyPassphrase(passphrasePath(cfg), filepath.Join(cfg.dataDir, passphraseFile), lookup, log)
	if err != nil {
		return nil, err
	}
	kdb, err := keydb.OpenSQL(ctx, pool.db, keydb.Dialect(dialect), keydb.Options{
		DefaultAlias: "notary_server",
		Passphrases:  keydb.ConstantPassphrase(pass),
	})
	if err != nil {
		return nil, fmt.Errorf("opening the key database: %w", err)
	}
	opts.Keys = keyservice.NewLocal(kdb)
	log.Info("using in-process signing with keys encrypted in the database", "key_algorithm", cfg.keyAlgorithm)
	return func() {}, nil
}

// signerTLS is the client TLS configuration for the notary-signer: its
// certificate must carry trust_service.tls_server_name (by default the
// hostname dialled, as in v0.7.0).
func signerTLS(cfg *config) (*tls.Config, error) {
	c, err := signer.LoadClientTLS(cfg.signerCA, cfg.signerCert, cfg.signerKey, cfg.signerServerName)
	if err != nil {
		return nil, fmt.Errorf("unable to configure TLS to the trust service: %w", err)
	}
	return c, nil
}

// passphrasePath is where the generated key passphrase is kept: beside
// the SQLite database it protects, so a server finds it whatever directory
// it is started from. "" for an in-memory database (nothing to keep).
func passphrasePath(cfg *config) string {
	p := sqlitePath(cfg.dbURL)
	if p == "" || p == ":memory:" {
		return ""
	}
	return filepath.Join(filepath.Dir(p), passphraseFile)
}

// keyPassphrase returns the passphrase the server's keys are encrypted
// with: $NOTARY_SERVER_KEY_PASSPHRASE, else the one kept in file, else a
// new random one written there (0600). Earlier versions kept it in the
// data directory (legacy) even when the database was elsewhere; a file
// found there is still used, with a warning to move it. file "" means an
// in-memory database: the passphrase is random and kept nowhere.
func keyPassphrase(file, legacy string, lookup func(string) (string, bool), log *slog.Logger) (string, error) {
	if v, ok := lookup(passphraseEnv); ok && v != "" {
		return v, nil
	}
	if file == "" {
		return randomPassphrase()
	}
	p, err := readPassphrase(file, log)
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		return p, err
	}
	if legacy != "" && mustAbs(legacy) != mustAbs(file) {
		if p, err := readPassphrase(legacy, log); err == nil {
			log.Warn("using the key passphrase kept in the data directory by an earlier version; move it beside the database",
				"file", mustAbs(legacy), "move_to", mustAbs(file))
			return p, nil
		}
	}
	if p, err = randomPassphrase(); err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return "", err
	}
	fh, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("writing the key passphrase: %w", err)
	}
	if _, err := fh.WriteString(p + "\n"); err != nil {
		fh.Close()
		return "", err
	}
	if err := fh.Close(); err != nil {
		return "", err
	}
	log.Warn("no "+passphraseEnv+" set: generated a random key passphrase and stored it next to the database; "+
		"anyone who can read both can use the server's signing keys. Set "+passphraseEnv+" to keep it elsewhere.", "file", mustAbs(file))
	return p, nil
}

// readPassphrase reads a kept passphrase; an error wrapping
// os.ErrNotExist when there is none.
func readPassphrase(file string, log *slog.Logger) (string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", err
		}
		return "", fmt.Errorf("reading the key passphrase: %w", err)
	}
	p := strings.TrimSpace(string(b))
	if p == "" {
		return "", fmt.Errorf("%s is empty; set %s or remove the file", mustAbs(file), passphraseEnv)
	}
	if fi, err := os.Stat(file); err == nil && fi.Mode().Perm()&0o077 != 0 {
		log.Warn("key passphrase file is readable by others; chmod 600 it", "file", mustAbs(file))
	}
	return p, nil
}

func randomPassphrase() (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(raw), nil
}

// mustAbs is p made absolute for messages (p itself if that fails).
func mustAbs(p string) string {
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}

// serverTLS loads the server certificate (and client CA): TLS 1.2+, AEAD
// ECDHE suites only for TLS 1.2. Any file that fails to load is an error.
func serverTLS(certFile, keyFile, clientCAFile string) (*tls.Config, error) {
	c, err := daemon.ServerTLS(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	if clientCAFile != "" {
		b, err := os.ReadFile(clientCAFile)
		if err != nil {
			return nil, fmt.Errorf("loading client CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("client CA file %s holds no PEM certificate", clientCAFile)
		}
		c.ClientCAs = pool
		c.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return c, nil
}

// listenAndServe serves h on cfg.addr; onListen (if not nil) is told the
// address once the listener is open (-tls-auto's instructions name the
// real port).
func listenAndServe(ctx context.Context, cfg *config, h http.Handler, tlsConfig *tls.Config, log *slog.Logger, onListen func(net.Addr)) error {
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	hs := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 30 * time.Second,
		ReadTimeout:       cfg.readTimeout,
		WriteTimeout:      cfg.writeTimeout,
		IdleTimeout:       cfg.idleTimeout,
		MaxHeaderBytes:    1 << 20,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	if tlsConfig != nil {
		hs.TLSConfig = tlsConfig
		ln = tls.NewListener(ln, tlsConfig)
		log.Info("listening with TLS", "addr", ln.Addr().String())
	} else {
		log.Warn("listening on plain HTTP: no server.tls_cert_file/tls_key_file configured (or -tls-auto); clients must use http:// and nothing protects the traffic; for Docker, use -tls-auto", "addr", ln.Addr().String())
	}
	if onListen != nil {
		onListen(ln.Addr())
	}
	return daemon.Run(ctx, hs, ln, func() { log.Info("shutting down") })
}

func serveDebug(log *slog.Logger) { daemon.ServeDebug(log, debugAddr, "error") }
