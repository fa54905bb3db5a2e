// Command notary-auth is a small token server for notary-server's token
// authentication (auth.type "token"), following the Docker Registry token
// specification, for tests and small setups.
//
//	notary-auth [serve] -config notary-auth.json
//	notary-auth htpasswd [-cost N] USER   < password       (prints an htpasswd line)
//	notary-auth keygen -key token.key -cert token.crt [-cn NAME] [-days N]
//
// See docs/docker.md for the config file and a complete setup.
package main

import (
	"bufio"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/notary-go/notary/auth/htpasswd"
	"github.com/notary-go/notary/auth/issuer"
	"github.com/notary-go/notary/internal/daemon"
	"github.com/notary-go/notary/internal/jsonconfig"
	"github.com/notary-go/notary/internal/pemcert"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usageText = `Usage:
  notary-auth [serve] -config FILE   serve tokens (GET/POST /token)
  notary-auth -version | version     print the version
  notary-auth htpasswd [-cost N] USER  read a password on stdin, print "USER:<bcrypt hash>"
  notary-auth keygen -key FILE -cert FILE [-cn NAME] [-days N]
                                     make an ECDSA P-256 signing key and a self-signed
                                     certificate for notary-server's auth.options.rootcertbundle

Config file (JSON). Relative paths in it are relative to the config
file's directory, wherever notary-auth is started from. Keys it does not
read are logged as warnings; a section or key of the wrong type stops it.

  {
    "server":  {"http_addr": ":4442", "tls_cert_file": "tls.crt", "tls_key_file": "tls.key"},
    "token":   {"issuer": "notary-auth", "service": "notary-server",
                "signing_key": "token.key", "signing_cert": "token.crt", "ttl": "5m"},
    "users":   {"htpasswd": "users.htpasswd", "realm": "notary-auth"},
    "acl": [
      {"account": "admin", "name": "*", "actions": ["*"]},
      {"account": "admin", "type": "registry", "name": "catalog", "actions": ["*"]},
      {"account": "*", "name": "registry.example.com/${account}/*", "actions": ["push", "pull"]},
      {"account": "", "name": "registry.example.com/public/*", "actions": ["pull"]}
    ],
    "logging": {"level": "info"}
  }

Rule names are GUNs as clients send them in scopes. docker trust names a
collection after the image's full repository name, registry host
included: registry.example.com/alice/app, or docker.io/library/alpine
for a Docker Hub image.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serveCmd(args, stdout, stderr)
	case "htpasswd":
		err = htpasswdCmd(args, stdin, stdout, stderr)
	case "keygen":
		err = keygenCmd(args, stdout, stderr)
	case "help":
		fmt.Fprint(stdout, usageText)
		return 0
	case "version":
		fmt.Fprintln(stdout, versionLine())
		return 0
	default:
		fmt.Fprintf(stderr, "notary-auth: unknown command %q\n\n%s", cmd, usageText)
		return 2
	}
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	case err != nil:
		fmt.Fprintf(stderr, "notary-auth: %v\n", err)
		return 1
	}
	return 0
}

var errUsage = errors.New("usage")

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("notary-auth "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageText+"\nFlags of "+name+":\n")
		fs.PrintDefaults()
	}
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	return nil
}

// configKeys are the keys of the config file. Other keys load, with a
// warning naming each; a key or section of the wrong type is an error.
var configKeys = jsonconfig.Schema{
	"server.http_addr":     jsonconfig.KindString,
	"server.tls_cert_file": jsonconfig.KindString,
	"server.tls_key_file":  jsonconfig.KindString,
	"token.issuer":         jsonconfig.KindString,
	"token.service":        jsonconfig.KindStrings, // a string or a list
	"token.signing_key":    jsonconfig.KindString,
	"token.signing_cert":   jsonconfig.KindString,
	"token.ttl":            jsonconfig.KindDuration,
	"users.htpasswd":       jsonconfig.KindString,
	"users.realm":          jsonconfig.KindString,
	"acl":                  jsonconfig.KindAny, // checked by issuer.ParseACL
	"logging.level":        jsonconfig.KindString,
}

type config struct {
	addr, tlsCert, tlsKey string
	opts                  issuer.Options
	level                 slog.Level
	unknownKeys           []string // logged as warnings by serve
}

// noEnv is the config's environment: notary-auth has no environment
// overrides.
func noEnv(string) (string, bool) { return "", false }

// loadConfig reads the config file. Relative paths in it are relative to
// its directory, and errors name files by their full path.
func loadConfig(file string) (*config, error) {
	rc, err := jsonconfig.Load(file, "NOTARY_AUTH", noEnv)
	if err != nil {
		return nil, err
	}
	unknown, err := rc.Check(configKeys)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	c := &config{unknownKeys: unknown}
	for _, section := range []func(*jsonconfig.Config) error{c.parseServer, c.parseToken, c.parseUsers, c.parseACL, c.parseLogging} {
		if err := section(rc); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (c *config) parseServer(rc *jsonconfig.Config) error {
	r := rc.Reader()
	r.String("server.http_addr", &c.addr)
	r.Path("server.tls_cert_file", &c.tlsCert)
	r.Path("server.tls_key_file", &c.tlsKey)
	if err := r.Err(); err != nil {
		return err
	}
	if c.addr == "" {
		return errors.New("config: server.http_addr is required")
	}
	if (c.tlsCert == "") != (c.tlsKey == "") {
		return errors.New("config: give both server.tls_cert_file and server.tls_key_file, or neither")
	}
	return nil
}

func (c *config) parseToken(rc *jsonconfig.Config) error {
	var key, cert string
	r := rc.Reader()
	r.String("token.issuer", &c.opts.Issuer)
	r.Path("token.signing_key", &key)
	r.Path("token.signing_cert", &cert)
	if err := r.Err(); err != nil {
		return err
	}
	var err error
	if c.opts.Services, err = rc.Strings("token.service"); err != nil {
		return err
	}
	if key == "" || cert == "" {
		return errors.New("config: token.signing_key and token.signing_cert are required")
	}
	if c.opts.Key, err = loadKey(key); err != nil {
		return err
	}
	if c.opts.Chain, err = loadChain(cert); err != nil {
		return err
	}
	if c.opts.TTL, _, err = rc.Duration("token.ttl"); err != nil {
		return err
	}
	return nil
}

func (c *config) parseUsers(rc *jsonconfig.Config) error {
	var file string
	r := rc.Reader()
	r.Path("users.htpasswd", &file)
	r.String("users.realm", &c.opts.Realm)
	if err := r.Err(); err != nil {
		return err
	}
	if file == "" {
		return nil
	}
	var err error
	c.opts.Users, err = htpasswd.Load(file)
	return err
}

func (c *config) parseACL(rc *jsonconfig.Config) error {
	v, ok := rc.FileValue("acl")
	if !ok {
		return nil
	}
	b, err := json.Marshal(v) // rules are objects in a list: their keys kept as written
	if err != nil {
		return err
	}
	c.opts.ACL, err = issuer.ParseACL(b)
	return err
}

func (c *config) parseLogging(rc *jsonconfig.Config) error {
	lvl, err := rc.String("logging.level")
	if err != nil {
		return err
	}
	switch strings.ToLower(lvl) {
	case "", "info":
		c.level = slog.LevelInfo
	case "debug":
		c.level = slog.LevelDebug
	case "warn", "warning":
		c.level = slog.LevelWarn
	case "error":
		c.level = slog.LevelError
	default:
		return fmt.Errorf("config: unknown logging.level %q", lvl)
	}
	return nil
}

// loadKey reads an unencrypted PEM private key: PKCS #8, SEC 1 (EC
// PRIVATE KEY) or PKCS #1 (RSA PRIVATE KEY).
func loadKey(file string) (crypto.Signer, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	for rest := b; ; {
		var blk *pem.Block
		if blk, rest = pem.Decode(rest); blk == nil {
			return nil, fmt.Errorf("%s: no private key found", file)
		}
		var k any
		switch blk.Type {
		case "PRIVATE KEY":
			k, err = x509.ParsePKCS8PrivateKey(blk.Bytes)
		case "EC PRIVATE KEY":
			k, err = x509.ParseECPrivateKey(blk.Bytes)
		case "RSA PRIVATE KEY":
			k, err = x509.ParsePKCS1PrivateKey(blk.Bytes)
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		s, ok := k.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("%s: unsupported key type %T", file, k)
		}
		return s, nil
	}
}

// loadChain reads the PEM certificates of file, leaf first.
func loadChain(file string) ([]*x509.Certificate, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	out, err := pemcert.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no certificate found", file)
	}
	return out, nil
}

func versionLine() string {
	return fmt.Sprintf("notary-auth Version: %s, Go version: %s", version, runtime.Version())
}

func serveCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", stderr)
	cfgFile := fs.String("config", "", "path to the JSON config file (required)")
	logf := fs.String("logf", "json", "log format: json or logfmt (text)")
	showVersion := fs.Bool("version", false, "print the version and exit")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *showVersion {
		fmt.Fprintln(stdout, versionLine())
		return nil
	}
	if *cfgFile == "" || fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	cfg, err := loadConfig(*cfgFile)
	if err != nil {
		return err
	}
	hopts := &slog.HandlerOptions{Level: cfg.level}
	var log *slog.Logger
	switch *logf {
	case "json":
		log = slog.New(slog.NewJSONHandler(stderr, hopts))
	case "logfmt", "text":
		log = slog.New(slog.NewTextHandler(stderr, hopts))
	default:
		return fmt.Errorf("unknown log format %q", *logf)
	}
	for _, k := range cfg.unknownKeys {
		log.Warn("ignoring unknown config key", "key", k, "config", *cfgFile)
	}
	cfg.opts.Logger = log
	iss, err := issuer.New(cfg.opts)
	if err != nil {
		return err
	}
	var tlsConfig *tls.Config
	if cfg.tlsCert != "" {
		if tlsConfig, err = serverTLS(cfg.tlsCert, cfg.tlsKey); err != nil {
			return err
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return listenAndServe(ctx, cfg.addr, handler(iss), tlsConfig, log)
}

// handler serves /token (and /auth/token, the path of distribution's
// autoredirect realm) and /health.
func handler(iss http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/token", iss)
	mux.Handle("/auth/token", iss)
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = io.WriteString(w, "{}")
	})
	return mux
}

// serverTLS is the listener's TLS configuration: TLS 1.2 or later, and
// for TLS 1.2 only ECDHE key exchange with AEAD ciphers.
func serverTLS(certFile, keyFile string) (*tls.Config, error) {
	return daemon.ServerTLS(certFile, keyFile)
}

func listenAndServe(ctx context.Context, addr string, h http.Handler, tlsConfig *tls.Config, log *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	hs := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	if tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
		log.Info("listening with TLS", "addr", ln.Addr().String())
	} else {
		log.Warn("listening on plain HTTP: passwords cross the network in the clear; configure server.tls_cert_file and tls_key_file", "addr", ln.Addr().String())
	}
	return daemon.Run(ctx, hs, ln, nil)
}

func htpasswdCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("htpasswd", stderr)
	cost := fs.Int("cost", htpasswd.DefaultCost, "bcrypt cost")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	pass := strings.TrimRight(line, "\r\n")
	if pass == "" {
		return errors.New("empty password on stdin")
	}
	out, err := htpasswd.Line(fs.Arg(0), pass, *cost)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, out)
	return err
}

func keygenCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("keygen", stderr)
	keyFile := fs.String("key", "", "write the private key (PKCS #8 PEM, mode 0600) here")
	certFile := fs.String("cert", "", "write the self-signed certificate (PEM) here")
	cn := fs.String("cn", "notary-auth token signer", "certificate subject common name")
	days := fs.Int("days", 3650, "certificate validity in days")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *keyFile == "" || *certFile == "" || fs.NArg() > 0 || *days <= 0 {
		fs.Usage()
		return errUsage
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: *cn},
		NotBefore:             now.Add(-5 * time.Minute),
		NotAfter:              now.AddDate(0, 0, *days),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	if err := writeNew(*keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}), 0o600); err != nil {
		return err
	}
	if err := writeNew(*certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s and %s; put %s in notary-server's auth.options.rootcertbundle\n", *keyFile, *certFile, *certFile)
	return nil
}

// writeNew writes a file that must not exist yet.
func writeNew(name string, b []byte, mode os.FileMode) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
