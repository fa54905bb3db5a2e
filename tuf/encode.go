package tuf

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/notary-go/notary/canonicaljson"
)

// CanonicalSigned returns the canonical bytes of a role body: the bytes
// that are signed and that a v1 verifier reconstructs (v1 §2.1, §2.3).
// body is a role struct (*Root, *Targets, ...), any value encoding/json can
// marshal, or raw JSON ([]byte or json.RawMessage), which is
// canonicalised. It refuses strings holding control characters, which v1
// can sign but never write into a file (v1 §2.2).
//
// Unlike v1, which copies FileMeta.custom verbatim (v1 §2.4), custom is
// canonicalised too, so what we sign is always verifiable by v1.
func CanonicalSigned(body any) ([]byte, error) {
	var (
		c   []byte
		err error
	)
	switch b := body.(type) {
	case json.RawMessage:
		c, err = canonicaljson.Canonicalize(b)
	case []byte:
		c, err = canonicaljson.Canonicalize(b)
	default:
		c, err = canonicaljson.Marshal(body)
	}
	if err != nil {
		return nil, &UnsignableError{Role: roleOfBody(body), Reason: err.Error()}
	}
	if err := checkWritable(c); err != nil {
		err.Role = roleOfBody(body)
		return nil, err
	}
	return c, nil
}

// checkWritable refuses canonical bytes that v1's envelope marshal cannot
// write: canonical JSON has no whitespace outside strings, so any byte below
// 0x20 is a raw control character inside a string (v1 §2.2).
func checkWritable(canonical []byte) *UnsignableError {
	for i, c := range canonical {
		if c < 0x20 {
			return &UnsignableError{Reason: fmt.Sprintf("string holds control character %#02x at byte %d; v1 cannot write it", c, i)}
		}
	}
	return nil
}

// MarshalEnvelope returns the exact file bytes v1 writes for env:
// {"signed":<body>,"signatures":[{"keyid":..,"method":..,"sig":..}]},
// compact, with no trailing newline (v1 §1.1). Like v1's envelope marshal,
// the body is compacted, not canonicalised: escapes already in env.Signed
// are kept, and '<', '>', '&', U+2028 and U+2029 inside strings are
// written as \u003c, \u003e, \u0026, \u2028, \u2029. So for a body from
// CanonicalSigned or Sign, the result is byte-for-byte what v1 writes; to
// re-serialise a parsed file as v1's server would, pass the canonical
// encoding of the decoded struct. A body that is not valid JSON, or that
// holds a raw control character in a string, is refused, as in v1 (v1
// §2.2). Deliberate deviation: an empty or nil signature list is written
// as "[]" where v1 writes "null" for nil; neither parses.
func MarshalEnvelope(env *Envelope) ([]byte, error) {
	if env == nil {
		return nil, &UnsignableError{Reason: "nil envelope"}
	}
	var compact bytes.Buffer
	compact.Grow(len(env.Signed))
	if err := json.Compact(&compact, env.Signed); err != nil {
		return nil, &UnsignableError{Reason: "signed is not valid JSON: " + err.Error()}
	}
	return appendEnvelope(nil, compact.Bytes(), env.Signatures), nil
}

// appendEnvelope writes the envelope around a compact body that is valid
// JSON without raw control characters in strings.
func appendEnvelope(b []byte, body []byte, sigs []Signature) []byte {
	escaped := canonicaljson.HTMLEscape(body)
	n := len(escaped) + 32
	for i := range sigs {
		n += 48 + len(sigs[i].KeyID) + len(sigs[i].Method) + base64.StdEncoding.EncodedLen(len(sigs[i].Sig))
	}
	if b == nil {
		b = make([]byte, 0, n)
	}
	b = append(b, `{"signed":`...)
	b = append(b, escaped...)
	b = append(b, `,"signatures":[`...)
	for i, s := range sigs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"keyid":`...)
		b = appendGoJSONString(b, s.KeyID)
		b = append(b, `,"method":`...)
		b = appendGoJSONString(b, s.Method)
		b = append(b, `,"sig":"`...)
		b = base64.StdEncoding.AppendEncode(b, s.Sig)
		b = append(b, `"}`...)
	}
	return append(b, "]}"...)
}

// appendGoJSONString writes s as encoding/json does (v1 marshals the
// signature list non-canonically, with HTML escaping).
func appendGoJSONString(b []byte, s string) []byte {
	if isPlainASCII(s) {
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	q, _ := json.Marshal(s) // a string always marshals
	return append(b, q...)
}

func isPlainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// roleOfBody names the role a body belongs to, for error messages.
func roleOfBody(body any) string {
	switch body.(type) {
	case *Root, Root:
		return RoleRoot
	case *Targets, Targets:
		return RoleTargets
	case *Snapshot, Snapshot:
		return RoleSnapshot
	case *Timestamp, Timestamp:
		return RoleTimestamp
	}
	return ""
}
