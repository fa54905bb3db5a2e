package tuf

import (
	"context"
	"errors"
	"fmt"

	"github.com/notary-go/notary/keys"
)

// A Signer signs canonical metadata bytes for one TUF public key. Local
// keys, key stores and the remote notary-signer all implement it.
// Implementations must be safe for concurrent use.
type Signer interface {
	// Public is the TUF public key the signature is made for; its TUF ID
	// (keys.PublicKey.ID) becomes the signature's keyid (v1 §3.3).
	Public() keys.PublicKey
	// Sign signs msg, the full canonical bytes (not a digest, v1 §3.4),
	// and returns the raw signature and its v1 method ("ecdsa", "eddsa",
	// "rsapss").
	Sign(ctx context.Context, msg []byte) (sig []byte, method string, err error)
}

// A TrustedSigner is a Signer that may vouch for its own signatures:
// when SignaturesTrusted reports true, SignCanonical does not verify what
// it returns. Only a signer that signs in process with a software private
// key whose Public() is derived from that very key should say so (the
// server's in-process key service): verifying costs more than signing
// (about 3x for ECDSA P-256) and catches nothing there but hardware
// faults. Remote and token-backed signers must not.
type TrustedSigner interface {
	Signer
	SignaturesTrusted() bool
}

// LocalSigner adapts an in-memory private key to Signer.
func LocalSigner(k *keys.PrivateKey) Signer { return localSigner{k} }

type localSigner struct{ k *keys.PrivateKey }

var _ Signer = localSigner{}

func (s localSigner) Public() keys.PublicKey { return s.k.Public() }

func (s localSigner) Sign(ctx context.Context, msg []byte) ([]byte, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	sig, err := s.k.Sign(msg)
	return sig, s.k.Method(), err
}

// Sign canonicalises body (see CanonicalSigned), signs it with every signer
// and returns the envelope (Signed holds the canonical bytes) and the file
// bytes v1 would write (see MarshalEnvelope). Signers are used in order;
// a signer whose key ID repeats an earlier one is skipped. Each signature
// is verified before it is used, so a faulty remote signer is caught here.
// At least one signer is required.
func Sign(ctx context.Context, body any, signers ...Signer) (*Envelope, []byte, error) {
	canonical, err := CanonicalSigned(body)
	if err != nil {
		return nil, nil, err
	}
	sigs, err := SignCanonical(ctx, canonical, signers...)
	if err != nil {
		return nil, nil, err
	}
	env := &Envelope{Signed: canonical, Signatures: sigs}
	return env, appendEnvelope(nil, canonical, sigs), nil
}

// SignCanonical signs bytes that are already canonical and returns one
// signature per distinct signer key, in signer order. It fails if there is
// no signer, if any signer fails, or if a signature does not verify with
// the signer's public key under the returned method.
func SignCanonical(ctx context.Context, canonical []byte, signers ...Signer) ([]Signature, error) {
	if len(signers) == 0 {
		return nil, &SigningError{Err: errors.New("no signing keys")}
	}
	sigs := make([]Signature, 0, len(signers))
	seen := make(map[string]bool, len(signers))
	for _, s := range signers {
		if s == nil {
			return nil, &SigningError{Err: errors.New("nil signer")}
		}
		pub := s.Public()
		id := pub.ID()
		if seen[id] {
			continue
		}
		seen[id] = true
		sig, method, err := s.Sign(ctx, canonical)
		if err != nil {
			return nil, &SigningError{KeyID: id, Err: err}
		}
		if !keys.MethodAllowed(pub.Type, method) {
			return nil, &SigningError{KeyID: id, Err: fmt.Errorf("method %q cannot sign for a %s key", method, pub.Type)}
		}
		if ts, ok := s.(TrustedSigner); ok && ts.SignaturesTrusted() {
			sigs = append(sigs, Signature{KeyID: id, Method: method, Sig: sig})
			continue
		}
		if err := pub.Verify(method, canonical, sig); err != nil {
			return nil, &SigningError{KeyID: id, Err: fmt.Errorf("signer returned a signature that does not verify: %w", err)}
		}
		sigs = append(sigs, Signature{KeyID: id, Method: method, Sig: sig})
	}
	return sigs, nil
}

// AddSignatures signs env.Signed (after canonicalising it) with the given
// signers. A new signature takes the place of the first existing one with
// the same keyid (later ones are dropped); other existing signatures are
// kept, in order, and the rest of the new ones are appended.
// env.Signed is replaced by its canonical form.
func AddSignatures(ctx context.Context, env *Envelope, signers ...Signer) error {
	canonical, err := CanonicalSigned([]byte(env.Signed))
	if err != nil {
		return err
	}
	sigs, err := SignCanonical(ctx, canonical, signers...)
	if err != nil {
		return err
	}
	fresh := make(map[string]Signature, len(sigs))
	for _, s := range sigs {
		fresh[s.KeyID] = s
	}
	placed := make(map[string]bool, len(sigs))
	out := make([]Signature, 0, len(env.Signatures)+len(sigs))
	for _, s := range env.Signatures {
		n, ok := fresh[s.KeyID]
		switch {
		case !ok:
			out = append(out, s)
		case !placed[s.KeyID]:
			out = append(out, n)
			placed[s.KeyID] = true
		}
	}
	for _, s := range sigs {
		if !placed[s.KeyID] {
			out = append(out, s)
		}
	}
	env.Signed, env.Signatures = canonical, out
	return nil
}
