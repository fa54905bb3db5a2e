// Command notary-admission is a Kubernetes admission webhook that enforces
// the Notary signature policy on Pods and pod templates (Deployment,
// StatefulSet, DaemonSet, ReplicaSet, Job, CronJob): AdmissionReview v1
// over TLS at /validate (allow or deny) and /mutate (also pins signed tags
// to their signed digests with a JSONPatch).
//
// Usage: notary-admission -config FILE
package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
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

// Config is the -config file.
//
//	{"listen": ":8443", "tls_cert": "/tls/tls.crt", "tls_key": "/tls/tls.key",
//	 "trust_dir": "/var/lib/notary-admission", "policy": "/etc/notary-admission/policy.json"}
type Config struct {
	Listen  string `json:"listen"`
	TLSCert string `json:"tls_cert"`
	TLSKey  string `json:"tls_key"`
	// TrustDir caches verified trust data. Default /var/lib/notary-admission.
	TrustDir string `json:"trust_dir,omitempty"`
	// Policy is the policy object inline, or a path to its file.
	Policy json.RawMessage `json:"policy"`
	// RegistryCA is an optional PEM file trusted for registries, used
	// only to list the children of signed indexes that their trust data
	// does not record (registries are otherwise never contacted).
	RegistryCA string `json:"registry_ca,omitempty"`
	LogLevel   string `json:"log_level,omitempty"`
}

func parseConfig(data []byte) (*Config, *policy.Policy, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var c Config
	if err := dec.Decode(&c); err != nil {
		return nil, nil, fmt.Errorf("config: %w", err)
	}
	switch {
	case c.Listen == "":
		return nil, nil, errors.New("config: listen is required (e.g. \":8443\")")
	case c.TLSCert == "" || c.TLSKey == "":
		return nil, nil, errors.New("config: tls_cert and tls_key are required: the API server calls webhooks over TLS only")
	}
	if c.TrustDir == "" {
		c.TrustDir = "/var/lib/notary-admission"
	}
	pol, err := policy.FromConfig(c.Policy)
	if err != nil {
		return nil, nil, fmt.Errorf("config: policy: %w", err)
	}
	return &c, pol, nil
}

const admissionUsage = `Usage: notary-admission -config FILE

A Kubernetes admission webhook (AdmissionReview v1 over TLS): /validate
allows or denies Pods and pod templates (Deployment, StatefulSet,
DaemonSet, ReplicaSet, Job, CronJob) by the signature policy; /mutate also
pins signed tags to their signed digests. Manifests: deploy/kubernetes/
admission/; policy: docs/enforce.md.

Config file keys (JSON):
  listen              address, e.g. ":8443"
  tls_cert, tls_key   the webhook's certificate and key (required; TLS 1.2+)
  trust_dir           cache of verified trust data (default /var/lib/notary-admission)
  policy              the policy, inline or a path

Flags:
`

func main() {
	if err := run(context.Background(), os.Args[1:], nil, policy.Options{}); err != nil {
		fmt.Fprintln(os.Stderr, "notary-admission:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends or a signal arrives; ready, if not nil,
// receives the listening address. engOpts carries test hooks (clock,
// trust source); programs pass the zero value.
func run(ctx context.Context, args []string, ready chan<- string, engOpts policy.Options) error {
	fs := flag.NewFlagSet("notary-admission", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "config file (JSON), keys above")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), admissionUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return nil
	} else if err != nil {
		return err
	}
	if *cfgPath == "" || fs.NArg() > 0 {
		return errors.New("usage: notary-admission -config FILE")
	}
	data, err := os.ReadFile(*cfgPath)
	if err != nil {
		return err
	}
	cfg, pol, err := parseConfig(data)
	if err != nil {
		return err
	}
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.LogLevel))
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
	if err := os.MkdirAll(cfg.TrustDir, 0o700); err != nil {
		return fmt.Errorf("trust_dir: %w", err)
	}
	engOpts.TrustDir = cfg.TrustDir
	if engOpts.Now == nil {
		engOpts.Now = time.Now
	}
	if engOpts.Manifests == nil {
		rc, err := registry.New(registry.Options{CAFile: cfg.RegistryCA, UserAgent: "notary-admission"})
		if err != nil {
			return err
		}
		engOpts.Manifests = rc
	}
	engOpts.OnWarning = func(err error) { log.Warn("trust data", "warning", err) }
	eng, err := policy.NewEngine(pol, engOpts)
	if err != nil {
		return err
	}
	wh := &webhook{engine: eng, log: log}
	tc, err := daemon.ServerTLS(cfg.TLSCert, cfg.TLSKey)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	ln = tls.NewListener(ln, tc)
	srv := &http.Server{Handler: wh.routes(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	log.Info("notary-admission listening", "addr", ln.Addr().String())
	if ready != nil {
		ready <- ln.Addr().String()
	}
	return daemon.Run(ctx, srv, ln, nil)
}
