//go:build cgo

package pkcs11

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/pkcs11"

	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/keystore"
	"github.com/notary-go/notary/keystore/keystoretest"
	"github.com/notary-go/notary/tuf"
)

const gun = "example.com/pkcs11"

var msg = []byte(`{"_type":"Targets","expires":"2030-01-01T00:00:00Z","version":1}`)

// TestSoftHSM runs every test that needs a token, on one SoftHSM2 set up
// once (see setupHSM); each subtest makes its own tokens.
func TestSoftHSM(t *testing.T) {
	env := setupHSM(t)
	holdModule(t, env)
	ctx := context.Background()

	t.Run("Conformance", func(t *testing.T) {
		open := func(t *testing.T) keystore.Service { return openStore(t, env) }
		keystoretest.Run(t, open, keystoretest.Reopen(func(t *testing.T, old keystore.Service) keystore.Service {
			cfg := old.(*Store).Config()
			old.(*Store).Close()
			s, err := Open(cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}), keystoretest.NonExportable())
	})

	t.Run("TokenCases", func(t *testing.T) { tokenCases(t, env) })

	t.Run("GetTokenBacked", func(t *testing.T) {
		s := openStore(t, env)
		pub, err := s.Create(ctx, "targets", gun, keys.ECDSA)
		if err != nil {
			t.Fatal(err)
		}
		key, info, err := s.Get(ctx, pub.ID())
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		if info.ID != pub.ID() || key.CanonicalID() != pub.ID() {
			t.Errorf("Get = %s, %+v; want key %s", key.CanonicalID(), info, pub.ID())
		}
		if _, err := key.Bytes(); !errors.Is(err, keys.ErrNotExportable) {
			t.Errorf("a token key's Bytes: err = %v, want keys.ErrNotExportable", err)
		}
		checkKeySigns(t, key, pub)
	})

	t.Run("PrivateKeyAttributes", func(t *testing.T) {
		s := openStore(t, env)
		gen, err := s.Create(ctx, "root", "", keys.ECDSA)
		if err != nil {
			t.Fatal(err)
		}
		ed, err := s.Create(ctx, "snapshot", gun, keys.ED25519)
		if err != nil {
			t.Fatal(err)
		}
		imported, err := keys.Generate(keys.ECDSA)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Add(ctx, keystore.KeyInfo{Role: "targets/imported"}, imported); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name      string
			id        string
			generated bool
		}{
			{"generated-ecdsa", gen.ID(), true},
			{"generated-ed25519", ed.ID(), true},
			{"imported-ecdsa", imported.CanonicalID(), false},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				checkPrivateObject(t, s, tt.id, tt.generated)
			})
		}
	})

	t.Run("Verify", func(t *testing.T) {
		s := openStore(t, env)
		rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		rk, err := keys.FromCrypto(rsaKey)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Add(ctx, keystore.KeyInfo{Role: "targets/rsa"}, rk); err != nil {
			t.Fatalf("Add rsa: %v", err)
		}
		edKey, err := keys.Generate(keys.ED25519)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Add(ctx, keystore.KeyInfo{Role: "targets/ed"}, edKey); err != nil {
			t.Fatalf("Add ed25519: %v", err)
		}
		ids := []string{rk.CanonicalID(), edKey.CanonicalID()}
		for _, typ := range []string{keys.ECDSA, keys.ED25519} {
			pub, err := s.Create(ctx, "targets", gun, typ)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, pub.ID())
		}
		var signers []tuf.Signer
		keyMap := map[string]keys.PublicKey{}
		for _, id := range ids {
			k, err := s.Signer(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			sig, method, err := k.Sign(ctx, msg)
			if err != nil {
				t.Fatalf("%s Sign: %v", k.Info().Type, err)
			}
			if method != k.Method() || !keys.MethodAllowed(k.Public().Type, method) {
				t.Errorf("%s key signed with method %q", k.Info().Type, method)
			}
			if err := k.Public().Verify(method, msg, sig); err != nil {
				t.Errorf("%s signature does not verify with keys.PublicKey.Verify: %v", k.Info().Type, err)
			}
			bad := append([]byte(nil), msg...)
			bad[0] ^= 1
			if err := k.Public().Verify(method, bad, sig); err == nil {
				t.Errorf("%s signature verifies another message", k.Info().Type)
			}
			signers = append(signers, k)
			keyMap[k.Public().ID()] = k.Public()
		}
		canonical := []byte(`{"_type":"Targets","expires":"2030-01-01T00:00:00Z","targets":{},"version":1}`)
		sigs, err := tuf.SignCanonical(ctx, canonical, signers...)
		if err != nil {
			t.Fatalf("tuf.SignCanonical: %v", err)
		}
		if len(sigs) != len(ids) {
			t.Fatalf("tuf.SignCanonical made %d signatures, want %d", len(sigs), len(ids))
		}
		keyIDs := make([]string, 0, len(keyMap))
		for id := range keyMap {
			keyIDs = append(keyIDs, id)
		}
		if err := tuf.VerifyCanonical(canonical, sigs, "targets", keyMap, keyIDs, len(ids)); err != nil {
			t.Errorf("tuf.VerifyCanonical with threshold %d: %v", len(ids), err)
		}
		env, _, err := tuf.Sign(ctx, map[string]any{"_type": "Targets", "version": 2, "expires": "2030-01-01T00:00:00Z", "targets": map[string]any{}}, signers...)
		if err != nil {
			t.Fatalf("tuf.Sign: %v", err)
		}
		if err := tuf.VerifySignatures(env, "targets", keyMap, keyIDs, len(ids)); err != nil {
			t.Errorf("tuf.VerifySignatures: %v", err)
		}
	})

	t.Run("CryptoSigner", func(t *testing.T) {
		s := openStore(t, env)
		pub, err := s.Create(ctx, "root", "", keys.ECDSA)
		if err != nil {
			t.Fatal(err)
		}
		k, err := s.Signer(ctx, pub.ID())
		if err != nil {
			t.Fatal(err)
		}
		cs := k.CryptoSigner()
		digest := sha256.Sum256(msg)
		der, err := cs.Sign(rand.Reader, digest[:], crypto.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		if !ecdsa.VerifyASN1(cs.Public().(*ecdsa.PublicKey), digest[:], der) {
			t.Error("crypto.Signer ECDSA signature (ASN.1) does not verify")
		}
		// A root key on the token: its self-signed certificate, made as
		// keys.NewRootCertificate makes v1's (§3.5), signs as ecdsa-x509.
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: gun},
			NotBefore: time.Unix(1700000000, 0), NotAfter: time.Unix(1700000000, 0).AddDate(10, 0, 0),
			KeyUsage:              x509.KeyUsageKeyEncipherment | x509.KeyUsageDigitalSignature,
			ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
			BasicConstraintsValid: true,
		}
		certDER, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, cs.Public(), cs)
		if err != nil {
			t.Fatalf("x509.CreateCertificate with the token key: %v", err)
		}
		cert, err := x509.ParseCertificate(certDER)
		if err != nil {
			t.Fatal(err)
		}
		if err := cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature); err != nil {
			t.Errorf("self-signed certificate: %v", err)
		}
		xpub, err := keys.X509PublicKey(cert)
		if err != nil {
			t.Fatal(err)
		}
		xk, err := k.WithPublic(xpub)
		if err != nil {
			t.Fatal(err)
		}
		if cid, _ := xk.Public().CanonicalID(); cid != pub.ID() || xk.Public().ID() == pub.ID() {
			t.Errorf("x509 signer: TUF ID %s canonical %s; want a new TUF ID and canonical ID %s", xk.Public().ID(), cid, pub.ID())
		}
		if _, err := tuf.SignCanonical(ctx, msg, xk); err != nil {
			t.Errorf("signing as ecdsa-x509: %v", err)
		}
		other, _ := keys.Generate(keys.ECDSA)
		if _, err := k.WithPublic(other.Public()); err == nil {
			t.Error("WithPublic accepted another key's public key")
		}

		rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
		rk, _ := keys.FromCrypto(rsaKey)
		if err := s.Add(ctx, keystore.KeyInfo{Role: "targets/rsa"}, rk); err != nil {
			t.Fatal(err)
		}
		rs, err := s.Signer(ctx, rk.CanonicalID())
		if err != nil {
			t.Fatal(err)
		}
		for _, opts := range []crypto.SignerOpts{crypto.SHA256, &rsa.PSSOptions{Hash: crypto.SHA256, SaltLength: rsa.PSSSaltLengthEqualsHash}, &rsa.PSSOptions{Hash: crypto.SHA256}} {
			sig, err := rs.CryptoSigner().Sign(rand.Reader, digest[:], opts)
			if err != nil {
				t.Fatalf("rsa %T: %v", opts, err)
			}
			if pss, ok := opts.(*rsa.PSSOptions); ok {
				err = rsa.VerifyPSS(&rsaKey.PublicKey, crypto.SHA256, digest[:], sig, pss)
			} else {
				err = rsa.VerifyPKCS1v15(&rsaKey.PublicKey, crypto.SHA256, digest[:], sig)
			}
			if err != nil {
				t.Errorf("rsa %#v signature: %v", opts, err)
			}
		}
		edPub, err := s.Create(ctx, "targets", gun, keys.ED25519)
		if err != nil {
			t.Fatal(err)
		}
		es, _ := s.Signer(ctx, edPub.ID())
		sig, err := es.CryptoSigner().Sign(rand.Reader, msg, crypto.Hash(0))
		if err != nil || !ed25519.Verify(es.CryptoSigner().Public().(ed25519.PublicKey), msg, sig) {
			t.Errorf("ed25519 crypto.Signer: %v", err)
		}
		if _, err := es.CryptoSigner().Sign(rand.Reader, digest[:], crypto.SHA512); err == nil {
			t.Error("Ed25519ph accepted")
		}
	})

	t.Run("ConcurrentSigning", func(t *testing.T) {
		cfg := newToken(t, env)
		cfg.MaxSessions = 3 // fewer sessions than goroutines: they must wait
		s, err := Open(cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		var signers []*Signer
		for _, typ := range []string{keys.ECDSA, keys.ED25519} {
			pub, err := s.Create(ctx, "timestamp", gun, typ)
			if err != nil {
				t.Fatal(err)
			}
			k, err := s.Signer(ctx, pub.ID())
			if err != nil {
				t.Fatal(err)
			}
			signers = append(signers, k)
		}
		const workers, each = 16, 25
		var wg sync.WaitGroup
		errs := make(chan error, workers*each)
		for w := range workers {
			wg.Go(func() {
				k := signers[w%len(signers)]
				for i := range each {
					m := fmt.Appendf(nil, `{"worker":%d,"i":%d}`, w, i)
					// Half the calls look the key up again, racing the cache.
					if i%2 == 1 {
						var err error
						if k, err = s.Signer(ctx, k.Info().ID); err != nil {
							errs <- err
							return
						}
					}
					sig, method, err := k.Sign(ctx, m)
					if err == nil {
						err = k.Public().Verify(method, m, sig)
					}
					if err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		s.t.mu.Lock()
		idle := len(s.t.idle)
		s.t.mu.Unlock()
		if idle > cfg.MaxSessions {
			t.Errorf("%d idle sessions, more than MaxSessions %d", idle, cfg.MaxSessions)
		}
	})

	t.Run("Reopen", func(t *testing.T) {
		cfg := newToken(t, env)
		s, err := Open(cfg)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]keystore.KeyInfo{}
		for _, k := range []struct{ role, gun, typ string }{
			{"root", "", keys.ECDSA}, {"targets", gun, keys.ECDSA}, {"snapshot", gun, keys.ED25519},
		} {
			pub, err := s.Create(ctx, k.role, k.gun, k.typ)
			if err != nil {
				t.Fatal(err)
			}
			want[pub.ID()] = keystore.KeyInfo{ID: pub.ID(), Role: k.role, GUN: k.gun, Type: k.typ}
		}
		s.Close()
		registry.mu.Lock()
		_, still := registry.tokens[tokenKey{s.t.mod.path, cfg.TokenLabel}]
		registry.mu.Unlock()
		if still {
			t.Fatal("the token connection outlived its last store")
		}
		s2, err := Open(cfg) // a new connection, new sessions, a new login
		if err != nil {
			t.Fatal(err)
		}
		defer s2.Close()
		checkList(t, s2, want)
		for id, info := range want {
			k, err := s2.Signer(ctx, id)
			if err != nil {
				t.Fatalf("Signer after reopen: %v", err)
			}
			if k.Info() != info {
				t.Errorf("info after reopen = %+v, want %+v", k.Info(), info)
			}
			checkSigner(t, k)
		}
	})

	t.Run("WrongPIN", func(t *testing.T) {
		cfg := newToken(t, env)
		bad := cfg
		bad.PIN = "0000-not-the-pin"
		_, err := Open(bad)
		if !errors.Is(err, ErrPINIncorrect) {
			t.Fatalf("Open with a wrong PIN: err = %v, want ErrPINIncorrect", err)
		}
		var le *LoginError
		if !errors.As(err, &le) || le.Token != cfg.TokenLabel {
			t.Errorf("err = %#v, want a *LoginError for token %s", err, cfg.TokenLabel)
		}
		if !isCode(err, pkcs11.CKR_PIN_INCORRECT) {
			t.Errorf("err = %v does not carry CKR_PIN_INCORRECT", err)
		}
		if strings.Contains(err.Error(), bad.PIN) || strings.Contains(fmt.Sprintf("%v %+v %#v", bad, bad, bad), bad.PIN) {
			t.Errorf("the PIN leaks into messages: %v / %v", err, bad)
		}
		t.Logf("wrong PIN: %v", err)

		// While this process is logged in with the right PIN, a store
		// with a wrong one is still refused, not let in on that login.
		good, err := Open(cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer good.Close()
		if _, err := Open(bad); !errors.Is(err, ErrPINIncorrect) {
			t.Errorf("Open with a wrong PIN while logged in: err = %v, want ErrPINIncorrect", err)
		}
		if _, err := good.List(ctx); err != nil {
			t.Errorf("the good store broke: %v", err)
		}
	})

	t.Run("OpenErrors", func(t *testing.T) {
		_, err := Open(Config{Module: env.module, TokenLabel: "no-such-token", PIN: env.pin})
		var tnf *TokenNotFoundError
		if !errors.Is(err, ErrTokenNotFound) || !errors.As(err, &tnf) || tnf.Label != "no-such-token" {
			t.Errorf("Open of a missing token: err = %v, want a TokenNotFoundError", err)
		}
		if _, err := Open(Config{Module: "/nonexistent/libpkcs11.so", TokenLabel: "x"}); err == nil || !strings.Contains(err.Error(), "/nonexistent/libpkcs11.so") {
			t.Errorf("Open of a missing module: err = %v", err)
		}
		if _, err := Open(Config{Module: "/etc/hostname", TokenLabel: "x"}); err == nil || !strings.Contains(err.Error(), "cannot load module") {
			t.Errorf("Open of a file that is no library: err = %v", err)
		}
		if _, err := Open(Config{TokenLabel: "x"}); err == nil {
			t.Error("Open without a module succeeded")
		}
	})

	t.Run("Reconnect", func(t *testing.T) {
		s := openStore(t, env)
		pub, err := s.Create(ctx, "timestamp", gun, keys.ECDSA)
		if err != nil {
			t.Fatal(err)
		}
		k, err := s.Signer(ctx, pub.ID())
		if err != nil {
			t.Fatal(err)
		}
		checkSigner(t, k)
		p := s.t.mod.ctx
		gen := func() uint64 {
			s.t.mu.Lock()
			defer s.t.mu.Unlock()
			return s.t.gen
		}
		g0 := gen()
		// Every session closed behind the store's back, as when a token
		// is pulled out and put back: the login is gone with them.
		if err := p.CloseAllSessions(slotOf(s)); err != nil {
			t.Fatal(err)
		}
		checkSigner(t, k)
		if _, err := s.List(ctx); err != nil {
			t.Errorf("List after sessions were closed: %v", err)
		}
		if g1 := gen(); g1 != g0+1 {
			t.Errorf("connection generation %d -> %d after sessions were closed, want one reconnect", g0, g1)
		}
		// Logged out behind the store's back: private objects vanish from
		// view, which must not read as "key not found".
		sh, err := p.OpenSession(slotOf(s), pkcs11.CKF_SERIAL_SESSION)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Logout(sh); err != nil {
			t.Fatal(err)
		}
		g1 := gen()
		checkSigner(t, k)
		if g2 := gen(); g2 != g1+1 {
			t.Errorf("connection generation %d -> %d after a logout, want one reconnect", g1, g2)
		}
		if err := p.CloseSession(sh); !isCode(err, pkcs11.CKR_SESSION_HANDLE_INVALID) {
			t.Errorf("closing a session from before the reconnect: %v, want CKR_SESSION_HANDLE_INVALID", err)
		}
		if l, err := s.List(ctx); err != nil || len(l) != 1 {
			t.Errorf("List after a logout = %v, %v; want the one key", l, err)
		}
		pub2, err := s.Create(ctx, "timestamp", gun, keys.ECDSA)
		if err != nil {
			t.Fatalf("Create after a reconnect: %v", err)
		}
		if err := s.Remove(ctx, pub2.ID()); err != nil {
			t.Errorf("Remove after a reconnect: %v", err)
		}
		if _, err := s.Create(ctx, "timestamp", gun, keys.ECDSA); err != nil {
			t.Errorf("Create after a reconnect: %v", err)
		}
	})

	t.Run("Close", func(t *testing.T) {
		s := openStore(t, env)
		pub, err := s.Create(ctx, "targets", gun, keys.ECDSA)
		if err != nil {
			t.Fatal(err)
		}
		k, err := s.Signer(ctx, pub.ID())
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		if _, err := s.List(ctx); !errors.Is(err, ErrClosed) {
			t.Errorf("List after Close: err = %v, want ErrClosed", err)
		}
		if _, _, err := k.Sign(ctx, msg); !errors.Is(err, ErrClosed) {
			t.Errorf("Sign after Close: err = %v, want ErrClosed", err)
		}
	})

	t.Run("LabelsAndForeignObjects", func(t *testing.T) {
		s := openStore(t, env)
		if _, err := s.Create(ctx, "bad:role", gun, keys.ECDSA); err == nil {
			t.Error("Create accepted a role with ':'")
		}
		pub, err := s.Create(ctx, "targets", "localhost:5000/library/app", keys.ECDSA)
		if err != nil {
			t.Fatal(err)
		}
		// A key some other tool put on the token is not listed.
		err = s.doWrite(ctx, func(p *pkcs11.Ctx, sh pkcs11.SessionHandle) error {
			params, _ := encodeOID(oidP256)
			_, _, err := p.GenerateKeyPair(sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_EC_KEY_PAIR_GEN, nil)},
				[]*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true), pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, params),
					pkcs11.NewAttribute(pkcs11.CKA_LABEL, "someone else's key"), pkcs11.NewAttribute(pkcs11.CKA_ID, []byte{1, 2, 3})},
				[]*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true), pkcs11.NewAttribute(pkcs11.CKA_SIGN, true),
					pkcs11.NewAttribute(pkcs11.CKA_LABEL, "someone else's key"), pkcs11.NewAttribute(pkcs11.CKA_ID, []byte{1, 2, 3})})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		checkList(t, s, map[string]keystore.KeyInfo{pub.ID(): {ID: pub.ID(), Role: "targets", GUN: "localhost:5000/library/app", Type: keys.ECDSA}})
		// The label as pkcs11-tool would show it.
		err = s.do(ctx, func(p *pkcs11.Ctx, sh pkcs11.SessionHandle) error {
			hs, err := findByID(p, sh, pkcs11.CKO_PRIVATE_KEY, mustHex(t, pub.ID()))
			if err != nil || len(hs) != 1 {
				return fmt.Errorf("find: %v, %d objects", err, len(hs))
			}
			a, err := attrs(p, sh, hs[0], pkcs11.CKA_LABEL)
			if err == nil && string(a[0]) != "targets:localhost:5000/library/app" {
				err = fmt.Errorf("CKA_LABEL = %q", a[0])
			}
			return err
		})
		if err != nil {
			t.Error(err)
		}
	})
}

// checkPrivateObject reads the private key object's attributes: it must be
// a sensitive, non-extractable token object whose value cannot be read.
func checkPrivateObject(t *testing.T, s *Store, id string, generated bool) {
	t.Helper()
	ctx := context.Background()
	err := s.doWrite(ctx, func(p *pkcs11.Ctx, sh pkcs11.SessionHandle) error {
		hs, err := findByID(p, sh, pkcs11.CKO_PRIVATE_KEY, mustHex(t, id))
		if err != nil {
			return err
		}
		if len(hs) != 1 {
			return fmt.Errorf("%d private key objects with ID %s", len(hs), id)
		}
		want := map[uint]bool{
			pkcs11.CKA_TOKEN:       true,
			pkcs11.CKA_PRIVATE:     true,
			pkcs11.CKA_SENSITIVE:   true,
			pkcs11.CKA_EXTRACTABLE: false,
			pkcs11.CKA_SIGN:        true,
			pkcs11.CKA_DERIVE:      false,
			// Set by the token: true only for keys made on it.
			pkcs11.CKA_ALWAYS_SENSITIVE:  generated,
			pkcs11.CKA_NEVER_EXTRACTABLE: generated,
		}
		names := map[uint]string{
			pkcs11.CKA_TOKEN: "CKA_TOKEN", pkcs11.CKA_PRIVATE: "CKA_PRIVATE", pkcs11.CKA_SENSITIVE: "CKA_SENSITIVE",
			pkcs11.CKA_EXTRACTABLE: "CKA_EXTRACTABLE", pkcs11.CKA_SIGN: "CKA_SIGN", pkcs11.CKA_DERIVE: "CKA_DERIVE",
			pkcs11.CKA_ALWAYS_SENSITIVE: "CKA_ALWAYS_SENSITIVE", pkcs11.CKA_NEVER_EXTRACTABLE: "CKA_NEVER_EXTRACTABLE",
		}
		for typ, w := range want {
			a, err := attrs(p, sh, hs[0], typ)
			if err != nil {
				return fmt.Errorf("reading %s: %w", names[typ], err)
			}
			if got := len(a[0]) == 1 && a[0][0] != 0; got != w {
				t.Errorf("%s = %v, want %v", names[typ], got, w)
			}
		}
		// The private value itself must be unreadable.
		secret, name := uint(pkcs11.CKA_VALUE), "CKA_VALUE"
		if kt, _ := attrs(p, sh, hs[0], pkcs11.CKA_KEY_TYPE); len(kt) == 1 {
			if v, _ := ulong(kt[0]); v == pkcs11.CKK_RSA {
				secret, name = pkcs11.CKA_PRIVATE_EXPONENT, "CKA_PRIVATE_EXPONENT"
			}
		}
		if a, err := attrs(p, sh, hs[0], secret); !isCode(err, pkcs11.CKR_ATTRIBUTE_SENSITIVE) {
			t.Errorf("reading %s: %v, %d bytes; want CKR_ATTRIBUTE_SENSITIVE", name, err, len(a))
		}
		// Nor may it be made extractable afterwards.
		if err := p.SetAttributeValue(sh, hs[0], []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, true)}); err == nil {
			t.Error("CKA_EXTRACTABLE could be set to true")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// tokenCases are the PKCS#11 store's own cases, beyond keystoretest.Run
// (the Conformance subtest): keys used through Signer (imported key objects'
// attributes, a cached handle outliving Remove, cancelled contexts), strict
// ID errors, re-adding a software key after Remove, and waiting for a
// session.
func tokenCases(t *testing.T, env hsmEnv) {
	ctx := context.Background()
	open := func(t *testing.T) *Store { return openStore(t, env) }

	t.Run("AddSigner", func(t *testing.T) {
		rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			name string
			key  func(t *testing.T) *keys.PrivateKey
			role string
			gun  string
		}{
			{"ecdsa", genKey(keys.ECDSA), "targets", gun},
			{"ed25519", genKey(keys.ED25519), "targets/a", ""},
			{"rsa", func(t *testing.T) *keys.PrivateKey {
				k, err := keys.FromCrypto(rsaKey)
				if err != nil {
					t.Fatal(err)
				}
				return k
			}, "targets/b", ""},
			{"ecdsa-x509", func(t *testing.T) *keys.PrivateKey {
				k, err := genKey(keys.ECDSA)(t).WithRootCertificate(gun, time.Unix(1700000000, 0), time.Unix(1900000000, 0))
				if err != nil {
					t.Fatal(err)
				}
				return k
			}, "root", ""},
		} {
			t.Run(tt.name, func(t *testing.T) {
				s := open(t)
				key := tt.key(t)
				id := key.CanonicalID()
				if err := s.Add(ctx, keystore.KeyInfo{Role: tt.role, GUN: tt.gun}, key); err != nil {
					t.Fatalf("Add: %v", err)
				}
				k, err := s.Signer(ctx, id)
				if err != nil {
					t.Fatalf("Signer: %v", err)
				}
				want := keystore.KeyInfo{ID: id, Role: tt.role, GUN: tt.gun, Type: key.Plain().Type()}
				if k.Info() != want {
					t.Errorf("info = %+v, want %+v", k.Info(), want)
				}
				if k.Public().ID() != key.Plain().ID() {
					t.Errorf("public key %s, want the plain %s", k.Public().ID(), key.Plain().ID())
				}
				checkSigner(t, k)
				if key.Public().IsX509() {
					x, err := k.WithPublic(key.Public())
					if err != nil {
						t.Fatalf("WithPublic(certificate): %v", err)
					}
					checkSigner(t, x)
				}
				checkPrivateObject(t, s, id, false)
			})
		}
	})

	t.Run("SignerNotFound", func(t *testing.T) {
		s := open(t)
		id := genKey(keys.ECDSA)(t).CanonicalID()
		if _, err := s.Signer(ctx, id); !errors.Is(err, keystore.ErrNotFound) {
			t.Errorf("Signer: err = %v, want ErrNotFound", err)
		}
	})

	t.Run("InvalidID", func(t *testing.T) {
		s := open(t)
		for _, id := range []string{"", "../../../../etc/passwd", "..", "abc", fmt.Sprintf("%064d", 0) + "/x", strings.Repeat("AB", 32)} {
			if _, _, err := s.Get(ctx, id); !errors.Is(err, keystore.ErrInvalidID) {
				t.Errorf("Get(%q): err = %v, want ErrInvalidID", id, err)
			}
			if _, err := s.Signer(ctx, id); !errors.Is(err, keystore.ErrInvalidID) {
				t.Errorf("Signer(%q): err = %v, want ErrInvalidID", id, err)
			}
			if err := s.Remove(ctx, id); !errors.Is(err, keystore.ErrInvalidID) {
				t.Errorf("Remove(%q): err = %v, want ErrInvalidID", id, err)
			}
		}
	})

	t.Run("RemoveCachedHandle", func(t *testing.T) {
		s := open(t)
		key := genKey(keys.ECDSA)(t)
		if err := s.Add(ctx, keystore.KeyInfo{Role: "targets", GUN: gun}, key); err != nil {
			t.Fatal(err)
		}
		a, err := s.Signer(ctx, key.CanonicalID()) // caches the handle
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Remove(ctx, key.CanonicalID()); err != nil {
			t.Fatalf("Remove: %v", err)
		}
		if _, err := s.Signer(ctx, key.CanonicalID()); !errors.Is(err, keystore.ErrNotFound) {
			t.Errorf("Signer after Remove: err = %v, want ErrNotFound", err)
		}
		if _, _, err := a.Sign(ctx, msg); !errors.Is(err, keystore.ErrNotFound) {
			t.Errorf("Sign with a removed key: err = %v, want ErrNotFound", err)
		}
		if err := s.Add(ctx, keystore.KeyInfo{Role: "targets", GUN: gun}, key); err != nil {
			t.Errorf("Add after Remove: %v", err)
		}
	})

	t.Run("CancelledContext", func(t *testing.T) {
		s := open(t)
		pub, err := s.Create(ctx, "targets", gun, keys.ECDSA)
		if err != nil {
			t.Fatal(err)
		}
		k, err := s.Signer(ctx, pub.ID())
		if err != nil {
			t.Fatal(err)
		}
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if err := s.Add(cctx, keystore.KeyInfo{Role: "targets"}, genKey(keys.ECDSA)(t)); !errors.Is(err, context.Canceled) {
			t.Errorf("Add: err = %v, want context.Canceled", err)
		}
		if _, err := s.Signer(cctx, pub.ID()); !errors.Is(err, context.Canceled) {
			t.Errorf("Signer: err = %v, want context.Canceled", err)
		}
		if _, _, err := k.Sign(cctx, msg); !errors.Is(err, context.Canceled) {
			t.Errorf("Sign: err = %v, want context.Canceled", err)
		}
	})

	t.Run("WaitForSession", func(t *testing.T) {
		cfg := newToken(t, env)
		cfg.MaxSessions = 1
		s, err := Open(cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		// Hold the only session; a call whose context ends meanwhile
		// gives up waiting.
		held, err := s.t.acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		tctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		if _, err := s.List(tctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("List while the only session is busy: err = %v, want DeadlineExceeded", err)
		}
		s.t.put(held, nil)
		if _, err := s.List(ctx); err != nil {
			t.Errorf("List once the session is back: %v", err)
		}
	})
}

func genKey(typ string) func(t *testing.T) *keys.PrivateKey {
	return func(t *testing.T) *keys.PrivateKey {
		t.Helper()
		k, err := keys.Generate(typ)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
}

func list(t *testing.T, s *Store) []keystore.KeyInfo {
	t.Helper()
	l, err := s.List(context.Background())
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	return l
}

func checkList(t *testing.T, s *Store, want map[string]keystore.KeyInfo) {
	t.Helper()
	got := list(t, s)
	seen := map[string]bool{}
	for _, info := range got {
		w, ok := want[info.ID]
		switch {
		case !ok:
			t.Errorf("List has unexpected key %+v", info)
		case seen[info.ID]:
			t.Errorf("List has %s twice", info.ID)
		case info != w:
			t.Errorf("List entry %+v, want %+v", info, w)
		}
		seen[info.ID] = true
	}
	for id := range want {
		if !seen[id] {
			t.Errorf("List lacks %s", id)
		}
	}
}

// checkSigner signs through tuf.SignCanonical, which verifies the
// signature with the signer's public key before it returns it.
func checkSigner(t *testing.T, k *Signer) {
	t.Helper()
	sigs, err := tuf.SignCanonical(context.Background(), msg, k)
	if err != nil {
		t.Errorf("signing with token key %s: %v", k.Info().ID, err)
		return
	}
	if err := k.Public().Verify(sigs[0].Method, msg, sigs[0].Sig); err != nil {
		t.Errorf("signature by token key does not verify: %v", err)
	}
}

func checkKeySigns(t *testing.T, key *keys.PrivateKey, pub keys.PublicKey) {
	t.Helper()
	sig, err := key.Sign(msg)
	if err != nil {
		t.Errorf("Sign: %v", err)
		return
	}
	if err := pub.Verify(key.Method(), msg, sig); err != nil {
		t.Errorf("signature does not verify: %v", err)
	}
}
