package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBulkAddHash: addhash --from-file stages every line, from a file or
// stdin, and -p publishes them in the same run; a consumer lists them.
func TestBulkAddHash(t *testing.T) {
	srv := newTestServer(t)
	c := newCLI(t, srv.URL)
	c.ok("init", "-p", gun)

	var b strings.Builder
	b.WriteString("# name size sha256 [sha512]\n\n")
	for i := range 50 {
		fmt.Fprintf(&b, "t%02d %d %s\n", i, i, strings.Repeat(fmt.Sprintf("%02x", i), 32))
	}
	fmt.Fprintf(&b, "both\t7\t%s\t%s\r\n", strings.Repeat("aa", 32), strings.Repeat("bb", 64))
	list := writeFile(t, filepath.Join(t.TempDir(), "targets.txt"), b.String())

	r := c.ok("addhash", gun, "--from-file", list)
	mustContain(t, "addhash", r.out, `Addition of 51 target(s) to repository "example.com/app" staged for next publish.`)
	r = c.ok("status", gun)
	mustContain(t, "status", r.out, "0     create    targets    target    t00\n", "50    create    targets    target    both\n")

	// stdin, and -p publishes the 51 above and this one.
	r = c.runIn(fmt.Sprintf("stdin 3 %s\n", strings.Repeat("cc", 32)), "addhash", gun, "--from-file", "-", "-p")
	if r.code != 0 {
		t.Fatalf("addhash from stdin: %s", r)
	}
	mustContain(t, "addhash -p", r.out, "Addition of 1 target(s)", "Successfully published changes for repository "+gun)
	if got := c.ok("status", gun).out; strings.Contains(got, "create") {
		t.Errorf("changes left after -p:\n%s", got)
	}
	r = newCLI(t, srv.URL).ok("list", gun)
	rows := map[string]string{}
	for _, line := range strings.Split(r.out, "\n") {
		if f := strings.Fields(line); len(f) == 4 {
			rows[f[0]] = f[1] + " " + f[2]
		}
	}
	for name, want := range map[string]string{
		"t07":   strings.Repeat("07", 32) + " 7",
		"both":  strings.Repeat("aa", 32) + " 7",
		"stdin": strings.Repeat("cc", 32) + " 3",
	} {
		if rows[name] != want {
			t.Errorf("list row %s = %q, want %q", name, rows[name], want)
		}
	}
	if n := strings.Count(r.out, "targets\n"); n != 52 {
		t.Errorf("list shows %d targets, want 52:\n%s", n, r.out)
	}
}

// TestBulkAdd: add --from-file hashes each listed file, the path
// being the target name.
func TestBulkAdd(t *testing.T) {
	srv := newTestServer(t)
	c := newCLI(t, srv.URL)
	c.ok("init", "-p", gun)
	dir := t.TempDir()
	var paths []string
	for i := range 3 {
		paths = append(paths, writeFile(t, filepath.Join(dir, fmt.Sprintf("file %d.txt", i)), "hello world\n"))
	}
	list := writeFile(t, filepath.Join(dir, "list"), strings.Join(paths, "\n")+"\n")
	r := c.ok("add", gun, "--from-file", list, "-p")
	mustContain(t, "add", r.out, "Addition of 3 target(s)", "Successfully published")
	r = c.ok("lookup", gun, paths[1])
	mustContain(t, "lookup", r.out, "sha256:a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447 12")
}

// TestBulkRefusesBadLines: every bad line is reported with its number,
// and nothing is staged when any line is bad.
func TestBulkRefusesBadLines(t *testing.T) {
	c := newCLI(t, newTestServer(t).URL)
	c.ok("init", gun)
	h := strings.Repeat("ab", 32)
	dir := t.TempDir()
	tests := []struct {
		name  string
		cmd   string
		input string
		want  []string
	}{
		{"fields", "addhash", "ok 1 " + h + "\nshort 1\n", []string{":2: want NAME SIZE SHA256 [SHA512], got 2 field(s)"}},
		{"size", "addhash", "a -1 " + h + "\nb x " + h + "\n", []string{":1: invalid byte size -1", `:2: invalid byte size "x"`}},
		{"sha256", "addhash", "a 1 abcd\n", []string{":1: invalid sha256 hex contents provided"}},
		{"sha256 hex", "addhash", "a 1 " + strings.Repeat("zz", 32) + "\n", []string{":1: invalid sha256 hex contents provided"}},
		{"sha512", "addhash", "a 1 " + h + " abcd\n", []string{":1: invalid sha512 hex contents provided"}},
		{"duplicate", "addhash", "a 1 " + h + "\n\na 2 " + h + "\n", []string{`:3: target "a" already given on line 1`}},
		{"empty", "addhash", "# nothing\n\n", []string{"no targets"}},
		{"missing file", "add", filepath.Join(dir, "nope") + "\n", []string{":1: open "}},
		{"many", "addhash", strings.Repeat("x\n", 15), []string{":1: want", ":10: want", "and 5 more bad line(s)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			list := writeFile(t, filepath.Join(t.TempDir(), "list"), tt.input)
			r := c.fail(tt.cmd, gun, "--from-file", list)
			mustContain(t, "error", r.err, tt.want...)
			if tt.name == "many" {
				mustNotContain(t, "error", r.err, ":11: want")
			}
			if got := c.ok("status", gun).out; strings.Contains(got, "create") {
				t.Errorf("staged after a bad input:\n%s", got)
			}
		})
	}
	// A role refused for every target also stages nothing.
	list := writeFile(t, filepath.Join(dir, "ok"), "a 1 "+h+"\n")
	c.fail("addhash", gun, "--from-file", list, "-r", "snapshot")
	c.fail("addhash", gun, "--from-file", list, "--sha256", h)
	c.fail("addhash", gun, "extra", "--from-file", list)
	c.fail("addhash", gun, "--from-file", filepath.Join(dir, "absent"))
	if got := c.ok("status", gun).out; strings.Contains(got, "create") {
		t.Errorf("staged after refused runs:\n%s", got)
	}
	_ = os.Remove(list)
}

// TestBulkPublishKeepsChangesOnFailure: with -p the new targets are
// published together with what was already staged, without being written
// to the changelist; if the publish fails they are staged, so a plain
// publish later sends them.
func TestBulkPublishKeepsChangesOnFailure(t *testing.T) {
	srv := newTestServer(t)
	c := newCLI(t, srv.URL)
	c.ok("init", "-p", gun)
	h := strings.Repeat("ab", 32)
	c.ok("addhash", gun, "staged-before", "1", "--sha256", h)
	list := writeFile(t, filepath.Join(t.TempDir(), "list"), "new-a 1 "+h+"\nnew-b 2 "+h+"\n")

	srv.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPost {
			http.Error(w, `{"errors":[{"code":"UNAVAILABLE","message":"down"}]}`, http.StatusServiceUnavailable)
			return true
		}
		return false
	})
	c.fail("addhash", gun, "--from-file", list, "-p")
	srv.setHook(nil)
	mustContain(t, "status after a failed publish", c.ok("status", gun).out,
		"0    create    targets    target    staged-before",
		"1    create    targets    target    new-a",
		"2    create    targets    target    new-b")

	c.ok("publish", gun)
	r := newCLI(t, srv.URL).ok("list", gun)
	mustContain(t, "list", r.out, "staged-before ", "new-a ", "new-b ")

	// Success: staged and new go out together, nothing is left staged.
	c.ok("addhash", gun, "staged-2", "1", "--sha256", h)
	list2 := writeFile(t, filepath.Join(t.TempDir(), "list"), "new-c 3 "+h+"\n")
	c.ok("addhash", gun, "--from-file", list2, "-p")
	if got := c.ok("status", gun).out; strings.Contains(got, "create") {
		t.Errorf("changes left after -p:\n%s", got)
	}
	r = newCLI(t, srv.URL).ok("list", gun)
	mustContain(t, "list", r.out, "staged-2 ", "new-c ")
}
