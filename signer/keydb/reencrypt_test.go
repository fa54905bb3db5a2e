package keydb

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/keystore"
	"github.com/notary-go/notary/signer/keydb/internal/jwe"
)

var bothAliases = map[string]string{"old": "old passphrase", "new": "new passphrase"}

// TestReencrypt rotates every row, removed ones included, to a new alias
// in several batches, after which the old passphrase is not needed.
func TestReencrypt(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(*testing.T, Options) *DB) {
		ctx := context.Background()
		d := open(t, Options{DefaultAlias: "old", Passphrases: testPass(bothAliases)})
		d.batch = 3
		var ids []string
		for i := range 8 {
			pub, err := d.Create(ctx, "timestamp", "gun/"+string(rune('a'+i)), keys.ED25519)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, pub.ID())
		}
		if err := d.Remove(ctx, ids[7]); err != nil {
			t.Fatal(err)
		}
		n, err := d.Reencrypt(ctx, "new")
		if err != nil {
			t.Fatal(err)
		}
		if n != 8 {
			t.Errorf("Reencrypt rewrote %d rows, want 8 (removed rows included)", n)
		}
		if n, err := d.Reencrypt(ctx, "new"); err != nil || n != 0 {
			t.Errorf("second Reencrypt = %d, %v; want 0, nil", n, err)
		}
		for _, id := range ids {
			r := readRaw(t, d, id)
			if r.Alias != "new" {
				t.Errorf("row %s alias = %q, want new", id, r.Alias)
			}
			if _, err := jwe.Open(string(r.Private), "new passphrase"); err != nil {
				t.Errorf("row %s does not open with the new passphrase: %v", id, err)
			}
		}
		newOnly := open(t, Options{DefaultAlias: "new", Passphrases: testPass(map[string]string{"new": "new passphrase"})})
		for _, id := range ids[:7] {
			if _, _, err := newOnly.Get(ctx, id); err != nil {
				t.Errorf("Get %s with only the new passphrase: %v", id, err)
			}
		}
	})
}

func TestReencryptNeedsPassphrases(t *testing.T) {
	ctx := context.Background()
	st := newMemStore()
	d, _ := newDB(st, Options{DefaultAlias: "old", Passphrases: testPass(bothAliases)})
	if _, err := d.Create(ctx, "timestamp", "gun", keys.ED25519); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Reencrypt(ctx, "unknown"); !errors.Is(err, keystore.ErrPassphraseGiveUp) {
		t.Errorf("Reencrypt to an alias without passphrase: err = %v, want ErrPassphraseGiveUp", err)
	}
	if _, err := d.Reencrypt(ctx, ""); err == nil {
		t.Error("Reencrypt to an empty alias succeeded")
	}
	newOnly, _ := newDB(st, Options{DefaultAlias: "new", Passphrases: testPass(map[string]string{"new": "x"})})
	n, err := newOnly.Reencrypt(ctx, "new")
	if !errors.Is(err, keystore.ErrPassphraseGiveUp) || n != 0 {
		t.Errorf("Reencrypt without the old passphrase = %d, %v; want 0 and ErrPassphraseGiveUp", n, err)
	}
}

// TestReencryptWhileInUse rotates while other instances (no cache) read,
// create and sign, and while a second rotation runs: nobody sees an error
// and every row ends under the new alias.
func TestReencryptWhileInUse(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(*testing.T, Options) *DB) {
		ctx := context.Background()
		opts := Options{DefaultAlias: "old", Passphrases: testPass(bothAliases)}
		d := open(t, opts)
		var ids []string
		for i := range 8 {
			pub, err := d.Create(ctx, "snapshot", "gun/"+string(rune('a'+i)), keys.ECDSA)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, pub.ID())
		}
		readerOpts := opts
		readerOpts.CacheSize = -1
		reader := open(t, readerOpts)

		var stop atomic.Bool
		var wg sync.WaitGroup
		var reads atomic.Int64
		errs := make(chan error, 100)
		for w := range 3 {
			wg.Go(func() {
				for i := 0; !stop.Load(); i++ {
					id := ids[(i+w)%len(ids)]
					k, _, err := reader.Get(ctx, id)
					if err != nil {
						errs <- err
						return
					}
					if _, err := k.Sign([]byte("m")); err != nil {
						errs <- err
						return
					}
					reads.Add(1)
					time.Sleep(2 * time.Millisecond) // leave CPU to the rotators
				}
			})
		}
		rotators := []*DB{open(t, opts), open(t, opts)}
		for _, r := range rotators {
			r.batch = 2
		}
		var total atomic.Int64
		var rwg sync.WaitGroup
		for _, r := range rotators {
			rwg.Go(func() {
				n, err := r.Reencrypt(ctx, "new")
				if err != nil {
					errs <- err
				}
				total.Add(int64(n))
			})
		}
		rwg.Wait()
		deadline := time.Now().Add(2 * time.Second)
		for reads.Load() < 10 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		stop.Store(true)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("during rotation: %v", err)
		}
		if total.Load() != int64(len(ids)) {
			t.Errorf("rotations rewrote %d rows in total, want %d", total.Load(), len(ids))
		}
		for _, id := range ids {
			if r := readRaw(t, d, id); r.Alias != "new" {
				t.Errorf("row %s still under alias %q", id, r.Alias)
			}
		}
	})
}
