package tuf

import (
	"path"
	"strings"
)

// MaxRoleNameLen is the length a delegation name must stay below (v1 §1.8:
// "shorter than 256 bytes", the width of v1's database column).
const MaxRoleNameLen = 256

// IsBaseRole reports whether name is root, targets, snapshot or timestamp.
func IsBaseRole(name string) bool {
	switch name {
	case RoleRoot, RoleTargets, RoleSnapshot, RoleTimestamp:
		return true
	}
	return false
}

// IsDelegationName reports whether name is a valid delegated role name
// (v1 §1.8): it starts with "targets/", uses only [-a-z0-9_/], is shorter
// than 256 bytes and equals its own path.Clean (no ".", "..", "//" or
// trailing "/"). It does not say whether the parent delegates it.
func IsDelegationName(name string) bool {
	if len(name) >= MaxRoleNameLen || !strings.HasPrefix(name, RoleTargets+"/") {
		return false
	}
	for i := 0; i < len(name); i++ {
		if !delegationByte(name[i]) {
			return false
		}
	}
	return path.Clean(name) == name
}

func delegationByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '/'
}

// ValidRole reports whether name is a base role or a valid delegation name
// (v1 data.ValidRole). It does not check that the delegation exists.
func ValidRole(name string) bool { return IsBaseRole(name) || IsDelegationName(name) }

// IsTargetsRole reports whether name is "targets" or a delegation name:
// the roles whose metadata has _type "Targets".
func IsTargetsRole(name string) bool { return name == RoleTargets || IsDelegationName(name) }

// ParentRole returns the role that delegates name: "targets" for
// "targets/a", "targets/a" for "targets/a/b". It returns "" for base roles
// and invalid names, which have no parent.
func ParentRole(name string) string {
	if !IsDelegationName(name) {
		return ""
	}
	return path.Dir(name)
}

// IsDirectChild reports whether child is a delegation name whose parent is
// exactly parent (v1 DelegationRole.IsParentOf: "targets/a" is the parent of
// "targets/a/b" but not of "targets/a/b/c").
func IsDirectChild(parent, child string) bool {
	return IsDelegationName(child) && path.Dir(child) == parent
}

// IsWildcardName reports whether name is a wildcard delegation name as used
// in changelists for key purges (v1 IsWildDelegation): "targets/*" or
// "<delegation>/*". The "*" must be a whole final segment; wildcard names
// never name a metadata file.
func IsWildcardName(name string) bool {
	if !strings.HasSuffix(name, "/*") || path.Clean(name) != name {
		return false
	}
	base := path.Dir(name)
	return base == RoleTargets || IsDelegationName(base)
}

// WildcardMatches reports whether the wildcard name pattern covers role:
// "targets/*" covers every delegation below targets at any depth (v1 purges
// keys from all of them), "targets/a/*" every delegation below targets/a.
// A pattern that is not a wildcard name matches only itself.
func WildcardMatches(pattern, role string) bool {
	if !IsWildcardName(pattern) {
		return pattern == role
	}
	prefix := strings.TrimSuffix(pattern, "*")
	return IsDelegationName(role) && strings.HasPrefix(role, prefix)
}
