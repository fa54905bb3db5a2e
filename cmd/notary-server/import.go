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
	"github.com/notary-go/notary/storage/sqlstore"
)

// Environment variables the import reads DSNs from when the flags are not
// given: a command line is visible to every user of the machine.
const (
	importFromURLEnv = "NOTARY_IMPORT_FROM_URL"
	importToURLEnv   = "NOTARY_IMPORT_TO_URL"
)

const importV1Usage = `Usage: notary-server import-v1 -from-backend mysql|postgres [flags]

Copies the trust data of a Notary v0.7.0 notary-server database (tables
tuf_files and changefeed, MySQL/MariaDB or PostgreSQL) into this server's
database, then checks that every collection still verifies as a client
would check it. The source is only read; rows upstream soft-deleted
(deleted_at set) are skipped. Files keep their bytes and times, changefeed
rows their ids. Re-running skips what is already there, so it can catch up
with an upstream server still in use; stop upstream for the last run.

The destination is the database this server would use with the same
-config and -data-dir (default: SQLite under ./notary-data), or -to-backend
and -to-url. It must be a new database or schema, not the upstream one.

DSNs may hold passwords: pass them in $` + importFromURLEnv + ` and $` + importToURLEnv + `
rather than on the command line. They are never printed.

Verification statuses: ok; expired (verifies as of when its newest
timestamp was stored, but something expired since: the server re-signs an
expired timestamp on the next read if it holds the key); failed (with the
reason). The command fails if any collection is not imported or fails.

Flags:
`

// runImportV1 implements "notary-server import-v1".
func runImportV1(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("notary-server import-v1", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		fromBackend = fs.String("from-backend", "", "Upstream database engine: mysql or postgres (required)")
		fromURL     = fs.String("from-url", "", "Upstream notary-server DSN, as its storage.db_url (default $"+importFromURLEnv+")")
		toBackend   = fs.String("to-backend", "", "Destination engine: sqlite3, postgres or mysql (default: from -config)")
		toURL       = fs.String("to-url", "", "Destination DSN or SQLite file (default $"+importToURLEnv+", or from -config)")
		configFile  = fs.String("config", "", "This server's JSON config file: the destination is its storage section")
		dataDir     = fs.String("data-dir", "", "Data directory, as for the server (default $"+dataDirEnv+" or ./"+defaultDataDir+")")
		dryRun      = fs.Bool("dry-run", false, "Read and check everything, write nothing; verifies the source instead")
		noVerify    = fs.Bool("no-verify", false, "Skip verifying the collections after the import")
		sourceTZ    = fs.String("source-tz", "UTC", "Zone of the upstream database's zone-less times (e.g. Local, Europe/Berlin)")
		batch       = fs.Int("batch", v1import.DefaultBatchSize, "Rows read from the source at a time")
		quiet       = fs.Bool("quiet", false, "Print only failures and the summary, no progress")
	)
	fs.Usage = func() {
		fmt.Fprint(stderr, importV1Usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q (see -help)", fs.Args())
	}
	if err := importcli.RefuseFlagPasswords(fs, map[string]string{"from-url": importFromURLEnv, "to-url": importToURLEnv}); err != nil {
		return err
	}
	loc, err := importcli.CheckSource(*fromBackend, fromURL, importFromURLEnv, *sourceTZ)
	if err != nil {
		return err
	}
	backend, dsn, err := importV1Dest(*toBackend, *toURL, *configFile, *dataDir)
	if err != nil {
		return err
	}

	importcli.PrintEnds(stdout, *fromBackend, *fromURL, backend, dsn, *dryRun)

	src, d, err := importcli.OpenSource(ctx, *fromBackend, *fromURL)
	if err != nil {
		return err
	}
	defer src.Close()
	source, err := v1import.NewSource(src, d, loc)
	if err != nil {
		return err
	}
	dst, dd, err := importcli.OpenDest(ctx, backend, dsn, *dryRun)
	if err != nil {
		return err
	}
	defer dst.Close()
	if !*dryRun {
		if err := sqlstore.Migrate(ctx, dst, dd); err != nil {
			return fmt.Errorf("destination: %w", v1import.Redact(err, backend, dsn))
		}
	}

	prog := importV1Progress(stderr, *quiet)
	rep, ierr := v1import.Import(ctx, v1import.Options{Source: source, Dest: dst, DestDialect: dd, DryRun: *dryRun, BatchSize: *batch, Progress: prog})
	if rep != nil {
		importV1PrintReport(stdout, rep)
	}
	if ierr != nil && !errors.Is(ierr, v1import.ErrConflict) {
		return v1import.Redact(v1import.Redact(ierr, *fromBackend, *fromURL), backend, dsn)
	}

	failed := 0
	if !*noVerify && rep != nil {
		var guns []string
		for _, g := range rep.GUNs {
			if g.Err == nil {
				guns = append(guns, g.GUN)
			}
		}
		var reader v1import.Reader = source
		what := "imported"
		if *dryRun {
			what = "source"
		} else {
			st, err := sqlstore.Open(ctx, dst, dd, sqlstore.Options{SkipMigrate: true})
			if err != nil {
				return fmt.Errorf("destination: %w", err)
			}
			reader = st // closing it would close dst, which the defer does
		}
		now := time.Now()
		fmt.Fprintf(stdout, "verifying %d %s collections at %s:\n", len(guns), what, now.UTC().Format(time.RFC3339))
		counts := map[v1import.Status]int{}
		for _, r := range v1import.VerifyAll(ctx, reader, guns, now, prog) {
			counts[r.Status]++
			if r.Status == v1import.StatusFailed {
				failed++
			}
			if !*quiet || r.Status != v1import.StatusOK {
				fmt.Fprintf(stdout, "  %s\n", r)
				for _, w := range r.Warnings {
					fmt.Fprintf(stdout, "    warning: %s\n", w)
				}
			}
		}
		fmt.Fprintf(stdout, "verification: %d ok, %d expired, %d failed\n", counts[v1import.StatusOK], counts[v1import.StatusExpired], counts[v1import.StatusFailed])
	}
	switch {
	case ierr != nil && failed > 0:
		return fmt.Errorf("%v; and %d collection(s) failed verification", ierr, failed)
	case ierr != nil:
		return ierr
	case failed > 0:
		return fmt.Errorf("%d collection(s) failed verification", failed)
	}
	return nil
}

// importV1Dest resolves the destination: explicit flags, else the storage
// this server would use with the same config file and data directory.
func importV1Dest(backend, dsn, configFile, dataDir string) (string, string, error) {
	if dsn == "" {
		dsn = os.Getenv(importToURLEnv)
	}
	if backend != "" {
		if configFile != "" {
			return "", "", errors.New("give either -config or -to-backend, not both")
		}
		switch strings.ToLower(backend) {
		case "sqlite", "sqlite3":
			backend = "sqlite3"
		case "postgres", "postgresql":
			backend = "postgres"
		case "mysql":
		default:
			return "", "", fmt.Errorf("-to-backend %q: want sqlite3, postgres or mysql", backend)
		}
		if dsn == "" {
			return "", "", fmt.Errorf("-to-backend %s needs -to-url (or $%s)", backend, importToURLEnv)
		}
		return backend, dsn, nil
	}
	if dataDir == "" {
		if v := os.Getenv(dataDirEnv); v != "" {
			dataDir = v
		} else {
			dataDir = defaultDataDir
		}
	}
	rc, err := loadRawConfig(configFile, os.LookupEnv)
	if err != nil {
		return "", "", err
	}
	cfg, err := parseConfig(rc, dataDir)
	if err != nil {
		return "", "", err
	}
	if cfg.backend == "memory" {
		return "", "", errors.New("the configured storage is memory: nothing to import into; set storage.backend or -to-backend")
	}
	if cfg.backend == "sqlite" {
		return "sqlite3", cfg.dbURL, nil
	}
	return cfg.backend, cfg.dbURL, nil
}

// importV1Progress prints progress to w at most once a second per phase,
// and always the last step of a phase.
func importV1Progress(w io.Writer, quiet bool) func(v1import.Progress) {
	if quiet {
		return nil
	}
	var (
		mu   sync.Mutex
		last = map[string]time.Time{}
	)
	return func(p v1import.Progress) {
		mu.Lock()
		defer mu.Unlock()
		done := p.Total > 0 && p.Done == p.Total
		if !done && time.Since(last[p.Phase]) < time.Second {
			return
		}
		last[p.Phase] = time.Now()
		if p.Total > 0 {
			fmt.Fprintf(w, "%s: %d/%d %s\n", p.Phase, p.Done, p.Total, p.Item)
		} else {
			fmt.Fprintf(w, "%s: %d rows (%s)\n", p.Phase, p.Done, p.Item)
		}
	}
}

func importV1PrintReport(w io.Writer, rep *v1import.Report) {
	verb := "imported"
	if rep.DryRun {
		verb = "to import"
	}
	f, c := rep.Files, rep.Changes
	fmt.Fprintf(w, "collections: %d (%d not imported)\n", len(rep.GUNs), len(rep.Failed()))
	fmt.Fprintf(w, "files: %d in the source, %d %s, %d already present, %d conflicting; %d soft-deleted rows skipped\n",
		f.Source, f.Imported, verb, f.Present, f.Conflicts, f.SoftDeleted)
	fmt.Fprintf(w, "changefeed: %d rows in the source, %d %s, %d already present, %d conflicting\n",
		c.Source, c.Imported, verb, c.Present, c.Conflicts)
	for _, g := range rep.GUNs {
		if g.Err != nil {
			fmt.Fprintf(w, "  %s: not imported: %v\n", g.GUN, g.Err)
		}
		for _, warn := range g.Warnings {
			fmt.Fprintf(w, "  %s: warning: %s\n", g.GUN, warn)
		}
	}
}
