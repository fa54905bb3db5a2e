package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/notary-go/notary/api"
	"github.com/notary-go/notary/server"
	"github.com/notary-go/notary/server/servertest"
	"github.com/notary-go/notary/tuf"
)

// TestAudit_Cure53_TUF01001_NonCanonicalUploads: Cure53 2018, TUF-01-001
// (the signed envelope was not held to one encoding: extra unsigned
// fields beside "signed"/"signatures" were kept and served). Through the
// real HTTP handler on every storage backend, an upload of targets whose
// envelope has an extra top-level key, trailing bytes or duplicate keys
// (in the envelope or inside "signed") is refused with a 4xx, and one with
// non-canonical whitespace is either refused or stored so that clients
// still verify it. After each attempt the collection still publishes and
// a fresh client verifies everything.
func TestAudit_Cure53_TUF01001_NonCanonicalUploads(t *testing.T) {
	type mutation struct {
		name string
		// mutate turns the signed targets envelope into the upload.
		mutate func(t *testing.T, r *servertest.Repo, env []byte) []byte
		// mayAccept: the server may store it (canonicalised or as sent),
		// as long as clients still verify the collection.
		mayAccept bool
	}
	mutations := []mutation{
		{name: "extra top-level key", mutate: func(t *testing.T, _ *servertest.Repo, env []byte) []byte {
			return append(bytes.TrimSuffix(env, []byte("}")), `,"unsigned":{"evil":true}}`...)
		}},
		{name: "extra top-level key first", mutate: func(t *testing.T, _ *servertest.Repo, env []byte) []byte {
			return append([]byte(`{"aaa":1,`), env[1:]...)
		}},
		{name: "trailing object", mutate: func(t *testing.T, _ *servertest.Repo, env []byte) []byte {
			return append(slices.Clone(env), `{}`...)
		}},
		{name: "trailing garbage", mutate: func(t *testing.T, _ *servertest.Repo, env []byte) []byte {
			return append(slices.Clone(env), "\x00garbage"...)
		}},
		{name: "second envelope", mutate: func(t *testing.T, _ *servertest.Repo, env []byte) []byte {
			return append(slices.Clone(env), env...)
		}},
		{name: "duplicate signatures key", mutate: func(t *testing.T, _ *servertest.Repo, env []byte) []byte {
			signed, sigs := splitEnvelope(t, env)
			return []byte(`{"signed":` + string(signed) + `,"signatures":[],"signatures":` + string(sigs) + `}`)
		}},
		{name: "duplicate signed key", mutate: func(t *testing.T, r *servertest.Repo, env []byte) []byte {
			// Two bodies: a lax parser taking the last verifies one while
			// another reader may act on the first.
			signed, sigs := splitEnvelope(t, env)
			evil := bytes.Replace(signed, []byte(`"targets":{`), []byte(`"targets":{"evil":{"hashes":{"sha256":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="},"length":1},`), 1)
			return []byte(`{"signed":` + string(evil) + `,"signed":` + string(signed) + `,"signatures":` + string(sigs) + `}`)
		}},
		{name: "duplicate key inside signed, validly signed", mutate: func(t *testing.T, r *servertest.Repo, env []byte) []byte {
			signed, _ := splitEnvelope(t, env)
			dup := append([]byte(`{"_type":"Targets",`), signed[1:]...)
			return resign(t, r.TargetsKey, dup)
		}},
		{name: "non-canonical whitespace", mayAccept: true, mutate: func(t *testing.T, _ *servertest.Repo, env []byte) []byte {
			var b bytes.Buffer
			if err := json.Indent(&b, env, "", "  "); err != nil {
				t.Fatal(err)
			}
			return b.Bytes()
		}},
		{name: "non-canonical whitespace inside signed, validly signed", mutate: func(t *testing.T, r *servertest.Repo, env []byte) []byte {
			// The signature is over the non-canonical bytes, so it cannot
			// verify over the canonical form v1 checks: refused.
			signed, _ := splitEnvelope(t, env)
			var b bytes.Buffer
			if err := json.Indent(&b, signed, "", " "); err != nil {
				t.Fatal(err)
			}
			return resign(t, r.TargetsKey, b.Bytes())
		}},
		{name: "trailing newline", mayAccept: true, mutate: func(t *testing.T, _ *servertest.Repo, env []byte) []byte {
			return append(slices.Clone(env), '\n')
		}},
	}

	for _, b := range servertest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			h := servertest.Start(t, b.Open(t), server.Options{})
			for i, m := range mutations {
				t.Run(m.name, func(t *testing.T) {
					gun := fmt.Sprintf("example.com/audit/tuf01001-%d", i)
					r := h.NewRepo(t, gun, true)
					c := h.Client(t, gun)
					if err := r.AddTarget(tuf.RoleTargets, "before", []byte("before")); err != nil {
						t.Fatal(err)
					}
					env, err := r.SignTargets(tuf.RoleTargets)
					if err != nil {
						t.Fatal(err)
					}
					upload := m.mutate(t, r, env)
					err = c.Publish(ctx, []api.Part{{Role: tuf.RoleTargets, Data: upload}})
					accepted := err == nil
					t.Logf("%s: accepted=%v (%v)", m.name, accepted, err)
					if !m.mayAccept || !accepted {
						wantRefused(t, m.name, err)
					}
					if !accepted {
						r.Targets[tuf.RoleTargets].Version-- // not stored
						delete(r.Targets[tuf.RoleTargets].Targets, "before")
					} else if stored, err := c.GetMeta(ctx, tuf.RoleTargets, 1<<20); err != nil {
						t.Fatal(err)
					} else if !bytes.Equal(stored, upload) && !bytes.Equal(stored, env) {
						t.Fatalf("stored targets are neither the upload nor its canonical form:\n%s", stored)
					} else {
						t.Logf("%s: stored as sent: %v", m.name, bytes.Equal(stored, upload))
					}

					// The collection still publishes and verifies.
					if err := r.AddTarget(tuf.RoleTargets, "after", []byte("after")); err != nil {
						t.Fatal(err)
					}
					parts, err := r.Publish(tuf.RoleTargets)
					if err != nil {
						t.Fatal(err)
					}
					if err := c.Publish(ctx, parts); err != nil {
						t.Fatalf("publish after the %s attempt: %v", m.name, err)
					}
					want := []string{"after"}
					if accepted {
						want = []string{"after", "before"}
					}
					if got := verifyFresh(t, h, gun); !slices.Equal(got, want) {
						t.Fatalf("targets = %v, want %v", got, want)
					}
					if strings.Contains(string(mustGet(t, c, tuf.RoleTargets)), "evil") {
						t.Fatal("the server serves data from a refused upload")
					}
				})
			}
		})
	}
}

func mustGet(t *testing.T, c *api.Client, role string) []byte {
	t.Helper()
	b, err := c.GetMeta(context.Background(), role, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAudit_Cure53_TUF01002_LargeVersions: Cure53 2018, TUF-01-002 (a
// version number past 2^31 broke a repository: 32-bit columns and
// integer parsing). On every storage backend (memory, SQLite, and
// PostgreSQL and MariaDB/MySQL when NOTARY_TEST_POSTGRES_DSN and
// NOTARY_TEST_MYSQL_DSN are set), targets at versions 2^31-1, 2^31 and
// 2^63-1 publish through the HTTP handler, are stored and read back
// exactly by version, and verify for a fresh client; a version that
// overflows int64 (validly signed) is refused with a 4xx and changes
// nothing.
func TestAudit_Cure53_TUF01002_LargeVersions(t *testing.T) {
	for _, b := range servertest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			h := servertest.Start(t, b.Open(t), server.Options{})
			gun := "example.com/audit/tuf01002"
			r := h.NewRepo(t, gun, true)
			c := h.Client(t, gun)
			for _, v := range []int64{math.MaxInt32, math.MaxInt32 + 1, math.MaxInt64} {
				name := strconv.FormatInt(v, 10)
				if err := r.AddTarget(tuf.RoleTargets, name, []byte(name)); err != nil {
					t.Fatal(err)
				}
				r.Targets[tuf.RoleTargets].Version = v - 1 // SignTargets bumps it
				parts, err := r.Publish(tuf.RoleTargets)
				if err != nil {
					t.Fatal(err)
				}
				if err := c.Publish(ctx, parts); err != nil {
					t.Fatalf("publishing targets version %d: %v", v, err)
				}
				sm, err := h.Store.GetVersion(ctx, gun, tuf.RoleTargets, v)
				if err != nil {
					t.Fatalf("GetVersion(%d): %v", v, err)
				}
				if sm.Version != v || !bytes.Equal(sm.Data, r.Files[tuf.RoleTargets]) {
					t.Fatalf("stored version %d holds version %d / other bytes", v, sm.Version)
				}
				byVersion, err := c.GetMetaByVersion(ctx, tuf.RoleTargets, v, 1<<20)
				if err != nil || !bytes.Equal(byVersion, r.Files[tuf.RoleTargets]) {
					t.Fatalf("GET targets version %d: %v", v, err)
				}
				cur, err := h.Store.GetCurrent(ctx, gun, tuf.RoleTargets)
				if err != nil || cur.Version != v {
					t.Fatalf("current targets after %d: %+v, %v", v, cur, err)
				}
				got := verifyFresh(t, h, gun)
				if !slices.Contains(got, name) {
					t.Fatalf("a fresh client sees %v, want %s among them", got, name)
				}
			}

			// Past int64: validly signed, still refused, nothing changes.
			signed, _ := splitEnvelope(t, r.Files[tuf.RoleTargets])
			for _, over := range []string{"9223372036854775808", "18446744073709551616", "1" + strings.Repeat("0", 40), "9223372036854775807.0", "9.3e18"} {
				t.Run("version "+over, func(t *testing.T) {
					body := bytes.Replace(signed, []byte(`"version":9223372036854775807`), []byte(`"version":`+over), 1)
					if bytes.Equal(body, signed) {
						t.Fatal("version field not found")
					}
					err := c.Publish(ctx, []api.Part{{Role: tuf.RoleTargets, Data: resign(t, r.TargetsKey, body)}})
					wantRefused(t, "targets version "+over, err)
					cur, err := h.Store.GetCurrent(ctx, gun, tuf.RoleTargets)
					if err != nil || cur.Version != math.MaxInt64 {
						t.Fatalf("current targets after the refused overflow: %+v, %v", cur, err)
					}
				})
			}
			if got := verifyFresh(t, h, gun); len(got) != 3 {
				t.Fatalf("after the overflow attempts a fresh client sees %v", got)
			}
		})
	}
}
