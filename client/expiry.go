package client

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/notary-go/notary/api"
	"github.com/notary-go/notary/changelist"
	"github.com/notary-go/notary/tuf"
	"github.com/notary-go/notary/update"
)

// Who must re-sign a role before it expires (RoleExpiry.ResignedBy).
const (
	// ResignerPublisher: a person with the role's key (root, targets,
	// delegations, and the snapshot when its key is held by the
	// publisher rather than the server).
	ResignerPublisher = "publisher"
	// ResignerServer: the notary server re-signs the role itself (the
	// timestamp always, the snapshot when the server holds its key); it
	// does so when the role is read after it expired or nears expiry.
	ResignerServer = "server"
)

// RoleExpiry is when one role of a collection expires and who must
// re-sign it.
type RoleExpiry struct {
	GUN     string
	Role    string
	Version int64
	Expires time.Time
	// ResignedBy is ResignerPublisher or ResignerServer.
	ResignedBy string
	// KeyHeld: a private key of the role is in this trust directory's key
	// store (for root, targets, delegations and the snapshot), so
	// Resign can re-sign it.
	KeyHeld bool
}

// Fails reports whether the role fails an expiry check at now with the
// given window: a role a person must re-sign fails when it expires before
// now+within; one the server re-signs only when it has already expired
// (the server refreshes it on its own).
func (e RoleExpiry) Fails(now time.Time, within time.Duration) bool {
	if e.ResignedBy == ResignerServer {
		return !now.Before(e.Expires)
	}
	return e.Expires.Before(now.Add(within))
}

// SortExpiries sorts soonest expiry first; ties by GUN, then role.
func SortExpiries(list []RoleExpiry) {
	sort.SliceStable(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if !a.Expires.Equal(b.Expires) {
			return a.Expires.Before(b.Expires)
		}
		if a.GUN != b.GUN {
			return a.GUN < b.GUN
		}
		return a.Role < b.Role
	})
}

// maxExpiryRetries bounds how many times Expiry moves its verification
// time back past an expired role (each retry passes at least one more
// role's expiry, and a collection has root, targets, snapshot and
// timestamp plus delegations; past this the remaining roles are reported
// through the error).
const maxExpiryRetries = 16

// Expiry reads the collection (from the server or mirror, else the cache,
// as ListTargets does) and returns the expiry of each of its roles:
// root, targets, every delegation that verifies, snapshot and timestamp,
// soonest first. Roles that have already expired are reported too: the
// metadata is then verified as of just before they expired (signatures
// and versions are still checked), so an expired collection can be
// listed and renewed.
func (r *Repository) Expiry(ctx context.Context) ([]RoleExpiry, error) {
	repo, err := r.updateAllowExpired(ctx)
	if err != nil {
		return nil, err
	}
	held, err := r.heldKeyIDs(ctx)
	if err != nil {
		return nil, err
	}
	holds := func(rk tuf.RoleKeys) bool {
		for _, id := range rk.KeyIDs {
			k, ok := rk.Keys[id]
			if !ok {
				continue
			}
			if cid, err := k.CanonicalID(); err == nil && held[cid] {
				return true
			}
		}
		return false
	}
	var out []RoleExpiry
	add := func(role string, version int64, expires time.Time, by string, keyHeld bool) {
		out = append(out, RoleExpiry{GUN: r.gun, Role: role, Version: version, Expires: expires.UTC(), ResignedBy: by, KeyHeld: keyHeld})
	}
	root := repo.Root
	roleHeld := func(role string) bool {
		rk, err := root.RoleKeys(role)
		return err == nil && holds(rk)
	}
	add(tuf.RoleRoot, root.Version, root.Expires, ResignerPublisher, roleHeld(tuf.RoleRoot))
	if repo.Timestamp != nil {
		add(tuf.RoleTimestamp, repo.Timestamp.Version, repo.Timestamp.Expires, ResignerServer, false)
	}
	if repo.Snapshot != nil {
		by := ResignerServer
		h := roleHeld(tuf.RoleSnapshot)
		if h {
			by = ResignerPublisher
		}
		add(tuf.RoleSnapshot, repo.Snapshot.Version, repo.Snapshot.Expires, by, h)
	}
	if t := repo.Targets(tuf.RoleTargets); t != nil {
		add(tuf.RoleTargets, t.Version, t.Expires, ResignerPublisher, roleHeld(tuf.RoleTargets))
	}
	for _, d := range repo.Delegations() {
		t := repo.Targets(d.Name)
		if t == nil {
			continue // unpublished or invalid for another reason than expiry
		}
		add(d.Name, t.Version, t.Expires, ResignerPublisher, holds(tuf.RoleKeys{KeyIDs: d.KeyIDs, Keys: d.Keys, Threshold: d.Threshold}))
	}
	SortExpiries(out)
	return out, nil
}

// updateAllowExpired runs the update as of now and, while it fails (or
// skips a delegation) only because a role has expired, again as of just
// before that expiry.
func (r *Repository) updateAllowExpired(ctx context.Context) (*update.Verified, error) {
	remote, source := r.readRemote()
	var at time.Time
	var lastErr error
	for range maxExpiryRetries {
		repo, err := r.updateFor(ctx, remote, source, updateMode{forWrite: true, at: at})
		var exp *tuf.ExpiredError
		if err != nil {
			if !errors.As(err, &exp) {
				return nil, err
			}
			lastErr = err
			at = exp.Expires.Add(-time.Second)
			continue
		}
		earliest := time.Time{}
		for _, ierr := range repo.Invalid() {
			if errors.As(ierr, &exp) && (earliest.IsZero() || exp.Expires.Before(earliest)) {
				earliest = exp.Expires
			}
		}
		if earliest.IsZero() {
			return repo, nil
		}
		at = earliest.Add(-time.Second)
		lastErr = nil
		if at.Before(time.Unix(0, 0)) {
			return repo, nil
		}
	}
	if lastErr == nil {
		lastErr = fmt.Errorf("client: %s: too many expired roles to list", r.gun)
	}
	return nil, lastErr
}

// heldKeyIDs lists the canonical IDs of the keys in the key store,
// without decrypting any.
func (r *Repository) heldKeyIDs(ctx context.Context) (map[string]bool, error) {
	ks, err := r.KeyStore()
	if err != nil {
		return nil, err
	}
	infos, err := ks.List(ctx)
	if err != nil {
		return nil, err
	}
	held := make(map[string]bool, len(infos))
	for _, i := range infos {
		held[i.ID] = true
	}
	return held, nil
}

// ResignOptions choose what Resign re-signs.
type ResignOptions struct {
	// Within: roles that expire before now+Within are re-signed.
	Within time.Duration
	// Roles, if set, limits re-signing to these roles ("root",
	// "targets", "snapshot" or delegations); others are left alone.
	Roles []string
}

// ResignResult says what Resign did.
type ResignResult struct {
	// Resigned are the roles re-signed and published, soonest expiry first.
	Resigned []string
	// NotHeld are roles due that a person must re-sign but whose keys this
	// trust directory does not hold.
	NotHeld []RoleExpiry
	// HoldsAny: this trust directory holds a key of at least one role of
	// the collection (false for a collection it only reads).
	HoldsAny bool
}

// Resign re-signs, with new versions and expiries, every role of the
// collection whose key is held here and that expires within
// opts.Within, and publishes them in one atomic update, leaving any staged
// changes staged. Targets and delegations are re-signed as `witness`
// does; root is re-signed unchanged; the snapshot is re-signed by any
// publish when its key is held. Nothing due: nothing is published.
func (r *Repository) Resign(ctx context.Context, opts ResignOptions) (ResignResult, error) {
	var res ResignResult
	list, err := r.Expiry(ctx)
	if err != nil {
		return res, err
	}
	want := map[string]bool{}
	for _, role := range opts.Roles {
		want[role] = true
	}
	now := r.now()
	var (
		witness []string
		po      publishOptions
		due     bool
	)
	for _, e := range list {
		res.HoldsAny = res.HoldsAny || e.KeyHeld
	}
	for _, e := range list {
		if e.ResignedBy != ResignerPublisher || !e.Expires.Before(now.Add(opts.Within)) {
			continue
		}
		if len(want) > 0 && !want[e.Role] {
			continue
		}
		if !e.KeyHeld {
			res.NotHeld = append(res.NotHeld, e)
			continue
		}
		due = true
		switch {
		case e.Role == tuf.RoleRoot:
			po.resignRoot = true
		case tuf.IsTargetsRole(e.Role):
			witness = append(witness, e.Role)
		}
		res.Resigned = append(res.Resigned, e.Role)
	}
	if !due {
		return res, nil
	}
	// Roles that have already expired would stop the publish's update:
	// verify as of just before the earliest expiry instead (signatures,
	// thresholds and versions are still checked), as Expiry did. The
	// roles are then re-signed with fresh expiries.
	for _, e := range list {
		if !e.Expires.After(now) && (po.verifyAt.IsZero() || e.Expires.Add(-time.Second).Before(po.verifyAt)) {
			po.verifyAt = e.Expires.Add(-time.Second)
		}
	}
	changes := make([]changelist.Change, 0, len(witness))
	for _, role := range witness {
		c, err := changelist.NewWitness(role)
		if err != nil {
			return ResignResult{NotHeld: res.NotHeld, HoldsAny: res.HoldsAny}, err
		}
		changes = append(changes, c)
	}
	if err := r.publish(ctx, changes, po); err != nil {
		return ResignResult{NotHeld: res.NotHeld, HoldsAny: res.HoldsAny}, err
	}
	return res, nil
}

// LocalGUNs lists the collections that have cached metadata (a root.json)
// in the trust directory, sorted.
func LocalGUNs(trustDir string) ([]string, error) {
	base := filepath.Join(trustDir, TUFDir)
	var out []string
	err := filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == base {
				return fs.SkipAll
			}
			return err
		}
		if !d.IsDir() || d.Name() != MetadataDir {
			return nil
		}
		if _, err := os.Lstat(filepath.Join(p, tuf.RoleRoot+".json")); err != nil {
			return fs.SkipDir
		}
		rel, err := filepath.Rel(base, filepath.Dir(p))
		if err != nil {
			return err
		}
		if g := filepath.ToSlash(rel); ValidateGUN(g) == nil {
			out = append(out, g)
		}
		return fs.SkipDir
	})
	sort.Strings(out)
	return out, err
}

// remoteGUNsPage is the changefeed page size RemoteGUNs asks for.
var remoteGUNsPage = 1000

// MaxRemoteGUNs bounds how many collections RemoteGUNs collects, so a
// huge (or hostile) server cannot exhaust memory.
const MaxRemoteGUNs = 1_000_000

// RemoteGUNs lists the collections the server holds now, from its
// changefeed (paged, oldest first): every GUN updated and not deleted
// since. c may be for any GUN; only its server is used.
func RemoteGUNs(ctx context.Context, c *api.Client) ([]string, error) {
	live := map[string]bool{}
	id := "0"
	for {
		cf, err := c.GlobalChangefeed(ctx, id, remoteGUNsPage)
		if err != nil {
			return nil, err
		}
		prev := id
		for _, ch := range cf.Records {
			if ch.Category == "deletion" {
				delete(live, ch.GUN)
			} else {
				live[ch.GUN] = true
			}
			id = ch.ID
		}
		if len(live) > MaxRemoteGUNs {
			return nil, fmt.Errorf("client: the server lists more than %d collections", MaxRemoteGUNs)
		}
		if len(cf.Records) < remoteGUNsPage {
			break
		}
		// A full page that does not move forward would loop forever.
		p, err1 := strconv.ParseInt(prev, 10, 64)
		n, err2 := strconv.ParseInt(id, 10, 64)
		if err1 != nil || err2 != nil || n <= p {
			return nil, fmt.Errorf("client: the server's changefeed does not advance past ID %q", prev)
		}
	}
	out := make([]string, 0, len(live))
	for g := range live {
		if strings.TrimSpace(g) != "" {
			out = append(out, g)
		}
	}
	sort.Strings(out)
	return out, nil
}
