package tuf

import (
	"encoding/json"
	"time"

	"github.com/notary-go/notary/keys"
)

// Signature is one entry of an envelope's "signatures" list.
type Signature struct {
	KeyID  string `json:"keyid"`
	Method string `json:"method"`
	Sig    []byte `json:"sig"`
}

// Envelope is a metadata file: the raw "signed" value and its signatures.
// Signed holds the bytes as found in the file; signatures are checked over
// their canonical form, never over these bytes directly.
type Envelope struct {
	Signed     json.RawMessage `json:"signed"`
	Signatures []Signature     `json:"signatures"`
}

// Hashes maps an algorithm name ("sha256", "sha512") to a raw digest
// (base64 on the wire).
type Hashes map[string][]byte

// FileMeta describes a file by length and hashes, with optional custom data.
type FileMeta struct {
	Custom *json.RawMessage `json:"custom,omitempty"`
	Hashes Hashes           `json:"hashes"`
	Length int64            `json:"length"`
}

// RootRole is a base role's entry in root: the keys that may sign it and
// how many must.
type RootRole struct {
	KeyIDs    []string `json:"keyids"`
	Threshold int      `json:"threshold"`
}

// Root is the "signed" body of root.json.
type Root struct {
	Type               string                    `json:"_type"`
	ConsistentSnapshot bool                      `json:"consistent_snapshot"`
	Expires            time.Time                 `json:"expires"`
	Keys               map[string]keys.PublicKey `json:"keys"`
	Roles              map[string]*RootRole      `json:"roles"`
	Version            int64                     `json:"version"`
}

// DelegationRole is one entry of a targets file's delegations.roles list.
// Paths are plain string prefixes; "" allows every target name.
type DelegationRole struct {
	KeyIDs    []string `json:"keyids"`
	Name      string   `json:"name"`
	Paths     []string `json:"paths,omitempty"`
	Threshold int      `json:"threshold"`
}

// Delegations is the delegations object of a targets file. v1 always
// writes it, even when empty.
type Delegations struct {
	Keys  map[string]keys.PublicKey `json:"keys"`
	Roles []*DelegationRole         `json:"roles"`
}

// Targets is the "signed" body of targets.json or a delegated role's file.
type Targets struct {
	Type        string              `json:"_type"`
	Delegations Delegations         `json:"delegations"`
	Expires     time.Time           `json:"expires"`
	Targets     map[string]FileMeta `json:"targets"`
	Version     int64               `json:"version"`
}

// Snapshot is the "signed" body of snapshot.json: FileMeta of root, targets
// and every delegated role, keyed by role name without ".json".
type Snapshot struct {
	Type    string              `json:"_type"`
	Expires time.Time           `json:"expires"`
	Meta    map[string]FileMeta `json:"meta"`
	Version int64               `json:"version"`
}

// Timestamp is the "signed" body of timestamp.json: the FileMeta of the
// current snapshot under "snapshot".
type Timestamp struct {
	Type    string              `json:"_type"`
	Expires time.Time           `json:"expires"`
	Meta    map[string]FileMeta `json:"meta"`
	Version int64               `json:"version"`
}
