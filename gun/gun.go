// Package gun holds the rules for GUNs, the Globally Unique Names of trust
// collections (docs/protocol.md §5.1): which names a server accepts, which
// a client may also use as a path below its trust directory or a mirror,
// and the server's repositories.gun_prefixes filter; and the rule for the
// names of image targets (tags). Every program asks
// this package, so the rules cannot drift apart. Standard library only.
package gun

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxLen is the longest GUN, in bytes: v0.7.0 stores GUNs in a
// varchar(255) column.
const MaxLen = 255

// ErrInvalid is what every *Error unwraps to.
var ErrInvalid = errors.New("invalid GUN")

// An Error says why a GUN cannot name a collection.
type Error struct {
	GUN    string
	Reason string // a predicate of the GUN, e.g. `contains "*"`
}

func (e *Error) Error() string {
	return fmt.Sprintf("invalid GUN %q: it %s", e.GUN, e.Reason)
}

// Unwrap returns ErrInvalid.
func (e *Error) Unwrap() error { return ErrInvalid }

// Check reports whether g can name a collection on a server: 1 to MaxLen
// bytes of valid UTF-8, no control character, no "*" (v0.7.0's routes match
// GUNs as [^*]+) and no ".." anywhere (no path tricks in mirrors, caches
// and logs). It returns an *Error or nil.
func Check(g string) error {
	bad := func(reason string) error { return &Error{GUN: g, Reason: reason} }
	switch {
	case g == "":
		return bad("is empty")
	case len(g) > MaxLen:
		return bad(fmt.Sprintf("is longer than %d bytes", MaxLen))
	case !utf8.ValidString(g):
		return bad("is not valid UTF-8")
	case strings.ContainsRune(g, '*'):
		return bad(`contains "*"`)
	case strings.Contains(g, ".."):
		return bad(`contains ".."`)
	}
	for _, r := range g {
		if unicode.IsControl(r) {
			return bad("contains a control character")
		}
	}
	return nil
}

// CheckPath is Check plus what makes g safe as a relative path below a
// client's trust directory or a mirror's root (docs/protocol.md §7.1; the
// 2018 Cure53 audit's NOT-01-003: `notary init ../../x` wrote outside the
// trust directory): not absolute (no leading "/", no drive letter), no
// "\" (a separator on Windows), no empty or "." segment, so g equals its
// own path.Clean, and no segment but the first named like a folder the
// trust directory keeps per collection (IsTrustDirFolder), so that no two
// collections' files can meet. Docker's names ("docker.io/library/alpine",
// "localhost:5000/app") pass.
func CheckPath(g string) error {
	if err := Check(g); err != nil {
		return err
	}
	bad := func(reason string) error { return &Error{GUN: g, Reason: reason} }
	switch {
	case strings.HasPrefix(g, "/"):
		return bad("is an absolute path")
	case strings.ContainsRune(g, '\\'):
		return bad(`contains "\"`)
	case len(g) >= 2 && g[1] == ':' && isASCIILetter(g[0]) && (len(g) == 2 || g[2] == '/'):
		return bad("looks like a Windows drive path")
	}
	for i, seg := range strings.Split(g, "/") {
		switch {
		case seg == "":
			return bad(`has an empty path segment (leading, trailing or double "/")`)
		case seg == ".":
			return bad(`has a "." path segment`)
		case i > 0 && IsTrustDirFolder(seg):
			// <trust_dir>/tuf/X/metadata/targets/metadata/root.json would be
			// both GUN X's role targets/metadata/root and GUN
			// X/metadata/targets's root; X/changelist would live in X's
			// changelist. v0.7.0 accepted such GUNs; no registry needs one.
			return bad(`has a "` + seg + `" path segment, the name of a folder the trust directory keeps for each collection`)
		}
	}
	return nil
}

// The folders a client's trust directory keeps for each collection, in
// <trust_dir>/tuf/<gun>/ (docs/protocol.md §7.1).
const (
	MetadataFolder   = "metadata"
	ChangelistFolder = "changelist"
)

// IsTrustDirFolder reports whether seg names one of those folders, in any
// case (macOS and Windows file systems ignore case).
func IsTrustDirFolder(seg string) bool {
	return strings.EqualFold(seg, MetadataFolder) || strings.EqualFold(seg, ChangelistFolder)
}

func isASCIILetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// Prefixes is a server's repositories.gun_prefixes: when not empty, only
// GUNs that start with one of them are served (v0.7.0
// filterImagePrefixes). Make one with ParsePrefixes.
type Prefixes []string

// ParsePrefixes checks list (v1 getRequiredGunPrefixes): each entry ends
// in "/", is otherwise already clean (no "//", no "." segment, no
// surrounding spaces), and neither starts with "/" nor contains "..".
func ParsePrefixes(list []string) (Prefixes, error) {
	for _, p := range list {
		clean := path.Clean(strings.TrimSpace(p))
		if clean+"/" != p || strings.HasPrefix(p, "/") || strings.Contains(p, "..") {
			return nil, fmt.Errorf("invalid GUN prefix %s: it must end with / and be a clean relative path without ..", p)
		}
	}
	return Prefixes(append([]string(nil), list...)), nil
}

// Allows reports whether g is served: there are no prefixes, or g starts
// with one.
func (p Prefixes) Allows(g string) bool {
	if len(p) == 0 {
		return true
	}
	for _, prefix := range p {
		if strings.HasPrefix(g, prefix) {
			return true
		}
	}
	return false
}

// RefusalDetail is v0.7.0's INVALID_GUN detail for a GUN the prefixes
// refuse, e.g. "Require GUNs with prefix: [a/ b/]".
func (p Prefixes) RefusalDetail() string {
	return fmt.Sprintf("Require GUNs with prefix: %v", []string(p))
}

// tagPattern is the tag grammar of the OCI distribution spec and Docker.
var tagPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

// ValidTag reports whether t is an image tag: an image target's name in a
// collection named after its repository is the tag (docs/protocol.md
// §4.9).
func ValidTag(t string) bool { return tagPattern.MatchString(t) }
