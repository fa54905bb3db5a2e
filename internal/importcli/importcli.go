// Package importcli holds the command-line handling shared by the
// import-v1 commands of notary-server and notary-signer: the shared flags
// and their parsing, checking the source, opening the source and
// destination databases, and the parts of the report both print.
package importcli

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/notary-go/notary/internal/v1import"
	"github.com/notary-go/notary/storage/sqlstore"
	"github.com/notary-go/notary/storage/sqlstore/drivers"
)

// CheckSource checks -from-backend (mysql or postgres), fills an empty
// *fromURL from the environment variable urlEnv (a command line is
// visible to every user of the machine) and loads the -source-tz zone.
func CheckSource(fromBackend string, fromURL *string, urlEnv, sourceTZ string) (*time.Location, error) {
	switch strings.ToLower(fromBackend) {
	case "mysql", "postgres", "postgresql":
	case "":
		return nil, errors.New("-from-backend is required (mysql or postgres)")
	default:
		return nil, fmt.Errorf("-from-backend %q: want mysql or postgres", fromBackend)
	}
	if *fromURL == "" {
		*fromURL = os.Getenv(urlEnv)
	}
	if *fromURL == "" {
		return nil, fmt.Errorf("no source: set -from-url or $%s", urlEnv)
	}
	loc, err := time.LoadLocation(sourceTZ)
	if err != nil {
		return nil, fmt.Errorf("-source-tz: %w", err)
	}
	return loc, nil
}

// OpenSource opens the upstream database.
func OpenSource(ctx context.Context, backend, dsn string) (*sql.DB, sqlstore.Dialect, error) {
	db, d, err := drivers.OpenDB(ctx, backend, dsn, drivers.Options{MaxOpenConns: 4})
	if err != nil {
		return nil, "", fmt.Errorf("source: %w", v1import.Redact(err, backend, dsn))
	}
	return db, d, nil
}

// OpenDest opens the destination database. For SQLite it creates the
// file's directory, except on a dry run, which opens an empty in-memory
// stand-in for a file that does not exist (a dry run creates no file).
func OpenDest(ctx context.Context, backend, dsn string, dryRun bool) (*sql.DB, sqlstore.Dialect, error) {
	openDSN := dsn
	if backend == "sqlite3" {
		path, _, _ := strings.Cut(strings.TrimPrefix(dsn, "file:"), "?")
		if _, err := os.Stat(path); dryRun && errors.Is(err, os.ErrNotExist) {
			openDSN = ":memory:" // an empty stand-in: a dry run creates no file
		} else if dir := filepath.Dir(path); !dryRun && dir != "" {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return nil, "", fmt.Errorf("creating the database directory: %w", err)
			}
		}
	}
	db, d, err := drivers.OpenDB(ctx, backend, openDSN, drivers.Options{MaxOpenConns: 4})
	if err != nil {
		return nil, "", fmt.Errorf("destination: %w", v1import.Redact(err, backend, dsn))
	}
	return db, d, nil
}

// RefuseFlagPasswords refuses a DSN holding a password given on the
// command line (NCC 2015 finding 6: every user of the machine can read a
// process's arguments, and shells keep them in their history). envFor maps
// each DSN flag of fs (without the dash) to the environment variable that
// supplies it instead. Only flags actually given are checked; the password
// never appears in the error.
func RefuseFlagPasswords(fs *flag.FlagSet, envFor map[string]string) error {
	var err error
	fs.Visit(func(f *flag.Flag) {
		env, ok := envFor[f.Name]
		if !ok || err != nil {
			return
		}
		v := f.Value.String()
		for _, backend := range []string{"postgres", "mysql"} {
			if v1import.Password(backend, v) != "" {
				err = fmt.Errorf("-%s holds a password, which every user of this machine can read in the process list: put the DSN in $%s instead", f.Name, env)
				return
			}
		}
	})
	return err
}
