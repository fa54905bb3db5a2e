package main

import (
	"encoding/base64"
	stdjson "encoding/json"
	"fmt"
	"path/filepath"
	"time"
	"unicode/utf8"

	cjson "github.com/docker/go/canonical/json"
	"github.com/theupdateframework/notary/tuf/data"
)

type canonCase struct {
	Name  string `json:"name"`
	Input string `json:"input,omitempty"` // the raw JSON text, when it is valid UTF-8
	// InputB64 is always present: the exact input bytes.
	InputB64 string `json:"input_b64"`
	// Canonical is b64 of json.MarshalCanonical(v) after json.Unmarshal(input, &v) with v interface{} (upstream docker/go).
	Canonical string `json:"canonical,omitempty"`
	// CanonicalText is Canonical as text when it is valid UTF-8, for reading.
	CanonicalText *string `json:"canonical_text,omitempty"`
	// Marshal is b64 of upstream's non-canonical json.Marshal(v) of the same value (HTML-escaping mode).
	Marshal string `json:"marshal,omitempty"`
	// Error is set when Unmarshal or MarshalCanonical fails: "unmarshal: ..." or "marshal: ...".
	Error string `json:"error,omitempty"`
}

func canonCases() []struct{ name, in string } {
	return []struct{ name, in string }{
		// key ordering
		{"keys/order-basic", `{"é":1,"a":2,"_type":3,"Z":4}`},
		{"keys/order-ascii", `{"b":1,"B":2,"1":3,"":4,"aa":5,"a":6,"~":7,"\u007f":8,"a b":9,"a_":10}`},
		{"keys/order-utf8-vs-utf16", `{"😀":1,"ｚ":2,"é":3,"e":4,"\uffff":5}`},
		{"keys/escaped-key-names", `{"\u00e9":1,"e\u0301":2,"\"q":3,"\\b":4,"<&>":5}`},
		{"keys/duplicate-last-wins", `{"a":1,"b":2,"a":3}`},
		{"keys/duplicate-objects", `{"a":{"x":1},"a":{"y":2}}`},
		{"keys/case-distinct", `{"A":1,"a":2,"Signed":3,"signed":4}`},
		// structure
		{"struct/nested", `{"b":{"d":[3,{"z":1,"y":2},1],"c":null},"a":[[],{}]}`},
		{"struct/empty-object", `{}`},
		{"struct/empty-array", `[]`},
		{"struct/empties", `[{},[],"",0,{"":{}}]`},
		{"struct/deep", `[[[[[[[[[[{"k":[[[[{"k":null}]]]]}]]]]]]]]]]`},
		{"struct/whitespace", " { \"b\" : [ 1 , 2 ] ,\n\t\"a\" : true } \n"},
		{"struct/tuf-like", `{"signed":{"version":2,"_type":"Targets","targets":{"v1":{"length":3,"hashes":{"sha256":"AA=="},"custom":{"z":1,"a":"x"}}},"expires":"2030-01-01T00:00:00Z","delegations":{"roles":[],"keys":{}}},"signatures":[]}`},
		// literals
		{"literal/true", `true`},
		{"literal/false", `false`},
		{"literal/null", `null`},
		{"literal/mixed", `[true,false,null,{"t":true,"f":false,"n":null}]`},
		{"literal/string", `"top-level string"`},
		// strings and escapes
		{"string/quote-backslash-slash", `["quote\"backslash\\slash\/"]`},
		{"string/control-escaped", `["\u0000\u0001\b\t\n\f\r\u001f\u007f"]`},
		{"string/html", `["<>&", "a&b<c>"]`},
		{"string/line-separators-escaped", `["\u2028\u2029"]`},
		{"string/line-separators-raw", "[\"\u2028\u2029\"]"},
		{"string/non-ascii-raw", `["é 中文 😀 ǅ"]`},
		{"string/non-ascii-escaped", `["\u00e9\u4e2d\ud83d\ude00"]`},
		{"string/escaped-upper-hex", `["\u00E9\u00C9"]`},
		{"string/lone-high-surrogate", `["\ud800"]`},
		{"string/lone-low-surrogate", `["\udc00"]`},
		{"string/high-surrogate-then-ascii", `["\ud800\u0041"]`},
		{"string/reversed-surrogates", `["\ude00\ud83d"]`},
		{"string/high-surrogate-end-of-string", `["x\ud83d"]`},
		{"string/invalid-utf8-raw", "[\"a\xffb\xfe\xc3\"]"},
		{"string/overlong-utf8-raw", "[\"\xc0\xaf\"]"},
		{"string/utf8-encoded-surrogate-raw", "[\"\xed\xa0\x80\"]"},
		{"string/raw-control-in-input", "[\"a\nb\"]"},
		{"string/raw-del", "[\"\x7f\"]"},
		{"string/bad-escape", `["\x41"]`},
		{"string/long", `["` + repeat("0123456789abcdef", 64) + `"]`},
		// numbers
		{"number/zero", `0`},
		{"number/negative-zero", `-0`},
		{"number/negative-zero-float", `-0.0`},
		{"number/minus-one", `-1`},
		{"number/one-point-zero", `1.0`},
		{"number/exp-1e3", `1e3`},
		{"number/exp-1E+3", `1E+3`},
		{"number/exp-0.1e1", `0.1e1`},
		{"number/exp-100e-2", `100e-2`},
		{"number/fraction-1.5", `1.5`},
		{"number/fraction-0.1", `0.1`},
		{"number/exp-1e-3", `1e-3`},
		{"number/2^53", `9007199254740992`},
		{"number/2^53+1", `9007199254740993`},
		{"number/2^63-1", `9223372036854775807`},
		{"number/2^63", `9223372036854775808`},
		{"number/-2^63", `-9223372036854775808`},
		{"number/-2^63-1", `-9223372036854775809`},
		{"number/large-negative", `-12345678901234567890123`},
		{"number/1e20", `1e20`},
		{"number/1e300", `1e300`},
		{"number/1e400-overflow", `1e400`},
		{"number/precision-loss", `123456789012345678`},
		{"number/in-object", `{"length":1234,"version":1.0,"threshold":2e0}`},
		{"number/leading-zero-invalid", `01`},
		{"number/plus-sign-invalid", `+1`},
		{"number/nan-invalid", `NaN`},
		// invalid documents
		{"invalid/trailing-comma", `{"a":1,}`},
		{"invalid/missing-comma", `[1 2]`},
		{"invalid/empty", ``},
		{"invalid/trailing-garbage", `{} x`},
		{"invalid/single-quotes", `{'a':1}`},
		{"invalid/bom", "\xef\xbb\xbf{}"},
	}
}

func repeat(s string, n int) string {
	out := make([]byte, 0, len(s)*n)
	for i := 0; i < n; i++ {
		out = append(out, s...)
	}
	return string(out)
}

func textIfUTF8(b []byte) *string {
	if !utf8.Valid(b) {
		return nil
	}
	s := string(b)
	return &s
}

func writeCanonicalCases(repo string, _ *inputs) error {
	var out []canonCase
	for _, c := range canonCases() {
		in := []byte(c.in)
		cc := canonCase{Name: c.name, InputB64: base64.StdEncoding.EncodeToString(in)}
		if utf8.Valid(in) {
			cc.Input = c.in
		}
		var v interface{}
		if err := cjson.Unmarshal(in, &v); err != nil {
			cc.Error = "unmarshal: " + err.Error()
			out = append(out, cc)
			continue
		}
		can, err := cjson.MarshalCanonical(v)
		if err != nil {
			cc.Error = "marshal: " + err.Error()
		} else {
			cc.Canonical = base64.StdEncoding.EncodeToString(can)
			cc.CanonicalText = textIfUTF8(can)
		}
		if m, err := cjson.Marshal(v); err == nil {
			cc.Marshal = base64.StdEncoding.EncodeToString(m)
		}
		out = append(out, cc)
	}
	return writeJSON(filepath.Join(repo, "canonicaljson/testdata/cases.json"), out)
}

// ---- envelope ----

type envCase struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	// SignedB64 is the raw bytes placed in data.Signed.Signed (*json.RawMessage).
	SignedB64  string  `json:"signed_b64"`
	SignedText *string `json:"signed_text,omitempty"`
	// Signatures as given to data.Signed (JSON form; null means a nil slice).
	Signatures stdjson.RawMessage `json:"signatures"`
	// Client is what the upstream client uploads: Go's encoding/json.Marshal(*data.Signed)
	// (client/helpers.go, tuf/tuf.go), here with the Go toolchain that built this generator.
	ClientB64   string  `json:"client_b64,omitempty"`
	ClientText  *string `json:"client_text,omitempty"`
	ClientError string  `json:"client_error,omitempty"`
	// Server is the docker/go/canonical/json.Marshal(*data.Signed) the server uses for the
	// snapshot/timestamp it generates (server/snapshot, server/timestamp).
	ServerB64   string  `json:"server_b64,omitempty"`
	ServerText  *string `json:"server_text,omitempty"`
	ServerError string  `json:"server_error,omitempty"`
}

func writeEnvelope(repo string, _ *inputs) error {
	sigs := []data.Signature{
		{KeyID: "8f1a1e1d0a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5", Method: data.ECDSASignature, Signature: []byte{0, 1, 2, 0xfb, 0xfc, 0xfd, 0xfe, 0xff}},
		{KeyID: "0000000000000000000000000000000000000000000000000000000000000000", Method: data.EDDSASignature, Signature: []byte("<&>")},
	}
	type c struct {
		name, desc string
		signed     []byte
		sigs       []data.Signature
	}
	controlCanon, err := cjson.MarshalCanonical(map[string]interface{}{"a": "line\nbreak"})
	if err != nil {
		return err
	}
	cases := []c{
		{"plain", "ordinary canonical body", []byte(`{"_type":"Timestamp","expires":"2030-01-02T03:04:05Z","meta":{},"version":1}`), sigs[:1]},
		{"html-escaping", "canonical body containing <, > and & (target name a&b<c>): escaped as \\u003c \\u003e \\u0026 in the file", []byte(`{"_type":"Targets","targets":{"a&b<c>":{"hashes":{},"length":0}},"version":1}`), sigs},
		{"line-separators", "canonical body containing raw U+2028/U+2029: escaped in the file", []byte("{\"n\":\"x\u2028y\u2029z\"}"), sigs[:1]},
		{"non-ascii", "raw non-ASCII stays raw", []byte(`{"n":"é中😀"}`), sigs[:1]},
		{"whitespace-compacted", "a non-compact raw body is compacted by the envelope marshal", []byte("{ \"b\" : 1,\n  \"a\" : [ 1, 2 ] }"), sigs[:1]},
		{"raw-control-byte", "canonical bytes with a raw newline inside a string (what MarshalCanonical emits for \"\\n\"): not valid JSON, the envelope marshal fails", controlCanon, sigs[:1]},
		{"invalid-utf8", "raw invalid UTF-8 inside a string", []byte("{\"n\":\"a\xffb\"}"), sigs[:1]},
		{"escapes-preserved", "existing escapes in the raw body are kept as written", []byte(`{"n":"\u00e9\"\\\/"}`), sigs[:1]},
		{"nil-signatures", "nil Signatures slice", []byte(`{"v":1}`), nil},
		{"empty-signatures", "empty, non-nil Signatures slice", []byte(`{"v":1}`), []data.Signature{}},
	}
	var out []envCase
	for _, tc := range cases {
		raw := cjson.RawMessage(append([]byte{}, tc.signed...))
		s := &data.Signed{Signed: &raw, Signatures: tc.sigs}
		sj, _ := stdjson.Marshal(tc.sigs)
		e := envCase{
			Name: tc.name, Description: tc.desc,
			SignedB64: base64.StdEncoding.EncodeToString(tc.signed), SignedText: textIfUTF8(tc.signed),
			Signatures: sj,
		}
		if b, err := stdjson.Marshal(s); err != nil {
			e.ClientError = err.Error()
		} else {
			e.ClientB64, e.ClientText = base64.StdEncoding.EncodeToString(b), textIfUTF8(b)
		}
		if b, err := cjson.Marshal(s); err != nil {
			e.ServerError = err.Error()
		} else {
			e.ServerB64, e.ServerText = base64.StdEncoding.EncodeToString(b), textIfUTF8(b)
		}
		out = append(out, e)
	}
	return writeJSON(filepath.Join(repo, "canonicaljson/testdata/envelope.json"), out)
}

// ---- struct-level behaviour ----

type structCase struct {
	Name          string  `json:"name"`
	Description   string  `json:"description"`
	Go            string  `json:"go"` // the Go value, in Go syntax-ish, for the reader
	CanonicalB64  string  `json:"canonical_b64,omitempty"`
	CanonicalText *string `json:"canonical_text,omitempty"`
	Error         string  `json:"error,omitempty"`
}

func writeStructs(repo string, _ *inputs) error {
	var out []structCase
	add := func(name, desc, goval string, v interface{}) {
		sc := structCase{Name: name, Description: desc, Go: goval}
		b, err := cjson.MarshalCanonical(v)
		if err != nil {
			sc.Error = err.Error()
		} else {
			sc.CanonicalB64, sc.CanonicalText = base64.StdEncoding.EncodeToString(b), textIfUTF8(b)
		}
		out = append(out, sc)
	}
	hashes := data.Hashes{"sha256": make([]byte, 32), "sha512": make([]byte, 64)}
	customs := []struct{ name, raw string }{
		{"canonical", `{"build":7,"note":"x"}`},
		{"unsorted", `{"z":1,"a":2}`},
		{"whitespace", "{ \"a\" : 1 }"},
		{"html", `{"n":"bar<&>"}`},
		{"float", `{"n":1.5}`},
		{"exponent", `{"n":1e3}`},
		{"escape", `{"n":"\u00e9"}`},
		{"bigint", `{"n":9007199254740993}`},
		{"string", `"just a string"`},
		{"null", `null`},
	}
	for _, c := range customs {
		raw := cjson.RawMessage(c.raw)
		add("filemeta-custom/"+c.name,
			"data.FileMeta with Custom = RawMessage(raw): MarshalCanonical inserts custom compacted (HTML-escaped), not re-canonicalised",
			fmt.Sprintf("data.FileMeta{Length: 3, Hashes: sha256+sha512 zero digests, Custom: &RawMessage(%q)}", c.raw),
			data.FileMeta{Length: 3, Hashes: hashes, Custom: &raw})
	}
	add("filemeta-custom/absent", "Custom nil: omitted", "data.FileMeta{Length: 3, Hashes: sha256 zero digest}", data.FileMeta{Length: 3, Hashes: data.Hashes{"sha256": make([]byte, 32)}})
	est := time.FixedZone("EST", -5*3600)
	times := []struct {
		name string
		t    time.Time
	}{
		{"utc-nanos", time.Date(2029, 11, 23, 20, 5, 16, 580452151, time.UTC)},
		{"utc-trailing-zeros", time.Date(2029, 11, 23, 20, 5, 16, 580000000, time.UTC)},
		{"utc-whole-second", time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)},
		{"offset-zone", time.Date(2116, 7, 3, 17, 56, 36, 27379879, est)},
		{"zero-time", time.Time{}},
	}
	for _, tc := range times {
		add("time/"+tc.name, "data.SignedCommon expires encoding (RFC3339Nano)", fmt.Sprintf("data.SignedCommon{Type: \"Timestamp\", Expires: %s, Version: 1}", tc.t.Format(time.RFC3339Nano)),
			data.SignedCommon{Type: "Timestamp", Expires: tc.t, Version: 1})
	}
	add("struct/nil-slices-maps", "data.Delegations with nil Keys and nil Roles", "data.Delegations{}", data.Delegations{})
	add("struct/empty-slices-maps", "data.NewDelegations()", "data.NewDelegations()", data.NewDelegations())
	add("struct/bytes-b64", "[]byte fields become b64 strings", "data.Signature{KeyID: \"k\", Method: \"ecdsa\", Signature: {0xff,0xfe}}", data.Signature{KeyID: "k", Method: data.ECDSASignature, Signature: []byte{0xff, 0xfe}})

	// Encoder-cache quirk: docker/go/canonical/json caches one encoder per Go type
	// (encoderCache), shared by both modes, so the first marshal of a struct type in a
	// process fixes its field order for the rest of the process: declaration order if
	// the first use was non-canonical, sorted if it was canonical. Two fresh local
	// types show both outcomes.
	type pairA struct {
		Public  []byte `json:"public"`
		Private []byte `json:"private"`
	}
	type pairB struct {
		Public  []byte `json:"public"`
		Private []byte `json:"private"`
	}
	raw := func(name, desc string, b []byte, err error) {
		sc := structCase{Name: name, Description: desc, Go: "struct{Public []byte `json:\"public\"`; Private []byte `json:\"private\"`}{Public: {1,2,3}}"}
		if err != nil {
			sc.Error = err.Error()
		} else {
			sc.CanonicalB64, sc.CanonicalText = base64.StdEncoding.EncodeToString(b), textIfUTF8(b)
		}
		out = append(out, sc)
	}
	b, err := cjson.Marshal(pairA{Public: []byte{1, 2, 3}})
	raw("encoder-cache-quirk/noncanonical-first/marshal", "first use of the type is json.Marshal: declaration order", b, err)
	b, err = cjson.MarshalCanonical(pairA{Public: []byte{1, 2, 3}})
	raw("encoder-cache-quirk/noncanonical-first/canonical", "MarshalCanonical of the same type afterwards: STILL declaration order (not canonical). Upstream bug; always sort.", b, err)
	b, err = cjson.MarshalCanonical(pairB{Public: []byte{1, 2, 3}})
	raw("encoder-cache-quirk/canonical-first/canonical", "first use of the type is MarshalCanonical: sorted", b, err)
	b, err = cjson.Marshal(pairB{Public: []byte{1, 2, 3}})
	raw("encoder-cache-quirk/canonical-first/marshal", "json.Marshal of the same type afterwards: sorted too", b, err)
	return writeJSON(filepath.Join(repo, "canonicaljson/testdata/structs.json"), out)
}
