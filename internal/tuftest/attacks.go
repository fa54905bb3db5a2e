package tuftest

import (
	"bytes"
	"fmt"
	"maps"
	"time"

	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/tuf"
	"github.com/notary-go/notary/update"
)

// Attack helpers. Each changes what the Simulator serves at once; the
// legitimate state that Publish continues from is left alone unless said
// otherwise. Where an attack needs a new snapshot or timestamp, they are
// signed with the legitimate snapshot and timestamp keys, as a compromised
// notary server (which holds them) would sign them.

// Forge serves a copy of role's legitimate body with its version bumped
// by one and a fresh default expiry, changed by mutate (nil: unchanged;
// it receives the *tuf.Root, *tuf.Targets, *tuf.Snapshot or
// *tuf.Timestamp), signed by signers (none: role's legitimate keys, as a
// thief of them would). Unless role is timestamp, a new snapshot (unless
// role is snapshot) and a new timestamp listing the forgery follow, so
// only role's own checks can catch it. It returns the forged file.
func (s *Simulator) Forge(role string, mutate func(tuf.Metadata), signers ...*keys.PrivateKey) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	var body tuf.Metadata
	switch role {
	case tuf.RoleRoot:
		r := copyBody(role, s.root).(*tuf.Root)
		r.Version++
		body = r
	case tuf.RoleSnapshot:
		sn := copyBody(role, s.snapshot).(*tuf.Snapshot)
		sn.Version++
		body = sn
	case tuf.RoleTimestamp:
		ts := copyBody(role, s.timestamp).(*tuf.Timestamp)
		ts.Version++
		ts.Meta = map[string]tuf.FileMeta{tuf.RoleSnapshot: fileMeta(s.current[tuf.RoleSnapshot])}
		body = ts
	default:
		t := copyBody(role, s.role(role)).(*tuf.Targets)
		t.Version++
		body = t
	}
	setExpires(body, s.Clock.Now().Add(tuf.DefaultTTL(role)))
	if mutate != nil {
		mutate(body)
	}
	if len(signers) == 0 {
		signers = s.signers[role]
		if role == tuf.RoleRoot {
			signers = append(signers, s.oldRootSigners...)
		}
	}
	b := s.sign(body, signers)
	s.setCurrent(role, body.Common().Version, b)
	if role != tuf.RoleTimestamp {
		if role != tuf.RoleSnapshot {
			s.publishSnapshot()
		}
		s.publishTimestamp()
	}
	return b
}

func setExpires(body tuf.Metadata, t time.Time) {
	switch b := body.(type) {
	case *tuf.Root:
		b.Expires = t
	case *tuf.Targets:
		b.Expires = t
	case *tuf.Snapshot:
		b.Expires = t
	case *tuf.Timestamp:
		b.Expires = t
	}
}

func setVersion(body tuf.Metadata, v int64) {
	switch b := body.(type) {
	case *tuf.Root:
		b.Version = v
	case *tuf.Targets:
		b.Version = v
	case *tuf.Snapshot:
		b.Version = v
	case *tuf.Timestamp:
		b.Version = v
	}
}

// FastForward serves role at the given version (such as 2^31-1 or
// 2^63-1), validly signed with role's current keys: a thief of those keys
// pushing clients so far ahead that legitimate later versions look like
// rollbacks. The legitimate version counter is not changed; rotating the
// stolen keys (RotateKeys then Publish) is the recovery.
func (s *Simulator) FastForward(role string, version int64) []byte {
	return s.Forge(role, func(m tuf.Metadata) { setVersion(m, version) })
}

// SubstituteTarget serves role with target name pointing at data (an
// arbitrary-software attack), signed by a key that is not role's: the
// attacker controls the server (snapshot and timestamp keys) but not the
// targets keys.
func (s *Simulator) SubstituteTarget(role, name string, data []byte) []byte {
	fm := fileMeta(data)
	return s.Forge(role, func(m tuf.Metadata) { m.(*tuf.Targets).Targets[name] = fm }, NewKey())
}

// Rollback serves the published version of role as current again,
// followed (except for timestamp) by a new snapshot and timestamp that
// list it: a server replaying old metadata. Rolling back the timestamp
// replays the old timestamp itself, and with it the old snapshot and
// targets it names.
func (s *Simulator) Rollback(role string, version int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.history[role][version]
	if b == nil {
		panic(fmt.Sprintf("tuftest: no version %d of %s", version, role))
	}
	s.current[role] = b
	switch role {
	case tuf.RoleTimestamp:
	case tuf.RoleSnapshot:
		s.publishTimestamp()
	default:
		s.publishSnapshot()
		s.publishTimestamp()
	}
}

// Freeze keeps serving the current <role>.json files as they are now,
// whatever is published later, until Unfreeze: a freeze attack, caught
// once the frozen timestamp expires.
func (s *Simulator) Freeze() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.frozen = maps.Clone(s.current)
}

// Unfreeze serves the current files again.
func (s *Simulator) Unfreeze() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.frozen = nil
}

// MixAndMatch serves the published version of role under the name of its
// current hash, <role>.<sha256>.json: metadata from another version mixed
// into the current one.
func (s *Simulator) MixAndMatch(role string, version int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.history[role][version]
	if old == nil {
		panic(fmt.Sprintf("tuftest: no version %d of %s", version, role))
	}
	cur := s.current[role]
	s.overrides[update.FileName(role, sha256Hex(cur))] = old
}

// Tamper serves role's current file, under its plain and hash-addressed
// names, with one byte of the signed body changed to another of the same
// length: a malicious or corrupt mirror.
func (s *Simulator) Tamper(role string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.current[role]
	bad := bytes.Clone(cur)
	i := bytes.Index(bad, []byte(`"version":`))
	if i < 0 {
		panic("tuftest: no version field to tamper with")
	}
	// "version":N → "version":M with one digit changed, same length.
	j := i + len(`"version":`)
	if bad[j] == '9' {
		bad[j] = '8'
	} else {
		bad[j]++
	}
	s.overrides[update.FileName(role, "")] = bad
	s.overrides[update.FileName(role, sha256Hex(cur))] = bad
}

// Override serves data for the file name (as update.FileName or
// update.VersionedRootName spell it) instead of what is published.
func (s *Simulator) Override(name string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.overrides[name] = bytes.Clone(data)
}

// CurrentName returns the hash-addressed name of role's current file.
func (s *Simulator) CurrentName(role string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return update.FileName(role, sha256Hex(s.current[role]))
}

// EndlessData makes the file name an endless stream. A Simulator honours
// the size limit it is given (update.ReadLimited), as every Remote must,
// unless IgnoreSizeLimits is set; then it returns one byte more than the
// limit, as a broken Remote might.
func (s *Simulator) EndlessData(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.endless[name] = true
}

// IgnoreSizeLimits makes the Simulator return files whatever the size
// limit it is given (a Remote breaking its contract), so that the
// client's own check is what catches an oversized answer.
func (s *Simulator) IgnoreSizeLimits(ignore bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ignoreLimits = ignore
}

// ClearAttacks removes overrides, endless streams, freezes, the size
// limit bypass and the offline state.
func (s *Simulator) ClearAttacks() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.overrides)
	clear(s.endless)
	s.frozen = nil
	s.ignoreLimits = false
	s.offline = false
}
