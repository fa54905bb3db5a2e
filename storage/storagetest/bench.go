package storagetest

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/notary-go/notary/storage"
)

// Typical file sizes of a small repository, in bytes.
const (
	rootSize      = 2500
	targetsSize   = 4000
	snapshotSize  = 700
	timestampSize = 450
)

// Bench runs the storage.MetaStore benchmarks as sub-benchmarks. open is
// called once per sub-benchmark and must return a new, empty store.
//
// Sub-benchmarks: GetCurrent, GetCurrentParallel, GetVersion, GetChecksum
// (against a GUN with 100 timestamp versions), UpdateMany/1role (one
// timestamp, what every read-triggered regeneration costs) and
// UpdateMany/4roles (a publish), GetChanges/forward100 and
// GetChanges/latest100 (against a 1000-row feed).
func Bench(b *testing.B, open func(b *testing.B) storage.MetaStore) {
	ctx := context.Background()
	const gun = "example.com/bench/app"

	b.Run("GetCurrent", func(b *testing.B) {
		s := open(b)
		fillRepo(b, s, gun, 100)
		b.SetBytes(timestampSize)
		for b.Loop() {
			if _, err := s.GetCurrent(ctx, gun, "timestamp"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("GetCurrentParallel", func(b *testing.B) {
		s := open(b)
		fillRepo(b, s, gun, 100)
		b.SetBytes(timestampSize)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := s.GetCurrent(ctx, gun, "timestamp"); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("GetVersion", func(b *testing.B) {
		s := open(b)
		fillRepo(b, s, gun, 100)
		b.SetBytes(timestampSize)
		for b.Loop() {
			if _, err := s.GetVersion(ctx, gun, "timestamp", 50); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("GetChecksum", func(b *testing.B) {
		s := open(b)
		sum := fillRepo(b, s, gun, 100)
		b.SetBytes(snapshotSize)
		for b.Loop() {
			if _, err := s.GetChecksum(ctx, gun, "snapshot", sum); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("UpdateMany", func(b *testing.B) {
		for _, tc := range []struct {
			name  string
			roles map[string]int
		}{
			{"1role", map[string]int{"timestamp": timestampSize}},
			{"4roles", map[string]int{"root": rootSize, "targets": targetsSize, "snapshot": snapshotSize, "timestamp": timestampSize}},
		} {
			b.Run(tc.name, func(b *testing.B) {
				s := open(b)
				total := 0
				for _, n := range tc.roles {
					total += n
				}
				b.SetBytes(int64(total))
				v := int64(0)
				for b.Loop() {
					v++
					ups := make([]storage.MetaUpdate, 0, len(tc.roles))
					for role, n := range tc.roles {
						ups = append(ups, storage.MetaUpdate{Role: role, Version: v, Data: sized(role, v, n)})
					}
					if err := s.UpdateMany(ctx, gun, ups); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	})
	b.Run("GetChanges", func(b *testing.B) {
		s := open(b)
		for i := range 1000 {
			g := fmt.Sprintf("%s%d", gun, i%10)
			mustUpdate(b, s, g, storage.MetaUpdate{Role: "timestamp", Version: int64(i + 1), Data: sized("timestamp", int64(i), 64)})
		}
		for _, tc := range []struct {
			name     string
			changeID string
			records  int
		}{
			{"forward100", "0", 100},
			{"latest100", "-1", -100},
		} {
			b.Run(tc.name, func(b *testing.B) {
				for b.Loop() {
					cs, err := s.GetChanges(ctx, tc.changeID, tc.records, "")
					if err != nil || len(cs) != 100 {
						b.Fatalf("GetChanges = %d rows, %v; want 100", len(cs), err)
					}
				}
			})
		}
	})
}

// fillRepo stores a repository with versions 1..n of every role and
// returns the SHA-256 of the current snapshot.
func fillRepo(b *testing.B, s storage.MetaStore, gun string, n int64) string {
	b.Helper()
	var sum string
	for v := int64(1); v <= n; v++ {
		snap := sized("snapshot", v, snapshotSize)
		ups := []storage.MetaUpdate{
			{Role: "snapshot", Version: v, Data: snap},
			{Role: "timestamp", Version: v, Data: sized("timestamp", v, timestampSize)},
		}
		if v == 1 || v == n {
			ups = append(ups,
				storage.MetaUpdate{Role: "root", Version: v, Data: sized("root", v, rootSize)},
				storage.MetaUpdate{Role: "targets", Version: v, Data: sized("targets", v, targetsSize)})
		}
		mustUpdate(b, s, gun, ups...)
		sum = storage.SHA256Hex(snap)
	}
	return sum
}

// sized returns n bytes of JSON-looking data unique to (role, version).
func sized(role string, version int64, n int) []byte {
	head := fmt.Appendf(nil, `{"signed":{"_type":%q,"version":%d,"pad":"`, role, version)
	if pad := n - len(head) - 4; pad > 0 {
		head = append(head, bytes.Repeat([]byte{'x'}, pad)...)
	}
	return append(head, `"}}`...)
}
