//go:build interop

package interop

import (
	"archive/tar"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/notary-go/notary/auth/htpasswd"
	"github.com/notary-go/notary/auth/issuer"
)

// TestEnforceProxyCrane: the CNCF distribution registry, then olareg,
// behind notary-proxy (the real binary), our trust server, and crane (and
// regctl) pulling through the proxy.
func TestEnforceProxyCrane(t *testing.T) {
	t.Run("distribution", func(t *testing.T) { enfProxyScenario(t, regStartDistribution(t, regDistOpts{}).Host) })
	t.Run("olareg", func(t *testing.T) { enfProxyScenario(t, regStartOlareg(t).Host) })
}

// TestEnforceProxyTokenAuth: crane pulls through a notary-proxy that
// requires bearer tokens (client_auth.token) from our token issuer: crane
// follows the proxy's challenge to the issuer with its Basic credentials
// for the proxy host, and retries with the token.
func TestEnforceProxyTokenAuth(t *testing.T) {
	regPeer(t, "crane")
	reg := regStartDistribution(t, regDistOpts{}).Host
	trust := enfStartTrust(t)
	signedDigest, signedManifest := enfPushImage(t, reg, "org/app", "1.0", "signed layer ", 64<<10, "linux/amd64")
	trust.sign(t, reg+"/org/app:1.0")
	enfPushImage(t, reg, "org/other", "1.0", "other layer ", 4096, "linux/amd64")
	trust.sign(t, reg+"/org/other:1.0")

	pki := authNewPKI(t)
	line, err := htpasswd.Line("node", "node-pass", 4)
	if err != nil {
		t.Fatal(err)
	}
	users, err := htpasswd.Parse(strings.NewReader(line))
	if err != nil {
		t.Fatal(err)
	}
	node := "node"
	iss, err := issuer.New(issuer.Options{
		Issuer: "notary-auth", Services: []string{"notary-proxy"},
		Key: pki.Signer, Chain: pki.SignerChain, Users: users,
		ACL:    issuer.ACL{{Account: &node, Name: "org/app", Actions: []string{"pull"}}},
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	tokSrv := httptest.NewServer(iss)
	t.Cleanup(tokSrv.Close)

	proxy, _ := enfProxy(t, map[string]any{
		"upstream":  map[string]any{"url": "http://" + reg},
		"log_level": "debug",
		"client_auth": map[string]any{"token": map[string]any{
			// "localhost", not the IP: crane refuses a realm at a loopback
			// IP literal (see regStartIssuer).
			"realm": strings.Replace(tokSrv.URL, "127.0.0.1", "localhost", 1) + "/token", "service": "notary-proxy", "issuer": "notary-auth", "rootcertbundle": pki.CA,
		}},
		"policy": map[string]any{"rules": []any{
			map[string]any{"images": reg + "/org/*", "trust": map[string]any{"server": trust.srv.URL, "tofu": true}},
		}, "default": "deny"},
	})
	crane := func(creds map[string]string, args ...string) (string, string, bool) {
		c := regNewCrane(t, regDockerConfig(t, creds), "")
		out, errs, err := c.output(append(args, "--insecure")...)
		return out, errs, err == nil
	}
	nodeCreds := map[string]string{proxy: "node:node-pass"}
	t.Run("granted repository pulls", func(t *testing.T) {
		if out, errs, ok := crane(nodeCreds, "manifest", proxy+"/org/app:1.0"); !ok || out != string(signedManifest) {
			t.Fatalf("crane manifest: ok=%v %s", ok, errs)
		}
		if d, errs, _ := crane(nodeCreds, "digest", proxy+"/org/app:1.0"); strings.TrimSpace(d) != signedDigest {
			t.Fatalf("digest %q: %s", d, errs)
		}
		tarPath := filepath.Join(t.TempDir(), "img.tar")
		if _, errs, ok := crane(nodeCreds, "pull", "--format", "tarball", proxy+"/org/app:1.0", tarPath); !ok {
			t.Fatalf("crane pull: %s", errs)
		}
		if n := enfTarLayerBytes(t, tarPath); n < 64<<10 {
			t.Fatalf("pulled tarball holds %d layer bytes", n)
		}
	})
	t.Run("no credentials refused", func(t *testing.T) {
		if _, errs, ok := crane(nil, "manifest", proxy+"/org/app:1.0"); ok || !strings.Contains(errs, "UNAUTHORIZED") {
			t.Fatalf("ok=%v %s", ok, errs)
		}
	})
	t.Run("wrong password refused", func(t *testing.T) {
		if _, errs, ok := crane(map[string]string{proxy: "node:wrong"}, "manifest", proxy+"/org/app:1.0"); ok {
			t.Fatalf("pulled with a wrong password: %s", errs)
		}
	})
	t.Run("repository not granted refused", func(t *testing.T) {
		if _, errs, ok := crane(nodeCreds, "manifest", proxy+"/org/other:1.0"); ok || !strings.Contains(errs, "UNAUTHORIZED") {
			t.Fatalf("ok=%v %s", ok, errs)
		}
	})
}

func enfProxyScenario(t *testing.T, reg string) {
	regPeer(t, "crane")
	trust := enfStartTrust(t)

	// org/app:1.0 signed; org/app:unsigned not; org/app:multi a signed
	// index of two platforms; org/audited:1 unsigned under an audit rule.
	signedDigest, signedManifest := enfPushImage(t, reg, "org/app", "1.0", "signed layer ", 256<<10, "linux/amd64")
	trust.sign(t, reg+"/org/app:1.0")
	unsignedDigest, _ := enfPushImage(t, reg, "org/app", "unsigned", "unsigned layer ", 4096, "linux/amd64")
	amdDigest, amdManifest := enfPushImage(t, reg, "org/app", "", "amd64 layer ", 4096, "linux/amd64")
	armDigest, armManifest := enfPushImage(t, reg, "org/app", "", "arm64 layer ", 4096, "linux/arm64")
	idxDigest, _ := enfPushIndex(t, reg, "org/app", "multi", [][3]string{
		{amdDigest, itoa(len(amdManifest)), "linux/amd64"},
		{armDigest, itoa(len(armManifest)), "linux/arm64"},
	})
	trust.sign(t, reg+"/org/app:multi")
	enfPushImage(t, reg, "org/audited", "1", "audited layer ", 4096, "linux/amd64")

	trustDir := filepath.Join(t.TempDir(), "trust")
	cfg := func() map[string]any {
		return map[string]any{
			"upstream":  map[string]any{"url": "http://" + reg},
			"log_level": "debug",
			"trust_dir": trustDir,
			"policy": map[string]any{"rules": []any{
				map[string]any{"images": reg + "/org/app", "trust": map[string]any{"server": trust.srv.URL, "tofu": true}},
				map[string]any{"images": reg + "/org/audited", "trust": map[string]any{"server": trust.srv.URL, "tofu": true}, "mode": "audit"},
			}, "default": "deny"},
		}
	}
	proxy, proc := enfProxy(t, cfg())
	p := proxy + "/org/app"

	t.Run("signed image pulls whole", func(t *testing.T) {
		out, errs, ok := enfCrane(t, "manifest", p+":1.0")
		if !ok || out != string(signedManifest) {
			t.Fatalf("crane manifest: ok=%v %s", ok, errs)
		}
		if d, _, _ := enfCrane(t, "digest", p+":1.0"); strings.TrimSpace(d) != signedDigest {
			t.Fatalf("digest %q, want %s", d, signedDigest)
		}
		tarPath := filepath.Join(t.TempDir(), "img.tar")
		if _, errs, ok := enfCrane(t, "pull", "--format", "tarball", p+":1.0", tarPath); !ok {
			t.Fatalf("crane pull: %s", errs)
		}
		if n := enfTarLayerBytes(t, tarPath); n < 256<<10 {
			t.Fatalf("pulled tarball holds %d layer bytes", n)
		}
	})
	t.Run("unsigned tag refused", func(t *testing.T) {
		_, errs, ok := enfCrane(t, "manifest", p+":unsigned")
		if ok || !strings.Contains(errs, "DENIED") || !strings.Contains(errs, "not_signed") {
			t.Fatalf("ok=%v stderr=%s", ok, errs)
		}
		if _, errs, ok := enfCrane(t, "pull", p+":unsigned", filepath.Join(t.TempDir(), "x.tar")); ok {
			t.Fatalf("pulled: %s", errs)
		}
	})
	t.Run("by signed digest", func(t *testing.T) {
		if out, errs, ok := enfCrane(t, "manifest", p+"@"+signedDigest); !ok || out != string(signedManifest) {
			t.Fatalf("ok=%v %s", ok, errs)
		}
	})
	t.Run("by unsigned digest refused", func(t *testing.T) {
		if _, errs, ok := enfCrane(t, "manifest", p+"@"+unsignedDigest); ok || !strings.Contains(errs, "DENIED") {
			t.Fatalf("ok=%v %s", ok, errs)
		}
	})
	t.Run("platform child of a signed index", func(t *testing.T) {
		if d, errs, ok := enfCrane(t, "digest", p+":multi"); !ok || strings.TrimSpace(d) != idxDigest {
			t.Fatalf("index digest %q ok=%v %s", d, ok, errs)
		}
		if out, errs, ok := enfCrane(t, "manifest", p+"@"+armDigest); !ok || out != string(armManifest) {
			t.Fatalf("child: ok=%v %s", ok, errs)
		}
		if _, errs, ok := enfCrane(t, "pull", "--platform", "linux/arm64", p+":multi", filepath.Join(t.TempDir(), "arm.tar")); !ok {
			t.Fatalf("crane pull --platform: %s", errs)
		}
	})
	t.Run("re-pushed tag gets the signed content", func(t *testing.T) {
		newDigest, _ := enfPushImage(t, reg, "org/app", "1.0", "rebuilt layer ", 4096, "linux/amd64")
		out, errs, ok := enfCrane(t, "manifest", p+":1.0")
		if !ok {
			// A refusal is acceptable; the new content never is.
			if !strings.Contains(errs, "DENIED") {
				t.Fatalf("neither served nor denied: %s", errs)
			}
			return
		}
		if regDigest([]byte(out)) == newDigest || out != string(signedManifest) {
			t.Fatalf("served the re-pushed manifest")
		}
	})
	t.Run("audit mode allows and logs", func(t *testing.T) {
		if _, errs, ok := enfCrane(t, "manifest", proxy+"/org/audited:1"); !ok {
			t.Fatalf("audit refused: %s", errs)
		}
		if !strings.Contains(proc.logText(), "audit: allowed an image the policy would deny") {
			t.Fatalf("no audit log line:\n%s", tail(proc.logText(), 20))
		}
	})
	t.Run("push refused", func(t *testing.T) {
		src := filepath.Join(t.TempDir(), "src.tar")
		if _, errs, ok := enfCrane(t, "pull", p+":1.0", src); !ok {
			t.Fatal(errs)
		}
		if _, errs, ok := enfCrane(t, "push", src, p+":pushed"); ok {
			t.Fatalf("push through the proxy succeeded: %s", errs)
		}
	})
	t.Run("no rule refused", func(t *testing.T) {
		if _, errs, ok := enfCrane(t, "manifest", proxy+"/other/x:1"); ok || !strings.Contains(errs, "no_rule") {
			t.Fatalf("ok=%v %s", ok, errs)
		}
	})
	t.Run("regctl", func(t *testing.T) {
		home := t.TempDir()
		out, errs, ok := enfRegctl(t, home, proxy, "manifest", "get", "--format", "raw-body", p+":1.0")
		if !ok || out != string(signedManifest) {
			t.Fatalf("regctl manifest get: ok=%v %s", ok, errs)
		}
		if _, errs, ok := enfRegctl(t, home, proxy, "image", "export", p+":1.0", filepath.Join(t.TempDir(), "img.tar")); !ok {
			t.Fatalf("regctl image export: %s", errs)
		}
		if _, errs, ok := enfRegctl(t, home, proxy, "manifest", "get", p+":unsigned"); ok || !strings.Contains(strings.ToLower(errs), "denied") {
			t.Fatalf("unsigned: ok=%v %s", ok, errs)
		}
	})
	// Last: the trust server goes away. What the cache proves (the signed
	// tag, its digest) keeps being served; the rest is still refused.
	// (The expiry of the cache during an outage needs an injected clock:
	// policy's TestCacheRefreshAndOutage and notary-proxy's
	// TestProxyTrustOutage cover it.)
	t.Run("trust server stopped", func(t *testing.T) {
		trust.srv.Close()
		if _, errs, ok := enfCrane(t, "manifest", p+"@"+signedDigest); !ok {
			t.Fatalf("cached signed digest refused during the outage: %s", errs)
		}
		if _, errs, ok := enfCrane(t, "manifest", p+":multi"); !ok {
			t.Fatalf("cached signed tag refused during the outage: %s", errs)
		}
		if _, errs, ok := enfCrane(t, "manifest", p+":unsigned"); ok || !strings.Contains(errs, "DENIED") {
			t.Fatalf("unsigned during the outage: ok=%v %s", ok, errs)
		}
	})
	// A proxy restarted during the outage has nothing in memory: it
	// decides from the trust directory's cache, still unexpired.
	t.Run("restarted during the outage", func(t *testing.T) {
		proc.Stop()
		proxy2, _ := enfProxy(t, cfg())
		p2 := proxy2 + "/org/app"
		if out, errs, ok := enfCrane(t, "manifest", p2+":1.0"); !ok || out != string(signedManifest) {
			t.Fatalf("signed tag from the disk cache: ok=%v %s", ok, errs)
		}
		if _, errs, ok := enfCrane(t, "manifest", p2+"@"+unsignedDigest); ok || !strings.Contains(errs, "DENIED") {
			t.Fatalf("unsigned digest: ok=%v %s", ok, errs)
		}
		// A GUN with no cached trust data under an audit rule: allowed, logged.
		if _, errs, ok := enfCrane(t, "manifest", proxy2+"/org/audited:1"); !ok {
			t.Fatalf("audit rule: %s", errs)
		}
	})
}

func itoa(n int) string { return strconv.Itoa(n) }

// enfTarLayerBytes counts the bytes of the layer files in a docker
// tarball.
func enfTarLayerBytes(t testing.TB, path string) int64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	var n int64
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return n
		}
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(h.Name, ".tar.gz") || strings.HasSuffix(h.Name, ".tar") || strings.HasPrefix(h.Name, "sha256:") {
			n += h.Size
		}
	}
}
