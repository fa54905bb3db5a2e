package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/storage"
	"github.com/notary-go/notary/tuf"
)

// A KeyService creates and uses the private keys the server signs with:
// the timestamp key of every collection, and the snapshot key of those
// that leave the snapshot to the server. notary-signer (remote) and an
// in-process key store both implement it. Implementations are safe for
// concurrent use; the server bounds every call with a timeout through ctx.
type KeyService interface {
	// CreateKey makes a new key of type algorithm ("ecdsa", "ed25519")
	// for role of gun and returns its public key. An implementation may
	// return an existing key it created for the same (gun, role,
	// algorithm) that has never signed (notary-signer's pending keys).
	CreateKey(ctx context.Context, gun, role, algorithm string) (keys.PublicKey, error)

	// Signer returns a signer for the private half of pub if the service
	// holds it for role (and, where it records one, for gun). Otherwise
	// it returns an error wrapping ErrKeyNotFound. Any other error means
	// the service could not answer; the server then answers 503.
	Signer(ctx context.Context, gun, role string, pub keys.PublicKey) (tuf.Signer, error)
}

// keyCtx bounds one KeyService call.
func (s *Server) keyCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.keyTimeout)
}

// createKey asks the key service for a new key of role.
func (s *Server) createKey(ctx context.Context, gun, role string) (keys.PublicKey, error) {
	if s.keys == nil {
		return keys.PublicKey{}, errNoKeyService
	}
	kctx, cancel := s.keyCtx(ctx)
	defer cancel()
	k, err := s.keys.CreateKey(kctx, gun, role, s.keyAlg)
	if err != nil {
		return keys.PublicKey{}, &KeyServiceError{Op: "create " + role + " key", Err: err}
	}
	s.log.Info("created server key", "gun", gun, "role", role, "keyid", k.ID(), "type", k.Type)
	return k, nil
}

// heldSigners returns signers for the keys of rk that the key service
// holds, in rk.KeyIDs order. Keys it does not hold are skipped; any other
// failure is a *KeyServiceError.
func (s *Server) heldSigners(ctx context.Context, gun string, rk tuf.RoleKeys) ([]tuf.Signer, error) {
	if s.keys == nil {
		return nil, errNoKeyService
	}
	var out []tuf.Signer
	seen := map[string]bool{}
	for _, id := range rk.KeyIDs {
		pub, ok := rk.Keys[id]
		if !ok || seen[id] {
			continue
		}
		seen[id] = true
		kctx, cancel := s.keyCtx(ctx)
		sg, err := s.keys.Signer(kctx, gun, rk.Name, pub)
		cancel()
		switch {
		case err == nil:
			out = append(out, timedSigner{sg, s.keyTimeout})
		case errors.Is(err, ErrKeyNotFound):
		default:
			return nil, &KeyServiceError{Op: "find " + rk.Name + " key", Err: err}
		}
	}
	return out, nil
}

// timedSigner bounds each Sign call by the key timeout.
type timedSigner struct {
	tuf.Signer
	timeout time.Duration
}

// SignaturesTrusted passes on the wrapped signer's tuf.TrustedSigner
// claim.
func (t timedSigner) SignaturesTrusted() bool {
	ts, ok := t.Signer.(tuf.TrustedSigner)
	return ok && ts.SignaturesTrusted()
}

func (t timedSigner) Sign(ctx context.Context, msg []byte) ([]byte, string, error) {
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	sig, method, err := t.Signer.Sign(ctx, msg)
	if err != nil {
		return nil, "", &KeyServiceError{Op: "sign", Err: err}
	}
	return sig, method, nil
}

// signerKey returns the current key of a server-managed role: the first
// key of the current root's role the key service holds, else a new one
// (v1 GetOrCreateTimestampKey / GetOrCreateSnapshotKey).
func (s *Server) signerKey(ctx context.Context, gun, role string) (keys.PublicKey, error) {
	c, err := s.loadCollection(ctx, gun)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return s.pendingKey(ctx, gun, role)
	case err != nil:
		return keys.PublicKey{}, err
	}
	_, root, err := s.root(ctx, c)
	if err != nil {
		return keys.PublicKey{}, err
	}
	rk, err := root.RoleKeys(role)
	if err != nil {
		return keys.PublicKey{}, &CorruptError{GUN: gun, Role: tuf.RoleRoot, Err: err}
	}
	if s.keys == nil {
		return keys.PublicKey{}, errNoKeyService
	}
	for _, id := range rk.KeyIDs {
		pub := rk.Keys[id]
		kctx, cancel := s.keyCtx(ctx)
		_, err := s.keys.Signer(kctx, gun, role, pub)
		cancel()
		switch {
		case err == nil:
			return pub, nil
		case errors.Is(err, ErrKeyNotFound):
		default:
			return keys.PublicKey{}, &KeyServiceError{Op: "find " + role + " key", Err: err}
		}
	}
	return s.pendingKey(ctx, gun, role)
}

// pendingKey returns the key of role for gun when the current root names
// none the key service holds (or there is no root): one key per (gun,
// role), made on the first read, within the bounds of newKeys.
func (s *Server) pendingKey(ctx context.Context, gun, role string) (keys.PublicKey, error) {
	if s.keys == nil {
		return keys.PublicKey{}, errNoKeyService
	}
	return s.newKeys.get(ctx, gun, role, s.now(), func() (keys.PublicKey, error) {
		// Not bound to this request: others of the same slot wait for it.
		return s.createKey(context.WithoutCancel(ctx), gun, role)
	})
}

// handleGetKey answers GET {snapshot|timestamp}.key.
func (s *Server) handleGetKey(ctx context.Context, w http.ResponseWriter, gun, role string) error {
	if err := checkGUN(gun); err != nil {
		return err
	}
	k, err := s.signerKey(ctx, gun, role)
	if err != nil {
		return err
	}
	return writeKey(w, k)
}

// handleRotateKey answers POST {snapshot|timestamp}.key: always a new key
// (v1 RotateTimestampKey), unused until a root listing it is published.
func (s *Server) handleRotateKey(ctx context.Context, w http.ResponseWriter, gun, role string) error {
	if err := checkGUN(gun); err != nil {
		return err
	}
	k, err := s.createKey(ctx, gun, role)
	if err != nil {
		return err
	}
	return writeKey(w, k)
}

// writeKey writes a public key as v1's server does (json.Marshal of
// data.PublicKey): keyval with "public" before "private", no Content-Type.
func writeKey(w http.ResponseWriter, k keys.PublicKey) error {
	if k.Type == "" || len(k.Public) == 0 {
		return &KeyServiceError{Op: "create key", Err: errors.New("key service returned an empty key")}
	}
	b := make([]byte, 0, 64+base64.StdEncoding.EncodedLen(len(k.Public)))
	b = append(b, `{"keytype":`...)
	b = appendJSONString(b, k.Type)
	b = append(b, `,"keyval":{"public":"`...)
	b = base64.StdEncoding.AppendEncode(b, k.Public)
	b = append(b, `","private":null}}`...)
	_, err := w.Write(b)
	return err
}

func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always marshals
	return append(b, q...)
}
