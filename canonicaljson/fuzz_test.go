package canonicaljson

import (
	"bytes"
	"encoding/json"
	"testing"
)

func addSeeds(f *testing.F) {
	for _, s := range []string{
		`{"signed":{"_type":"Targets","targets":{"a&b<c>":{"hashes":{},"length":0}},"version":1},"signatures":[]}`,
		`{"a":1,"a":2}`, `["\ud800"]`, `[1e3, -0, 1.5, 9223372036854775808]`, `"\u2028<>&"`,
		`{"é":1,"a":2,"_type":3,"Z":4}`, `[[[[]]]]`, `null`, `{"a":"\u0000"}`, "\"\xff\"",
	} {
		f.Add([]byte(s))
	}
}

// FuzzCanonicalize: Canonicalize never panics; its output is canonical,
// a fixed point, and means what the strict parser reads when both accept.
func FuzzCanonicalize(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Canonicalize(data)
		if err != nil {
			return
		}
		again, err := Canonicalize(c)
		if err != nil {
			// Canonical bytes hold raw control characters unescaped, which
			// JSON decoders refuse; that is v1's format (v1 §2.2).
			if bytes.ContainsFunc(c, func(r rune) bool { return r < 0x20 }) {
				return
			}
			t.Fatalf("Canonicalize(%q) = %q, which does not canonicalise: %v", data, c, err)
		}
		if !bytes.Equal(again, c) {
			t.Fatalf("not a fixed point: %q -> %q -> %q", data, c, again)
		}
		// The one-pass path must agree with v1's tree-based path.
		if v, err := decodeLikeV1(data); err == nil {
			var buf bytes.Buffer
			if err := EncodeValue(&buf, v); err != nil || !bytes.Equal(buf.Bytes(), c) {
				t.Fatalf("v1 path gives %q (%v), Canonicalize %q for %q", buf.Bytes(), err, c, data)
			}
		} else {
			t.Fatalf("v1 path refuses %q that Canonicalize accepts: %v", data, err)
		}
		if tree, err := ParseStrict(data); err == nil {
			var buf bytes.Buffer
			if err := EncodeValue(&buf, tree); err != nil || !bytes.Equal(buf.Bytes(), c) {
				t.Fatalf("strict tree of %q encodes to %q (%v), Canonicalize gives %q", data, buf.Bytes(), err, c)
			}
		}
		if esc := HTMLEscape(c); !json.Valid(esc) && !bytes.ContainsFunc(c, func(r rune) bool { return r < 0x20 }) {
			t.Fatalf("HTMLEscape(%q) = %q is not valid JSON", c, esc)
		}
	})
}

// FuzzParseStrict: ParseStrict never panics, accepts only valid JSON, and
// agrees with encoding/json on what it accepts.
func FuzzParseStrict(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		tree, err := ParseStrict(data)
		if err != nil {
			return
		}
		if !json.Valid(data) {
			t.Fatalf("ParseStrict accepted invalid JSON %q", data)
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var std any
		if err := dec.Decode(&std); err != nil {
			t.Fatalf("encoding/json refuses %q: %v", data, err)
		}
		var a, b bytes.Buffer
		errA, errB := EncodeValue(&a, tree), EncodeValue(&b, std)
		if (errA == nil) != (errB == nil) || !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Fatalf("trees differ for %q: %q/%v vs %q/%v", data, a.Bytes(), errA, b.Bytes(), errB)
		}
		if obj, spans, err := ParseStrictObject(data); err == nil {
			for k, raw := range spans {
				v, err := ParseStrict(raw)
				if err != nil {
					t.Fatalf("span of %q does not parse: %v", k, err)
				}
				var x, y bytes.Buffer
				if EncodeValue(&x, v) == nil && EncodeValue(&y, obj[k]) == nil && !bytes.Equal(x.Bytes(), y.Bytes()) {
					t.Fatalf("span of %q differs from its value", k)
				}
			}
		}
	})
}
