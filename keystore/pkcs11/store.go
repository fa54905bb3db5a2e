//go:build cgo

package pkcs11

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"math/big"
	"sync/atomic"

	"github.com/miekg/pkcs11"

	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/keystore"
)

// Store is a keystore.Service whose private keys live on one PKCS#11
// token. It is safe for concurrent use; see the package documentation for
// sessions, reconnects and what Get returns.
type Store struct {
	t      *token
	cfg    Config
	closed atomic.Bool
}

var _ keystore.Service = (*Store)(nil)

// Open loads cfg.Module, finds the token labelled cfg.TokenLabel and logs
// in with cfg.PIN. A wrong PIN fails with an error matching
// ErrPINIncorrect, a missing token with ErrTokenNotFound. Close the store
// when done.
func Open(cfg Config) (*Store, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	t, err := openToken(cfg)
	if err != nil {
		return nil, err
	}
	return &Store{t: t, cfg: cfg}, nil
}

// Close releases the store. When it is the process's last store on the
// token, its sessions close (which logs out) and, with the last store on
// the module, the module is finalised. Calls still in flight may fail.
// Close is idempotent.
func (s *Store) Close() error {
	if s.closed.CompareAndSwap(false, true) {
		s.t.release()
	}
	return nil
}

// Config returns the store's configuration (print it freely: its String
// method hides the PIN).
func (s *Store) Config() Config { return s.cfg }

func (s *Store) check(ctx context.Context) error {
	if s.closed.Load() {
		return ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("pkcs11: %w", err)
	}
	return nil
}

// do runs fn on a session of the store's token; fn only reads objects.
func (s *Store) do(ctx context.Context, fn func(p *pkcs11.Ctx, sh pkcs11.SessionHandle) error) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	return s.t.do(ctx, false, fn)
}

// doWrite is do for fn that create, change or destroy objects.
func (s *Store) doWrite(ctx context.Context, fn func(p *pkcs11.Ctx, sh pkcs11.SessionHandle) error) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	return s.t.do(ctx, true, fn)
}

// Create generates a key pair of keyType (ecdsa: P-256; ed25519 if the
// token has CKM_EC_EDWARDS_KEY_PAIR_GEN) on the token for role and gun and
// returns its public key. The private half is a token object with
// CKA_SENSITIVE true and CKA_EXTRACTABLE false. Create always makes a new
// key.
func (s *Store) Create(ctx context.Context, role, gun, keyType string) (keys.PublicKey, error) {
	if err := s.check(ctx); err != nil {
		return keys.PublicKey{}, err
	}
	label, err := objectLabel(role, gun)
	if err != nil {
		return keys.PublicKey{}, err
	}
	var mech uint
	var ckk uint
	var params []byte
	switch keyType {
	case keys.ECDSA:
		mech, ckk = pkcs11.CKM_EC_KEY_PAIR_GEN, pkcs11.CKK_EC
		params, _ = curveParams(elliptic.P256())
	case keys.ED25519:
		mech, ckk = ckmECEdwardsKeyPairGen, ckkECEdwards
		params, _ = encodeOID(oidEd25519)
	default:
		return keys.PublicKey{}, fmt.Errorf("pkcs11: cannot generate %q keys (want ecdsa or ed25519)", keyType)
	}
	// The ID hashes the public key, which exists only once the pair does:
	// generate under a random 16-byte CKA_ID (which List ignores, should
	// we die here) and then set the real one.
	tmpID := make([]byte, 16)
	if _, err := rand.Read(tmpID); err != nil {
		return keys.PublicKey{}, err
	}
	pubTemplate := []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PUBLIC_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, ckk),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
		pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, false),
		pkcs11.NewAttribute(pkcs11.CKA_VERIFY, true),
		pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, params),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
		pkcs11.NewAttribute(pkcs11.CKA_ID, tmpID),
	}
	privTemplate := []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, ckk),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
		pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
		pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true),
		pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, false),
		pkcs11.NewAttribute(pkcs11.CKA_SIGN, true),
		pkcs11.NewAttribute(pkcs11.CKA_DERIVE, false),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
		pkcs11.NewAttribute(pkcs11.CKA_ID, tmpID),
	}
	var pub keys.PublicKey
	err = s.doWrite(ctx, func(p *pkcs11.Ctx, sh pkcs11.SessionHandle) error {
		pubH, privH, err := p.GenerateKeyPair(sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(mech, nil)}, pubTemplate, privTemplate)
		if err != nil {
			if isCode(err, pkcs11.CKR_MECHANISM_INVALID) {
				return fmt.Errorf("pkcs11: token %q cannot generate %s keys: %w", s.cfg.TokenLabel, keyType, err)
			}
			return fmt.Errorf("pkcs11: C_GenerateKeyPair: %w", err)
		}
		pub, err = finishCreate(p, sh, pubH, privH, keyType)
		if err != nil {
			_ = p.DestroyObject(sh, privH)
			_ = p.DestroyObject(sh, pubH)
		}
		return err
	})
	if err != nil {
		return keys.PublicKey{}, err
	}
	return pub, nil
}

// finishCreate reads the new public key and files both objects under its ID.
func finishCreate(p *pkcs11.Ctx, sh pkcs11.SessionHandle, pubH, privH pkcs11.ObjectHandle, keyType string) (keys.PublicKey, error) {
	a, err := attrs(p, sh, pubH, pkcs11.CKA_EC_PARAMS, pkcs11.CKA_EC_POINT)
	if err != nil {
		return keys.PublicKey{}, fmt.Errorf("pkcs11: reading the new public key: %w", err)
	}
	var pub keys.PublicKey
	if keyType == keys.ECDSA {
		k, err := ecPublicKey(a[0], a[1])
		if err != nil {
			return keys.PublicKey{}, fmt.Errorf("pkcs11: new key: %w", err)
		}
		if pub, err = tufPublicKey(k); err != nil {
			return keys.PublicKey{}, err
		}
	} else {
		k, err := edPublicKey(a[0], a[1])
		if err != nil {
			return keys.PublicKey{}, fmt.Errorf("pkcs11: new key: %w", err)
		}
		pub, _ = tufPublicKey(k)
	}
	raw, _ := rawID(pub.ID())
	for _, h := range []pkcs11.ObjectHandle{privH, pubH} {
		if err := p.SetAttributeValue(sh, h, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_ID, raw)}); err != nil {
			return keys.PublicKey{}, fmt.Errorf("pkcs11: setting CKA_ID of the new key: %w", err)
		}
	}
	return pub, nil
}

// Add imports a software key (ecdsa on P-256, P-384 or P-521, ed25519 if
// the token has Ed25519, rsa) onto the token with C_CreateObject, as a
// sensitive, non-extractable private key object and a public key object.
// An x509 key is stored as its plain key. Adding an ID the token already
// holds fails with ErrExists. The caller should discard its software copy
// if the token is to be the only holder.
func (s *Store) Add(ctx context.Context, info keystore.KeyInfo, key *keys.PrivateKey) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if key == nil {
		return errors.New("pkcs11: nil key")
	}
	id := key.CanonicalID()
	if info.ID != "" && info.ID != id {
		return fmt.Errorf("pkcs11: KeyInfo.ID %s is not the key's canonical ID %s", info.ID, id)
	}
	label, err := objectLabel(info.Role, info.GUN)
	if err != nil {
		return err
	}
	raw, err := rawID(id)
	if err != nil {
		return err
	}
	pubT, privT, err := importTemplates(key.CryptoSigner(), label, raw)
	if err != nil {
		return err
	}
	defer func() {
		for _, a := range privT {
			clear(a.Value)
		}
	}()
	return s.doWrite(ctx, func(p *pkcs11.Ctx, sh pkcs11.SessionHandle) error {
		if hs, err := findByID(p, sh, pkcs11.CKO_PRIVATE_KEY, raw); err != nil {
			return err
		} else if len(hs) > 0 {
			return &keystore.ExistsError{ID: id}
		}
		if err := errNotLoggedIn(p, sh); err != nil {
			return err
		}
		// Leftover public objects of a half-removed key would make two.
		if hs, err := findByID(p, sh, pkcs11.CKO_PUBLIC_KEY, raw); err == nil {
			for _, h := range hs {
				_ = p.DestroyObject(sh, h)
			}
		}
		pubH, err := p.CreateObject(sh, pubT)
		if err != nil {
			return fmt.Errorf("pkcs11: importing public key %s: %w", id, err)
		}
		if _, err := p.CreateObject(sh, privT); err != nil {
			_ = p.DestroyObject(sh, pubH)
			if isCode(err, pkcs11.CKR_ATTRIBUTE_VALUE_INVALID, pkcs11.CKR_TEMPLATE_INCONSISTENT, pkcs11.CKR_KEY_TYPE_INCONSISTENT) {
				return fmt.Errorf("pkcs11: token %q refused to import %s key %s: %w", s.cfg.TokenLabel, key.Plain().Type(), id, err)
			}
			return fmt.Errorf("pkcs11: importing private key %s: %w", id, err)
		}
		return nil
	})
}

// importTemplates builds the C_CreateObject templates for a software key.
func importTemplates(k any, label string, id []byte) (pub, priv []*pkcs11.Attribute, err error) {
	common := func(class, ckk uint) []*pkcs11.Attribute {
		return []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_CLASS, class),
			pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, ckk),
			pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
			pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
			pkcs11.NewAttribute(pkcs11.CKA_ID, id),
		}
	}
	privFlags := []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
		pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true),
		pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, false),
		pkcs11.NewAttribute(pkcs11.CKA_SIGN, true),
	}
	pubFlags := []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, false),
		pkcs11.NewAttribute(pkcs11.CKA_VERIFY, true),
	}
	switch k := k.(type) {
	case *ecdsa.PrivateKey:
		params, err := curveParams(k.Curve)
		if err != nil {
			return nil, nil, fmt.Errorf("pkcs11: cannot import ecdsa key: %w", err)
		}
		ecdhPub, err := k.PublicKey.ECDH()
		if err != nil {
			return nil, nil, fmt.Errorf("pkcs11: cannot import ecdsa key: %w", err)
		}
		point, err := encodePoint(ecdhPub.Bytes())
		if err != nil {
			return nil, nil, err
		}
		d, err := k.Bytes()
		if err != nil {
			return nil, nil, fmt.Errorf("pkcs11: cannot import ecdsa key: %w", err)
		}
		pub = append(common(pkcs11.CKO_PUBLIC_KEY, pkcs11.CKK_EC), pubFlags...)
		pub = append(pub, pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, params), pkcs11.NewAttribute(pkcs11.CKA_EC_POINT, point))
		priv = append(common(pkcs11.CKO_PRIVATE_KEY, pkcs11.CKK_EC), privFlags...)
		priv = append(priv, pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, params), pkcs11.NewAttribute(pkcs11.CKA_VALUE, d))
	case ed25519.PrivateKey:
		params, _ := encodeOID(oidEd25519)
		point, err := encodePoint(k.Public().(ed25519.PublicKey))
		if err != nil {
			return nil, nil, err
		}
		pub = append(common(pkcs11.CKO_PUBLIC_KEY, ckkECEdwards), pubFlags...)
		pub = append(pub, pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, params), pkcs11.NewAttribute(pkcs11.CKA_EC_POINT, point))
		priv = append(common(pkcs11.CKO_PRIVATE_KEY, ckkECEdwards), privFlags...)
		priv = append(priv, pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, params), pkcs11.NewAttribute(pkcs11.CKA_VALUE, k.Seed()))
	case *rsa.PrivateKey:
		if len(k.Primes) != 2 {
			return nil, nil, fmt.Errorf("pkcs11: cannot import a %d-prime rsa key", len(k.Primes))
		}
		k.Precompute()
		e := big.NewInt(int64(k.E)).Bytes()
		pub = append(common(pkcs11.CKO_PUBLIC_KEY, pkcs11.CKK_RSA), pubFlags...)
		pub = append(pub, pkcs11.NewAttribute(pkcs11.CKA_MODULUS, k.N.Bytes()), pkcs11.NewAttribute(pkcs11.CKA_PUBLIC_EXPONENT, e))
		priv = append(common(pkcs11.CKO_PRIVATE_KEY, pkcs11.CKK_RSA), privFlags...)
		priv = append(priv,
			pkcs11.NewAttribute(pkcs11.CKA_MODULUS, k.N.Bytes()),
			pkcs11.NewAttribute(pkcs11.CKA_PUBLIC_EXPONENT, e),
			pkcs11.NewAttribute(pkcs11.CKA_PRIVATE_EXPONENT, k.D.Bytes()),
			pkcs11.NewAttribute(pkcs11.CKA_PRIME_1, k.Primes[0].Bytes()),
			pkcs11.NewAttribute(pkcs11.CKA_PRIME_2, k.Primes[1].Bytes()),
			pkcs11.NewAttribute(pkcs11.CKA_EXPONENT_1, k.Precomputed.Dp.Bytes()),
			pkcs11.NewAttribute(pkcs11.CKA_EXPONENT_2, k.Precomputed.Dq.Bytes()),
			pkcs11.NewAttribute(pkcs11.CKA_COEFFICIENT, k.Precomputed.Qinv.Bytes()),
		)
	case cryptoSigner:
		return nil, nil, fmt.Errorf("pkcs11: cannot import key %s: it is held by a token, which never hands out its private half", k.k.e.info.ID)
	default:
		return nil, nil, fmt.Errorf("pkcs11: cannot import a %T key", k)
	}
	return pub, priv, nil
}

// Get returns the key as a *keys.PrivateKey whose signatures the token
// makes, if the keys package accepts a token-backed crypto.Signer
// (keys.FromCrypto). Otherwise it fails with an error matching
// ErrKeyNotExportable: use Signer. Unknown IDs wrap keystore.ErrNotFound,
// malformed ones keystore.ErrInvalidID. The private key never leaves the
// token either way.
func (s *Store) Get(ctx context.Context, id string) (*keys.PrivateKey, keystore.KeyInfo, error) {
	k, err := s.Signer(ctx, id)
	if err != nil {
		return nil, keystore.KeyInfo{}, err
	}
	pk, err := keys.FromCrypto(k.CryptoSigner())
	if err != nil {
		return nil, keystore.KeyInfo{}, &NotExportableError{ID: id, Err: err}
	}
	if pk.CanonicalID() != id {
		return nil, keystore.KeyInfo{}, fmt.Errorf("pkcs11: keys.FromCrypto made key %s from token key %s", pk.CanonicalID(), id)
	}
	return pk, k.Info(), nil
}

// Signer returns a signer for the key with canonical ID id, a key the
// token holds. Unknown IDs wrap keystore.ErrNotFound, malformed ones
// keystore.ErrInvalidID.
func (s *Store) Signer(ctx context.Context, id string) (*Signer, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	if _, err := rawID(id); err != nil {
		return nil, err
	}
	var e *keyEntry
	err := s.do(ctx, func(p *pkcs11.Ctx, sh pkcs11.SessionHandle) error {
		var err error
		e, err = s.t.entry(p, sh, id, false)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &Signer{s: s, e: e, pub: e.pub}, nil
}

// entry returns key id from the cache or the token; fresh skips the cache.
func (t *token) entry(p *pkcs11.Ctx, sh pkcs11.SessionHandle, id string, fresh bool) (*keyEntry, error) {
	t.mu.Lock()
	gen := t.gen
	e := t.keys[id]
	t.mu.Unlock()
	if e != nil && !fresh {
		return e, nil
	}
	e, err := loadKey(p, sh, id)
	if err != nil {
		t.forget(id)
		return nil, err
	}
	t.mu.Lock()
	if t.gen == gen && t.keys != nil {
		t.keys[id] = e
	}
	t.mu.Unlock()
	return e, nil
}

func (t *token) forget(id string) {
	t.mu.Lock()
	delete(t.keys, id)
	t.mu.Unlock()
}

// sign has the token sign data with key id under mechanism mech.
func (t *token) sign(ctx context.Context, id string, mech *pkcs11.Mechanism, data []byte) ([]byte, error) {
	var sig []byte
	err := t.do(ctx, false, func(p *pkcs11.Ctx, sh pkcs11.SessionHandle) error {
		for fresh := false; ; fresh = true {
			e, err := t.entry(p, sh, id, fresh)
			if err != nil {
				return err
			}
			err = p.SignInit(sh, []*pkcs11.Mechanism{mech}, e.priv)
			if err == nil {
				if sig, err = p.Sign(sh, data); err != nil {
					return fmt.Errorf("pkcs11: C_Sign with key %s: %w", id, err)
				}
				return nil
			}
			// A handle cached before another process removed or
			// replaced the key: look it up again, once.
			if !fresh && isCode(err, pkcs11.CKR_KEY_HANDLE_INVALID, pkcs11.CKR_OBJECT_HANDLE_INVALID) {
				continue
			}
			return fmt.Errorf("pkcs11: C_SignInit with key %s: %w", id, err)
		}
	})
	return sig, err
}

// List returns every Notary key on the token: private key objects with a
// 32-byte CKA_ID and a "<role>:<gun>" label.
func (s *Store) List(ctx context.Context) ([]keystore.KeyInfo, error) {
	var out []keystore.KeyInfo
	err := s.do(ctx, func(p *pkcs11.Ctx, sh pkcs11.SessionHandle) error {
		out = out[:0]
		if err := errNotLoggedIn(p, sh); err != nil {
			return err
		}
		hs, err := findObjects(p, sh, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY)})
		if err != nil {
			return err
		}
		for _, h := range hs {
			a, err := attrs(p, sh, h, pkcs11.CKA_ID, pkcs11.CKA_LABEL, pkcs11.CKA_KEY_TYPE)
			if err != nil {
				if isCode(err, pkcs11.CKR_OBJECT_HANDLE_INVALID) {
					continue // removed meanwhile
				}
				return fmt.Errorf("pkcs11: reading key attributes: %w", err)
			}
			if len(a[0]) != 32 {
				continue
			}
			role, gun, ok := parseLabel(string(a[1]))
			if !ok {
				continue
			}
			kt, _ := ulong(a[2])
			typ := keyTypeName(kt)
			if typ == "" {
				continue
			}
			out = append(out, keystore.KeyInfo{ID: fmt.Sprintf("%x", a[0]), Role: role, GUN: gun, Type: typ})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Remove destroys the key's objects on the token: its private and public
// key objects and any other object filed under its CKA_ID (a certificate
// some tool put there). An ID with no private key object wraps
// keystore.ErrNotFound, after leftovers under that ID are destroyed.
func (s *Store) Remove(ctx context.Context, id string) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	raw, err := rawID(id)
	if err != nil {
		return err
	}
	defer s.t.forget(id)
	return s.doWrite(ctx, func(p *pkcs11.Ctx, sh pkcs11.SessionHandle) error {
		privs, err := findByID(p, sh, pkcs11.CKO_PRIVATE_KEY, raw)
		if err != nil {
			return err
		}
		if len(privs) == 0 {
			if err := errNotLoggedIn(p, sh); err != nil {
				return err
			}
		}
		hs, err := findObjects(p, sh, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_ID, raw)})
		if err != nil {
			return err
		}
		for _, h := range hs {
			if err := p.DestroyObject(sh, h); err != nil && !isCode(err, pkcs11.CKR_OBJECT_HANDLE_INVALID) {
				return fmt.Errorf("pkcs11: destroying key %s: %w", id, err)
			}
		}
		if len(privs) == 0 {
			return &keystore.NotFoundError{ID: id}
		}
		return nil
	})
}
