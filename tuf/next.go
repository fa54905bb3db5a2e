package tuf

import (
	"maps"
	"time"
)

// NextSnapshot builds the snapshot body that follows prev (nil: there is
// none yet), as both the server (§4.2) and a publisher holding the
// snapshot key (collection.Sign) make it: prev's meta with changes applied
// on top (roles not in changes keep their entry), version prev+1 (1
// without prev), expiring at expires. changes must describe the exact
// bytes of each role's file (the fix of §1.10). prev is not modified.
func NextSnapshot(prev *Snapshot, changes map[string]FileMeta, expires time.Time) *Snapshot {
	meta := make(map[string]FileMeta, len(changes)+2)
	version := int64(1)
	if prev != nil {
		maps.Copy(meta, prev.Meta)
		version = prev.Version + 1
	}
	maps.Copy(meta, changes)
	return &Snapshot{Type: TypeSnapshot, Expires: expires, Meta: meta, Version: version}
}

// NextTimestamp builds the timestamp body that follows prev (nil: there is
// none yet): version prev+1 (1 without prev), meta.snapshot describing the
// exact snapshot file bytes (DefaultHashes and length), expiring at
// expires. Only the holder of the timestamp key makes one: in v1 the
// server, always.
func NextTimestamp(prev *Timestamp, snapshot []byte, expires time.Time) (*Timestamp, error) {
	fm, err := NewFileMeta(snapshot)
	if err != nil {
		return nil, err
	}
	version := int64(1)
	if prev != nil {
		version = prev.Version + 1
	}
	return &Timestamp{Type: TypeTimestamp, Expires: expires, Meta: map[string]FileMeta{RoleSnapshot: fm}, Version: version}, nil
}
