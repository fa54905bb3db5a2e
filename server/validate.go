package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/notary-go/notary/api"
	"github.com/notary-go/notary/storage"
	"github.com/notary-go/notary/tuf"
)

// A plan is a validated update, ready for one UpdateMany: the client's
// files first (root, targets and delegations shallowest first, snapshot),
// then the server's (snapshot when it made it, timestamp). generated names
// the roles the server made.
type plan struct {
	updates          []storage.MetaUpdate
	generated        map[string]bool
	timestampVersion int64
	// basis is the timestamp version validation read (0: no collection);
	// the store refuses the update if it changed (storage.Precondition).
	basis int64
	// snapshot is the snapshot the new timestamp names (uploaded or made).
	snapshot []byte
}

func (p *plan) roleList() []string {
	out := make([]string, len(p.updates))
	for i, u := range p.updates {
		out[i] = u.Role
	}
	return out
}

// msg is an error's text for a validation message, without the "tuf: "
// package prefix, so it reads like v1's ("valid signatures did not meet
// threshold for targets...").
func msg(err error) string { return strings.TrimPrefix(err.Error(), "tuf: ") }

func badRoot(format string, args ...any) error {
	return &api.ValidationError{Name: api.ErrNameBadRoot, Msg: fmt.Sprintf(format, args...)}
}

func badTargets(format string, args ...any) error {
	return &api.ValidationError{Name: api.ErrNameBadTargets, Msg: fmt.Sprintf(format, args...)}
}

func badSnapshot(format string, args ...any) error {
	return &api.ValidationError{Name: api.ErrNameBadSnapshot, Msg: fmt.Sprintf(format, args...)}
}

func invalid(format string, args ...any) error {
	return &api.ValidationError{Name: api.ErrNameValidation, Msg: fmt.Sprintf(format, args...)}
}

// updateCheck holds what validation of one update has established.
type updateCheck struct {
	s       *Server
	ctx     context.Context
	gun     string
	now     time.Time
	cur     *storedState // nil for a new collection
	curRoot *tuf.Root

	root      *tuf.Root
	rootBytes []byte
	// targets and delegations validated in this update, by role
	newTargets map[string]*tuf.Targets
	newBytes   map[string][]byte
	// current files that validation relied on (ancestors of uploaded
	// delegations), by role: the snapshot must agree with them
	relied map[string][]byte
}

// validateUpdate checks an update as v1 does (§4.1) and where v1 was lax,
// more strictly: hashes over the exact uploaded bytes, a client snapshot
// that agrees with every file it lists, and a new root that still accepts
// the current targets. It returns the files to store, including the
// snapshot (unless uploaded) and timestamp the server makes. Each §4.1
// step is a function of its own; they run in order and share an
// updateCheck.
func (s *Server) validateUpdate(ctx context.Context, gun string, parts map[string][]byte) (*plan, error) {
	u, p, err := s.startUpdateCheck(ctx, gun)
	if err != nil {
		return nil, err
	}
	steps := []func(map[string][]byte, *plan) error{
		u.stepRoot,      // §4.1 step 2
		u.stepTargets,   // §4.1 step 3
		u.stepSnapshot,  // §4.1 step 4
		u.stepTimestamp, // §4.1 step 5
	}
	for _, step := range steps {
		if err := step(parts, p); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// startUpdateCheck loads the collection as stored (§4.1 step 1; none for a
// new GUN) and starts the plan on its timestamp version.
func (s *Server) startUpdateCheck(ctx context.Context, gun string) (*updateCheck, *plan, error) {
	u := &updateCheck{
		s: s, ctx: ctx, gun: gun, now: s.now(),
		newTargets: map[string]*tuf.Targets{},
		newBytes:   map[string][]byte{},
		relied:     map[string][]byte{},
	}
	c, err := s.loadCollection(ctx, gun)
	switch {
	case errors.Is(err, storage.ErrNotFound):
	case err != nil:
		return nil, nil, err
	default:
		u.cur = c
	}
	p := &plan{generated: map[string]bool{}}
	if u.cur != nil {
		p.basis = u.cur.ts.Version
	}
	return u, p, nil
}

// stepRoot is §4.1 step 2: an uploaded root is checked against the
// current one; without one, a current root must exist.
func (u *updateCheck) stepRoot(parts map[string][]byte, p *plan) error {
	var curRootBytes []byte
	if u.cur != nil {
		f, r, err := u.s.root(u.ctx, u.cur)
		if err != nil {
			return err
		}
		u.curRoot, curRootBytes = r, f.Data
	}
	u.root, u.rootBytes = u.curRoot, curRootBytes
	data, ok := parts[tuf.RoleRoot]
	if !ok {
		if u.curRoot == nil {
			return invalid("no pre-existing root and no root provided in update.")
		}
		return nil
	}
	root, store, err := u.checkNewRoot(data, curRootBytes)
	if err != nil {
		return err
	}
	if store {
		p.updates = append(p.updates, storage.MetaUpdate{Role: tuf.RoleRoot, Version: root.Version, Data: data})
	}
	u.root, u.rootBytes = root, data
	return nil
}

// stepTargets is §4.1 step 3: targets and delegations, shallowest first,
// so a parent sent in the same update vouches for its children; then a
// new root must still accept the current targets.
func (u *updateCheck) stepTargets(parts map[string][]byte, p *plan) error {
	roles := make([]string, 0, len(parts))
	for role := range parts {
		if tuf.IsTargetsRole(role) {
			roles = append(roles, role)
		}
	}
	sort.Slice(roles, func(i, j int) bool {
		di, dj := strings.Count(roles[i], "/"), strings.Count(roles[j], "/")
		if di != dj {
			return di < dj
		}
		return roles[i] < roles[j]
	})
	for _, role := range roles {
		t, err := u.checkTargets(role, parts[role])
		if err != nil {
			return err
		}
		p.updates = append(p.updates, storage.MetaUpdate{Role: role, Version: t.Version, Data: parts[role]})
	}
	return u.checkCurrentTargetsUnderNewRoot()
}

// stepSnapshot is §4.1 step 4: the client's snapshot, checked, or one the
// server makes.
func (u *updateCheck) stepSnapshot(parts map[string][]byte, p *plan) error {
	if data, ok := parts[tuf.RoleSnapshot]; ok {
		sn, err := u.checkSnapshot(data)
		if err != nil {
			return err
		}
		p.updates = append(p.updates, storage.MetaUpdate{Role: tuf.RoleSnapshot, Version: sn.Version, Data: data})
		p.snapshot = data
		return nil
	}
	var prev *tuf.Snapshot
	if u.cur != nil {
		prev = u.cur.snapBody
	} else if u.newTargets[tuf.RoleTargets] == nil {
		// v1: a first snapshot needs targets (observed for a root-only
		// first upload).
		return invalid("targets must be loaded first")
	}
	changes := map[string]tuf.FileMeta{tuf.RoleRoot: mustFileMeta(u.rootBytes)}
	for role, data := range u.newBytes {
		changes[role] = mustFileMeta(data)
	}
	data, v, err := u.s.makeSnapshot(u.ctx, u.gun, u.root, prev, changes, u.now)
	var cse *CannotSignError
	if errors.As(err, &cse) {
		return &api.ValidationError{Name: api.ErrNameBadHierarchy, Missing: tuf.RoleSnapshot,
			Msg: "no snapshot was included in update and server does not hold current snapshot key for repository"}
	}
	if err != nil {
		return err
	}
	p.updates = append(p.updates, storage.MetaUpdate{Role: tuf.RoleSnapshot, Version: v, Data: data})
	p.generated[tuf.RoleSnapshot] = true
	p.snapshot = data
	return nil
}

// stepTimestamp is §4.1 step 5: always a new timestamp; an uploaded one is
// ignored.
func (u *updateCheck) stepTimestamp(_ map[string][]byte, p *plan) error {
	var prevTS *tuf.Timestamp
	if u.cur != nil {
		prevTS = u.cur.tsBody
	}
	data, v, err := u.s.makeTimestamp(u.ctx, u.gun, u.root, prevTS, p.snapshot, u.now)
	var cse *CannotSignError
	if errors.As(err, &cse) {
		return badRoot("%s", api.TextNoTimestampKey) // sic, v1's two spaces
	}
	if err != nil {
		return err
	}
	p.updates = append(p.updates, storage.MetaUpdate{Role: tuf.RoleTimestamp, Version: v, Data: data})
	p.generated[tuf.RoleTimestamp] = true
	p.timestampVersion = v
	return nil
}

// checkNewRoot validates an uploaded root against the current one (§4.1
// step 2, §4.5). store is false for a byte-identical re-upload of the
// current root, which needs no new row.
func (u *updateCheck) checkNewRoot(data, curBytes []byte) (root *tuf.Root, store bool, err error) {
	root, env, err := tuf.ParseRoot(data)
	if err != nil {
		return nil, false, badRoot("%s", msg(err))
	}
	cur := int64(1) // v1: with no stored root, "current" counts as 1
	if u.curRoot != nil {
		cur = u.curRoot.Version
	}
	if root.Version != cur && root.Version != cur+1 {
		return nil, false, badRoot("Root modifications must increment the version. Current %d, new %d", cur, root.Version)
	}
	if err := checkRoot(u.gun, u.curRoot, env, root, u.now); err != nil {
		return nil, false, badRoot("%s", msg(err))
	}
	if u.curRoot != nil && root.Version == u.curRoot.Version && bytes.Equal(data, curBytes) {
		return root, false, nil
	}
	return root, true, nil
}

// checkTargets validates targets or a delegation (§4.1 step 3): well
// formed, signed by the keys its parent (root for targets) assigns it
// meeting the threshold, and not expired.
func (u *updateCheck) checkTargets(role string, data []byte) (*tuf.Targets, error) {
	var rk tuf.RoleKeys
	if role == tuf.RoleTargets {
		k, err := u.root.RoleKeys(tuf.RoleTargets)
		if err != nil {
			return nil, badTargets("%s", msg(err))
		}
		rk = k
	} else {
		parentName := tuf.ParentRole(role)
		parent, err := u.targetsInEffect(parentName)
		if err != nil {
			return nil, err
		}
		if parent == nil {
			return nil, badTargets("%s cannot be published: its parent %s does not exist", role, parentName)
		}
		d, err := parent.DelegatedRole(role)
		if err != nil {
			return nil, badTargets("%s", msg(err))
		}
		rk = d.RoleKeys
	}
	// Signatures first, body second: decoding a large targets file costs
	// many times its size, so only a file the role's keys signed gets
	// that far (issue 10 item 1). Checking the envelope costs about its
	// size.
	env, err := tuf.ParseEnvelopeOf(role, data)
	if err != nil {
		return nil, badTargets("%s", msg(err))
	}
	if err := rk.Verify(env); err != nil {
		return nil, badTargets("%s", msg(err))
	}
	t, err := tuf.DecodeTargets(env.Signed, role)
	if err != nil {
		return nil, badTargets("%s", msg(err))
	}
	if err := tuf.CheckExpiry(role, t.Expires, u.now); err != nil {
		return nil, badTargets("%s", msg(err))
	}
	u.newTargets[role] = t
	u.newBytes[role] = data
	return t, nil
}

// targetsInEffect returns role's targets metadata as this update leaves
// it: validated earlier in this update, else the current file (recorded
// in u.relied), else nil.
func (u *updateCheck) targetsInEffect(role string) (*tuf.Targets, error) {
	if t, ok := u.newTargets[role]; ok {
		return t, nil
	}
	if u.cur == nil {
		return nil, nil
	}
	f, err := u.s.file(u.ctx, u.cur, role)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	t, err := u.s.parsed.targets(role, f)
	if err != nil {
		return nil, &CorruptError{GUN: u.gun, Role: role, Err: err}
	}
	u.relied[role] = f.Data
	return t, nil
}

// checkCurrentTargetsUnderNewRoot refuses a root that changes the targets
// keys or threshold while the current targets, not re-sent, would no
// longer verify: every reader would then reject the collection.
func (u *updateCheck) checkCurrentTargetsUnderNewRoot() error {
	if u.cur == nil || u.root == u.curRoot || u.newTargets[tuf.RoleTargets] != nil {
		return nil
	}
	oldRK, err1 := u.curRoot.RoleKeys(tuf.RoleTargets)
	newRK, err2 := u.root.RoleKeys(tuf.RoleTargets)
	if err1 == nil && err2 == nil && oldRK.Equal(newRK) {
		return nil
	}
	if err2 != nil {
		return badRoot("%s", msg(err2))
	}
	f, err := u.s.file(u.ctx, u.cur, tuf.RoleTargets)
	if err != nil {
		return err
	}
	_, env, err := tuf.ParseTargets(f.Data, tuf.RoleTargets)
	if err != nil {
		return &CorruptError{GUN: u.gun, Role: tuf.RoleTargets, Err: err}
	}
	if err := newRK.Verify(env); err != nil {
		return badTargets("the new root's targets keys do not accept the current targets metadata; publish targets re-signed with the new key together with the root: %s", msg(err))
	}
	return nil
}

// checkSnapshot validates a snapshot the client signed (§4.1 step 4): well
// formed, signed by root's snapshot keys, not expired, and consistent:
// root, every uploaded targets file and every current file validation
// relied on must be listed with hashes of their exact bytes, and every
// other entry must describe a file the server stores (else readers would
// fail to fetch it).
func (u *updateCheck) checkSnapshot(data []byte) (*tuf.Snapshot, error) {
	sn, env, err := tuf.ParseSnapshot(data)
	if err != nil {
		return nil, badSnapshot("%s", msg(err))
	}
	rk, err := u.root.RoleKeys(tuf.RoleSnapshot)
	if err != nil {
		return nil, badSnapshot("%s", msg(err))
	}
	if err := rk.Verify(env); err != nil {
		return nil, badSnapshot("%s", msg(err))
	}
	if err := tuf.CheckExpiry(tuf.RoleSnapshot, sn.Expires, u.now); err != nil {
		return nil, badSnapshot("%s", msg(err))
	}
	must := map[string][]byte{tuf.RoleRoot: u.rootBytes}
	for role, b := range u.relied {
		must[role] = b
	}
	for role, b := range u.newBytes {
		must[role] = b
	}
	for role, b := range must {
		fm, ok := sn.Meta[role]
		if !ok {
			return nil, badSnapshot("snapshot does not list %s", role)
		}
		if err := tuf.CheckFileMeta(role, fm, b); err != nil {
			return nil, badSnapshot("%s", msg(err))
		}
	}
	for role, fm := range sn.Meta {
		if _, ok := must[role]; ok {
			continue
		}
		if u.cur != nil {
			if prev, ok := u.cur.snapBody.Meta[role]; ok && prev.Equal(fm) {
				continue // unchanged since the current snapshot
			}
		}
		if !tuf.IsTargetsRole(role) {
			return nil, badSnapshot("snapshot lists %s, which is not a root, targets or delegation role", role)
		}
		sha := fm.SHA256Hex()
		if sha == "" {
			return nil, badSnapshot("snapshot lists %s without a sha256", role)
		}
		f, err := u.s.store.GetChecksum(u.ctx, u.gun, role, sha)
		if errors.Is(err, storage.ErrNotFound) {
			return nil, badSnapshot("snapshot lists %s with hashes that match no stored or uploaded file", role)
		}
		if err != nil {
			return nil, err
		}
		if err := tuf.CheckFileMeta(role, fm, f.Data); err != nil {
			return nil, badSnapshot("%s", msg(err))
		}
	}
	return sn, nil
}

// mustFileMeta describes data by sha256 and sha512 (never fails for the
// default algorithms).
func mustFileMeta(data []byte) tuf.FileMeta {
	fm, err := tuf.NewFileMeta(data)
	if err != nil {
		panic(err)
	}
	return fm
}
