package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCompletionScripts: each shell gets cobra's script for notary.
func TestCompletionScripts(t *testing.T) {
	c := newCLI(t, "")
	for _, tc := range []struct{ shell, want string }{
		{"bash", "__start_notary"},
		{"zsh", "#compdef notary"},
		{"fish", "complete -c notary"},
	} {
		t.Run(tc.shell, func(t *testing.T) {
			r := c.ok("completion", tc.shell)
			mustContain(t, "completion "+tc.shell, r.out, tc.want, "__complete")
		})
	}
	r := c.fail("completion", "tcsh")
	mustContain(t, "completion tcsh", r.err, "bash, zsh, fish")
}

// TestCompletionGUNs: `notary __complete <cmd> ...` (what the scripts
// run) lists the GUNs cached in the trust directory given by -d, for
// the first argument of commands taking a GUN and for every argument of
// those taking several; not for later arguments.
func TestCompletionGUNs(t *testing.T) {
	c := newCLI(t, "")
	for _, g := range []string{"example.com/app", "example.com/web", "docker.io/library/alpine"} {
		writeFile(t, filepath.Join(c.trustDir, "tuf", filepath.FromSlash(g), "metadata", "root.json"), "{}")
	}
	// A folder with no cached root is not a collection.
	if err := os.MkdirAll(filepath.Join(c.trustDir, "tuf", "example.com", "half", "metadata"), 0o700); err != nil {
		t.Fatal(err)
	}
	all := "docker.io/library/alpine\nexample.com/app\nexample.com/web\n"
	for _, tc := range []struct {
		name string
		args []string
		want string // the candidates, one a line
	}{
		{"List", []string{"list", ""}, all},
		{"Prefix", []string{"list", "example"}, "example.com/app\nexample.com/web\n"},
		{"Lookup", []string{"lookup", "docker"}, "docker.io/library/alpine\n"},
		{"DelegationList", []string{"delegation", "list", ""}, all},
		{"CertListSecond", []string{"cert", "list", "example.com/app", "example.com/w"}, "example.com/web\n"},
		{"AddFileArgument", []string{"add", "example.com/app", "t", ""}, ""},
		{"KeyList", []string{"key", "list", ""}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := c.ok(append([]string{"__complete"}, tc.args...)...)
			// The last line is cobra's directive (":4" etc.).
			lines := strings.Split(strings.TrimSuffix(r.out, "\n"), "\n")
			got := strings.Join(lines[:len(lines)-1], "\n")
			if got != "" {
				got += "\n"
			}
			if got != tc.want {
				t.Errorf("__complete %q:\n%s\nwant:\n%s", tc.args, r.out, tc.want)
			}
		})
	}
}
