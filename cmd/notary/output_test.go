package main

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/output/*.golden")

// TestOutputGolden runs list, lookup, status, delegation list, key list
// and cert list in both formats against one collection (targets with and
// without custom data, two delegations, a staged change) and compares
// them with testdata/output/*.golden, after replacing what differs from
// run to run (key and certificate IDs, the trust directory, days left).
// The table goldens pin v0.7.0's layout (scripts parse it); the JSON
// goldens pin the field names of docs/output.md. Regenerate with
// go test ./cmd/notary -run TestOutputGolden -update.
func TestOutputGolden(t *testing.T) {
	srv := newTestServer(t)
	c := newCLI(t, srv.URL)
	dir := t.TempDir()
	hello := writeFile(t, filepath.Join(dir, "hello.txt"), "hello world\n")
	custom := writeFile(t, filepath.Join(dir, "custom.json"), `{"build": 7}`)
	c.ok("init", "-p", gun)
	c.ok("add", gun, "hello", hello)
	c.ok("add", gun, "v1.0", hello, "--custom", custom)
	c.ok("publish", gun)
	rel := filepath.Join(dir, "releases")
	c.ok("key", "generate", "ecdsa", "--role", "targets/releases", "-o", rel)
	c.ok("delegation", "add", gun, "targets/releases", rel+".pem", "--all-paths")
	c.ok("delegation", "add", gun, "targets/qa", rel+".pem", "--paths", "qa/,other/")
	c.ok("key", "import", rel+"-key.pem")
	c.ok("add", gun, "released", hello, "-r", "targets/releases")
	c.ok("publish", gun)
	c.ok("add", gun, "staged", hello, "-r", "targets/releases")

	// Placeholders for the IDs, from the JSON output itself.
	var ks []keyJSON
	if err := json.Unmarshal([]byte(c.ok("key", "list", "-o", "json").out), &ks); err != nil {
		t.Fatal(err)
	}
	var cs []certJSON
	if err := json.Unmarshal([]byte(c.ok("cert", "list", "-o", "json").out), &cs); err != nil {
		t.Fatal(err)
	}
	var pairs []string
	for _, k := range ks {
		pairs = append(pairs, k.KeyID, "<"+strings.ReplaceAll(k.Role, "/", "-")+"-key>")
	}
	for _, c := range cs {
		pairs = append(pairs, c.ID, "<root-cert>")
	}
	pairs = append(pairs, c.trustDir, "<trust>")
	ids := strings.NewReplacer(pairs...)
	variable := []struct {
		re   *regexp.Regexp
		with string
	}{
		{regexp.MustCompile(`\.\.\.\S*/private`), "<location>"},
		{regexp.MustCompile(`\d+ days`), "<n> days"},
		{regexp.MustCompile(`"expires": "[^"]*"`), `"expires": "<time>"`},
		{regexp.MustCompile(`"seconds_left": \d+`), `"seconds_left": <n>`},
	}
	normalise := func(s string) string {
		s = ids.Replace(s)
		for _, v := range variable {
			s = v.re.ReplaceAllString(s, v.with)
		}
		return s
	}

	for _, tc := range []struct {
		name string
		args []string
	}{
		{"list", []string{"list", gun}},
		{"list-roles", []string{"list", gun, "-r", "targets/releases"}},
		{"lookup", []string{"lookup", gun, "v1.0"}},
		{"status", []string{"status", gun}},
		{"delegation-list", []string{"delegation", "list", gun}},
		{"key-list", []string{"key", "list"}},
		{"cert-list", []string{"cert", "list"}},
	} {
		for _, format := range []string{"", formatTable, formatJSON} {
			name := tc.name + "." + format
			if format == "" {
				name = tc.name + ".default"
			}
			t.Run(name, func(t *testing.T) {
				args := tc.args
				if format != "" {
					args = append(append([]string{}, args...), "-o", format)
				}
				r := c.ok(args...)
				got := normalise(r.out)
				if format == formatJSON && !json.Valid([]byte(r.out)) {
					t.Fatalf("not JSON:\n%s", r.out)
				}
				// The default is the table, byte for byte.
				goldenName := tc.name + "." + format
				if format == "" {
					goldenName = tc.name + "." + formatTable
				}
				file := filepath.Join("testdata", "output", goldenName+".golden")
				if *updateGolden && format != "" {
					if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(file)
				if err != nil {
					t.Fatalf("%v (run with -update to create)", err)
				}
				if got != string(want) {
					t.Errorf("notary %s:\n%s\nwant (%s):\n%s", strings.Join(args, " "), got, file, want)
				}
			})
		}
	}

	// Empty results are empty arrays, never null.
	other := newCLI(t, srv.URL)
	for _, args := range [][]string{{"key", "list", "-o", "json"}, {"cert", "list", "-o", "json"}} {
		if r := other.ok(args...); r.out != "[]\n" {
			t.Errorf("notary %s on an empty trust dir: %q, want []", strings.Join(args, " "), r.out)
		}
	}
	if r := other.ok("status", gun, "-o", "json"); r.out != "{\n  \"gun\": \"example.com/app\",\n  \"changes\": []\n}\n" {
		t.Errorf("status -o json with no changes: %q", r.out)
	}
	// An unknown format is a usage error, for every command.
	for _, args := range [][]string{{"list", gun}, {"lookup", gun, "hello"}, {"status", gun}, {"delegation", "list", gun}, {"key", "list"}, {"cert", "list"}} {
		r := c.fail(append(args, "-o", "yaml")...)
		mustContain(t, strings.Join(args, " "), r.err, `invalid --output "yaml"`)
	}
}
