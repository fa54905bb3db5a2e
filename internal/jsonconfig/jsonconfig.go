// Package jsonconfig reads the JSON config files of notary-server and
// notary-signer with v1's (viper's) lookup rules: keys are
// case-insensitive, an environment variable PREFIX_SECTION_KEY overrides
// the file's section.key (viper AutomaticEnv with "." → "_"), and relative
// paths resolve against the file's directory (never the working
// directory, so a service finds its files wherever it is started from).
// Check compares a file with the keys a program reads.
package jsonconfig

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is a parsed JSON config file together with its environment.
type Config struct {
	file   string         // "" without a config file
	dir    string         // absolute directory of file; "" without one
	prefix string         // e.g. "NOTARY_SERVER"
	tree   map[string]any // lowercased keys
	lookup func(string) (string, bool)
}

// Load reads file ("" for none: every key is then unset but for the
// environment). envPrefix names the override variables ("NOTARY_SERVER"
// → NOTARY_SERVER_STORAGE_DB_URL for storage.db_url); lookup reads the
// environment (os.LookupEnv, or a map in tests).
func Load(file, envPrefix string, lookup func(string) (string, bool)) (*Config, error) {
	c := &Config{file: file, prefix: envPrefix, tree: map[string]any{}, lookup: lookup}
	if file == "" {
		return c, nil
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil, fmt.Errorf("could not read config at %s: %w", file, err)
	}
	c.dir = filepath.Dir(abs)
	b, err := os.ReadFile(abs)
	if err != nil {
		// The error names the absolute path: "no such file" for a
		// relative name says nothing about where it was looked for.
		return nil, fmt.Errorf("could not read config: %w", err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("could not parse config at %s (JSON expected): %w", file, err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("config at %s is not a JSON object", file)
	}
	c.tree = lowerKeys(m)
	return c, nil
}

func lowerKeys(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok {
			v = lowerKeys(sub)
		}
		out[strings.ToLower(k)] = v
	}
	return out
}

// File is the config file's name, "" without one.
func (c *Config) File() string { return c.file }

// Dir is the absolute directory of the config file, which relative paths
// in it are relative to; "" without a config file.
func (c *Config) Dir() string { return c.dir }

// Resolve makes a path from the config absolute: against the file's
// directory, or without a config file (the value then comes from the
// environment) against the working directory. "" stays "".
func (c *Config) Resolve(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	if c.dir == "" {
		if abs, err := filepath.Abs(p); err == nil {
			return abs
		}
		return p
	}
	return filepath.Join(c.dir, p)
}

// LookupEnv reads an environment variable through the Config's lookup.
func (c *Config) LookupEnv(name string) (string, bool) { return c.lookup(name) }

// EnvName is the variable overriding key ("storage.db_url" →
// PREFIX_STORAGE_DB_URL).
func (c *Config) EnvName(key string) string {
	return c.prefix + "_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// FileValue returns the value of a dotted key in the file only.
func (c *Config) FileValue(key string) (any, bool) {
	var cur any = c.tree
	for _, part := range strings.Split(strings.ToLower(key), ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[part]; !ok {
			return nil, false
		}
	}
	return cur, cur != nil
}

// Get returns the value of a dotted key: the environment first, then the
// file. ok is false when neither sets it.
func (c *Config) Get(key string) (any, bool) {
	if v, ok := c.lookup(c.EnvName(key)); ok {
		return v, true
	}
	return c.FileValue(key)
}

// Has reports whether a key or section is set at all.
func (c *Config) Has(key string) bool { _, ok := c.Get(key); return ok }

// String reads a string (a number or boolean is given in its JSON
// spelling), trimmed of spaces; "" when unset.
func (c *Config) String(key string) (string, error) {
	v, ok := c.Get(key)
	if !ok {
		return "", nil
	}
	switch x := v.(type) {
	case string:
		return strings.TrimSpace(x), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case bool:
		return strconv.FormatBool(x), nil
	}
	return "", fmt.Errorf("config: %s must be a string", key)
}

// Int reads a whole number given as a JSON number or a string. set is
// false when the key is unset.
func (c *Config) Int(key string) (n int64, set bool, err error) {
	v, ok := c.Get(key)
	if !ok {
		return 0, false, nil
	}
	switch x := v.(type) {
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			return 0, false, fmt.Errorf("config: %s must be a whole number", key)
		}
		return int64(x), true, nil
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		if err != nil {
			return 0, false, fmt.Errorf("config: %s must be a whole number, got %q", key, x)
		}
		return n, true, nil
	}
	return 0, false, fmt.Errorf("config: %s must be a whole number", key)
}

// Duration reads a Go duration ("30s") or a number of seconds. set is
// false when the key is unset.
func (c *Config) Duration(key string) (d time.Duration, set bool, err error) {
	v, ok := c.Get(key)
	if !ok {
		return 0, false, nil
	}
	if f, isNum := v.(float64); isNum {
		return time.Duration(f * float64(time.Second)), true, nil
	}
	s, err := c.String(key)
	if err != nil {
		return 0, false, err
	}
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		return time.Duration(n * float64(time.Second)), true, nil
	}
	d, err = time.ParseDuration(s)
	if err != nil {
		return 0, false, fmt.Errorf("config: %s: %q is not a duration (e.g. \"30s\")", key, s)
	}
	return d, true, nil
}

// Strings reads a list of strings: a JSON array, or (from the
// environment) a whitespace-separated list, as viper's GetStringSlice does.
func (c *Config) Strings(key string) ([]string, error) {
	v, ok := c.Get(key)
	if !ok {
		return nil, nil
	}
	switch x := v.(type) {
	case string:
		return strings.Fields(x), nil
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("config: %s must be a list of strings", key)
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("config: %s must be a list of strings", key)
}

// ResolveSQLite resolves the file of a SQLite DSN from the config ("x.db",
// "file:x.db?_pragma=..."), as Resolve does; ":memory:" and URIs with an
// authority ("file://...") are returned as they are.
func (c *Config) ResolveSQLite(dsn string) string {
	p, query, hasQuery := strings.Cut(dsn, "?")
	scheme := ""
	if strings.HasPrefix(p, "file:") {
		scheme, p = "file:", strings.TrimPrefix(p, "file:")
	}
	if p == "" || p == ":memory:" || strings.HasPrefix(p, "//") {
		return dsn
	}
	out := scheme + c.Resolve(p)
	if hasQuery {
		out += "?" + query
	}
	return out
}

// Path reads a file path; a relative one is made absolute against the
// config file's directory (v1 GetPathRelativeToConfig), also when it comes
// from the environment, so errors name the full path.
func (c *Config) Path(key string) (string, error) {
	p, err := c.String(key)
	if err != nil {
		return "", err
	}
	return c.Resolve(p), nil
}

// A Reader reads several keys into variables and keeps the first error, so
// a config section reads as a list of keys.
type Reader struct {
	c   *Config
	err error
}

// Reader returns a Reader of c.
func (c *Config) Reader() *Reader { return &Reader{c: c} }

// String reads key into dst (see Config.String).
func (r *Reader) String(key string, dst *string) {
	if r.err == nil {
		*dst, r.err = r.c.String(key)
	}
}

// Path reads key into dst (see Config.Path).
func (r *Reader) Path(key string, dst *string) {
	if r.err == nil {
		*dst, r.err = r.c.Path(key)
	}
}

// Err is the first error met.
func (r *Reader) Err() error { return r.err }
