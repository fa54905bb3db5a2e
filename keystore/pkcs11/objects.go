//go:build cgo

package pkcs11

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"

	"github.com/miekg/pkcs11"

	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/keystore"
)

// PKCS#11 3.0 names for Ed25519, which github.com/miekg/pkcs11 (written
// against 2.40) lacks. SoftHSM2 2.6 uses the same values.
const (
	ckkECEdwards           = 0x00000040 // CKK_EC_EDWARDS
	ckmECEdwardsKeyPairGen = 0x00001055 // CKM_EC_EDWARDS_KEY_PAIR_GEN
	ckmEdDSA               = 0x00001057 // CKM_EDDSA
)

var (
	oidP256    = asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}
	oidP384    = asn1.ObjectIdentifier{1, 3, 132, 0, 34}
	oidP521    = asn1.ObjectIdentifier{1, 3, 132, 0, 35}
	oidEd25519 = asn1.ObjectIdentifier{1, 3, 101, 112}
)

// keyEntry is what the store knows about a key on the token: immutable
// facts (its ID hashes its public key) plus the private object's handle,
// valid until the next disconnect.
type keyEntry struct {
	info  keystore.KeyInfo
	pub   keys.PublicKey   // plain (non-x509) TUF key
	cpub  crypto.PublicKey // *ecdsa.PublicKey, ed25519.PublicKey or *rsa.PublicKey
	priv  pkcs11.ObjectHandle
	bytes int // ecdsa: the curve's byte size, for raw r||s
}

// rawID is the CKA_ID of a key: the 32 bytes of its canonical ID.
func rawID(id string) ([]byte, error) {
	if !keystore.ValidID(id) {
		return nil, fmt.Errorf("pkcs11: %q: %w", id, keystore.ErrInvalidID)
	}
	return hex.DecodeString(id)
}

// findObjects returns the handles of every object matching template.
func findObjects(p *pkcs11.Ctx, sh pkcs11.SessionHandle, template []*pkcs11.Attribute) ([]pkcs11.ObjectHandle, error) {
	if err := p.FindObjectsInit(sh, template); err != nil {
		return nil, fmt.Errorf("pkcs11: C_FindObjectsInit: %w", err)
	}
	var all []pkcs11.ObjectHandle
	var err error
	for {
		var hs []pkcs11.ObjectHandle
		hs, _, err = p.FindObjects(sh, 64)
		if err != nil {
			err = fmt.Errorf("pkcs11: C_FindObjects: %w", err)
			break
		}
		if len(hs) == 0 {
			break
		}
		all = append(all, hs...)
	}
	if ferr := p.FindObjectsFinal(sh); ferr != nil && err == nil {
		err = fmt.Errorf("pkcs11: C_FindObjectsFinal: %w", ferr)
	}
	return all, err
}

func findByID(p *pkcs11.Ctx, sh pkcs11.SessionHandle, class uint, id []byte) ([]pkcs11.ObjectHandle, error) {
	return findObjects(p, sh, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, class),
		pkcs11.NewAttribute(pkcs11.CKA_ID, id),
	})
}

// attrs reads the given attributes of o, in order.
func attrs(p *pkcs11.Ctx, sh pkcs11.SessionHandle, o pkcs11.ObjectHandle, types ...uint) ([][]byte, error) {
	q := make([]*pkcs11.Attribute, len(types))
	for i, typ := range types {
		q[i] = pkcs11.NewAttribute(typ, nil)
	}
	got, err := p.GetAttributeValue(sh, o, q)
	if err != nil {
		return nil, err
	}
	out := make([][]byte, len(types))
	for i, a := range got {
		out[i] = a.Value
	}
	return out, nil
}

// ulong decodes a CK_ULONG attribute: native byte order, 4 or 8 bytes.
func ulong(b []byte) (uint, bool) {
	switch len(b) {
	case 4:
		return uint(binary.NativeEndian.Uint32(b)), true
	case 8:
		return uint(binary.NativeEndian.Uint64(b)), true
	}
	return 0, false
}

// loadKey reads key id from the token.
func loadKey(p *pkcs11.Ctx, sh pkcs11.SessionHandle, id string) (*keyEntry, error) {
	raw, err := rawID(id)
	if err != nil {
		return nil, err
	}
	privs, err := findByID(p, sh, pkcs11.CKO_PRIVATE_KEY, raw)
	if err != nil {
		return nil, err
	}
	switch len(privs) {
	case 0:
		if err := errNotLoggedIn(p, sh); err != nil {
			return nil, err
		}
		return nil, &keystore.NotFoundError{ID: id}
	case 1:
	default:
		return nil, fmt.Errorf("pkcs11: token holds %d private keys with ID %s", len(privs), id)
	}
	a, err := attrs(p, sh, privs[0], pkcs11.CKA_KEY_TYPE, pkcs11.CKA_LABEL)
	if err != nil {
		return nil, fmt.Errorf("pkcs11: reading key %s: %w", id, err)
	}
	kt, ok := ulong(a[0])
	if !ok {
		return nil, fmt.Errorf("pkcs11: key %s has a malformed CKA_KEY_TYPE", id)
	}
	role, gun, ok := parseLabel(string(a[1]))
	if !ok {
		return nil, fmt.Errorf("pkcs11: key %s has label %q, not <role>:<gun>", id, a[1])
	}

	// The public key: from the public object, or from the private one for
	// tokens that keep the public attributes there.
	var pubAttrs []uint
	switch kt {
	case pkcs11.CKK_EC, ckkECEdwards:
		pubAttrs = []uint{pkcs11.CKA_EC_PARAMS, pkcs11.CKA_EC_POINT}
	case pkcs11.CKK_RSA:
		pubAttrs = []uint{pkcs11.CKA_MODULUS, pkcs11.CKA_PUBLIC_EXPONENT}
	default:
		return nil, fmt.Errorf("pkcs11: key %s has unsupported CKA_KEY_TYPE %#x", id, kt)
	}
	var pa [][]byte
	pubs, err := findByID(p, sh, pkcs11.CKO_PUBLIC_KEY, raw)
	if err != nil {
		return nil, err
	}
	if len(pubs) > 0 {
		pa, err = attrs(p, sh, pubs[0], pubAttrs...)
	} else {
		pa, err = attrs(p, sh, privs[0], pubAttrs...)
	}
	if err != nil {
		return nil, fmt.Errorf("pkcs11: reading the public key of %s: %w", id, err)
	}
	e := &keyEntry{priv: privs[0]}
	switch kt {
	case pkcs11.CKK_EC:
		k, err := ecPublicKey(pa[0], pa[1])
		if err != nil {
			return nil, fmt.Errorf("pkcs11: key %s: %w", id, err)
		}
		e.cpub, e.bytes, e.info.Type = k, (k.Curve.Params().BitSize+7)/8, keys.ECDSA
	case ckkECEdwards:
		k, err := edPublicKey(pa[0], pa[1])
		if err != nil {
			return nil, fmt.Errorf("pkcs11: key %s: %w", id, err)
		}
		e.cpub, e.info.Type = k, keys.ED25519
	case pkcs11.CKK_RSA:
		k := &rsa.PublicKey{N: new(big.Int).SetBytes(pa[0])}
		exp := new(big.Int).SetBytes(pa[1])
		if !exp.IsInt64() || exp.Int64() < 3 || exp.Int64() > 1<<31-1 {
			return nil, fmt.Errorf("pkcs11: key %s: bad rsa public exponent", id)
		}
		k.E = int(exp.Int64())
		e.cpub, e.info.Type = k, keys.RSA
	}
	if e.pub, err = tufPublicKey(e.cpub); err != nil {
		return nil, fmt.Errorf("pkcs11: key %s: %w", id, err)
	}
	if got := e.pub.ID(); got != id {
		return nil, fmt.Errorf("pkcs11: key filed under ID %s has public key %s", id, got)
	}
	e.info.ID, e.info.Role, e.info.GUN = id, role, gun
	return e, nil
}

// tufPublicKey is the plain TUF key of a public key (v1 §3.1).
func tufPublicKey(pub crypto.PublicKey) (keys.PublicKey, error) {
	switch k := pub.(type) {
	case ed25519.PublicKey:
		return keys.NewPublicKey(keys.ED25519, append([]byte(nil), k...)), nil
	case *ecdsa.PublicKey:
		der, err := x509.MarshalPKIXPublicKey(k)
		return keys.NewPublicKey(keys.ECDSA, der), err
	case *rsa.PublicKey:
		der, err := x509.MarshalPKIXPublicKey(k)
		return keys.NewPublicKey(keys.RSA, der), err
	}
	return keys.PublicKey{}, fmt.Errorf("unsupported public key %T", pub)
}

func curveOf(params []byte) (elliptic.Curve, error) {
	var oid asn1.ObjectIdentifier
	if rest, err := asn1.Unmarshal(params, &oid); err != nil || len(rest) != 0 {
		return nil, errors.New("CKA_EC_PARAMS is not a named curve OID")
	}
	switch {
	case oid.Equal(oidP256):
		return elliptic.P256(), nil
	case oid.Equal(oidP384):
		return elliptic.P384(), nil
	case oid.Equal(oidP521):
		return elliptic.P521(), nil
	}
	return nil, fmt.Errorf("unsupported curve %v", oid)
}

func curveParams(c elliptic.Curve) ([]byte, error) {
	var oid asn1.ObjectIdentifier
	switch c {
	case elliptic.P256():
		oid = oidP256
	case elliptic.P384():
		oid = oidP384
	case elliptic.P521():
		oid = oidP521
	default:
		return nil, fmt.Errorf("unsupported curve %s", c.Params().Name)
	}
	return asn1.Marshal(oid)
}

// unwrapPoint returns the point inside CKA_EC_POINT, which PKCS#11 says
// is a DER OCTET STRING but some tokens give raw. want is the raw length.
func unwrapPoint(b []byte, want int) []byte {
	var inner []byte
	if rest, err := asn1.Unmarshal(b, &inner); err == nil && len(rest) == 0 && len(inner) == want {
		return inner
	}
	return b
}

func ecPublicKey(params, point []byte) (*ecdsa.PublicKey, error) {
	curve, err := curveOf(params)
	if err != nil {
		return nil, err
	}
	size := (curve.Params().BitSize + 7) / 8
	k, err := ecdsa.ParseUncompressedPublicKey(curve, unwrapPoint(point, 1+2*size))
	if err != nil {
		return nil, fmt.Errorf("bad CKA_EC_POINT: %w", err)
	}
	return k, nil
}

func edPublicKey(params, point []byte) (ed25519.PublicKey, error) {
	var oid asn1.ObjectIdentifier
	var name string
	switch {
	case func() bool { rest, err := asn1.Unmarshal(params, &oid); return err == nil && len(rest) == 0 }():
		if !oid.Equal(oidEd25519) {
			return nil, fmt.Errorf("unsupported Edwards curve %v", oid)
		}
	case func() bool {
		rest, err := asn1.UnmarshalWithParams(params, &name, "printable")
		return err == nil && len(rest) == 0
	}():
		if name != "edwards25519" {
			return nil, fmt.Errorf("unsupported Edwards curve %q", name)
		}
	default:
		return nil, errors.New("CKA_EC_PARAMS names no Edwards curve")
	}
	p := unwrapPoint(point, ed25519.PublicKeySize)
	if len(p) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("bad ed25519 CKA_EC_POINT of %d bytes", len(p))
	}
	return ed25519.PublicKey(bytes.Clone(p)), nil
}

func encodeOID(oid asn1.ObjectIdentifier) ([]byte, error) { return asn1.Marshal(oid) }

// encodePoint is CKA_EC_POINT for a public key: a DER OCTET STRING.
func encodePoint(raw []byte) ([]byte, error) { return asn1.Marshal(raw) }

// keyTypeName maps CKA_KEY_TYPE to a Notary key type, "" for others.
func keyTypeName(kt uint) string {
	switch kt {
	case pkcs11.CKK_EC:
		return keys.ECDSA
	case ckkECEdwards:
		return keys.ED25519
	case pkcs11.CKK_RSA:
		return keys.RSA
	}
	return ""
}
