package changelist_test

import (
	"fmt"
	"testing"

	"github.com/notary-go/notary/changelist"
)

// BenchmarkFileListAdd stages one target on disk ("notary add"): encode,
// write a temporary file, fsync, rename.
func BenchmarkFileListAdd(b *testing.B) {
	l, err := changelist.OpenDir(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	c := targetChange(b, "targets", "releases/v1.0/app.tar.gz")
	for b.Loop() {
		if _, err := l.Add(c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFileListList reads a staged changelist of n changes ("notary
// publish", "notary status").
func BenchmarkFileListList(b *testing.B) {
	for _, n := range []int{10, 1000} {
		b.Run(fmt.Sprintf("changes=%d", n), func(b *testing.B) {
			l, err := changelist.OpenDir(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			for i := range n {
				if _, err := l.Add(targetChange(b, "targets", fmt.Sprint(i))); err != nil {
					b.Fatal(err)
				}
			}
			for b.Loop() {
				cs, err := l.List()
				if err != nil || len(cs) != n {
					b.Fatal(len(cs), err)
				}
			}
		})
	}
}

// BenchmarkFileListAddBatch stages 10,000 targets in one batch ("notary
// addhash --from-file"); compare with 10,000 × BenchmarkFileListAdd.
func BenchmarkFileListAddBatch(b *testing.B) {
	const n = 10000
	batch := make([]changelist.Change, n)
	for i := range batch {
		batch[i] = targetChange(b, "targets", fmt.Sprintf("releases/%d/app.tar.gz", i))
	}
	for b.Loop() {
		b.StopTimer()
		l, err := changelist.OpenDir(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := l.AddBatch(batch); err != nil {
			b.Fatal(err)
		}
	}
}
