package keydb

import (
	"context"
	"fmt"

	"github.com/notary-go/notary/signer/keydb/internal/jwe"
)

// maxRotationPasses bounds how often Reencrypt rescans for rows that other
// writers changed under it.
const maxRotationPasses = 5

// IncompleteRotationError says Reencrypt stopped with rows still under
// other aliases because concurrent writers kept changing them; run it again.
type IncompleteRotationError struct {
	Alias     string
	Remaining int
}

func (e *IncompleteRotationError) Error() string {
	return fmt.Sprintf("keydb: re-encryption to alias %q incomplete: %d rows changed concurrently, run it again", e.Alias, e.Remaining)
}

// Reencrypt re-encrypts every row not already under newAlias, removed rows
// included, with newAlias's passphrase, and returns how many rows it
// rewrote. It works in batches of rows, each written in one transaction,
// while the database stays in use: every row records its own alias, so
// readers decrypt old and new rows alike as long as the passphrases of
// both aliases stay available (v1 reads NOTARY_SIGNER_<ALIAS> per row).
//
// To retire an alias: give every signer the new passphrase and make
// newAlias their DefaultAlias, run Reencrypt once, then drop the old
// passphrase. A row that cannot be decrypted stops the run with its error
// (rows rewritten so far stay rewritten, and a rerun continues).
// Concurrent Reencrypt calls are safe.
func (d *DB) Reencrypt(ctx context.Context, newAlias string) (int, error) {
	if err := ctxErr(ctx); err != nil {
		return 0, err
	}
	if err := checkAlias(newAlias); err != nil {
		return 0, fmt.Errorf("keydb: new alias: %w", err)
	}
	newPass, err := d.pass(newAlias)
	if err != nil {
		return 0, err
	}
	total := 0
	for pass := 0; pass < maxRotationPasses; pass++ {
		n, skipped, err := d.reencryptPass(ctx, newAlias, newPass)
		total += n
		if err != nil || skipped == 0 {
			return total, err
		}
	}
	rest, err := d.st.scanForRotation(ctx, newAlias, 0, d.batch)
	if err != nil {
		return total, err
	}
	if len(rest) == 0 {
		return total, nil
	}
	return total, &IncompleteRotationError{Alias: newAlias, Remaining: len(rest)}
}

// reencryptPass walks the rows once in id order and returns how many it
// rewrote and how many it skipped because they changed meanwhile.
func (d *DB) reencryptPass(ctx context.Context, newAlias, newPass string) (done, skipped int, err error) {
	var after int64
	for {
		rows, err := d.st.scanForRotation(ctx, newAlias, after, d.batch)
		if err != nil || len(rows) == 0 {
			return done, skipped, err
		}
		rots := make([]rotation, 0, len(rows))
		for _, r := range rows {
			after = r.seq
			rot, err := d.reseal(r, newAlias, newPass)
			if err != nil {
				return done, skipped, err
			}
			rots = append(rots, rot)
		}
		n, err := d.st.rotate(ctx, rots, d.now().UTC())
		if err != nil {
			return done, skipped, err
		}
		done += n
		skipped += len(rots) - n
	}
}

func (d *DB) reseal(r row, newAlias, newPass string) (rotation, error) {
	raw, err := d.open(r)
	if err != nil {
		return rotation{}, err
	}
	defer clear(raw)
	token, err := jwe.Seal(raw, newPass)
	if err != nil {
		return rotation{}, fmt.Errorf("keydb: encrypting key %s: %w", r.KeyID, err)
	}
	return rotation{seq: r.seq, keyID: r.KeyID, oldAlias: r.Alias, newPrivate: []byte(token), newAlias: newAlias}, nil
}
