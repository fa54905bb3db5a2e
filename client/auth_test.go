package client_test

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/notary-go/notary/client"
	"github.com/notary-go/notary/internal/authtest"
	"github.com/notary-go/notary/passphrase"
	"github.com/notary-go/notary/tuf"
)

type tokenAuthSetup struct{ *authtest.Setup }

func newTokenAuthSetup(t *testing.T) tokenAuthSetup {
	return tokenAuthSetup{authtest.New(t, testGUN, nil)}
}

const (
	adminPassword  = authtest.AdminPassword
	readerPassword = authtest.ReaderPassword
)

// repo returns a Repository of testGUN on the setup's server that
// authenticates as user with actions.
func (s tokenAuthSetup) repo(t *testing.T, dir, user, pass string, actions []string) *client.Repository {
	t.Helper()
	at, err := client.NewAuthTransport(client.AuthOptions{
		ServerURL: s.Server.URL, GUN: testGUN, Actions: actions,
		Credentials: func() (string, string) { return user, pass },
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := client.NewRepository(testGUN, client.Options{
		TrustDir: dir, ServerURL: s.Server.URL, HTTPClient: &http.Client{Transport: at},
		Retriever: passphrase.Constant("passphrase"),
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestTokenAuthRotation: issue 19 bug 2. A user whose token grants
// repository:<gun>:pull,push,* and nothing else (no registry:catalog:*)
// rotates the targets and the root key. Before the fix, the rotation's
// ping of GET /v2/ (which needs registry:catalog:*) failed with 401.
func TestTokenAuthRotation(t *testing.T) {
	s := newTokenAuthSetup(t)
	ctx := context.Background()
	dir := t.TempDir()
	pub := s.repo(t, dir, "admin", adminPassword, client.ActionsWrite)
	if _, err := pub.Initialize(ctx, client.InitOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, role := range []string{tuf.RoleTargets, tuf.RoleRoot} {
		t.Run(role, func(t *testing.T) {
			adm := s.repo(t, dir, "admin", adminPassword, client.ActionsAdmin)
			before := version(t, adm, tuf.RoleRoot)
			if err := adm.RotateKey(ctx, role, client.RotateOptions{}); err != nil {
				t.Fatalf("rotate %s: %v", role, err)
			}
			reader := s.repo(t, t.TempDir(), "reader", readerPassword, client.ActionsRead)
			if _, err := reader.ListTargets(ctx); err != nil {
				t.Fatal(err)
			}
			if after := version(t, reader, tuf.RoleRoot); after != before+1 {
				t.Errorf("root version %d after rotating %s, want %d", after, role, before+1)
			}
		})
	}
	// The token server, on another port than the trust server, is the
	// realm the server's challenge names: it gets the credentials.
	asAdmin := false
	for _, r := range s.TokenRequests() {
		if strings.Contains(r, "registry:catalog") {
			t.Errorf("asked for the catalog scope: %q", r)
		}
		asAdmin = asAdmin || r == "repository:"+testGUN+":* admin"
	}
	if !asAdmin {
		t.Errorf("no token request as admin for %s:* in %q", testGUN, s.TokenRequests())
	}
}

// TestAuthErrors: issue 19 bug 3. No credentials, refused credentials and
// a user without the right on the GUN are three different errors, each
// still matching ErrUnauthorized.
func TestAuthErrors(t *testing.T) {
	s := newTokenAuthSetup(t)
	ctx := context.Background()
	pubDir := t.TempDir()
	pub := s.repo(t, pubDir, "admin", adminPassword, client.ActionsWrite)
	if _, err := pub.Initialize(ctx, client.InitOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, user, pass string
		write            bool
		want             error
		kind             client.AuthErrorKind
		says             string
	}{
		{"no credentials", "", "", false, client.ErrCredentialsRequired, client.AuthNoCredentials, "requires authentication"},
		{"wrong password", "admin", "nope", false, client.ErrCredentialsRefused, client.AuthCredentialsRefused, `refused the user name or password of "admin"`},
		{"unknown user", "mallory", "x", false, client.ErrCredentialsRefused, client.AuthCredentialsRefused, "refused"},
		{"reader publishes", "reader", readerPassword, true, client.ErrAccessDenied, client.AuthAccessDenied, `"reader" is not allowed repository:` + testGUN + ":push,pull (the token server granted repository:" + testGUN + ":pull)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.write {
				// With the publisher's keys, but not its rights.
				r := s.repo(t, pubDir, tc.user, tc.pass, client.ActionsWrite)
				addTarget(t, r, "x")
				err = r.Publish(ctx)
			} else {
				r := s.repo(t, t.TempDir(), tc.user, tc.pass, client.ActionsRead)
				_, err = r.ListTargets(ctx)
			}
			var ae *client.AuthError
			if !errors.Is(err, tc.want) || !errors.Is(err, client.ErrUnauthorized) || !errors.As(err, &ae) || ae.Kind != tc.kind {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.says) {
				t.Errorf("message %q lacks %q", err, tc.says)
			}
		})
	}
}

// recorder is a server that answers 401 with a Basic challenge (or
// status) and records the Authorization headers it was sent.
type recorder struct {
	*httptest.Server
	mu    sync.Mutex
	auths []string
}

func newRecorder(t *testing.T, h http.HandlerFunc) *recorder {
	rec := &recorder{}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		rec.auths = append(rec.auths, r.Header.Get("Authorization"))
		rec.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(rec.Close)
	return rec
}

func (rec *recorder) sawCredentials() []string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var out []string
	for _, a := range rec.auths {
		if a != "" {
			out = append(out, a)
		}
	}
	return out
}

func basicChallenge(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("WWW-Authenticate", `Basic realm="mirror"`)
	w.WriteHeader(http.StatusUnauthorized)
}

// TestAuthTransportOrigin: issue 10 item 3. Credentials go to the trust
// server's origin only: a mirror answering 401 with a Basic challenge,
// and the target of a redirect to another host, get none.
func TestAuthTransportOrigin(t *testing.T) {
	const user, pass = "alice", "secret"
	wantBasic := "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	other := newRecorder(t, func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "{}") })
	trust := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != wantBasic {
			basicChallenge(w, r)
			return
		}
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusFound)
	})
	at, err := client.NewAuthTransport(client.AuthOptions{
		ServerURL: trust.URL, GUN: testGUN,
		Credentials: func() (string, string) { return user, pass },
	})
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Transport: at}

	t.Run("redirect to another host", func(t *testing.T) {
		for range 2 { // the second request reuses the accepted credentials
			resp, err := hc.Get(trust.URL + "/v2/" + testGUN + "/_trust/tuf/timestamp.json")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
		if got := trust.sawCredentials(); len(got) == 0 {
			t.Fatal("the trust server never got the credentials")
		}
		if got := other.sawCredentials(); len(got) != 0 {
			t.Errorf("the redirect target got %q", got)
		}
	})

	t.Run("mirror with a Basic challenge", func(t *testing.T) {
		mirror := newRecorder(t, basicChallenge)
		remote, err := client.MirrorRemote(mirror.URL, testGUN, hc)
		if err != nil {
			t.Fatal(err)
		}
		r, err := client.NewRepository(testGUN, client.Options{TrustDir: t.TempDir(), ServerURL: trust.URL, HTTPClient: hc, Remote: remote})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.ListTargets(context.Background()); err == nil {
			t.Fatal("read from a mirror that refuses everything succeeded")
		}
		if len(mirror.auths) == 0 {
			t.Fatal("the mirror was never asked")
		}
		if got := mirror.sawCredentials(); len(got) != 0 {
			t.Errorf("the mirror got %q", got)
		}
	})

}

// TestAuthTransportPlainRealm: a server reached over HTTPS cannot lead the
// password onto plain HTTP through its challenge's realm.
func TestAuthTransportPlainRealm(t *testing.T) {
	tokens := newRecorder(t, func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, `{"token":"t"}`) })
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+tokens.URL+`/token",service="notary"`)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer srv.Close()
	at, err := client.NewAuthTransport(client.AuthOptions{
		ServerURL: srv.URL, GUN: testGUN, Base: srv.Client().Transport,
		Credentials: func() (string, string) { return "alice", "secret" },
	})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Transport: at}).Get(srv.URL + "/v2/")
	if err == nil {
		resp.Body.Close()
		t.Fatal("a plain HTTP realm was used")
	}
	if len(tokens.auths) != 0 {
		t.Errorf("the plain HTTP realm was asked: %q", tokens.auths)
	}
}

// TestAuthTransportBasic: the three refusals under Basic auth, and a 403
// after good credentials.
func TestAuthTransportBasic(t *testing.T) {
	good := "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:secret"))
	srv := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		switch a := r.Header.Get("Authorization"); {
		case a == good && r.Method == http.MethodDelete:
			w.WriteHeader(http.StatusForbidden)
		case a == good:
			_, _ = io.WriteString(w, "{}")
		default:
			basicChallenge(w, r)
		}
	})
	for _, tc := range []struct {
		name, user, pass, method string
		want                     error
	}{
		{"no credentials", "", "", http.MethodGet, client.ErrCredentialsRequired},
		{"wrong password", "alice", "nope", http.MethodGet, client.ErrCredentialsRefused},
		{"forbidden", "alice", "secret", http.MethodDelete, client.ErrAccessDenied},
		{"accepted", "alice", "secret", http.MethodGet, nil},
		{"forbidden after accepted", "alice", "secret", http.MethodDelete, client.ErrAccessDenied},
	} {
		t.Run(tc.name, func(t *testing.T) {
			at, err := client.NewAuthTransport(client.AuthOptions{ServerURL: srv.URL, GUN: testGUN,
				Credentials: func() (string, string) { return tc.user, tc.pass }})
			if err != nil {
				t.Fatal(err)
			}
			if tc.name == "forbidden after accepted" {
				// The credentials are accepted first, then sent unasked.
				resp, err := (&http.Client{Transport: at}).Get(srv.URL + "/v2/")
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
			}
			req, _ := http.NewRequest(tc.method, srv.URL+"/v2/", nil)
			resp, err := (&http.Client{Transport: at}).Do(req)
			if resp != nil {
				resp.Body.Close()
			}
			if tc.want == nil {
				if err != nil || resp.StatusCode != http.StatusOK {
					t.Fatalf("got %v, %v", resp, err)
				}
				return
			}
			if !errors.Is(err, tc.want) || !errors.Is(err, client.ErrUnauthorized) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

// TestAuthTransportTokenLifetime: a token is reused until it expires by
// the injected clock, then fetched anew; a token the server calls
// invalid_token is not reused.
func TestAuthTransportTokenLifetime(t *testing.T) {
	var (
		mu      sync.Mutex
		issued  int
		revoked = map[string]bool{} // answered with error="invalid_token"
		stale   = map[string]bool{} // answered with a plain challenge
	)
	tokens := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		issued++
		n := issued
		mu.Unlock()
		_, _ = io.WriteString(w, `{"token":"tok`+string(rune('0'+n))+`","expires_in":300}`)
	}))
	defer tokens.Close()
	var srvURL string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := r.Header.Get("Authorization")
		mu.Lock()
		bad, old := revoked[a], stale[a]
		mu.Unlock()
		if strings.HasPrefix(a, "Bearer tok") && !bad && !old {
			_, _ = io.WriteString(w, "{}")
			return
		}
		h := `Bearer realm="` + tokens.URL + `/token",service="notary"`
		if bad {
			h += `,error="invalid_token"`
		}
		w.Header().Set("WWW-Authenticate", h)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer srv.Close()
	srvURL = srv.URL
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	at, err := client.NewAuthTransport(client.AuthOptions{ServerURL: srvURL, GUN: testGUN, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Transport: at}
	get := func() error {
		resp, err := hc.Get(srvURL + "/v2/" + testGUN + "/_trust/tuf/root.json")
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return issued }
	for range 3 {
		if err := get(); err != nil {
			t.Fatal(err)
		}
	}
	if n := count(); n != 1 {
		t.Errorf("%d tokens for three requests within the lifetime, want 1", n)
	}
	// The server revokes tok1: the next request gets a new token.
	mu.Lock()
	revoked["Bearer tok1"] = true
	mu.Unlock()
	if err := get(); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 2 {
		t.Errorf("%d tokens after a revocation, want 2", n)
	}
	// Past its lifetime tok2 is refused without a reason: only our clock
	// says to fetch a new one rather than send tok2 again.
	now = now.Add(301 * time.Second)
	mu.Lock()
	stale["Bearer tok2"] = true
	mu.Unlock()
	if err := get(); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 3 {
		t.Errorf("%d tokens after expiry, want 3", n)
	}
}
