package image

import (
	"context"
	"errors"
	"sort"
	"strings"

	"github.com/notary-go/notary/client"
	"github.com/notary-go/notary/registry"
	"github.com/notary-go/notary/tuf"
)

// RepoAdminName is how the Docker CLI names the signer of a tag signed
// into "targets" or "targets/releases" only.
const RepoAdminName = "Repo Admin"

// TrustInfo is one element of `docker trust inspect`'s JSON output
// (docker/cli cli/command/trust: trustRepo), field for field.
type TrustInfo struct {
	Name               string
	SignedTags         []SignedTag
	Signers            []Signer
	AdministrativeKeys []Signer
}

// SignedTag is a released tag: its digest (hex, no algorithm, as Docker
// prints it) and who signed it.
type SignedTag struct {
	SignedTag string
	Digest    string
	Signers   []string
}

// Signer is a named list of keys: a signer delegation, or "Root" and
// "Repository" among the administrative keys.
type Signer struct {
	Name string `json:",omitempty"`
	Keys []Key  `json:",omitempty"`
}

// Key is a key ID.
type Key struct {
	ID string `json:",omitempty"`
}

// InspectOptions configure InspectImage.
type InspectOptions struct {
	Options
}

// InspectImage is `docker trust inspect` for one reference
// (host/repo[:tag]): the released tags (signed into "targets" or
// "targets/releases"; only the reference's tag if it has one) with the
// signers that also signed them, the signer delegations with their keys,
// and the root and repository (targets) keys. A collection the trust
// server does not have is a *NotSignedError. The registry is not asked.
func InspectImage(ctx context.Context, ref string, opts InspectOptions) (*TrustInfo, error) {
	r, err := registry.ParseReference(ref)
	if err != nil {
		return nil, err
	}
	if r.Digest != "" {
		return nil, &UsageError{Ref: ref, Reason: "inspect takes host/repo or host/repo:tag, not a digest"}
	}
	repo, err := opts.repo(GUN(r))
	if err != nil {
		return nil, err
	}
	delegations, err := repo.GetDelegationRoles(ctx)
	if err != nil {
		if errors.Is(err, client.ErrRepositoryNotExist) {
			return nil, &NotSignedError{Ref: ref, GUN: GUN(r), Tag: r.Tag, Roles: releasedRoles, NoTrustData: true, Err: err}
		}
		return nil, err
	}
	// Every target of every role, as v1's GetAllTargetMetadataByName:
	// each role's own targets (a walk from the role lists its own first).
	type signed struct{ name, digest, role string }
	var all []signed
	roles := []string{tuf.RoleTargets}
	for _, d := range delegations {
		roles = append(roles, d.Name)
	}
	for _, role := range roles {
		ts, err := repo.ListTargets(ctx, role)
		if err != nil {
			return nil, err
		}
		for _, t := range ts {
			if t.Role != role || (r.Tag != "" && t.Name != r.Tag) {
				continue
			}
			all = append(all, signed{t.Name, strings.TrimPrefix(targetDigest(t.Target), "sha256:"), role})
		}
	}
	info := &TrustInfo{Name: ref, SignedTags: []SignedTag{}, Signers: []Signer{}, AdministrativeKeys: []Signer{}}
	type key struct{ name, digest string }
	rows := map[key][]string{}
	for _, s := range all {
		if isReleased(s.role) {
			rows[key{s.name, s.digest}] = []string{}
		}
	}
	for _, s := range all {
		k := key{s.name, s.digest}
		if cur, ok := rows[k]; ok && !isReleased(s.role) {
			rows[k] = append(cur, signerName(s.role))
		}
	}
	for k, signers := range rows {
		sort.Strings(signers)
		if len(signers) == 0 {
			signers = []string{RepoAdminName}
		}
		info.SignedTags = append(info.SignedTags, SignedTag{SignedTag: k.name, Digest: k.digest, Signers: signers})
	}
	sort.Slice(info.SignedTags, func(i, j int) bool {
		a, b := info.SignedTags[i], info.SignedTags[j]
		if a.SignedTag != b.SignedTag {
			return naturalLess(a.SignedTag, b.SignedTag)
		}
		return a.Digest < b.Digest
	})
	for _, d := range delegations {
		if d.Name == ReleasesRole {
			continue
		}
		s := Signer{Name: signerName(d.Name)}
		for _, id := range d.KeyIDs {
			s.Keys = append(s.Keys, Key{ID: id})
		}
		info.Signers = append(info.Signers, s)
	}
	sort.Slice(info.Signers, func(i, j int) bool { return info.Signers[i].Name > info.Signers[j].Name })

	// The administrative keys are the root and targets keys that root.json
	// lists (TUF key IDs, as v1's ListRoles gives them): read from the
	// root the update above verified and cached.
	rootData, err := repo.Cache().Load(tuf.RoleRoot)
	if err != nil {
		return nil, err
	}
	root, _, err := tuf.ParseRoot(rootData)
	if err != nil {
		return nil, err
	}
	for _, ar := range []struct{ role, name string }{{tuf.RoleRoot, "Root"}, {tuf.RoleTargets, "Repository"}} {
		rr, ok := root.Roles[ar.role]
		if !ok {
			continue
		}
		s := Signer{Name: ar.name}
		for _, id := range sortedCopy(rr.KeyIDs) {
			s.Keys = append(s.Keys, Key{ID: id})
		}
		info.AdministrativeKeys = append(info.AdministrativeKeys, s)
	}
	sort.Slice(info.AdministrativeKeys, func(i, j int) bool { return info.AdministrativeKeys[i].Name > info.AdministrativeKeys[j].Name })
	return info, nil
}

// signerName is the Docker CLI's notaryRoleToSigner: "Repo Admin" for the
// released roles, else the role name without "targets/".
func signerName(role string) string {
	if isReleased(role) {
		return RepoAdminName
	}
	return strings.TrimPrefix(role, tuf.RoleTargets+"/")
}

// naturalLess orders strings with digit runs compared as numbers
// ("v2" < "v10"), as the Docker CLI sorts tags.
func naturalLess(a, b string) bool {
	for a != "" && b != "" {
		ca, cb := a[0], b[0]
		if isDigit(ca) && isDigit(cb) {
			na, ra := digitRun(a)
			nb, rb := digitRun(b)
			ta, tb := strings.TrimLeft(na, "0"), strings.TrimLeft(nb, "0")
			if len(ta) != len(tb) {
				return len(ta) < len(tb)
			}
			if ta != tb {
				return ta < tb
			}
			if len(na) != len(nb) {
				return len(na) < len(nb)
			}
			a, b = ra, rb
			continue
		}
		if ca != cb {
			return ca < cb
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func digitRun(s string) (string, string) {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return s[:i], s[i:]
}
