package signer

import (
	"context"
	"testing"

	"github.com/notary-go/notary/keys"
)

// BenchmarkSign is one Sign round trip over mutual TLS on loopback, key
// cached in the signer, signature checked by the client.
func BenchmarkSign(b *testing.B) {
	for _, typ := range []string{keys.ECDSA, keys.ED25519} {
		b.Run(typ, func(b *testing.B) {
			s := startSigner(b)
			c := s.dial(b, ClientOptions{})
			ctx := context.Background()
			pub, err := c.CreateKey(ctx, "timestamp", "gun", typ)
			if err != nil {
				b.Fatal(err)
			}
			ks := c.Signer(pub)
			msg := make([]byte, 512)
			for b.Loop() {
				if _, err := ks.Sign(ctx, msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
