package canonicaljson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxDepth is the deepest nesting of arrays and objects ParseStrict
// accepts, the same limit encoding/json applies.
const MaxDepth = 10000

// ErrDuplicateKey is wrapped by the error ParseStrict returns for an object
// that names the same key twice.
var ErrDuplicateKey = errors.New("duplicate object key")

// SyntaxError reports input ParseStrict refuses, with the byte offset where
// the problem was found.
type SyntaxError struct {
	Offset int
	Reason string
	err    error
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("canonicaljson: %s at byte %d", e.Reason, e.Offset)
}

func (e *SyntaxError) Unwrap() error { return e.err }

// ParseStrict decodes exactly one JSON value (surrounding whitespace
// allowed) into the generic tree EncodeValue takes: map[string]any, []any,
// string, json.Number, bool and nil.
//
// It is stricter than encoding/json, so that every reader of a file sees
// the same value: it refuses duplicate object keys at any depth (where
// encoding/json silently keeps the last one), invalid UTF-8 and unpaired
// UTF-16 surrogate escapes (which encoding/json turns into U+FFFD), nesting
// deeper than MaxDepth, and trailing data. Errors are *SyntaxError.
func ParseStrict(data []byte) (any, error) {
	p := parser{data: data}
	return p.top(anyShape)
}

// ParseStrictObject is ParseStrict for input that must be a JSON object.
// Besides the decoded members it returns, for each member, the exact bytes
// of its value as they appear in data (sub-slices, not copies).
func ParseStrictObject(data []byte) (map[string]any, map[string][]byte, error) {
	p := parser{data: data, spans: map[string][]byte{}}
	p.skipSpace()
	if p.pos >= len(p.data) || p.data[p.pos] != '{' {
		return nil, nil, p.fail("top-level value is not an object")
	}
	v, err := p.top(anyShape)
	if err != nil {
		return nil, nil, err
	}
	return v.(map[string]any), p.spans, nil
}

type parser struct {
	data  []byte
	pos   int
	spans map[string][]byte // top-level member spans, when wanted

	// Used when dropping values: decoded keys of dropped members of the
	// objects being checked (a stack), and a scratch buffer for strings.
	keys    []byte
	kspans  []keySpan
	scratch []byte
}

// top parses the whole input as one value shaped by s.
func (p *parser) top(s *Shape) (any, error) {
	p.skipSpace()
	v, err := p.value(0, s)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos != len(p.data) {
		return nil, p.fail("trailing data after JSON value")
	}
	return v, nil
}

func (p *parser) fail(reason string) error {
	return &SyntaxError{Offset: p.pos, Reason: reason}
}

func (p *parser) skipSpace() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// anyShape builds every value: ParseStrict is the strict walker below
// guided by it, so that the rules live in one place for both parsers.
var anyShape = &Shape{Kind: KindAny}

// skipShape builds nothing; a nil *Shape means the same.
var skipShape = &Shape{Kind: KindSkip}

// value checks one value with every rule of strict JSON and builds what s
// asks for (see ShapeKind); a nil s builds nothing.
func (p *parser) value(depth int, s *Shape) (any, error) {
	if p.pos >= len(p.data) {
		return nil, p.fail("unexpected end of input")
	}
	if s == nil {
		s = skipShape
	}
	if s.Kind == KindRaw {
		start := p.pos
		if _, err := p.value(depth, nil); err != nil {
			return nil, err
		}
		return RawValue(p.data[start:p.pos:p.pos]), nil
	}
	build := s.Kind != KindSkip
	switch c := p.data[p.pos]; {
	case c == '{':
		if s.Kind == KindObject || s.Kind == KindAny {
			return p.object(depth+1, s)
		}
		_, err := p.object(depth+1, skipShape)
		return skippedObject, err
	case c == '[':
		if s.Kind == KindArray || s.Kind == KindAny {
			return p.array(depth+1, s)
		}
		_, err := p.array(depth+1, skipShape)
		return skippedArray, err
	case c == '"':
		if build {
			return p.string()
		}
		var err error
		p.scratch, err = p.appendString(p.scratch[:0])
		return skippedString, err
	case c == '-' || c >= '0' && c <= '9':
		start := p.pos
		if err := p.skipNumber(); err != nil || !build {
			return skippedNumber, err
		}
		return json.Number(p.data[start:p.pos]), nil
	case c == 't':
		if build {
			return true, p.literal("true")
		}
		return skippedBool, p.literal("true")
	case c == 'f':
		if build {
			return false, p.literal("false")
		}
		return skippedBool, p.literal("false")
	case c == 'n':
		if build {
			return nil, p.literal("null")
		}
		return skippedNull, p.literal("null")
	default:
		return nil, p.fail(fmt.Sprintf("invalid character %q looking for a value", c))
	}
}

func (p *parser) literal(want string) error {
	if len(p.data)-p.pos < len(want) || string(p.data[p.pos:p.pos+len(want)]) != want {
		return p.fail("invalid literal")
	}
	p.pos += len(want)
	return nil
}

// object checks an object and builds the members s keeps: all of them for
// KindAny (an empty object is then an empty map), those Shape names or
// covers for KindObject (an empty object is then a nil map), none for
// KindSkip. Keys of dropped members go only to a reusable stack, long
// enough to refuse duplicates among them. On error the parser is not
// reused, so the stacks are unwound only on success.
func (p *parser) object(depth int, s *Shape) (map[string]any, error) {
	if depth > MaxDepth {
		return nil, p.fail("nesting too deep")
	}
	all := s.Kind == KindAny
	maxLen := 0
	if s.Kind == KindObject {
		maxLen = s.MaxLen
	}
	top := depth == 1 && p.spans != nil
	p.pos++ // '{'
	var m map[string]any
	if all {
		m = map[string]any{}
	}
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return m, nil
	}
	base, kbase := len(p.kspans), len(p.keys)
	sorted := true
	for n := 1; ; n++ {
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return nil, p.fail("expected string for object key")
		}
		if maxLen > 0 && n > maxLen {
			return nil, &SyntaxError{Offset: p.pos, Reason: fmt.Sprintf("more than %d object members", maxLen), err: ErrTooMany}
		}
		keyAt := p.pos
		// A plain key stays in the input; others are decoded onto p.keys.
		kstart := len(p.keys)
		key, plain := p.plainString()
		if !plain {
			keys, err := p.appendString(p.keys)
			if err != nil {
				return nil, err
			}
			p.keys = keys
			key = p.keys[kstart:]
		}
		child, keep := s, all
		if !all {
			var named bool
			child, named = s.Members[string(key)]
			keep = named || s.Others != nil
			if !keep && s.Closed {
				return nil, &UnknownMemberError{Offset: keyAt, Key: string(key)}
			}
			if !keep && foldsTo(key, s.Members) {
				keep = true // kept as a Skipped, for the caller to refuse
			} else if !named {
				child = s.Others // nil when dropped
			}
		}
		var k string
		if keep {
			k = string(key)
			p.keys = p.keys[:kstart]
			if _, dup := m[k]; dup {
				return nil, &SyntaxError{Offset: keyAt, Reason: fmt.Sprintf("duplicate object key %q", k), err: ErrDuplicateKey}
			}
		} else {
			if plain {
				p.keys = append(p.keys, key...)
			}
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
		v, err := p.value(depth, child)
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
	p.kspans, p.keys = p.kspans[:base], p.keys[:kbase]
	return m, nil
}

// array checks an array and builds its elements unless s is KindSkip:
// each with s.Elems for KindArray, with s itself for KindAny.
func (p *parser) array(depth int, s *Shape) ([]any, error) {
	if depth > MaxDepth {
		return nil, p.fail("nesting too deep")
	}
	var a []any
	elems, maxLen := s, 0
	switch s.Kind {
	case KindArray:
		elems, maxLen = s.Elems, s.MaxLen
		a = []any{}
	case KindAny:
		a = []any{}
	}
	build := a != nil
	p.pos++ // '['
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		return a, nil
	}
	for n := 0; ; n++ {
		p.skipSpace()
		if maxLen > 0 && n >= maxLen {
			return nil, &SyntaxError{Offset: p.pos, Reason: fmt.Sprintf("more than %d array elements", maxLen), err: ErrTooMany}
		}
		v, err := p.value(depth, elems)
		if err != nil {
			return nil, err
		}
		if build {
			a = append(a, v)
		}
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

// skipNumber moves past a number, checking the JSON grammar.
func (p *parser) skipNumber() error {
	d := p.data
	i := p.pos
	if d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	default:
		p.pos = i
		return p.fail("invalid number")
	}
	if i < len(d) && d[i] == '.' {
		i++
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			p.pos = i
			return p.fail("invalid number: no digits after '.'")
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			p.pos = i
			return p.fail("invalid number: no digits in exponent")
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	p.pos = i
	return nil
}

// string decodes a JSON string starting at the opening quote.
func (p *parser) string() (string, error) {
	if b, ok := p.plainString(); ok {
		return string(b), nil
	}
	b, err := p.appendString(nil)
	return string(b), err
}

// plainString is the fast path for a string without escapes, control or
// non-ASCII bytes: it moves past it and gives its contents as a sub-slice
// of the input. For any other string it gives false and does not move.
func (p *parser) plainString() ([]byte, bool) {
	d := p.data
	for i := p.pos + 1; i < len(d); i++ {
		c := d[i]
		if c == '"' {
			b := d[p.pos+1 : i]
			p.pos = i + 1
			return b, true
		}
		if c == '\\' || c < 0x20 || c >= 0x80 {
			break
		}
	}
	return nil, false
}

// appendString decodes the JSON string starting at the opening quote and
// appends its bytes to dst.
func (p *parser) appendString(dst []byte) ([]byte, error) {
	d := p.data
	p.pos++ // opening quote
	i := p.pos
	for {
		// Copy runs of plain ASCII at once.
		j := i
		for j < len(d) {
			c := d[j]
			if c == '"' || c == '\\' || c < 0x20 || c >= 0x80 {
				break
			}
			j++
		}
		dst = append(dst, d[i:j]...)
		i = j
		if i >= len(d) {
			p.pos = i
			return nil, p.fail("unexpected end of input in string")
		}
		c := d[i]
		switch {
		case c == '"':
			p.pos = i + 1
			return dst, nil
		case c < 0x20:
			p.pos = i
			return nil, p.fail(fmt.Sprintf("control character %#02x in string", c))
		case c == '\\':
			p.pos = i
			if i+1 >= len(d) {
				return nil, p.fail("unexpected end of input in string escape")
			}
			switch e := d[i+1]; e {
			case '"', '\\', '/':
				dst = append(dst, e)
				i += 2
			case 'b':
				dst = append(dst, '\b')
				i += 2
			case 'f':
				dst = append(dst, '\f')
				i += 2
			case 'n':
				dst = append(dst, '\n')
				i += 2
			case 'r':
				dst = append(dst, '\r')
				i += 2
			case 't':
				dst = append(dst, '\t')
				i += 2
			case 'u':
				r, ok := hex4(d, i+2)
				if !ok {
					return nil, p.fail("invalid \\u escape")
				}
				i += 6
				if utf16.IsSurrogate(r) {
					if r >= 0xdc00 {
						return nil, p.fail("unpaired UTF-16 surrogate escape")
					}
					lo, ok := rune(0), false
					if i+1 < len(d) && d[i] == '\\' && d[i+1] == 'u' {
						lo, ok = hex4(d, i+2)
					}
					if !ok || lo < 0xdc00 || lo > 0xdfff {
						return nil, p.fail("unpaired UTF-16 surrogate escape")
					}
					r = utf16.DecodeRune(r, lo)
					i += 6
				}
				dst = utf8.AppendRune(dst, r)
			default:
				return nil, p.fail(fmt.Sprintf("invalid escape '\\%c' in string", e))
			}
		default:
			r, size := utf8.DecodeRune(d[i:])
			if r == utf8.RuneError && size == 1 {
				p.pos = i
				return nil, p.fail("invalid UTF-8 in string")
			}
			dst = append(dst, d[i:i+size]...)
			i += size
		}
	}
}

func hex4(d []byte, at int) (rune, bool) {
	if at+4 > len(d) {
		return 0, false
	}
	var r rune
	for _, c := range d[at : at+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
