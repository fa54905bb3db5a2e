package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/notary-go/notary/auth"
	"github.com/notary-go/notary/auth/issuer"
)

func runCmd(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// TestKeygenHtpasswdAndConfig builds a complete setup with the
// subcommands, loads it as `serve` would, and checks an issued token with
// the verifier notary-server uses.
func TestKeygenHtpasswdAndConfig(t *testing.T) {
	dir := t.TempDir()
	if code, _, errs := runCmd(t, "", "keygen", "-key", filepath.Join(dir, "token.key"), "-cert", filepath.Join(dir, "token.crt"), "-cn", "test signer"); code != 0 {
		t.Fatalf("keygen: %d %s", code, errs)
	}
	if fi, err := os.Stat(filepath.Join(dir, "token.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token.key: %v %v", fi, err)
	}
	if code, _, _ := runCmd(t, "", "keygen", "-key", filepath.Join(dir, "token.key"), "-cert", filepath.Join(dir, "other.crt")); code == 0 {
		t.Error("keygen overwrote an existing key")
	}
	code, line, errs := runCmd(t, "s3cret\n", "htpasswd", "-cost", "4", "alice")
	if code != 0 || !strings.HasPrefix(line, "alice:$2a$04$") {
		t.Fatalf("htpasswd: %d %q %s", code, line, errs)
	}
	if code, _, _ := runCmd(t, "", "htpasswd", "alice"); code == 0 {
		t.Error("htpasswd accepted an empty password")
	}
	if err := os.WriteFile(filepath.Join(dir, "users.htpasswd"), []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := `{
  "server": {"http_addr": "127.0.0.1:0"},
  "token": {"issuer": "notary-auth", "service": ["notary-server", "registry"], "signing_key": "token.key", "signing_cert": "token.crt", "ttl": "2m"},
  "users": {"htpasswd": "users.htpasswd", "realm": "test"},
  "acl": [{"account": "alice", "name": "example.com/*", "actions": ["push", "pull"]}],
  "logging": {"level": "debug"}
}`
	cfgFile := filepath.Join(dir, "notary-auth.json")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := loadConfig(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	if c.opts.TTL != 2*time.Minute || len(c.opts.Services) != 2 || c.opts.Users == nil || len(c.opts.ACL) != 1 {
		t.Errorf("config %+v", c.opts)
	}
	iss, err := issuer.New(c.opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(handler(iss))
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/token?service=notary-server&scope=repository:example.com/app:push,pull,*", nil)
	req.SetBasicAuth("alice", "s3cret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tr struct{ Token string }
	if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil || resp.StatusCode != 200 {
		t.Fatalf("token: %d %v", resp.StatusCode, err)
	}
	roots, err := auth.LoadCertBundle(filepath.Join(dir, "token.crt"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := auth.NewTokenVerifier(auth.TokenOptions{Service: "notary-server", Issuer: "notary-auth", Roots: roots})
	if err != nil {
		t.Fatal(err)
	}
	claims, err := v.Verify(tr.Token)
	if err != nil {
		t.Fatal(err)
	}
	if len(claims.Access) != 1 || strings.Join(claims.Access[0].Actions, ",") != "push,pull" {
		t.Errorf("access %+v", claims.Access)
	}
	if resp, err := http.Get(srv.URL + "/health"); err != nil || resp.StatusCode != 200 {
		t.Errorf("health: %v %v", resp, err)
	}
	if resp, err := http.Get(srv.URL + "/other"); err != nil || resp.StatusCode != 404 {
		t.Errorf("/other: %v %v", resp, err)
	}
}

func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	if code, _, errs := runCmd(t, "", "keygen", "-key", filepath.Join(dir, "k"), "-cert", filepath.Join(dir, "c")); code != 0 {
		t.Fatal(errs)
	}
	for name, cfg := range map[string]string{
		"server string":   `{"server":":1","token":{"issuer":"i","service":"s","signing_key":"k","signing_cert":"c"}}`,
		"issuer object":   `{"server":{"http_addr":":1"},"token":{"issuer":{"name":"i"},"service":"s","signing_key":"k","signing_cert":"c"}}`,
		"no addr":         `{"token":{"issuer":"i","service":"s","signing_key":"k","signing_cert":"c"}}`,
		"half TLS":        `{"server":{"http_addr":":1","tls_cert_file":"c"},"token":{"issuer":"i","service":"s","signing_key":"k","signing_cert":"c"}}`,
		"no key":          `{"server":{"http_addr":":1"},"token":{"issuer":"i","service":"s","signing_cert":"c"}}`,
		"missing key":     `{"server":{"http_addr":":1"},"token":{"issuer":"i","service":"s","signing_key":"nope","signing_cert":"c"}}`,
		"bad ttl":         `{"server":{"http_addr":":1"},"token":{"issuer":"i","service":"s","signing_key":"k","signing_cert":"c","ttl":"soon"}}`,
		"service type":    `{"server":{"http_addr":":1"},"token":{"issuer":"i","service":7,"signing_key":"k","signing_cert":"c"}}`,
		"bad acl":         `{"server":{"http_addr":":1"},"token":{"issuer":"i","service":"s","signing_key":"k","signing_cert":"c"},"acl":[{"name":"x","actions":["pull"]}]}`,
		"bad level":       `{"server":{"http_addr":":1"},"token":{"issuer":"i","service":"s","signing_key":"k","signing_cert":"c"},"logging":{"level":"loud"}}`,
		"missing htpassw": `{"server":{"http_addr":":1"},"token":{"issuer":"i","service":"s","signing_key":"k","signing_cert":"c"},"users":{"htpasswd":"nope"}}`,
	} {
		f := filepath.Join(dir, "cfg.json")
		if err := os.WriteFile(f, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := loadConfig(f); err == nil {
			t.Errorf("%s: loadConfig succeeded", name)
		}
	}
	// Unknown keys load (and are logged by serve), as in the other
	// programs' configs.
	f := filepath.Join(dir, "cfg.json")
	if err := os.WriteFile(f, []byte(`{"server":{"http_addr":":1","tls":{}},"token":{"issuer":"i","service":"s","signing_key":"k","signing_cert":"c"},"bogus":1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if c, err := loadConfig(f); err != nil || strings.Join(c.unknownKeys, " ") != "bogus server.tls" {
		t.Errorf("unknown keys: %v %v", c, err)
	}
	if code, _, _ := runCmd(t, "", "serve"); code != 2 {
		t.Errorf("serve without -config: exit %d, want 2", code)
	}
	if code, _, _ := runCmd(t, "", "frobnicate"); code != 2 {
		t.Errorf("unknown command: exit %d, want 2", code)
	}
}

// TestPathsFromAnotherDirectory loads a config with relative paths by a
// relative name from another working directory: files resolve against the
// config file, and a missing one is named by its full path (issue 19).
func TestPathsFromAnotherDirectory(t *testing.T) {
	dir := t.TempDir()
	if code, _, errs := runCmd(t, "", "keygen", "-key", filepath.Join(dir, "token.key"), "-cert", filepath.Join(dir, "token.crt")); code != 0 {
		t.Fatal(errs)
	}
	cfgFile := filepath.Join(dir, "auth.json")
	write := func(users string) {
		t.Helper()
		cfg := `{"server":{"http_addr":"127.0.0.1:0"},"token":{"issuer":"i","service":"s","signing_key":"token.key","signing_cert":"token.crt"},"users":{"htpasswd":"` + users + `"}}`
		if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "users.htpasswd"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cwd := t.TempDir()
	t.Chdir(cwd)
	rel, err := filepath.Rel(cwd, cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	write("users.htpasswd")
	if _, err := loadConfig(rel); err != nil {
		t.Fatalf("relative paths from another directory: %v", err)
	}
	write("missing.htpasswd")
	if _, err := loadConfig(rel); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "missing.htpasswd")) {
		t.Errorf("missing file: %v, want its full path", err)
	}
}

func TestVersionAndHelp(t *testing.T) {
	for _, args := range [][]string{{"-version"}, {"version"}, {"serve", "-version"}} {
		if code, out, errs := runCmd(t, "", args...); code != 0 || !strings.HasPrefix(out, "notary-auth Version: ") {
			t.Errorf("%v: exit %d, %q %q", args, code, out, errs)
		}
	}
	code, out, _ := runCmd(t, "", "help")
	if code != 0 || !strings.Contains(out, "relative to the config\nfile's directory") || !strings.Contains(out, `"registry.example.com/${account}/*"`) {
		t.Errorf("help: exit %d:\n%s", code, out)
	}
}

// TestSampleACLMatchesDocker checks the sample rules of --help against
// the scopes docker trust asks for: its GUNs are the image's full name,
// registry host included (issue 19).
func TestSampleACLMatchesDocker(t *testing.T) {
	start := strings.Index(usageText, `"acl": [`)
	end := strings.Index(usageText[max(start, 0):], "\n    ]") + start + len("\n    ]")
	if start < 0 || end <= start+len("\n    ]") {
		t.Fatal("no acl sample in the usage text")
	}
	acl, err := issuer.ParseACL([]byte(usageText[start+len(`"acl": `) : end]))
	if err != nil {
		t.Fatalf("sample acl: %v", err)
	}
	for _, tc := range []struct {
		account, gun string
		want         string
	}{
		{"alice", "registry.example.com/alice/app", "push,pull"},
		{"alice", "registry.example.com/bob/app", ""},
		{"", "registry.example.com/public/app", "pull"},
		{"admin", "registry.example.com/bob/app", "push,pull"},
	} {
		got := acl.Grant(tc.account, auth.ResourceActions{Type: "repository", Name: tc.gun, Actions: []string{"push", "pull"}})
		if strings.Join(got, ",") != tc.want {
			t.Errorf("%q on %s: granted %v, want %q", tc.account, tc.gun, got, tc.want)
		}
	}
}
