package image_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/notary-go/notary/image"
)

// TestVerifyImagesMatchesVerifyImage: one update per repository, the same
// answer as VerifyImage tag by tag: signed, re-pushed, unsigned, a
// repository without trust data, a bad reference.
func TestVerifyImagesMatchesVerifyImage(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	h := e.reg.Host
	e.push("app", "1.0", false, "one")
	e.push("app", "2.0", false, "two")
	if _, err := image.SignImages(ctx, []string{h + "/app:1.0", h + "/app:2.0"}, image.SignOptions{Options: e.opts}); err != nil {
		t.Fatal(err)
	}
	e.push("app", "2.0", false, "two again") // re-pushed
	e.push("app", "3.0", false, "three")     // unsigned
	e.push("other", "1.0", false, "x")       // no trust data
	refs := []string{h + "/app:1.0", h + "/app:2.0", h + "/app:3.0", h + "/other:1.0", h + "/app@sha256:" + fmt.Sprintf("%064d", 0)}
	opts := image.VerifyOptions{Options: e.opts}
	got, errs := image.VerifyImages(ctx, refs, opts)
	for i, ref := range refs[:4] {
		t.Run(ref, func(t *testing.T) {
			want, wantErr := image.VerifyImage(ctx, ref, opts)
			if got[i] != want {
				t.Errorf("Verified = %+v, want %+v", got[i], want)
			}
			var g, w *image.NotSignedError
			var gm, wm *image.MismatchError
			switch {
			case wantErr == nil:
				if errs[i] != nil {
					t.Errorf("err = %v, want nil", errs[i])
				}
			case errors.As(wantErr, &w):
				if !errors.As(errs[i], &g) || g.NoTrustData != w.NoTrustData {
					t.Errorf("err = %v, want %v", errs[i], wantErr)
				}
			case errors.As(wantErr, &wm):
				if !errors.As(errs[i], &gm) || *gm != *wm {
					t.Errorf("err = %v, want %v", errs[i], wantErr)
				}
			default:
				t.Errorf("unexpected VerifyImage error %v", wantErr)
			}
		})
	}
	if !errors.Is(errs[4], image.ErrUsage) {
		t.Errorf("digest reference: err = %v, want ErrUsage", errs[4])
	}
}
