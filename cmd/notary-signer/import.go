package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/notary-go/notary/internal/importcli"
	"github.com/notary-go/notary/internal/v1import"
	"github.com/notary-go/notary/signer/keydb"
	keyimport "github.com/notary-go/notary/signer/keydb/v1import"
)

// Environment variables the import reads DSNs from when the flags are not
// given: a command line is visible to every user of the machine.
const (
	importV1FromURLEnv = "NOTARY_IMPORT_FROM_URL"
	importV1ToURLEnv   = "NOTARY_IMPORT_TO_URL"
)

const importV1SignerUsage = `Usage: notary-signer import-v1 -from-backend mysql|postgres [flags]

Copies the keys of a Notary v0.7.0 notary-signer database (table
private_keys, MySQL/MariaDB or PostgreSQL) into this signer's database, of
any engine (SQLite too). Rows are copied as they are: the keys stay
encrypted under their passphrase aliases and open with the same
NOTARY_SIGNER_<ALIAS> variables as before. last_used is kept (keys never
used stay pending), and soft-deleted keys stay soft-deleted. The source is
only read. Re-running skips keys already there (bringing last_used
forward), so it can catch up with an upstream signer still in use.

Afterwards every imported key is decrypted with the NOTARY_SIGNER_<ALIAS>
passphrases of this environment and the result is reported per GUN; the
command fails if any key cannot be used. (notary-signer can also run on a
v0.7.0 MySQL or PostgreSQL database in place; import to move the keys.)

The destination is -to-backend and -to-url, or the key database the
signer config file given with -config names (storage.backend, db_url).

DSNs may hold passwords: pass them in $` + importV1FromURLEnv + ` and $` + importV1ToURLEnv + `
rather than on the command line. They are never printed.

Flags:
`

// main.go runs importV1 for "notary-signer import-v1".
func init() { importV1 = runImportV1 }

// runImportV1 implements "notary-signer import-v1". Bad flags give an
// error wrapping errUsage (the flag package has printed why).
func runImportV1(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("notary-signer import-v1", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		fromBackend = fs.String("from-backend", "", "Upstream database engine: mysql or postgres (required)")
		fromURL     = fs.String("from-url", "", "Upstream notary-signer DSN, as its storage.db_url (default $"+importV1FromURLEnv+")")
		toBackend   = fs.String("to-backend", "", "Destination engine: sqlite3, postgres or mysql")
		toURL       = fs.String("to-url", "", "Destination DSN or SQLite file (default $"+importV1ToURLEnv+")")
		configFile  = fs.String("config", "", "Signer JSON config file: the destination is its storage.backend and storage.db_url")
		dryRun      = fs.Bool("dry-run", false, "Read and check everything, write nothing; checks the keys in the source instead")
		noCheck     = fs.Bool("no-check", false, "Skip decrypting the imported keys")
		sourceTZ    = fs.String("source-tz", "UTC", "Zone of the upstream database's zone-less times (e.g. Local)")
		batch       = fs.Int("batch", keyimport.DefaultBatchSize, "Rows read from the source at a time")
		quiet       = fs.Bool("quiet", false, "Print only failures and the summary, no progress")
	)
	fs.Usage = func() {
		fmt.Fprint(stderr, importV1SignerUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q (see -help)", fs.Args())
	}
	if err := importcli.RefuseFlagPasswords(fs, map[string]string{"from-url": importV1FromURLEnv, "to-url": importV1ToURLEnv}); err != nil {
		return err
	}
	loc, err := importcli.CheckSource(*fromBackend, fromURL, importV1FromURLEnv, *sourceTZ)
	if err != nil {
		return err
	}
	backend, dsn, err := importV1SignerDest(*toBackend, *toURL, *configFile)
	if err != nil {
		return err
	}
	importcli.PrintEnds(stdout, *fromBackend, *fromURL, backend, dsn, *dryRun)

	src, sd, err := importcli.OpenSource(ctx, *fromBackend, *fromURL)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, dd, err := importcli.OpenDest(ctx, backend, dsn, *dryRun)
	if err != nil {
		return err
	}
	defer dst.Close()
	srcDialect, dstDialect := keydb.Dialect(sd), keydb.Dialect(dd)

	var prog func(keyimport.Progress)
	if !*quiet {
		var (
			mu   sync.Mutex
			last time.Time
		)
		prog = func(p keyimport.Progress) {
			mu.Lock()
			defer mu.Unlock()
			if p.Done != p.Total && time.Since(last) < time.Second {
				return
			}
			last = time.Now()
			fmt.Fprintf(stderr, "%s: %d/%d\n", p.Phase, p.Done, p.Total)
		}
	}
	rep, ierr := keyimport.Import(ctx, keyimport.Options{Source: src, SourceDialect: srcDialect, SourceLocation: loc,
		Dest: dst, DestDialect: dstDialect, DryRun: *dryRun, BatchSize: *batch, Progress: prog})
	if rep != nil {
		verb := "imported"
		if rep.DryRun {
			verb = "to import"
		}
		fmt.Fprintf(stdout, "keys: %d in the source, %d %s (%d of them soft-deleted), %d already present (%d with last_used brought forward), %d conflicting\n",
			rep.Source, rep.Imported, verb, rep.SoftDeleted, rep.Present, rep.Updated, len(rep.Conflicts))
		for _, c := range rep.Conflicts {
			fmt.Fprintf(stdout, "  not imported: %v\n", c)
		}
		for _, w := range rep.Warnings {
			fmt.Fprintf(stdout, "  warning: %s\n", w)
		}
	}
	if ierr != nil && !errors.Is(ierr, keyimport.ErrConflict) {
		return v1import.Redact(v1import.Redact(ierr, *fromBackend, *fromURL), backend, dsn)
	}

	failed := 0
	if !*noCheck && rep != nil {
		check, where := keyimport.Check, "imported"
		db, d := dst, dstDialect
		if *dryRun {
			check, where, db, d = keyimport.CheckSource, "source", src, srcDialect
		}
		fmt.Fprintf(stdout, "decrypting %d live %s keys with the NOTARY_SIGNER_<ALIAS> passphrases:\n", len(rep.Live), where)
		res, err := check(ctx, db, d, rep.Live, nil, prog)
		if err != nil {
			return fmt.Errorf("checking keys: %w", v1import.Redact(err, backend, dsn))
		}
		for _, g := range res {
			if !g.OK() {
				failed++
			}
			if !*quiet || !g.OK() {
				fmt.Fprintf(stdout, "  %s\n", g)
			}
		}
		fmt.Fprintf(stdout, "check: %d GUNs ok, %d failed\n", len(res)-failed, failed)
	}
	switch {
	case ierr != nil && failed > 0:
		return fmt.Errorf("%v; and %d GUN(s) have keys that cannot be used", ierr, failed)
	case ierr != nil:
		return ierr
	case failed > 0:
		return fmt.Errorf("%d GUN(s) have keys that cannot be used (set the NOTARY_SIGNER_<ALIAS> passphrases named above)", failed)
	}
	return nil
}

// importV1SignerDest resolves the destination from the flags, or from the
// signer config file as notary-signer itself reads it (storage.backend,
// storage.db_url, their NOTARY_SIGNER_STORAGE_* overrides, the default
// SQLite file beside the config).
func importV1SignerDest(backend, dsn, configFile string) (string, string, error) {
	if dsn == "" {
		dsn = os.Getenv(importV1ToURLEnv)
	}
	if configFile != "" {
		if backend != "" {
			return "", "", errors.New("give either -config or -to-backend, not both")
		}
		rc, err := loadRawConfig(configFile, os.LookupEnv)
		if err != nil {
			return "", "", err
		}
		cfg, err := parseConfig(rc, false)
		if err != nil {
			return "", "", fmt.Errorf("%s: %w", configFile, err)
		}
		if !cfg.usesKeyDB() {
			return "", "", fmt.Errorf("the configured storage.backend is %s, which keeps no key database to import into", cfg.backend)
		}
		backend, dsn = cfg.backend, cfg.dbURL
	}
	switch strings.ToLower(backend) {
	case "sqlite", "sqlite3":
		backend = "sqlite3"
	case "postgres", "postgresql":
		backend = "postgres"
	case "mysql":
	case "":
		return "", "", errors.New("no destination: set -to-backend and -to-url, or -config")
	default:
		return "", "", fmt.Errorf("destination backend %q: want sqlite3, postgres or mysql", backend)
	}
	if dsn == "" {
		return "", "", fmt.Errorf("the %s destination needs a DSN (-to-url or $%s)", backend, importV1ToURLEnv)
	}
	return backend, dsn, nil
}
