package canonicaljson

import (
	"errors"
	"strings"
	"testing"
)

// TestNumbers: integers only; integral fractions and exponents become
// int64 (v1 §2.1); huge exponents are refused without big arithmetic.
func TestNumbers(t *testing.T) {
	tests := []struct {
		in, want string // want "" means an error
	}{
		{"0", "0"}, {"-0", "0"}, {"-0.0", "0"}, {"0e999999999999", "0"}, {"0.000e-5", "0"},
		{"1.0", "1"}, {"1e3", "1000"}, {"1E+3", "1000"}, {"0.1e1", "1"}, {"100e-2", "1"},
		{"-12.50e1", "-125"}, {"9.223372036854775807e18", "9223372036854775807"},
		{"-9.223372036854775808e18", "-9223372036854775808"},
		{"123456789012345678", "123456789012345678"},
		{"99999999999999999999999", "99999999999999999999999"}, // plain integers stay exact
		{"1.5", ""}, {"0.1", ""}, {"1e-3", ""}, {"9.223372036854775808e18", ""},
		{"1e20", ""}, {"1e19", ""}, {"1e999999999", ""}, {"1e-999999999", ""},
		{"1e99999999999999999999", ""}, {"1" + strings.Repeat("0", 5000) + "e-5000", "1"},
	}
	for _, tc := range tests {
		t.Run(tc.in[:min(len(tc.in), 30)], func(t *testing.T) {
			got, err := Canonicalize([]byte(tc.in))
			if tc.want == "" {
				if err == nil {
					t.Fatalf("Canonicalize(%s) = %s, want error", tc.in, got)
				}
				return
			}
			if err != nil || string(got) != tc.want {
				t.Fatalf("Canonicalize(%s) = %s, %v; want %s", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestMarshalSortsAndEscapesOnlyQuoteAndBackslash(t *testing.T) {
	v := map[string]any{"é": 1, "a": "x<y>&\"\\\u2028", "Z": []any{true, nil, 1.0}, "_type": "T"}
	got, err := Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	want := "{\"Z\":[true,null,1],\"_type\":\"T\",\"a\":\"x<y>&\\\"\\\\\u2028\",\"é\":1}"
	if string(got) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if !IsCanonical(got) || IsCanonical([]byte(`{"b":1,"a":2}`)) || IsCanonical([]byte(`{"a": 1}`)) {
		t.Fatal("IsCanonical")
	}
	if _, err := Marshal(1.5); err == nil {
		t.Fatal("1.5 marshalled")
	}
}

func TestHTMLEscape(t *testing.T) {
	got := string(HTMLEscape([]byte("{\"a&b<c>\":\"\u2028\u2029é\"}")))
	want := `{"a\u0026b\u003cc\u003e":"\u2028\u2029é"}`
	if got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

// TestParseStrict: strictness rules, each refused with a SyntaxError.
func TestParseStrict(t *testing.T) {
	refused := map[string]string{
		"DuplicateKey":        `{"a":1,"a":2}`,
		"DuplicateNested":     `[{"x":{"k":1,"k":1}}]`,
		"DuplicateViaEscape":  `{"a":1,"\u0061":2}`,
		"InvalidUTF8":         "\"a\xffb\"",
		"OverlongUTF8":        "\"\xc0\xaf\"",
		"EncodedSurrogate":    "\"\xed\xa0\x80\"",
		"LoneHighSurrogate":   `"\ud800"`,
		"LoneLowSurrogate":    `"\udc00"`,
		"ReversedSurrogates":  `"\ude00\ud83d"`,
		"HighThenASCII":       `"\ud800\u0041"`,
		"RawControl":          "\"a\nb\"",
		"BadEscape":           `"\x41"`,
		"ShortUnicodeEscape":  `"\u12"`,
		"SignedHexEscape":     `"\u+123"`,
		"TrailingData":        `{} x`,
		"TwoValues":           `1 2`,
		"Empty":               ``,
		"LeadingZero":         `01`,
		"PlusSign":            `+1`,
		"NaN":                 `NaN`,
		"BareDot":             `1.`,
		"BareExponent":        `1e`,
		"TrailingComma":       `[1,]`,
		"TrailingCommaObject": `{"a":1,}`,
		"MissingColon":        `{"a" 1}`,
		"SingleQuotes":        `{'a':1}`,
		"BOM":                 "\xef\xbb\xbf{}",
		"TooDeep":             strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1),
		"Unterminated":        `{"a":"b`,
		"BadLiteral":          `tru`,
	}
	for name, in := range refused {
		t.Run(name, func(t *testing.T) {
			_, err := ParseStrict([]byte(in))
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("ParseStrict(%q) err = %v, want a SyntaxError", in, err)
			}
		})
	}
	if _, err := ParseStrict([]byte(`{"a":1,"a":2}`)); !errors.Is(err, ErrDuplicateKey) {
		t.Fatalf("duplicate key error does not wrap ErrDuplicateKey: %v", err)
	}
	accepted := []string{
		` {"a":[1,-0,1.5e+3,"\u00e9\ud83d\ude00\n\/"],"A":{},"b":null,"c":true,"d":false} `,
		strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth),
		"\"\u2028é中😀\x7f\"",
	}
	for _, in := range accepted {
		if _, err := ParseStrict([]byte(in)); err != nil {
			t.Errorf("ParseStrict(%.40q): %v", in, err)
		}
	}
}

func TestParseStrictObjectSpans(t *testing.T) {
	in := []byte(` { "signed" : {"b" : 1} , "signatures":[ ] } `)
	obj, spans, err := ParseStrictObject(in)
	if err != nil {
		t.Fatal(err)
	}
	if string(spans["signed"]) != `{"b" : 1}` || string(spans["signatures"]) != `[ ]` || len(obj) != 2 {
		t.Fatalf("spans %q", spans)
	}
	if _, _, err := ParseStrictObject([]byte(`[]`)); err == nil {
		t.Fatal("array accepted as object")
	}
}

// TestCanonicalizeLenientWhereV1Is: inputs the strict parser refuses are
// still canonicalised as v1 does (this is how v1 verifies signatures).
func TestCanonicalizeLenientWhereV1Is(t *testing.T) {
	tests := map[string]string{
		`{"a":1.5,"a":1}`:                    `{"a":1}`,
		`{"b":1,"a":2,"b":3}`:                `{"a":2,"b":3}`,
		`["\ud800"]`:                         "[\"\ufffd\"]",
		"[\"a\xffb\"]":                       "[\"a\ufffdb\"]",
		`{"z":{"y":1,"x":2}}`:                `{"z":{"x":2,"y":1}}`,
		`{"b":[{"d":1,"c":2}],"a":"\u003c"}`: `{"a":"<","b":[{"c":2,"d":1}]}`,
	}
	for in, want := range tests {
		got, err := Canonicalize([]byte(in))
		if err != nil || string(got) != want {
			t.Errorf("Canonicalize(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
