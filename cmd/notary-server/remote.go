package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

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
	c   *signer.Client
	log *slog.Logger

	mu    sync.RWMutex
	known map[string]keyOwner // canonical key ID -> owner, for keys known to exist
}

// keyOwner is what the server knows of a signer key: its role and, when
// the signer reports it (ours does, v0.7.0 does not) or this server
// created the key, its GUN.
type keyOwner struct {
	role     string
	gun      string
	gunKnown bool
}

var _ server.KeyService = (*remoteKeys)(nil)

func newRemoteKeys(c *signer.Client, log *slog.Logger) *remoteKeys {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &remoteKeys{c: c, log: log, known: map[string]keyOwner{}}
}

// maxKnownKeys bounds the cache of key roles.
const maxKnownKeys = 100000

// CreateKey implements server.KeyService.
func (r *remoteKeys) CreateKey(ctx context.Context, gun, role, algorithm string) (keys.PublicKey, error) {
	pub, err := r.c.CreateKey(ctx, role, gun, algorithm)
	if err == nil {
		r.remember(pub.ID(), keyOwner{role: role, gun: gun, gunKnown: true})
	}
	return pub, err
}

func (r *remoteKeys) remember(id string, o keyOwner) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.known) >= maxKnownKeys {
		clear(r.known)
	}
	r.known[id] = o
}

// Signer implements server.KeyService: the signer must hold the key, for
// role and gun, as the local key service requires (issue 10: a root of
// GUN B may list GUN A's public timestamp key, which must not then sign
// B's timestamp, or B's owner could mint timestamps A's clients accept).
// The GUN comes from the signer (ours reports it in GetKeyInfo) or from
// this server having created the key; each signature request also names
// the GUN, and our signer checks it again. Only a v0.7.0 signer's keys
// created before this server started have no known GUN: they are used,
// with a warning, as v0.7.0 would. Known keys are remembered, so
// steady-state signing costs one RPC.
func (r *remoteKeys) Signer(ctx context.Context, gun, role string, pub keys.PublicKey) (tuf.Signer, error) {
	id, err := pub.CanonicalID()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", server.ErrKeyNotFound, err)
	}
	r.mu.RLock()
	known, ok := r.known[id]
	r.mu.RUnlock()
	if !ok {
		info, err := r.c.GetKeyInfo(ctx, id)
		if errors.Is(err, keystore.ErrNotFound) {
			return nil, fmt.Errorf("%w: %v", server.ErrKeyNotFound, err)
		}
		if err != nil {
			return nil, err
		}
		known = keyOwner{role: info.Role, gun: info.GUN, gunKnown: info.GUNKnown}
		r.remember(id, known)
		if !known.gunKnown {
			// Once per key (then remembered): a v0.7.0 signer.
			r.log.Warn("the signer does not say which GUN this key belongs to (a v0.7.0 signer): its GUN is not checked", "key_id", id, "gun", gun, "role", role)
		}
	}
	if known.role != role {
		return nil, fmt.Errorf("%w: key %s is a %s key", server.ErrKeyNotFound, id, known.role)
	}
	if known.gunKnown && known.gun != gun {
		r.log.Warn("refused to sign with a key of another GUN", "key_id", id, "key_gun", known.gun, "gun", gun, "role", role)
		return nil, fmt.Errorf("%w: key %s belongs to another GUN", server.ErrKeyNotFound, id)
	}
	return remoteSigner{r.c.SignerFor(gun, pub)}, nil
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

// remoteHealthChecks are the server's health checks of a remote signer,
// named as v0.7.0 names its check.
func remoteHealthChecks(c *signer.Client, now func() time.Time) map[string]server.HealthCheck {
	return map[string]server.HealthCheck{"Trust operational": newSigningHealth(c.CheckSigning, now).Check}
}

// signingHealthTTL is how long a signing health result is reused, so
// that /_notary_server/health stays cheap for the signer however often
// it is polled.
const signingHealthTTL = 5 * time.Second

// signingHealth is the notary-server's health check of a remote signer:
// signer.Client.CheckSigning (health services SERVING and this server's
// certificate accepted), its result cached for signingHealthTTL.
type signingHealth struct {
	check func(context.Context) error
	now   func() time.Time

	mu  sync.Mutex
	at  time.Time
	err error
	ok  bool // a result is cached
}

func newSigningHealth(check func(context.Context) error, now func() time.Time) *signingHealth {
	return &signingHealth{check: check, now: now}
}

// Check implements server.HealthCheck. Concurrent callers share one
// probe.
func (h *signingHealth) Check(ctx context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ok && h.now().Sub(h.at) < signingHealthTTL {
		return h.err
	}
	err := h.check(ctx)
	if ctx.Err() != nil {
		return err // the caller gave up: do not cache that
	}
	h.at, h.err, h.ok = h.now(), err, true
	return err
}
