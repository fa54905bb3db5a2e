package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/notary-go/notary/internal/importcli"
	"github.com/notary-go/notary/internal/v1import"
	"github.com/notary-go/notary/signer/keydb"
	keyimport "github.com/notary-go/notary/signer/keydb/v1import"
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

DSNs may hold passwords: pass them in $` + importcli.FromURLEnv + ` and $` + importcli.ToURLEnv + `
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
	var f importcli.Flags
	f.Register(fs, importcli.Help{
		Upstream: "notary-signer",
		Config:   "Signer JSON config file: the destination is its storage.backend and storage.db_url",
		DryRun:   "Read and check everything, write nothing; checks the keys in the source instead",
		SourceTZ: "Local",
		Batch:    keyimport.DefaultBatchSize,
	})
	noCheck := fs.Bool("no-check", false, "Skip decrypting the imported keys")
	importcli.SetUsage(fs, stderr, importV1SignerUsage)
	if ok, err := importcli.Parse(fs, args); !ok {
		var fe *importcli.FlagError
		if errors.As(err, &fe) {
			return fmt.Errorf("%w: %v", errUsage, fe.Err)
		}
		return err
	}
	loc, err := importcli.CheckSource(f.FromBackend, &f.FromURL, importcli.FromURLEnv, f.SourceTZ)
	if err != nil {
		return err
	}
	backend, dsn, err := importV1SignerDest(f.ToBackend, f.ToURL, f.ConfigFile)
	if err != nil {
		return err
	}
	ends := importcli.Ends{FromBackend: f.FromBackend, FromURL: f.FromURL, Backend: backend, DSN: dsn, DryRun: f.DryRun}
	ends.Print(stdout)

	src, sd, err := importcli.OpenSource(ctx, f.FromBackend, f.FromURL)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, dd, err := importcli.OpenDest(ctx, backend, dsn, f.DryRun)
	if err != nil {
		return err
	}
	defer dst.Close()
	srcDialect, dstDialect := keydb.Dialect(sd), keydb.Dialect(dd)

	var prog func(keyimport.Progress)
	if !f.Quiet {
		show := importcli.Throttle(time.Now)
		prog = func(p keyimport.Progress) {
			show(p.Phase, p.Done == p.Total, func() { fmt.Fprintf(stderr, "%s: %d/%d\n", p.Phase, p.Done, p.Total) })
		}
	}
	rep, ierr := keyimport.Import(ctx, keyimport.Options{Source: src, SourceDialect: srcDialect, SourceLocation: loc,
		Dest: dst, DestDialect: dstDialect, DryRun: f.DryRun, BatchSize: f.Batch, Progress: prog})
	if rep != nil {
		fmt.Fprintf(stdout, "keys: %d in the source, %d %s (%d of them soft-deleted), %d already present (%d with last_used brought forward), %d conflicting\n",
			rep.Source, rep.Imported, importcli.Verb(rep.DryRun), rep.SoftDeleted, rep.Present, rep.Updated, len(rep.Conflicts))
		for _, c := range rep.Conflicts {
			fmt.Fprintf(stdout, "  not imported: %v\n", c)
		}
		for _, w := range rep.Warnings {
			fmt.Fprintf(stdout, "  warning: %s\n", w)
		}
	}
	if ierr != nil && !errors.Is(ierr, keyimport.ErrConflict) {
		return ends.Redact(ierr)
	}

	failed := 0
	if !*noCheck && rep != nil {
		db, d := dst, dstDialect
		if f.DryRun {
			db, d = src, srcDialect
		}
		if failed, err = importV1Check(ctx, stdout, db, d, rep, f, prog); err != nil {
			return fmt.Errorf("checking keys: %w", v1import.Redact(err, backend, dsn))
		}
	}
	return importcli.Outcome(ierr, failed, "GUN(s) have keys that cannot be used", " (set the NOTARY_SIGNER_<ALIAS> passphrases named above)")
}

// importV1Check decrypts the live keys of rep in db (the destination, or
// the source on a dry run) with this environment's passphrases, prints
// the result per GUN and returns how many GUNs have unusable keys.
func importV1Check(ctx context.Context, stdout io.Writer, db *sql.DB, d keydb.Dialect, rep *keyimport.Report, f importcli.Flags, prog func(keyimport.Progress)) (int, error) {
	check, where := keyimport.Check, "imported"
	if f.DryRun {
		check, where = keyimport.CheckSource, "source"
	}
	fmt.Fprintf(stdout, "decrypting %d live %s keys with the NOTARY_SIGNER_<ALIAS> passphrases:\n", len(rep.Live), where)
	res, err := check(ctx, db, d, rep.Live, nil, prog)
	if err != nil {
		return 0, err
	}
	failed := 0
	for _, g := range res {
		if !g.OK() {
			failed++
		}
		if !f.Quiet || !g.OK() {
			fmt.Fprintf(stdout, "  %s\n", g)
		}
	}
	fmt.Fprintf(stdout, "check: %d GUNs ok, %d failed\n", len(res)-failed, failed)
	return failed, nil
}

// importV1SignerDest resolves the destination from the flags, or from the
// signer config file as notary-signer itself reads it (storage.backend,
// storage.db_url, their NOTARY_SIGNER_STORAGE_* overrides, the default
// SQLite file beside the config).
func importV1SignerDest(backend, dsn, configFile string) (string, string, error) {
	if dsn == "" {
		dsn = os.Getenv(importcli.ToURLEnv)
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
	if backend == "" {
		return "", "", errors.New("no destination: set -to-backend and -to-url, or -config")
	}
	b, ok := importcli.DestBackend(backend)
	if !ok {
		return "", "", fmt.Errorf("destination backend %q: want sqlite3, postgres or mysql", backend)
	}
	backend = b
	if dsn == "" {
		return "", "", fmt.Errorf("the %s destination needs a DSN (-to-url or $%s)", backend, importcli.ToURLEnv)
	}
	return backend, dsn, nil
}
