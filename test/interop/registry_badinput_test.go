//go:build interop

package interop

// Issue 11, Proof, bad input: a REF with no tag, an unknown host, a
// registry that serves a manifest over 4 MiB or one whose
// Docker-Content-Digest is not the bytes' digest. Each must fail with a
// clear error on stderr, and nothing may reach the trust server. (A 401
// without credentials is in TestRegistryImageDistributionHtpasswdTLS and
// TestRegistryImageDistributionToken.)

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// regFakeManifest is an OCI image manifest, padded with an annotation to
// at least pad bytes.
func regFakeManifest(pad int) []byte {
	return []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",`+
		`"config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},`+
		`"layers":[],"annotations":{"pad":%q}}`, strings.Repeat("a", pad)))
}

func regDigest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// regFakeRegistry is a registry that misbehaves per repository:
//
//	big/app         a 5 MiB manifest, with its Content-Length
//	bigchunked/app  the same, chunked (no Content-Length)
//	liar/app        a small manifest whose Docker-Content-Digest is another one's
type regFakeRegistry struct {
	*httptest.Server
}

func regStartFakeRegistry(t *testing.T) *regFakeRegistry {
	t.Helper()
	return regStartFakeRegistryOn(t, "127.0.0.1:0")
}

// regStartFakeRegistryOn is regStartFakeRegistry listening on addr.
func regStartFakeRegistryOn(t *testing.T, addr string) *regFakeRegistry {
	t.Helper()
	big := regFakeManifest(5 << 20)
	small := regFakeManifest(10)
	other := regFakeManifest(11)
	f := &regFakeRegistry{}
	f.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" {
			w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
			w.Write([]byte("{}"))
			return
		}
		repo, _, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/v2/"), "/manifests/")
		if !ok {
			http.NotFound(w, r)
			return
		}
		var body []byte
		dgst := ""
		chunked := false
		switch repo {
		case "big/app":
			body, dgst = big, regDigest(big)
		case "bigchunked/app":
			body, dgst, chunked = big, regDigest(big), true
		case "liar/app":
			body, dgst = small, regDigest(other)
		case "ok/app":
			body, dgst = small, regDigest(small)
		default:
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
		w.Header().Set("Docker-Content-Digest", dgst)
		w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
		if !chunked {
			w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		}
		if r.Method == http.MethodHead {
			return
		}
		for off := 0; off < len(body); off += 64 << 10 {
			end := min(off+64<<10, len(body))
			if _, err := w.Write(body[off:end]); err != nil {
				return
			}
			if chunked {
				w.(http.Flusher).Flush()
			}
		}
	}))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	f.Listener.Close()
	f.Listener = l
	f.Start()
	t.Cleanup(f.Close)
	return f
}

func TestRegistryImageBadInput(t *testing.T) {
	p := authNewPKI(t)
	trust := regStartTrust(t, p, "")
	fake := regStartFakeRegistry(t)
	fakeHost := strings.TrimPrefix(fake.URL, "http://")
	reg := regStartDistribution(t, regDistOpts{})
	good := regNewCrane(t, regDockerConfig(t, nil), "").push(t, reg.Host+"/org/app:v1", "bad input", regImageOpts{})

	cases := []struct {
		name  string
		args  []string
		gun   string   // must stay unpublished ("" none)
		wants []string // the error must say each ("a|b": either)
	}{
		{"sign, no tag", []string{"sign", reg.Host + "/org/app"}, reg.Host + "/org/app", []string{"tag"}},
		{"verify, no tag", []string{"verify", reg.Host + "/org/app"}, reg.Host + "/org/app", []string{"tag"}},
		{"sign by digest without --tag", []string{"sign", good.Pinned()}, reg.Host + "/org/app", []string{"--tag|tag"}},
		{"sign, no registry host", []string{"sign", "org/app:v1"}, "", []string{"host|registry"}},
		{"sign, unknown host", []string{"sign", "unknown-registry.invalid/org/app:v1"}, "unknown-registry.invalid/org/app",
			[]string{"unknown-registry.invalid", "reach|resolve|lookup|no such host"}},
		{"verify, unknown host", []string{"verify", "unknown-registry.invalid/org/app:v1"}, "unknown-registry.invalid/org/app",
			[]string{"unknown-registry.invalid|not signed|no trust data"}},
		{"sign, manifest over 4 MiB", []string{"sign", fakeHost + "/big/app:v1"}, fakeHost + "/big/app",
			[]string{"4194304|4 MiB|4MiB|limit|too large|larger"}},
		{"sign, chunked manifest over 4 MiB", []string{"sign", fakeHost + "/bigchunked/app:v1"}, fakeHost + "/bigchunked/app",
			[]string{"4194304|4 MiB|4MiB|limit|too large|larger"}},
		{"sign, wrong Docker-Content-Digest", []string{"sign", fakeHost + "/liar/app:v1"}, fakeHost + "/liar/app",
			[]string{"digest"}},
		{"sign, bad --platform", []string{"verify", "--platform", "linux", reg.Host + "/org/app:v1"}, "", []string{"platform"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := regOurs(t, trust.URL, p.CA, "")
			n.imageFail(tc.args, tc.wants...)
			if tc.gun != "" {
				trust.assertNoTrustData(t, tc.gun)
			}
		})
	}
	// The good image still signs: the refusals above left no state behind.
	n := regOurs(t, trust.URL, p.CA, "")
	n.imageOK("sign", good.Ref)
	n.verify(good.Pinned(), "verify", good.Ref)
}

// TestRegistryImageInsecureRegistry: a plain-HTTP registry that is not on
// loopback (the fake registry on this machine's first non-loopback
// address) is reached over HTTPS only, so signing fails and publishes
// nothing, until --insecure-registry names it (by host:port or by host).
func TestRegistryImageInsecureRegistry(t *testing.T) {
	ip := regNonLoopbackIP(t)
	p := authNewPKI(t)
	trust := regStartTrust(t, p, "")
	fake := regStartFakeRegistryOn(t, net.JoinHostPort(ip, "0"))
	host := strings.TrimPrefix(fake.URL, "http://")
	ref := host + "/ok/app:v1"
	small := regFakeManifest(10)
	pinned := host + "/ok/app@" + regDigest(small)

	n := regOurs(t, trust.URL, p.CA, "")
	n.imageFail([]string{"sign", ref}, host, "tls|https|http response|insecure-registry")
	trust.assertNoTrustData(t, host+"/ok/app")
	n.imageOK("sign", "--insecure-registry", host, ref)
	n.verify(pinned, "verify", "--insecure-registry", ip, ref)
	rd := regOurs(t, trust.URL, p.CA, "")
	rd.imageFail([]string{"verify", ref}, host, "tls|https|http response|insecure-registry")
	rd.verify(pinned, "verify", "--insecure-registry", "other.example.com", "--insecure-registry", host, ref)
}

// regNonLoopbackIP is an IPv4 address of this machine that is not
// loopback; the test is skipped (failed on CI) without one.
func regNonLoopbackIP(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && !ipn.IP.IsLoopback() && ipn.IP.To4() != nil && !ipn.IP.IsLinkLocalUnicast() {
			return ipn.IP.String()
		}
	}
	requirePeer(t, "no non-loopback IPv4 address to serve a non-loopback registry on")
	return ""
}
