// Command notary-signer is a drop-in for Notary v0.7.0's notary-signer:
// the same gRPC KeyManagement and Signer services (with grpc.health.v1),
// the same JSON config file and environment overrides, and the same key
// database rows. It differs from v0.7.0 on purpose in one way: it only
// serves the signing services over mutual TLS (server.client_ca_file is
// required); see usageText.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"

	"github.com/notary-go/notary/internal/daemon"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usageText = `Usage:
  notary-signer -config FILE [-debug] [-logf json|logfmt]   serve (v0.7.0's command line)
  notary-signer migrate -config FILE                        create or upgrade the key database schema
  notary-signer rotate-alias -config FILE -new-alias ALIAS  re-encrypt every key under ALIAS, online
  notary-signer import-v1 ...                               import keys from a v0.7.0 signer database
  notary-signer help [COMMAND]

notary-signer holds the timestamp and snapshot keys of a notary-server and
signs with them over gRPC (services proto.KeyManagement and proto.Signer,
default port 7899), as Notary v0.7.0's notary-signer does.

Mutual TLS only. The signer never listens in plain text. Its certificate
(server.tls_cert_file, tls_key_file) and the CA bundle that client
certificates must chain to (server.client_ca_file) are required, and a
file that does not load stops it. KeyManagement and Signer calls from a
client without such a certificate are refused (Unauthenticated); a
certificate from another CA, or an expired one, fails the TLS handshake.
Only grpc.health.v1.Health/Check may be called without a client
certificate, so load balancers can probe it; Watch and List are refused.
Such connections are capped: 64 at once, each closed after 1 MiB of
requests or 10 minutes. Every connection: at most 64 concurrent streams,
16 KiB of metadata, 4 MiB messages, pings no more often than every 30s;
at most 1024 connections at once. v0.7.0 makes client certificates optional
when client_ca_file is unset; this signer refuses to start instead.

Config file (JSON, v0.7.0's format). Relative paths in it (certificates,
the CA bundle, a SQLite storage.db_url, pkcs11.module) are relative to the
config file's directory, wherever the signer is started from. Every key
can be overridden by the environment variable NOTARY_SIGNER_<SECTION>_<KEY>,
e.g. NOTARY_SIGNER_STORAGE_DB_URL. Keys it does not read are logged as
warnings; a section or key of the wrong type stops it.

  server.grpc_addr        listen address (required), e.g. ":7899"
  server.tls_cert_file    the signer's certificate (PEM, required)
  server.tls_key_file     its private key (PEM, required)
  server.client_ca_file   CA bundle for client certificates (required)
  server.http_addr        ignored, as by v0.7.0 (-debug serves localhost:8080)
  storage.backend         sqlite3 (default) | mysql | postgres | memory | pkcs11
  storage.db_url          database file or DSN (sqlite3 default: notary-signer.db
                          next to the config file; mysql DSNs as in v0.7.0,
                          e.g. user:pass@tcp(host:3306)/notarysigner)
  storage.default_alias   passphrase alias new keys are encrypted under
                          (required for SQL backends; also $NOTARY_SIGNER_DEFAULT_ALIAS)
  pkcs11.module           PKCS#11 library (pkcs11 backend), e.g.
                          /usr/lib/softhsm/libsofthsm2.so
  pkcs11.token_label      label of the token holding the keys (pkcs11 backend)
  pkcs11.max_sessions     concurrent token sessions (default 8)
  logging.level           debug | info | warn | error (default, as v0.7.0)

Secrets come from the environment only, and are never logged:
  NOTARY_SIGNER_<ALIAS>     passphrase of key alias ALIAS (uppercased, "." -> "_"),
                            e.g. alias "alias1" -> NOTARY_SIGNER_ALIAS1. Keep every
                            alias whose rows still exist set.
  NOTARY_SIGNER_PKCS11_PIN  the token's user PIN (pkcs11 backend)

The memory backend keeps keys in this process only: they are lost when
it stops. The pkcs11 backend makes ecdsa and ed25519 keys on the token;
they never leave it.

Signals: SIGTERM or SIGINT stop it gracefully (health turns NOT_SERVING,
calls in flight finish, at most 10s); SIGUSR1 / SIGUSR2 raise / lower the
log level.

Flags take one dash or two (-config or --config, -config=FILE too).

Flags:
`

var commandUsage = map[string]string{
	"migrate": `Usage: notary-signer migrate -config FILE

Creates or upgrades the private_keys table of the SQL key database named
by storage.backend and storage.db_url, then exits. Safe to run while
signers are serving and when several run at once. A v0.7.0 signer database
is upgraded in place and stays readable by v0.7.0. -bootstrap does the same.

Flags:
`,
	"rotate-alias": `Usage: notary-signer rotate-alias -config FILE -new-alias ALIAS

Re-encrypts every key of the SQL key database (removed ones included) with
the passphrase of ALIAS, in batches of short transactions, while signers
keep serving: every row names its own alias, so running signers read old
and new rows alike. It needs the passphrases of the old aliases and of
ALIAS (NOTARY_SIGNER_<ALIAS>) in its environment; the running signers need
NOTARY_SIGNER_<ALIAS> too before it starts.

To retire an alias:
  1. give every signer NOTARY_SIGNER_<NEW> and storage.default_alias NEW
     (restart them one at a time; new keys are then written under NEW);
  2. run notary-signer rotate-alias -config FILE -new-alias NEW;
  3. remove the old alias's passphrase from every signer's environment.
Rerunning it is harmless: rows already under ALIAS are skipped.

Flags:
`,
}

// env is what a run reads and writes besides files and the network, so
// tests can run the command in-process.
type env struct {
	stdout, stderr io.Writer
	lookup         func(string) (string, bool)
	// listening, if set, is called with the gRPC address once it listens.
	listening func(net.Addr)
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], env{stdout: os.Stdout, stderr: os.Stderr, lookup: os.LookupEnv})
	stop()
	os.Exit(code)
}

// run is the whole command; it returns the exit status.
func run(ctx context.Context, args []string, e env) int {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, rest := args[0], args[1:]
		var err error
		switch name {
		case "migrate":
			err = runMigrate(ctx, rest, e)
		case "rotate-alias":
			err = runRotateAlias(ctx, rest, e)
		case "import-v1":
			if importV1 == nil {
				err = errors.New("import-v1 is not available in this build")
				break
			}
			err = importV1(ctx, rest, e.stdout, e.stderr)
		case "help":
			return runHelp(rest, e)
		case "version":
			fmt.Fprintln(e.stdout, versionLine())
			return 0
		default:
			fmt.Fprintf(e.stderr, "notary-signer: unknown command %q (see notary-signer -help)\n", name)
			return 2
		}
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			return 2
		}
		fmt.Fprintf(e.stderr, "notary-signer %s: %v\n", name, err)
		return 1
	}

	fs, f := serveFlags(e.stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "notary-signer: unexpected arguments %q (see -help)\n", fs.Args())
		return 2
	}
	if f.version {
		fmt.Fprintln(e.stdout, "notary-signer "+versionLine())
		return 0
	}
	if err := serve(ctx, f, e); err != nil {
		fmt.Fprintf(e.stderr, "notary-signer: %v\n", err)
		return 1
	}
	return 0
}

// importV1, when set (by import.go), runs the import-v1 command.
var importV1 func(ctx context.Context, args []string, stdout, stderr io.Writer) error

// errUsage says a command's flags were wrong; the flag package has
// already printed why.
var errUsage = errors.New("usage")

type serveOpts struct {
	config    string
	debug     bool
	logFormat string
	bootstrap bool
	version   bool
}

// serveFlags are v0.7.0's flags.
func serveFlags(stderr io.Writer) (*flag.FlagSet, *serveOpts) {
	fs := flag.NewFlagSet("notary-signer", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := &serveOpts{}
	fs.StringVar(&f.config, "config", "", "Path to the JSON configuration file (required)")
	fs.BoolVar(&f.debug, "debug", false, "Serve pprof and expvar on "+debugAddr+" (and leave the process dumpable)")
	fs.StringVar(&f.logFormat, "logf", "json", "Log format: json or logfmt")
	fs.BoolVar(&f.bootstrap, "bootstrap", false, "Create or upgrade the key database schema, then exit (same as the migrate command)")
	fs.BoolVar(&f.version, "version", false, "Print the version and exit")
	fs.Usage = func() {
		fmt.Fprint(stderr, withAuthzUsage(usageText))
		fs.PrintDefaults()
	}
	return fs, f
}

func runHelp(args []string, e env) int {
	if len(args) == 0 {
		fs, _ := serveFlags(e.stdout)
		fs.Usage()
		return 0
	}
	switch args[0] {
	case "migrate", "rotate-alias":
		fs, _ := subcommandFlags(args[0], e.stdout)
		fs.Usage()
		return 0
	case "import-v1":
		if importV1 == nil {
			fmt.Fprintln(e.stderr, "notary-signer: import-v1 is not available in this build")
			return 1
		}
		_ = importV1(context.Background(), []string{"-help"}, e.stdout, e.stdout)
		return 0
	}
	fmt.Fprintf(e.stderr, "notary-signer: no help for %q\n", args[0])
	return 2
}

type subOpts struct {
	config    string
	logFormat string
	newAlias  string
}

func subcommandFlags(name string, out io.Writer) (*flag.FlagSet, *subOpts) {
	fs := flag.NewFlagSet("notary-signer "+name, flag.ContinueOnError)
	fs.SetOutput(out)
	f := &subOpts{}
	fs.StringVar(&f.config, "config", "", "Path to the signer's JSON configuration file (required)")
	fs.StringVar(&f.logFormat, "logf", "json", "Log format: json or logfmt")
	if name == "rotate-alias" {
		fs.StringVar(&f.newAlias, "new-alias", "", "Passphrase alias to re-encrypt every key under (required)")
	}
	fs.Usage = func() {
		fmt.Fprint(out, commandUsage[name])
		fs.PrintDefaults()
	}
	return fs, f
}

// parseSubcommand parses a subcommand's flags and loads its config.
func parseSubcommand(name string, args []string, e env) (*subOpts, *config, *slog.Logger, error) {
	fs, f := subcommandFlags(name, e.stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, nil, nil, err
		}
		return nil, nil, nil, errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "unexpected arguments %q\n", fs.Args())
		fs.Usage()
		return nil, nil, nil, errUsage
	}
	if f.config == "" {
		fmt.Fprintln(e.stderr, "-config is required")
		fs.Usage()
		return nil, nil, nil, errUsage
	}
	if name == "rotate-alias" && f.newAlias == "" {
		fmt.Fprintln(e.stderr, "-new-alias is required")
		fs.Usage()
		return nil, nil, nil, errUsage
	}
	rc, err := loadRawConfig(f.config, e.lookup)
	if err != nil {
		return nil, nil, nil, err
	}
	cfg, err := parseConfig(rc, false)
	if err != nil {
		return nil, nil, nil, err
	}
	log, _, err := newLogger(e.stderr, f.logFormat, cfg.logLevel)
	if err != nil {
		return nil, nil, nil, err
	}
	cfg.warnUnknown(log, f.config)
	return f, cfg, log, nil
}

func versionLine() string {
	return fmt.Sprintf("Version: %s, Go version: %s", version, runtime.Version())
}

// newLogger returns a structured logger and the level variable it uses
// (SIGUSR1/SIGUSR2 move it).
func newLogger(w io.Writer, format, level string) (*slog.Logger, *slog.LevelVar, error) {
	lvl, err := parseLevel(level)
	if err != nil {
		return nil, nil, err
	}
	lv := new(slog.LevelVar)
	lv.Set(lvl)
	log, err := daemon.NewLogger(w, format, lv)
	if err != nil {
		return nil, nil, err
	}
	return log, lv, nil
}

// parseLevel accepts logrus's level names, as v1's logging.level does.
func parseLevel(s string) (slog.Level, error) { return daemon.ParseLevel(s) }
