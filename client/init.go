package client

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/notary-go/notary/api"
	"github.com/notary-go/notary/collection"
	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/keystore"
	"github.com/notary-go/notary/tuf"
)

// InitOptions choose the keys of a new collection.
type InitOptions struct {
	// RootKeyIDs are canonical IDs of root keys in the key store. Empty:
	// the first root key the store holds (by ID), or a new ecdsa key when
	// it holds none (v1).
	RootKeyIDs []string
	// RootCerts are certificates for the root keys, as ecdsa-x509 or
	// rsa-x509 keys, in the order of RootKeyIDs (v1 --rootcert). When
	// RootKeyIDs is empty, the keys are found by the certificates' public
	// keys. Empty: a certificate is made for each root key (CN = GUN, ten
	// years).
	RootCerts []keys.PublicKey
	// ServerManagedSnapshot leaves the snapshot key to the server, as the
	// Docker CLI does. The timestamp key is always the server's.
	ServerManagedSnapshot bool
}

// InitResult says which root keys a new collection uses.
type InitResult struct {
	RootKeyIDs []string
	// RootKeyCreated is set when a new root key was generated.
	RootKeyCreated bool
}

// RootKeys lists the canonical IDs of the root keys in the key store,
// sorted.
func (r *Repository) RootKeys(ctx context.Context) ([]string, error) {
	ks, err := r.KeyStore()
	if err != nil {
		return nil, err
	}
	infos, err := ks.List(ctx)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, ki := range infos {
		if ki.Role == tuf.RoleRoot {
			ids = append(ids, ki.ID)
		}
	}
	sort.Strings(ids)
	return ids, nil
}

// Initialize creates the collection locally (v1 Initialize): a root
// certificate for the root key, new ecdsa targets and (unless the server
// manages it) snapshot keys in the key store, and the server's timestamp
// key, then version 1 of root, targets and snapshot signed into the cache.
// Nothing is uploaded: Publish does that, with the staged changes.
//
// It needs the server, which it asks first, before any key is made: for its
// timestamp (and snapshot) key, and whether it already has trust data for
// the GUN, which is refused with a *RepositoryExistsError since the server
// would not accept a second, unrelated root.
func (r *Repository) Initialize(ctx context.Context, opts InitOptions) (InitResult, error) {
	c, err := r.server()
	if err != nil {
		return InitResult{}, err
	}
	tsKey, err := c.GetKey(ctx, tuf.RoleTimestamp)
	if err != nil {
		return InitResult{}, serverError(r.serverName(), "get the timestamp key", err)
	}
	var snapKey keys.PublicKey
	if opts.ServerManagedSnapshot {
		if snapKey, err = c.GetKey(ctx, tuf.RoleSnapshot); err != nil {
			return InitResult{}, serverError(r.serverName(), "get the snapshot key", err)
		}
	}
	switch _, err := c.GetMeta(ctx, tuf.RoleRoot, tuf.MaxRootSize); {
	case err == nil:
		return InitResult{}, &RepositoryExistsError{Server: r.serverName(), GUN: r.gun}
	case !errors.Is(err, api.ErrNotFound):
		return InitResult{}, serverError(r.serverName(), "fetch root.json", err)
	}
	return r.initialize(ctx, opts, tsKey, snapKey)
}

// initialize does the local part of Initialize with the server's keys.
func (r *Repository) initialize(ctx context.Context, opts InitOptions, tsKey, snapKey keys.PublicKey) (InitResult, error) {
	ks, err := r.KeyStore()
	if err != nil {
		return InitResult{}, err
	}
	now := r.now()
	var res InitResult
	rootKeys, err := r.rootKeysForInit(ctx, ks, opts, now, &res)
	if err != nil {
		return res, err
	}
	targetsKey, err := ks.Create(ctx, tuf.RoleTargets, r.gun, keys.ECDSA)
	if err != nil {
		return res, fmt.Errorf("creating the targets key: %w", err)
	}
	if snapKey.Type == "" {
		if snapKey, err = ks.Create(ctx, tuf.RoleSnapshot, r.gun, keys.ECDSA); err != nil {
			return res, fmt.Errorf("creating the snapshot key: %w", err)
		}
	}
	coll, err := collection.Init(collection.InitOptions{
		GUN: r.gun, RootKeys: rootKeys, Targets: targetsKey, Snapshot: snapKey, Timestamp: tsKey,
	}, keyLookup{ks})
	if err != nil {
		return res, err
	}
	files, err := coll.Sign(ctx, now, collection.SignOptions{})
	if err != nil {
		return res, err
	}
	// A new root replaces whatever was cached: drop old files first so
	// no stale timestamp or delegation of a previous collection remains.
	if err := r.cache.Clear(); err != nil {
		return res, err
	}
	for _, role := range []string{tuf.RoleRoot, tuf.RoleTargets, tuf.RoleSnapshot} {
		if data, ok := files[role]; ok {
			if err := r.cache.Set(role, data); err != nil {
				return res, err
			}
		}
	}
	return res, nil
}

// rootKeysForInit returns the root keys, as certificates, for a new root.
func (r *Repository) rootKeysForInit(ctx context.Context, ks keystore.Service, opts InitOptions, now time.Time, res *InitResult) ([]keys.PublicKey, error) {
	ids := opts.RootKeyIDs
	if len(ids) == 0 && len(opts.RootCerts) > 0 {
		for _, cert := range opts.RootCerts {
			id, err := cert.CanonicalID()
			if err != nil {
				return nil, fmt.Errorf("error initializing repository with certificate: %w", err)
			}
			ids = append(ids, id)
		}
	}
	if len(opts.RootCerts) > 0 && len(opts.RootCerts) != len(ids) {
		return nil, fmt.Errorf("require matching number of keyIDs and public keys but got %d IDs and %d public keys", len(ids), len(opts.RootCerts))
	}
	if len(ids) == 0 {
		existing, err := r.RootKeys(ctx)
		if err != nil {
			return nil, err
		}
		if len(existing) > 0 {
			ids = existing[:1]
		} else {
			pub, err := ks.Create(ctx, tuf.RoleRoot, "", keys.ECDSA)
			if err != nil {
				return nil, fmt.Errorf("creating the root key: %w", err)
			}
			id, err := pub.CanonicalID()
			if err != nil {
				return nil, err
			}
			ids = []string{id}
			res.RootKeyCreated = true
		}
	}
	res.RootKeyIDs = ids
	out := make([]keys.PublicKey, 0, len(ids))
	for i, id := range ids {
		priv, _, err := ks.Get(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("could not get the root key %s: %w", id, err)
		}
		if len(opts.RootCerts) > 0 {
			cert := opts.RootCerts[i]
			cid, err := cert.CanonicalID()
			if err != nil || cid != id {
				return nil, fmt.Errorf("could not obtain public key from IDs: the certificate does not hold the public key of root key %s", id)
			}
			out = append(out, cert)
			continue
		}
		pub, err := collection.RootCertificateKey(priv, r.gun, now)
		if err != nil {
			return nil, err
		}
		out = append(out, pub)
	}
	return out, nil
}
