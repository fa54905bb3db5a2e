package tuf

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/notary-go/notary/canonicaljson"
	"github.com/notary-go/notary/keys"
)

func keyMap(ks ...*keys.PrivateKey) (map[string]keys.PublicKey, []string) {
	m := map[string]keys.PublicKey{}
	var ids []string
	for _, k := range ks {
		m[k.ID()] = k.Public()
		ids = append(ids, k.ID())
	}
	return m, ids
}

func mustEnvelope(t *testing.T, file []byte) *Envelope {
	t.Helper()
	env, err := ParseEnvelope(file)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// TestVerifyThresholdCountsDistinctKeys: v1 §3.6, each key ID counts once.
func TestVerifyThresholdCountsDistinctKeys(t *testing.T) {
	a, b, c := newKey(t, keys.ECDSA), newKey(t, keys.ED25519), newKey(t, keys.ECDSA)
	m, ids := keyMap(a, b, c)
	body := timestampBody(t, 1)
	env := mustEnvelope(t, signFile(t, body, a, b))
	tests := []struct {
		name      string
		sigs      []Signature
		threshold int
		wantErr   error
	}{
		{name: "OneOfOne", sigs: env.Signatures[:1], threshold: 1},
		{name: "TwoOfTwo", sigs: env.Signatures, threshold: 2},
		{name: "TwoOfThreeNeeded", sigs: env.Signatures[:1], threshold: 2, wantErr: ErrThreshold},
		{name: "DuplicateSignaturesOneKey", sigs: []Signature{env.Signatures[0], env.Signatures[0], env.Signatures[0]}, threshold: 2, wantErr: ErrThreshold},
		{name: "ThresholdAboveKeys", sigs: env.Signatures, threshold: 4, wantErr: ErrThreshold},
		{name: "ThresholdZero", sigs: env.Signatures, threshold: 0, wantErr: ErrThreshold},
		{name: "ThresholdNegative", sigs: env.Signatures, threshold: -1, wantErr: ErrThreshold},
		{name: "NoSignatures", sigs: nil, threshold: 1, wantErr: ErrNoSignatures},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := &Envelope{Signed: env.Signed, Signatures: tc.sigs}
			err := VerifySignatures(e, RoleTimestamp, m, ids, tc.threshold)
			if tc.wantErr == nil && err != nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
		})
	}
}

// TestVerifyOnlyRoleKeysCount: a valid signature by a key that exists but
// is not one of the role's key IDs does not count.
func TestVerifyOnlyRoleKeysCount(t *testing.T) {
	a, other := newKey(t, keys.ECDSA), newKey(t, keys.ECDSA)
	m, _ := keyMap(a, other)
	env := mustEnvelope(t, signFile(t, timestampBody(t, 1), other))
	if err := VerifySignatures(env, RoleTimestamp, m, []string{a.ID()}, 1); !errors.Is(err, ErrThreshold) {
		t.Fatalf("err = %v, want ErrThreshold", err)
	}
	// Listed but absent from the key map: skipped, not a panic.
	if err := VerifySignatures(env, RoleTimestamp, map[string]keys.PublicKey{}, []string{other.ID()}, 1); !errors.Is(err, ErrThreshold) {
		t.Fatalf("err = %v", err)
	}
}

// TestVerifyMethodMustMatchKeyType: a valid signature relabelled with a
// method of another key family never counts (NCC 2015 audit, v1 §3.4).
func TestVerifyMethodMustMatchKeyType(t *testing.T) {
	all := []string{keys.MethodEdDSA, keys.MethodECDSA, keys.MethodRSAPSS, keys.MethodRSAPKCS1v15, keys.MethodPyCryptoPSS, "", "hmac"}
	for _, typ := range []string{keys.ED25519, keys.ECDSA, keys.RSA} {
		k := newKey(t, typ)
		m, ids := keyMap(k)
		env := mustEnvelope(t, signFile(t, timestampBody(t, 1), k))
		for _, method := range all {
			if keys.MethodAllowed(typ, method) {
				continue
			}
			t.Run(typ+"/"+method, func(t *testing.T) {
				sig := env.Signatures[0]
				sig.Method = method
				err := VerifySignatures(&Envelope{Signed: env.Signed, Signatures: []Signature{sig}}, RoleTimestamp, m, ids, 1)
				if !errors.Is(err, ErrThreshold) {
					t.Fatalf("err = %v, want ErrThreshold", err)
				}
			})
		}
	}
}

// TestVerifyRSAMethods: v1 verifies rsapss and rsapkcs1v15 on plain rsa
// keys in DER; the legacy pycrypto name for PSS only on PEM (v1 §3.4).
func TestVerifyRSAMethods(t *testing.T) {
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	k, err := keys.FromCrypto(rk)
	if err != nil {
		t.Fatal(err)
	}
	m, ids := keyMap(k)
	canonical, err := CanonicalSigned(timestampBody(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	pss, _ := k.Sign(canonical)
	digest := sha256.Sum256(canonical)
	pkcs, err := rsa.SignPKCS1v15(rand.Reader, rk, crypto.SHA256, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		method string
		sig    []byte
		ok     bool
	}{
		{keys.MethodRSAPSS, pss, true},
		{"RSAPSS", pss, true},
		{keys.MethodPyCryptoPSS, pss, false}, // v1: pycrypto needs a PEM public key
		{keys.MethodRSAPKCS1v15, pkcs, true},
		{keys.MethodRSAPKCS1v15, pss, false},
		{keys.MethodRSAPSS, pkcs, false},
	}
	for _, tc := range tests {
		t.Run(tc.method, func(t *testing.T) {
			err := VerifyCanonical(canonical, []Signature{{KeyID: k.ID(), Method: tc.method, Sig: tc.sig}}, RoleTimestamp, m, ids, 1)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

// TestVerifyKeyIDMismatchIsFatal: a role key listed under an ID that is
// not its own is a hard error (v1 ErrInvalidKeyID), even when other
// signatures meet the threshold.
func TestVerifyKeyIDMismatchIsFatal(t *testing.T) {
	a, b := newKey(t, keys.ECDSA), newKey(t, keys.ECDSA)
	env := mustEnvelope(t, signFile(t, timestampBody(t, 1), a, b))
	m := map[string]keys.PublicKey{a.ID(): a.Public(), b.ID(): a.Public()} // b's slot holds a's key
	err := VerifySignatures(env, RoleTimestamp, m, []string{a.ID(), b.ID()}, 1)
	var kerr *KeyIDMismatchError
	if !errors.As(err, &kerr) || !errors.Is(err, ErrKeyIDMismatch) || kerr.KeyID != b.ID() || kerr.Computed != a.ID() {
		t.Fatalf("err = %v, want KeyIDMismatchError for %s", err, b.ID())
	}
}

// TestVerifySkipsUnknownAndInvalidSignatures: bad signatures are skipped,
// not fatal (v1 §3.6), and the error says why they did not count.
func TestVerifySkipsUnknownAndInvalidSignatures(t *testing.T) {
	a := newKey(t, keys.ECDSA)
	m, ids := keyMap(a)
	env := mustEnvelope(t, signFile(t, timestampBody(t, 1), a))
	good := env.Signatures[0]
	bad := good
	bad.Sig = append([]byte(nil), good.Sig...)
	bad.Sig[5] ^= 1
	unknown := Signature{KeyID: strings.Repeat("ab", 32), Method: "ecdsa", Sig: good.Sig}
	short := Signature{KeyID: good.KeyID, Method: "ecdsa", Sig: []byte{1}}
	env.Signatures = []Signature{unknown, good}
	if err := VerifySignatures(env, RoleTimestamp, m, ids, 1); err != nil {
		t.Fatalf("a valid signature after an unknown key's must count: %v", err)
	}
	for _, sigs := range [][]Signature{{unknown, bad, short}, {bad, good}, {short, good}} {
		env.Signatures = sigs
		err := VerifySignatures(env, RoleTimestamp, m, ids, 1)
		var terr *ThresholdError
		if !errors.As(err, &terr) || terr.Valid != 0 || len(terr.Skipped) != 1 {
			t.Fatalf("err = %#v", err)
		}
		if !errors.Is(terr.Skipped[0], keys.ErrInvalidSignature) {
			t.Fatalf("skipped[0] = %v", terr.Skipped[0])
		}
	}
}

// countVerifications runs f with verifySignature counting its calls.
func countVerifications(t *testing.T, f func()) int {
	t.Helper()
	n := 0
	orig := verifySignature
	verifySignature = func(k keys.PublicKey, method string, msg, sig []byte) error {
		n++
		return orig(k, method, msg, sig)
	}
	defer func() { verifySignature = orig }()
	f()
	return n
}

// TestVerifyBoundedWork: each key ID is verified at most once (its first
// signature decides: a key never signs twice, AddSignatures replaces), the
// work stops once the threshold is met or out of reach, and an envelope
// with more than MaxSignatures signatures is refused unread (issue 10
// item 2: 50,000 bad signatures under one key ID cost 5.6 s).
func TestVerifyBoundedWork(t *testing.T) {
	a, b, c := newKey(t, keys.ECDSA), newKey(t, keys.ECDSA), newKey(t, keys.ECDSA)
	m, ids := keyMap(a, b, c)
	env := mustEnvelope(t, signFile(t, timestampBody(t, 1), a, b, c))
	msg, err := canonicaljson.Canonicalize(env.Signed)
	if err != nil {
		t.Fatal(err)
	}
	good := map[string]Signature{}
	for _, s := range env.Signatures {
		good[s.KeyID] = s
	}
	badOf := func(k *keys.PrivateKey) Signature {
		s := good[k.ID()]
		s.Sig = append([]byte(nil), s.Sig...)
		s.Sig[3] ^= 1
		return s
	}
	repeat := func(s Signature, n int) []Signature {
		out := make([]Signature, n)
		for i := range out {
			out[i] = s
		}
		return out
	}
	for _, tc := range []struct {
		name      string
		sigs      []Signature
		threshold int
		ok        bool
		calls     int
	}{
		{"many bad under one key", repeat(badOf(a), MaxSignatures), 1, false, 1},
		{"bad then good under one key", append(repeat(badOf(a), 10), good[a.ID()]), 1, false, 1},
		{"threshold met early", append([]Signature{good[a.ID()], good[b.ID()]}, repeat(good[c.ID()], 100)...), 2, true, 2},
		{"too few keys signed", append([]Signature{badOf(a), good[b.ID()]}, repeat(badOf(a), 100)...), 3, false, 0},
		{"out of reach after a failure", append([]Signature{badOf(a), good[b.ID()]}, repeat(badOf(a), 100)...), 2, false, 1},
		{"all three", []Signature{good[a.ID()], good[b.ID()], good[c.ID()]}, 3, true, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			calls := countVerifications(t, func() { err = VerifyCanonical(msg, tc.sigs, RoleTimestamp, m, ids, tc.threshold) })
			if (err == nil) != tc.ok {
				t.Errorf("err = %v, want ok=%v", err, tc.ok)
			}
			if calls != tc.calls {
				t.Errorf("%d verifications, want %d", calls, tc.calls)
			}
		})
	}
	t.Run("over the cap", func(t *testing.T) {
		sigs := append(repeat(badOf(a), MaxSignatures), good[a.ID()])
		var err error
		calls := countVerifications(t, func() { err = VerifyCanonical(msg, sigs, RoleTimestamp, m, ids, 1) })
		var merr *MalformedError
		if !errors.As(err, &merr) || calls != 0 {
			t.Errorf("err = %v after %d verifications, want a MalformedError before any", err, calls)
		}
		file := editJSON(t, signFile(t, timestampBody(t, 1), a), func(f map[string]any) {
			list := f["signatures"].([]any)
			for len(list) <= MaxSignatures {
				list = append(list, list[0])
			}
			f["signatures"] = list
		})
		if _, _, err := ParseTimestamp(file); !errors.As(err, &merr) || merr.Field != "signatures" {
			t.Errorf("parsing %d signatures: %v, want a MalformedError for signatures", MaxSignatures+1, err)
		}
	})
}

// TestVerifyCountsCanonicalKeys: one key listed as the plain key and as
// two self-signed certificates is three key IDs but one key, and meets
// a threshold of one, never of two or three (issue 18 item 6).
func TestVerifyCountsCanonicalKeys(t *testing.T) {
	plain := newKey(t, keys.ECDSA)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cert1, err := plain.WithRootCertificate("example.com/a", now, now.AddDate(1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	cert2, err := plain.WithRootCertificate("example.com/a", now.Add(time.Hour), now.AddDate(2, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if cert1.ID() == cert2.ID() || cert1.ID() == plain.ID() {
		t.Fatal("want three key IDs")
	}
	m, ids := keyMap(plain, cert1, cert2)
	env := mustEnvelope(t, signFile(t, timestampBody(t, 1), plain, cert1, cert2))
	if len(env.Signatures) != 3 {
		t.Fatalf("%d signatures, want 3", len(env.Signatures))
	}
	if err := VerifySignatures(env, RoleTimestamp, m, ids, 1); err != nil {
		t.Fatalf("threshold 1: %v", err)
	}
	for _, threshold := range []int{2, 3} {
		var terr *ThresholdError
		if err := VerifySignatures(env, RoleTimestamp, m, ids, threshold); !errors.As(err, &terr) || terr.Valid != 1 {
			t.Errorf("threshold %d met by one key under three IDs: %v", threshold, err)
		}
	}
	var derr *DuplicateKeyError
	if err := CheckDistinctKeys(RoleRoot, m, ids); !errors.As(err, &derr) || derr.CanonicalID != plain.ID() {
		t.Errorf("CheckDistinctKeys = %v, want a DuplicateKeyError for %s", err, plain.ID())
	}
	other := newKey(t, keys.ECDSA)
	m2, ids2 := keyMap(cert1, other)
	if err := CheckDistinctKeys(RoleRoot, m2, ids2); err != nil {
		t.Errorf("distinct keys: %v", err)
	}
}

// TestVerifyNonCanonicalSignedBytes: v1 verifies over the canonical
// re-encoding of "signed", never its bytes in the file (v1 §2.3). We do
// the same, so a reformatted but equal body still verifies; what matters
// for hashing is the file bytes, which snapshot/timestamp cover.
func TestVerifyNonCanonicalSignedBytes(t *testing.T) {
	a := newKey(t, keys.ECDSA)
	m, ids := keyMap(a)
	body := targetsBody(1)
	body.Targets["a&b<c>"] = fileMetaOf(t, "x")
	env := mustEnvelope(t, signFile(t, body, a))
	c, err := CanonicalSigned(body)
	if err != nil {
		t.Fatal(err)
	}
	canonical := string(c)
	variants := map[string]string{
		"HTMLEscaped": strings.ReplaceAll(canonical, "<", `\u003c`),
		"Reordered":   `{"version":1,` + strings.Replace(canonical[1:], `,"version":1`, "", 1),
		"Whitespace":  strings.ReplaceAll(canonical, `,"`, ", \n \""),
		"AsInFile":    string(env.Signed),
		"EscapedChar": strings.Replace(canonical, `"Targets"`, `"T\u0061rgets"`, 1),
	}
	for name, signed := range variants {
		t.Run(name, func(t *testing.T) {
			if signed == canonical {
				t.Fatal("variant equals canonical")
			}
			e := &Envelope{Signed: []byte(signed), Signatures: env.Signatures}
			if err := VerifySignatures(e, RoleTargets, m, ids, 1); err != nil {
				t.Fatal(err)
			}
		})
	}
	t.Run("ChangedValueFails", func(t *testing.T) {
		e := &Envelope{Signed: []byte(strings.Replace(canonical, `"version":1`, `"version":2`, 1)), Signatures: env.Signatures}
		if err := VerifySignatures(e, RoleTargets, m, ids, 1); !errors.Is(err, ErrThreshold) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("AddedUnknownFieldFails", func(t *testing.T) {
		e := &Envelope{Signed: []byte(`{"extra":1,` + canonical[1:]), Signatures: env.Signatures}
		if err := VerifySignatures(e, RoleTargets, m, ids, 1); !errors.Is(err, ErrThreshold) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("NotJSON", func(t *testing.T) {
		e := &Envelope{Signed: []byte(`{`), Signatures: env.Signatures}
		if err := VerifySignatures(e, RoleTargets, m, ids, 1); !errors.Is(err, ErrMalformed) {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestCheckExpiry: expired means strictly before now (v1 IsExpired).
func TestCheckExpiry(t *testing.T) {
	exp := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		now  time.Time
		err  bool
	}{
		{"Before", exp.Add(-time.Nanosecond), false},
		{"Equal", exp, false},
		{"After", exp.Add(time.Nanosecond), true},
		{"OtherZone", exp.In(time.FixedZone("x", -5*3600)).Add(time.Second), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckExpiry(RoleTimestamp, exp, tc.now)
			if (err != nil) != tc.err || err != nil && !errors.Is(err, ErrExpired) {
				t.Fatalf("err = %v, want error %v", err, tc.err)
			}
		})
	}
}

// TestCheckVersion: lower is a rollback, equal is allowed (v1 §4.7).
func TestCheckVersion(t *testing.T) {
	if err := CheckVersion(RoleTargets, 3, 3); err != nil {
		t.Fatal(err)
	}
	if err := CheckVersion(RoleTargets, 4, 3); err != nil {
		t.Fatal(err)
	}
	err := CheckVersion(RoleTargets, 2, 3)
	var lv *LowVersionError
	if !errors.As(err, &lv) || lv.Version != 2 || lv.Trusted != 3 || !errors.Is(err, ErrLowVersion) {
		t.Fatalf("err = %v", err)
	}
}

// TestVerifyRootRotation: v1 §4.5, TUF 5.3.4.
func TestVerifyRootRotation(t *testing.T) {
	ctx := context.Background()
	ks := newTestKeys(t)
	old := ks.root(1)
	oldRoot := ks[RoleRoot]
	newRootKey, newRootKey2 := newKey(t, keys.ECDSA), newKey(t, keys.ED25519)

	rotated := func(threshold int, keyset ...*keys.PrivateKey) *Root {
		r := ks.root(2)
		r.Roles[RoleRoot] = &RootRole{Threshold: threshold}
		for _, k := range keyset {
			r.Keys[k.ID()] = k.Public()
			r.Roles[RoleRoot].KeyIDs = append(r.Roles[RoleRoot].KeyIDs, k.ID())
		}
		return r
	}
	tests := []struct {
		name    string
		trusted *Root
		body    *Root
		signers []*keys.PrivateKey
		want    error
	}{
		{name: "SignedByOldAndNew", trusted: old, body: rotated(1, newRootKey), signers: []*keys.PrivateKey{oldRoot, newRootKey}},
		{name: "SameKeysNewVersion", trusted: old, body: ks.root(2), signers: []*keys.PrivateKey{oldRoot}},
		{name: "OnlyNewKeySigned", trusted: old, body: rotated(1, newRootKey), signers: []*keys.PrivateKey{newRootKey}, want: ErrRootRotation},
		{name: "OnlyOldKeySigned", trusted: old, body: rotated(1, newRootKey), signers: []*keys.PrivateKey{oldRoot}, want: ErrThreshold},
		{name: "NewThresholdNotMet", trusted: old, body: rotated(2, newRootKey, newRootKey2), signers: []*keys.PrivateKey{oldRoot, newRootKey}, want: ErrThreshold},
		{name: "NewThresholdMet", trusted: old, body: rotated(2, newRootKey, newRootKey2), signers: []*keys.PrivateKey{oldRoot, newRootKey, newRootKey2}},
		{name: "OldThresholdNotMet", trusted: func() *Root { r := ks.root(1); r.Roles[RoleRoot].Threshold = 2; return r }(), body: ks.root(2), signers: []*keys.PrivateKey{oldRoot}, want: ErrRootRotation},
		{name: "LowerVersion", trusted: ks.root(5), body: ks.root(4), signers: []*keys.PrivateKey{oldRoot}, want: ErrLowVersion},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env, _, err := Sign(ctx, tc.body, signers(tc.signers...)...)
			if err != nil {
				t.Fatal(err)
			}
			err = VerifyRootRotation(tc.trusted, env, tc.body)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestRootRoleKeys(t *testing.T) {
	ks := newTestKeys(t)
	r := ks.root(1)
	rk, err := r.RoleKeys(RoleSnapshot)
	if err != nil || rk.Threshold != 1 || len(rk.Keys) != 1 || rk.KeyIDs[0] != ks[RoleSnapshot].ID() {
		t.Fatalf("got %+v, %v", rk, err)
	}
	if _, err := r.RoleKeys("targets/a"); !errors.Is(err, ErrNoSuchRole) {
		t.Fatalf("err = %v", err)
	}
	r.Roles[RoleSnapshot].KeyIDs = append(r.Roles[RoleSnapshot].KeyIDs, "missing")
	if _, err := r.RoleKeys(RoleSnapshot); !errors.Is(err, ErrMalformed) {
		t.Fatalf("err = %v", err)
	}
}

// TestVersionRules: v1 §4.3 (strictly newer per role) and §4.1 step 2
// (root: current or current+1; a first root 1 or 2).
func TestVersionRules(t *testing.T) {
	if err := CheckNewerVersion(RoleTargets, 5, 4); err != nil {
		t.Fatal(err)
	}
	for _, v := range []int64{4, 3} {
		if err := CheckNewerVersion(RoleTargets, v, 4); !errors.Is(err, ErrLowVersion) {
			t.Fatalf("version %d over 4: %v", v, err)
		}
	}
	tests := []struct {
		current int64
		have    bool
		version int64
		ok      bool
	}{
		{0, false, 1, true}, {0, false, 2, true}, {0, false, 3, false},
		{3, true, 3, true}, {3, true, 4, true}, {3, true, 5, false}, {3, true, 2, false},
	}
	for _, tc := range tests {
		err := CheckRootUpdateVersion(tc.current, tc.have, tc.version)
		if (err == nil) != tc.ok {
			t.Errorf("CheckRootUpdateVersion(%d, %v, %d) = %v", tc.current, tc.have, tc.version, err)
		}
	}
	err := CheckRootUpdateVersion(3, true, 5)
	if want := "Root modifications must increment the version. Current 3, new 5"; !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want %q", err, want)
	}
}
