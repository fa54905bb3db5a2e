package tuf

import (
	"context"
	"fmt"
	"testing"

	"github.com/notary-go/notary/keys"
)

var benchSizes = []int{10, 1000, 100000}

// benchTargets builds a targets body with n targets, each with sha256 and
// sha512 like "notary add" writes.
func benchTargets(b *testing.B, n int) *Targets {
	b.Helper()
	body := targetsBody(1)
	fm := fileMetaOf(b, "content")
	for i := 0; i < n; i++ {
		body.Targets[fmt.Sprintf("releases/v%d/app-%06d.tar.gz", i%97, i)] = fm
	}
	return body
}

func BenchmarkCanonicalSigned(b *testing.B) {
	for _, n := range benchSizes {
		body := benchTargets(b, n)
		b.Run(fmt.Sprintf("targets=%d", n), func(b *testing.B) {
			c, _ := CanonicalSigned(body)
			b.SetBytes(int64(len(c)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := CanonicalSigned(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkSign(b *testing.B) {
	k := newKey(b, keys.ECDSA)
	for _, n := range benchSizes {
		body := benchTargets(b, n)
		b.Run(fmt.Sprintf("targets=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := Sign(context.Background(), body, LocalSigner(k)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkParseTargets(b *testing.B) {
	k := newKey(b, keys.ECDSA)
	for _, n := range benchSizes {
		file := signFile(b, benchTargets(b, n), k)
		b.Run(fmt.Sprintf("targets=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(file)))
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := ParseTargets(file, RoleTargets); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifySignatures: a parsed targets file of n targets against one
// ecdsa key (canonicalisation dominates), then a small timestamp with 1, 3
// and 5 signatures, all required (signature checks dominate).
func BenchmarkVerifySignatures(b *testing.B) {
	k := newKey(b, keys.ECDSA)
	m, ids := keyMap(k)
	for _, n := range benchSizes {
		env, err := ParseEnvelope(signFile(b, benchTargets(b, n), k))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("targets=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(env.Signed)))
			b.ReportAllocs()
			for b.Loop() {
				if err := VerifySignatures(env, RoleTargets, m, ids, 1); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	for _, n := range []int{1, 3, 5} {
		var ks []*keys.PrivateKey
		for i := 0; i < n; i++ {
			ks = append(ks, newKey(b, keys.ECDSA))
		}
		m, ids := keyMap(ks...)
		env, err := ParseEnvelope(signFile(b, timestampBody(b, 1), ks...))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("sigs=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := VerifySignatures(env, RoleTimestamp, m, ids, n); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkMarshalEnvelope(b *testing.B) {
	k := newKey(b, keys.ECDSA)
	for _, n := range benchSizes {
		env, err := ParseEnvelope(signFile(b, benchTargets(b, n), k))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("targets=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(env.Signed)))
			for b.Loop() {
				if _, err := MarshalEnvelope(env); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRestrictPaths restricts n child paths by n parent paths, the
// cost of one level of a deep delegation chain (O(n^2) before
// tuf.PathSet). Sizes past MaxDelegationPaths show the scaling.
func BenchmarkRestrictPaths(b *testing.B) {
	for _, n := range []int{1000, 20000, 60000} {
		parent := make([]string, n)
		child := make([]string, n)
		for i := range n {
			parent[i] = fmt.Sprintf("team-a/b/%06d/", i)
			child[i] = fmt.Sprintf("team-a/b/%06d/c/%06d", n-1-i, i)
		}
		b.Run(fmt.Sprintf("paths=%d", n), func(b *testing.B) {
			for b.Loop() {
				if got := RestrictPaths(parent, child); len(got) != n {
					b.Fatalf("kept %d of %d", len(got), n)
				}
			}
		})
	}
}
