package tuf

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/notary-go/notary/canonicaljson"
	"github.com/notary-go/notary/keys"
)

// Parsing is strict where v1 is lax in ways an attacker could use, and lax
// where v1 produces or accepts the data:
//
//   - the file must be one JSON object with exactly "signed" and
//     "signatures" (extra unsigned fields refused: Notary 2018 audit);
//   - no object anywhere may repeat a key, strings must be valid UTF-8, and
//     a member may not differ from a known field only by case (encoding/json
//     matches fields case-insensitively, so such files read differently in
//     v1 and here);
//   - unknown fields inside "signed" are ignored, as in v1: they are covered
//     by the signatures but not modelled;
//   - null is accepted wherever v1 can write it (targets, delegation keys,
//     roles, paths, keyids, hashes).

// Metadata is implemented by *Root, *Targets, *Snapshot and *Timestamp.
type Metadata interface {
	// Common returns the fields every role body shares.
	Common() Common
}

var (
	_ Metadata = (*Root)(nil)
	_ Metadata = (*Targets)(nil)
	_ Metadata = (*Snapshot)(nil)
	_ Metadata = (*Timestamp)(nil)
)

// Common holds the fields every role body carries (v1 §1.2).
type Common struct {
	Type    string
	Version int64
	Expires time.Time
}

// Common implements Metadata.
func (r *Root) Common() Common { return Common{r.Type, r.Version, r.Expires} }

// Common implements Metadata.
func (t *Targets) Common() Common { return Common{t.Type, t.Version, t.Expires} }

// Common implements Metadata.
func (s *Snapshot) Common() Common { return Common{s.Type, s.Version, s.Expires} }

// Common implements Metadata.
func (t *Timestamp) Common() Common { return Common{t.Type, t.Version, t.Expires} }

// ParseEnvelope parses a metadata file without interpreting the role body.
// It refuses anything but {"signed":{...},"signatures":[...]} with at least
// one signature, each with a string keyid, method and base64 sig (v1 §1.1).
// Methods are lowercased, as v1 does. Signed holds the exact bytes of the
// "signed" value in data. Errors are *MalformedError or *NoSignaturesError.
func ParseEnvelope(data []byte) (*Envelope, error) {
	env, _, err := parseEnvelope("", data)
	return env, err
}

// ParseEnvelopeOf is ParseEnvelope for a file of role, whose name labels
// the errors. Together with RoleKeys.Verify and DecodeTargets (or the
// other Decode functions) it lets a reader refuse a file whose signatures
// do not count before decoding its body, the costly part of a large file.
func ParseEnvelopeOf(role string, data []byte) (*Envelope, error) {
	env, _, err := parseEnvelopeShape(role, data, envelopeShapes[""])
	return env, err
}

// ParseRoot parses and validates root.json (v1 §1.3): _type "Root",
// version >= 1, expires, every key listed under its own TUF ID, all four
// base roles present with threshold >= 1 and only known key IDs. It does
// not check signatures or expiry.
func ParseRoot(data []byte) (*Root, *Envelope, error) {
	env, body, err := parseEnvelope(RoleRoot, data)
	if err != nil {
		return nil, nil, err
	}
	r, err := decodeRoot(body)
	if err != nil {
		return nil, nil, err
	}
	return r, env, nil
}

// ParseTargets parses and validates the metadata of role, "targets" or a
// delegation name (v1 §1.4): _type "Targets", version >= 1, expires,
// FileMeta of every target, and delegations whose names are valid direct
// children of role, with threshold >= 1 and only known key IDs. It does not
// check signatures or expiry.
func ParseTargets(data []byte, role string) (*Targets, *Envelope, error) {
	if !IsTargetsRole(role) {
		return nil, nil, &RoleNameError{Name: role, Reason: "not targets or a delegation name"}
	}
	env, body, err := parseEnvelope(role, data)
	if err != nil {
		return nil, nil, err
	}
	t, err := decodeTargets(role, body)
	if err != nil {
		return nil, nil, err
	}
	return t, env, nil
}

// ParseSnapshot parses and validates snapshot.json (v1 §1.5): _type
// "Snapshot", version >= 1, expires, and meta entries for root and targets
// with a sha256. It does not check signatures or expiry.
func ParseSnapshot(data []byte) (*Snapshot, *Envelope, error) {
	env, body, err := parseEnvelope(RoleSnapshot, data)
	if err != nil {
		return nil, nil, err
	}
	s, err := decodeSnapshot(body)
	if err != nil {
		return nil, nil, err
	}
	return s, env, nil
}

// ParseTimestamp parses and validates timestamp.json (v1 §1.6): _type
// "Timestamp", version >= 1, expires, and meta.snapshot with a sha256. It
// does not check signatures or expiry.
func ParseTimestamp(data []byte) (*Timestamp, *Envelope, error) {
	env, body, err := parseEnvelope(RoleTimestamp, data)
	if err != nil {
		return nil, nil, err
	}
	t, err := decodeTimestamp(body)
	if err != nil {
		return nil, nil, err
	}
	return t, env, nil
}

// ParseRole parses the metadata of any role by name, dispatching to
// ParseRoot, ParseTargets, ParseSnapshot or ParseTimestamp.
func ParseRole(role string, data []byte) (Metadata, *Envelope, error) {
	switch {
	case role == RoleRoot:
		return wrap(ParseRoot(data))
	case role == RoleSnapshot:
		return wrap(ParseSnapshot(data))
	case role == RoleTimestamp:
		return wrap(ParseTimestamp(data))
	case IsTargetsRole(role):
		return wrap(ParseTargets(data, role))
	}
	return nil, nil, &RoleNameError{Name: role, Reason: "not a base role or a delegation name"}
}

func wrap[T Metadata](m T, env *Envelope, err error) (Metadata, *Envelope, error) {
	if err != nil {
		return nil, nil, err
	}
	return m, env, nil
}

// DecodeRoot decodes and validates a root body (the "signed" value alone,
// canonical or not) as ParseRoot does.
func DecodeRoot(signed []byte) (*Root, error) {
	body, err := parseBody(RoleRoot, signed)
	if err != nil {
		return nil, err
	}
	return decodeRoot(body)
}

// DecodeTargets decodes and validates the body of role as ParseTargets does.
func DecodeTargets(signed []byte, role string) (*Targets, error) {
	if !IsTargetsRole(role) {
		return nil, &RoleNameError{Name: role, Reason: "not targets or a delegation name"}
	}
	body, err := parseBody(role, signed)
	if err != nil {
		return nil, err
	}
	return decodeTargets(role, body)
}

// DecodeSnapshot decodes and validates a snapshot body as ParseSnapshot does.
func DecodeSnapshot(signed []byte) (*Snapshot, error) {
	body, err := parseBody(RoleSnapshot, signed)
	if err != nil {
		return nil, err
	}
	return decodeSnapshot(body)
}

// DecodeTimestamp decodes and validates a timestamp body as ParseTimestamp
// does.
func DecodeTimestamp(signed []byte) (*Timestamp, error) {
	body, err := parseBody(RoleTimestamp, signed)
	if err != nil {
		return nil, err
	}
	return decodeTimestamp(body)
}

func parseBody(role string, signed []byte) (map[string]any, error) {
	v, err := canonicaljson.ParseShaped(signed, bodyShape(role))
	if err != nil {
		return nil, &MalformedError{Role: role, Field: "signed", Reason: err.Error()}
	}
	d := decoder{role: role}
	obj, ok := d.object(v, "signed")
	if !ok {
		return nil, d.err
	}
	return obj, nil
}

func parseEnvelope(role string, data []byte) (*Envelope, map[string]any, error) {
	return parseEnvelopeShape(role, data, envelopeShape(role))
}

func parseEnvelopeShape(role string, data []byte, shape *canonicaljson.Shape) (*Envelope, map[string]any, error) {
	top, spans, err := canonicaljson.ParseShapedObject(data, shape)
	var unknown *canonicaljson.UnknownMemberError
	switch {
	case errors.As(err, &unknown):
		return nil, nil, &MalformedError{Role: role, Field: unknown.Key, Reason: "unexpected top-level field: only \"signed\" and \"signatures\" are allowed"}
	case errors.Is(err, canonicaljson.ErrTooMany):
		return nil, nil, &MalformedError{Role: role, Field: "signatures", Reason: fmt.Sprintf("more than %d signatures", MaxSignatures)}
	case err != nil:
		return nil, nil, &MalformedError{Role: role, Reason: err.Error()}
	}
	d := decoder{role: role}
	sv, ok := top["signed"]
	if !ok {
		return nil, nil, &MalformedError{Role: role, Field: "signed", Reason: "missing"}
	}
	body, ok := d.object(sv, "signed")
	if !ok {
		return nil, nil, d.err
	}
	sigsV, ok := top["signatures"]
	if !ok {
		return nil, nil, &MalformedError{Role: role, Field: "signatures", Reason: "missing"}
	}
	list, ok := d.array(sigsV, "signatures")
	if !ok {
		return nil, nil, d.err
	}
	if len(list) == 0 {
		return nil, nil, &NoSignaturesError{Role: role}
	}
	sigs := make([]Signature, len(list))
	for i, e := range list {
		field := "signatures[" + strconv.Itoa(i) + "]"
		o, ok := d.object(e, field)
		if !ok {
			return nil, nil, d.err
		}
		if !d.fields(o, field, "keyid", "method", "sig") {
			return nil, nil, d.err
		}
		s := &sigs[i]
		if s.KeyID, ok = d.reqString(o, field, "keyid"); !ok {
			return nil, nil, d.err
		}
		if s.Method, ok = d.reqString(o, field, "method"); !ok {
			return nil, nil, d.err
		}
		s.Method = strings.ToLower(s.Method) // v1 Signature.UnmarshalJSON
		sig, ok := d.reqString(o, field, "sig")
		if !ok {
			return nil, nil, d.err
		}
		if s.Sig, ok = d.base64(sig, field+".sig"); !ok {
			return nil, nil, d.err
		}
	}
	return &Envelope{Signed: json.RawMessage(bytes.Clone(spans["signed"])), Signatures: sigs}, body, nil
}

func decodeRoot(body map[string]any) (*Root, error) {
	d := decoder{role: RoleRoot}
	if !d.fields(body, "", "_type", "consistent_snapshot", "expires", "keys", "roles", "version") {
		return nil, d.err
	}
	r := &Root{}
	if !d.common(body, TypeRoot, &r.Type, &r.Version, &r.Expires) {
		return nil, d.err
	}
	if v, ok := body["consistent_snapshot"]; ok && v != nil {
		b, isBool := v.(bool)
		if !isBool {
			return nil, d.fail("consistent_snapshot", "not a boolean")
		}
		r.ConsistentSnapshot = b
	}
	var ok bool
	if r.Keys, ok = d.keyMap(body["keys"], "keys"); !ok {
		return nil, d.err
	}
	rolesV, present := body["roles"]
	if !present || rolesV == nil {
		return nil, d.fail("roles", "missing")
	}
	roles, ok := d.object(rolesV, "roles")
	if !ok {
		return nil, d.err
	}
	r.Roles = make(map[string]*RootRole, len(roles))
	for _, name := range rolesOrder(roles) {
		v := roles[name]
		field := "roles." + name
		if v == nil {
			if IsBaseRole(name) {
				return nil, d.fail(field, "missing") // v1 §1.3: base roles non-null
			}
			r.Roles[name] = nil // extra roles are tolerated
			continue
		}
		// v1 checks only the base roles: an extra role that does not
		// meet the rules is tolerated but not kept.
		dd := &d
		if !IsBaseRole(name) {
			dd = &decoder{role: d.role}
		}
		o, ok := dd.object(v, field)
		rr := &RootRole{}
		if !ok || !dd.fields(o, field, "keyids", "threshold") ||
			!dd.keyIDs(o, field, r.Keys, &rr.KeyIDs) ||
			!dd.threshold(o, field, &rr.Threshold) {
			if dd == &d {
				return nil, d.err
			}
			continue
		}
		r.Roles[name] = rr
	}
	for _, name := range BaseRoles {
		if r.Roles[name] == nil {
			return nil, d.fail("roles."+name, "missing")
		}
	}
	return r, nil
}

func decodeTargets(role string, body map[string]any) (*Targets, error) {
	d := decoder{role: role}
	if !d.fields(body, "", "_type", "delegations", "expires", "targets", "version") {
		return nil, d.err
	}
	t := &Targets{}
	if !d.common(body, TypeTargets, &t.Type, &t.Version, &t.Expires) {
		return nil, d.err
	}
	if v := body["targets"]; v != nil {
		o, ok := d.object(v, "targets")
		if !ok {
			return nil, d.err
		}
		t.Targets = make(map[string]FileMeta, len(o))
		for name, fv := range o {
			fm, ok := d.fileMeta(fv, "")
			if !ok {
				// Report the first bad target in name order, so the
				// error does not depend on map iteration.
				for _, name := range slices.Sorted(maps.Keys(o)) {
					if _, ok := d.fileMeta(o[name], "targets["+strconv.Quote(name)+"]"); !ok {
						break
					}
				}
				return nil, d.err
			}
			t.Targets[name] = fm
		}
	}
	if v := body["delegations"]; v != nil {
		o, ok := d.object(v, "delegations")
		if !ok {
			return nil, d.err
		}
		if !d.fields(o, "delegations", "keys", "roles") {
			return nil, d.err
		}
		if t.Delegations.Keys, ok = d.keyMap(o["keys"], "delegations.keys"); !ok {
			return nil, d.err
		}
		if rv := o["roles"]; rv != nil {
			list, ok := d.array(rv, "delegations.roles")
			if !ok {
				return nil, d.err
			}
			t.Delegations.Roles = make([]*DelegationRole, 0, len(list))
			seen := make(map[string]bool, len(list))
			for i, e := range list {
				field := "delegations.roles[" + strconv.Itoa(i) + "]"
				dr, ok := d.delegationRole(e, field, t.Delegations.Keys)
				if !ok {
					return nil, d.err
				}
				// v1 isValidTargetsStructure: a valid name and a direct child.
				if !IsDelegationName(dr.Name) {
					return nil, d.fail(field+".name", fmt.Sprintf("invalid delegation name %q", dr.Name))
				}
				if !IsDirectChild(role, dr.Name) {
					return nil, d.fail(field+".name", fmt.Sprintf("%s is not a direct child of %s", dr.Name, role))
				}
				if seen[dr.Name] {
					return nil, d.fail(field+".name", fmt.Sprintf("delegation %s listed twice", dr.Name))
				}
				seen[dr.Name] = true
				t.Delegations.Roles = append(t.Delegations.Roles, dr)
			}
		}
	}
	return t, nil
}

func decodeSnapshot(body map[string]any) (*Snapshot, error) {
	d := decoder{role: RoleSnapshot}
	if !d.fields(body, "", "_type", "expires", "meta", "version") {
		return nil, d.err
	}
	s := &Snapshot{}
	if !d.common(body, TypeSnapshot, &s.Type, &s.Version, &s.Expires) {
		return nil, d.err
	}
	var ok bool
	if s.Meta, ok = d.metaMap(body, RoleRoot, RoleTargets); !ok {
		return nil, d.err
	}
	return s, nil
}

func decodeTimestamp(body map[string]any) (*Timestamp, error) {
	d := decoder{role: RoleTimestamp}
	if !d.fields(body, "", "_type", "expires", "meta", "version") {
		return nil, d.err
	}
	t := &Timestamp{}
	if !d.common(body, TypeTimestamp, &t.Type, &t.Version, &t.Expires) {
		return nil, d.err
	}
	var ok bool
	if t.Meta, ok = d.metaMap(body, RoleSnapshot); !ok {
		return nil, d.err
	}
	return t, nil
}

// decoder turns a strictly parsed tree into the wire structs. Each method
// reports success; on failure d.err holds the error for d.role.
type decoder struct {
	role    string
	err     error
	scratch []byte
}

func (d *decoder) fail(field, reason string) error {
	d.err = &MalformedError{Role: d.role, Field: field, Reason: reason}
	return d.err
}

func join(field, name string) string {
	if field == "" {
		return name
	}
	return field + "." + name
}

// fields refuses members that differ from a known field name only by
// letter case: v1's decoder would bind them to that field.
func (d *decoder) fields(o map[string]any, field string, known ...string) bool {
	for k := range o {
		for _, f := range known {
			if k != f && strings.EqualFold(k, f) {
				d.fail(join(field, k), fmt.Sprintf("differs from field %q only by case", f))
				return false
			}
		}
	}
	return true
}

func (d *decoder) object(v any, field string) (map[string]any, bool) {
	o, ok := v.(map[string]any)
	if !ok {
		d.fail(field, "not an object, got "+kind(v))
	}
	return o, ok
}

func (d *decoder) array(v any, field string) ([]any, bool) {
	a, ok := v.([]any)
	if !ok {
		d.fail(field, "not an array, got "+kind(v))
	}
	return a, ok
}

func (d *decoder) reqString(o map[string]any, field, name string) (string, bool) {
	v, present := o[name]
	if !present {
		d.fail(join(field, name), "missing")
		return "", false
	}
	s, ok := v.(string)
	if !ok {
		d.fail(join(field, name), "not a string, got "+kind(v))
	}
	return s, ok
}

// base64 decodes standard padded base64 and refuses any other spelling of
// the same bytes, so that every reader sees one value for one text.
func (d *decoder) base64(s, field string) ([]byte, bool) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err == nil && base64.StdEncoding.EncodedLen(len(b)) == len(s) {
		d.scratch = base64.StdEncoding.AppendEncode(d.scratch[:0], b)
		if string(d.scratch) == s {
			return b, true
		}
	}
	d.fail(field, "not canonical padded base64")
	return nil, false
}

// integer reads a JSON integer within [min, max]. Fractions and exponents
// are refused, as encoding/json refuses them for Go integer fields.
func (d *decoder) integer(v any, field string, min, max int64) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		d.fail(field, "not a number, got "+kind(v))
		return 0, false
	}
	i, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil {
		if strings.ContainsAny(string(n), ".eE") {
			d.fail(field, fmt.Sprintf("%s is not an integer", n))
		} else {
			d.fail(field, fmt.Sprintf("%s is out of range", n))
		}
		return 0, false
	}
	if i < min || i > max {
		d.fail(field, fmt.Sprintf("%d is out of range [%d, %d]", i, min, max))
		return 0, false
	}
	return i, true
}

// common reads _type, version and expires (v1 §1.2).
func (d *decoder) common(o map[string]any, wantType string, typ *string, version *int64, expires *time.Time) bool {
	t, ok := d.reqString(o, "", "_type")
	if !ok {
		return false
	}
	if t != wantType { // compared case-sensitively (v1 §1.2)
		d.err = &TypeError{Role: d.role, Want: wantType, Got: t}
		return false
	}
	*typ = t
	vv, present := o["version"]
	if !present {
		d.fail("version", "missing")
		return false
	}
	if *version, ok = d.integer(vv, "version", math.MinInt64, math.MaxInt64); !ok {
		return false
	}
	if *version < 1 {
		d.fail("version", fmt.Sprintf("version %d cannot be less than one", *version))
		return false
	}
	e, ok := d.reqString(o, "", "expires")
	if !ok {
		return false
	}
	// Any number of fractional digits is accepted (v1 §1.2), but not Go's
	// extensions: a ',' before the fraction, or a zone offset of 24h or
	// more, which time.Time cannot write back.
	tm, err := time.Parse(time.RFC3339, e)
	if err == nil && strings.IndexByte(e, ',') >= 0 {
		err = errors.New("comma")
	}
	if err == nil {
		_, err = tm.MarshalText()
	}
	if err != nil {
		d.fail("expires", fmt.Sprintf("%q is not an RFC 3339 time", e))
		return false
	}
	*expires = tm
	return true
}

// keyMap reads a map of key ID to key object; null gives a nil map. Every
// key must be listed under its own TUF ID (v1 §1.3).
func (d *decoder) keyMap(v any, field string) (map[string]keys.PublicKey, bool) {
	if v == nil {
		return nil, true
	}
	o, ok := d.object(v, field)
	if !ok {
		return nil, false
	}
	m := make(map[string]keys.PublicKey, len(o))
	for _, id := range slices.Sorted(maps.Keys(o)) {
		kv := o[id]
		f := field + "." + id
		ko, ok := d.object(kv, f)
		if !ok || !d.fields(ko, f, "keytype", "keyval") {
			return nil, false
		}
		typ, ok := d.reqString(ko, f, "keytype")
		if !ok {
			return nil, false
		}
		if typ == "" {
			d.fail(f+".keytype", "empty")
			return nil, false
		}
		valV, present := ko["keyval"]
		if !present {
			d.fail(f+".keyval", "missing")
			return nil, false
		}
		val, ok := d.object(valV, f+".keyval")
		if !ok || !d.fields(val, f+".keyval", "private", "public") {
			return nil, false
		}
		if p, present := val["private"]; present && p != nil && p != "" {
			d.fail(f+".keyval.private", "metadata must not carry a private key")
			return nil, false
		}
		pubS, ok := d.reqString(val, f+".keyval", "public")
		if !ok {
			return nil, false
		}
		pub, ok := d.base64(pubS, f+".keyval.public")
		if !ok {
			return nil, false
		}
		if len(pub) == 0 {
			d.fail(f+".keyval.public", "empty")
			return nil, false
		}
		k := keys.PublicKey{Type: typ, Public: pub}
		if got := k.ID(); got != id {
			d.err = &MalformedError{Role: d.role, Field: f, Reason: (&KeyIDMismatchError{Role: d.role, KeyID: id, Computed: got}).Error()}
			return nil, false
		}
		m[id] = k
	}
	return m, true
}

// keyIDs reads "keyids" (null allowed) and checks each names a known key.
func (d *decoder) keyIDs(o map[string]any, field string, known map[string]keys.PublicKey, out *[]string) bool {
	v := o["keyids"]
	if v == nil {
		return true
	}
	list, ok := d.array(v, field+".keyids")
	if !ok {
		return false
	}
	ids := make([]string, len(list))
	for i, e := range list {
		s, ok := e.(string)
		if !ok {
			d.fail(fmt.Sprintf("%s.keyids[%d]", field, i), "not a string, got "+kind(e))
			return false
		}
		if _, exists := known[s]; !exists {
			d.fail(fmt.Sprintf("%s.keyids[%d]", field, i), fmt.Sprintf("key ID %s has no corresponding key", s))
			return false
		}
		ids[i] = s
	}
	*out = ids
	return true
}

// threshold reads a threshold, which must be >= 1 (v1 isValidRootRoleStructure).
func (d *decoder) threshold(o map[string]any, field string, out *int) bool {
	v, present := o["threshold"]
	if !present {
		d.fail(field+".threshold", "missing")
		return false
	}
	n, ok := d.integer(v, field+".threshold", math.MinInt64, math.MaxInt64)
	if !ok {
		return false
	}
	if n < 1 {
		d.fail(field+".threshold", fmt.Sprintf("invalid threshold %d: must be at least 1", n))
		return false
	}
	if n > math.MaxInt32 {
		d.fail(field+".threshold", fmt.Sprintf("threshold %d is out of range", n))
		return false
	}
	*out = int(n)
	return true
}

func (d *decoder) delegationRole(v any, field string, known map[string]keys.PublicKey) (*DelegationRole, bool) {
	o, ok := d.object(v, field)
	if !ok || !d.fields(o, field, "keyids", "name", "paths", "threshold") {
		return nil, false
	}
	r := &DelegationRole{}
	if r.Name, ok = d.reqString(o, field, "name"); !ok {
		return nil, false
	}
	if !d.keyIDs(o, field, known, &r.KeyIDs) || !d.threshold(o, field, &r.Threshold) {
		return nil, false
	}
	if pv := o["paths"]; pv != nil {
		list, ok := d.array(pv, field+".paths")
		if !ok {
			return nil, false
		}
		if len(list) > MaxDelegationPaths {
			d.fail(field+".paths", fmt.Sprintf("%d paths, more than the %d allowed", len(list), MaxDelegationPaths))
			return nil, false
		}
		r.Paths = make([]string, len(list))
		for i, e := range list {
			s, ok := e.(string)
			if !ok {
				d.fail(fmt.Sprintf("%s.paths[%d]", field, i), "not a string, got "+kind(e))
				return nil, false
			}
			r.Paths[i] = s
		}
	}
	// path_hash_prefixes is dropped, as v1 drops it (v1 §1.4).
	return r, true
}

// fileMeta reads {"custom":..,"hashes":{..},"length":n} (v1 §1.7). Known
// algorithms must have the right digest length; custom is kept as its
// canonical encoding.
func (d *decoder) fileMeta(v any, field string) (FileMeta, bool) {
	var fm FileMeta
	o, ok := d.object(v, field)
	if !ok || !d.fields(o, field, "custom", "hashes", "length") {
		return fm, false
	}
	if c := o["custom"]; c != nil {
		var enc []byte
		var err error
		switch c := c.(type) {
		case canonicaljson.RawValue:
			if string(c) == "null" {
				break
			}
			enc, err = canonicaljson.Canonicalize(c)
		default:
			var buf bytes.Buffer
			err = canonicaljson.EncodeValue(&buf, c)
			enc = buf.Bytes()
		}
		if err != nil {
			d.fail(field+".custom", err.Error())
			return fm, false
		}
		if enc != nil {
			raw := json.RawMessage(enc)
			fm.Custom = &raw
		}
	}
	if lv, present := o["length"]; present && lv != nil {
		if fm.Length, ok = d.integer(lv, field+".length", 0, math.MaxInt64); !ok {
			return fm, false
		}
	}
	if hv := o["hashes"]; hv != nil {
		ho, ok := d.object(hv, field+".hashes")
		if !ok {
			return fm, false
		}
		fm.Hashes = make(Hashes, len(ho))
		for _, alg := range sortedSmall(ho) {
			e := ho[alg]
			f := field + ".hashes." + alg
			s, ok := e.(string)
			if !ok {
				d.fail(f, "not a string, got "+kind(e))
				return fm, false
			}
			h, ok := d.base64(s, f)
			if !ok {
				return fm, false
			}
			if want, known := hashSizes[alg]; known && len(h) != want {
				d.fail(f, fmt.Sprintf("%s digest is %d bytes, want %d", alg, len(h), want))
				return fm, false
			}
			fm.Hashes[alg] = h
		}
	}
	return fm, true
}

// metaMap reads "meta" and requires each of the given entries with a sha256
// (v1 IsValidSnapshotStructure, IsValidTimestampStructure).
func (d *decoder) metaMap(body map[string]any, required ...string) (map[string]FileMeta, bool) {
	v, present := body["meta"]
	if !present || v == nil {
		d.fail("meta", "missing")
		return nil, false
	}
	o, ok := d.object(v, "meta")
	if !ok {
		return nil, false
	}
	m := make(map[string]FileMeta, len(o))
	for _, name := range slices.Sorted(maps.Keys(o)) {
		e := o[name]
		fm, ok := d.fileMeta(e, "meta."+name)
		if !ok {
			return nil, false
		}
		m[name] = fm
	}
	for _, name := range required {
		fm, present := m[name]
		if !present {
			d.fail("meta."+name, "missing")
			return nil, false
		}
		if _, ok := fm.Hashes[SHA256]; !ok {
			d.fail("meta."+name+".hashes", "missing sha256 checksum")
			return nil, false
		}
	}
	return m, true
}

// rolesOrder lists base roles first, then any other role names sorted.
func rolesOrder(roles map[string]any) []string {
	out := make([]string, 0, len(roles))
	for _, r := range BaseRoles {
		if _, ok := roles[r]; ok {
			out = append(out, r)
		}
	}
	for _, r := range slices.Sorted(maps.Keys(roles)) {
		if !IsBaseRole(r) {
			out = append(out, r)
		}
	}
	return out
}

// sortedSmall returns the keys of a small map in order.
func sortedSmall(m map[string]any) []string {
	if len(m) == 1 {
		for k := range m {
			return []string{k}
		}
	}
	return slices.Sorted(maps.Keys(m))
}

func kind(v any) string {
	if s, ok := v.(canonicaljson.Skipped); ok {
		return s.Kind
	}
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case json.Number:
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}
