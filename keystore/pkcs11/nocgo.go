//go:build !cgo

package pkcs11

import (
	"context"
	"crypto"

	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/keystore"
	"github.com/notary-go/notary/tuf"
)

// Store is a keystore.Service on a PKCS#11 token. This binary was built
// without cgo, so no Store can be opened.
type Store struct{ cfg Config }

var _ keystore.Service = (*Store)(nil)

// Open fails with ErrNoCgo: the PKCS#11 binding needs cgo.
func Open(cfg Config) (*Store, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	return nil, ErrNoCgo
}

// Close does nothing.
func (s *Store) Close() error { return nil }

// Config returns the store's configuration.
func (s *Store) Config() Config { return s.cfg }

// Create fails with ErrNoCgo.
func (s *Store) Create(context.Context, string, string, string) (keys.PublicKey, error) {
	return keys.PublicKey{}, ErrNoCgo
}

// Add fails with ErrNoCgo.
func (s *Store) Add(context.Context, keystore.KeyInfo, *keys.PrivateKey) error { return ErrNoCgo }

// Get fails with ErrNoCgo.
func (s *Store) Get(context.Context, string) (*keys.PrivateKey, keystore.KeyInfo, error) {
	return nil, keystore.KeyInfo{}, ErrNoCgo
}

// Signer fails with ErrNoCgo.
func (s *Store) Signer(context.Context, string) (*Signer, error) { return nil, ErrNoCgo }

// List fails with ErrNoCgo.
func (s *Store) List(context.Context) ([]keystore.KeyInfo, error) { return nil, ErrNoCgo }

// Remove fails with ErrNoCgo.
func (s *Store) Remove(context.Context, string) error { return ErrNoCgo }

// Signer signs with one key held by a token. Without cgo there is none.
type Signer struct{}

var _ tuf.Signer = (*Signer)(nil)

// Public returns the zero key.
func (k *Signer) Public() keys.PublicKey { return keys.PublicKey{} }

// Info returns the zero KeyInfo.
func (k *Signer) Info() keystore.KeyInfo { return keystore.KeyInfo{} }

// Method returns "".
func (k *Signer) Method() string { return "" }

// WithPublic fails with ErrNoCgo.
func (k *Signer) WithPublic(keys.PublicKey) (*Signer, error) { return nil, ErrNoCgo }

// Sign fails with ErrNoCgo.
func (k *Signer) Sign(context.Context, []byte) ([]byte, string, error) { return nil, "", ErrNoCgo }

// CryptoSigner returns nil.
func (k *Signer) CryptoSigner() crypto.Signer { return nil }
