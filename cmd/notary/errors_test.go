package main

import (
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/notary-go/notary/api"
	"github.com/notary-go/notary/internal/testpki"
)

// published returns a server with gun initialized and one target
// published, and the publisher's CLI.
func published(t *testing.T) (*testServer, *cli) {
	t.Helper()
	srv := newTestServer(t)
	c := newCLI(t, srv.URL)
	c.ok("init", "-p", gun)
	f := writeFile(t, filepath.Join(c.home, "hello.txt"), "hello world\n")
	c.ok("add", gun, "hello", f, "-p")
	return srv, c
}

func TestServerUnreachable(t *testing.T) {
	srv, c := published(t)
	consumer := newCLI(t, srv.URL)
	consumer.ok("list", gun) // caches the trust data
	srv.Close()

	// Reads work from the cache and say so on stderr.
	r := consumer.ok("list", gun)
	mustContain(t, "offline list stdout", r.out, "hello ")
	mustContain(t, "offline list stderr", r.err, "warning: could not read example.com/app from "+srv.URL, "using the trust data cached in the trust directory")
	r = consumer.ok("lookup", gun, "hello")
	mustContain(t, "offline lookup", r.out, "hello sha256:")
	consumer.ok("verify", gun, "hello", "-i", filepath.Join(c.home, "hello.txt"), "-q")

	// Nothing cached: a clear error.
	r = newCLI(t, srv.URL).fail("list", gun)
	mustContain(t, "uncached list", r.err, "* fatal: no trust data for example.com/app is cached in the trust directory, and cannot reach the trust server at "+srv.URL, "connection refused", "hint: check the trust server URL")

	// Writes need the server.
	r = c.fail("init", "example.com/other")
	mustContain(t, "init offline", r.err, "cannot reach the trust server at "+srv.URL, "hint: check the trust server URL")
	c.ok("add", gun, "x", filepath.Join(c.home, "hello.txt")) // staging is offline
	r = c.fail("publish", gun)
	mustContain(t, "publish offline", r.err, "cannot reach the trust server")
	r = c.ok("status", gun)
	mustContain(t, "status after failed publish", r.out, "create    targets    target    x")
	// No key was left behind by the failed init.
	r = c.ok("key", "list")
	if n := strings.Count(r.out, "example.com/other"); n != 0 {
		t.Errorf("failed init left %d keys:\n%s", n, r.out)
	}
}

func TestServerErrors(t *testing.T) {
	srv, c := published(t)

	t.Run("unavailable", func(t *testing.T) {
		srv.setHook(func(w http.ResponseWriter, r *http.Request) bool {
			api.WriteError(w, api.NewError(api.CodeUnknown, api.EmptyDetail))
			return true
		})
		defer srv.setHook(nil)
		r := newCLI(t, srv.URL).fail("list", gun)
		mustContain(t, "list", r.err, "is unavailable (fetch root.json: HTTP 500)")
	})

	t.Run("conflict", func(t *testing.T) {
		c.ok("add", gun, "conflicting", filepath.Join(c.home, "hello.txt"))
		srv.setHook(func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method != http.MethodPost {
				return false
			}
			api.WriteError(w, api.NewError(api.CodeOldVersion, api.EmptyDetail))
			return true
		})
		r := c.fail("publish", gun)
		srv.setHook(nil)
		mustContain(t, "publish", r.err, "someone else published example.com/app", "the changes are still staged", "hint: run `notary publish example.com/app` again")
		mustContain(t, "status", c.ok("status", gun).out, "conflicting")
		c.ok("publish", gun)
		mustContain(t, "status", c.ok("status", gun).out, "No unpublished changes")
	})

	t.Run("oversized timestamp", func(t *testing.T) {
		srv.setHook(func(w http.ResponseWriter, r *http.Request) bool {
			if !strings.HasSuffix(r.URL.Path, "/timestamp.json") {
				return false
			}
			w.Write(bytes.Repeat([]byte("x"), 2<<20))
			return true
		})
		defer srv.setHook(nil)
		r := newCLI(t, srv.URL).fail("list", gun)
		mustContain(t, "list", r.err, "exceeds")
	})

	t.Run("unauthorized", func(t *testing.T) {
		srv.setHook(func(w http.ResponseWriter, r *http.Request) bool {
			if r.Header.Get("Authorization") == "Basic "+base64.StdEncoding.EncodeToString([]byte("alice:secret")) {
				return false
			}
			w.Header().Set("WWW-Authenticate", `Basic realm="notary"`)
			api.WriteError(w, api.NewError(api.CodeUnauthorized, nil))
			return true
		})
		defer srv.setHook(nil)
		consumer := newCLI(t, srv.URL)
		r := consumer.fail("list", gun)
		mustContain(t, "list", r.err, "requires authentication", "NOTARY_AUTH")
		consumer.env["NOTARY_AUTH"] = base64.StdEncoding.EncodeToString([]byte("alice:secret"))
		consumer.ok("list", gun)
	})
}

// TestTokenAuth runs a publish and a list through a bearer-token
// challenge, as docker/distribution's token auth does.
func TestTokenAuth(t *testing.T) {
	srv := newTestServer(t)
	var scopes []string
	tokens := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, _ := r.BasicAuth()
		scopes = append(scopes, r.URL.Query().Get("scope")+" "+u)
		if u != "alice" || p != "secret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"token": "tok-" + r.URL.Query().Get("scope")})
	}))
	defer tokens.Close()
	srv.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if strings.HasPrefix(r.Header.Get("Authorization"), "Bearer tok-repository:"+gun+":") {
			return false
		}
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm=%q,service="notary",scope="repository:%s:pull"`, tokens.URL+"/auth", gun))
		api.WriteError(w, api.NewError(api.CodeUnauthorized, nil))
		return true
	})
	c := newCLI(t, srv.URL)
	c.env["NOTARY_AUTH"] = base64.StdEncoding.EncodeToString([]byte("alice:secret"))
	c.ok("init", "-p", gun)
	c.ok("list", gun)
	want := []string{"repository:example.com/app:push,pull alice", "repository:example.com/app:pull alice"}
	for _, w := range want {
		found := false
		for _, s := range scopes {
			found = found || s == w
		}
		if !found {
			t.Errorf("token requests %q lack %q", scopes, w)
		}
	}
}

func TestTLS(t *testing.T) {
	plain := newTestServer(t)
	tlsSrv := httptest.NewUnstartedServer(plain.Config.Handler)
	tlsSrv.TLS = &tls.Config{}
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsSrv.Certificate().Raw}), 0o600)

	c := newCLI(t, tlsSrv.URL)
	r := c.fail("init", gun)
	mustContain(t, "init without CA", r.err, "TLS connection to the trust server at "+tlsSrv.URL+" failed", "--tlscacert")
	c.ok("--tlscacert", caFile, "init", "-p", gun)

	// The CA from the config file, relative to the file's directory.
	cfgDir := t.TempDir()
	copyFile(t, caFile, filepath.Join(cfgDir, "root-ca.crt"))
	cfg := writeFile(t, filepath.Join(cfgDir, "config.json"), fmt.Sprintf(`{"trust_dir":"td","remote_server":{"url":%q,"root_ca":"root-ca.crt"}}`, tlsSrv.URL))
	consumer := newCLI(t, "")
	r = consumer.ok("-c", cfg, "-d", "", "list", gun)
	mustContain(t, "list via config", r.out, "No targets present in this repository.")
	if _, err := os.Stat(filepath.Join(cfgDir, "td", "tuf", "example.com", "app", "metadata", "root.json")); err != nil {
		t.Errorf("trust_dir not resolved against the config file's directory: %v", err)
	}

	// skipTLSVerify.
	cfg2 := writeFile(t, filepath.Join(cfgDir, "skip.json"), fmt.Sprintf(`{"remote_server":{"url":%q,"skipTLSVerify":true}}`, tlsSrv.URL))
	newCLI(t, "").ok("-c", cfg2, "list", gun)
}

func TestMutualTLS(t *testing.T) {
	plain := newTestServer(t)
	dir := t.TempDir()
	ca := testpki.New(t, "test CA")
	srvCert := ca.Issue(t, "127.0.0.1", testpki.Options{IPs: testpki.Loopback(), ServerAuth: true, SEC1Key: true})
	cliCert := ca.Issue(t, "client", testpki.Options{ClientAuth: true, SEC1Key: true})
	tlsSrv := httptest.NewUnstartedServer(plain.Config.Handler)
	tlsSrv.TLS = &tls.Config{Certificates: []tls.Certificate{srvCert.TLS}, ClientCAs: ca.Pool, ClientAuth: tls.RequireAndVerifyClientCert}
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	caFile := writeFile(t, filepath.Join(dir, "ca.pem"), string(ca.PEM))
	certFile := writeFile(t, filepath.Join(dir, "client.crt"), string(cliCert.CertPEM))
	keyFile := writeFile(t, filepath.Join(dir, "client.key"), string(cliCert.KeyPEM))

	c := newCLI(t, tlsSrv.URL)
	r := c.fail("--tlscacert", caFile, "init", "-p", gun)
	mustContain(t, "no client cert", r.err, "TLS connection", "client certificate")
	r = c.fail("--tlscacert", caFile, "--tlscert", certFile, "init", gun)
	mustContain(t, "cert without key", r.err, "either pass both client key and cert, or neither")
	c.ok("--tlscacert", caFile, "--tlscert", certFile, "--tlskey", keyFile, "init", "-p", gun)
}

func TestPassphrases(t *testing.T) {
	srv := newTestServer(t)

	t.Run("no terminal, no environment", func(t *testing.T) {
		c := newCLI(t, srv.URL)
		for k := range testPassphrases {
			delete(c.env, k)
		}
		done := make(chan result, 1)
		go func() { done <- c.run("init", "example.com/nopass") }()
		select {
		case r := <-done:
			if r.code == 0 {
				t.Fatalf("init without passphrase succeeded: %s", r)
			}
			mustContain(t, "stderr", r.err, "no passphrase for role root: set NOTARY_ROOT_PASSPHRASE or run on a terminal")
		case <-time.After(30 * time.Second):
			t.Fatal("init without passphrase hangs")
		}
	})

	t.Run("wrong passphrase", func(t *testing.T) {
		c := newCLI(t, srv.URL)
		c.ok("init", "-p", "example.com/wrongpass")
		c.env["NOTARY_TARGETS_PASSPHRASE"] = "not-the-passphrase"
		c.ok("addhash", "example.com/wrongpass", "x", "1", "--sha256", strings.Repeat("11", 32))
		r := c.fail("publish", "example.com/wrongpass")
		mustContain(t, "stderr", r.err, "* fatal: cannot use the targets key ", "NOTARY_TARGETS_PASSPHRASE holds a wrong passphrase")
	})
}

func TestExpiredMetadata(t *testing.T) {
	_, c := published(t)
	consumer := newCLI(t, c.server)
	consumer.ok("list", gun)

	// 15 days on, the server's timestamp (14 days) has expired.
	consumer.now = func() time.Time { return time.Now().Add(15 * 24 * time.Hour) }
	r := consumer.fail("list", gun)
	mustContain(t, "stderr", r.err, "the timestamp metadata of example.com/app expired on", "hint: the trust server signs the timestamp")

	// 11 years on, the cached root has expired and so has the server's.
	consumer.now = func() time.Time { return time.Now().AddDate(11, 0, 0) }
	r = consumer.fail("list", gun)
	mustContain(t, "stderr", r.err, "the root metadata of example.com/app expired on", "notary publish example.com/app")
}

func TestTargetNotFound(t *testing.T) {
	_, c := published(t)
	r := c.fail("lookup", gun, "nope")
	mustContain(t, "stderr", r.err, "No valid trust data for nope in example.com/app", "hint: `notary list example.com/app`")
	r = c.failIn("x", "verify", gun, "nope")
	mustContain(t, "stderr", r.err, "error retrieving target by name:nope")
}

func (c *cli) failIn(stdin string, args ...string) result {
	c.t.Helper()
	r := c.runIn(stdin, args...)
	if r.code == 0 {
		c.t.Fatalf("notary %s succeeded, want failure: %s", strings.Join(args, " "), r)
	}
	return r
}

// TestPathSafety: GUNs and role names can never name files outside the
// trust directory (2018 audit: `notary init ../../x`).
func TestPathSafety(t *testing.T) {
	srv := newTestServer(t)
	c := newCLI(t, srv.URL)
	outside := filepath.Join(c.home, "x")
	for _, g := range []string{"../../x", "../x", "a/../../x", "/abs/x", "a//b", "a/./b", "a/", `a\..\b`, "", "a/*"} {
		for _, args := range [][]string{
			{"init", g},
			{"addhash", g, "t", "1", "--sha256", strings.Repeat("11", 32)},
			{"list", g},
			{"status", g},
			{"delete", g},
			{"witness", g, "targets"},
		} {
			r := c.run(args...)
			if r.code == 0 {
				t.Errorf("notary %q succeeded", args)
				continue
			}
			if g != "" {
				mustContain(t, fmt.Sprintf("%q", args), r.err, "invalid GUN")
			}
		}
	}
	if _, err := os.Stat(outside); err == nil {
		t.Errorf("%s was created", outside)
	}
	// Nothing was written outside <trust_dir>/tuf at all.
	filepath.WalkDir(c.home, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			t.Errorf("file written: %s", p)
		}
		return nil
	})

	// Role names are checked as strictly.
	c.ok("init", "-p", gun)
	for _, role := range []string{"targets/../../x", "targets/../root", "../x", "targets/A", "targets/a/"} {
		r := c.run("addhash", gun, "t", "1", "--sha256", strings.Repeat("11", 32), "-r", role)
		if r.code == 0 {
			t.Errorf("addhash -r %q succeeded", role)
		}
	}
}

// TestFileModes: trust dir folders 0700, key, metadata and change files 0600.
func TestFileModes(t *testing.T) {
	_, c := published(t)
	c.ok("addhash", gun, "staged", "1", "--sha256", strings.Repeat("11", 32))
	var files, dirs int
	filepath.WalkDir(c.trustDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		st, _ := os.Lstat(p)
		if d.IsDir() {
			dirs++
			if st.Mode().Perm() != 0o700 {
				t.Errorf("dir %s: %v", p, st.Mode().Perm())
			}
		} else {
			files++
			if st.Mode().Perm() != 0o600 {
				t.Errorf("file %s: %v", p, st.Mode().Perm())
			}
		}
		return nil
	})
	if files < 8 || dirs < 6 {
		t.Errorf("only %d files, %d dirs", files, dirs)
	}
}

func TestConfigFile(t *testing.T) {
	srv := newTestServer(t)
	c := newCLI(t, "")
	r := c.fail("-c", filepath.Join(c.home, "nope.json"), "list", gun)
	mustContain(t, "missing config", r.err, "error opening config file")
	bad := writeFile(t, filepath.Join(c.home, "bad.json"), `{"trust_pinning":{"certs":{"x":"notalist"}}}`)
	r = c.fail("-c", bad, "list", gun)
	mustContain(t, "bad config", r.err, "invalid format for trust_pinning.certs")

	// The default config file ~/.notary/config.json sets the server.
	writeFile(t, filepath.Join(c.home, ".notary", "config.json"), fmt.Sprintf(`{"remote_server":{"URL":%q}}`, srv.URL))
	r = c.run("-d", "", "init", "-p", gun)
	if r.code != 0 {
		t.Fatalf("init with the default config: %s", r)
	}
	if _, err := os.Stat(filepath.Join(c.home, ".notary", "private")); err != nil {
		t.Errorf("default trust dir ~/.notary not used: %v", err)
	}
}

func TestTrustPinning(t *testing.T) {
	_, c := published(t)
	certs := c.ok("cert", "list").out
	certID := keyIDRE.FindString(certs)
	if certID == "" {
		t.Fatalf("no cert ID in:\n%s", certs)
	}
	dir := t.TempDir()
	for _, tc := range []struct {
		name, pinning string
		ok            bool
		want          string
	}{
		{"tofu", `{}`, true, ""},
		{"pinned cert", fmt.Sprintf(`{"certs":{%q:[%q]}}`, gun, certID), true, ""},
		{"pinned cert by wildcard", fmt.Sprintf(`{"certs":{"example.com/*":[%q]}}`, certID), true, ""},
		{"other cert", fmt.Sprintf(`{"certs":{%q:[%q]}}`, gun, strings.Repeat("ab", 32)), false, "unable to match any certificates to trust_pinning config"},
		{"disable_tofu", `{"disable_tofu":true}`, false, "disable_tofu"},
		{"disable_tofu with pin", fmt.Sprintf(`{"disable_tofu":true,"certs":{%q:[%q]}}`, gun, certID), true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := writeFile(t, filepath.Join(dir, tc.name+".json"), fmt.Sprintf(`{"trust_pinning":%s}`, tc.pinning))
			consumer := newCLI(t, c.server)
			r := consumer.run("-c", cfg, "list", gun)
			if tc.ok != (r.code == 0) {
				t.Fatalf("%s", r)
			}
			mustContain(t, "stderr", r.err, tc.want)
		})
	}
}

func TestMirror(t *testing.T) {
	_, c := published(t)
	consumer := newCLI(t, c.server)
	consumer.ok("list", gun)
	// A static copy of the collection's files: what the consumer cached.
	mirror := t.TempDir()
	copyDir(t, filepath.Join(consumer.trustDir, "tuf", "example.com", "app", "metadata"), filepath.Join(mirror, "example.com", "app"))

	// From a folder, and through plain HTTP, with no server at all.
	for _, m := range []string{mirror, "file://" + mirror} {
		r := newCLI(t, "http://127.0.0.1:1").ok("--mirror", m, "list", gun)
		mustContain(t, "list from "+m, r.out, "hello ")
	}
	hs := httptest.NewServer(http.FileServer(http.Dir(mirror)))
	defer hs.Close()
	fresh := newCLI(t, "http://127.0.0.1:1")
	r := fresh.ok("--mirror", hs.URL, "lookup", gun, "hello")
	mustContain(t, "lookup via HTTP mirror", r.out, "hello sha256:")
	cfg := writeFile(t, filepath.Join(t.TempDir(), "config.json"), fmt.Sprintf(`{"remote_server":{"mirror":%q}}`, hs.URL+"/{gun}"))
	newCLI(t, "http://127.0.0.1:1").ok("-c", cfg, "list", gun)

	// A tampered mirror is refused: trust comes from the keys only.
	tpath := filepath.Join(mirror, "example.com", "app", "targets.json")
	data, _ := os.ReadFile(tpath)
	os.WriteFile(tpath, bytes.Replace(data, []byte(`"length":12`), []byte(`"length":13`), 1), 0o600)
	r = newCLI(t, "http://127.0.0.1:1").fail("--mirror", mirror, "list", gun)
	mustContain(t, "tampered", r.err, "targets")
}

func TestProgress(t *testing.T) {
	srv := newTestServer(t)
	c := newCLI(t, srv.URL)
	c.ok("init", "-p", gun)
	for i := 0; i < 600; i++ {
		c.ok("addhash", gun, fmt.Sprintf("t%04d", i), "1", "--sha256", strings.Repeat("11", 32))
	}
	c.tty = true
	r := c.ok("publish", gun)
	mustContain(t, "stderr", r.err, "applying changes: 600/600 (100%)")
	c.tty = false
	r = newCLI(t, srv.URL).ok("list", gun)
	if n := strings.Count(r.out, "\n"); n != 602 {
		t.Errorf("list has %d lines", n)
	}
	r = newCLI(t, srv.URL).ok("list", gun)
	if r.err != "" {
		t.Errorf("progress or warnings on a non-terminal: %q", r.err)
	}
}

// TestStderrOnlyErrors: failures go to stderr, never to stdout, and exit 1.
func TestStderrOnlyErrors(t *testing.T) {
	c := newCLI(t, "http://127.0.0.1:1")
	r := c.fail("list", gun)
	if r.code != 1 || strings.Contains(r.out, "fatal") || !strings.HasPrefix(r.err, "* fatal: ") {
		t.Errorf("%s", r)
	}
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
