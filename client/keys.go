package client

import (
	"context"
	"errors"

	"github.com/notary-go/notary/collection"
	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/keystore"
	"github.com/notary-go/notary/tuf"
)

// keyLookup gives the collection signers from the key store: each public
// key of a role is looked up by canonical ID (v1 §3.3) and, for root
// certificates, presented as the certificate so the signature carries its
// TUF key ID.
type keyLookup struct {
	ks keystore.Service
}

var _ collection.KeyLookup = keyLookup{}

func (l keyLookup) Signers(ctx context.Context, role string, pubs []keys.PublicKey) ([]tuf.Signer, error) {
	var out []tuf.Signer
	for _, pub := range pubs {
		id, err := pub.CanonicalID()
		if err != nil || !keystore.ValidID(id) {
			continue // a key we cannot name is not one we hold
		}
		priv, _, err := l.ks.Get(ctx, id)
		if errors.Is(err, keystore.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if pub.IsX509() {
			if priv, err = priv.WithPublic(pub); err != nil {
				continue // same ID, different key: not ours to sign with
			}
		}
		out = append(out, tuf.LocalSigner(priv))
	}
	return out, nil
}
