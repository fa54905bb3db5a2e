package registry_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/notary-go/notary/registry"
	"github.com/notary-go/notary/registry/registrytest"
)

func TestParseReference(t *testing.T) {
	const d = "sha256:0123456789012345678901234567890123456789012345678901234567890123"
	tests := []struct {
		in      string
		want    registry.Reference
		wantErr error
	}{
		{in: "registry.example.com/team/app:1.0", want: registry.Reference{Host: "registry.example.com", Repository: "team/app", Tag: "1.0"}},
		{in: "localhost:5000/app:latest", want: registry.Reference{Host: "localhost:5000", Repository: "app", Tag: "latest"}},
		{in: "127.0.0.1:5000/a/b@" + d, want: registry.Reference{Host: "127.0.0.1:5000", Repository: "a/b", Digest: d}},
		{in: "r.io/a:t@" + d, want: registry.Reference{Host: "r.io", Repository: "a", Tag: "t", Digest: d}},
		{in: "r.io/a", want: registry.Reference{Host: "r.io", Repository: "a"}},
		{in: "alpine:3", wantErr: registry.ErrInvalidReference},
		{in: "library/alpine:3", wantErr: registry.ErrInvalidReference},
		{in: "https://r.io/a:1", wantErr: registry.ErrInvalidReference},
		{in: "r.io/A:1", wantErr: registry.ErrInvalidReference},
		{in: "r.io/a@sha256:zz", wantErr: registry.ErrInvalidReference},
		{in: "", wantErr: registry.ErrInvalidReference},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := registry.ParseReference(tt.in)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			if got.String() != tt.in {
				t.Errorf("String() = %q, want %q", got.String(), tt.in)
			}
		})
	}
}

func TestNeedTag(t *testing.T) {
	ref, err := registry.ParseReference("r.io/app")
	if err != nil {
		t.Fatal(err)
	}
	c, _ := registry.New(registry.Options{})
	_, err = c.FetchManifest(context.Background(), ref)
	var re *registry.ReferenceError
	if !errors.Is(err, registry.ErrNoTag) || !errors.As(err, &re) {
		t.Fatalf("err = %v, want ErrNoTag", err)
	}
}

func TestIsLoopbackAndPlainHTTP(t *testing.T) {
	c, _ := registry.New(registry.Options{Insecure: []string{"reg.lan:5000", "other.lan"}})
	for host, want := range map[string]bool{
		"localhost:5000": true, "127.0.0.1": true, "127.1.2.3:80": true, "[::1]:5000": true,
		"reg.lan:5000": true, "other.lan:443": true, "reg.lan:6000": false, "registry.example.com": false,
	} {
		if got := c.PlainHTTP(host); got != want {
			t.Errorf("PlainHTTP(%q) = %v, want %v", host, got, want)
		}
	}
}

func mustRef(t *testing.T, s string) registry.Reference {
	t.Helper()
	r, err := registry.ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestFetchManifest(t *testing.T) {
	reg := registrytest.New()
	defer reg.Close()
	dmt, dbody := registrytest.ImageManifest(true, "docker")
	ddig := reg.Put("team/app", "docker", dmt, dbody)
	omt, obody := registrytest.ImageManifest(false, "oci")
	odig := reg.Put("team/app", "oci", omt, obody)
	imt, ibody := registrytest.Index([][2]string{{ddig, "linux/amd64"}, {odig, "linux/arm64/v8"}})
	idig := reg.Put("team/app", "multi", imt, ibody)

	c, err := registry.New(registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		ref      string
		wantMT   string
		wantDig  string
		children int
	}{
		{name: "docker by tag", ref: "/team/app:docker", wantMT: dmt, wantDig: ddig},
		{name: "oci by tag", ref: "/team/app:oci", wantMT: omt, wantDig: odig},
		{name: "index by tag", ref: "/team/app:multi", wantMT: imt, wantDig: idig, children: 2},
		{name: "by digest", ref: "/team/app@" + odig, wantMT: omt, wantDig: odig},
		{name: "tag and digest", ref: "/team/app:whatever@" + ddig, wantMT: dmt, wantDig: ddig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := c.FetchManifest(context.Background(), mustRef(t, reg.Host+tt.ref))
			if err != nil {
				t.Fatal(err)
			}
			if m.MediaType != tt.wantMT || m.Digest != tt.wantDig || m.Size != int64(len(m.Bytes)) || len(m.Children) != tt.children {
				t.Fatalf("got %s %s %d (%d children), want %s %s (%d children)", m.MediaType, m.Digest, m.Size, len(m.Children), tt.wantMT, tt.wantDig, tt.children)
			}
			if registrytest.Digest(m.Bytes) != m.Digest {
				t.Fatal("bytes do not hash to the digest")
			}
		})
	}

	m, err := c.FetchManifest(context.Background(), mustRef(t, reg.Host+"/team/app:multi"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		platform string
		want     string
		ok       bool
	}{
		{"linux/amd64", ddig, true}, {"linux/arm64", odig, true}, {"linux/arm64/v8", odig, true},
		{"linux/arm64/v7", "", false}, {"windows/amd64", "", false},
	} {
		p, err := registry.ParsePlatform(tt.platform)
		if err != nil {
			t.Fatal(err)
		}
		ch, ok := m.Child(p)
		if ok != tt.ok || ch.Digest != tt.want {
			t.Errorf("Child(%s) = %s %v, want %s %v", tt.platform, ch.Digest, ok, tt.want, tt.ok)
		}
	}

	// Every manifest request accepts the four media types.
	d, err := c.Resolve(context.Background(), mustRef(t, reg.Host+"/team/app:multi"))
	if err != nil || d.Digest != idig || d.MediaType != imt {
		t.Fatalf("Resolve = %+v, %v", d, err)
	}
}

func TestFetchManifestErrors(t *testing.T) {
	reg := registrytest.New()
	defer reg.Close()
	mt, body := registrytest.ImageManifest(true, "x")
	dig := reg.Put("app", "good", mt, body)
	reg.Put("app", "wronghdr", mt, body)
	reg.WrongDigestHeader("app", "wronghdr", registrytest.Digest([]byte("other")))
	big := []byte(`{"mediaType":"` + mt + `","pad":"` + strings.Repeat("a", registry.MaxManifestSize) + `"}`)
	reg.Put("app", "big", mt, big)
	lie := registrytest.Digest([]byte("claimed"))
	reg.PutAt("app", lie, mt, body)
	reg.Put("app", "schema1", "application/vnd.docker.distribution.manifest.v1+prettyjws", []byte(`{"schemaVersion":1}`))

	closed := registrytest.New()
	closed.Close()

	c, _ := registry.New(registry.Options{})
	tests := []struct {
		name   string
		ref    string
		want   error
		target any
	}{
		{name: "unknown tag", ref: reg.Host + "/app:nope", want: registry.ErrNotFound, target: new(*registry.NotFoundError)},
		{name: "wrong Docker-Content-Digest", ref: reg.Host + "/app:wronghdr", want: registry.ErrDigestMismatch, target: new(*registry.DigestMismatchError)},
		{name: "content not matching the digest asked for", ref: reg.Host + "/app@" + lie, want: registry.ErrDigestMismatch, target: new(*registry.DigestMismatchError)},
		{name: "manifest over 4 MiB", ref: reg.Host + "/app:big", want: registry.ErrManifestTooLarge, target: new(*registry.ManifestTooLargeError)},
		{name: "schema 1", ref: reg.Host + "/app:schema1", want: registry.ErrUnsupportedMediaType, target: new(*registry.MediaTypeError)},
		{name: "registry down", ref: closed.Host + "/app:good", want: registry.ErrUnreachable, target: new(*registry.UnreachableError)},
		{name: "unknown host", ref: "no-such-host.invalid/app:good", want: registry.ErrUnreachable, target: new(*registry.UnreachableError)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.FetchManifest(context.Background(), mustRef(t, tt.ref))
			if !errors.Is(err, tt.want) || !errors.As(err, tt.target) {
				t.Fatalf("err = %v (%T), want %v", err, err, tt.want)
			}
		})
	}
	if _, err := c.FetchManifest(context.Background(), mustRef(t, reg.Host+"/app:good")); err != nil {
		t.Fatalf("good manifest: %v", err)
	}
	_ = dig
}

func TestFetchManifestNoDigestHeader(t *testing.T) {
	reg := registrytest.New()
	defer reg.Close()
	reg.OmitDigestHeader()
	mt, body := registrytest.ImageManifest(false, "y")
	dig := reg.Put("app", "t", mt, body)
	c, _ := registry.New(registry.Options{})
	m, err := c.FetchManifest(context.Background(), mustRef(t, reg.Host+"/app:t"))
	if err != nil || m.Digest != dig {
		t.Fatalf("got %v, %v; want %s", m, err, dig)
	}
}

// recordingCreds returns creds for host and records every host asked for.
type recordingCreds struct {
	mu    sync.Mutex
	asked []string
	host  string
	cred  registry.Credential
}

func (r *recordingCreds) get(_ context.Context, h string) (registry.Credential, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.asked = append(r.asked, h)
	if h == r.host {
		return r.cred, nil
	}
	return registry.Credential{}, nil
}

func TestAuth(t *testing.T) {
	for _, bearer := range []bool{false, true} {
		name := "basic"
		if bearer {
			name = "bearer"
		}
		t.Run(name, func(t *testing.T) {
			reg := registrytest.New()
			defer reg.Close()
			reg.RequireBasic("alice", "s3cret")
			if bearer {
				reg.RequireToken()
			}
			mt, body := registrytest.ImageManifest(true, "auth")
			dig := reg.Put("app", "t", mt, body)
			ref := mustRef(t, reg.Host+"/app:t")

			anon, _ := registry.New(registry.Options{})
			_, err := anon.FetchManifest(context.Background(), ref)
			var ae *registry.AuthError
			if !errors.As(err, &ae) || ae.HadCredentials || !errors.Is(err, registry.ErrUnauthorized) {
				t.Fatalf("anonymous: err = %v, want *AuthError without credentials", err)
			}

			wrong, _ := registry.New(registry.Options{Credentials: registry.StaticCredentials(reg.Host, registry.Credential{Username: "alice", Password: "nope"})})
			_, err = wrong.FetchManifest(context.Background(), ref)
			if !errors.As(err, &ae) || !ae.HadCredentials {
				t.Fatalf("wrong password: err = %v, want *AuthError with credentials", err)
			}

			rc := &recordingCreds{host: reg.Host, cred: registry.Credential{Username: "alice", Password: "s3cret"}}
			c, _ := registry.New(registry.Options{Credentials: rc.get})
			m, err := c.FetchManifest(context.Background(), ref)
			if err != nil || m.Digest != dig {
				t.Fatalf("with credentials: %v", err)
			}
			for _, h := range rc.asked {
				if h != reg.Host {
					t.Errorf("credentials asked for %q, want only %q", h, reg.Host)
				}
			}
		})
	}
}

func TestDockerCredentials(t *testing.T) {
	dir := t.TempDir()
	helperDir := t.TempDir()
	// A credential helper per the docker-credential-helpers protocol:
	// "get" reads the server address on stdin, prints JSON.
	script := "#!/bin/sh\nread host\necho '{\"ServerURL\":\"'$host'\",\"Username\":\"helper-user\",\"Secret\":\"helper-pass\"}'\n"
	if err := os.WriteFile(filepath.Join(helperDir, "docker-credential-fake"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", helperDir+string(os.PathListSeparator)+os.Getenv("PATH"))
	cfg := `{
		"auths": {
			"reg.example.com": {"auth": "` + base64.StdEncoding.EncodeToString([]byte("bob:pw")) + `"},
			"https://index.docker.io/v1/": {"auth": "` + base64.StdEncoding.EncodeToString([]byte("hubuser:hubpw")) + `"}
		},
		"credHelpers": {"helped.example.com": "fake"}
	}`
	path := filepath.Join(dir, "config.json")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	get, err := registry.DockerCredentials(path)
	if err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]registry.Credential{
		"reg.example.com":    {Username: "bob", Password: "pw"},
		"docker.io":          {Username: "hubuser", Password: "hubpw"},
		"helped.example.com": {Username: "helper-user", Password: "helper-pass"},
		"other.example.com":  {},
	} {
		got, err := get(context.Background(), host)
		if err != nil || got != want {
			t.Errorf("%s: got %+v, %v; want %+v", host, got, err, want)
		}
	}

	if got := registry.DockerConfigPath(func(k string) string {
		if k == "DOCKER_CONFIG" {
			return "/cfg"
		}
		return ""
	}, "/home/u"); got != "/cfg/config.json" {
		t.Errorf("DockerConfigPath = %s", got)
	}
	if got := registry.DockerConfigPath(func(string) string { return "" }, "/home/u"); got != "/home/u/.docker/config.json" {
		t.Errorf("DockerConfigPath = %s", got)
	}

	// A missing file is no credentials; a malformed one an error.
	if _, err := registry.DockerCredentials(filepath.Join(dir, "none.json")); err != nil {
		t.Errorf("missing file: %v", err)
	}
	bad := filepath.Join(dir, "bad.json")
	_ = os.WriteFile(bad, []byte("{"), 0o600)
	if _, err := registry.DockerCredentials(bad); !errors.Is(err, registry.ErrCredentials) {
		t.Errorf("malformed file: err = %v, want ErrCredentials", err)
	}
}

func TestTLS(t *testing.T) {
	reg := registrytest.NewTLS()
	defer reg.Close()
	mt, body := registrytest.ImageManifest(true, "tls")
	dig := reg.Put("app", "t", mt, body)
	ref := mustRef(t, reg.Host+"/app:t")

	// Loopback may be plain HTTP, but a registry that speaks TLS is used
	// over TLS, and its certificate must verify.
	c, _ := registry.New(registry.Options{})
	_, err := c.FetchManifest(context.Background(), ref)
	if !errors.Is(err, registry.ErrTLS) {
		t.Fatalf("unknown CA: err = %v, want ErrTLS", err)
	}
	ca, err := reg.CAFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c, err = registry.New(registry.Options{CAFile: ca})
	if err != nil {
		t.Fatal(err)
	}
	m, err := c.FetchManifest(context.Background(), ref)
	if err != nil || m.Digest != dig {
		t.Fatalf("with --registry-ca: %v", err)
	}
	if _, err := registry.New(registry.Options{CAFile: filepath.Join(t.TempDir(), "missing.pem")}); err == nil {
		t.Error("missing CA file accepted")
	}
}

func TestResolveErrors(t *testing.T) {
	reg := registrytest.New()
	defer reg.Close()
	reg.RequireBasic("u", "p")
	mt, body := registrytest.ImageManifest(true, "r")
	dig := reg.Put("app", "t", mt, body)
	anon, _ := registry.New(registry.Options{})
	if _, err := anon.Resolve(context.Background(), mustRef(t, reg.Host+"/app:t")); !errors.Is(err, registry.ErrUnauthorized) {
		t.Fatalf("anonymous: err = %v, want ErrUnauthorized", err)
	}
	c, _ := registry.New(registry.Options{Credentials: registry.StaticCredentials(reg.Host, registry.Credential{Username: "u", Password: "p"})})
	if _, err := c.Resolve(context.Background(), mustRef(t, reg.Host+"/app:nope")); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("unknown tag: err = %v, want ErrNotFound", err)
	}
	d, err := c.Resolve(context.Background(), mustRef(t, reg.Host+"/app:t"))
	if err != nil || d.Digest != dig || d.Size != int64(len(body)) {
		t.Fatalf("Resolve = %+v, %v", d, err)
	}
	// Every manifest request is a HEAD or GET on /v2/<repo>/manifests/.
	for _, r := range reg.Requests() {
		if !strings.HasPrefix(r, "HEAD /v2/app/manifests/") && !strings.HasPrefix(r, "GET /v2/") {
			t.Errorf("unexpected request %s", r)
		}
	}
}

func TestWrapTransport(t *testing.T) {
	reg := registrytest.New()
	defer reg.Close()
	mt, body := registrytest.ImageManifest(true, "w")
	reg.Put("app", "t", mt, body)
	var seen []string
	var accept string
	var mu sync.Mutex
	c, _ := registry.New(registry.Options{WrapTransport: func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			mu.Lock()
			seen = append(seen, r.Method+" "+r.URL.Path)
			if strings.Contains(r.URL.Path, "/manifests/") {
				accept = r.Header.Get("Accept")
			}
			mu.Unlock()
			return rt.RoundTrip(r)
		})
	}})
	if _, err := c.FetchManifest(context.Background(), mustRef(t, reg.Host+"/app:t")); err != nil {
		t.Fatal(err)
	}
	if len(seen) == 0 || seen[len(seen)-1] != "GET /v2/app/manifests/t" {
		t.Fatalf("requests seen by the wrapper: %v", seen)
	}
	// The GET accepts all four manifest types, so no registry converts
	// an index to one platform's manifest or an OCI manifest to Docker's.
	for _, mt := range []string{registry.MediaTypeDockerManifest, registry.MediaTypeDockerManifestList, registry.MediaTypeOCIManifest, registry.MediaTypeOCIIndex} {
		if !strings.Contains(accept, mt) {
			t.Errorf("Accept %q lacks %s", accept, mt)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
