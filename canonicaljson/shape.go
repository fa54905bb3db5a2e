package canonicaljson

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
)

// A ShapeKind says what ParseShaped builds for a value.
type ShapeKind int

// Shape kinds.
const (
	// KindSkip checks the value as strictly as ParseStrict does and gives
	// a Skipped in its place: nothing of it is kept.
	KindSkip ShapeKind = iota
	// KindScalar builds a string, number, boolean or null as ParseStrict
	// does; an object or array is checked and given as a Skipped.
	KindScalar
	// KindRaw checks the value and gives its exact bytes as a RawValue
	// (a sub-slice of the input, not a copy).
	KindRaw
	// KindObject builds an object member by member (see Shape); an array
	// is skipped, a scalar built.
	KindObject
	// KindArray builds an array element by element; an object is
	// skipped, a scalar built.
	KindArray
	// KindAny builds the whole value, as ParseStrict does.
	KindAny
)

// A Shape tells ParseShaped which parts of a document to build. A document
// read from the network is checked in full, but only the parts its reader
// will look at become Go values, so memory stays proportional to what is
// kept rather than to what was sent: a generic tree costs tens of bytes per
// input byte for input such as [{},{},{},...] (issue 10). A nil *Shape
// skips the value.
type Shape struct {
	Kind ShapeKind
	// Members gives, for KindObject, the shape of each named member.
	Members map[string]*Shape
	// Others is, for KindObject, the shape of members not in Members. When
	// nil, such members are checked and dropped, except one whose name
	// differs from a name in Members only by letter case: it is kept as a
	// Skipped so that the caller can refuse it.
	Others *Shape
	// Closed makes, for KindObject, a member that is neither in Members
	// nor covered by Others an *UnknownMemberError.
	Closed bool
	// Elems is, for KindArray, the shape of every element.
	Elems *Shape
	// MaxLen, when above 0, bounds the elements of a KindArray or the
	// members of a KindObject: one more is a *SyntaxError wrapping
	// ErrTooMany.
	MaxLen int
}

// Skipped stands for a value ParseShaped checked but did not build. Kind is
// "object", "array", "string", "number", "boolean" or "null".
type Skipped struct{ Kind string }

// RawValue is the exact text of a value ParseShaped was asked to keep raw.
type RawValue []byte

// ErrTooMany is wrapped by the *SyntaxError ParseShaped returns for an
// array or object longer than its Shape's MaxLen.
var ErrTooMany = errors.New("too many elements")

// An UnknownMemberError reports a member of a Closed object shape that the
// shape does not name.
type UnknownMemberError struct {
	Offset int
	Key    string
}

func (e *UnknownMemberError) Error() string {
	return fmt.Sprintf("canonicaljson: unexpected member %q at byte %d", e.Key, e.Offset)
}

// Preallocated so that skipping allocates nothing per value.
var (
	skippedObject any = Skipped{Kind: "object"}
	skippedArray  any = Skipped{Kind: "array"}
	skippedString any = Skipped{Kind: "string"}
	skippedNumber any = Skipped{Kind: "number"}
	skippedBool   any = Skipped{Kind: "boolean"}
	skippedNull   any = Skipped{Kind: "null"}
)

// ParseShaped is ParseStrict guided by s: it accepts and refuses exactly
// what ParseStrict does (plus s's MaxLen and Closed limits), but builds
// only the parts s asks for. An empty object built under KindObject is a
// nil map[string]any. Errors are *SyntaxError or *UnknownMemberError.
func ParseShaped(data []byte, s *Shape) (any, error) {
	if len(data) > maxShapedInput {
		return nil, &SyntaxError{Reason: "input larger than 2 GiB"}
	}
	p := parser{data: data}
	return p.top(s)
}

// ParseShapedObject is ParseShaped for input that must be a JSON object,
// returning also the exact bytes of each top-level member's value, as
// ParseStrictObject does.
func ParseShapedObject(data []byte, s *Shape) (map[string]any, map[string][]byte, error) {
	if len(data) > maxShapedInput {
		return nil, nil, &SyntaxError{Reason: "input larger than 2 GiB"}
	}
	p := parser{data: data, spans: map[string][]byte{}}
	p.skipSpace()
	if p.pos >= len(p.data) || p.data[p.pos] != '{' || s == nil || s.Kind != KindObject {
		return nil, nil, p.fail("top-level value is not an object")
	}
	v, err := p.top(s)
	if err != nil {
		return nil, nil, err
	}
	m, _ := v.(map[string]any)
	return m, p.spans, nil
}

// foldsTo reports whether key differs from a member name only by case.
func foldsTo(key []byte, members map[string]*Shape) bool {
	for name := range members {
		if strings.EqualFold(string(key), name) {
			return true
		}
	}
	return false
}

// keySpan locates a decoded object key in parser.keys. int32 keeps the
// stack at 8 bytes per member of the objects being checked; inputs are
// limited to maxShapedInput.
type keySpan struct{ start, end int32 }

// maxShapedInput bounds what ParseShaped reads (keySpan offsets are int32).
const maxShapedInput = math.MaxInt32

func (p *parser) key(k keySpan) []byte { return p.keys[k.start:k.end] }

// checkDropped refuses duplicates among the keys recorded since base.
func (p *parser) checkDropped(base int, sorted bool) error {
	if sorted {
		return nil // each key was compared with the one before
	}
	ks := p.kspans[base:]
	sort.Slice(ks, func(i, j int) bool { return bytes.Compare(p.key(ks[i]), p.key(ks[j])) < 0 })
	for i := 1; i < len(ks); i++ {
		if bytes.Equal(p.key(ks[i]), p.key(ks[i-1])) {
			return &SyntaxError{Offset: p.pos, Reason: fmt.Sprintf("duplicate object key %q", p.key(ks[i])), err: ErrDuplicateKey}
		}
	}
	return nil
}
