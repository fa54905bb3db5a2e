// Package v1import copies the key table of a Notary v0.7.0 notary-signer
// database (private_keys, MySQL or PostgreSQL; protocol §6.4, §8.4) into a
// notary-go signer database of any dialect, SQLite included.
//
// Rows are copied as they are: the JWE ciphertexts are not touched, so
// every key stays encrypted under the passphrase of its alias
// (NOTARY_SIGNER_<ALIAS>), which is all package keydb needs to use it.
// last_used is kept, so keys that never signed stay "pending" (keydb.Create
// hands them out again, as upstream did); soft-deleted rows are kept
// soft-deleted, so their key IDs stay reserved and removed keys stay
// removed. The source is only read.
//
// A key already present in the destination (same key ID, same public key)
// is skipped, so the import can be re-run to catch up; if upstream has
// used the key since (last_used set there, not yet here), last_used is
// brought forward. Check then decrypts every imported live key with
// keydb, as the signer will, and reports per GUN which keys cannot be
// used and why (typically: the passphrase variable of an alias is unset).
//
// Note that notary-go's signer can also use a v0.7.0 MySQL or PostgreSQL
// signer database in place (keydb.OpenSQL keeps its table); this import is
// for moving the keys to another database or engine.
package v1import

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/notary-go/notary/internal/sqldialect"
	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/signer/keydb"
	"github.com/notary-go/notary/signer/keydb/internal/jwe"
)

// DefaultBatchSize is how many rows are read from the source at a time.
const DefaultBatchSize = 200

// checkAlias is the default alias of the keydb.DB that Import and Check
// open on the destination to create its schema and read keys back. It
// never encrypts anything.
const checkAlias = "notary_v1import_unused"

// ErrConflict is matched (errors.Is) by every *ConflictError.
var ErrConflict = errors.New("the destination holds a different key under the same ID")

// A ConflictError is a key ID the destination already holds with another
// key type or public key.
type ConflictError struct {
	KeyID  string
	Reason string
}

func (e *ConflictError) Error() string { return fmt.Sprintf("key %s: %s", e.KeyID, e.Reason) }

// Unwrap makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Unwrap() error { return ErrConflict }

// Options configure Import.
type Options struct {
	// Source is the upstream v0.7.0 notary-signer database (only read);
	// SourceDialect keydb.Postgres or keydb.MySQL (MySQL opened with
	// parseTime=true, as drivers.OpenDB does).
	Source        *sql.DB
	SourceDialect keydb.Dialect
	// SourceLocation is the zone of the source's zone-less times (the
	// signer's local wall clock); nil means UTC.
	SourceLocation *time.Location
	// Dest is the notary-go signer database; its schema is created or
	// upgraded first (keydb.OpenSQL), unless DryRun.
	Dest        *sql.DB
	DestDialect keydb.Dialect
	// DryRun reads everything and reports what would be imported, writing
	// nothing; the destination need not exist yet.
	DryRun bool
	// BatchSize is how many rows are read at a time; 0 means
	// DefaultBatchSize.
	BatchSize int
	// Progress, if set, is called after every batch.
	Progress func(Progress)
}

// Progress reports Done of Total rows of Phase ("keys" or "check").
type Progress struct {
	Phase       string
	Done, Total int
}

// A Report is what Import did (or would do).
type Report struct {
	DryRun bool
	// Source counts rows read from the source, soft-deleted ones included.
	Source int
	// Imported rows were written (dry run: would be); SoftDeleted of them
	// are soft-deleted keys, kept soft-deleted.
	Imported    int
	SoftDeleted int
	// Present rows were already in the destination and skipped; Updated of
	// them had last_used brought forward.
	Present int
	Updated int
	// Conflicts lists key IDs the destination holds with another key.
	Conflicts []error
	// Warnings are differences left alone (e.g. a key removed upstream
	// after it was imported).
	Warnings []string
	// Live lists every key of the source that is not soft-deleted, for
	// Check.
	Live []KeyRef
}

// A KeyRef names one key of the source.
type KeyRef struct {
	ID, GUN, Role, Alias, Algorithm string
}

// A srcRow is one private_keys row.
type srcRow struct {
	id                                      int64
	createdAt, updatedAt, deletedAt, usedAt sql.NullTime
	keyID, encAlg, wrapAlg, algorithm       string
	alias, gun, role                        string
	public, private                         []byte
}

// Import copies the source's private_keys rows into the destination (see
// the package documentation) and returns what it did. The error wraps
// ErrConflict when some keys conflicted (the others were imported), or is
// the database error that stopped the import.
func Import(ctx context.Context, opts Options) (*Report, error) {
	rep := &Report{DryRun: opts.DryRun}
	if opts.Source == nil || opts.Dest == nil {
		return rep, errors.New("v1import: Options.Source and Options.Dest are required")
	}
	if opts.SourceDialect != keydb.Postgres && opts.SourceDialect != keydb.MySQL && opts.SourceDialect != keydb.SQLite {
		return rep, fmt.Errorf("v1import: unsupported source dialect %q: want postgres or mysql", opts.SourceDialect)
	}
	if _, err := keydb.ParseDialect(string(opts.DestDialect)); err != nil {
		return rep, err
	}
	batch := opts.BatchSize
	if batch <= 0 {
		batch = DefaultBatchSize
	}
	loc := opts.SourceLocation
	if loc == nil {
		loc = time.UTC
	}
	progress := opts.Progress
	if progress == nil {
		progress = func(Progress) {}
	}
	sq := func(q string) string { return rebind(opts.SourceDialect, q) }
	dq := func(q string) string { return rebind(opts.DestDialect, q) }

	var total int
	if err := opts.Source.QueryRowContext(ctx, "SELECT COUNT(*) FROM private_keys WHERE 1 = 0 AND (deleted_at IS NULL OR last_used IS NULL OR gun = role)").Scan(&total); err != nil {
		return rep, fmt.Errorf("v1import: the source does not look like a Notary v0.7.0 notary-signer database "+
			"(reading private_keys with deleted_at, last_used, gun and role failed; upstream mysql migration 0002 missing?): %w", err)
	}
	if err := opts.Source.QueryRowContext(ctx, "SELECT COUNT(*) FROM private_keys").Scan(&total); err != nil {
		return rep, fmt.Errorf("v1import: counting the source's keys: %w", err)
	}
	destReady := true
	if opts.DryRun {
		var n int
		if err := opts.Dest.QueryRowContext(ctx, "SELECT COUNT(*) FROM private_keys WHERE 1 = 0").Scan(&n); err != nil {
			destReady = false // not created yet: it holds nothing
		}
	} else if _, err := openDest(ctx, opts.Dest, opts.DestDialect, nil); err != nil {
		return rep, fmt.Errorf("v1import: preparing the destination: %w", err)
	}

	var after int64
	for {
		rows, err := readRows(ctx, opts.Source, sq, loc, after, batch)
		if err != nil {
			return rep, err
		}
		if len(rows) == 0 {
			break
		}
		after = rows[len(rows)-1].id
		have := map[string]destRow{}
		if destReady {
			if have, err = destRows(ctx, opts.Dest, dq, rows); err != nil {
				return rep, err
			}
		}
		var tx *sql.Tx
		if !opts.DryRun {
			if tx, err = opts.Dest.BeginTx(ctx, nil); err != nil {
				return rep, fmt.Errorf("v1import: writing keys: %w", err)
			}
		}
		for _, r := range rows {
			rep.Source++
			if !r.deletedAt.Valid {
				rep.Live = append(rep.Live, KeyRef{ID: r.keyID, GUN: r.gun, Role: r.role, Alias: r.alias, Algorithm: r.algorithm})
			}
			d, ok := have[r.keyID]
			if !ok {
				if tx != nil {
					if err := insertRow(ctx, tx, dq, r); err != nil {
						tx.Rollback() //nolint:errcheck
						return rep, fmt.Errorf("v1import: writing key %s: %w", r.keyID, err)
					}
				}
				rep.Imported++
				if r.deletedAt.Valid {
					rep.SoftDeleted++
				}
				continue
			}
			if d.algorithm != r.algorithm || !bytes.Equal(d.public, r.public) {
				rep.Conflicts = append(rep.Conflicts, &ConflictError{KeyID: r.keyID,
					Reason: fmt.Sprintf("the destination holds a %s key with another public key under this ID, the source a %s key", d.algorithm, r.algorithm)})
				continue
			}
			rep.Present++
			if r.usedAt.Valid && !d.used {
				if tx != nil {
					if _, err := tx.ExecContext(ctx, dq("UPDATE private_keys SET last_used = ? WHERE key_id = ? AND last_used IS NULL"), r.usedAt.Time, r.keyID); err != nil {
						tx.Rollback() //nolint:errcheck
						return rep, fmt.Errorf("v1import: updating last_used of key %s: %w", r.keyID, err)
					}
				}
				rep.Updated++
			}
			switch {
			case r.deletedAt.Valid && !d.deleted:
				rep.Warnings = append(rep.Warnings, fmt.Sprintf("key %s (%s of %q) was removed upstream after it was imported; it stays usable here", r.keyID, r.role, r.gun))
			case !r.deletedAt.Valid && d.deleted:
				rep.Warnings = append(rep.Warnings, fmt.Sprintf("key %s (%s of %q) is live upstream but removed here; left removed", r.keyID, r.role, r.gun))
			}
		}
		if tx != nil {
			if err := tx.Commit(); err != nil {
				return rep, fmt.Errorf("v1import: writing keys: %w", err)
			}
		}
		progress(Progress{Phase: "keys", Done: rep.Source, Total: total})
	}
	if len(rep.Conflicts) > 0 {
		return rep, fmt.Errorf("v1import: %d key(s) not imported: %w", len(rep.Conflicts), ErrConflict)
	}
	return rep, nil
}

func readRows(ctx context.Context, db *sql.DB, q func(string) string, loc *time.Location, after int64, limit int) ([]srcRow, error) {
	rows, err := db.QueryContext(ctx, q(`SELECT id, created_at, updated_at, deleted_at, key_id, encryption_alg, keywrap_alg, algorithm,
		passphrase_alias, public, private, gun, role, last_used FROM private_keys WHERE id > ? ORDER BY id LIMIT ?`), after, limit)
	if err != nil {
		return nil, fmt.Errorf("v1import: reading the source's keys: %w", err)
	}
	defer rows.Close()
	var out []srcRow
	for rows.Next() {
		var (
			r          srcRow
			c, u, d, l = srcTime{loc: loc}, srcTime{loc: loc}, srcTime{loc: loc}, srcTime{loc: loc}
		)
		if err := rows.Scan(&r.id, &c, &u, &d, &r.keyID, &r.encAlg, &r.wrapAlg, &r.algorithm, &r.alias,
			&r.public, &r.private, &r.gun, &r.role, &l); err != nil {
			return nil, fmt.Errorf("v1import: reading the source's keys: %w", err)
		}
		r.createdAt, r.updatedAt, r.deletedAt, r.usedAt = c.t, u.t, d.t, l.t
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("v1import: reading the source's keys: %w", err)
	}
	return out, nil
}

type destRow struct {
	algorithm     string
	public        []byte
	deleted, used bool
}

func destRows(ctx context.Context, db *sql.DB, q func(string) string, rs []srcRow) (map[string]destRow, error) {
	args := make([]any, len(rs))
	marks := make([]string, len(rs))
	for i, r := range rs {
		args[i], marks[i] = r.keyID, "?"
	}
	rows, err := db.QueryContext(ctx, q(`SELECT key_id, algorithm, public, CASE WHEN deleted_at IS NULL THEN 0 ELSE 1 END,
		CASE WHEN last_used IS NULL THEN 0 ELSE 1 END FROM private_keys WHERE key_id IN (`+strings.Join(marks, ", ")+`)`), args...)
	if err != nil {
		return nil, fmt.Errorf("v1import: reading the destination's keys: %w", err)
	}
	defer rows.Close()
	out := map[string]destRow{}
	for rows.Next() {
		var (
			id            string
			d             destRow
			deleted, used int
		)
		if err := rows.Scan(&id, &d.algorithm, &d.public, &deleted, &used); err != nil {
			return nil, fmt.Errorf("v1import: reading the destination's keys: %w", err)
		}
		d.deleted, d.used = deleted != 0, used != 0
		out[id] = d
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("v1import: reading the destination's keys: %w", err)
	}
	return out, nil
}

func insertRow(ctx context.Context, tx *sql.Tx, q func(string) string, r srcRow) error {
	_, err := tx.ExecContext(ctx, q(`INSERT INTO private_keys (created_at, updated_at, deleted_at, key_id, encryption_alg, keywrap_alg,
		algorithm, passphrase_alias, public, private, gun, role, last_used) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		r.createdAt, r.updatedAt, r.deletedAt, r.keyID, r.encAlg, r.wrapAlg, r.algorithm, r.alias, r.public, r.private, r.gun, r.role, r.usedAt)
	return err
}

// openDest opens keydb on the destination (creating its schema) with
// passphrases pass for reading keys back; nil pass resolves nothing.
func openDest(ctx context.Context, db *sql.DB, d keydb.Dialect, pass keydb.PassphraseFunc) (*keydb.DB, error) {
	return keydb.OpenSQL(ctx, db, d, keydb.Options{
		DefaultAlias: checkAlias,
		CacheSize:    -1,
		Passphrases: func(alias string) (string, error) {
			if alias == checkAlias {
				return "never used to encrypt", nil
			}
			if pass == nil {
				return "", &keydb.MissingPassphraseError{Alias: alias}
			}
			return pass(alias)
		},
	})
}

// A GUNResult is the check of the keys of one GUN ("" for keys created
// without one).
type GUNResult struct {
	GUN  string
	Keys int
	// Failed lists the keys that cannot be used, with the reason.
	Failed []KeyFailure
}

// OK reports whether every key of the GUN can be used.
func (g GUNResult) OK() bool { return len(g.Failed) == 0 }

func (g GUNResult) String() string {
	name := g.GUN
	if name == "" {
		name = "(no GUN)"
	}
	if g.OK() {
		return fmt.Sprintf("%s: ok (%d keys)", name, g.Keys)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: failed: %d of %d keys unusable", name, len(g.Failed), g.Keys)
	for _, f := range g.Failed {
		fmt.Fprintf(&b, "; %s (%s, alias %q): %v", f.KeyID, f.Role, f.Alias, f.Err)
	}
	return b.String()
}

// A KeyFailure is a key that does not decrypt or does not match its ID.
type KeyFailure struct {
	KeyID, Role, Alias string
	Err                error
}

// Check decrypts every key of live in the destination through keydb, with
// the passphrases of pass (nil: keydb.EnvPassphrases(os.LookupEnv), the
// signer's NOTARY_SIGNER_<ALIAS> variables), and returns the results by
// GUN, sorted. The destination's schema must exist (Import made it).
func Check(ctx context.Context, db *sql.DB, d keydb.Dialect, live []KeyRef, pass keydb.PassphraseFunc, progress func(Progress)) ([]GUNResult, error) {
	if pass == nil {
		pass = keydb.EnvPassphrases(lookupEnv)
	}
	kdb, err := openDest(ctx, db, d, pass)
	if err != nil {
		return nil, err
	}
	return check(live, progress, func(k KeyRef) error {
		priv, info, err := kdb.Get(ctx, k.ID)
		if err != nil {
			return err
		}
		return usable(priv, info.Type, k)
	}), nil
}

// CheckSource checks the keys in the source database itself, decrypting
// the rows as keydb would, for a dry run. It never writes.
func CheckSource(ctx context.Context, db *sql.DB, d keydb.Dialect, live []KeyRef, pass keydb.PassphraseFunc, progress func(Progress)) ([]GUNResult, error) {
	if pass == nil {
		pass = keydb.EnvPassphrases(lookupEnv)
	}
	q := func(s string) string { return rebind(d, s) }
	return check(live, progress, func(k KeyRef) error {
		var (
			public, private []byte
			alias, alg      string
		)
		if err := db.QueryRowContext(ctx, q("SELECT algorithm, passphrase_alias, public, private FROM private_keys WHERE key_id = ? AND deleted_at IS NULL"),
			k.ID).Scan(&alg, &alias, &public, &private); err != nil {
			return fmt.Errorf("reading the key: %w", err)
		}
		p, err := pass(alias)
		if err != nil {
			return err
		}
		raw, err := jwe.Open(string(private), p)
		if err != nil {
			return &keydb.DecryptError{KeyID: k.ID, Alias: alias, Err: err}
		}
		defer clear(raw)
		priv, err := keys.FromBytes(alg, raw)
		if err != nil {
			return &keydb.CorruptKeyError{KeyID: k.ID, Reason: err.Error()}
		}
		if !bytes.Equal(priv.Public().Public, public) {
			return &keydb.CorruptKeyError{KeyID: k.ID, Reason: "private key does not match the stored public key"}
		}
		return usable(priv, alg, k)
	}), nil
}

// usable checks a decrypted key is the one its row names and can sign.
func usable(priv *keys.PrivateKey, typ string, k KeyRef) error {
	if priv.ID() != k.ID {
		return &keydb.CorruptKeyError{KeyID: k.ID, Reason: "the key's ID is " + priv.ID()}
	}
	if typ != k.Algorithm {
		return &keydb.CorruptKeyError{KeyID: k.ID, Reason: "key type " + typ + ", the row says " + k.Algorithm}
	}
	return nil
}

func check(live []KeyRef, progress func(Progress), try func(KeyRef) error) []GUNResult {
	byGUN := map[string]*GUNResult{}
	for i, k := range live {
		g := byGUN[k.GUN]
		if g == nil {
			g = &GUNResult{GUN: k.GUN}
			byGUN[k.GUN] = g
		}
		g.Keys++
		if err := try(k); err != nil {
			g.Failed = append(g.Failed, KeyFailure{KeyID: k.ID, Role: k.Role, Alias: k.Alias, Err: err})
		}
		if progress != nil && ((i+1)%100 == 0 || i+1 == len(live)) {
			progress(Progress{Phase: "check", Done: i + 1, Total: len(live)})
		}
	}
	out := make([]GUNResult, 0, len(byGUN))
	for _, g := range byGUN {
		out = append(out, *g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GUN < out[j].GUN })
	return out
}

// rebind turns ? placeholders into $n for PostgreSQL.
func rebind(d keydb.Dialect, q string) string {
	if d != keydb.Postgres {
		return q
	}
	return sqldialect.Dollar(q)
}
