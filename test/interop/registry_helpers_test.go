//go:build interop

package interop

// Helpers of the image interop tests (registry_*_test.go, issue 11): the
// registry peers built by scripts/install-registry-peers.sh (the CNCF
// distribution registry, olareg, crane, regctl), our trust server and
// token issuer, and our `notary image` CLI. Everything here is prefixed
// reg so it cannot clash with the other interop helpers.

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// regPeer is the path of a registry peer binary: $NOTARY_PEER_<NAME>
// (what scripts/install-registry-peers.sh prints), else
// $NOTARY_REGISTRY_PEERS_BIN/<name>, else $NOTARY_V1_BIN/<name>
// (scripts/test.sh builds every peer into one directory), else the
// module's .tools/bin/<name>. Missing, the test is skipped (failed with
// CI=true).
func regPeer(t testing.TB, name string) string {
	t.Helper()
	env := "NOTARY_PEER_" + strings.ToUpper(name)
	cands := []string{os.Getenv(env)}
	for _, dir := range []string{os.Getenv("NOTARY_REGISTRY_PEERS_BIN"), os.Getenv("NOTARY_V1_BIN"), filepath.Join(dockerRepoRoot(t), ".tools", "bin")} {
		if dir != "" {
			cands = append(cands, filepath.Join(dir, name))
		}
	}
	var tried []string
	for _, p := range cands {
		if p == "" {
			continue
		}
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p
		}
		tried = append(tried, p)
	}
	requirePeer(t, "registry peer %s not built (looked at %s): run scripts/install-registry-peers.sh (or set %s)", name, strings.Join(tried, ", "), env)
	return ""
}

// regProc is a long-running process started by a test: stopped by its own
// PID at cleanup (or earlier with Stop), its log shown when the test
// failed.
type regProc struct {
	name, log string
	cmd       *exec.Cmd
	done      chan struct{}
	stopOnce  sync.Once
}

func regStartProc(t testing.TB, dir, name string, env []string, bin string, args ...string) *regProc {
	t.Helper()
	p := &regProc{name: name, log: filepath.Join(dir, name+".log"), done: make(chan struct{})}
	lf, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Dir = dir
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = lf, lf
	if err := p.cmd.Start(); err != nil {
		lf.Close()
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() { _ = p.cmd.Wait(); lf.Close(); close(p.done) }()
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			t.Logf("--- %s log (last 4 KiB) ---\n%s", name, p.logTail())
		}
	})
	return p
}

// logText is everything the process has written so far (stdout and
// stderr), for tests that check what it logged.
func (p *regProc) logText() string { b, _ := os.ReadFile(p.log); return string(b) }

// logTail is the last 4 KiB of the log, for failure messages.
func (p *regProc) logTail() []byte { return authTail([]byte(p.logText()), 4096) }

// Stop ends the process (SIGTERM, SIGKILL after 10s) and waits for it.
func (p *regProc) Stop() {
	p.stopOnce.Do(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
}

// waitUp waits until url answers (any HTTP status), failing the test
// if the process exits first or nothing answers within 60s.
func (p *regProc) waitUp(t testing.TB, url string, tlsConf *tls.Config) {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConf}, Timeout: 2 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-p.done:
			t.Fatalf("%s exited before answering %s:\n%s", p.name, url, p.logTail())
		default:
		}
		resp, err := c.Get(url)
		if err == nil {
			resp.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not answer %s: %v\n%s", p.name, url, err, p.logTail())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// regRegistry is a running registry on loopback.
type regRegistry struct {
	Kind string // "distribution" or "olareg"
	Host string // 127.0.0.1:port: the first component of image names and GUNs
	// CAFile is the CA of the registry's TLS certificate ("" for plain
	// HTTP).
	CAFile string
	proc   *regProc
}

// Stop stops the registry (to see what an unreachable registry does).
func (r *regRegistry) Stop() { r.proc.Stop() }

// regTokenAuth is the token auth section of a registry's config.
type regTokenAuth struct {
	Realm, Service, Issuer, RootCertBundle string
}

// regDistOpts configure the distribution registry: plain HTTP without
// auth by default.
type regDistOpts struct {
	// TLS serves HTTPS with the PKI's server certificate (127.0.0.1).
	TLS *authPKI
	// Htpasswd is a bcrypt htpasswd file for Basic auth.
	Htpasswd string
	// Token is token auth.
	Token *regTokenAuth
}

// regStartDistribution starts the CNCF distribution registry (filesystem
// storage in a temporary directory, deletes enabled) on a free loopback
// port.
func regStartDistribution(t testing.TB, o regDistOpts) *regRegistry {
	t.Helper()
	bin := regPeer(t, "registry")
	dir := t.TempDir()
	port := authFreePort(t)
	httpCfg := map[string]any{"addr": fmt.Sprintf("127.0.0.1:%d", port), "secret": "interop-test-secret"}
	r := &regRegistry{Kind: "distribution", Host: fmt.Sprintf("127.0.0.1:%d", port)}
	scheme := "http"
	var tlsConf *tls.Config
	if o.TLS != nil {
		httpCfg["tls"] = map[string]any{"certificate": o.TLS.ServerCert, "key": o.TLS.ServerKey}
		r.CAFile, scheme, tlsConf = o.TLS.CA, "https", o.TLS.clientTLS()
	}
	cfg := map[string]any{
		"version": "0.1",
		"log":     map[string]any{"level": "info", "accesslog": map[string]any{"disabled": false}},
		"storage": map[string]any{
			"filesystem": map[string]any{"rootdirectory": filepath.Join(dir, "data")},
			"delete":     map[string]any{"enabled": true},
		},
		"http": httpCfg,
	}
	switch {
	case o.Htpasswd != "":
		cfg["auth"] = map[string]any{"htpasswd": map[string]any{"realm": "interop-registry", "path": o.Htpasswd}}
	case o.Token != nil:
		cfg["auth"] = map[string]any{"token": map[string]any{
			"realm": o.Token.Realm, "service": o.Token.Service, "issuer": o.Token.Issuer,
			"rootcertbundle": o.Token.RootCertBundle,
		}}
	}
	b, _ := json.MarshalIndent(cfg, "", "  ") // JSON is YAML
	cfgFile := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "OTEL_TRACES_EXPORTER=none", "OTEL_SDK_DISABLED=true"}
	r.proc = regStartProc(t, dir, "distribution-registry", env, bin, "serve", cfgFile)
	r.proc.waitUp(t, scheme+"://"+r.Host+"/v2/", tlsConf)
	return r
}

// regStartOlareg starts olareg (directory storage, deletes enabled,
// referrers API on) on a free loopback port, plain HTTP without auth.
func regStartOlareg(t testing.TB) *regRegistry {
	t.Helper()
	bin := regPeer(t, "olareg")
	dir := t.TempDir()
	port := authFreePort(t)
	r := &regRegistry{Kind: "olareg", Host: fmt.Sprintf("127.0.0.1:%d", port)}
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	r.proc = regStartProc(t, dir, "olareg", env, bin, "serve", "--addr", "127.0.0.1", "--port", fmt.Sprint(port),
		"--dir", filepath.Join(dir, "data"), "--api-delete", "--gc-frequency=-1s", "-v", "info")
	r.proc.waitUp(t, "http://"+r.Host+"/v2/", nil)
	return r
}

// regDockerConfig writes a $DOCKER_CONFIG directory whose config.json
// holds Basic credentials (auths) for registry hosts (host → user:password),
// as `docker login` leaves them. crane, regctl's docker fallback and our
// notary read it.
func regDockerConfig(t testing.TB, creds map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	auths := map[string]any{}
	for host, up := range creds {
		auths[host] = map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte(up))}
	}
	b, _ := json.Marshal(map[string]any{"auths": auths})
	if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// regImage is a manifest in a registry, as the registry serves it.
type regImage struct {
	Ref       string // host/repo:tag it was pushed as
	Digest    string // sha256:<hex> of the bytes served
	Hex       string // <hex>
	Size      int
	MediaType string
}

// Pinned is host/repo@digest.
func (i regImage) Pinned() string {
	name, _, _ := strings.Cut(i.Ref, "@")
	if j := strings.LastIndex(name, ":"); j > strings.LastIndex(name, "/") {
		name = name[:j]
	}
	return name + "@" + i.Digest
}

// regCrane runs crane with a DOCKER_CONFIG (credentials) and, for TLS
// registries, SSL_CERT_FILE naming the test CA (Go's system roots on
// Linux honour it).
type regCrane struct {
	bin string
	dir string // layer tarballs
	env []string
}

func regNewCrane(t testing.TB, dockerConfig, caFile string) *regCrane {
	t.Helper()
	home := t.TempDir()
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "DOCKER_CONFIG=" + dockerConfig}
	if caFile != "" {
		env = append(env, "SSL_CERT_FILE="+caFile)
	}
	return &regCrane{bin: regPeer(t, "crane"), dir: t.TempDir(), env: env}
}

// regExec runs a peer binary with exactly env (nothing of the user's),
// killed after 2 minutes, and returns its stdout and stderr apart.
func regExec(bin string, env []string, args ...string) (stdout, stderr string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	return out.String(), errb.String(), err
}

// output runs crane with stdout and stderr apart.
func (c *regCrane) output(args ...string) (stdout, stderr string, err error) {
	return regExec(c.bin, c.env, args...)
}

// run runs crane: stdout, or stdout and stderr when it failed.
func (c *regCrane) run(args ...string) (string, error) {
	out, errs, err := c.output(args...)
	if err != nil {
		return out + errs, err
	}
	return out, nil
}

func (c *regCrane) must(t testing.TB, args ...string) string {
	t.Helper()
	out, err := c.run(args...)
	if err != nil {
		t.Fatalf("crane %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// layer writes a one-file layer tarball whose file holds content.
func (c *regCrane) layer(t testing.TB, content string) string {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	body := []byte(content + "\n")
	if err := tw.WriteHeader(&tar.Header{Name: "content.txt", Mode: 0o644, Size: int64(len(body)), ModTime: time.Unix(0, 0)}); err != nil {
		t.Fatal(err)
	}
	tw.Write(body)
	tw.Close()
	sum := sha256.Sum256(buf.Bytes())
	p := filepath.Join(c.dir, hex.EncodeToString(sum[:8])+".tar")
	if err := os.WriteFile(p, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// regImageOpts say what to push.
type regImageOpts struct {
	OCI      bool   // OCI media types (default Docker schema 2)
	Platform string // os/arch[/variant] in the config ("" none)
}

// push pushes a single-platform image with one layer holding content to
// ref (host/repo:tag), offline: an empty base plus the layer (crane
// append), then the platform (crane mutate --set-platform).
func (c *regCrane) push(t testing.TB, ref, content string, o regImageOpts) regImage {
	t.Helper()
	args := []string{"append", "-f", c.layer(t, content), "-t", ref}
	if o.OCI {
		args = append(args, "--oci-empty-base")
	}
	c.must(t, args...)
	if o.Platform != "" {
		c.must(t, "mutate", ref, "--set-platform", o.Platform, "-t", ref)
	}
	img := c.describe(t, ref)
	want := "application/vnd.docker.distribution.manifest.v2+json"
	if o.OCI {
		want = "application/vnd.oci.image.manifest.v1+json"
	}
	if img.MediaType != want {
		t.Fatalf("crane pushed %s as %q, want %q", ref, img.MediaType, want)
	}
	return img
}

// pushIndex pushes an index of children to ref: an OCI image index, or a
// Docker manifest list with docker set; crane takes each child's platform
// from its config.
func (c *regCrane) pushIndex(t testing.TB, ref string, docker bool, children ...regImage) regImage {
	t.Helper()
	args := []string{"index", "append", "-t", ref}
	for _, ch := range children {
		args = append(args, "-m", ch.Pinned())
	}
	if docker {
		args = append(args, "--docker-empty-base")
	}
	c.must(t, args...)
	img := c.describe(t, ref)
	var idx struct {
		Manifests []struct {
			Digest   string
			Platform struct{ OS, Architecture string }
		}
	}
	b := c.must(t, "manifest", ref)
	if err := json.Unmarshal([]byte(b), &idx); err != nil || len(idx.Manifests) != len(children) {
		t.Fatalf("index %s: %v\n%s", ref, err, b)
	}
	for i, m := range idx.Manifests {
		if m.Digest != children[i].Digest || m.Platform.OS == "" || m.Platform.Architecture == "" {
			t.Fatalf("index %s child %d = %+v, want %s with a platform", ref, i, m, children[i].Digest)
		}
	}
	return img
}

// describe reads what the registry serves for ref: the exact manifest
// bytes (crane manifest), whose sha256 must be crane's digest.
func (c *regCrane) describe(t testing.TB, ref string) regImage {
	t.Helper()
	body := c.must(t, "manifest", ref)
	dgst := strings.TrimSpace(c.must(t, "digest", ref))
	sum := sha256.Sum256([]byte(body))
	h := hex.EncodeToString(sum[:])
	if dgst != "sha256:"+h {
		t.Fatalf("crane digest %s = %s, but the manifest bytes hash to sha256:%s", ref, dgst, h)
	}
	var m struct {
		MediaType string `json:"mediaType"`
	}
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("manifest of %s: %v", ref, err)
	}
	return regImage{Ref: ref, Digest: dgst, Hex: h, Size: len(body), MediaType: m.MediaType}
}

// regCheckRegctl asks regctl (a second registry client) for the digest of
// img's reference and checks it is crane's.
//
// caFile ("" none) is trusted for TLS (a token realm's, say) through
// SSL_CERT_FILE.
func regCheckRegctl(t testing.TB, reg *regRegistry, dockerConfig, caFile string, img regImage) {
	t.Helper()
	bin := regPeer(t, "regctl")
	home := t.TempDir()
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "DOCKER_CONFIG=" + dockerConfig}
	if caFile != "" {
		env = append(env, "SSL_CERT_FILE="+caFile)
	}
	run := func(args ...string) string {
		t.Helper()
		out, errs, err := regExec(bin, env, args...)
		if err != nil {
			t.Fatalf("regctl %s: %v\n%s%s", strings.Join(args, " "), err, out, errs)
		}
		return out
	}
	if reg.CAFile != "" {
		ca, err := os.ReadFile(reg.CAFile)
		if err != nil {
			t.Fatal(err)
		}
		run("registry", "set", reg.Host, "--tls", "enabled", "--cacert", string(ca))
	} else {
		run("registry", "set", reg.Host, "--tls", "disabled")
	}
	if got := strings.TrimSpace(run("image", "digest", img.Ref)); got != img.Digest {
		t.Errorf("regctl image digest %s = %s, crane says %s", img.Ref, got, img.Digest)
	}
}

// regNotary runs our notary CLI against a trust server, with registry
// credentials from a DOCKER_CONFIG.
type regNotary struct {
	t            testing.TB
	bin          string
	trustDir     string
	server       string // -s; "" leaves it out (DOCKER_CONTENT_TRUST_SERVER or Docker's rule)
	ca           string // --tlscacert: the trust server's CA
	dockerConfig string // DOCKER_CONFIG; "" means an empty one
	auth         string // user:password for the trust server (NOTARY_AUTH), or ""
	env          []string
	global       []string // more global flags, such as -c FILE
}

// regOurs is our notary CLI with a fresh trust directory.
func regOurs(t testing.TB, server, ca, dockerConfig string) *regNotary {
	t.Helper()
	if dockerConfig == "" {
		dockerConfig = regDockerConfig(t, nil)
	}
	return &regNotary{t: t, bin: clientOurBin(t), trustDir: t.TempDir(), server: server, ca: ca, dockerConfig: dockerConfig}
}

// with returns a copy of n with another trust directory.
func (n *regNotary) with(trustDir string) *regNotary {
	c := *n
	c.trustDir = trustDir
	return &c
}

// run runs `notary -d DIR [-s URL] --tlscacert CA args...` with stdin.
func (n *regNotary) run(stdin string, args ...string) dockerResult {
	n.t.Helper()
	full := []string{"-d", n.trustDir}
	if n.server != "" {
		full = append(full, "-s", n.server)
	}
	if n.ca != "" {
		full = append(full, "--tlscacert", n.ca)
	}
	full = append(append(full, n.global...), args...)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, n.bin, full...)
	home := filepath.Join(n.trustDir, ".home") // no ~/.notary or ~/.docker of the user's
	_ = os.MkdirAll(home, 0o700)
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"DOCKER_CONFIG=" + n.dockerConfig,
		"NOTARY_ROOT_PASSPHRASE=" + dockerRootPass,
		"NOTARY_TARGETS_PASSPHRASE=" + dockerRepoPass,
		"NOTARY_SNAPSHOT_PASSPHRASE=" + dockerRepoPass,
		"NOTARY_DELEGATION_PASSPHRASE=" + dockerRepoPass,
	}
	if n.auth != "" {
		cmd.Env = append(cmd.Env, "NOTARY_AUTH="+base64.StdEncoding.EncodeToString([]byte(n.auth)))
	}
	cmd.Env = append(cmd.Env, n.env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := dockerResult{args: append([]string{"notary-ours"}, full...), stdout: out.String(), stderr: errb.String(), err: err}
	n.t.Logf("%s", r)
	return r
}

func (n *regNotary) ok(args ...string) dockerResult {
	n.t.Helper()
	r := n.run("", args...)
	if r.err != nil {
		n.t.Fatalf("notary %s failed: %v\n%s", strings.Join(args, " "), r.err, r)
	}
	return r
}

// regImageProbe remembers, per binary, whether our CLI has the `notary
// image` commands of issue 11.
var regImageProbe sync.Map // bin -> error (nil: present)

// requireImage fails the test, saying why, when our notary has no `notary
// image` commands: the image steps of these tests must never be skipped
// silently.
func (n *regNotary) requireImage() {
	n.t.Helper()
	v, ok := regImageProbe.Load(n.bin)
	if !ok {
		var err error
		out, runErr := exec.Command(n.bin, "image", "sign", "--help").CombinedOutput()
		switch {
		case runErr != nil:
			err = fmt.Errorf("`notary image sign --help` failed (%v): %s", runErr, strings.TrimSpace(string(out)))
		case !strings.Contains(string(out), "--no-publish") || !strings.Contains(string(out), "--tag"):
			err = fmt.Errorf("`notary image sign --help` shows no --tag/--no-publish flags:\n%s", out)
		}
		v, _ = regImageProbe.LoadOrStore(n.bin, err)
	}
	if err, _ := v.(error); err != nil {
		n.t.Fatalf("our notary CLI (%s) lacks the `notary image sign|verify|inspect|revoke` commands of issue 11, which this step needs: %v", n.bin, err)
	}
}

// image runs `notary image args...` (stdin as given), after checking the
// command exists.
func (n *regNotary) image(stdin string, args ...string) dockerResult {
	n.t.Helper()
	n.requireImage()
	return n.run(stdin, append([]string{"image"}, args...)...)
}

// imageOK runs `notary image args...` and fails the test unless it exits 0.
func (n *regNotary) imageOK(args ...string) dockerResult {
	n.t.Helper()
	r := n.image("", args...)
	if r.err != nil {
		n.t.Fatalf("notary image %s failed: %v\n%s", strings.Join(args, " "), r.err, r)
	}
	return r
}

// imageFail runs `notary image args...`, which must exit non-zero with
// nothing on stdout and an error naming each of wants (case-insensitive;
// "a|b" accepts either).
func (n *regNotary) imageFail(args []string, wants ...string) dockerResult {
	n.t.Helper()
	r := n.image("", args...)
	if r.err == nil {
		n.t.Fatalf("notary image %s succeeded, want a failure\n%s", strings.Join(args, " "), r)
	}
	if _, ok := r.err.(*exec.ExitError); !ok {
		n.t.Fatalf("notary image %s: %v (not an exit status)\n%s", strings.Join(args, " "), r.err, r)
	}
	if strings.TrimSpace(r.stdout) != "" && strings.TrimSpace(r.stderr) == "" {
		n.t.Errorf("notary image %s: the error went to stdout, not stderr\n%s", strings.Join(args, " "), r)
	}
	regSays(n.t, "notary image "+strings.Join(args, " "), r.stdout+r.stderr, wants...)
	if strings.Contains(r.stderr, "panic:") || strings.Contains(r.stderr, "goroutine ") {
		n.t.Errorf("notary image %s panicked\n%s", strings.Join(args, " "), r)
	}
	return r
}

// verify runs `notary image args...` (args starting with "verify"), which
// must exit 0 and print exactly the pinned reference want on stdout.
func (n *regNotary) verify(want string, args ...string) {
	n.t.Helper()
	r := n.imageOK(args...)
	if got := strings.TrimSpace(r.stdout); got != want {
		n.t.Errorf("notary image %s printed %q on stdout, want %q", strings.Join(args, " "), got, want)
	}
}

// regSays checks that out mentions each of wants, case-insensitively;
// "a|b" accepts either alternative.
func regSays(t testing.TB, what, out string, wants ...string) {
	t.Helper()
	low := strings.ToLower(out)
	for _, w := range wants {
		found := false
		for _, alt := range strings.Split(w, "|") {
			if strings.Contains(low, strings.ToLower(alt)) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("%s: the output does not say %q:\n%s", what, w, out)
		}
	}
}

// regTrust is a trust server under test: our notary-server binary.
type regTrust struct {
	URL   string
	p     *authPKI
	realm string // token realm when the server uses token auth
}

// regStartTrust starts our notary-server binary over TLS with the PKI's
// certificate, memory storage and in-process signing; token auth through
// realm when realm is not "".
func regStartTrust(t testing.TB, p *authPKI, realm string) *regTrust {
	t.Helper()
	bin := ourServerBin(t)
	dir := t.TempDir()
	port := authFreePort(t)
	cfg := map[string]any{
		"server":        map[string]any{"http_addr": fmt.Sprintf("127.0.0.1:%d", port), "tls_cert_file": p.ServerCert, "tls_key_file": p.ServerKey},
		"trust_service": map[string]any{"type": "local"},
		"storage":       map[string]any{"backend": "memory"},
		"logging":       map[string]any{"level": "info"},
	}
	if realm != "" {
		cfg["auth"] = map[string]any{"type": "token", "options": map[string]any{
			"realm": realm, "service": regTrustService, "issuer": regIssuer, "rootcertbundle": p.CA,
		}}
	}
	b, _ := json.Marshal(cfg)
	cfgFile := filepath.Join(dir, "server.json")
	if err := os.WriteFile(cfgFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	proc := regStartProc(t, dir, "notary-server", []string{"PATH=" + os.Getenv("PATH")}, bin, "-config", cfgFile, "-data-dir", dir)
	url := fmt.Sprintf("https://127.0.0.1:%d", port)
	proc.waitUp(t, url+"/_notary_server/health", p.clientTLS())
	return &regTrust{URL: url, p: p, realm: realm}
}

// The token issuer's name and the two services (audiences) it mints for:
// one issuer for the registry and the trust server, as deployments run it.
const (
	regIssuer         = "notary-auth"
	regTrustService   = "notary.example.com"
	regRegistryServer = "registry.example.com"
)

// regStartIssuer runs cmd/notary-auth over TLS, minting for both services,
// with users (user → password) and acl; it returns the realm URL.
func regStartIssuer(t testing.TB, p *authPKI, users map[string]string, acl []map[string]any) string {
	t.Helper()
	na := ourBin(t, "./cmd/notary-auth")
	dir := t.TempDir()
	port := authFreePort(t)
	cfg := map[string]any{
		"server": map[string]string{"http_addr": fmt.Sprintf("127.0.0.1:%d", port), "tls_cert_file": p.ServerCert, "tls_key_file": p.ServerKey},
		"token": map[string]any{"issuer": regIssuer, "service": []string{regTrustService, regRegistryServer},
			"signing_key": p.SignerKey, "signing_cert": p.SignerCert, "ttl": "5m"},
		"users":   map[string]string{"htpasswd": authUsers(t, na, dir, users), "realm": "notary-auth test"},
		"acl":     acl,
		"logging": map[string]string{"level": "debug"},
	}
	b, _ := json.MarshalIndent(cfg, "", "  ")
	cfgFile := filepath.Join(dir, "notary-auth.json")
	if err := os.WriteFile(cfgFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	proc := regStartProc(t, dir, "notary-auth", []string{"PATH=" + os.Getenv("PATH")}, na, "-config", cfgFile, "-logf", "text")
	proc.waitUp(t, fmt.Sprintf("https://127.0.0.1:%d/health", port), p.clientTLS())
	// The realm names the host "localhost": crane refuses a token realm
	// at a loopback IP literal (an SSRF defence, go-containerregistry
	// #2258), but not at a name.
	return fmt.Sprintf("https://localhost:%d/token", port)
}

// assertNoTrustData checks that the trust server holds nothing for gun:
// its root.json is 404 (read with an admin token on a token-auth server).
func (s *regTrust) assertNoTrustData(t testing.TB, gun string) {
	t.Helper()
	req, _ := http.NewRequest("GET", s.URL+"/v2/"+gun+"/_trust/tuf/root.json", nil)
	if s.realm != "" {
		tok := authFetchToken(t, s.p, s.realm, regTrustService, "admin", "admin-pw", "repository:"+gun+":pull")
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: s.p.clientTLS()}, Timeout: 10 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("the trust server has %s/root.json (status %d): something was published", gun, resp.StatusCode)
	}
}

// upstreamList runs v0.7.0's `notary list gun` on a fresh trust directory.
func (s *regTrust) upstreamList(t *testing.T, gun, auth string) dockerResult {
	t.Helper()
	v1 := &notaryCLI{t: t, bin: dockerV1Bin(t, "notary"), label: "notary-v0.7.0", trustDir: t.TempDir(), server: s.URL, ca: s.p.CA, auth: auth}
	return v1.ok("list", gun)
}

// regCI reports CI=true, where every peer (the Docker CLI too) is required.
func regCI() bool { return os.Getenv("CI") == "true" }
