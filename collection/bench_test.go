package collection_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/notary-go/notary/changelist"
	"github.com/notary-go/notary/collection"
	"github.com/notary-go/notary/tuf"
)

func benchMetas(b *testing.B, n int) ([]string, []tuf.FileMeta) {
	names := make([]string, n)
	metas := make([]tuf.FileMeta, n)
	for i := range n {
		names[i] = fmt.Sprintf("releases/v%d.%d/app.tar.gz", i/100, i%100)
		metas[i] = meta(b, names[i])
	}
	return names, metas
}

// BenchmarkStageAndSign stages n targets in a changelist, applies it to a
// collection and signs the publish (targets and snapshot, ECDSA P-256):
// the whole client-side cost of "notary add" ×n + "notary publish".
func BenchmarkStageAndSign(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{10, 1000, 10000} {
		b.Run(fmt.Sprintf("targets=%d", n), func(b *testing.B) {
			r := newRepo(b)
			names, metas := benchMetas(b, n)
			now := t0.Add(time.Hour)
			var size int
			for b.Loop() {
				l := changelist.NewMemory()
				for i := range n {
					c, err := changelist.NewTarget("targets", names[i], metas[i])
					if err != nil {
						b.Fatal(err)
					}
					if _, err := l.Add(c); err != nil {
						b.Fatal(err)
					}
				}
				changes, err := l.List()
				if err != nil {
					b.Fatal(err)
				}
				c, err := collection.FromTrusted(r.trusted, r.lookup)
				if err != nil {
					b.Fatal(err)
				}
				if err := c.ApplyChanges(ctx, changes); err != nil {
					b.Fatal(err)
				}
				up, err := c.Sign(ctx, now, collection.SignOptions{})
				if err != nil {
					b.Fatal(err)
				}
				size = len(up["targets"])
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/target")
			b.ReportMetric(float64(size), "targets-bytes")
		})
	}
}

// BenchmarkAddOneToLarge is the common publish on a big repository: load
// it, add one target, sign.
func BenchmarkAddOneToLarge(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{10, 1000, 10000} {
		b.Run(fmt.Sprintf("targets=%d", n), func(b *testing.B) {
			r := newRepo(b)
			names, metas := benchMetas(b, n)
			c, err := collection.FromTrusted(r.trusted, r.lookup)
			if err != nil {
				b.Fatal(err)
			}
			files := make(map[string]tuf.FileMeta, n)
			for i := range n {
				files[names[i]] = metas[i]
			}
			if err := c.AddTargets(ctx, "targets", files); err != nil {
				b.Fatal(err)
			}
			up, err := c.Sign(ctx, t0.Add(time.Hour), collection.SignOptions{})
			if err != nil {
				b.Fatal(err)
			}
			for role, f := range up {
				r.trusted = mergeFile(b, r.trusted, role, f)
			}
			m := meta(b, "one more")
			for b.Loop() {
				c, err := collection.FromTrusted(r.trusted, r.lookup)
				if err != nil {
					b.Fatal(err)
				}
				if err := c.AddTarget(ctx, "targets", "one-more", m); err != nil {
					b.Fatal(err)
				}
				if _, err := c.Sign(ctx, t0.Add(2*time.Hour), collection.SignOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func mergeFile(b *testing.B, tr collection.Trusted, role string, f []byte) collection.Trusted {
	b.Helper()
	one := trustedFromFiles(b, map[string][]byte{role: f})
	switch role {
	case "root":
		tr.Root, tr.RootFile = one.Root, one.RootFile
	case "snapshot":
		tr.Snapshot, tr.SnapshotFile = one.Snapshot, one.SnapshotFile
	default:
		tr.Targets[role] = one.Targets[role]
	}
	return tr
}
