package tuf

// Size limits of metadata files, per role: the one definition the server
// (uploads), the api client (downloads) and update (the client workflow)
// all apply. A file whose length a trusted parent lists is read up to the
// smaller of that length and its role's limit (issue 10 item 4).
//
// v1 caps the timestamp at 1 MiB and everything else at 100 MiB
// (notary.MaxTimestampSize, MaxDownloadSize, §4.6). Targets and
// delegations keep v1's 100 MiB: they list every target and can be large.
// Root and snapshot are capped far lower: a root holds a few keys and
// certificates (a few KiB; 1 MiB is hundreds of certificates) and a
// snapshot one short entry per targets role (32 MiB is over 150,000
// delegations), so a hostile one cannot make either side read megabytes.
const (
	// MaxTimestampSize caps timestamp.json (v1 notary.MaxTimestampSize).
	MaxTimestampSize int64 = 1 << 20
	// MaxRootSize caps root.json and every versioned root.
	MaxRootSize int64 = 1 << 20
	// MaxSnapshotSize caps snapshot.json.
	MaxSnapshotSize int64 = 32 << 20
	// MaxTargetsSize caps targets.json and every delegation (v1
	// notary.MaxDownloadSize).
	MaxTargetsSize int64 = 100 << 20
	// MaxMetaSize is the largest of the limits above: the most any
	// metadata file may hold.
	MaxMetaSize = MaxTargetsSize
)

// MaxSize returns the size limit of role's metadata file. A name that is
// not a role gets MaxMetaSize.
func MaxSize(role string) int64 {
	switch role {
	case RoleTimestamp:
		return MaxTimestampSize
	case RoleRoot:
		return MaxRootSize
	case RoleSnapshot:
		return MaxSnapshotSize
	}
	return MaxTargetsSize
}

// ReadLimit returns how many bytes to read for role when a trusted parent
// claims length (0 or less: no usable length): the smaller of the claim
// and role's limit, so a forged parent cannot make a reader take more
// than the limit (issue 10 item 4).
func ReadLimit(role string, length int64) int64 {
	limit := MaxSize(role)
	if length > 0 && length < limit {
		return length
	}
	return limit
}
