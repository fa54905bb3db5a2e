package update_test

import (
	"testing"

	"github.com/notary-go/notary/tuf"
	"github.com/notary-go/notary/update"
)

// newTwoDelegationFixture is the setting of the hidden-delegation attack:
// targets delegates to targets/releases and then targets/zdev, and both
// list "app", so releases answers for it. The client has updated once.
func newTwoDelegationFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t)
	f.sim.AddTarget("targets/releases", "app", []byte("released app"))
	f.sim.AddDelegation(tuf.RoleTargets, "targets/zdev", "")
	f.sim.AddTarget("targets/zdev", "app", []byte("dev build"))
	f.sim.Publish()
	repo := f.mustUpdate(t)
	if got, err := repo.Lookup("app"); err != nil || got.Role != "targets/releases" {
		t.Fatalf("before the attack Lookup(app) = %+v, %v; want it from targets/releases", got, err)
	}
	return f
}

// TestSnapshotDropsDelegation: a holder of the snapshot key alone (by
// default the server) re-signs a snapshot without targets/releases. The
// update must fail, not fall through to targets/zdev (TUF 5.5.5).
func TestSnapshotDropsDelegation(t *testing.T) {
	tests := []struct {
		role string
		want check
	}{
		{role: "targets/releases", want: func(t *testing.T, err error) {
			if e := asErr[*update.DroppedRoleError](t, err); e.Role != "targets/releases" {
				t.Errorf("DroppedRoleError.Role = %q, want targets/releases", e.Role)
			}
		}},
		// every snapshot must list targets: refused as malformed
		{role: tuf.RoleTargets, want: isErr(tuf.ErrMalformed)},
	}
	for _, tc := range tests {
		t.Run(tc.role, func(t *testing.T) {
			f := newTwoDelegationFixture(t)
			f.sim.Forge(tuf.RoleSnapshot, func(m tuf.Metadata) { delete(m.(*tuf.Snapshot).Meta, tc.role) })
			repo, err := f.update()
			if err == nil {
				got, lerr := repo.Lookup("app")
				t.Fatalf("Update accepted a snapshot without %s; Lookup(app) = %+v, %v", tc.role, got, lerr)
			}
			tc.want(t, err)
			// and the hiding snapshot was not cached: the next run refuses it too
			if _, err := f.update(); err == nil {
				t.Error("the second update accepted the snapshot")
			}
		})
	}
}

// TestSnapshotDropsDeletedDelegation: v1 removes a deleted delegation
// from the snapshot as well; when the parent no longer delegates it, the
// new snapshot is fine and the other delegation answers.
func TestSnapshotDropsDeletedDelegation(t *testing.T) {
	f := newTwoDelegationFixture(t)
	f.sim.Forge(tuf.RoleTargets, func(m tuf.Metadata) {
		d := &m.(*tuf.Targets).Delegations
		for i, r := range d.Roles {
			if r != nil && r.Name == "targets/releases" {
				d.Roles = append(d.Roles[:i], d.Roles[i+1:]...)
				break
			}
		}
	})
	f.sim.Forge(tuf.RoleSnapshot, func(m tuf.Metadata) { delete(m.(*tuf.Snapshot).Meta, "targets/releases") })
	repo := f.mustUpdate(t)
	if got, err := repo.Lookup("app"); err != nil || got.Role != "targets/zdev" {
		t.Errorf("after deleting targets/releases Lookup(app) = %+v, %v; want it from targets/zdev", got, err)
	}
}

// TestSnapshotRollsBackDelegation: a snapshot that points at an older
// copy of a delegation (signed by the delegation's key, so valid on its
// own) is refused by that role's version floor.
func TestSnapshotRollsBackDelegation(t *testing.T) {
	f := newTwoDelegationFixture(t)
	f.sim.Rollback("targets/releases", 1)
	_, err := f.update()
	refusedWith[*tuf.LowVersionError]("targets/releases")(t, err)
}

// TestCheckUnlistedOrder: CheckUnlisted needs the snapshot.
func TestCheckUnlistedOrder(t *testing.T) {
	f := newFixture(t)
	set, err := update.NewTrustedSet(f.sim.Bytes(tuf.RoleRoot), f.sim.Clock.Now(), nil, gun)
	if err != nil {
		t.Fatal(err)
	}
	asErr[*update.OrderError](t, set.CheckUnlisted("targets/releases"))
}
