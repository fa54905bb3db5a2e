package keydb

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
)

// AliasError says the keys stored under Alias cannot be decrypted by this
// process: its passphrase (environment variable EnvVar) is missing or
// wrong. Err is the cause: a *MissingPassphraseError, or a *DecryptError
// matching keystore.ErrBadPassphrase.
type AliasError struct {
	Alias  string
	EnvVar string
	Err    error
}

func (e *AliasError) Error() string {
	return fmt.Sprintf("keydb: keys under passphrase alias %q cannot be decrypted: set %s to its passphrase: %v", e.Alias, e.EnvVar, e.Err)
}

func (e *AliasError) Unwrap() error { return e.Err }

// aliasSampler is implemented by every store: one live row key ID per
// passphrase alias in use, for CheckAliases.
type aliasSampler interface {
	aliasSamples(ctx context.Context) (map[string]string, error)
}

// CheckAliases decrypts one live key of every passphrase alias in use, so
// that a signer missing (or holding a wrong) passphrase says so at start
// instead of starting healthy and failing every Sign with that alias's
// keys (issue 19 bug 4). It returns one *AliasError per alias that fails
// (joined), or another error when the store does not answer.
func (d *DB) CheckAliases(ctx context.Context) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	samples, err := d.st.(aliasSampler).aliasSamples(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, alias := range slices.Sorted(maps.Keys(samples)) {
		r, err := d.st.get(ctx, samples[alias])
		if err != nil {
			return err // removed meanwhile, or the store failed: not an alias problem
		}
		if _, err := d.decrypt(r); err != nil {
			var mp *MissingPassphraseError
			var de *DecryptError
			if errors.As(err, &mp) || errors.As(err, &de) {
				errs = append(errs, &AliasError{Alias: alias, EnvVar: EnvVar(alias), Err: err})
				continue
			}
			return err
		}
	}
	return errors.Join(errs...)
}

func (s *sqlStore) aliasSamples(ctx context.Context) (map[string]string, error) {
	rows, err := s.db.QueryContext(ctx,
		"SELECT passphrase_alias, MIN(key_id) FROM private_keys WHERE deleted_at IS NULL GROUP BY passphrase_alias")
	if err != nil {
		return nil, fmt.Errorf("keydb: listing passphrase aliases: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var alias, id string
		if err := rows.Scan(&alias, &id); err != nil {
			return nil, fmt.Errorf("keydb: listing passphrase aliases: %w", err)
		}
		out[alias] = id
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("keydb: listing passphrase aliases: %w", err)
	}
	return out, nil
}

func (m *memStore) aliasSamples(context.Context) (map[string]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]string{}
	for id, r := range m.rows {
		if r.deletedAt == nil {
			if cur, ok := out[r.Alias]; !ok || id < cur {
				out[r.Alias] = id
			}
		}
	}
	return out, nil
}
