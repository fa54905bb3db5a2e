package registry

import (
	"fmt"
	"net"
	"strings"

	"github.com/notary-go/notary/gun"
	"github.com/opencontainers/go-digest"
	orasreg "oras.land/oras-go/v2/registry"
)

// A Reference names an image in a registry: Host[:port]/Repository with a
// Tag, a Digest, or both (host/repo:tag@sha256:...). Host is as written
// (with the port, if any); it is also the first component of the image's
// name and of its Notary GUN.
type Reference struct {
	Host       string
	Repository string
	Tag        string
	Digest     string // "sha256:<hex>", or ""
}

// Name is host[:port]/repository, the Docker CLI's repository name and the
// GUN of the image's trust data.
func (r Reference) Name() string { return r.Host + "/" + r.Repository }

// String is the reference as Docker writes it.
func (r Reference) String() string {
	s := r.Name()
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + r.Digest
	}
	return s
}

// Pinned is host/repo@digest for digest d.
func (r Reference) Pinned(d string) string { return r.Name() + "@" + d }

// WithTag returns r naming tag t instead (the digest is kept).
func (r Reference) WithTag(t string) Reference { r.Tag = t; return r }

// ParseReference parses host[:port]/repo[:tag][@sha256:...]. The first
// path component must name a registry host (it has a dot or a port, or
// is "localhost"), as Docker decides: "library/alpine" or "alpine:3" name
// no host and are refused with a *ReferenceError rather than guessed at.
// A reference with neither tag nor digest is valid (it names the whole
// repository); commands that need one check with NeedTagOrDigest.
func ParseReference(s string) (Reference, error) {
	bad := func(reason string) (Reference, error) {
		return Reference{}, &ReferenceError{Ref: s, Reason: reason, Err: ErrInvalidReference}
	}
	if s == "" {
		return bad("empty reference")
	}
	if strings.Contains(s, "://") {
		return bad("a reference has no URL scheme: write host[:port]/repository:tag")
	}
	host, _, ok := strings.Cut(s, "/")
	if !ok || !looksLikeHost(host) {
		return bad("it must start with the registry host, as in registry.example.com/team/app:1.0 or localhost:5000/app:1.0")
	}
	r, err := orasreg.ParseReference(s)
	if err != nil {
		return bad(err.Error())
	}
	out := Reference{Host: r.Registry, Repository: r.Repository}
	// oras keeps one of tag or digest; find both from the string.
	rest := strings.TrimPrefix(s, host+"/")
	if name, dgst, ok := strings.Cut(rest, "@"); ok {
		d, err := digest.Parse(dgst)
		if err != nil {
			return bad(fmt.Sprintf("invalid digest %q", dgst))
		}
		if d.Algorithm() != digest.SHA256 {
			return bad(fmt.Sprintf("digest algorithm %s is not supported (Notary records sha256)", d.Algorithm()))
		}
		out.Digest = d.String()
		rest = name
	}
	if i := strings.LastIndex(rest, ":"); i >= 0 && !strings.Contains(rest[i:], "/") {
		out.Tag = rest[i+1:]
		if !gun.ValidTag(out.Tag) {
			return bad(fmt.Sprintf("invalid tag %q", out.Tag))
		}
	}
	return out, nil
}

// NeedTagOrDigest refuses a reference that names neither a tag nor a
// digest, with a *ReferenceError matching ErrNoTag.
func (r Reference) NeedTagOrDigest() error {
	if r.Tag == "" && r.Digest == "" {
		return &ReferenceError{Ref: r.String(), Reason: "it names no tag: write " + r.Name() + ":<tag> (or @sha256:<digest>)", Err: ErrNoTag}
	}
	return nil
}

func looksLikeHost(h string) bool {
	return h == "localhost" || strings.ContainsAny(h, ".:") || strings.HasPrefix(h, "[")
}

// IsLoopback reports whether host (host or host:port) is a loopback
// registry: localhost, 127.0.0.0/8 or ::1, which Docker reaches over plain
// HTTP without being told.
func IsLoopback(host string) bool {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	h = strings.Trim(h, "[]")
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
