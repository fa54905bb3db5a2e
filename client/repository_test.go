package client_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/notary-go/notary/api"
	"github.com/notary-go/notary/client"
	"github.com/notary-go/notary/passphrase"
	"github.com/notary-go/notary/tuf"
	"github.com/notary-go/notary/update"
)

const testGUN = "example.com/lib"

// hookedServer is exampleServer with a hook that may answer first.
func hookedServer(t *testing.T) (*httptest.Server, func(func(http.ResponseWriter, *http.Request) bool)) {
	t.Helper()
	inner := exampleServer()
	t.Cleanup(inner.Close)
	var (
		mu   sync.Mutex
		hook func(http.ResponseWriter, *http.Request) bool
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		h := hook
		mu.Unlock()
		if h != nil && h(w, r) {
			return
		}
		inner.Config.Handler.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, func(h func(http.ResponseWriter, *http.Request) bool) {
		mu.Lock()
		hook = h
		mu.Unlock()
	}
}

func newRepo(t *testing.T, serverURL string, opts ...func(*client.Options)) *client.Repository {
	t.Helper()
	o := client.Options{TrustDir: t.TempDir(), ServerURL: serverURL, Retriever: passphrase.Constant("passphrase")}
	for _, f := range opts {
		f(&o)
	}
	r, err := client.NewRepository(testGUN, o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func addTarget(t *testing.T, r *client.Repository, name string, roles ...string) {
	t.Helper()
	tg, err := client.NewTarget(name, strings.NewReader(name), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.AddTarget(context.Background(), tg, roles...); err != nil {
		t.Fatal(err)
	}
}

func version(t *testing.T, r *client.Repository, role string) int64 {
	t.Helper()
	data, err := r.Cache().Load(role)
	if err != nil {
		t.Fatalf("cached %s: %v", role, err)
	}
	md, _, err := tuf.ParseRole(role, data)
	if err != nil {
		t.Fatal(err)
	}
	return md.Common().Version
}

// TestFirstPublishVersions: like v0.7.0, init signs version 1 locally and
// the first publish re-signs targets and snapshot (version 2), while root
// goes up as it is (docs/upstream-notes.md §1.1).
func TestFirstPublishVersions(t *testing.T) {
	srv := exampleServer()
	defer srv.Close()
	ctx := context.Background()
	r := newRepo(t, srv.URL)
	if _, err := r.Initialize(ctx, client.InitOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, role := range []string{"root", "targets", "snapshot"} {
		if v := version(t, r, role); v != 1 {
			t.Errorf("after init, %s is version %d", role, v)
		}
	}
	if err := r.Publish(ctx); err != nil {
		t.Fatal(err)
	}
	for role, want := range map[string]int64{"root": 1, "targets": 2, "snapshot": 2} {
		if v := version(t, r, role); v != want {
			t.Errorf("after the first publish, %s is version %d, want %d", role, v, want)
		}
	}
	// A second Initialize is refused: the server has the collection.
	if _, err := r.Initialize(ctx, client.InitOptions{}); !errors.Is(err, client.ErrRepositoryExists) {
		t.Errorf("second Initialize = %v", err)
	}
}

// TestServerManagedSnapshot is the Docker CLI's way: the server signs the
// snapshot.
func TestServerManagedSnapshot(t *testing.T) {
	srv := exampleServer()
	defer srv.Close()
	ctx := context.Background()
	r := newRepo(t, srv.URL)
	if _, err := r.Initialize(ctx, client.InitOptions{ServerManagedSnapshot: true}); err != nil {
		t.Fatal(err)
	}
	addTarget(t, r, "a")
	if err := r.Publish(ctx); err != nil {
		t.Fatal(err)
	}
	ks, _ := r.KeyStore()
	infos, _ := ks.List(ctx)
	for _, ki := range infos {
		if ki.Role == "snapshot" {
			t.Errorf("a snapshot key was made: %v", ki)
		}
	}
	got, err := newRepo(t, srv.URL).ListTargets(ctx)
	if err != nil || len(got) != 1 || got[0].Name != "a" {
		t.Errorf("ListTargets = %v, %v", got, err)
	}
}

func TestPublishErrors(t *testing.T) {
	srv, setHook := hookedServer(t)
	ctx := context.Background()
	r := newRepo(t, srv.URL)
	if _, err := r.Initialize(ctx, client.InitOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := r.Publish(ctx); err != nil {
		t.Fatal(err)
	}

	// 400 VERSION: a conflict, the changes stay staged.
	addTarget(t, r, "a")
	setHook(func(w http.ResponseWriter, req *http.Request) bool {
		if req.Method == http.MethodPost {
			api.WriteError(w, api.NewError(api.CodeOldVersion, api.EmptyDetail))
			return true
		}
		return false
	})
	err := r.Publish(ctx)
	var pc *client.PublishConflictError
	if !errors.As(err, &pc) || !errors.Is(err, client.ErrConflict) || !errors.Is(err, api.ErrVersion) {
		t.Fatalf("Publish = %v", err)
	}
	cl, _ := r.GetChangelist()
	if ch, _ := cl.List(); len(ch) != 1 {
		t.Errorf("%d changes staged after a conflict", len(ch))
	}

	// A validation failure is a ServerError of kind Rejected.
	setHook(func(w http.ResponseWriter, req *http.Request) bool {
		if req.Method == http.MethodPost {
			api.WriteError(w, api.NewError(api.CodeInvalidUpdate, &api.ValidationError{Name: api.ErrNameBadTargets, Msg: "nope"}))
			return true
		}
		return false
	})
	err = r.Publish(ctx)
	var se *client.ServerError
	if !errors.As(err, &se) || se.Kind != client.KindRejected || !strings.Contains(err.Error(), "ErrBadTargets: nope") {
		t.Fatalf("Publish = %v", err)
	}

	// Changes staged while a publish runs are kept.
	setHook(func(w http.ResponseWriter, req *http.Request) bool {
		if req.Method == http.MethodPost {
			addTarget(t, r, "during")
		}
		return false
	})
	if err := r.Publish(ctx); err != nil {
		t.Fatal(err)
	}
	setHook(nil)
	ch, _ := cl.List()
	if len(ch) != 1 || ch[0].Path != "during" {
		t.Errorf("staged after publish: %v", ch)
	}
}

func TestOfflineRead(t *testing.T) {
	srv := exampleServer()
	ctx := context.Background()
	r := newRepo(t, srv.URL)
	r.Initialize(ctx, client.InitOptions{})
	addTarget(t, r, "a")
	if err := r.Publish(ctx); err != nil {
		t.Fatal(err)
	}
	var warnings []error
	consumer := newRepo(t, srv.URL, func(o *client.Options) { o.OnWarning = func(err error) { warnings = append(warnings, err) } })
	if _, err := consumer.ListTargets(ctx); err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings online: %v", warnings)
	}
	srv.Close()
	got, err := consumer.ListTargets(ctx)
	if err != nil || len(got) != 1 {
		t.Fatalf("offline ListTargets = %v, %v", got, err)
	}
	var ow *client.OfflineWarning
	if len(warnings) != 1 || !errors.As(warnings[0], &ow) || !errors.Is(warnings[0], update.ErrOffline) {
		t.Errorf("warnings offline: %v", warnings)
	}
	// Publishing needs the server.
	addTarget(t, consumer, "b")
	if err := consumer.Publish(ctx); !errors.Is(err, client.ErrServerUnreachable) {
		t.Errorf("offline Publish = %v", err)
	}
	// Without a server, reads use the cache only.
	cacheOnly, _ := client.NewRepository(testGUN, client.Options{TrustDir: consumer.TrustDir()})
	if got, err := cacheOnly.ListTargets(ctx); err != nil || len(got) != 1 {
		t.Errorf("cache-only ListTargets = %v, %v", got, err)
	}
	if err := cacheOnly.Publish(ctx); !errors.Is(err, client.ErrNoServer) {
		t.Errorf("Publish without a server = %v", err)
	}
}

func TestRotateKeyRules(t *testing.T) {
	r := newRepo(t, "http://127.0.0.1:1")
	ctx := context.Background()
	for _, tc := range []struct {
		role          string
		serverManaged bool
		want          string
	}{
		{"targets/x", false, "notary does not currently permit rotating the targets/x key"},
		{"nope", true, "notary does not currently permit rotating the nope key"},
		{"root", true, "notary does not permit the server managing the root key"},
		{"targets", true, "notary does not permit the server managing the targets key"},
		{"timestamp", false, "notary does not permit the client managing the timestamp key"},
	} {
		err := r.RotateKey(ctx, tc.role, client.RotateOptions{ServerManaged: tc.serverManaged})
		if !errors.Is(err, client.ErrRotation) || err.Error() != tc.want {
			t.Errorf("RotateKey(%s, %v) = %v", tc.role, tc.serverManaged, err)
		}
	}
}

func TestApplyError(t *testing.T) {
	srv := exampleServer()
	defer srv.Close()
	ctx := context.Background()
	r := newRepo(t, srv.URL)
	r.Initialize(ctx, client.InitOptions{})
	addTarget(t, r, "ok")
	addTarget(t, r, "bad", "targets/nosuchdelegation")
	err := r.Publish(ctx)
	var ae *client.ApplyError
	if !errors.As(err, &ae) || ae.Index != 1 || ae.Change.Scope != "targets/nosuchdelegation" {
		t.Fatalf("Publish = %v", err)
	}
	cl, _ := r.GetChangelist()
	if ch, _ := cl.List(); len(ch) != 2 {
		t.Errorf("%d changes left", len(ch))
	}
	if _, err := r.ListTargets(ctx); !errors.Is(err, client.ErrRepositoryNotExist) {
		t.Errorf("nothing should have been published: %v", err)
	}
}

func TestWitnessAndDelete(t *testing.T) {
	srv := exampleServer()
	defer srv.Close()
	ctx := context.Background()
	r := newRepo(t, srv.URL)
	r.Initialize(ctx, client.InitOptions{})
	r.Publish(ctx)
	v := version(t, r, "targets")
	done, err := r.Witness(ctx, "targets")
	if err != nil || len(done) != 1 {
		t.Fatal(done, err)
	}
	if done, err := r.Witness(ctx, "targets", "root"); err == nil || len(done) != 1 {
		t.Errorf("Witness(root) = %v, %v", done, err)
	}
	if err := r.Publish(ctx); err != nil {
		t.Fatal(err)
	}
	if got := version(t, r, "targets"); got != v+1 {
		t.Errorf("witnessed targets is version %d, want %d", got, v+1)
	}
	if err := r.DeleteTrustData(ctx, true); err != nil {
		t.Fatal(err)
	}
	if roles, _ := r.Cache().Roles(); len(roles) != 0 {
		t.Errorf("cache after delete: %v", roles)
	}
	if _, err := newRepo(t, srv.URL).ListTargets(ctx); !errors.Is(err, client.ErrRepositoryNotExist) {
		t.Errorf("ListTargets after remote delete = %v", err)
	}
	if _, err := filepath.Abs(r.TrustDir()); err != nil {
		t.Fatal(err)
	}
}
