package main

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/notary-go/notary/internal/authtest"
)

func notaryAuth(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
}

// TestTokenAuthCLI runs the CLI against our server behind the token
// server of notary-auth, with users scoped to the GUN only.
func TestTokenAuthCLI(t *testing.T) {
	s := authtest.New(t, gun, nil)
	admin := newCLI(t, s.Server.URL)
	admin.env["NOTARY_AUTH"] = notaryAuth(authtest.Admin, authtest.AdminPassword)
	admin.ok("init", "-p", gun)

	// Issue 19 bug 2: rotation with a token for repository:<gun>:* only.
	t.Run("key rotate", func(t *testing.T) {
		for _, role := range []string{"targets", "root"} {
			admin.ok("key", "rotate", gun, role)
		}
		reader := newCLI(t, s.Server.URL)
		reader.env["NOTARY_AUTH"] = notaryAuth(authtest.Reader, authtest.ReaderPassword)
		reader.ok("list", gun)
	})

	// Issue 19 bug 3: three refusals, three messages and hints.
	for _, tc := range []struct {
		name, auth string
		args       []string
		want, not  []string
	}{
		{"no credentials", "", []string{"list", gun},
			[]string{"requires authentication", "hint: the server wants credentials: set NOTARY_AUTH"}, nil},
		{"wrong password", notaryAuth(authtest.Admin, "nope"), []string{"list", gun},
			[]string{`refused the user name or password of "admin"`, "hint: the user name or password in NOTARY_AUTH was refused"}, []string{"set NOTARY_AUTH to"}},
		{"not allowed", notaryAuth(authtest.Reader, authtest.ReaderPassword), []string{"delete", gun, "--remote"},
			[]string{`"reader" is not allowed repository:` + gun + `:*`, "hint: you are logged in, but not allowed this on " + gun}, []string{"set NOTARY_AUTH to"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCLI(t, s.Server.URL)
			if tc.auth != "" {
				c.env["NOTARY_AUTH"] = tc.auth
			}
			r := c.fail(tc.args...)
			mustContain(t, tc.name, r.err, tc.want...)
			mustNotContain(t, tc.name, r.err, tc.not...)
		})
	}
}

// TestMirrorGetsNoCredentials: issue 10 item 3. A mirror that answers 401
// with a Basic challenge never receives NOTARY_AUTH's user and password.
func TestMirrorGetsNoCredentials(t *testing.T) {
	var (
		mu    sync.Mutex
		asked int
		seen  []string
	)
	mirror := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked++
		if a := r.Header.Get("Authorization"); a != "" {
			seen = append(seen, a)
		}
		mu.Unlock()
		w.Header().Set("WWW-Authenticate", `Basic realm="mirror"`)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer mirror.Close()
	srv := newTestServer(t)
	c := newCLI(t, srv.URL)
	c.env["NOTARY_AUTH"] = notaryAuth("alice", "secret")
	c.fail("--mirror", mirror.URL, "list", gun)
	mu.Lock()
	defer mu.Unlock()
	if asked == 0 {
		t.Fatal("the mirror was never asked")
	}
	if len(seen) != 0 {
		t.Errorf("the mirror got credentials: %q", seen)
	}
}
