package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/notary-go/notary/internal/daemon"
	"github.com/notary-go/notary/keystore"
	"github.com/notary-go/notary/signer"
	"github.com/notary-go/notary/signer/keydb"
	"github.com/notary-go/notary/storage/sqlstore/drivers"
)

// debugAddr is v1's debug server address (-debug).
const debugAddr = "localhost:8080"

// Timeouts.
const (
	// openTimeout bounds connecting to the key database at start.
	openTimeout = 60 * time.Second
	// shutdownTimeout bounds the wait for calls in flight at shutdown.
	shutdownTimeout = 10 * time.Second
	// handshakeTimeout bounds a client's TLS handshake.
	handshakeTimeout = 10 * time.Second
	// healthInterval is how often the key database is pinged; a failed
	// ping turns the health services NOT_SERVING until one succeeds.
	healthInterval = 10 * time.Second
	pingTimeout    = 5 * time.Second
	// certWarnBefore: warn at start when the signer's certificate expires
	// sooner than this.
	certWarnBefore = 30 * 24 * time.Hour
)

// memoryAlias is the alias of the memory backend's keys, encrypted with a
// random per-process passphrase (v1 uses a constant one).
const memoryAlias = "memory"

func serve(ctx context.Context, f *serveOpts, e env) error {
	if f.config == "" {
		return errors.New("-config is required (see notary-signer -help)")
	}
	rc, err := loadRawConfig(f.config, e.lookup)
	if err != nil {
		return err
	}
	cfg, err := parseConfig(rc, !f.bootstrap)
	if err != nil {
		return err
	}
	log, level, err := newLogger(e.stderr, f.logFormat, cfg.logLevel)
	if err != nil {
		return err
	}
	if !f.debug {
		// As v1: no core dumps (which would write keys to disk) and no
		// ptrace by other processes of the same user.
		if err := protect(); err != nil {
			return fmt.Errorf("protecting the process: %w", err)
		}
	}
	log.Info("starting notary-signer", "version", version, "go", runtime.Version(), "config", f.config, "backend", cfg.backend)
	cfg.warnUnknown(log, f.config)
	if f.bootstrap {
		return migrateSchema(ctx, cfg, e, log)
	}
	if cfg.httpAddr != "" {
		log.Info("server.http_addr is ignored: v0.7.0's notary-signer has no HTTP listener either (-debug serves " + debugAddr + ")")
	}
	if cfg.bugsnag {
		log.Warn("reporting.bugsnag is not supported and is ignored")
	}

	ac, err := parseAuthz(rc)
	if err != nil {
		return err
	}
	logAuthz(ac, log)

	// TLS first: a certificate, key or CA that does not load stops the
	// signer before it touches any key.
	tlsConfig, err := serverTLS(cfg, time.Now(), log)
	if err != nil {
		return err
	}

	ks, err := openKeys(ctx, cfg, e, log)
	if err != nil {
		return err
	}
	defer ks.close()

	srv := signer.NewServer(ks.store, signer.Options{Logger: log, Policy: ac.policy, Limits: ac.limits})
	gs := grpc.NewServer(append(serverOptions(credentials.NewTLS(tlsConfig), log),
		grpc.ChainUnaryInterceptor(authUnary(log), logUnary(log)),
		grpc.ChainStreamInterceptor(authStream(log)),
	)...)
	srv.Register(gs)

	lis, err := net.Listen("tcp", cfg.grpcAddr)
	if err != nil {
		return fmt.Errorf("grpc server failed to listen on %s: %w", cfg.grpcAddr, err)
	}
	lis = newLimitListener(lis, maxConnections)
	log.Info("serving KeyManagement and Signer over mutual TLS", "addr", lis.Addr().String(), "client_ca_file", cfg.clientCA)
	if e.listening != nil {
		e.listening(lis.Addr())
	}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	if ks.ping != nil {
		go watchHealth(runCtx, ks.ping, healthInterval, srv, log)
	}
	go adjustLevelOnSignal(runCtx, level, log)
	if f.debug {
		go serveDebug(log)
	}

	errc := make(chan error, 1)
	go func() { errc <- gs.Serve(lis) }()
	select {
	case err := <-errc:
		return fmt.Errorf("grpc server stopped: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: refusing new calls, finishing calls in flight", "timeout", shutdownTimeout.String())
	srv.SetServing(false)
	stopped := make(chan struct{})
	go func() { gs.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(shutdownTimeout):
		log.Warn("calls still in flight after the shutdown timeout: closing their connections")
		gs.Stop()
		<-stopped
	}
	log.Info("stopped")
	return nil
}

// serverTLS loads the signer's certificate and the client CA (both
// required). Clients without a certificate may complete the handshake,
// but only to call grpc.health.v1.Health/Check (anonTap and authorize
// refuse every other call, see limits.go for their other bounds); a
// certificate that does not verify against the client CA, e.g. from
// another CA or expired, fails the handshake.
func serverTLS(cfg *config, now time.Time, log *slog.Logger) (*tls.Config, error) {
	tc, err := signer.LoadServerTLS(cfg.tlsCert, cfg.tlsKey, cfg.clientCA)
	if err != nil {
		return nil, fmt.Errorf("unable to set up TLS: %w", err)
	}
	if tc.ClientCAs == nil {
		return nil, errors.New("unable to set up TLS: no client CA loaded")
	}
	tc.ClientAuth = tls.VerifyClientCertIfGiven
	if leaf := tc.Certificates[0].Leaf; leaf != nil {
		checkCertDates(leaf, now, log)
	} else if len(tc.Certificates[0].Certificate) > 0 {
		if leaf, err := x509.ParseCertificate(tc.Certificates[0].Certificate[0]); err == nil {
			checkCertDates(leaf, now, log)
		}
	}
	return tc, nil
}

func checkCertDates(leaf *x509.Certificate, now time.Time, log *slog.Logger) {
	switch {
	case now.After(leaf.NotAfter):
		log.Error("the signer's TLS certificate has expired: clients will refuse it", "not_after", leaf.NotAfter, "subject", leaf.Subject.String())
	case now.Before(leaf.NotBefore):
		log.Error("the signer's TLS certificate is not valid yet: clients will refuse it", "not_before", leaf.NotBefore, "subject", leaf.Subject.String())
	case leaf.NotAfter.Sub(now) < certWarnBefore:
		log.Warn("the signer's TLS certificate expires soon", "not_after", leaf.NotAfter, "subject", leaf.Subject.String())
	}
}

// keyStore is the opened key backend.
type keyStore struct {
	store keystore.Service
	// ping, if set, checks the backend for the health services.
	ping  func(ctx context.Context) error
	close func()
}

// openKeys opens the configured key backend.
func openKeys(ctx context.Context, cfg *config, e env, log *slog.Logger) (*keyStore, error) {
	switch cfg.backend {
	case backendMemory:
		raw := make([]byte, 32)
		if _, err := rand.Read(raw); err != nil {
			return nil, err
		}
		db, err := keydb.NewMemory(keydb.Options{
			DefaultAlias: memoryAlias,
			Passphrases:  keydb.ConstantPassphrase(base64.RawURLEncoding.EncodeToString(raw)),
		})
		if err != nil {
			return nil, err
		}
		log.Warn("using the memory backend: every key is lost when the signer stops")
		return &keyStore{store: db, close: func() {}}, nil
	case backendPKCS11:
		return openToken(cfg, e, log)
	}
	db, sqlDB, err := openKeyDB(ctx, cfg, keydb.Options{
		DefaultAlias: cfg.defaultAlias,
		Passphrases:  keydb.EnvPassphrases(e.lookup),
	})
	if err != nil {
		return nil, err
	}
	if err := checkAliases(ctx, db); err != nil {
		sqlDB.Close()
		return nil, err
	}
	attrs := []any{"backend", cfg.backend, "default_alias", cfg.defaultAlias}
	if cfg.backend == backendSQLite {
		attrs = append(attrs, "file", sqlitePath(cfg.dbURL))
	}
	log.Info("using the SQL key database", attrs...)
	return &keyStore{store: db, ping: db.Ping, close: func() { sqlDB.Close() }}, nil
}

// checkAliases refuses to start a signer that cannot decrypt the keys of
// some passphrase alias in use (its NOTARY_SIGNER_<ALIAS> missing or
// wrong): it would otherwise report healthy and fail every Sign with
// those keys (issue 19 bug 4).
func checkAliases(ctx context.Context, db *keydb.DB) error {
	cctx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	err := db.CheckAliases(cctx)
	var ae *keydb.AliasError
	if errors.As(err, &ae) {
		return fmt.Errorf("refusing to start: keys in the database cannot be decrypted; set the passphrase of every alias in use "+
			"(alias %q: %s); details: %w", ae.Alias, ae.EnvVar, err)
	}
	if err != nil {
		return fmt.Errorf("checking the keys' passphrase aliases: %w", err)
	}
	return nil
}

// openKeyDB connects to the SQL key database, creating or upgrading its
// schema.
func openKeyDB(ctx context.Context, cfg *config, opts keydb.Options) (*keydb.DB, interface{ Close() error }, error) {
	if cfg.backend == backendSQLite {
		p := sqlitePath(cfg.dbURL)
		if dir := filepath.Dir(p); dir != "" && dir != "." {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return nil, nil, fmt.Errorf("creating the database directory: %w", err)
			}
		}
		// The database holds the (encrypted) private keys: create it
		// private; SQLite gives its -wal and -shm files the same mode.
		if p != "" && p != ":memory:" {
			if fh, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
				fh.Close()
			}
		}
	}
	octx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	// drivers never echoes the DSN, which may hold a password.
	sqlDB, d, err := drivers.OpenDB(octx, cfg.backend, cfg.dbURL, drivers.Options{})
	if err != nil {
		return nil, nil, fmt.Errorf("error starting %s driver: %w", cfg.backend, err)
	}
	dialect, err := keydb.ParseDialect(string(d))
	if err != nil {
		sqlDB.Close()
		return nil, nil, err
	}
	db, err := keydb.OpenSQL(octx, sqlDB, dialect, opts)
	if err != nil {
		sqlDB.Close()
		return nil, nil, fmt.Errorf("failed to open the key database: %w", err)
	}
	return db, sqlDB, nil
}

// sqlitePath is the file part of a SQLite DSN.
func sqlitePath(dsn string) string {
	p, _, _ := strings.Cut(dsn, "?")
	return strings.TrimPrefix(p, "file:")
}

// watchHealth pings the key backend every interval and sets the health
// services NOT_SERVING while it does not answer.
func watchHealth(ctx context.Context, ping func(context.Context) error, interval time.Duration, srv *signer.Server, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	healthy := true
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, pingTimeout)
		err := ping(pctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		switch {
		case err != nil && healthy:
			log.Error("key database unreachable: health is NOT_SERVING until it answers", "err", err)
			srv.SetServing(false)
		case err == nil && !healthy:
			log.Info("key database reachable again: health is SERVING")
			srv.SetServing(true)
		}
		healthy = err == nil
	}
}

// adjustLevelOnSignal raises (SIGUSR1) or lowers (SIGUSR2) the log level,
// as v1 does.
func adjustLevelOnSignal(ctx context.Context, lv *slog.LevelVar, log *slog.Logger) {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGUSR1, syscall.SIGUSR2)
	defer signal.Stop(c)
	levels := []slog.Level{slog.LevelError, slog.LevelWarn, slog.LevelInfo, slog.LevelDebug}
	for {
		var sig os.Signal
		select {
		case <-ctx.Done():
			return
		case sig = <-c:
		}
		i := 0
		for j, l := range levels {
			if lv.Level() >= l {
				i = j
				break
			}
		}
		if sig == syscall.SIGUSR1 && i < len(levels)-1 {
			i++
		} else if sig == syscall.SIGUSR2 && i > 0 {
			i--
		}
		lv.Set(levels[i])
		// Logged at error level so that it shows whatever the level is.
		log.Error("log level changed", "signal", sig.String(), "level", levels[i].String())
	}
}

func serveDebug(log *slog.Logger) { daemon.ServeDebug(log, debugAddr, "err") }
