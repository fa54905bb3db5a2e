package collection_test

import (
	"context"
	"errors"
	"maps"
	"testing"
	"time"

	"github.com/notary-go/notary/collection"
	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/tuf"
)

const testGUN = "example.com/app"

// t0 is the fixture's first publish time, in a zone other than UTC, as v1
// writes the local zone.
var t0 = time.Date(2026, 3, 4, 5, 6, 7, 891234500, time.FixedZone("EST", -5*3600))

// repo is a published repository and the publisher's keys: root (as a
// certificate), targets and snapshot in the lookup; timestamp held by the
// "server" only.
type repo struct {
	t                                 testing.TB
	now                               time.Time
	root, targets, snapshot, timestmp *keys.PrivateKey
	rootPub                           keys.PublicKey
	lookup                            *memKeys
	trusted                           collection.Trusted
}

func genKey(t testing.TB, typ string) *keys.PrivateKey {
	t.Helper()
	k, err := keys.Generate(typ)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// newRepo initialises and publishes a repository.
func newRepo(t testing.TB) *repo {
	t.Helper()
	r := &repo{t: t, now: t0}
	r.root, r.targets, r.snapshot, r.timestmp = genKey(t, keys.ECDSA), genKey(t, keys.ECDSA), genKey(t, keys.ECDSA), genKey(t, keys.ED25519)
	var err error
	if r.rootPub, err = collection.RootCertificateKey(r.root, testGUN, t0); err != nil {
		t.Fatal(err)
	}
	r.lookup = newMemKeys(r.root, r.targets, r.snapshot)
	c, err := collection.Init(collection.InitOptions{
		GUN: testGUN, RootKeys: []keys.PublicKey{r.rootPub},
		Targets: r.targets.Public(), Snapshot: r.snapshot.Public(), Timestamp: r.timestmp.Public(),
	}, r.lookup)
	if err != nil {
		t.Fatal(err)
	}
	up, err := c.Sign(context.Background(), r.now, collection.SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r.trusted = trustedFromFiles(t, up)
	return r
}

// open returns a collection over the repository's current files.
func (r *repo) open() *collection.Collection {
	r.t.Helper()
	c, err := collection.FromTrusted(r.trusted, r.lookup)
	if err != nil {
		r.t.Fatal(err)
	}
	return c
}

// publish signs c a day after the last publish, verifies the upload
// against the current files and makes it current.
func (r *repo) publish(c *collection.Collection) map[string][]byte {
	r.t.Helper()
	up, err := r.sign(c, collection.SignOptions{})
	if err != nil {
		r.t.Fatal(err)
	}
	return up
}

func (r *repo) sign(c *collection.Collection, opts collection.SignOptions) (map[string][]byte, error) {
	r.t.Helper()
	r.now = r.now.Add(24 * time.Hour)
	up, err := c.Sign(context.Background(), r.now, opts)
	if err != nil {
		return nil, err
	}
	verifyUpload(r.t, r.trusted, up, r.now)
	files := map[string][]byte{"root": r.trusted.RootFile}
	for name, tf := range r.trusted.Targets {
		files[name] = tf.File
	}
	if r.trusted.SnapshotFile != nil {
		files["snapshot"] = r.trusted.SnapshotFile
	}
	maps.Copy(files, up)
	if f, ok := up["snapshot"]; ok {
		// Keep the roles the new snapshot lists, as an update would.
		s, _, err := tuf.ParseSnapshot(f)
		if err != nil {
			r.t.Fatal(err)
		}
		for name := range files {
			if _, listed := s.Meta[name]; !listed && name != "snapshot" {
				delete(files, name)
			}
		}
	}
	r.trusted = trustedFromFiles(r.t, files)
	return up, nil
}

// targetsOf parses an uploaded targets role.
func targetsOf(t testing.TB, up map[string][]byte, role string) *tuf.Targets {
	t.Helper()
	f, ok := up[role]
	if !ok {
		t.Fatalf("%s not uploaded", role)
	}
	tg, _, err := tuf.ParseTargets(f, role)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

func rootOf(t testing.TB, up map[string][]byte) *tuf.Root {
	t.Helper()
	f, ok := up["root"]
	if !ok {
		t.Fatal("root not uploaded")
	}
	r, _, err := tuf.ParseRoot(f)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func meta(t testing.TB, content string) tuf.FileMeta {
	t.Helper()
	m, err := tuf.NewFileMeta([]byte(content))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// delegate creates delegation role with key k and paths, and publishes it.
func (r *repo) delegate(role string, paths []string, ks ...*keys.PrivateKey) {
	r.t.Helper()
	c := r.open()
	var pubs []keys.PublicKey
	for _, k := range ks {
		pubs = append(pubs, k.Public())
		r.lookup.add(k)
	}
	ctx := context.Background()
	if err := c.UpdateDelegationKeys(ctx, role, pubs, nil, 1); err != nil {
		r.t.Fatal(err)
	}
	if err := c.UpdateDelegationPaths(ctx, role, paths, nil, false); err != nil {
		r.t.Fatal(err)
	}
	r.publish(c)
}

func wantErr(t testing.TB, err, target error) {
	t.Helper()
	if target == nil {
		if err != nil {
			t.Fatalf("error = %v, want none", err)
		}
		return
	}
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want %v", err, target)
	}
}
