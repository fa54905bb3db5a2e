// Package canonicaljson encodes JSON byte-identically to the canonical form
// Notary v1 signs and hashes (its vendored docker/go canonical/json):
// no insignificant whitespace, object keys sorted by byte order, only '"'
// and '\' escaped in strings, and integers only.
//
// Verification in Notary v1 never checks the bytes on the wire: it decodes
// the "signed" value into a generic tree and re-encodes it canonically. This
// package offers both halves: Marshal for Go values and Canonicalize for raw
// JSON. Unlike v1, numbers are decoded exactly (no float64 detour), so an
// integer above 2^53 is kept rather than silently rounded.
package canonicaljson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// Marshal returns the canonical encoding of v. v is first encoded with
// encoding/json (so struct tags and MarshalJSON methods apply) and the result
// is then canonicalised.
func Marshal(v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return Canonicalize(raw)
}

// Canonicalize decodes raw JSON into a generic tree and re-encodes it
// canonically, exactly as Notary v1 does before checking a signature.
// Duplicate object keys keep the last value (encoding/json semantics).
func Canonicalize(raw []byte) ([]byte, error) {
	// Fast path: where the strict parser would accept the input, its
	// meaning is the one encoding/json gives it (no duplicate keys, no
	// repaired strings), so it is canonicalised in one pass, tree-free.
	out, err := canonicalizeStrict(raw)
	if err == nil {
		return out, nil
	}
	if err != errNotStrict {
		return nil, err
	}
	v, err := decodeLikeV1(raw)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.Grow(len(raw))
	if err := encode(&buf, v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// decodeLikeV1 decodes as v1 does (encoding/json into interface{}, but
// with exact numbers): duplicate keys keep the last value, invalid UTF-8
// and unpaired surrogates become U+FFFD.
func decodeLikeV1(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("canonicaljson: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("canonicaljson: trailing data after JSON value")
	}
	return v, nil
}

// EncodeValue appends the canonical encoding of a generic JSON tree (as
// produced by encoding/json with UseNumber: map[string]any, []any, string,
// json.Number, bool, nil) to buf.
func EncodeValue(buf *bytes.Buffer, v any) error { return encode(buf, v) }

func encode(buf *bytes.Buffer, v any) error {
	switch t := v.(type) {
	case nil:
		buf.WriteString("null")
	case bool:
		if t {
			buf.WriteString("true")
		} else {
			buf.WriteString("false")
		}
	case string:
		writeString(buf, t)
	case json.Number:
		return writeNumber(buf, t)
	case float64:
		return writeNumber(buf, json.Number(strconv.FormatFloat(t, 'g', -1, 64)))
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		buf.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeString(buf, k)
			buf.WriteByte(':')
			if err := encode(buf, t[k]); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	case []any:
		buf.WriteByte('[')
		for i, e := range t {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := encode(buf, e); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	default:
		return fmt.Errorf("canonicaljson: unsupported type %T", v)
	}
	return nil
}

// writeString escapes only '"' and '\'; every other byte is written raw, as
// v1 does. Strings reaching here came through encoding/json, so invalid UTF-8
// has already become U+FFFD.
func writeString(buf *bytes.Buffer, s string) {
	buf.WriteByte('"')
	start := 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' {
			buf.WriteString(s[start:i])
			buf.WriteByte('\\')
			buf.WriteByte(c)
			start = i + 1
		}
	}
	buf.WriteString(s[start:])
	buf.WriteByte('"')
}

// writeNumber writes integers in decimal. A number with a fraction or
// exponent is accepted only when its value is integral and fits in int64,
// matching v1 ("1e3" -> 1000, "1.5" -> error). The value is worked out on
// the decimal digits, never with big arithmetic, so "1e999999999" costs
// no more than "1e3".
func writeNumber(buf *bytes.Buffer, n json.Number) error {
	s := string(n)
	if isPlainInteger(s) {
		if s == "-0" {
			s = "0"
		}
		buf.WriteString(s)
		return nil
	}
	i, err := integralValue(s)
	if err != nil {
		return err
	}
	buf.WriteString(strconv.FormatInt(i, 10))
	return nil
}

// integralValue evaluates a JSON number with a fraction or exponent.
func integralValue(s string) (int64, error) {
	num := s
	neg := strings.HasPrefix(num, "-")
	num = strings.TrimPrefix(num, "-")
	mant, exp, hasExp := strings.Cut(strings.ToLower(num), "e")
	intPart, frac, _ := strings.Cut(mant, ".")
	if !allDigits(intPart) || intPart == "" || !allDigits(frac) || hasExp && !validExponent(exp) {
		return 0, fmt.Errorf("canonicaljson: invalid number %q", s)
	}
	digits := strings.TrimLeft(intPart+frac, "0")
	if digits == "" {
		return 0, nil // any spelling of zero
	}
	// value = digits × 10^e, with e bounded to keep the arithmetic small.
	e := -len(frac)
	if hasExp {
		expNeg := strings.HasPrefix(exp, "-")
		exp = strings.TrimLeft(strings.TrimLeft(exp, "+-"), "0")
		if len(exp) > 9 {
			if expNeg {
				return 0, fmt.Errorf("canonicaljson: unsupported value %s: only integers are canonical", s)
			}
			return 0, fmt.Errorf("canonicaljson: number %s is out of int64 range", s)
		}
		x, _ := strconv.Atoi("0" + exp)
		if expNeg {
			x = -x
		}
		e += x
	}
	trimmed := strings.TrimRight(digits, "0")
	e += len(digits) - len(trimmed)
	digits = trimmed
	if e < 0 {
		return 0, fmt.Errorf("canonicaljson: unsupported value %s: only integers are canonical", s)
	}
	if len(digits)+e > 19 {
		return 0, fmt.Errorf("canonicaljson: number %s is out of int64 range", s)
	}
	text := digits + strings.Repeat("0", e)
	if neg {
		text = "-" + text
	}
	i, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("canonicaljson: number %s is out of int64 range", s)
	}
	return i, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func validExponent(s string) bool {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "+"), "-")
	return s != "" && allDigits(s)
}

func isPlainInteger(s string) bool {
	if s == "" {
		return false
	}
	if s[0] == '-' {
		s = s[1:]
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// IsCanonical reports whether raw is already in canonical form.
func IsCanonical(raw []byte) bool {
	c, err := Canonicalize(raw)
	return err == nil && bytes.Equal(c, raw)
}

// HTMLEscape rewrites canonical bytes the way v1's envelope marshal embeds
// them in a metadata file: '<', '>', '&', U+2028 and U+2029 inside strings
// become \u003c, \u003e, \u0026, \u2028 and \u2029. Everything else is kept,
// so the result is still valid JSON with the same meaning.
func HTMLEscape(canonical []byte) []byte {
	var buf bytes.Buffer
	json.HTMLEscape(&buf, canonical)
	return buf.Bytes()
}
