package image_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/notary-go/notary/client"
	"github.com/notary-go/notary/image"
	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/passphrase"
	"github.com/notary-go/notary/registry"
	"github.com/notary-go/notary/registry/registrytest"
	"github.com/notary-go/notary/server"
	"github.com/notary-go/notary/server/keyservice"
	"github.com/notary-go/notary/storage/memory"
	"github.com/notary-go/notary/tuf"
)

// env is a trust server (ours, in-process on a memory store) and a fake
// registry (registrytest: an in-memory stand-in for the V2 endpoints).
type env struct {
	t        testing.TB
	reg      *registrytest.Registry
	notary   *httptest.Server
	trustDir string
	opts     image.Options
}

func newEnv(t testing.TB) *env {
	t.Helper()
	srv, err := server.New(server.Options{
		Store:  memory.New(),
		Keys:   keyservice.NewMemory(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, reg: registrytest.New(), notary: httptest.NewServer(srv), trustDir: t.TempDir()}
	t.Cleanup(func() { e.reg.Close(); e.notary.Close() })
	rc, err := registry.New(registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e.opts = image.Options{Registry: rc, Repository: e.repoIn(e.trustDir)}
	return e
}

func (e *env) repoIn(dir string) func(string) (*client.Repository, error) {
	return func(gun string) (*client.Repository, error) {
		return client.NewRepository(gun, client.Options{TrustDir: dir, ServerURL: e.notary.URL, Retriever: passphrase.Constant("pw")})
	}
}

func (e *env) repo(gun string) *client.Repository {
	r, err := e.opts.Repository(gun)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

func (e *env) push(repo, tag string, docker bool, seed string) string {
	mt, body := registrytest.ImageManifest(docker, seed)
	return e.reg.Put(repo, tag, mt, body)
}

// nothingPublished checks that the server has no trust data for gun and
// nothing is staged.
func (e *env) nothingPublished(gun string) {
	e.t.Helper()
	r := e.repo(gun)
	if _, err := r.ListTargets(context.Background()); !errors.Is(err, client.ErrRepositoryNotExist) {
		e.t.Errorf("ListTargets: err = %v, want ErrRepositoryNotExist", err)
	}
	cl, err := r.GetChangelist()
	if err != nil {
		e.t.Fatal(err)
	}
	if ch, _ := cl.List(); len(ch) != 0 {
		e.t.Errorf("%d changes staged, want none", len(ch))
	}
}

func TestSignVerifyByTag(t *testing.T) {
	ctx := context.Background()
	for _, docker := range []bool{true, false} {
		name := map[bool]string{true: "docker", false: "oci"}[docker]
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			dig := e.push("team/app", "1.0", docker, "v1")
			ref := e.reg.Host + "/team/app:1.0"
			s, err := image.SignImage(ctx, ref, image.SignOptions{Options: e.opts})
			if err != nil {
				t.Fatal(err)
			}
			if !s.Published || !s.Initialized || s.Digest != dig || s.GUN != e.reg.Host+"/team/app" || strings.Join(s.Roles, ",") != tuf.RoleTargets {
				t.Fatalf("Signed = %+v", s)
			}
			// The target is the Docker CLI's: name = tag, length, sha256 only.
			tgt, err := e.repo(s.GUN).GetTargetByName(ctx, "1.0")
			if err != nil {
				t.Fatal(err)
			}
			if tgt.Role != tuf.RoleTargets || tgt.Length != s.Size || len(tgt.Hashes) != 1 || tgt.Custom != nil {
				t.Fatalf("target = %+v", tgt)
			}
			// The snapshot key is the server's (docker push did that).
			ks, _ := e.repo(s.GUN).KeyStore()
			infos, _ := ks.List(ctx)
			for _, ki := range infos {
				if ki.Role == tuf.RoleSnapshot {
					t.Error("a snapshot key was created; the server should manage it")
				}
			}

			v, err := image.VerifyImage(ctx, ref, image.VerifyOptions{Options: e.opts})
			if err != nil {
				t.Fatal(err)
			}
			if v.Pinned != e.reg.Host+"/team/app@"+dig || v.Role != tuf.RoleTargets {
				t.Fatalf("Verified = %+v", v)
			}

			// A consumer with an empty trust directory verifies too.
			other := e.opts
			other.Repository = e.repoIn(t.TempDir())
			if _, err := image.VerifyImage(ctx, ref, image.VerifyOptions{Options: other}); err != nil {
				t.Fatalf("fresh consumer: %v", err)
			}

			// Re-push the tag with other content: verify fails, saying so.
			newDig := e.push("team/app", "1.0", docker, "v2")
			_, err = image.VerifyImage(ctx, ref, image.VerifyOptions{Options: e.opts})
			var me *image.MismatchError
			if !errors.As(err, &me) || me.Signed != dig || me.Served != newDig || !errors.Is(err, image.ErrMismatch) {
				t.Fatalf("after re-push: err = %v, want *MismatchError", err)
			}
		})
	}
}

func TestSignByDigest(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	dig := e.push("app", "", false, "built")
	ref := e.reg.Host + "/app@" + dig
	if _, err := image.SignImage(ctx, ref, image.SignOptions{Options: e.opts}); !errors.Is(err, registry.ErrNoTag) {
		t.Fatalf("digest without --tag: err = %v, want ErrNoTag", err)
	}
	if _, err := image.SignImage(ctx, e.reg.Host+"/app:x", image.SignOptions{Options: e.opts, Tag: "y"}); !errors.Is(err, image.ErrUsage) {
		t.Fatalf("--tag with a tag: err = %v, want ErrUsage", err)
	}
	s, err := image.SignImage(ctx, ref, image.SignOptions{Options: e.opts, Tag: "2.0"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Tag != "2.0" || s.Digest != dig {
		t.Fatalf("Signed = %+v", s)
	}
	// The tag is pushed later; verify by tag then works, and by digest
	// without any registry.
	e.reg.Put("app", "2.0", "application/vnd.oci.image.manifest.v1+json", mustFetch(t, e, ref))
	if _, err := image.VerifyImage(ctx, e.reg.Host+"/app:2.0", image.VerifyOptions{Options: e.opts}); err != nil {
		t.Fatal(err)
	}
	noReg := e.opts
	noReg.Registry = nil
	v, err := image.VerifyImage(ctx, ref, image.VerifyOptions{Options: noReg})
	if err != nil || v.Tag != "2.0" || v.Digest != dig {
		t.Fatalf("by digest: %+v, %v", v, err)
	}
	_, err = image.VerifyImage(ctx, e.reg.Host+"/app@"+registrytest.Digest([]byte("other")), image.VerifyOptions{Options: noReg})
	if !errors.Is(err, image.ErrNotSigned) {
		t.Fatalf("unsigned digest: err = %v, want ErrNotSigned", err)
	}
}

func mustFetch(t *testing.T, e *env, ref string) []byte {
	t.Helper()
	m, err := e.opts.Registry.FetchManifest(context.Background(), mustRef(t, ref))
	if err != nil {
		t.Fatal(err)
	}
	return m.Bytes
}

func mustRef(t *testing.T, s string) registry.Reference {
	t.Helper()
	r, err := registry.ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestIndex(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	amd := e.push("multi", "", false, "amd64")
	arm := e.push("multi", "", false, "arm64")
	imt, ibody := registrytest.Index([][2]string{{amd, "linux/amd64"}, {arm, "linux/arm64/v8"}})
	idx := e.reg.Put("multi", "latest", imt, ibody)
	ref := e.reg.Host + "/multi:latest"
	s, err := image.SignImage(ctx, ref, image.SignOptions{Options: e.opts})
	if err != nil {
		t.Fatal(err)
	}
	if s.Digest != idx || len(s.Platforms) != 2 {
		t.Fatalf("Signed = %+v", s)
	}
	tgt, err := e.repo(s.GUN).GetTargetByName(ctx, "latest")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(tgt.Custom), arm) || !strings.Contains(string(tgt.Custom), `"os":"linux"`) {
		t.Fatalf("custom = %s, want the children and platforms", tgt.Custom)
	}
	noReg := e.opts
	noReg.Registry = nil
	tests := []struct {
		name     string
		ref      string
		platform string
		opts     image.Options
		want     string
		wantErr  error
	}{
		{name: "index by tag", ref: ref, opts: e.opts, want: idx},
		{name: "platform child", ref: ref, platform: "linux/arm64", opts: e.opts, want: arm},
		{name: "platform with variant", ref: ref, platform: "linux/arm64/v8", opts: e.opts, want: arm},
		{name: "missing platform", ref: ref, platform: "windows/amd64", opts: e.opts, wantErr: image.ErrPlatform},
		{name: "child by digest", ref: e.reg.Host + "/multi@" + amd, opts: noReg, want: amd},
		{name: "index digest with platform", ref: e.reg.Host + "/multi@" + idx, platform: "linux/amd64", opts: noReg, want: amd},
		{name: "child digest of other platform", ref: e.reg.Host + "/multi@" + amd, platform: "linux/arm64", opts: noReg, wantErr: image.ErrNotSigned},
		{name: "tag and child digest", ref: ref + "@" + arm, opts: e.opts, want: arm},
		{name: "bad platform", ref: ref, platform: "linux", opts: e.opts, wantErr: image.ErrUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := image.VerifyImage(ctx, tt.ref, image.VerifyOptions{Options: tt.opts, Platform: tt.platform})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if v.Digest != tt.want || v.Pinned != e.reg.Host+"/multi@"+tt.want || v.Tag != "latest" {
				t.Fatalf("got %+v, want digest %s", v, tt.want)
			}
		})
	}
	// A single-platform image has no platform to choose.
	e.push("multi", "single", false, "single")
	if _, err := image.SignImage(ctx, e.reg.Host+"/multi:single", image.SignOptions{Options: e.opts}); err != nil {
		t.Fatal(err)
	}
	_, err = image.VerifyImage(ctx, e.reg.Host+"/multi:single", image.VerifyOptions{Options: e.opts, Platform: "linux/amd64"})
	var pe *image.PlatformError
	if !errors.As(err, &pe) || !pe.NotIndex {
		t.Fatalf("platform of a single image: err = %v", err)
	}
}

func TestVerifyUnsigned(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.push("app", "signed", true, "a")
	e.push("app", "unsigned", true, "b")
	_, err := image.VerifyImage(ctx, e.reg.Host+"/app:signed", image.VerifyOptions{Options: e.opts})
	var ns *image.NotSignedError
	if !errors.As(err, &ns) || !ns.NoTrustData {
		t.Fatalf("no trust data: err = %v", err)
	}
	if _, err := image.SignImage(ctx, e.reg.Host+"/app:signed", image.SignOptions{Options: e.opts}); err != nil {
		t.Fatal(err)
	}
	_, err = image.VerifyImage(ctx, e.reg.Host+"/app:unsigned", image.VerifyOptions{Options: e.opts})
	if !errors.As(err, &ns) || ns.NoTrustData || ns.Tag != "unsigned" {
		t.Fatalf("unsigned tag: err = %v", err)
	}
	// --role requires that role.
	_, err = image.VerifyImage(ctx, e.reg.Host+"/app:signed", image.VerifyOptions{Options: e.opts, Role: image.ReleasesRole})
	if !errors.Is(err, image.ErrNotSigned) {
		t.Fatalf("--role targets/releases: err = %v, want ErrNotSigned", err)
	}
	// The registry is gone: a registry error, not a verdict.
	e.reg.Close()
	_, err = image.VerifyImage(ctx, e.reg.Host+"/app:signed", image.VerifyOptions{Options: e.opts})
	if !errors.Is(err, registry.ErrUnreachable) {
		t.Fatalf("registry down: err = %v, want ErrUnreachable", err)
	}
}

func TestSignBadInputPublishesNothing(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	mt, body := registrytest.ImageManifest(true, "x")
	e.reg.Put("app", "good", mt, body)
	e.reg.Put("app", "wronghdr", mt, body)
	e.reg.WrongDigestHeader("app", "wronghdr", registrytest.Digest([]byte("other")))
	big := []byte(`{"mediaType":"` + mt + `","pad":"` + strings.Repeat("a", registry.MaxManifestSize) + `"}`)
	e.reg.Put("app", "big", mt, big)

	authReg := registrytest.New()
	defer authReg.Close()
	authReg.RequireBasic("u", "p")
	authReg.Put("app", "good", mt, body)

	tests := []struct {
		name string
		refs []string
		gun  string
		want error
	}{
		{name: "no tag", refs: []string{e.reg.Host + "/app:good", e.reg.Host + "/app"}, gun: e.reg.Host + "/app", want: registry.ErrNoTag},
		{name: "no host", refs: []string{"app:good"}, gun: e.reg.Host + "/app", want: registry.ErrInvalidReference},
		{name: "unknown host", refs: []string{"no-such-registry.invalid/app:good"}, gun: "no-such-registry.invalid/app", want: registry.ErrUnreachable},
		{name: "manifest over 4 MiB", refs: []string{e.reg.Host + "/app:good", e.reg.Host + "/app:big"}, gun: e.reg.Host + "/app", want: registry.ErrManifestTooLarge},
		{name: "wrong Docker-Content-Digest", refs: []string{e.reg.Host + "/app:wronghdr"}, gun: e.reg.Host + "/app", want: registry.ErrDigestMismatch},
		{name: "401 without credentials", refs: []string{authReg.Host + "/app:good"}, gun: authReg.Host + "/app", want: registry.ErrUnauthorized},
		{name: "unknown tag", refs: []string{e.reg.Host + "/app:nope"}, gun: e.reg.Host + "/app", want: registry.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := image.SignImages(ctx, tt.refs, image.SignOptions{Options: e.opts})
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			e.nothingPublished(tt.gun)
		})
	}
}

func TestSignNoPublishThenPublish(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.push("app", "a", true, "a")
	e.push("app", "b", true, "b")
	for _, tag := range []string{"a", "b"} {
		s, err := image.SignImage(ctx, e.reg.Host+"/app:"+tag, image.SignOptions{Options: e.opts, NoPublish: true})
		if err != nil || s.Published {
			t.Fatalf("%s: %+v %v", tag, s, err)
		}
	}
	r := e.repo(e.reg.Host + "/app")
	if err := r.Publish(ctx); err != nil {
		t.Fatal(err)
	}
	ts, err := r.ListTargets(ctx)
	if err != nil || len(ts) != 2 {
		t.Fatalf("targets = %v, %v", ts, err)
	}
}

// delegate adds targets/releases and targets/<signer> with a new key held
// in the trust directory, as `docker trust signer add` does.
func delegate(t *testing.T, e *env, gun, signer string) {
	t.Helper()
	ctx := context.Background()
	r := e.repo(gun)
	ks, err := r.KeyStore()
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ks.Create(ctx, "targets/"+signer, gun, keys.ECDSA)
	if err != nil {
		t.Fatal(err)
	}
	for _, role := range []string{image.ReleasesRole, "targets/" + signer} {
		if err := r.AddDelegation(ctx, role, []keys.PublicKey{pub}, []string{""}); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Publish(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestDelegationsAndInspectAndRevoke(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	gun := e.reg.Host + "/app"
	d1 := e.push("app", "v1", true, "1")
	if _, err := image.SignImage(ctx, gun+":v1", image.SignOptions{Options: e.opts}); err != nil {
		t.Fatal(err)
	}
	delegate(t, e, gun, "alice")
	d2 := e.push("app", "v2", true, "2")
	s, err := image.SignImage(ctx, gun+":v2", image.SignOptions{Options: e.opts})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(s.Roles, ","); got != "targets/releases,targets/alice" && got != "targets/alice,targets/releases" {
		t.Fatalf("roles = %s, want targets/releases and targets/alice", got)
	}
	v, err := image.VerifyImage(ctx, gun+":v2", image.VerifyOptions{Options: e.opts})
	if err != nil || v.Role != image.ReleasesRole {
		t.Fatalf("verify v2: %+v %v", v, err)
	}
	if _, err := image.VerifyImage(ctx, gun+":v2", image.VerifyOptions{Options: e.opts, Role: "targets/alice"}); err != nil {
		t.Fatalf("--role targets/alice: %v", err)
	}

	info, err := image.InspectImage(ctx, gun, image.InspectOptions{Options: e.opts})
	if err != nil {
		t.Fatal(err)
	}
	hex := func(d string) string { return strings.TrimPrefix(d, "sha256:") }
	if len(info.SignedTags) != 2 ||
		!sameTag(info.SignedTags[0], "v1", hex(d1), "Repo Admin") ||
		!sameTag(info.SignedTags[1], "v2", hex(d2), "alice") {
		t.Fatalf("SignedTags = %+v", info.SignedTags)
	}
	if len(info.Signers) != 1 || info.Signers[0].Name != "alice" || len(info.Signers[0].Keys) != 1 {
		t.Fatalf("Signers = %+v", info.Signers)
	}
	if len(info.AdministrativeKeys) != 2 || info.AdministrativeKeys[0].Name != "Root" || info.AdministrativeKeys[1].Name != "Repository" {
		t.Fatalf("AdministrativeKeys = %+v", info.AdministrativeKeys)
	}
	// The JSON is docker trust inspect's schema.
	raw, _ := json.Marshal(info)
	var generic map[string]any
	_ = json.Unmarshal(raw, &generic)
	for _, k := range []string{"Name", "SignedTags", "Signers", "AdministrativeKeys"} {
		if _, ok := generic[k]; !ok {
			t.Errorf("JSON lacks %s: %s", k, raw)
		}
	}
	if !strings.Contains(string(raw), `"SignedTag":"v2"`) || !strings.Contains(string(raw), `"Keys":[{"ID":"`) {
		t.Errorf("JSON = %s", raw)
	}
	one, err := image.InspectImage(ctx, gun+":v1", image.InspectOptions{Options: e.opts})
	if err != nil || len(one.SignedTags) != 1 || one.Name != gun+":v1" {
		t.Fatalf("inspect one tag: %+v %v", one, err)
	}

	// Someone without alice's key cannot sign once signers exist.
	stranger := e.opts
	stranger.Repository = e.repoIn(t.TempDir())
	e.push("app", "v3", true, "3")
	_, err = image.SignImage(ctx, gun+":v3", image.SignOptions{Options: stranger})
	if !errors.Is(err, image.ErrNoSigningRole) {
		t.Fatalf("stranger: err = %v, want ErrNoSigningRole", err)
	}

	// Revoke one tag, then all.
	rv, err := image.RevokeImage(ctx, gun+":v2", image.RevokeOptions{Options: e.opts})
	if err != nil || !rv.Published || len(rv.Tags) != 1 {
		t.Fatalf("revoke v2: %+v %v", rv, err)
	}
	if _, err := image.VerifyImage(ctx, gun+":v2", image.VerifyOptions{Options: e.opts}); !errors.Is(err, image.ErrNotSigned) {
		t.Fatalf("after revoke: err = %v", err)
	}
	if _, err := image.RevokeImage(ctx, gun+":v2", image.RevokeOptions{Options: e.opts}); !errors.Is(err, image.ErrNotSigned) {
		t.Fatalf("revoke again: err = %v", err)
	}
	// v1 is in "targets": revoking everything needs the targets key too,
	// which this trust directory holds, but the Docker rule signs (and
	// revokes) only in the signer roles once they exist.
	if _, err := image.RevokeImage(ctx, gun, image.RevokeOptions{Options: e.opts}); err != nil {
		t.Fatalf("revoke all: %v", err)
	}
	if _, err := image.RevokeImage(ctx, gun+"@"+d1, image.RevokeOptions{Options: e.opts}); !errors.Is(err, image.ErrUsage) {
		t.Fatalf("revoke by digest: err = %v", err)
	}
}

func sameTag(s image.SignedTag, tag, digest, signer string) bool {
	return s.SignedTag == tag && s.Digest == digest && len(s.Signers) == 1 && s.Signers[0] == signer
}

func TestRevokeAllTargetsRole(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	gun := e.reg.Host + "/app"
	e.push("app", "a", true, "a")
	e.push("app", "b", true, "b")
	if _, err := image.SignImages(ctx, []string{gun + ":a", gun + ":b"}, image.SignOptions{Options: e.opts}); err != nil {
		t.Fatal(err)
	}
	rv, err := image.RevokeImage(ctx, gun, image.RevokeOptions{Options: e.opts})
	if err != nil || len(rv.Tags) != 2 {
		t.Fatalf("revoke all: %+v %v", rv, err)
	}
	ts, err := e.repo(gun).ListTargets(ctx)
	if err != nil || len(ts) != 0 {
		t.Fatalf("targets after revoke all: %v %v", ts, err)
	}
	if _, err := image.RevokeImage(ctx, gun, image.RevokeOptions{Options: e.opts}); !errors.Is(err, image.ErrNotSigned) {
		t.Fatalf("revoke all of nothing: err = %v", err)
	}
}

func TestTrustServers(t *testing.T) {
	m := map[string]string{"reg.example.com": "https://notary.example.com", "other.example.com:5000": "https://n2.example.com:4443"}
	tests := []struct {
		name string
		ts   image.TrustServers
		host string
		want string
	}{
		{name: "docker default", host: "reg.example.com", want: "https://reg.example.com"},
		{name: "docker default with port", host: "reg.example.com:5000", want: "https://reg.example.com:5000"},
		{name: "docker hub", host: "docker.io", want: "https://notary.docker.io"},
		{name: "per registry", ts: image.TrustServers{PerRegistry: m}, host: "reg.example.com", want: "https://notary.example.com"},
		{name: "per registry by host name", ts: image.TrustServers{PerRegistry: m}, host: "reg.example.com:443", want: "https://notary.example.com"},
		{name: "per registry with port", ts: image.TrustServers{PerRegistry: m}, host: "other.example.com:5000", want: "https://n2.example.com:4443"},
		{name: "default when not mapped", ts: image.TrustServers{PerRegistry: m, Default: "https://x"}, host: "third.example.com", want: "https://x"},
		{name: "map beats default", ts: image.TrustServers{PerRegistry: m, Default: "https://x"}, host: "reg.example.com", want: "https://notary.example.com"},
		{name: "env beats all", ts: image.TrustServers{Env: "https://env", PerRegistry: m, Default: "https://x"}, host: "reg.example.com", want: "https://env"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.ts.For(tt.host); got != tt.want {
				t.Fatalf("For(%s) = %s, want %s", tt.host, got, tt.want)
			}
		})
	}
	if err := (image.TrustServers{PerRegistry: map[string]string{"r": "notary.example.com"}}).Validate(); err == nil {
		t.Error("a URL without scheme was accepted")
	}
}

func TestSignableRoles(t *testing.T) {
	dels := []client.DelegationRole{
		{Name: "targets/releases", KeyIDs: []string{"k1"}, Paths: []string{""}},
		{Name: "targets/alice", KeyIDs: []string{"k1"}, Paths: []string{""}},
		{Name: "targets/bob", KeyIDs: []string{"k2"}, Paths: []string{""}},
		{Name: "targets/alice/nested", KeyIDs: []string{"k1"}, Paths: []string{""}},
		{Name: "targets/prod", KeyIDs: []string{"k1"}, Paths: []string{"prod-"}},
	}
	tests := []struct {
		name  string
		dels  []client.DelegationRole
		held  map[string]bool
		tag   string
		want  string
		noKey bool
	}{
		{name: "no delegations", tag: "1", want: "targets"},
		{name: "held key, direct children only", dels: dels, held: map[string]bool{"k1": true}, tag: "1", want: "targets/releases,targets/alice"},
		{name: "paths allow", dels: dels, held: map[string]bool{"k1": true}, tag: "prod-1", want: "targets/releases,targets/alice,targets/prod"},
		{name: "other key", dels: dels, held: map[string]bool{"k2": true}, tag: "1", want: "targets/bob"},
		{name: "no key", dels: dels, held: map[string]bool{"k3": true}, tag: "1", noKey: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := image.SignableRoles("gun", tt.tag, tt.dels, tt.held)
			if tt.noKey {
				if !errors.Is(err, image.ErrNoSigningRole) {
					t.Fatalf("err = %v, want ErrNoSigningRole", err)
				}
				return
			}
			if err != nil || strings.Join(got, ",") != tt.want {
				t.Fatalf("got %v, %v; want %s", got, err, tt.want)
			}
		})
	}
}
