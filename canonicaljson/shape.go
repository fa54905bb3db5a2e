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
	return p.shapedTop(s)
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
	v, err := p.shapedTop(s)
	if err != nil {
		return nil, nil, err
	}
	m, _ := v.(map[string]any)
	return m, p.spans, nil
}

func (p *parser) shapedTop(s *Shape) (any, error) {
	p.skipSpace()
	v, err := p.shaped(0, s)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos != len(p.data) {
		return nil, p.fail("trailing data after JSON value")
	}
	return v, nil
}

func (p *parser) shaped(depth int, s *Shape) (any, error) {
	if p.pos >= len(p.data) {
		return nil, p.fail("unexpected end of input")
	}
	c := p.data[p.pos]
	kind := KindSkip
	if s != nil {
		kind = s.Kind
	}
	switch {
	case kind == KindRaw:
		start := p.pos
		if _, err := p.skip(depth); err != nil {
			return nil, err
		}
		return RawValue(p.data[start:p.pos:p.pos]), nil
	case kind == KindAny:
		return p.value(depth)
	case kind == KindObject && c == '{':
		return p.shapedObject(depth+1, s)
	case kind == KindArray && c == '[':
		return p.shapedArray(depth+1, s)
	case kind == KindSkip || c == '{' || c == '[':
		return p.skip(depth)
	}
	return p.value(depth)
}

func (p *parser) shapedObject(depth int, s *Shape) (any, error) {
	if depth > MaxDepth {
		return nil, p.fail("nesting too deep")
	}
	top := depth == 1 && p.spans != nil
	p.pos++ // '{'
	var m map[string]any
	// Names of dropped members, to refuse duplicates among them.
	base := len(p.kspans)
	defer func() { p.kspans = p.kspans[:base] }()
	kbase := len(p.keys)
	defer func() { p.keys = p.keys[:kbase] }()
	sorted := true
	n := 0
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return m, nil
	}
	for {
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return nil, p.fail("expected string for object key")
		}
		n++
		if s.MaxLen > 0 && n > s.MaxLen {
			return nil, &SyntaxError{Offset: p.pos, Reason: fmt.Sprintf("more than %d object members", s.MaxLen), err: ErrTooMany}
		}
		keyAt := p.pos
		kstart := len(p.keys)
		keys, err := p.appendString(p.keys)
		if err != nil {
			return nil, err
		}
		p.keys = keys
		key := p.keys[kstart:]
		child, named := s.Members[string(key)]
		keep := named || s.Others != nil
		if !keep && s.Closed {
			return nil, &UnknownMemberError{Offset: keyAt, Key: string(key)}
		}
		if !keep && foldsTo(key, s.Members) {
			keep = true
		} else if !named {
			child = s.Others
		}
		var k string
		if keep {
			k = string(key)
			p.keys = p.keys[:kstart]
			if _, dup := m[k]; dup {
				return nil, &SyntaxError{Offset: keyAt, Reason: fmt.Sprintf("duplicate object key %q", k), err: ErrDuplicateKey}
			}
		} else {
			ks := keySpan{int32(kstart), int32(len(p.keys))}
			if l := len(p.kspans); l > base {
				switch bytes.Compare(key, p.key(p.kspans[l-1])) {
				case 0:
					return nil, &SyntaxError{Offset: keyAt, Reason: fmt.Sprintf("duplicate object key %q", key), err: ErrDuplicateKey}
				case -1:
					sorted = false
				}
			}
			p.kspans = append(p.kspans, ks)
		}
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return nil, p.fail("expected ':' after object key")
		}
		p.pos++
		p.skipSpace()
		start := p.pos
		var v any
		if keep {
			v, err = p.shaped(depth, child)
		} else {
			_, err = p.skip(depth)
		}
		if err != nil {
			return nil, err
		}
		if keep {
			if top {
				p.spans[k] = p.data[start:p.pos:p.pos]
			}
			if m == nil {
				m = map[string]any{}
			}
			m[k] = v
		}
		p.skipSpace()
		if p.pos >= len(p.data) {
			return nil, p.fail("unexpected end of input in object")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
			continue
		case '}':
			p.pos++
		default:
			return nil, p.fail("expected ',' or '}' in object")
		}
		break
	}
	if err := p.checkDropped(base, sorted); err != nil {
		return nil, err
	}
	return m, nil
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

func (p *parser) shapedArray(depth int, s *Shape) (any, error) {
	if depth > MaxDepth {
		return nil, p.fail("nesting too deep")
	}
	p.pos++ // '['
	a := []any{}
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		return a, nil
	}
	for {
		p.skipSpace()
		if s.MaxLen > 0 && len(a) >= s.MaxLen {
			return nil, &SyntaxError{Offset: p.pos, Reason: fmt.Sprintf("more than %d array elements", s.MaxLen), err: ErrTooMany}
		}
		v, err := p.shaped(depth, s.Elems)
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		p.skipSpace()
		if p.pos >= len(p.data) {
			return nil, p.fail("unexpected end of input in array")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return a, nil
		default:
			return nil, p.fail("expected ',' or ']' in array")
		}
	}
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

// skip checks one value as value does, building nothing: object keys are
// kept only in a reusable stack, long enough to refuse duplicates.
func (p *parser) skip(depth int) (any, error) {
	if p.pos >= len(p.data) {
		return nil, p.fail("unexpected end of input")
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		return skippedObject, p.skipObject(depth + 1)
	case c == '[':
		return skippedArray, p.skipArray(depth + 1)
	case c == '"':
		var err error
		p.scratch, err = p.appendString(p.scratch[:0])
		return skippedString, err
	case c == '-' || c >= '0' && c <= '9':
		return skippedNumber, p.skipNumber()
	case c == 't':
		return skippedBool, p.literal("true")
	case c == 'f':
		return skippedBool, p.literal("false")
	case c == 'n':
		return skippedNull, p.literal("null")
	default:
		return nil, p.fail(fmt.Sprintf("invalid character %q looking for a value", c))
	}
}

func (p *parser) skipObject(depth int) error {
	if depth > MaxDepth {
		return p.fail("nesting too deep")
	}
	p.pos++ // '{'
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return nil
	}
	base, kbase := len(p.kspans), len(p.keys)
	defer func() { p.kspans, p.keys = p.kspans[:base], p.keys[:kbase] }()
	sorted := true
	for {
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return p.fail("expected string for object key")
		}
		keyAt := p.pos
		kstart := len(p.keys)
		keys, err := p.appendString(p.keys)
		if err != nil {
			return err
		}
		p.keys = keys
		ks := keySpan{int32(kstart), int32(len(p.keys))}
		if l := len(p.kspans); l > base {
			switch bytes.Compare(p.key(ks), p.key(p.kspans[l-1])) {
			case 0:
				return &SyntaxError{Offset: keyAt, Reason: fmt.Sprintf("duplicate object key %q", p.key(ks)), err: ErrDuplicateKey}
			case -1:
				sorted = false
			}
		}
		p.kspans = append(p.kspans, ks)
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return p.fail("expected ':' after object key")
		}
		p.pos++
		p.skipSpace()
		if _, err := p.skip(depth); err != nil {
			return err
		}
		p.skipSpace()
		if p.pos >= len(p.data) {
			return p.fail("unexpected end of input in object")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
			continue
		case '}':
			p.pos++
		default:
			return p.fail("expected ',' or '}' in object")
		}
		break
	}
	return p.checkDropped(base, sorted)
}

func (p *parser) skipArray(depth int) error {
	if depth > MaxDepth {
		return p.fail("nesting too deep")
	}
	p.pos++ // '['
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		return nil
	}
	for {
		p.skipSpace()
		if _, err := p.skip(depth); err != nil {
			return err
		}
		p.skipSpace()
		if p.pos >= len(p.data) {
			return p.fail("unexpected end of input in array")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return nil
		default:
			return p.fail("expected ',' or ']' in array")
		}
	}
}
