package jsonconfig

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// A Kind is the type a config key's value must have.
type Kind int

// Kinds of config values. The scalar kinds accept what the matching
// getter accepts (String: also a number or boolean, as viper does; Int and
// Duration: also a string holding one).
const (
	KindString   Kind = iota + 1
	KindInt           // a whole number
	KindDuration      // "30s" or a number of seconds
	KindBool          // true or false
	KindStrings       // a list of strings (or one string, split on spaces)
	KindObject        // an object whose keys are not checked (e.g. auth.options)
	KindAny           // anything (checked by its reader, e.g. a list of rules)
)

func (k Kind) String() string {
	switch k {
	case KindString:
		return "a string"
	case KindInt:
		return "a whole number"
	case KindDuration:
		return `a duration ("30s" or a number of seconds)`
	case KindBool:
		return "true or false"
	case KindStrings:
		return "a list of strings"
	case KindObject:
		return "an object"
	}
	return "a value"
}

// A Schema lists the keys a config file may hold: dotted lower-case key →
// kind. Every proper prefix of a key ("trust_service" of
// "trust_service.type") is a section, whose value must be an object.
type Schema map[string]Kind

// Check checks the config file (not the environment) against s. A section
// that is not an object, or a key whose value is not of its kind, is an
// error: v0.7.0 (viper) read such a file as if the key were unset and
// started with defaults the operator did not ask for (e.g. "trust_service":
// "remote" meant in-process signing). Keys s does not know are returned
// sorted, for the caller to warn about: v0.7.0 ignored them, and configs
// written for it must keep loading.
func (c *Config) Check(s Schema) (unknown []string, err error) {
	return s.check(c.tree)
}

// CheckJSON is Check for a loader that decodes its file itself: data is
// the file's JSON object (keys are compared case-insensitively).
func (s Schema) CheckJSON(data []byte) (unknown []string, err error) {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("config is not a JSON object")
	}
	return s.check(lowerKeys(m))
}

func (s Schema) check(tree map[string]any) ([]string, error) {
	sections := map[string][]string{} // section → its direct children
	for key := range s {
		parts := strings.Split(key, ".")
		for i := 1; i < len(parts); i++ {
			sec := strings.Join(parts[:i], ".")
			sections[sec] = append(sections[sec], parts[i])
		}
	}
	var unknown []string
	var walk func(prefix string, m map[string]any) error
	walk = func(prefix string, m map[string]any) error {
		for _, k := range sortedKeys(m) {
			key, v := k, m[k]
			if prefix != "" {
				key = prefix + "." + k
			}
			if kind, ok := s[key]; ok {
				if err := checkKind(key, kind, v); err != nil {
					return err
				}
				continue
			}
			children, isSection := sections[key]
			if !isSection {
				unknown = append(unknown, key)
				continue
			}
			sub, isMap := v.(map[string]any)
			if v != nil && !isMap {
				return sectionError(key, v, children)
			}
			if err := walk(key, sub); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk("", tree); err != nil {
		return nil, err
	}
	return unknown, nil
}

// sectionError explains that a section must be an object, showing the
// shape: "trust_service": "remote" → "trust_service": {"type": "remote", ...}.
func sectionError(key string, v any, children []string) error {
	sort.Strings(children)
	children = dedup(children)
	last := key[strings.LastIndex(key, ".")+1:]
	example := fmt.Sprintf(`"%s": {"%s": ..., ...}`, last, children[0])
	// A bare word given for the section is most likely its type
	// ("trust_service": "remote"); anything else is not echoed, since a
	// misplaced value may be a DSN with a password.
	if word, isStr := v.(string); isStr && bareWord.MatchString(word) {
		for _, ch := range children {
			if ch == "type" {
				example = fmt.Sprintf(`"%s": {"type": %q, ...}`, last, word)
				return fmt.Errorf("config: %s must be an object, not the string %q; write %s (keys: %s)",
					key, word, example, strings.Join(children, ", "))
			}
		}
	}
	return fmt.Errorf("config: %s must be an object, not %s; write %s (keys: %s)",
		key, describe(v), example, strings.Join(children, ", "))
}

func checkKind(key string, kind Kind, v any) error {
	if v == nil {
		return nil // null: unset, as viper reads it
	}
	ok := false
	switch kind {
	case KindString:
		switch v.(type) {
		case string, float64, bool:
			ok = true
		}
	case KindInt:
		// A string's content is checked by Int, with the value in the
		// message.
		switch x := v.(type) {
		case float64:
			ok = x == math.Trunc(x) && math.Abs(x) <= 1<<53
		case string:
			ok = true
		}
	case KindDuration:
		switch v.(type) {
		case float64, string: // a string's content is checked by Duration
			ok = true
		}
	case KindBool:
		_, ok = v.(bool)
	case KindStrings:
		switch x := v.(type) {
		case string:
			ok = true
		case []any:
			ok = true
			for _, e := range x {
				if _, isStr := e.(string); !isStr {
					ok = false
				}
			}
		}
	case KindObject:
		_, ok = v.(map[string]any)
	case KindAny:
		ok = true
	}
	if !ok {
		return fmt.Errorf("config: %s must be %s, not %s", key, kind, describe(v))
	}
	return nil
}

// bareWord is a value safe to echo in an error: a short word.
var bareWord = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// describe names a JSON value's type for an error message. Strings are not
// echoed: a misplaced value may be a secret (a DSN with its password).
func describe(v any) string {
	switch x := v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	case bool:
		return "the boolean " + strconv.FormatBool(x)
	case float64:
		return "the number " + strconv.FormatFloat(x, 'g', -1, 64)
	case string:
		return "a string"
	}
	return "null"
}

func sortedKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func dedup(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}
