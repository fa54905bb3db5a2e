package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/notary-go/notary/internal/importcli"
	"github.com/notary-go/notary/internal/v1import"
	"github.com/notary-go/notary/storage/sqlstore"
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

DSNs may hold passwords: pass them in $` + importcli.FromURLEnv + ` and $` + importcli.ToURLEnv + `
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
	var f importcli.Flags
	f.Register(fs, importcli.Help{
		Upstream:     "notary-server",
		ToBackend:    " (default: from -config)",
		ToURLDefault: ", or from -config",
		Config:       "This server's JSON config file: the destination is its storage section",
		DryRun:       "Read and check everything, write nothing; verifies the source instead",
		SourceTZ:     "Local, Europe/Berlin",
		Batch:        v1import.DefaultBatchSize,
	})
	dataDir := fs.String("data-dir", "", "Data directory, as for the server (default $"+dataDirEnv+" or ./"+defaultDataDir+")")
	noVerify := fs.Bool("no-verify", false, "Skip verifying the collections after the import")
	importcli.SetUsage(fs, stderr, importV1Usage)
	if ok, err := importcli.Parse(fs, args); !ok {
		return err
	}
	loc, err := importcli.CheckSource(f.FromBackend, &f.FromURL, importcli.FromURLEnv, f.SourceTZ)
	if err != nil {
		return err
	}
	backend, dsn, err := importV1Dest(f.ToBackend, f.ToURL, f.ConfigFile, *dataDir)
	if err != nil {
		return err
	}
	ends := importcli.Ends{FromBackend: f.FromBackend, FromURL: f.FromURL, Backend: backend, DSN: dsn, DryRun: f.DryRun}
	ends.Print(stdout)

	src, d, err := importcli.OpenSource(ctx, f.FromBackend, f.FromURL)
	if err != nil {
		return err
	}
	defer src.Close()
	source, err := v1import.NewSource(src, d, loc)
	if err != nil {
		return err
	}
	dst, dd, err := importcli.OpenDest(ctx, backend, dsn, f.DryRun)
	if err != nil {
		return err
	}
	defer dst.Close()
	if !f.DryRun {
		if err := sqlstore.Migrate(ctx, dst, dd); err != nil {
			return fmt.Errorf("destination: %w", v1import.Redact(err, backend, dsn))
		}
	}

	prog := importV1Progress(stderr, f.Quiet)
	rep, ierr := v1import.Import(ctx, v1import.Options{Source: source, Dest: dst, DestDialect: dd, DryRun: f.DryRun, BatchSize: f.Batch, Progress: prog})
	if rep != nil {
		importV1PrintReport(stdout, rep)
	}
	if ierr != nil && !errors.Is(ierr, v1import.ErrConflict) {
		return ends.Redact(ierr)
	}

	failed := 0
	if !*noVerify && rep != nil {
		var reader v1import.Reader = source
		if !f.DryRun {
			st, err := sqlstore.Open(ctx, dst, dd, sqlstore.Options{SkipMigrate: true})
			if err != nil {
				return fmt.Errorf("destination: %w", err)
			}
			reader = st // closing it would close dst, which the defer does
		}
		failed = importV1Verify(ctx, stdout, reader, rep, f, prog)
	}
	return importcli.Outcome(ierr, failed, "collection(s) failed verification", "")
}

// importV1Verify verifies every imported collection of rep as read from
// reader (the destination, or the source on a dry run), prints the
// results and returns how many failed.
func importV1Verify(ctx context.Context, stdout io.Writer, reader v1import.Reader, rep *v1import.Report, f importcli.Flags, prog func(v1import.Progress)) int {
	var guns []string
	for _, g := range rep.GUNs {
		if g.Err == nil {
			guns = append(guns, g.GUN)
		}
	}
	what := "imported"
	if f.DryRun {
		what = "source"
	}
	now := time.Now()
	fmt.Fprintf(stdout, "verifying %d %s collections at %s:\n", len(guns), what, now.UTC().Format(time.RFC3339))
	failed := 0
	counts := map[v1import.Status]int{}
	for _, r := range v1import.VerifyAll(ctx, reader, guns, now, prog) {
		counts[r.Status]++
		if r.Status == v1import.StatusFailed {
			failed++
		}
		if !f.Quiet || r.Status != v1import.StatusOK {
			fmt.Fprintf(stdout, "  %s\n", r)
			for _, w := range r.Warnings {
				fmt.Fprintf(stdout, "    warning: %s\n", w)
			}
		}
	}
	fmt.Fprintf(stdout, "verification: %d ok, %d expired, %d failed\n", counts[v1import.StatusOK], counts[v1import.StatusExpired], counts[v1import.StatusFailed])
	return failed
}

// importV1Dest resolves the destination: explicit flags, else the storage
// this server would use with the same config file and data directory.
func importV1Dest(backend, dsn, configFile, dataDir string) (string, string, error) {
	if dsn == "" {
		dsn = os.Getenv(importcli.ToURLEnv)
	}
	if backend != "" {
		if configFile != "" {
			return "", "", errors.New("give either -config or -to-backend, not both")
		}
		b, ok := importcli.DestBackend(backend)
		if !ok {
			return "", "", fmt.Errorf("-to-backend %q: want sqlite3, postgres or mysql", backend)
		}
		backend = b
		if dsn == "" {
			return "", "", fmt.Errorf("-to-backend %s needs -to-url (or $%s)", backend, importcli.ToURLEnv)
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
	show := importcli.Throttle(time.Now)
	return func(p v1import.Progress) {
		show(p.Phase, p.Total > 0 && p.Done == p.Total, func() {
			if p.Total > 0 {
				fmt.Fprintf(w, "%s: %d/%d %s\n", p.Phase, p.Done, p.Total, p.Item)
			} else {
				fmt.Fprintf(w, "%s: %d rows (%s)\n", p.Phase, p.Done, p.Item)
			}
		})
	}
}

func importV1PrintReport(w io.Writer, rep *v1import.Report) {
	verb := importcli.Verb(rep.DryRun)
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
