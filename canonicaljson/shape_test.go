package canonicaljson

import (
	"errors"
	"reflect"
	"testing"
)

var (
	testScalar = &Shape{Kind: KindScalar}
	// testShape keeps "a" (an object whose "n" is a scalar), "list" (an
	// array of scalars, at most 3) and "raw"; everything else is dropped.
	testShape = &Shape{Kind: KindObject, Members: map[string]*Shape{
		"a":    {Kind: KindObject, Members: map[string]*Shape{"n": testScalar}},
		"list": {Kind: KindArray, Elems: testScalar, MaxLen: 3},
		"raw":  {Kind: KindRaw},
		"map":  {Kind: KindObject, Others: testScalar},
	}}
	// everything builds every value, objects through ParseShaped's own
	// object code.
	everything = func() *Shape {
		s := &Shape{Kind: KindObject}
		s.Others = &Shape{Kind: KindObject, Others: s}
		s.Members = map[string]*Shape{"list": {Kind: KindArray, Elems: s}, "any": {Kind: KindAny}}
		return s
	}()
)

func TestParseShaped(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     any
		err      error
	}{
		{"drops unknown members", `{"a":{"n":1,"x":[{},{}]},"zz":[1,2,{}]}`, map[string]any{"a": map[string]any{"n": jsonNumber("1")}}, nil},
		{"keeps a member differing by case", `{"A":[{}],"a":{}}`, map[string]any{"A": Skipped{Kind: "array"}, "a": map[string]any(nil)}, nil},
		{"scalar given an object", `{"a":{"n":{"deep":[1]}}}`, map[string]any{"a": map[string]any{"n": Skipped{Kind: "object"}}}, nil},
		{"raw", `{"raw": {"b":1, "a":2}}`, map[string]any{"raw": RawValue(`{"b":1, "a":2}`)}, nil},
		{"map of scalars", `{"map":{"x":"1","y":[]}}`, map[string]any{"map": map[string]any{"x": "1", "y": Skipped{Kind: "array"}}}, nil},
		{"array at its limit", `{"list":[1,2,3]}`, map[string]any{"list": []any{jsonNumber("1"), jsonNumber("2"), jsonNumber("3")}}, nil},
		{"array over its limit", `{"list":[1,2,3,4]}`, nil, ErrTooMany},
		{"duplicate among dropped members", `{"x":1,"y":2,"x":3}`, nil, ErrDuplicateKey},
		{"duplicate among dropped members, unsorted", `{"y":1,"x":2,"y":3}`, nil, ErrDuplicateKey},
		{"duplicate spelled with an escape", `{"zz":{"q":1,"\u0071":2}}`, nil, ErrDuplicateKey},
		{"duplicate inside raw", `{"raw":{"a":1,"a":2}}`, nil, ErrDuplicateKey},
		{"duplicate kept member", `{"a":{},"a":{}}`, nil, ErrDuplicateKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseShaped([]byte(tc.in), testShape)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %#v, want %#v", got, tc.want)
			}
		})
	}
	closed := &Shape{Kind: KindObject, Closed: true, Members: map[string]*Shape{"signed": nil}}
	var ue *UnknownMemberError
	if _, _, err := ParseShapedObject([]byte(`{"signed":1,"extra":2}`), closed); !errors.As(err, &ue) || ue.Key != "extra" {
		t.Errorf("closed object: %v, want UnknownMemberError for extra", err)
	}
}

func jsonNumber(s string) any {
	v, _ := ParseStrict([]byte(s))
	return v
}

// FuzzParseShaped: ParseShaped accepts exactly what ParseStrict accepts,
// whatever it builds, and with a shape that builds everything gives the
// same tree (empty objects aside, which it gives as nil maps).
func FuzzParseShaped(f *testing.F) {
	addSeeds(f)
	f.Add([]byte(`{"a":{"n":1,"x":[{},{}]},"zz":[1,2,{}],"raw":{"b":[]},"A":1}`))
	f.Add([]byte(`{"y":1,"x":2,"y":3}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		want, werr := ParseStrict(data)
		for _, s := range []*Shape{nil, testScalar, {Kind: KindRaw}, everything} {
			got, err := ParseShaped(data, s)
			if (err == nil) != (werr == nil) {
				if errors.Is(err, ErrTooMany) {
					continue
				}
				t.Fatalf("shape %+v: err = %v, ParseStrict err = %v", s, err, werr)
			}
			if err == nil && s == everything && !sameTree(got, want) && !hasSkipped(got) {
				t.Fatalf("built %#v, ParseStrict %#v", got, want)
			}
		}
		if _, err := ParseShaped(data, testShape); err != nil && werr == nil && !errors.Is(err, ErrTooMany) {
			t.Fatalf("testShape: err = %v on input ParseStrict accepts", err)
		}
	})
}

// hasSkipped reports whether a tree holds a value everything skips (an
// array outside "list", at the top or under an object).
func hasSkipped(v any) bool {
	switch v := v.(type) {
	case Skipped:
		return true
	case map[string]any:
		for _, e := range v {
			if hasSkipped(e) {
				return true
			}
		}
	case []any:
		for _, e := range v {
			if hasSkipped(e) {
				return true
			}
		}
	}
	return false
}

// sameTree compares trees, treating a nil map as an empty one.
func sameTree(a, b any) bool { return reflect.DeepEqual(normal(a), normal(b)) }

func normal(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := map[string]any{}
		for k, e := range v {
			m[k] = normal(e)
		}
		return m
	case []any:
		a := make([]any, len(v))
		for i, e := range v {
			a[i] = normal(e)
		}
		return a
	}
	return v
}
