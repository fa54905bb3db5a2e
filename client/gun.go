package client

import "github.com/notary-go/notary/gun"

// MaxGUNLen is the longest GUN accepted, in bytes.
const MaxGUNLen = gun.MaxLen

// ValidateGUN reports whether g can name a trusted collection here. A GUN
// becomes a path below <trust_dir>/tuf (docs/protocol.md §7.1), so beyond
// what a server accepts it must never name anything outside that
// directory, nor another collection's cache or changelist: see
// gun.CheckPath. The error is an *InvalidGUNError.
func ValidateGUN(g string) error { return gun.CheckPath(g) }

// reservedSegment reports whether seg names one of the folders of a
// collection in the trust directory (MetadataDir, ChangelistDir), in any
// case.
func reservedSegment(seg string) bool { return gun.IsTrustDirFolder(seg) }
