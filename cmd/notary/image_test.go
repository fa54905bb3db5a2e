package main

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/notary-go/notary/registry"
	"github.com/notary-go/notary/registry/registrytest"
)

// The registries here are registrytest fakes (in-memory V2 manifest
// endpoints); the trust server is ours, in-process.

func pushImage(reg *registrytest.Registry, repo, tag, seed string) string {
	mt, body := registrytest.ImageManifest(true, seed)
	return reg.Put(repo, tag, mt, body)
}

func TestImageSignVerifyCLI(t *testing.T) {
	ts := newTestServer(t)
	reg := registrytest.New()
	defer reg.Close()
	c := newCLI(t, ts.URL)
	dig := pushImage(reg, "team/app", "1.0", "one")
	ref := reg.Host + "/team/app:1.0"
	pinned := reg.Host + "/team/app@" + dig

	r := c.ok("image", "sign", ref)
	mustContain(t, "sign stdout", r.out, "Signed "+ref+" as "+pinned)

	r = c.ok("image", "verify", ref)
	if r.out != pinned+"\n" {
		t.Fatalf("verify stdout = %q, want the pinned reference", r.out)
	}
	// The upstream-compatible listing shows the image target.
	r = c.ok("list", reg.Host+"/team/app")
	mustContain(t, "list", r.out, "1.0", strings.TrimPrefix(dig, "sha256:"), "targets")

	// By digest, no registry needed.
	r = c.ok("image", "verify", pinned)
	if r.out != pinned+"\n" {
		t.Fatalf("verify by digest stdout = %q", r.out)
	}

	// Unsigned tag.
	pushImage(reg, "team/app", "2.0", "two")
	r = c.fail("image", "verify", reg.Host+"/team/app:2.0")
	mustContain(t, "unsigned stderr", r.err, "is not signed", `"2.0"`)
	if r.out != "" {
		t.Errorf("stdout on failure: %q", r.out)
	}

	// Re-pushed tag.
	pushImage(reg, "team/app", "1.0", "other")
	r = c.fail("image", "verify", ref)
	mustContain(t, "mismatch stderr", r.err, "does not match its signature", dig, "hint:")

	// Registry gone.
	reg.Close()
	r = c.fail("image", "verify", ref)
	mustContain(t, "unreachable stderr", r.err, "cannot reach the registry "+reg.Host)
}

func TestImageBadInputCLI(t *testing.T) {
	ts := newTestServer(t)
	reg := registrytest.New()
	defer reg.Close()
	pushImage(reg, "app", "good", "g")
	mt, body := registrytest.ImageManifest(true, "w")
	reg.Put("app", "wronghdr", mt, body)
	reg.WrongDigestHeader("app", "wronghdr", registrytest.Digest([]byte("x")))
	big := []byte(`{"pad":"` + strings.Repeat("a", registry.MaxManifestSize) + `"}`)
	reg.Put("app", "big", mt, big)
	authReg := registrytest.New()
	defer authReg.Close()
	authReg.RequireBasic("u", "p")
	pushImage(authReg, "app", "good", "g")

	c := newCLI(t, ts.URL)
	tests := []struct {
		name string
		args []string
		gun  string
		want []string
	}{
		{name: "no tag", args: []string{reg.Host + "/app"}, gun: reg.Host + "/app", want: []string{"names no tag"}},
		{name: "digest without --tag", args: []string{reg.Host + "/app@" + registrytest.Digest(body)}, gun: reg.Host + "/app", want: []string{"needs --tag"}},
		{name: "unknown host", args: []string{"no-such-registry.invalid/app:good"}, gun: "no-such-registry.invalid/app", want: []string{"cannot reach the registry no-such-registry.invalid"}},
		{name: "too large", args: []string{reg.Host + "/app:good", reg.Host + "/app:big"}, gun: reg.Host + "/app", want: []string{"over the 4194304-byte limit"}},
		{name: "wrong digest header", args: []string{reg.Host + "/app:wronghdr"}, gun: reg.Host + "/app", want: []string{"Docker-Content-Digest"}},
		{name: "401", args: []string{authReg.Host + "/app:good"}, gun: authReg.Host + "/app", want: []string{"requires authentication", "docker login " + authReg.Host}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.fail(append([]string{"image", "sign"}, tt.args...)...)
			mustContain(t, "stderr", r.err, tt.want...)
			r = c.fail("list", tt.gun)
			mustContain(t, "list after failed sign", r.err, "does not have trust data")
		})
	}
	r := c.fail("image", "verify")
	mustContain(t, "verify without REF", r.err, "Must specify exactly one REF")
}

func TestImageDockerCredentialsCLI(t *testing.T) {
	ts := newTestServer(t)
	reg := registrytest.New()
	defer reg.Close()
	reg.RequireBasic("alice", "pw")
	reg.RequireToken()
	dig := pushImage(reg, "app", "1", "x")
	c := newCLI(t, ts.URL)
	cfgDir := t.TempDir()
	writeFile(t, filepath.Join(cfgDir, "config.json"), `{"auths":{"`+reg.Host+`":{"auth":"`+base64.StdEncoding.EncodeToString([]byte("alice:pw"))+`"}}}`)
	c.env["DOCKER_CONFIG"] = cfgDir
	c.ok("image", "sign", reg.Host+"/app:1")
	r := c.ok("image", "verify", reg.Host+"/app:1")
	if r.out != reg.Host+"/app@"+dig+"\n" {
		t.Fatalf("verify = %q", r.out)
	}
}

func TestImageTrustServerChoiceCLI(t *testing.T) {
	ts := newTestServer(t)
	reg := registrytest.New()
	defer reg.Close()
	pushImage(reg, "app", "1", "x")
	ref := reg.Host + "/app:1"

	// No -s: the config file's trust_servers names the server.
	c := newCLI(t, "")
	cfg := writeFile(t, filepath.Join(c.home, "cfg.json"), `{"trust_servers":{"`+reg.Host+`":"`+ts.URL+`"}}`)
	c.ok("-c", cfg, "image", "sign", ref)
	c.ok("-c", cfg, "image", "verify", ref)

	// DOCKER_CONTENT_TRUST_SERVER wins over the map.
	// (A fresh trust directory: with a cached copy, verify would use it
	// and warn that the server could not be reached.)
	c.env["DOCKER_CONTENT_TRUST_SERVER"] = "http://127.0.0.1:1"
	r := c.fail("-c", cfg, "-d", t.TempDir(), "image", "verify", ref)
	mustContain(t, "env server", r.err, "127.0.0.1:1")
	delete(c.env, "DOCKER_CONTENT_TRUST_SERVER")

	// -s is used when nothing else names one.
	c2 := newCLI(t, ts.URL)
	c2.ok("image", "verify", ref)

	// Without any, Docker's rule: https://<registry host>, which is the
	// fake registry speaking HTTP, so the TLS handshake fails.
	c3 := newCLI(t, "")
	r = c3.fail("image", "verify", ref)
	mustContain(t, "default server", r.err, "https://"+reg.Host)

	bad := writeFile(t, filepath.Join(c.home, "bad.json"), `{"trust_servers":{"r.example.com":"notary.example.com"}}`)
	r = c.fail("-c", bad, "image", "verify", ref)
	mustContain(t, "bad map", r.err, "trust_servers.r.example.com")
}

func TestImageInspectRevokeCLI(t *testing.T) {
	ts := newTestServer(t)
	reg := registrytest.New()
	defer reg.Close()
	c := newCLI(t, ts.URL)
	gun := reg.Host + "/app"
	d1 := pushImage(reg, "app", "v1", "1")
	pushImage(reg, "app", "v2", "2")
	r := c.ok("image", "sign", gun+":v1", gun+":v2", "--no-publish")
	mustContain(t, "staged", r.out, "Staged "+gun+":v1", "notary publish "+gun)
	c.fail("image", "verify", gun+":v1")
	c.ok("publish", gun)

	r = c.ok("image", "inspect", gun, gun+":v1")
	var infos []map[string]any
	if err := json.Unmarshal([]byte(r.out), &infos); err != nil || len(infos) != 2 {
		t.Fatalf("inspect JSON: %v\n%s", err, r.out)
	}
	for _, k := range []string{"Name", "SignedTags", "Signers", "AdministrativeKeys"} {
		if _, ok := infos[0][k]; !ok {
			t.Errorf("inspect JSON lacks %s", k)
		}
	}
	mustContain(t, "inspect", r.out, `"SignedTag": "v1"`, `"Digest": "`+strings.TrimPrefix(d1, "sha256:")+`"`, `"Repo Admin"`, `"Name": "Root"`, `"Name": "Repository"`, `"Name": "`+gun+`:v1"`)
	r = c.ok("image", "inspect", "--pretty", gun)
	mustContain(t, "pretty", r.out, "Signatures for "+gun, "SIGNED TAG", "v2", "Administrative keys for "+gun, "Root Key:", "Repository Key:")

	r = c.ok("image", "revoke", gun+":v1")
	mustContain(t, "revoke", r.out, "Successfully deleted signature for "+gun+":v1")
	c.fail("image", "verify", gun+":v1")
	c.ok("image", "verify", gun+":v2")
	c.ok("image", "revoke", gun)
	r = c.fail("image", "verify", gun+":v2")
	mustContain(t, "after revoke all", r.err, "is not signed")
	r = c.fail("image", "inspect", reg.Host+"/never")
	mustContain(t, "inspect unknown", r.err, "no trust data")
}

// The trust server is sent the registry's Docker credentials when neither
// NOTARY_AUTH nor an entry for the trust server's own host exists, as the
// Docker CLI does.
func TestImageTrustServerGetsDockerCredentials(t *testing.T) {
	ts := newTestServer(t)
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:pw"))
	var sawAuth bool
	ts.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Header.Get("Authorization") != want {
			w.Header().Set("WWW-Authenticate", `Basic realm="notary"`)
			w.WriteHeader(http.StatusUnauthorized)
			return true
		}
		sawAuth = true
		return false
	})
	reg := registrytest.New()
	defer reg.Close()
	pushImage(reg, "app", "1", "x")
	c := newCLI(t, ts.URL)
	cfgDir := t.TempDir()
	writeFile(t, filepath.Join(cfgDir, "config.json"), `{"auths":{"`+reg.Host+`":{"auth":"`+base64.StdEncoding.EncodeToString([]byte("alice:pw"))+`"}}}`)

	r := c.fail("image", "sign", reg.Host+"/app:1")
	mustContain(t, "without credentials", r.err, "requires authentication")
	c.fail("-d", t.TempDir(), "image", "verify", reg.Host+"/app:1")

	c.env["DOCKER_CONFIG"] = cfgDir
	c.ok("image", "sign", reg.Host+"/app:1")
	c.ok("image", "verify", reg.Host+"/app:1")
	if !sawAuth {
		t.Fatal("the trust server never saw the credentials")
	}
}
