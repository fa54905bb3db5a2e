package tuf

import "time"

// Base role names.
const (
	RoleRoot      = "root"
	RoleTargets   = "targets"
	RoleSnapshot  = "snapshot"
	RoleTimestamp = "timestamp"
)

// Values of the "_type" field.
const (
	TypeRoot      = "Root"
	TypeTargets   = "Targets"
	TypeSnapshot  = "Snapshot"
	TypeTimestamp = "Timestamp"
)

// Default lifetimes Notary v1's client and server sign with (§1.9).
const (
	Year                = 365 * 24 * time.Hour
	DefaultRootTTL      = 10 * Year
	DefaultTargetsTTL   = 3 * Year
	DefaultSnapshotTTL  = 3 * Year
	DefaultTimestampTTL = 14 * 24 * time.Hour
)

// BaseRoles lists the four roles every root must define.
var BaseRoles = []string{RoleRoot, RoleTargets, RoleSnapshot, RoleTimestamp}

// DefaultTTL returns the lifetime a role is signed with: delegated roles
// share the targets lifetime.
func DefaultTTL(role string) time.Duration {
	switch role {
	case RoleRoot:
		return DefaultRootTTL
	case RoleSnapshot:
		return DefaultSnapshotTTL
	case RoleTimestamp:
		return DefaultTimestampTTL
	default:
		return DefaultTargetsTTL
	}
}

// TypeOf returns the "_type" value a role's metadata must carry.
func TypeOf(role string) string {
	switch role {
	case RoleRoot:
		return TypeRoot
	case RoleSnapshot:
		return TypeSnapshot
	case RoleTimestamp:
		return TypeTimestamp
	default:
		return TypeTargets
	}
}
