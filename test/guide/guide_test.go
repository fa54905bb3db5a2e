// Package guide runs the commands of docs/guide as written: every block
// marked sh, in order, one bash per page, against binaries built from
// this tree. Blocks marked console start servers (the test starts them
// with the same arguments, checking the page shows them) or need what
// the test cannot provide.
package guide

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var binDir string

func TestMain(m *testing.M) {
	if os.Getenv("NOTARY_GUIDE_SKIP") != "" {
		fmt.Println("NOTARY_GUIDE_SKIP set: skipping the guide")
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "notary-guide-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	for _, p := range []string{"notary", "notary-server", "notary-signer", "notary-auth"} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, p), "github.com/notary-go/notary/cmd/"+p)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "building %s: %v\n", p, err)
			os.RemoveAll(dir)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var fence = regexp.MustCompile("(?ms)^```(\\w*)\\n(.*?)^```")

// blocks returns the page's code blocks of language lang.
func blocks(t *testing.T, page, lang string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "guide", page))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range fence.FindAllStringSubmatch(string(b), -1) {
		if m[1] == lang {
			out = append(out, m[2])
		}
	}
	return out
}

// freePort is a port nothing listens on now.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// env is a shell environment: the built binaries first on PATH, HOME
// the test's own.
type env struct {
	t    *testing.T
	dir  string // working directory
	home string
	vars []string
}

func newEnv(t *testing.T) *env {
	home := t.TempDir()
	return &env{t: t, dir: t.TempDir(), home: home, vars: []string{
		"PATH=" + binDir + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME=" + home,
		"GOCOVERDIR=" + os.Getenv("GOCOVERDIR"),
	}}
}

// start runs a program in the background until the test ends and waits
// until its stderr matches ready.
func (e *env) start(ready *regexp.Regexp, name string, args []string, extra ...string) {
	t := e.t
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, name), args...)
	cmd.Dir = e.dir
	cmd.Env = append(append([]string{}, e.vars...), extra...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); cmd.Wait() })
	var seen strings.Builder
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		seen.WriteString(sc.Text() + "\n")
		if ready.MatchString(sc.Text()) {
			go io.Copy(io.Discard, stderr)
			return
		}
	}
	t.Fatalf("%s %v exited before it was ready:\n%s", name, args, seen.String())
}

// sh runs the page's sh blocks, in order, in one bash with -e, with port
// 4443 replaced by port.
func (e *env) sh(page, port string) string {
	t := e.t
	t.Helper()
	bs := blocks(t, page, "sh")
	if len(bs) == 0 {
		t.Fatalf("%s has no sh block", page)
	}
	script := "set -euo pipefail\n" + strings.ReplaceAll(strings.Join(bs, "\n"), "4443", port)
	cmd := exec.Command("bash", "-c", script)
	cmd.Dir = e.dir
	cmd.Env = e.vars
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n--- script:\n%s\n--- output:\n%s", page, err, script, out)
	}
	return string(out)
}

// mustShow checks that page shows command in a console block, so what
// the test starts is what the reader runs.
func mustShow(t *testing.T, page, command string) {
	t.Helper()
	for _, b := range blocks(t, page, "console") {
		if strings.Contains(b, "$ "+command+"\n") {
			return
		}
	}
	t.Fatalf("%s does not show `%s`", page, command)
}

// TestWalkthrough runs pages 1, 2, 4, 5 and 6 in order against one
// notary-server -tls-auto, with the passphrases the pages export.
func TestWalkthrough(t *testing.T) {
	e := newEnv(t)
	port := freePort(t)
	mustShow(t, "01-run-a-server.md", "notary-server -tls-auto")
	e.start(regexp.MustCompile(`^\s+Docker:`), "notary-server", []string{"-tls-auto"}, "NOTARY_SERVER_SERVER_HTTP_ADDR=127.0.0.1:"+port)

	// Pages share the shell's state through files only, so the exports
	// of page 2 are repeated for the later pages.
	exports := blocks(t, "02-sign-a-file.md", "sh")[0]
	exports = exports[:strings.Index(exports, "echo")]
	for _, line := range regexp.MustCompile(`NOTARY_\w+_PASSPHRASE=\S+`).FindAllString(exports, -1) {
		e.vars = append(e.vars, line)
	}
	out := e.sh("01-run-a-server.md", port)
	if _, err := os.Stat(filepath.Join(e.home, ".docker", "tls", "localhost:"+port, "ca.crt")); err != nil {
		t.Errorf("the Docker commands did not install the CA: %v", err)
	}
	out = e.sh("02-sign-a-file.md", port)
	// Our client verifies the server against the CA it is given: with
	// another CA (or none, the system roots) it refuses.
	stranger := t.TempDir()
	other := exec.Command(filepath.Join(binDir, "notary"), "-d", filepath.Join(stranger, "trust"), "-s", "https://localhost:"+port, "list", "example.com/app")
	other.Env = append(append([]string{}, e.vars...), "HOME="+stranger)
	if b, err := other.CombinedOutput(); err == nil || !strings.Contains(string(b), "certificate") {
		t.Errorf("notary without --tlscacert accepted the -tls-auto server (err %v):\n%s", err, b)
	}
	for _, want := range []string{"app-1.0.tar", "verified", `"digest": "sha256:`} {
		if !strings.Contains(out, want) {
			t.Errorf("page 2 output lacks %q:\n%s", want, out)
		}
	}
	dockerInspect(t, e, port)
	out = e.sh("04-delegations.md", port)
	for _, want := range []string{"targets/releases", "releases/app-2.0.tar", "verified"} {
		if !strings.Contains(out, want) {
			t.Errorf("page 4 output lacks %q:\n%s", want, out)
		}
	}
	e.sh("05-rotate-a-key.md", port)
	out = e.sh("06-lost-key.md", port)
	if !strings.Contains(out, "Forced removal") {
		t.Errorf("page 6: the delegation was not removed:\n%s", out)
	}
	if !strings.Contains(out, "2.1 verified") {
		t.Errorf("page 6: the new delegation key could not publish:\n%s", out)
	}
}

// copyTree copies src into dst, applying rewrite to every file.
func copyTree(t *testing.T, src, dst string, rewrite func(string) string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		return os.WriteFile(target, []byte(rewrite(string(b))), fi.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestProductionSetup runs "A production setup": the certificates from
// deploy/pki/make-certs.sh and the sample configs of deploy/production
// with the real notary-signer, notary-server and notary-auth (mutual TLS
// between server and signer, token auth), and a client publishing and
// reading. Differences from the page: SQLite instead of PostgreSQL (by
// the documented environment overrides), free ports, and the example
// host names mapped to localhost (the certificates name both).
func TestProductionSetup(t *testing.T) {
	e := newEnv(t)
	ports := map[string]string{"4443": freePort(t), "7899": freePort(t), "4442": freePort(t)}
	subst := strings.NewReplacer(
		"4443", ports["4443"], "7899", ports["7899"], "4442", ports["4442"],
		"notary.example.com:", "localhost:", "auth.example.com:", "localhost:",
	)
	copyTree(t, filepath.Join("..", "..", "deploy"), filepath.Join(e.dir, "deploy"), subst.Replace)
	etc := filepath.Join(e.dir, "etc-notary")
	e.vars = append(e.vars, "NOTARY_ETC="+etc)

	const page = "production.md"
	bs := blocks(t, page, "sh")
	if len(bs) != 2 {
		t.Fatalf("%s: %d sh blocks, want 2 (setup, client)", page, len(bs))
	}
	run := func(script string) string {
		t.Helper()
		cmd := exec.Command("bash", "-c", "set -euo pipefail\nNOTARY_ETC="+etc+"\n"+subst.Replace(script))
		cmd.Dir, cmd.Env = e.dir, e.vars
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v\n--- script:\n%s\n--- output:\n%s", err, script, out)
		}
		return string(out)
	}
	run(bs[0])
	for _, k := range []string{"ca.key", "notary-server.key", "notary-signer.key", "notary-server-client.key", "notary-auth.key", "token.key"} {
		if fi, err := os.Stat(filepath.Join(etc, "pki", k)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v, want 0600", k, fi, err)
		}
	}

	for _, c := range []string{
		"notary-signer migrate --config /etc/notary/notary-signer.json",
		"notary-signer --config /etc/notary/notary-signer.json",
		"notary-server --config /etc/notary/notary-server.json -bootstrap",
		"notary-server --config /etc/notary/notary-server.json",
		"notary-auth --config /etc/notary/notary-auth.json",
	} {
		mustShow(t, page, c)
	}
	storage := []string{
		"NOTARY_SIGNER_STORAGE_BACKEND=sqlite3", "NOTARY_SIGNER_STORAGE_DB_URL=" + filepath.Join(e.dir, "signer.db"),
		"NOTARY_SIGNER_MAIN2026=a-long-random-passphrase",
		"NOTARY_SERVER_STORAGE_BACKEND=sqlite3", "NOTARY_SERVER_STORAGE_DB_URL=" + filepath.Join(e.dir, "server.db"),
	}
	mig := exec.Command(filepath.Join(binDir, "notary-signer"), "migrate", "--config", filepath.Join(etc, "notary-signer.json"))
	mig.Env = append(append([]string{}, e.vars...), storage...)
	if out, err := mig.CombinedOutput(); err != nil {
		t.Fatalf("notary-signer migrate: %v\n%s", err, out)
	}
	e.start(regexp.MustCompile(`serving KeyManagement and Signer`), "notary-signer", []string{"--config", filepath.Join(etc, "notary-signer.json"), "--logf", "logfmt"}, storage...)
	boot := exec.Command(filepath.Join(binDir, "notary-server"), "--config", filepath.Join(etc, "notary-server.json"), "-bootstrap")
	boot.Env = append(append([]string{}, e.vars...), storage...)
	if out, err := boot.CombinedOutput(); err != nil {
		t.Fatalf("notary-server -bootstrap: %v\n%s", err, out)
	}
	e.start(regexp.MustCompile(`listening with TLS`), "notary-server", []string{"--config", filepath.Join(etc, "notary-server.json"), "--logf", "logfmt"}, storage...)
	e.start(regexp.MustCompile(`listening with TLS`), "notary-auth", []string{"--config", filepath.Join(etc, "notary-auth.json")})

	out := run(bs[1])
	if !strings.Contains(out, "app-1.0.tar") {
		t.Errorf("the consumer does not list the target:\n%s", out)
	}
}

// dockerInspect: the Docker CLI, given the CA the way page 1 says
// (~/.docker/tls/<host:port>/ca.crt), reads the collection page 2
// published ("example.com/app" is also an image name, registry
// example.com); without the CA it refuses the server. No Docker engine
// is needed (DOCKER_HOST points nowhere). Skipped without a docker CLI.
func dockerInspect(t *testing.T, e *env, port string) {
	t.Helper()
	docker, err := exec.LookPath("docker")
	if err != nil {
		t.Log("no docker CLI: the Docker path is not exercised")
		return
	}
	run := func(home string) (string, error) {
		cmd := exec.Command(docker, "trust", "inspect", "example.com/app")
		cmd.Env = []string{
			"PATH=" + os.Getenv("PATH"), "HOME=" + home,
			"DOCKER_HOST=unix://" + filepath.Join(home, "no-engine.sock"),
			"DOCKER_CONTENT_TRUST=1", "DOCKER_CONTENT_TRUST_SERVER=https://localhost:" + port,
			"DOCKER_CLI_HINTS=false",
		}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run(e.home)
	if err != nil || !strings.Contains(out, `"Name": "example.com/app"`) || !strings.Contains(out, "app-1.0.tar") {
		t.Errorf("docker trust inspect with the CA installed: %v\n%s", err, out)
	}
	if out, err := run(t.TempDir()); err == nil && strings.Contains(out, "app-1.0.tar") {
		t.Errorf("docker trust inspect without the CA succeeded:\n%s", out)
	}
}
