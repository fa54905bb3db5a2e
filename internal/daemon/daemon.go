// Package daemon holds the process plumbing shared by the long-running
// programs (notary-server, notary-signer, notary-auth): logging set-up, the
// -debug server, and serving HTTP until the context ends.
package daemon

import (
	"context"
	"crypto/tls"
	"expvar"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"time"

	"github.com/notary-go/notary/internal/tlspolicy"
)

// ParseLevel accepts logrus's level names, as v1's logging.level does.
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "debug", "trace":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error", "fatal", "panic":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("config: not a valid logging.level: %q", s)
}

// NewLogger returns a structured logger writing to w in format ("json" or
// "", "logfmt" or "text") at level.
func NewLogger(w io.Writer, format string, level slog.Leveler) (*slog.Logger, error) {
	opts := &slog.HandlerOptions{Level: level}
	switch format {
	case "json", "":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "logfmt", "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("unknown log format %q: use json or logfmt", format)
}

// ServeDebug serves pprof and expvar on addr until that fails, logging the
// failure with the attribute key errKey (each program keeps its own).
func ServeDebug(log *slog.Logger, addr, errKey string) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.Handle("/debug/vars", expvar.Handler())
	log.Info("debug server listening", "addr", addr)
	s := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	if err := s.ListenAndServe(); err != nil {
		log.Error("debug server stopped", errKey, err)
	}
}

// Run serves hs on ln until serving fails (that error is returned) or ctx
// ends; then it calls stopping (if not nil) and shuts hs down gracefully,
// waiting at most 10 seconds.
func Run(ctx context.Context, hs *http.Server, ln net.Listener, stopping func()) error {
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	if stopping != nil {
		stopping()
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return hs.Shutdown(sctx)
}

// ServerTLS loads a listener's certificate and key into a TLS
// configuration: TLS 1.2 or later, and for TLS 1.2 only ECDHE key exchange
// with AEAD ciphers.
func ServerTLS(certFile, keyFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("loading TLS certificate %s and key %s: %w", certFile, keyFile, err)
	}
	return &tls.Config{
		MinVersion:   tlspolicy.MinVersion,
		Certificates: []tls.Certificate{cert},
		CipherSuites: tlspolicy.CipherSuites(),
	}, nil
}
