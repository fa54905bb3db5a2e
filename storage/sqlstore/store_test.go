package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/notary-go/notary/storage"
	"github.com/notary-go/notary/storage/sqlstore"
)

// TestLockTimeout: a writer that cannot get a GUN's lock in time gives up
// with a *LockTimeoutError and writes nothing; writers of other GUNs are
// not held up (except on SQLite, where one writer holds the whole file).
func TestLockTimeout(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		ctx := t.Context()
		db, d, dsn := freshDB(t, backend)
		holder, err := sqlstore.Open(ctx, db, d, sqlstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		db2, _ := openDB(t, backend, dsn)
		waiter, err := sqlstore.Open(ctx, db2, d, sqlstore.Options{LockTimeout: 300 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		const gun = "example.com/app"
		up := []storage.MetaUpdate{{Role: "timestamp", Version: 1, Data: []byte("x")}}

		held, release := make(chan struct{}), make(chan struct{})
		done := make(chan error)
		go func() {
			done <- sqlstore.HoldWriteLock(ctx, holder, gun, func() { close(held); <-release })
		}()
		<-held
		start := time.Now()
		err = waiter.UpdateMany(ctx, gun, up)
		var lt *sqlstore.LockTimeoutError
		if !errors.As(err, &lt) {
			t.Errorf("UpdateMany while the lock is held = %v, want a *LockTimeoutError", err)
		} else if waited := time.Since(start); waited > 10*time.Second {
			t.Errorf("UpdateMany gave up after %v, want about 300ms (1s on MySQL)", waited)
		}
		if d != sqlstore.SQLite {
			other := "example.com/other"
			if err := waiter.UpdateMany(ctx, other, up); err != nil {
				t.Errorf("UpdateMany(%s) while %s is locked = %v, want nil", other, gun, err)
			}
		}
		close(release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if err := waiter.UpdateMany(ctx, gun, up); err != nil {
			t.Errorf("UpdateMany after the lock was released = %v, want nil", err)
		}
	})
}

// TestUniqueViolationIsRecognised: should a duplicate row ever reach the
// database, each driver's error must be recognised (and UpdateMany would
// report ErrOldVersion).
func TestUniqueViolationIsRecognised(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		ctx := t.Context()
		db, d, _ := freshDB(t, backend)
		if err := sqlstore.Migrate(ctx, db, d); err != nil {
			t.Fatal(err)
		}
		insert := "INSERT INTO tuf_files (created_at, updated_at, gun, role, version, data, sha256) VALUES (CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 'g', 'r', 1, %s, 'x')"
		data := "'x'"
		if _, err := db.ExecContext(ctx, fmt.Sprintf(insert, data)); err != nil {
			t.Fatal(err)
		}
		_, err := db.ExecContext(ctx, fmt.Sprintf(insert, data))
		if err == nil || !sqlstore.IsUniqueViolation(d, err) {
			t.Errorf("duplicate insert: error %v (%T) not recognised as a unique violation", err, err)
		}
		_, err = db.ExecContext(ctx, fmt.Sprintf(insert, "NULL"))
		if err == nil || sqlstore.IsUniqueViolation(d, err) {
			t.Errorf("NOT NULL violation: error %v recognised as a unique violation", err)
		}
	})
	t.Run("MySQLErrorNumbers", func(t *testing.T) {
		for num, want := range map[uint16]bool{1062: true, 1022: true, 1048: false, 1213: false} {
			err := fmt.Errorf("wrapped: %w", &mysql.MySQLError{Number: num, SQLState: [5]byte{'2', '3', '0', '0', '0'}, Message: "m"})
			if got := sqlstore.IsUniqueViolation(sqlstore.MySQL, err); got != want {
				t.Errorf("IsUniqueViolation(MySQL error %d) = %v, want %v", num, got, want)
			}
		}
	})
}

// TestTimesRoundTrip: the injected clock's instant comes back in UTC at
// microsecond precision from every engine, whatever zone it was in.
func TestTimesRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 24, 20, 4, 22, 532493622, time.FixedZone("UTC-7", -7*3600))
	want := at.UTC().Truncate(time.Microsecond)
	forEachBackend(t, func(t *testing.T, backend string) {
		ctx := t.Context()
		s := openStore(t, backend, sqlstore.Options{Now: func() time.Time { return at }})
		if err := s.UpdateMany(ctx, "g", []storage.MetaUpdate{{Role: "timestamp", Version: 1, Data: []byte("x")}}); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetCurrent(ctx, "g", "timestamp")
		if err != nil {
			t.Fatal(err)
		}
		for name, ts := range map[string]time.Time{"CreatedAt": got.CreatedAt, "UpdatedAt": got.UpdatedAt} {
			if !ts.Equal(want) || ts.Location() != time.UTC {
				t.Errorf("%s = %v, want %v", name, ts, want)
			}
		}
		cs, err := s.GetChanges(ctx, "0", 10, "")
		if err != nil || len(cs) != 1 || !cs[0].CreatedAt.Equal(want) || cs[0].CreatedAt.Location() != time.UTC {
			t.Errorf("GetChanges = %+v, %v; want one row created at %v", cs, err, want)
		}
	})
}

// TestPingFailsWhenClosed: the health check reports a dead database.
func TestPingFailsWhenClosed(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		s := openStore(t, backend, sqlstore.Options{})
		if err := s.Ping(t.Context()); err != nil {
			t.Fatalf("Ping = %v", err)
		}
		s.Close()
		if err := s.Ping(context.Background()); err == nil {
			t.Error("Ping after Close = nil, want an error")
		}
	})
}

// TestVersionCheckManyRoles: the version check of an update reads the
// stored versions of many roles in batches (maxVersionsPerQuery at a
// time); a stale role anywhere in the list is refused and nothing is
// stored.
func TestVersionCheckManyRoles(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		ctx := t.Context()
		s := openStore(t, backend, sqlstore.Options{})
		const gun, n = "example.com/many", 37
		var first []storage.MetaUpdate
		for i := range n {
			first = append(first, storage.MetaUpdate{Role: fmt.Sprintf("targets/d%02d", i), Version: int64(i + 1), Data: []byte{byte(i)}})
		}
		if err := s.UpdateMany(ctx, gun, first); err != nil {
			t.Fatal(err)
		}
		for _, stale := range []int{0, 15, 16, 17, 33, n - 1} {
			next := make([]storage.MetaUpdate, n)
			for i, u := range first {
				next[i] = storage.MetaUpdate{Role: u.Role, Version: u.Version + 1, Data: []byte("next")}
			}
			next[stale].Version = first[stale].Version // already stored
			err := s.UpdateMany(ctx, gun, next)
			var ove *storage.OldVersionError
			if !errors.As(err, &ove) || ove.Role != next[stale].Role {
				t.Errorf("update with %s stale = %v, want an OldVersionError for it", next[stale].Role, err)
			}
		}
		got, err := s.GetCurrent(ctx, gun, "targets/d20")
		if err != nil || got.Version != 21 {
			t.Errorf("GetCurrent after refused updates = %+v, %v; want version 21", got, err)
		}
	})
}

// TestSQLiteWritersOfOneStoreQueue: writers of one Store wait for each
// other in process (not by polling the file lock), still bounded by the
// lock timeout.
func TestSQLiteWritersOfOneStoreQueue(t *testing.T) {
	ctx := t.Context()
	s := openStore(t, "sqlite3", sqlstore.Options{LockTimeout: 200 * time.Millisecond})
	up := []storage.MetaUpdate{{Role: "timestamp", Version: 1, Data: []byte("x")}}
	held, release := make(chan struct{}), make(chan struct{})
	done := make(chan error)
	go func() {
		done <- sqlstore.HoldWriteLock(ctx, s, "a", func() { close(held); <-release })
	}()
	<-held
	err := s.UpdateMany(ctx, "b", up)
	var lt *sqlstore.LockTimeoutError
	if !errors.As(err, &lt) {
		t.Errorf("UpdateMany while another writer of the Store holds the lock = %v, want a *LockTimeoutError", err)
	}
	go func() { time.Sleep(50 * time.Millisecond); close(release) }()
	if err := s.UpdateMany(ctx, "b", up); err != nil {
		t.Errorf("UpdateMany waiting for a writer that finishes in time = %v, want nil", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
