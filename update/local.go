package update

import (
	"errors"
	"fmt"
	"time"

	"github.com/notary-go/notary/tuf"
)

// Local is what a publisher's cache holds for a collection the server
// does not have yet, as VerifyLocal found it.
type Local struct {
	Root     *tuf.Root
	RootFile []byte
	// Targets holds "targets" and every delegation that verified, and
	// Files their bytes, by role; Order lists them parents first.
	Targets map[string]*tuf.Targets
	Files   map[string][]byte
	Order   []string
	// Snapshot is nil when none is cached or it did not verify.
	Snapshot     *tuf.Snapshot
	SnapshotFile []byte
	// Warnings say which cached delegations or snapshot were left out,
	// and why (each a *RoleError with Cached set).
	Warnings []error
}

// VerifyLocal checks the files a previous Initialize (or an old client)
// left in cache for gun, for a first publish (docs/protocol.md §4.9 step
// 1, v1 bootstrapRepo): the root as a trusted root (NewTrustedSetFromCache
// at now); targets signed by root's targets keys meeting the threshold;
// then, parents first, every cached delegation signed by the keys its
// parent lists; and the snapshot signed by root's snapshot keys. Expiry
// and the hash chain are not checked: these are the publisher's own
// files, about to be re-signed and published. A root or targets that is
// missing wraps ErrNoTrustData; one that does not verify is a *RoleError.
// A delegation or snapshot that does not verify is left out, with a
// warning.
func VerifyLocal(cache Cache, gun string, now time.Time) (*Local, error) {
	rootData, err := loadRequired(cache, tuf.RoleRoot)
	if err != nil {
		return nil, err
	}
	set, err := NewTrustedSetFromCache(rootData, now, nil, gun)
	if err != nil {
		return nil, &RoleError{Role: tuf.RoleRoot, Cached: true, Err: err}
	}
	root := set.Root()
	trk, err := root.RoleKeys(tuf.RoleTargets)
	if err != nil {
		return nil, &RoleError{Role: tuf.RoleRoot, Cached: true, Err: err}
	}
	l := &Local{Root: root, RootFile: rootData, Targets: map[string]*tuf.Targets{}, Files: map[string][]byte{}}
	top := tuf.Delegation{RoleKeys: trk, Paths: []string{""}}
	targetsData, err := loadRequired(cache, tuf.RoleTargets)
	if err != nil {
		return nil, err
	}
	targets, err := verifySigned(top, targetsData)
	if err != nil {
		return nil, &RoleError{Role: tuf.RoleTargets, Cached: true, Err: err}
	}
	l.add(tuf.RoleTargets, targets, targetsData)
	l.loadDelegations(cache, targets.Children(top))
	l.loadSnapshot(cache, root)
	return l, nil
}

// loadRequired loads role, which a first publish cannot do without.
func loadRequired(cache Cache, role string) ([]byte, error) {
	data, err := cache.Load(role)
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("%w: no cached %s", ErrNoTrustData, role)
	}
	return data, err
}

// verifySigned parses data as d's metadata and checks d's keys and
// threshold signed it.
func verifySigned(d tuf.Delegation, data []byte) (*tuf.Targets, error) {
	t, env, err := tuf.ParseTargets(data, d.Name)
	if err != nil {
		return nil, err
	}
	if err := d.Verify(env); err != nil {
		return nil, err
	}
	return t, nil
}

func (l *Local) add(role string, t *tuf.Targets, data []byte) {
	l.Targets[role], l.Files[role] = t, data
	l.Order = append(l.Order, role)
}

// loadDelegations walks queue breadth first, parents before children.
func (l *Local) loadDelegations(cache Cache, queue []tuf.Delegation) {
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		if _, seen := l.Targets[d.Name]; seen {
			continue
		}
		data, err := cache.Load(d.Name)
		if err != nil {
			continue // never published, or not cached
		}
		t, err := verifySigned(d, data)
		if err != nil {
			l.Warnings = append(l.Warnings, &RoleError{Role: d.Name, Cached: true, Err: fmt.Errorf("ignored: %w", err)})
			continue
		}
		l.add(d.Name, t, data)
		queue = append(queue, t.Children(d)...)
	}
}

func (l *Local) loadSnapshot(cache Cache, root *tuf.Root) {
	data, err := cache.Load(tuf.RoleSnapshot)
	if err != nil {
		return
	}
	snap, env, err := tuf.ParseSnapshot(data)
	if err == nil {
		var srk tuf.RoleKeys
		if srk, err = root.RoleKeys(tuf.RoleSnapshot); err == nil {
			err = srk.Verify(env)
		}
	}
	if err != nil {
		l.Warnings = append(l.Warnings, &RoleError{Role: tuf.RoleSnapshot, Cached: true, Err: fmt.Errorf("ignored: %w", err)})
		return
	}
	l.Snapshot, l.SnapshotFile = snap, data
}
