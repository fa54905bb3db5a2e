package v1import

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/notary-go/notary/storage"
	"github.com/notary-go/notary/storage/sqlstore"
)

// DefaultBatchSize is how many rows are read from the source at a time.
const DefaultBatchSize = 200

// ErrConflict is matched (errors.Is) by every *ConflictError.
var ErrConflict = errors.New("the destination already holds different data")

// A ConflictError is source data that the destination already holds in a
// different form. Table is "tuf_files" (GUN, Role, Version set) or
// "changefeed" (ID set).
type ConflictError struct {
	Table   string
	GUN     string
	Role    string
	Version int64
	ID      int64
	Reason  string
}

func (e *ConflictError) Error() string {
	if e.Table == "changefeed" {
		return fmt.Sprintf("changefeed id %d: %s", e.ID, e.Reason)
	}
	return fmt.Sprintf("%s version %d of %q: %s", e.Role, e.Version, e.GUN, e.Reason)
}

// Unwrap makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Unwrap() error { return ErrConflict }

// Options configure Import.
type Options struct {
	// Source is the upstream v0.7.0 notary-server database; only read.
	Source *Source
	// Dest is the notary-go database, opened with the driver of
	// DestDialect and migrated (sqlstore.Migrate) unless DryRun. It must
	// not be the source database.
	Dest        *sql.DB
	DestDialect sqlstore.Dialect
	// DryRun reads everything and reports what would be imported, but
	// writes nothing. The destination need not exist or be migrated yet.
	DryRun bool
	// BatchSize is how many rows are read at a time; 0 means
	// DefaultBatchSize.
	BatchSize int
	// Progress, if set, is called after every collection and changefeed
	// batch.
	Progress func(Progress)
	// Now gives the time recorded for source rows without one (upstream's
	// created_at columns allow NULL); nil means time.Now.
	Now func() time.Time
}

// Progress reports how far an import or a verification is. Phase is
// "files", "changefeed" or "verify"; Done of Total units (collections, or
// changefeed rows with Total 0 when unknown); Item names the last one.
type Progress struct {
	Phase string
	Done  int
	Total int
	Item  string
}

// Counts tallies rows of one table.
type Counts struct {
	// Source is the number of rows read from the source (live rows only).
	Source int
	// Imported rows were written (in a dry run: would be).
	Imported int
	// Present rows were already in the destination, identical; skipped.
	Present int
	// SoftDeleted counts source rows skipped because GORM soft-deleted
	// them (tuf_files only).
	SoftDeleted int
	// Conflicts counts rows not imported because of a *ConflictError.
	Conflicts int
}

// A GUNReport is the import result of one collection.
type GUNReport struct {
	GUN      string
	Files    int // live files in the source
	Imported int // files written (dry run: would be)
	Present  int // files already in the destination
	// Err says why the collection was not imported (nothing of it was
	// written): a *ConflictError, or an invalid name.
	Err error
	// Warnings are oddities that did not stop the import, e.g. a source
	// sha256 column that does not match the file's bytes.
	Warnings []string
}

// A Report is what Import did (or, in a dry run, would do).
type Report struct {
	DryRun  bool
	GUNs    []GUNReport
	Files   Counts
	Changes Counts
}

// Failed returns the collections that were not imported.
func (r *Report) Failed() []GUNReport {
	var out []GUNReport
	for _, g := range r.GUNs {
		if g.Err != nil {
			out = append(out, g)
		}
	}
	return out
}

// Import copies the live files and the changefeed of the source into the
// destination (see the package documentation). It returns a Report even
// on failure, as far as it got. The error wraps ErrConflict when some
// collections or changefeed rows conflicted (the others were imported),
// and is any other error that stopped the import (a database error;
// collections already committed stay).
func Import(ctx context.Context, opts Options) (*Report, error) {
	if opts.Source == nil {
		return nil, errors.New("v1import: Options.Source is required")
	}
	if opts.Dest == nil {
		return nil, errors.New("v1import: Options.Dest is required")
	}
	batch := opts.BatchSize
	if batch <= 0 {
		batch = DefaultBatchSize
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	progress := opts.Progress
	if progress == nil {
		progress = func(Progress) {}
	}
	src := opts.Source
	dst := &dest{db: opts.Dest, d: opts.DestDialect}
	rep := &Report{DryRun: opts.DryRun}

	if err := src.Check(ctx); err != nil {
		return rep, err
	}
	// The destination's tables: required unless this is a dry run, where a
	// destination not migrated yet simply holds nothing.
	destReady := true
	if err := sqlstore.CheckSchema(ctx, dst.db, dst.d); err != nil {
		if !opts.DryRun {
			if uerr := dst.checkNotUpstream(ctx); uerr != nil {
				return rep, uerr
			}
			return rep, fmt.Errorf("v1import: the destination is not a notary-go database at the current schema: %w", err)
		}
		destReady = false
	}
	if destReady {
		if err := dst.checkNotUpstream(ctx); err != nil {
			return rep, err
		}
	}

	soft, err := src.SoftDeleted(ctx)
	if err != nil {
		return rep, err
	}
	rep.Files.SoftDeleted = soft
	guns, err := src.GUNs(ctx)
	if err != nil {
		return rep, err
	}
	conflicts := 0
	for i, gun := range guns {
		g, err := importGUN(ctx, src, dst, destReady, opts.DryRun, gun, batch, now)
		if err != nil {
			return rep, err
		}
		rep.GUNs = append(rep.GUNs, g)
		rep.Files.Source += g.Files
		if g.Err != nil {
			conflicts++
			rep.Files.Conflicts += g.Files - g.Present
		} else {
			rep.Files.Imported += g.Imported
		}
		rep.Files.Present += g.Present
		progress(Progress{Phase: "files", Done: i + 1, Total: len(guns), Item: gun})
	}

	cerr := importChanges(ctx, src, dst, destReady, opts.DryRun, batch, now, &rep.Changes, progress)
	var ce *ConflictError
	if cerr != nil && !errors.As(cerr, &ce) {
		return rep, cerr
	}
	switch {
	case conflicts > 0 && cerr != nil:
		return rep, fmt.Errorf("v1import: %d collection(s) not imported, and the changefeed stopped at a conflict (%w)", conflicts, cerr)
	case conflicts > 0:
		return rep, fmt.Errorf("v1import: %d collection(s) not imported: %w", conflicts, ErrConflict)
	case cerr != nil:
		return rep, fmt.Errorf("v1import: changefeed import stopped: %w", cerr)
	}
	return rep, nil
}

// importGUN imports one collection in one transaction. A conflict or an
// invalid name is reported in the GUNReport; the error is for failures
// that must stop the whole import.
func importGUN(ctx context.Context, src *Source, dst *dest, destReady, dryRun bool, gun string, batch int, now func() time.Time) (GUNReport, error) {
	g := GUNReport{GUN: gun}
	heads, err := src.fileHeads(ctx, gun)
	if err != nil {
		return g, err
	}
	g.Files = len(heads)
	if !storage.ValidName(gun) {
		g.Err = fmt.Errorf("GUN %q cannot be stored by notary-go (want valid UTF-8 of 1 to %d bytes without NUL)", gun, storage.MaxNameLen)
		return g, nil
	}
	have := map[roleVersion]string{}
	if destReady {
		if have, err = dst.present(ctx, gun); err != nil {
			return g, err
		}
	}
	var need []fileHead
	var unknownSum []fileHead // present in the destination, but the source has no sha256 to compare
	for _, h := range heads {
		if !storage.ValidName(h.role) {
			g.Err = fmt.Errorf("role %q of %q cannot be stored by notary-go", h.role, gun)
			return g, nil
		}
		sum, ok := have[roleVersion{h.role, h.version}]
		switch {
		case !ok:
			need = append(need, h)
		case h.sha256 == "":
			unknownSum = append(unknownSum, h)
		case sum == h.sha256:
			g.Present++
		default:
			g.Err = &ConflictError{Table: "tuf_files", GUN: gun, Role: h.role, Version: h.version,
				Reason: fmt.Sprintf("the destination holds other bytes (sha256 %s, the source %s): it was written to since the last import, "+
					"or the collection was deleted and re-created upstream; delete the collection in the destination and re-run", short(sum), short(h.sha256))}
			return g, nil
		}
	}
	// Rows whose source hash is unknown: compare the actual bytes.
	for start := 0; start < len(unknownSum); start += batch {
		part := unknownSum[start:min(start+batch, len(unknownSum))]
		data, err := src.fileData(ctx, gun, ids(part))
		if err != nil {
			return g, err
		}
		for _, h := range part {
			sum := sha256Hex(data[h.id])
			if have[roleVersion{h.role, h.version}] != sum {
				g.Err = &ConflictError{Table: "tuf_files", GUN: gun, Role: h.role, Version: h.version,
					Reason: "the destination holds other bytes; delete the collection in the destination and re-run"}
				return g, nil
			}
			g.Present++
		}
	}
	if len(need) == 0 {
		return g, nil
	}
	if dryRun {
		g.Imported = len(need)
		return g, nil
	}

	tx, err := dst.db.BeginTx(ctx, nil)
	if err != nil {
		return g, fmt.Errorf("v1import: starting the transaction for %q: %w", gun, err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	for start := 0; start < len(need); start += batch {
		part := need[start:min(start+batch, len(need))]
		data, err := src.fileData(ctx, gun, ids(part))
		if err != nil {
			return g, err
		}
		for _, h := range part {
			b := data[h.id]
			sum := sha256Hex(b)
			if h.sha256 != "" && h.sha256 != sum {
				g.Warnings = append(g.Warnings, fmt.Sprintf("%s version %d: the source's sha256 column (%s) does not match the bytes (%s); stored with the bytes' hash",
					h.role, h.version, short(h.sha256), short(sum)))
			}
			created, updated := h.createdAt, h.updatedAt
			switch {
			case created.IsZero() && updated.IsZero():
				created = now()
				updated = created
			case created.IsZero():
				created = updated
			case updated.IsZero():
				updated = created
			}
			if err := dst.insertFile(ctx, tx, gun, fileRow{role: h.role, version: h.version, data: b, sha256: sum, createdAt: created, updatedAt: updated}); err != nil {
				tx.Rollback() //nolint:errcheck // the statement failed; so does the transaction
				// A row that appeared meanwhile (a notary-go server writing
				// to the destination) is a conflict; anything else stops
				// the import.
				if now, perr := dst.present(ctx, gun); perr == nil {
					if _, ok := now[roleVersion{h.role, h.version}]; ok {
						g.Err = &ConflictError{Table: "tuf_files", GUN: gun, Role: h.role, Version: h.version,
							Reason: "was stored in the destination by someone else during the import; is a notary-go server writing to it?"}
						return g, nil
					}
				}
				return g, fmt.Errorf("v1import: storing %s version %d of %q: %w", h.role, h.version, gun, err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return g, fmt.Errorf("v1import: committing %q: %w", gun, err)
	}
	g.Imported = len(need)
	return g, nil
}

// importChanges copies the changefeed, keeping ids, in batches. It stops
// at the first conflict (returned as a *ConflictError), so the
// destination's feed stays a prefix of the source's.
func importChanges(ctx context.Context, src *Source, dst *dest, destReady, dryRun bool, batch int, now func() time.Time, c *Counts, progress func(Progress)) error {
	var destMax int64
	if destReady {
		var err error
		if destMax, err = dst.maxChangeID(ctx); err != nil {
			return err
		}
	}
	inserted := false
	var after int64
	for {
		rows, err := src.changes(ctx, after, batch)
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			break
		}
		existing := map[int64]change{}
		if destReady {
			if existing, err = dst.changesBetween(ctx, rows[0].id, rows[len(rows)-1].id); err != nil {
				return err
			}
		}
		var todo []change
		var conflict error
		for _, r := range rows {
			c.Source++
			if e, ok := existing[r.id]; ok {
				if e.gun == r.gun && e.version == r.version && e.sha256 == r.sha256 && e.category == r.category {
					c.Present++
					continue
				}
				conflict = &ConflictError{Table: "changefeed", ID: r.id, Reason: fmt.Sprintf(
					"the destination's row (%s %q version %d) differs from the source's (%s %q version %d): it was written to since the last import",
					e.category, e.gun, e.version, r.category, r.gun, r.version)}
			} else if r.id <= destMax {
				conflict = &ConflictError{Table: "changefeed", ID: r.id, Reason: fmt.Sprintf(
					"the destination already has newer changefeed rows (up to id %d), written by notary-go servers since the last import; "+
						"inserting this one would hide it from readers paging by id", destMax)}
			}
			if conflict != nil {
				c.Conflicts++
				break
			}
			todo = append(todo, r)
		}
		if len(todo) > 0 && !dryRun {
			if err := insertChanges(ctx, dst, todo, now()); err != nil {
				return err
			}
			inserted = true
		}
		c.Imported += len(todo)
		after = rows[len(rows)-1].id
		progress(Progress{Phase: "changefeed", Done: c.Source, Item: fmt.Sprint("id ", after)})
		if conflict != nil {
			if inserted {
				if err := dst.syncSequence(ctx); err != nil {
					return err
				}
			}
			return conflict
		}
	}
	if inserted {
		return dst.syncSequence(ctx)
	}
	return nil
}

func insertChanges(ctx context.Context, dst *dest, rows []change, now time.Time) error {
	tx, err := dst.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("v1import: writing the changefeed: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	for _, r := range rows {
		if err := dst.insertChange(ctx, tx, r, now); err != nil {
			return fmt.Errorf("v1import: writing changefeed id %d: %w", r.id, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("v1import: writing the changefeed: %w", err)
	}
	return nil
}

func ids(hs []fileHead) []int64 {
	out := make([]int64, len(hs))
	for i, h := range hs {
		out[i] = h.id
	}
	return out
}

func short(sum string) string {
	if len(sum) > 12 {
		return sum[:12] + "…"
	}
	return sum
}
