// Package keyservice holds the in-process server.KeyService: the server's
// timestamp and snapshot keys kept in a keystore.Service (the signer's
// encrypted key database on the server's own SQL database, or memory) and
// used to sign in the server process, without a notary-signer.
package keyservice

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"errors"
	"fmt"
	"sync"

	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/keystore"
	"github.com/notary-go/notary/server"
	"github.com/notary-go/notary/tuf"
)

// A Local is a server.KeyService over a keystore.Service. It is safe for
// concurrent use when the key store is.
type Local struct {
	store keystore.Service
	used  sync.Map // canonical IDs already marked used in this process

	// For stores that keep no pending keys themselves (keystore's memory
	// store): the key CreateKey made per (gun, role, algorithm) that has
	// not signed yet, handed out again instead of a new one. Bounded by
	// the GUNs the server creates keys for (see server.Options.MaxNewGUNKeys).
	mu        sync.Mutex
	pending   map[pendingSlot]keys.PublicKey
	pendingID map[string]pendingSlot // canonical ID → slot
}

type pendingSlot struct{ gun, role, alg string }

var _ server.KeyService = (*Local)(nil)

// usageRecorder is implemented by key stores that track which keys have
// signed (keydb.DB): a used key is no longer handed out by Create as a
// pending key.
type usageRecorder interface {
	MarkUsed(ctx context.Context, id string) error
}

// NewLocal returns a Local over store.
func NewLocal(store keystore.Service) *Local { return &Local{store: store} }

// NewMemory returns a Local over an in-memory key store: keys are lost
// when the process ends (v1's "local" trust service behaves the same).
func NewMemory() *Local { return NewLocal(keystore.NewMemory()) }

// CreateKey implements server.KeyService. Like notary-signer it returns
// the pending key of (gun, role, algorithm), one made before that has not
// signed yet, when there is one: repeated reads of a new collection's
// timestamp.key must not make a key each (issue 10 item 5). keydb.DB
// tracks pending keys itself, in its database; for other stores Local
// does, in memory.
func (l *Local) CreateKey(ctx context.Context, gun, role, algorithm string) (keys.PublicKey, error) {
	if _, ok := l.store.(usageRecorder); ok {
		return l.store.Create(ctx, role, gun, algorithm)
	}
	slot := pendingSlot{gun, role, algorithm}
	l.mu.Lock()
	defer l.mu.Unlock()
	if pub, ok := l.pending[slot]; ok {
		return pub, nil
	}
	pub, err := l.store.Create(ctx, role, gun, algorithm)
	if err != nil {
		return keys.PublicKey{}, err
	}
	id, err := pub.CanonicalID()
	if err != nil {
		return pub, nil // cannot be tracked; a later call makes another
	}
	if l.pending == nil {
		l.pending, l.pendingID = map[pendingSlot]keys.PublicKey{}, map[string]pendingSlot{}
	}
	l.pending[slot], l.pendingID[id] = pub, slot
	return pub, nil
}

// signed records that the key id has signed: it is no longer pending.
func (l *Local) signed(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if slot, ok := l.pendingID[id]; ok {
		delete(l.pendingID, id)
		delete(l.pending, slot)
	}
}

// Signer implements server.KeyService. The key must have been created for
// role and, when the store recorded a GUN, for gun: a root cannot make the
// server sign one collection's metadata with another collection's key.
func (l *Local) Signer(ctx context.Context, gun, role string, pub keys.PublicKey) (tuf.Signer, error) {
	id, err := pub.CanonicalID()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", server.ErrKeyNotFound, err)
	}
	k, info, err := l.store.Get(ctx, id)
	if errors.Is(err, keystore.ErrNotFound) {
		return nil, fmt.Errorf("%w: %v", server.ErrKeyNotFound, err)
	}
	if err != nil {
		return nil, err
	}
	if info.Role != role || (info.GUN != "" && info.GUN != gun) {
		return nil, fmt.Errorf("%w: key %s belongs to %s of %q", server.ErrKeyNotFound, id, info.Role, info.GUN)
	}
	if pub.IsX509() {
		if k, err = k.WithPublic(pub); err != nil {
			return nil, fmt.Errorf("%w: %v", server.ErrKeyNotFound, err)
		}
	} else if kp := k.Public(); kp.Type != pub.Type || !bytes.Equal(kp.Public, pub.Public) {
		return nil, fmt.Errorf("%w: stored key %s differs from the listed key", server.ErrKeyNotFound, id)
	}
	s := &signer{Signer: tuf.LocalSigner(k), id: id, l: l, software: softwareKey(k)}
	if _, done := l.used.Load(id); !done {
		s.rec, _ = l.store.(usageRecorder)
	}
	return s, nil
}

type signer struct {
	tuf.Signer
	id       string
	l        *Local
	rec      usageRecorder
	software bool
}

// SignaturesTrusted implements tuf.TrustedSigner: a software key signs
// in this process, and its TUF public key is derived from the private key
// (keys.FromCrypto; WithPublic checks an x509 form against it), so the
// check after every signature would only ever catch a hardware fault;
// each publish saves two ECDSA verifications. Token-backed keys (PKCS#11)
// are still verified.
func (s *signer) SignaturesTrusted() bool { return s.software }

// softwareKey reports whether k's private half is a standard library key
// held in memory.
func softwareKey(k *keys.PrivateKey) bool {
	switch k.CryptoSigner().(type) {
	case *ecdsa.PrivateKey, ed25519.PrivateKey, *rsa.PrivateKey:
		return true
	}
	return false
}

func (s *signer) Sign(ctx context.Context, msg []byte) ([]byte, string, error) {
	sig, method, err := s.Signer.Sign(ctx, msg)
	if err == nil && s.rec == nil {
		s.l.signed(s.id)
	}
	if err == nil && s.rec != nil {
		// Once per key and process, best effort as in v1's signer: a
		// failure only means the key may be handed out again as a
		// pending key.
		if s.rec.MarkUsed(ctx, s.id) == nil {
			s.l.used.Store(s.id, true)
		}
	}
	return sig, method, err
}
