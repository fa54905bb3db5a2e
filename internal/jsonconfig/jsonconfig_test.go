package jsonconfig

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var testSchema = Schema{
	"server.addr":         KindString,
	"server.limit":        KindInt,
	"server.timeout":      KindDuration,
	"server.tls.enabled":  KindBool,
	"trust.type":          KindString,
	"trust.host":          KindString,
	"repos.prefixes":      KindStrings,
	"auth.options":        KindObject,
	"acl":                 KindAny,
	"caching.max_age.cur": KindInt,
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name        string
		file        string
		wantUnknown []string
		wantErr     string
	}{
		{name: "Valid", file: `{"server":{"addr":":1","limit":5,"timeout":"3s","tls":{"enabled":true}},"trust":{"type":"remote"},"repos":{"prefixes":["a/"]},"auth":{"options":{"x":1}},"acl":[{"a":1}]}`},
		{name: "StringsForNumbers", file: `{"server":{"limit":"5","timeout":7,"addr":5}}`},
		{name: "NullIsUnset", file: `{"server":null,"trust":{"type":null}}`},
		{name: "CaseInsensitive", file: `{"SERVER":{"Addr":":1"}}`},
		{name: "Unknown", file: `{"server":{"adr":":1","tls":{"enabled":false,"ciphers":[]}},"reporting":{"bugsnag":{}},"caching":{"max_age":{"old":1}}}`,
			wantUnknown: []string{"caching.max_age.old", "reporting", "server.adr", "server.tls.ciphers"}},
		{name: "SectionString", file: `{"trust":"remote"}`, wantErr: `config: trust must be an object, not the string "remote"; write "trust": {"type": "remote", ...} (keys: host, type)`},
		{name: "SectionStringNotWord", file: `{"trust":"a b"}`, wantErr: `config: trust must be an object, not a string; write "trust": {"host": ..., ...}`},
		{name: "NestedSectionNumber", file: `{"caching":{"max_age":5}}`, wantErr: `caching.max_age must be an object, not the number 5`},
		{name: "SectionWithoutType", file: `{"server":true}`, wantErr: `server must be an object, not the boolean true; write "server": {"addr": ..., ...} (keys: addr, limit, timeout, tls)`},
		{name: "StringGivenObject", file: `{"server":{"addr":{"host":"x"}}}`, wantErr: "server.addr must be a string, not an object"},
		{name: "IntFraction", file: `{"server":{"limit":1.5}}`, wantErr: "server.limit must be a whole number, not the number 1.5"},
		{name: "IntList", file: `{"server":{"limit":[1]}}`, wantErr: "server.limit must be a whole number, not a list"},
		{name: "DurationBool", file: `{"server":{"timeout":false}}`, wantErr: "server.timeout must be a duration"},
		{name: "BoolString", file: `{"server":{"tls":{"enabled":"yes"}}}`, wantErr: "server.tls.enabled must be true or false, not a string"},
		{name: "StringsMixed", file: `{"repos":{"prefixes":["a/",1]}}`, wantErr: "repos.prefixes must be a list of strings, not a list"},
		{name: "ObjectString", file: `{"auth":{"options":"realm"}}`, wantErr: "auth.options must be an object, not a string"},
		{name: "SecretNotEchoed", file: `{"server":{"addr":["postgres://u:hunter2@h/db"]},"trust":{"host":{"pw":"hunter2"}}}`, wantErr: "server.addr must be a string, not a list"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "c.json")
			if err := os.WriteFile(file, []byte(tc.file), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := Load(file, "P", func(string) (string, bool) { return "", false })
			if err != nil {
				t.Fatal(err)
			}
			unknown, err := c.Check(testSchema)
			unknown2, err2 := testSchema.CheckJSON([]byte(tc.file))
			if (err == nil) != (err2 == nil) || !slices.Equal(unknown, unknown2) {
				t.Errorf("Check and CheckJSON disagree: %v %v / %v %v", unknown, err, unknown2, err2)
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Errorf("the error echoes a secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(unknown, tc.wantUnknown) {
				t.Errorf("unknown keys %q, want %q", unknown, tc.wantUnknown)
			}
		})
	}
}

// TestPathsRelativeToFile checks that paths resolve against the config
// file's directory, as absolute paths, whatever the working directory and
// however the file was named.
func TestPathsRelativeToFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "c.json"), []byte(`{"a":{"cert":"certs/x.pem","abs":"/etc/x.pem"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cwd := t.TempDir()
	t.Chdir(cwd)
	rel, err := filepath.Rel(cwd, filepath.Join(dir, "c.json"))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"P_A_ENV": "env.pem"}
	c, err := Load(rel, "P", func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{
		"a.cert": filepath.Join(dir, "certs", "x.pem"),
		"a.abs":  "/etc/x.pem",
		"a.env":  filepath.Join(dir, "env.pem"), // v1: the environment's value is relative to the file too
		"a.none": "",
	} {
		if got, err := c.Path(key); err != nil || got != want {
			t.Errorf("Path(%s) = %q, %v; want %q", key, got, err, want)
		}
	}
	if c.Dir() != dir {
		t.Errorf("Dir() = %q, want %q", c.Dir(), dir)
	}

	// Without a config file, paths (from the environment) are relative
	// to the working directory, made absolute.
	c, err = Load("", "P", func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Path("a.env"); got != filepath.Join(cwd, "env.pem") {
		t.Errorf("without a file: Path = %q, want %q", got, filepath.Join(cwd, "env.pem"))
	}

	// A missing file is named by its full path.
	_, err = Load("nope.json", "P", nil)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(cwd, "nope.json")) {
		t.Errorf("missing file: %v, want the full path", err)
	}
}
