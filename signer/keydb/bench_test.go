package keydb

import (
	"context"
	"testing"

	"github.com/notary-go/notary/keys"
)

// BenchmarkGet shows what the cache saves: an uncached Get runs PBKDF2
// (8192 iterations) to decrypt the row.
func BenchmarkGet(b *testing.B) {
	for _, bc := range []struct {
		name      string
		cacheSize int
	}{{name: "cached", cacheSize: 0}, {name: "uncached", cacheSize: -1}} {
		b.Run(bc.name, func(b *testing.B) {
			opts := defaultTestOpts
			opts.CacheSize = bc.cacheSize
			d, err := NewMemory(opts)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			pub, err := d.Create(ctx, "timestamp", "gun", keys.ECDSA)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, _, err := d.Get(ctx, pub.ID()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
