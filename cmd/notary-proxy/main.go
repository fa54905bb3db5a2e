// Command notary-proxy is a verifying registry proxy: it speaks the
// registry API to pull clients (containerd, CRI-O, crane, docker) and
// forwards to one upstream V2 registry, serving a manifest only when the
// enforcement policy finds it signed in Notary trust data, and only as the
// bytes of the signed digest. Blobs stream through; pushes are refused.
//
// Usage: notary-proxy -config FILE
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/notary-go/notary/internal/daemon"
	"github.com/notary-go/notary/policy"
	"github.com/notary-go/notary/registry"
)

const proxyUsage = `Usage: notary-proxy -config FILE

A verifying registry proxy: it serves the registry API to pull clients
(containerd, CRI-O, crane, docker) from one upstream V2/OCI registry, and
serves a tag only as the digest its signers signed, a digest only if
signed (or a child of a signed index). Blobs stream through; pushes are
refused. See docs/enforce.md.

Config file keys (JSON):
  listen                 address, e.g. ":5000"
  tls_cert, tls_key      serve HTTPS (TLS 1.2+, ECDHE and AEAD only)
  upstream.url           the registry, e.g. "https://registry.example.com"
  upstream.name          the registry name images carry, if not the URL's host
  upstream.ca            CA bundle for the upstream's certificate
  upstream.credentials   {"file": F} or {"username_env": U, "password_env": P};
                         never the secret itself
  trust_dir              cache of verified trust data (default /var/lib/notary-proxy)
  policy                 the policy, inline or a path (docs/enforce.md)
  client_auth.htpasswd   require Basic auth from pull clients (bcrypt htpasswd)
  client_auth.token      or require bearer tokens: {"realm", "service", "issuer",
                         "rootcertbundle"}, as notary-server's token auth
  log_level              debug, info (default), warn or error

Flags:
`

func main() {
	if err := run(context.Background(), os.Args[1:], os.Getenv, nil); err != nil {
		fmt.Fprintln(os.Stderr, "notary-proxy:", err)
		os.Exit(1)
	}
}

// run starts the proxy and serves until ctx ends or a signal arrives. If
// ready is not nil it receives the listening address.
func run(ctx context.Context, args []string, getenv func(string) string, ready chan<- string) error {
	fs := flag.NewFlagSet("notary-proxy", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "config file (JSON), keys above")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), proxyUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return nil
	} else if err != nil {
		return err
	}
	if *cfgPath == "" || fs.NArg() > 0 {
		return errors.New("usage: notary-proxy -config FILE")
	}
	cfg, pol, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	log := newLogger(cfg.LogLevel)
	h, err := newHandler(cfg, pol, log, getenv, policy.Options{})
	if err != nil {
		return err
	}
	ln, err := listen(cfg.Listen, cfg.TLSCert, cfg.TLSKey)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	log.Info("notary-proxy listening", "addr", ln.Addr().String(), "upstream", cfg.Upstream.URL, "tls", cfg.TLSCert != "")
	if ready != nil {
		ready <- ln.Addr().String()
	}
	return daemon.Run(ctx, srv, ln, nil)
}

// listen listens on addr, with TLS (the project's TLS policy) when a
// certificate is given.
func listen(addr, certFile, keyFile string) (net.Listener, error) {
	var tc *tls.Config
	if certFile != "" {
		var err error
		if tc, err = daemon.ServerTLS(certFile, keyFile); err != nil {
			return nil, err
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	if tc != nil {
		ln = tls.NewListener(ln, tc)
	}
	return ln, nil
}

func newLogger(level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}

// newHandler wires the upstream registry client, the policy engine (with
// engOpts' test hooks, if any) and the proxy's routes.
func newHandler(cfg *Config, pol *policy.Policy, log *slog.Logger, getenv func(string) string, engOpts policy.Options) (http.Handler, error) {
	host, err := cfg.Upstream.host()
	if err != nil {
		return nil, err
	}
	creds, err := cfg.Upstream.credentialFunc(getenv)
	if err != nil {
		return nil, err
	}
	rc, err := registry.New(registry.Options{Credentials: creds, CAFile: cfg.Upstream.CA, Insecure: cfg.Upstream.insecure(), UserAgent: "notary-proxy", WrapTransport: tuneTransport})
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.TrustDir, 0o700); err != nil {
		return nil, fmt.Errorf("trust_dir: %w", err)
	}
	engOpts.TrustDir = cfg.TrustDir
	if engOpts.Now == nil {
		engOpts.Now = time.Now
	}
	engOpts.Manifests = rewriteHost{rc, host, cfg.Upstream.endpoint()}
	engOpts.OnWarning = func(err error) { log.Warn("trust data", "warning", err) }
	eng, err := policy.NewEngine(pol, engOpts)
	if err != nil {
		return nil, err
	}
	p := &proxy{host: host, endpoint: cfg.Upstream.endpoint(), engine: eng, upstream: rc, log: log, m: newMetrics()}
	if cfg.ClientAuth != nil && cfg.ClientAuth.Token != nil {
		a, err := newTokenClientAuth(cfg.ClientAuth.Token, log)
		if err != nil {
			return nil, err
		}
		return a.wrap(p.routes()), nil
	}
	if cfg.ClientAuth != nil {
		a, err := loadHtpasswd(cfg.ClientAuth.Htpasswd)
		if err != nil {
			return nil, err
		}
		return a.wrap(p.routes()), nil
	}
	return p.routes(), nil
}

// tuneTransport adapts the registry client's transport to relaying many
// pulls to one upstream: more idle keep-alive connections to it (nodes
// pull layers in parallel), no transparent gzip (layers are compressed
// already, and a relayed body must be the upstream's bytes), and a larger
// read buffer for response headers and small bodies (a large body's reads
// bypass it). The write buffer stays at its default: requests are
// body-less GETs.
func tuneTransport(rt http.RoundTripper) http.RoundTripper {
	t, ok := rt.(*http.Transport)
	if !ok {
		return rt
	}
	t = t.Clone()
	t.DisableCompression = true
	t.MaxIdleConns = 128
	t.MaxIdleConnsPerHost = 32
	t.IdleConnTimeout = 90 * time.Second
	t.ReadBufferSize = 256 << 10
	return t
}

// rewriteHost sends requests for images named after the registry (name)
// to the upstream's URL host (endpoint), when the two differ.
type rewriteHost struct {
	rc             *registry.Client
	name, endpoint string
}

func (r rewriteHost) FetchManifest(ctx context.Context, ref registry.Reference) (*registry.Manifest, error) {
	if ref.Host == r.name {
		ref.Host = r.endpoint
	}
	return r.rc.FetchManifest(ctx, ref)
}
