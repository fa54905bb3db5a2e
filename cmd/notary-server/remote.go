package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/keystore"
	"github.com/notary-go/notary/server"
	"github.com/notary-go/notary/signer"
	"github.com/notary-go/notary/tuf"
)

// sqlPool is the storage's connection pool, shared with the in-process
// key database.
type sqlPool struct{ db *sql.DB }

// remoteKeys is the server.KeyService of a notary-signer (ours or v1's),
// reached through signer.Client over mutual TLS.
type remoteKeys struct {
	c *signer.Client

	mu    sync.RWMutex
	roles map[string]string // canonical key ID -> role, for keys known to exist
}

var _ server.KeyService = (*remoteKeys)(nil)

func newRemoteKeys(c *signer.Client) *remoteKeys {
	return &remoteKeys{c: c, roles: map[string]string{}}
}

// maxKnownKeys bounds the cache of key roles.
const maxKnownKeys = 100000

// CreateKey implements server.KeyService.
func (r *remoteKeys) CreateKey(ctx context.Context, gun, role, algorithm string) (keys.PublicKey, error) {
	return r.c.CreateKey(ctx, role, gun, algorithm)
}

// Signer implements server.KeyService: the signer must hold the key, for
// role (GetKeyInfo; the signer does not report the GUN). Known keys are
// remembered, so steady-state signing costs one RPC.
func (r *remoteKeys) Signer(ctx context.Context, gun, role string, pub keys.PublicKey) (tuf.Signer, error) {
	id, err := pub.CanonicalID()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", server.ErrKeyNotFound, err)
	}
	r.mu.RLock()
	known, ok := r.roles[id]
	r.mu.RUnlock()
	if !ok {
		info, err := r.c.GetKeyInfo(ctx, id)
		if errors.Is(err, keystore.ErrNotFound) {
			return nil, fmt.Errorf("%w: %v", server.ErrKeyNotFound, err)
		}
		if err != nil {
			return nil, err
		}
		known = info.Role
		r.mu.Lock()
		if len(r.roles) >= maxKnownKeys {
			clear(r.roles)
		}
		r.roles[id] = known
		r.mu.Unlock()
	}
	if known != role {
		return nil, fmt.Errorf("%w: key %s is a %s key", server.ErrKeyNotFound, id, known)
	}
	return remoteSigner{r.c.Signer(pub)}, nil
}

// remoteSigner adapts signer.KeySigner to tuf.Signer.
type remoteSigner struct{ ks *signer.KeySigner }

func (s remoteSigner) Public() keys.PublicKey { return s.ks.Public() }

func (s remoteSigner) Sign(ctx context.Context, msg []byte) ([]byte, string, error) {
	sig, err := s.ks.Sign(ctx, msg)
	if err != nil {
		return nil, "", err
	}
	return sig, s.ks.Method(), nil
}
