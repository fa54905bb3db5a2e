package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/notary-go/notary/client"
	"github.com/notary-go/notary/keystore"
	"github.com/notary-go/notary/passphrase"
)

// version is the notary version this CLI is a drop-in for; set with
// -ldflags "-X main.version=...".
var version = "0.7.0"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], &stdio{
		stdin: os.Stdin, stdinFile: os.Stdin, stdout: os.Stdout, stderr: os.Stderr,
		getenv: os.Getenv,
	})
	stop()
	os.Exit(code)
}

// stdio is the process environment the CLI uses, injectable for tests.
type stdio struct {
	stdin io.Reader
	// stdinFile is stdin as a file, for terminal prompts; nil when stdin
	// is not a file (tests), which disables prompts.
	stdinFile *os.File
	stdout    io.Writer
	stderr    io.Writer
	getenv    func(string) string
	// now is the clock (tests); nil means time.Now.
	now func() time.Time
	// stderrTTY forces progress output (tests); otherwise it is shown only
	// when stderr is a terminal.
	stderrTTY bool
}

// globalFlags are the persistent flags of v1's root command.
type globalFlags struct {
	trustDir, configFile, server string
	tlsCA, tlsCert, tlsKey       string
	mirror                       string
	keyStore                     string
	debug, verbose, version      bool
}

// app is one run of the CLI.
type app struct {
	*stdio
	flags globalFlags

	stdinOnce sync.Once
	stdinBuf  *bufio.Reader

	settingsOnce sync.Once
	settings     *settings
	settingsErr  error

	retrieverOnce sync.Once
	retriever     passphrase.Retriever

	prog progress
	gun  string // the GUN of the command, for hints in error messages

	keyStoreOnce sync.Once
	routed       *keystore.Routed // --key-store pkcs11
	routedErr    error
	closers      []func() // run when the run ends (the PKCS#11 session)
}

// run executes the CLI and returns the exit code: 0 on success, 1 on any
// failure (v1 fatalf).
func run(ctx context.Context, args []string, io *stdio) int {
	if io.getenv == nil {
		io.getenv = os.Getenv
	}
	a := &app{stdio: io}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetContext(ctx)
	cmd, err := root.ExecuteC()
	for _, c := range a.closers {
		c()
	}
	if err != nil {
		var ue *usageErr
		if errors.As(err, &ue) {
			if cmd != nil {
				cmd.SetOut(a.stderr)
				_ = cmd.Usage()
				fmt.Fprintln(a.stderr)
			}
			err = ue.err
		}
		a.printError(err)
		return 1
	}
	return 0
}

// usageErr marks an error caused by wrong arguments: the command's usage
// is printed before it (v1 cmd.Usage()).
type usageErr struct{ err error }

func (e *usageErr) Error() string { return e.err.Error() }
func (e *usageErr) Unwrap() error { return e.err }

func usageError(format string, args ...any) error {
	return &usageErr{fmt.Errorf(format, args...)}
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "notary",
		Short:         "Notary allows the creation of trusted collections.",
		Long:          "Notary allows the creation and management of collections of signed targets, allowing the signing and validation of arbitrary content.\n\n" + configHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if a.flags.version {
				fmt.Fprintf(a.stdout, "notary Version: %s, Git commit: %s, Go version: %s\n", version, gitCommit(), runtime.Version())
				return nil
			}
			cmd.SetOut(a.stdout)
			return cmd.Usage()
		},
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetIn(a.stdin)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return &usageErr{err} })

	pf := root.PersistentFlags()
	pf.StringVarP(&a.flags.trustDir, "trustDir", "d", "", "Directory where the trust data is persisted to")
	pf.StringVarP(&a.flags.configFile, "configFile", "c", "", "Path to the configuration file to use")
	pf.BoolVarP(&a.flags.verbose, "verbose", "v", false, "Verbose output")
	pf.BoolVarP(&a.flags.debug, "debug", "D", false, "Debug output")
	pf.StringVarP(&a.flags.server, "server", "s", "", "Remote trust server location")
	pf.StringVar(&a.flags.tlsCA, "tlscacert", "", "Trust certs signed only by this CA")
	pf.StringVar(&a.flags.tlsCert, "tlscert", "", "Path to TLS certificate file")
	pf.StringVar(&a.flags.tlsKey, "tlskey", "", "Path to TLS key file")
	pf.StringVar(&a.flags.mirror, "mirror", "", "Read trust data for list, lookup, verify and delegation list from this static mirror (URL or directory holding <gun>/<role>.json; \"{gun}\" is replaced by the GUN) instead of the server")
	pf.StringVar(&a.flags.keyStore, "key-store", "", "Where new private keys are kept: \"file\" (the trust directory, default) or \"pkcs11\" (root keys, and the roles of key_store.pkcs11.roles or $NOTARY_PKCS11_ROLES, on the PKCS#11 token of $NOTARY_PKCS11_MODULE and $NOTARY_PKCS11_TOKEN; PIN from $NOTARY_PKCS11_PIN or a prompt)")
	root.Flags().BoolVar(&a.flags.version, "version", false, "Print the version number of notary")

	root.AddCommand(&cobra.Command{
		Use:   "version",
		Short: "Print the version number of notary",
		Long:  "Print the version number of notary",
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprintf(a.stdout, "notary\n Version:    %s\n Git commit: %s\n Go version: %s\n", version, gitCommit(), runtime.Version())
			return nil
		},
	})
	a.addTUFCommands(root)
	root.AddCommand(a.keyCommand(), a.delegationCommand(), a.certCommand(), a.imageCommand(), a.expiryCommand(), a.resignCommand())
	a.addBridgeCommands(root)
	root.AddCommand(a.completionCommand(root))
	a.addGUNCompletion(root)
	return root
}

func gitCommit() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				if len(s.Value) > 7 {
					return s.Value[:7]
				}
				return s.Value
			}
		}
	}
	return "unknown"
}

// config returns the resolved settings, read once per run.
func (a *app) config() (*settings, error) {
	a.settingsOnce.Do(func() {
		a.settings, a.settingsErr = a.loadSettings()
		if a.settingsErr == nil && a.flags.verbose {
			a.infof("using trust directory %s and trust server %s", a.settings.TrustDir, a.settings.ServerURL)
		}
	})
	return a.settings, a.settingsErr
}

// getRetriever is v1's getPassphraseRetriever: NOTARY_{ROOT,TARGETS,
// SNAPSHOT,DELEGATION}_PASSPHRASE, then a prompt when stdin is a terminal;
// with neither, a clear error instead of a prompt loop.
func (a *app) getRetriever() passphrase.Retriever {
	a.retrieverOnce.Do(func() {
		a.retriever = a.newRetriever()
	})
	return a.retriever
}

// newRetriever returns a fresh retriever (key passwd needs a second one, so
// the old passphrase is not offered from the prompt's cache).
func (a *app) newRetriever() passphrase.Retriever {
	in := a.stdinFile
	if in == nil {
		in = devNull()
	}
	out, _ := a.stdout.(*os.File)
	if out == nil {
		out = devNull()
	}
	return passphrase.New(passphrase.Options{Getenv: a.getenv, In: in, Out: out})
}

var (
	devNullOnce sync.Once
	devNullFile *os.File
)

// devNull is a file that is never a terminal, so prompts are disabled.
func devNull() *os.File {
	devNullOnce.Do(func() {
		devNullFile, _ = os.Open(os.DevNull)
	})
	return devNullFile
}

func (a *app) stdinIsTerminal() bool {
	return a.stdinFile != nil && term.IsTerminal(int(a.stdinFile.Fd()))
}

// reader returns stdin buffered once, so confirmations read line by line.
func (a *app) reader() *bufio.Reader {
	a.stdinOnce.Do(func() { a.stdinBuf = bufio.NewReader(a.stdin) })
	return a.stdinBuf
}

// askConfirm reads one answer: "y" or "yes" (any case) confirms (v1).
func (a *app) askConfirm() bool {
	line, err := a.reader().ReadString('\n')
	if err != nil && line == "" {
		return false
	}
	res := strings.TrimSpace(line)
	return strings.EqualFold(res, "y") || strings.EqualFold(res, "yes")
}

func (a *app) now() time.Time {
	if a.stdio.now != nil {
		return a.stdio.now()
	}
	return time.Now()
}

// repoFor returns the client repository of gun, configured for the access
// the command needs. Offline commands (staging) get no HTTP client, so
// they never touch the network.
func (a *app) repoFor(gun string, acc access, online bool) (*client.Repository, error) {
	s, err := a.config()
	if err != nil {
		return nil, err
	}
	if err := client.ValidateGUN(gun); err != nil {
		return nil, err
	}
	a.gun = gun
	opts := client.Options{
		TrustDir:     s.TrustDir,
		ServerURL:    s.ServerURL,
		Retriever:    a.getRetriever(),
		TrustPinning: s.Pinning,
		Now:          a.now,
		OnWarning:    a.warn,
		Progress:     a.progressFunc(),
	}
	ks, err := a.keyService()
	if err != nil {
		return nil, err
	}
	opts.KeyStore = ks
	if online {
		if u, err := url.Parse(s.ServerURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("Trust server url has to be in the form of http(s)://URL:PORT. Got: %s", s.ServerURL)
		}
		hc, mirrorHC, err := a.httpClients(s, gun, acc)
		if err != nil {
			return nil, err
		}
		opts.HTTPClient = hc
		if s.Mirror != "" && acc == readOnly {
			remote, err := client.MirrorRemote(s.Mirror, gun, mirrorHC)
			if err != nil {
				return nil, err
			}
			opts.Remote = remote
		}
	} else {
		opts.HTTPClient = &http.Client{Transport: offlineTransport{}}
	}
	return client.NewRepository(gun, opts)
}

// offlineTransport fails every request: staging commands are offline (v1).
type offlineTransport struct{}

func (offlineTransport) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("this command works offline")
}

func (a *app) warn(err error) {
	var n *client.Notice
	if errors.As(err, &n) {
		a.infof("%v", err)
		return
	}
	fmt.Fprintf(a.stderr, "warning: %v\n", err)
}

func (a *app) warnf(format string, args ...any) {
	fmt.Fprintf(a.stderr, "warning: "+format+"\n", args...)
}

func (a *app) infof(format string, args ...any) {
	if a.flags.verbose || a.flags.debug {
		fmt.Fprintf(a.stderr, "info: "+format+"\n", args...)
	}
}
