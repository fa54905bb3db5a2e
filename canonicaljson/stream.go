package canonicaljson

import (
	"bytes"
	"errors"
	"math"
	"sort"
	"strconv"
)

// errNotStrict makes canonicalizeStrict give up: on input the strict
// parser would refuse (duplicate keys, invalid UTF-8, unpaired surrogates,
// bad syntax) and on any value it cannot encode. Canonicalize then takes
// v1's lenient path, which gives the definitive result or error.
var errNotStrict = errors.New("canonicaljson: input needs the lenient path")

// canonicalizeStrict writes the canonical form of raw in one pass, without
// building a tree: objects are written member by member and reordered in
// place when their keys are not already sorted. It accepts exactly what
// ParseStrict accepts and gives what EncodeValue gives for that tree.
func canonicalizeStrict(raw []byte) ([]byte, error) {
	if len(raw) > maxStreamInput {
		return nil, errNotStrict
	}
	c := canon{data: raw, out: make([]byte, 0, len(raw))}
	c.skipSpace()
	if err := c.value(0); err != nil {
		return nil, err
	}
	c.skipSpace()
	if c.pos != len(c.data) {
		return nil, errNotStrict
	}
	return c.out, nil
}

type canon struct {
	data    []byte
	pos     int
	out     []byte
	scratch []byte   // reordering buffer
	keys    []byte   // decoded keys of the objects being written (a stack)
	members []member // members of the objects being written (a stack)
}

// A member is 16 bytes, so the stack costs at most about twice the input
// for an object of many short members (int32 offsets: see
// maxStreamInput).
type member struct {
	keyStart, keyEnd int32 // the decoded key in keys
	start, end       int32 // the member's bytes ("key":value) in out
}

// maxStreamInput bounds the input of canonicalizeStrict so that offsets in
// out fit a member's int32 (a number such as 1e18 grows fivefold when
// written canonically). Larger input takes the lenient path.
const maxStreamInput = math.MaxInt32 / 8

func (c *canon) skipSpace() {
	for c.pos < len(c.data) {
		switch c.data[c.pos] {
		case ' ', '\t', '\n', '\r':
			c.pos++
		default:
			return
		}
	}
}

func (c *canon) value(depth int) error {
	if c.pos >= len(c.data) {
		return errNotStrict
	}
	switch ch := c.data[c.pos]; {
	case ch == '{':
		return c.object(depth + 1)
	case ch == '[':
		return c.array(depth + 1)
	case ch == '"':
		p := parser{data: c.data, pos: c.pos}
		s, err := p.appendString(c.scratch[:0])
		if err != nil {
			return errNotStrict
		}
		c.pos, c.scratch = p.pos, s
		c.out = appendCanonicalString(c.out, s)
		return nil
	case ch == '-' || ch >= '0' && ch <= '9':
		return c.number()
	case ch == 't':
		return c.literal("true")
	case ch == 'f':
		return c.literal("false")
	case ch == 'n':
		return c.literal("null")
	}
	return errNotStrict
}

func (c *canon) literal(want string) error {
	if !bytes.HasPrefix(c.data[c.pos:], []byte(want)) {
		return errNotStrict
	}
	c.pos += len(want)
	c.out = append(c.out, want...)
	return nil
}

func (c *canon) object(depth int) error {
	if depth > MaxDepth {
		return errNotStrict
	}
	c.pos++
	begin := len(c.out)
	c.out = append(c.out, '{')
	c.skipSpace()
	if c.pos < len(c.data) && c.data[c.pos] == '}' {
		c.pos++
		c.out = append(c.out, '}')
		return nil
	}
	mBase, kBase := len(c.members), len(c.keys)
	defer func() { c.members, c.keys = c.members[:mBase], c.keys[:kBase] }()
	sorted := true
	for {
		c.skipSpace()
		if c.pos >= len(c.data) || c.data[c.pos] != '"' {
			return errNotStrict
		}
		keyStart := len(c.keys)
		p := parser{data: c.data, pos: c.pos}
		keys, err := p.appendString(c.keys)
		if err != nil {
			return errNotStrict
		}
		c.pos, c.keys = p.pos, keys
		key := c.keys[keyStart:]
		if n := len(c.members); n > mBase {
			prev := c.key(c.members[n-1])
			switch bytes.Compare(key, prev) {
			case 0:
				return errNotStrict
			case -1:
				sorted = false
			}
			c.out = append(c.out, ',')
		}
		start := len(c.out)
		c.out = appendCanonicalString(c.out, key)
		c.out = append(c.out, ':')
		c.skipSpace()
		if c.pos >= len(c.data) || c.data[c.pos] != ':' {
			return errNotStrict
		}
		c.pos++
		c.skipSpace()
		if err := c.value(depth); err != nil {
			return err
		}
		c.members = append(c.members, member{keyStart: int32(keyStart), keyEnd: int32(keyStart + len(key)), start: int32(start), end: int32(len(c.out))})
		c.skipSpace()
		if c.pos >= len(c.data) {
			return errNotStrict
		}
		if c.data[c.pos] == ',' {
			c.pos++
			continue
		}
		if c.data[c.pos] != '}' {
			return errNotStrict
		}
		c.pos++
		break
	}
	if !sorted {
		ms := c.members[mBase:]
		sort.Slice(ms, func(i, j int) bool { return bytes.Compare(c.key(ms[i]), c.key(ms[j])) < 0 })
		for i := 1; i < len(ms); i++ {
			if bytes.Equal(c.key(ms[i]), c.key(ms[i-1])) {
				return errNotStrict
			}
		}
		c.scratch = append(c.scratch[:0], c.out[begin+1:]...)
		c.out = c.out[:begin+1]
		for i, m := range ms {
			if i > 0 {
				c.out = append(c.out, ',')
			}
			c.out = append(c.out, c.scratch[int(m.start)-begin-1:int(m.end)-begin-1]...)
		}
	}
	c.out = append(c.out, '}')
	return nil
}

func (c *canon) key(m member) []byte { return c.keys[m.keyStart:m.keyEnd] }

func (c *canon) array(depth int) error {
	if depth > MaxDepth {
		return errNotStrict
	}
	c.pos++
	c.out = append(c.out, '[')
	c.skipSpace()
	if c.pos < len(c.data) && c.data[c.pos] == ']' {
		c.pos++
		c.out = append(c.out, ']')
		return nil
	}
	for first := true; ; first = false {
		if !first {
			c.out = append(c.out, ',')
		}
		c.skipSpace()
		if err := c.value(depth); err != nil {
			return err
		}
		c.skipSpace()
		if c.pos >= len(c.data) {
			return errNotStrict
		}
		switch c.data[c.pos] {
		case ',':
			c.pos++
		case ']':
			c.pos++
			c.out = append(c.out, ']')
			return nil
		default:
			return errNotStrict
		}
	}
}

func (c *canon) number() error {
	p := parser{data: c.data, pos: c.pos}
	if err := p.skipNumber(); err != nil {
		return errNotStrict
	}
	lit := c.data[c.pos:p.pos]
	c.pos = p.pos
	if isPlainInteger(string(lit)) { // no allocation: converted for the call only
		if len(lit) == 2 && lit[0] == '-' && lit[1] == '0' {
			lit = lit[1:]
		}
		c.out = append(c.out, lit...)
		return nil
	}
	s := string(lit)
	i, err := integralValue(s)
	if err != nil {
		// Not necessarily final: a later duplicate key may replace
		// this value on the lenient path.
		return errNotStrict
	}
	c.out = strconv.AppendInt(c.out, i, 10)
	return nil
}

// appendCanonicalString escapes only '"' and '\' (v1 §2.1).
func appendCanonicalString(b []byte, s []byte) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		if ch := s[i]; ch == '"' || ch == '\\' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', ch)
			start = i + 1
		}
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
