// Package bridgesbench measures leaving Docker Content Trust at scale:
// archiving a collection of 1,000 signed tags, and converting 1,000
// signed tags to cosign and Notation signatures (bench/bridges.md). It is
// a benchmark, not a test: run
//
//	go test -run '^$' -bench . -benchtime 3x -count 5 ./bench/bridgesbench/
//
// Everything is in-process: our trust server on a memory store
// (httptest), the registrytest fake with pushes, the client library,
// archive and convert, as the CLI wires them.
package bridgesbench

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/notary-go/notary/archive"
	"github.com/notary-go/notary/client"
	"github.com/notary-go/notary/convert"
	"github.com/notary-go/notary/image"
	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/passphrase"
	"github.com/notary-go/notary/registry"
	"github.com/notary-go/notary/registry/registrytest"
	"github.com/notary-go/notary/server"
	"github.com/notary-go/notary/server/keyservice"
	"github.com/notary-go/notary/storage/memory"
)

const tags = 1000

type env struct {
	srv    *httptest.Server
	reg    *registrytest.Registry
	rc     *registry.Client
	trust  string
	refs   []string
	gun    string
	bodies [][]byte
}

func (e *env) repo(dir string) func(string) (*client.Repository, error) {
	return func(gun string) (*client.Repository, error) {
		return client.NewRepository(gun, client.Options{TrustDir: dir, ServerURL: e.srv.URL, Retriever: passphrase.Constant("bench")})
	}
}

// setup signs tags images of one repository (one publish).
func setup(b *testing.B) *env {
	b.Helper()
	s, err := server.New(server.Options{Store: memory.New(), Keys: keyservice.NewMemory(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	e := &env{srv: httptest.NewServer(s), reg: registrytest.New(), trust: b.TempDir()}
	b.Cleanup(e.srv.Close)
	b.Cleanup(e.reg.Close)
	e.rc, err = registry.New(registry.Options{})
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < tags; i++ {
		mt, body := registrytest.ImageManifest(false, fmt.Sprint("img", i))
		e.reg.Put("team/app", fmt.Sprint("t", i), mt, body)
		e.bodies = append(e.bodies, body)
		e.refs = append(e.refs, fmt.Sprintf("%s/team/app:t%d", e.reg.Host, i))
	}
	e.gun = e.reg.Host + "/team/app"
	if _, err := image.SignImages(context.Background(), e.refs, image.SignOptions{Options: image.Options{Registry: e.rc, Repository: e.repo(e.trust)}}); err != nil {
		b.Fatal(err)
	}
	return e
}

// BenchmarkArchive1000: verify the collection (fresh trust directory:
// root TOFU, every file downloaded) and write the archive; then a rerun
// with nothing changed.
func BenchmarkArchive1000(b *testing.B) {
	e := setup(b)
	ctx := context.Background()
	key, err := keys.Generate(keys.ECDSA)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("first", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			out, trust := b.TempDir(), b.TempDir()
			b.StartTimer()
			archiveOnce(b, ctx, e, trust, out, key)
		}
	})
	b.Run("rerun-unchanged", func(b *testing.B) {
		out, trust := b.TempDir(), b.TempDir()
		archiveOnce(b, ctx, e, trust, out, key)
		b.ResetTimer()
		for b.Loop() {
			archiveOnce(b, ctx, e, trust, out, key)
		}
	})
}

func archiveOnce(b *testing.B, ctx context.Context, e *env, trust, out string, key *keys.PrivateKey) {
	r, err := e.repo(trust)(e.gun)
	if err != nil {
		b.Fatal(err)
	}
	exp, err := r.Export(ctx)
	if err != nil {
		b.Fatal(err)
	}
	col, err := archive.FilesOf(e.gun, exp.Repo, exp.OlderRoots)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := (&archive.Writer{Dir: out, Key: key}).Add(col); err != nil {
		b.Fatal(err)
	}
	if _, _, err := archive.Verify(out, nil); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkConvert1000: verify 1,000 tags through TUF (one update for the
// repository, as the CLI does) and against the registry, then write a
// cosign and a Notation signature (tag fallback) for each, into a fresh
// registry each iteration; then a rerun where everything is present.
func BenchmarkConvert1000(b *testing.B) {
	e := setup(b)
	ctx := context.Background()
	sk, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	cert, err := convert.SelfIssuedCertificate(sk, "bench", time.Now(), time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	// A registry serving the signed manifests, with pushes.
	fresh := func() (*registrytest.Registry, []string) {
		reg := registrytest.New()
		reg.EnablePush(false)
		refs := make([]string, tags)
		for i, body := range e.bodies {
			mt, _ := registrytest.ImageManifest(false, fmt.Sprint("img", i))
			reg.Put("team/app", fmt.Sprint("t", i), mt, body)
			refs[i] = fmt.Sprintf("%s/team/app:t%d", reg.Host, i)
		}
		return reg, refs
	}
	run := func(b *testing.B, refs []string) {
		// The trust data is the original registry's GUN: read it under
		// that name, check the digests against this registry.
		opts := image.Options{Registry: e.rc, Repository: func(string) (*client.Repository, error) { return e.repo(e.trust)(e.gun) }}
		cos := &convert.Cosign{Registry: e.rc, Key: sk}
		not := &convert.Notation{Registry: e.rc, Key: sk, Chain: []*x509.Certificate{cert}}
		// As the CLI: one trust data update for the repository.
		vs, errs := image.VerifyImages(ctx, refs, image.VerifyOptions{Options: opts})
		for i := range refs {
			v, err := vs[i], errs[i]
			if err != nil {
				b.Fatal(err)
			}
			subj, err := e.rc.Resolve(ctx, registry.Reference{Host: v.Ref.Host, Repository: v.Ref.Repository, Digest: v.SignedDigest})
			if err != nil {
				b.Fatal(err)
			}
			t := convert.Target{Ref: v.Ref, GUN: e.gun, Role: v.Role, Subject: subj}
			if _, err := cos.Convert(ctx, t); err != nil {
				b.Fatal(err)
			}
			if _, err := not.Convert(ctx, t); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("first", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			reg, refs := fresh()
			b.StartTimer()
			run(b, refs)
			b.StopTimer()
			reg.Close()
			b.StartTimer()
		}
	})
	b.Run("rerun-present", func(b *testing.B) {
		reg, refs := fresh()
		defer reg.Close()
		run(b, refs)
		b.ResetTimer()
		for b.Loop() {
			run(b, refs)
		}
	})
}

// BenchmarkArchive100Collections: 100 collections of 10 tags each (one
// signed image each), verified and archived in one manifest write, as
// `notary archive GUN...` does.
func BenchmarkArchive100Collections(b *testing.B) {
	const n = 100
	s, err := server.New(server.Options{Store: memory.New(), Keys: keyservice.NewMemory(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	e := &env{srv: httptest.NewServer(s), reg: registrytest.New(), trust: b.TempDir()}
	defer e.srv.Close()
	defer e.reg.Close()
	if e.rc, err = registry.New(registry.Options{}); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var guns []string
	for c := 0; c < n; c++ {
		var refs []string
		for i := 0; i < 10; i++ {
			mt, body := registrytest.ImageManifest(false, fmt.Sprint("c", c, "i", i))
			e.reg.Put(fmt.Sprint("team/app", c), fmt.Sprint("t", i), mt, body)
			refs = append(refs, fmt.Sprintf("%s/team/app%d:t%d", e.reg.Host, c, i))
		}
		if _, err := image.SignImages(ctx, refs, image.SignOptions{Options: image.Options{Registry: e.rc, Repository: e.repo(e.trust)}}); err != nil {
			b.Fatal(err)
		}
		guns = append(guns, fmt.Sprintf("%s/team/app%d", e.reg.Host, c))
	}
	key, err := keys.Generate(keys.ECDSA)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		b.StopTimer()
		out, trust := b.TempDir(), b.TempDir()
		b.StartTimer()
		var cols []archive.Collection
		for _, g := range guns {
			r, err := e.repo(trust)(g)
			if err != nil {
				b.Fatal(err)
			}
			exp, err := r.Export(ctx)
			if err != nil {
				b.Fatal(err)
			}
			col, err := archive.FilesOf(g, exp.Repo, exp.OlderRoots)
			if err != nil {
				b.Fatal(err)
			}
			cols = append(cols, col)
		}
		if _, err := (&archive.Writer{Dir: out, Key: key}).Add(cols...); err != nil {
			b.Fatal(err)
		}
	}
}
