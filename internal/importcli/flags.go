package importcli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Environment variables both import-v1 commands read DSNs from when the
// flags are not given: a command line is visible to every user of the
// machine.
const (
	FromURLEnv = "NOTARY_IMPORT_FROM_URL"
	ToURLEnv   = "NOTARY_IMPORT_TO_URL"
)

// Flags are the flags both import-v1 commands take. Each command adds its
// own (-data-dir, -no-verify, -no-check) to the same FlagSet.
type Flags struct {
	FromBackend string
	FromURL     string
	ToBackend   string
	ToURL       string
	ConfigFile  string
	SourceTZ    string
	DryRun      bool
	Quiet       bool
	Batch       int
}

// Help holds what the commands say differently about the shared flags.
type Help struct {
	Upstream     string // the upstream program whose database is read: "notary-server"
	ToBackend    string // suffix of -to-backend's help, e.g. " (default: from -config)"
	ToURLDefault string // suffix of -to-url's default, e.g. ", or from -config"
	Config       string // help of -config
	DryRun       string // help of -dry-run
	SourceTZ     string // examples in -source-tz's help
	Batch        int    // default of -batch
}

// Register adds the shared flags to fs, to be read into f.
func (f *Flags) Register(fs *flag.FlagSet, h Help) {
	fs.StringVar(&f.FromBackend, "from-backend", "", "Upstream database engine: mysql or postgres (required)")
	fs.StringVar(&f.FromURL, "from-url", "", "Upstream "+h.Upstream+" DSN, as its storage.db_url (default $"+FromURLEnv+")")
	fs.StringVar(&f.ToBackend, "to-backend", "", "Destination engine: sqlite3, postgres or mysql"+h.ToBackend)
	fs.StringVar(&f.ToURL, "to-url", "", "Destination DSN or SQLite file (default $"+ToURLEnv+h.ToURLDefault+")")
	fs.StringVar(&f.ConfigFile, "config", "", h.Config)
	fs.BoolVar(&f.DryRun, "dry-run", false, h.DryRun)
	fs.StringVar(&f.SourceTZ, "source-tz", "UTC", "Zone of the upstream database's zone-less times (e.g. "+h.SourceTZ+")")
	fs.IntVar(&f.Batch, "batch", h.Batch, "Rows read from the source at a time")
	fs.BoolVar(&f.Quiet, "quiet", false, "Print only failures and the summary, no progress")
}

// A FlagError is a flag the flag package refused; it has printed why and
// the usage.
type FlagError struct{ Err error }

func (e *FlagError) Error() string { return e.Err.Error() }
func (e *FlagError) Unwrap() error { return e.Err }

// Parse parses args with fs. It returns ok false and no error for -help
// (the usage has been printed), a *FlagError for a refused flag, and an
// error for arguments left over (the commands take flags only) or for a
// DSN flag that holds a password.
func Parse(fs *flag.FlagSet, args []string) (ok bool, err error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return false, nil
		}
		return false, &FlagError{Err: err}
	}
	if fs.NArg() > 0 {
		return false, fmt.Errorf("unexpected arguments %q (see -help)", fs.Args())
	}
	// DSNs with passwords come from the environment, never a flag
	// (docs/security.md, NCC-6).
	if err := RefuseFlagPasswords(fs, map[string]string{"from-url": FromURLEnv, "to-url": ToURLEnv}); err != nil {
		return false, err
	}
	return true, nil
}

// SetUsage makes fs print text, then its flags, to w for -help and for a
// refused flag.
func SetUsage(fs *flag.FlagSet, w io.Writer, text string) {
	fs.Usage = func() {
		fmt.Fprint(w, text)
		fs.PrintDefaults()
	}
}

// DestBackend normalises a destination engine name (sqlite, sqlite3,
// postgres, postgresql, mysql; any case) to the driver name sqlite3,
// postgres or mysql. Any other name, an empty one too, is not ok.
func DestBackend(name string) (string, bool) {
	switch strings.ToLower(name) {
	case "sqlite", "sqlite3":
		return "sqlite3", true
	case "postgres", "postgresql":
		return "postgres", true
	case "mysql":
		return "mysql", true
	}
	return "", false
}
