package keystore

import (
	"context"
	"errors"
	"strings"

	"github.com/notary-go/notary/keys"
)

// RoleDelegation names every delegation role ("targets/...") in
// Routed.Roles.
const RoleDelegation = "delegation"

// Routed keeps the keys of some roles in one store (Token, e.g. a PKCS#11
// token) and every other key in another (Default, e.g. the trust
// directory's FileStore), as v0.7.0 kept root keys on a YubiKey and the
// rest on disk. Reads look in both. It is safe for concurrent use when
// both stores are.
type Routed struct {
	Token   Service
	Default Service
	// Roles are the roles whose keys Create and Add put on Token: "root",
	// "targets", "snapshot", or RoleDelegation for every delegation.
	Roles map[string]bool
	// TokenName and DefaultName describe where keys live (Locations).
	TokenName, DefaultName string
}

var _ Service = (*Routed)(nil)

// OnToken reports whether keys of role go to the Token store.
func (r *Routed) OnToken(role string) bool {
	if strings.HasPrefix(role, "targets/") {
		return r.Roles[RoleDelegation]
	}
	return r.Roles[role]
}

func (r *Routed) storeFor(role string) Service {
	if r.OnToken(role) {
		return r.Token
	}
	return r.Default
}

// Create makes the key in the store role is routed to.
func (r *Routed) Create(ctx context.Context, role, gun, keyType string) (keys.PublicKey, error) {
	return r.storeFor(role).Create(ctx, role, gun, keyType)
}

// Add stores key in the store info.Role is routed to; a key already in
// the other store is refused with ErrExists, so one ID lives in one place.
func (r *Routed) Add(ctx context.Context, info KeyInfo, key *keys.PrivateKey) error {
	target, other := r.Default, r.Token
	if r.OnToken(info.Role) {
		target, other = r.Token, r.Default
	}
	if _, _, err := other.Get(ctx, key.CanonicalID()); err == nil {
		return &existsError{id: key.CanonicalID()}
	}
	return target.Add(ctx, info, key)
}

type existsError struct{ id string }

func (e *existsError) Error() string { return "key " + e.id + " already exists in the other key store" }
func (e *existsError) Unwrap() error { return ErrExists }

// Get looks on the token first, then in the default store.
func (r *Routed) Get(ctx context.Context, id string) (*keys.PrivateKey, KeyInfo, error) {
	k, info, err := r.Token.Get(ctx, id)
	if err == nil || !errors.Is(err, ErrNotFound) {
		return k, info, err
	}
	return r.Default.Get(ctx, id)
}

// List lists both stores.
func (r *Routed) List(ctx context.Context) ([]KeyInfo, error) {
	located, err := r.Locations(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]KeyInfo, len(located))
	for i, l := range located {
		out[i] = l.KeyInfo
	}
	return out, nil
}

// LocatedKey is a key and the name of the store holding it.
type LocatedKey struct {
	KeyInfo
	Location string
}

// Locations lists both stores' keys with TokenName or DefaultName.
func (r *Routed) Locations(ctx context.Context) ([]LocatedKey, error) {
	var out []LocatedKey
	for _, s := range []struct {
		svc  Service
		name string
	}{{r.Token, r.TokenName}, {r.Default, r.DefaultName}} {
		infos, err := s.svc.List(ctx)
		if err != nil {
			return nil, err
		}
		for _, i := range infos {
			out = append(out, LocatedKey{KeyInfo: i, Location: s.name})
		}
	}
	return out, nil
}

// Remove deletes the key from whichever store holds it (both, if both do).
func (r *Routed) Remove(ctx context.Context, id string) error {
	errT := r.Token.Remove(ctx, id)
	errD := r.Default.Remove(ctx, id)
	switch {
	case errT == nil || errD == nil:
		if errT != nil && !errors.Is(errT, ErrNotFound) {
			return errT
		}
		if errD != nil && !errors.Is(errD, ErrNotFound) {
			return errD
		}
		return nil
	case errors.Is(errT, ErrNotFound):
		return errD
	default:
		return errT
	}
}
