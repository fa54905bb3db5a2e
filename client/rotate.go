package client

import (
	"context"
	"errors"
	"fmt"

	"github.com/notary-go/notary/changelist"
	"github.com/notary-go/notary/collection"
	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/tuf"
)

// RotateOptions choose the new keys of a rotation.
type RotateOptions struct {
	// ServerManaged asks the server for a new key (POST <role>.key):
	// required for timestamp, optional for snapshot, refused otherwise.
	ServerManaged bool
	// KeyIDs are canonical IDs of keys already in the key store to rotate
	// to (v1 `key rotate -k`, after importing them). Empty: a new ecdsa
	// key is generated.
	KeyIDs []string
	// LegacyVersions also signs the new root with the root keys of this
	// many older root versions (-1: all), for clients that still trust an
	// old root (v1 --legacy).
	LegacyVersions int
}

// SignWithAllOldVersions is the LegacyVersions value that signs with the
// root keys of every older root version.
const SignWithAllOldVersions = -1

// checkRotation applies v1's rules on which keys may be rotated, and by
// whom.
func checkRotation(role string, serverManaged bool) error {
	canBeRemote := role == tuf.RoleTimestamp || role == tuf.RoleSnapshot
	canBeLocal := role == tuf.RoleSnapshot || role == tuf.RoleTargets || role == tuf.RoleRoot
	switch {
	case !tuf.IsBaseRole(role):
		return &RotationError{Role: role, Reason: fmt.Sprintf("notary does not currently permit rotating the %s key", role)}
	case serverManaged && !canBeRemote:
		return &RotationError{Role: role, Reason: fmt.Sprintf("notary does not permit the server managing the %s key", role)}
	case !serverManaged && !canBeLocal:
		return &RotationError{Role: role, Reason: fmt.Sprintf("notary does not permit the client managing the %s key", role)}
	}
	return nil
}

// RotateKey replaces every key of base role role and publishes the new
// root at once (v1 RotateKey): with ServerManaged the server makes the new
// key; otherwise the given keys, or a new ecdsa key, are used (root keys
// get a new certificate). The new root is signed by the old and the new
// root keys. Only the rotation is published, not the staged changes.
// After a successful rotation the private keys of the rotated-away
// targets or snapshot key are deleted (root keys are always kept); if it
// fails, a key generated for it is deleted again.
func (r *Repository) RotateKey(ctx context.Context, role string, opts RotateOptions) error {
	if err := checkRotation(role, opts.ServerManaged); err != nil {
		return err
	}
	ks, err := r.KeyStore()
	if err != nil {
		return err
	}
	var (
		pubs    []keys.PublicKey
		created string
	)
	switch {
	case opts.ServerManaged:
		c, err := r.server()
		if err != nil {
			return err
		}
		pub, err := c.RotateKey(ctx, role)
		if err != nil {
			return fmt.Errorf("unable to rotate remote key: %w", serverError(r.serverName(), "rotate the "+role+" key", err))
		}
		pubs = []keys.PublicKey{pub}
	case len(opts.KeyIDs) == 0:
		// Ask the server first that it is reachable, so a failure does
		// not leave an unused key behind.
		c, err := r.server()
		if err != nil {
			return err
		}
		if err := reachable(serverError(r.serverName(), "ping", c.Ping(ctx))); err != nil {
			return err
		}
		gun := r.gun
		if role == tuf.RoleRoot {
			gun = ""
		}
		pub, err := ks.Create(ctx, role, gun, keys.ECDSA)
		if err != nil {
			return fmt.Errorf("unable to generate key: %w", err)
		}
		if created, err = pub.CanonicalID(); err != nil {
			return err
		}
		pubs = []keys.PublicKey{pub}
	default:
		for _, id := range opts.KeyIDs {
			priv, _, err := ks.Get(ctx, id)
			if err != nil {
				return fmt.Errorf("unable to find key %s: %w", id, err)
			}
			pubs = append(pubs, priv.Public())
		}
	}
	if role == tuf.RoleRoot {
		now := r.now()
		for i, pub := range pubs {
			id, err := pub.CanonicalID()
			if err != nil {
				return err
			}
			priv, info, err := ks.Get(ctx, id)
			if err != nil {
				return err
			}
			if info.Role != tuf.RoleRoot {
				return fmt.Errorf("attempted to load root key but given %s key instead", info.Role)
			}
			if pubs[i], err = collection.RootCertificateKey(priv, r.gun, now); err != nil {
				return err
			}
		}
	}
	change, err := changelist.NewBaseRoleKeys(role, pubs)
	if err != nil {
		return err
	}
	err = r.publish(ctx, []changelist.Change{change}, publishOptions{legacyVersions: opts.LegacyVersions, removeDropped: true})
	if err != nil && created != "" {
		_ = ks.Remove(ctx, created)
	}
	return err
}

// reachable keeps only the ping errors that say the server cannot be
// reached. Like v0.7.0, whose ping is anonymous and takes a 401 as a sign
// of a live notary server (cmd/notary/tuf.go tokenAuth), any refusal
// counts as an answer: under token auth GET /v2/ needs
// registry:catalog:*, which a user with every right on the GUN need not
// have, and the publish that follows asks for what it needs itself.
func reachable(err error) error {
	var se *ServerError
	if errors.As(err, &se) && (se.Kind == KindUnauthorized || se.Kind == KindRejected) {
		return nil
	}
	return err
}
