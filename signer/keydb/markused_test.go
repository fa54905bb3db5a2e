package keydb

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notary-go/notary/keys"
)

// countingStore counts the last_used writes that reach storage.
type countingStore struct {
	store
	marks atomic.Int32
}

func (c *countingStore) markUsed(ctx context.Context, id string, now time.Time) error {
	c.marks.Add(1)
	return c.store.markUsed(ctx, id, now)
}

func TestMarkUsedWritesAtMostOncePerInterval(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	st := &countingStore{store: newMemStore()}
	d, err := newDB(st, Options{DefaultAlias: "a", Passphrases: ConstantPassphrase("pass"), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := d.Create(ctx, "timestamp", "example.com/app", keys.ECDSA)
	if err != nil {
		t.Fatal(err)
	}
	id := pub.ID()
	steps := []struct {
		advance time.Duration
		want    int32
	}{
		{0, 1},           // first use always written: it ends the pending state
		{time.Second, 1}, // within the interval: nothing written
		{usedInterval - 2*time.Second, 1},
		{2 * time.Second, 2}, // interval passed: refreshed
		{-time.Hour, 3},      // clock stepped back: written again
	}
	for i, s := range steps {
		now = now.Add(s.advance)
		if err := d.MarkUsed(ctx, id); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if got := st.marks.Load(); got != s.want {
			t.Fatalf("step %d: %d writes, want %d", i, got, s.want)
		}
	}
	// A removed and re-added key is pending again: its first use is written.
	key, info, err := d.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Remove(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := d.Add(ctx, info, key); err != nil {
		t.Fatal(err)
	}
	if err := d.MarkUsed(ctx, id); err != nil {
		t.Fatal(err)
	}
	if got := st.marks.Load(); got != 4 {
		t.Fatalf("after re-add: %d writes, want 4", got)
	}
}
