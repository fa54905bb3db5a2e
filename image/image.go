// Package image signs, verifies, inspects and revokes container images
// in any V2/OCI registry with Notary trust data, with no Docker engine.
// It joins package registry (what a registry serves) with package client
// (the TUF collection named after the image's repository), and holds the
// Docker CLI's content trust rules in one place:
//
//   - the collection of host[:port]/repo (its GUN) holds one target per
//     signed tag: name = tag, length = the manifest's size in bytes,
//     hashes = {"sha256": the manifest's digest};
//   - a tag is signed into every signer delegation (a direct child of
//     "targets", "targets/releases" included) whose paths allow it and for
//     which the trust directory holds a key, or into "targets" when the
//     collection has no delegations (the Docker CLI's GetSignableRoles);
//   - a tag's trusted target is looked up in "targets/releases", then
//     "targets", and only a target signed by one of those two counts;
//   - a collection that does not exist yet is created with a
//     server-managed snapshot key, as `docker push` with content trust did.
//
// For an image index (Docker manifest list or OCI index) the index digest
// is signed, and its children with their platforms are recorded in the
// target's custom field (which the Docker CLI ignores), so that a child's
// digest verifies too.
//
// Trust decisions stay in package update (through client): this package
// only compares the digests the registry serves with the verified targets.
package image

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"path"
	"sort"
	"strings"

	"github.com/notary-go/notary/client"
	"github.com/notary-go/notary/registry"
	"github.com/notary-go/notary/tuf"
)

// ReleasesRole is the delegation the Docker CLI signs releases into and
// reads first.
const ReleasesRole = "targets/releases"

// releasedRoles are the roles whose targets the Docker CLI trusts, in
// lookup order.
var releasedRoles = []string{ReleasesRole, tuf.RoleTargets}

// Options are what every operation needs.
type Options struct {
	// Registry reads manifests. Required by SignImage and by VerifyImage
	// for a tag; InspectImage and RevokeImage do not use it.
	Registry *registry.Client
	// Repository opens the trust data of gun (host[:port]/repo) with the
	// trust server to use for it (see TrustServers). Required.
	Repository func(gun string) (*client.Repository, error)
}

func (o Options) repo(gun string) (*client.Repository, error) {
	if o.Repository == nil {
		return nil, errors.New("image: Options.Repository is required")
	}
	return o.Repository(gun)
}

// TrustServers chooses the trust server of a registry: Env (the
// DOCKER_CONTENT_TRUST_SERVER variable) if set, else the registry's entry
// in PerRegistry (keyed host:port or host), else Default (a server the
// user configured for everything), else Docker's rule:
// https://notary.docker.io for Docker Hub, https://<registry host>
// otherwise.
type TrustServers struct {
	Env         string
	PerRegistry map[string]string
	Default     string
}

// For returns the trust server URL for registry host (host[:port]).
func (t TrustServers) For(host string) string {
	if t.Env != "" {
		return t.Env
	}
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	for _, k := range []string{host, name} {
		for key, v := range t.PerRegistry {
			if strings.EqualFold(key, k) && v != "" {
				return v
			}
		}
	}
	if t.Default != "" {
		return t.Default
	}
	if host == "docker.io" || host == "index.docker.io" {
		return "https://notary.docker.io"
	}
	return "https://" + host
}

// Validate checks that every URL is http(s)://host[:port].
func (t TrustServers) Validate() error {
	check := func(what, s string) error {
		if s == "" {
			return nil
		}
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("%s: a trust server must be an http(s)://host[:port] URL, got %q", what, s)
		}
		return nil
	}
	if err := check("DOCKER_CONTENT_TRUST_SERVER", t.Env); err != nil {
		return err
	}
	for k, v := range t.PerRegistry {
		if err := check("trust_servers."+k, v); err != nil {
			return err
		}
	}
	return nil
}

// GUN is the name of the image's collection: host[:port]/repo, as the
// Docker CLI names it.
func GUN(ref registry.Reference) string { return ref.Name() }

// Index is what the custom field of an index's target records: the
// index's media type and its children, as the index lists them.
type Index struct {
	MediaType string                `json:"mediaType"`
	Manifests []registry.Descriptor `json:"manifests"`
}

// customData is the target's custom field.
type customData struct {
	Index *Index `json:"index,omitempty"`
}

// maxRecordedChildren bounds the children recorded in custom data, so a
// huge index does not bloat the collection's metadata; beyond it, only
// the index digest is signed.
const maxRecordedChildren = 256

// Target is the Docker CLI's target for tag pointing at manifest m, with
// an index's children in its custom field.
func Target(tag string, m *registry.Manifest) (client.Target, error) {
	sum, err := hex.DecodeString(strings.TrimPrefix(m.Digest, "sha256:"))
	if err != nil || len(sum) != 32 || !strings.HasPrefix(m.Digest, "sha256:") {
		return client.Target{}, fmt.Errorf("image: manifest digest %q is not sha256", m.Digest)
	}
	t := client.Target{Name: tag, Length: m.Size, Hashes: tuf.Hashes{tuf.SHA256: sum}}
	if m.IsIndex() && len(m.Children) > 0 && len(m.Children) <= maxRecordedChildren {
		raw, err := json.Marshal(customData{Index: &Index{MediaType: m.MediaType, Manifests: m.Children}})
		if err != nil {
			return client.Target{}, err
		}
		if t.Custom, err = client.CanonicalCustom(raw); err != nil {
			return client.Target{}, err
		}
	}
	return t, nil
}

// targetDigest is "sha256:<hex>" of t, or "" when it has no sha256.
func targetDigest(t client.Target) string {
	h, ok := t.Hashes[tuf.SHA256]
	if !ok {
		return ""
	}
	return "sha256:" + hex.EncodeToString(h)
}

// indexOf returns the index recorded in t's custom field, or nil.
func indexOf(t client.Target) *Index {
	if len(t.Custom) == 0 {
		return nil
	}
	var c customData
	if json.Unmarshal(t.Custom, &c) != nil {
		return nil
	}
	return c.Index
}

// SignableRoles is the Docker CLI's GetSignableRoles: with no
// delegations, "targets"; otherwise every direct child of "targets" whose
// paths allow name and for which keyIDs holds one of its keys, and a
// *NoSigningRoleError when there is none.
func SignableRoles(gun, name string, delegations []client.DelegationRole, keyIDs map[string]bool) ([]string, error) {
	if len(delegations) == 0 {
		return []string{tuf.RoleTargets}, nil
	}
	var out, all []string
	for _, d := range delegations {
		all = append(all, d.Name)
		if path.Dir(d.Name) != tuf.RoleTargets || !tuf.PathAllowed(d.Paths, name) {
			continue
		}
		for _, id := range d.KeyIDs {
			if keyIDs[id] {
				out = append(out, d.Name)
				break
			}
		}
	}
	if len(out) == 0 {
		return nil, &NoSigningRoleError{GUN: gun, Tag: name, Roles: all}
	}
	return out, nil
}

// signableRoles reads the delegations and the key store of repo and
// applies SignableRoles.
func signableRoles(ctx context.Context, repo *client.Repository, delegations []client.DelegationRole, name string) ([]string, error) {
	if len(delegations) == 0 {
		return []string{tuf.RoleTargets}, nil
	}
	ks, err := repo.KeyStore()
	if err != nil {
		return nil, err
	}
	infos, err := ks.List(ctx)
	if err != nil {
		return nil, err
	}
	ids := make(map[string]bool, len(infos))
	for _, ki := range infos {
		ids[ki.ID] = true
	}
	return SignableRoles(repo.GUN(), name, delegations, ids)
}

// isReleased reports whether role is one whose targets the Docker CLI
// trusts.
func isReleased(role string) bool { return role == tuf.RoleTargets || role == ReleasesRole }

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}
