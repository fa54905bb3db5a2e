package image

import "github.com/notary-go/notary/client"

// ReleasedRoles returns the roles whose targets the Docker CLI trusts, in
// lookup order ("targets/releases", then "targets"): what an enforcement
// policy requires when it names no roles.
func ReleasedRoles() []string { return append([]string(nil), releasedRoles...) }

// SignedDigest is the "sha256:<hex>" digest target t signs, or "" when it
// records no sha256.
func SignedDigest(t client.Target) string { return targetDigest(t) }

// RecordedIndex returns the index (media type and children) that SignImage
// recorded in t's custom field, or nil when t records none (a single
// manifest, or an index signed by the Docker CLI).
func RecordedIndex(t client.Target) *Index { return indexOf(t) }
