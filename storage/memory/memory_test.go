package memory_test

import (
	"testing"
	"time"

	"github.com/notary-go/notary/storage"
	"github.com/notary-go/notary/storage/memory"
	"github.com/notary-go/notary/storage/storagetest"
)

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(*testing.T) storage.MetaStore { return memory.New() })
}

func BenchmarkStore(b *testing.B) {
	storagetest.Bench(b, func(*testing.B) storage.MetaStore { return memory.New() })
}

func TestClockIsInjectable(t *testing.T) {
	at := time.Date(2026, 11, 24, 20, 4, 22, 532493622, time.FixedZone("CET", 3600))
	s := memory.NewWithOptions(memory.Options{Now: func() time.Time { return at }})
	if err := s.UpdateMany(t.Context(), "g", []storage.MetaUpdate{{Role: "timestamp", Version: 1, Data: []byte("x")}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetCurrent(t.Context(), "g", "timestamp")
	if err != nil {
		t.Fatal(err)
	}
	want := at.UTC().Truncate(time.Microsecond)
	if !got.CreatedAt.Equal(want) || got.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt = %v, want %v", got.CreatedAt, want)
	}
	cs, err := s.GetChanges(t.Context(), "", 10, "")
	if err != nil || len(cs) != 1 || !cs[0].CreatedAt.Equal(want) {
		t.Errorf("GetChanges = %+v, %v; want one row created at %v", cs, err, want)
	}
}
