package image_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/notary-go/notary/image"
)

// BenchmarkSignImages signs n tags of one repository in one call (one
// publish), against the fake registry and an in-process trust server on
// a memory store: the cost of the registry reads, staging and one
// publish, per n.
func BenchmarkSignImages(b *testing.B) {
	for _, n := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("tags=%d", n), func(b *testing.B) {
			e := newEnv(b)
			refs := make([]string, n)
			for i := range refs {
				e.push("app", fmt.Sprint("t", i), true, fmt.Sprint(i))
				refs[i] = e.reg.Host + "/app:" + fmt.Sprint("t", i)
			}
			ctx := context.Background()
			b.ResetTimer()
			for b.Loop() {
				if _, err := image.SignImages(ctx, refs, image.SignOptions{Options: e.opts}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifyImage verifies one tag of a repository holding 100
// signed tags: a TUF update (cached, only the timestamp fetched) and one
// manifest GET.
func BenchmarkVerifyImage(b *testing.B) {
	e := newEnv(b)
	refs := make([]string, 100)
	for i := range refs {
		e.push("app", fmt.Sprint("t", i), true, fmt.Sprint(i))
		refs[i] = e.reg.Host + "/app:" + fmt.Sprint("t", i)
	}
	ctx := context.Background()
	if _, err := image.SignImages(ctx, refs, image.SignOptions{Options: e.opts}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if _, err := image.VerifyImage(ctx, refs[i%len(refs)], image.VerifyOptions{Options: e.opts}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
