package canonicaljson

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// benchDoc is a targets-like document with n entries.
func benchDoc(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"_type":"Targets","delegations":{"keys":{},"roles":[]},"expires":"2029-11-23T20:05:16.580452151Z","targets":{`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"releases/v%d/app-%06d.tar.gz":{"hashes":{"sha256":"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=","sha512":"z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg=="},"length":%d}`, i%97, i, i)
	}
	b.WriteString(`},"version":3}`)
	return []byte(b.String())
}

func BenchmarkCanonicalize(b *testing.B) {
	for _, n := range []int{10, 1000, 100000} {
		doc := benchDoc(n)
		b.Run(fmt.Sprintf("targets=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(doc)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Canonicalize(doc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	if golden, err := os.ReadFile("../tuf/testdata/v1/golden/server/targets.json"); err == nil {
		b.Run("golden-targets.json", func(b *testing.B) {
			b.SetBytes(int64(len(golden)))
			for b.Loop() {
				if _, err := Canonicalize(golden); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkParseStrict(b *testing.B) {
	for _, n := range []int{10, 1000, 100000} {
		doc := benchDoc(n)
		b.Run(fmt.Sprintf("targets=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(doc)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ParseStrict(doc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
