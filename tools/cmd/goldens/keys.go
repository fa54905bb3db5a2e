package main

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	cjson "github.com/docker/go/canonical/json"
	"github.com/theupdateframework/notary/tuf/data"
	"github.com/theupdateframework/notary/tuf/signed"
	"github.com/theupdateframework/notary/tuf/utils"
	"golang.org/x/crypto/ed25519"
)

func ed25519FromSeed(seed []byte) (data.PrivateKey, error) {
	priv := ed25519.NewKeyFromSeed(seed) // seed || pub
	pub := priv.Public().(ed25519.PublicKey)
	ser := append(append([]byte{}, pub...), priv...) // upstream serialisation: pub || seed || pub
	return utils.ED25519ToPrivateKey(ser)
}

// keyidCmd prints the canonical key ID (the private key file name) of a PEM private
// key, or of a PEM public key / certificate.
func keyidCmd(args []string) int {
	fs := flag.NewFlagSet("keyid", flag.ContinueOnError)
	pass := fs.String("pass", "", "passphrase for an encrypted key")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: goldens keyid [-pass P] FILE.pem")
		return 2
	}
	b, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if k, err := utils.ParsePEMPrivateKey(b, *pass); err == nil {
		fmt.Println(k.ID())
		return 0
	}
	pk, err := utils.ParsePEMPublicKey(b)
	if err != nil {
		fmt.Fprintln(os.Stderr, "goldens keyid: not a private key, public key or certificate:", err)
		return 1
	}
	id, err := utils.CanonicalKeyID(pk)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(id)
	return 0
}

type keyIDCase struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	KeyType     string `json:"keytype"`
	// PublicB64 is keyval.public: b64 of the raw public bytes (DER SPKI, 32-byte ed25519, or PEM cert text).
	PublicB64 string `json:"public_b64"`
	// PublicText is keyval.public as text, for PEM certificates only.
	PublicText string `json:"public_text,omitempty"`
	// KeyJSON is json.MarshalCanonical of the public data.TUFKey, exactly the bytes hashed for the TUF ID.
	KeyJSON     string `json:"key_json"`
	TUFID       string `json:"tuf_id"`
	CanonicalID string `json:"canonical_id"`
	// PublicPEM is what `notary key generate -o` writes for the public half (PUBLIC KEY block), when applicable.
	PublicPEM string `json:"public_pem,omitempty"`
	// ParsedPublicPEM is upstream utils.ParsePEMPublicKey(public_pem or cert) -> keytype/TUF ID, or the error.
	ParsedPublicPEM string `json:"parsed_public_pem,omitempty"`
}

func publicKeyCase(name, desc string, pk data.PublicKey, pubPEM []byte) (keyIDCase, error) {
	kj, err := cjson.MarshalCanonical(data.TUFKey{Type: pk.Algorithm(), Value: data.KeyPair{Public: pk.Public()}})
	if err != nil {
		return keyIDCase{}, err
	}
	cid, err := utils.CanonicalKeyID(pk)
	if err != nil {
		return keyIDCase{}, err
	}
	c := keyIDCase{
		Name: name, Description: desc, KeyType: pk.Algorithm(),
		PublicB64: base64.StdEncoding.EncodeToString(pk.Public()),
		KeyJSON:   string(kj), TUFID: pk.ID(), CanonicalID: cid,
	}
	if sum := sha256.Sum256(kj); fmt.Sprintf("%x", sum) != c.TUFID {
		return c, fmt.Errorf("%s: sha256(key_json) != ID()", name)
	}
	if pk.Algorithm() == data.ECDSAx509Key || pk.Algorithm() == data.RSAx509Key {
		c.PublicText = string(pk.Public())
		pubPEM = pk.Public()
	}
	if pubPEM != nil {
		if pk.Algorithm() != data.ECDSAx509Key && pk.Algorithm() != data.RSAx509Key {
			c.PublicPEM = string(pubPEM)
		}
		if p, err := utils.ParsePEMPublicKey(pubPEM); err != nil {
			c.ParsedPublicPEM = "error: " + err.Error()
		} else {
			c.ParsedPublicPEM = p.Algorithm() + " " + p.ID()
		}
	}
	return c, nil
}

func pubPEMFor(k data.PrivateKey) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Headers: map[string]string{"role": "targets/releases"}, Bytes: k.Public()})
}

func certKey(pemBytes []byte, extra ...[]byte) (data.PublicKey, error) {
	leaf, err := utils.LoadCertFromPEM(pemBytes)
	if err != nil {
		return nil, err
	}
	var ints []*x509.Certificate
	for _, e := range extra {
		c, err := utils.LoadCertFromPEM(e)
		if err != nil {
			return nil, err
		}
		ints = append(ints, c)
	}
	return utils.CertBundleToKey(leaf, ints)
}

func writeKeyIDs(repo string, in *inputs) error {
	var cases []keyIDCase
	add := func(name, desc string, pk data.PublicKey, pubPEM []byte) error {
		c, err := publicKeyCase(name, desc, pk, pubPEM)
		if err != nil {
			return err
		}
		cases = append(cases, c)
		return nil
	}
	if err := add("ed25519", "ed25519 key from inputs/ed25519.seed.hex", data.PublicKeyFromPrivate(in.ed25519), pubPEMFor(in.ed25519)); err != nil {
		return err
	}
	if err := add("ecdsa", "P-256 key from inputs/ecdsa.key.pem", data.PublicKeyFromPrivate(in.ecdsa), pubPEMFor(in.ecdsa)); err != nil {
		return err
	}
	if err := add("rsa", "RSA-2048 key from inputs/rsa.key.pem", data.PublicKeyFromPrivate(in.rsa), pubPEMFor(in.rsa)); err != nil {
		return err
	}
	for _, x := range []struct {
		name, desc string
		pem        []byte
		extra      [][]byte
	}{
		{"ecdsa-x509", "inputs/ecdsa.cert.pem: upstream root-style self-signed cert (CN=" + gun + ") over the ecdsa key", in.ecdsaCert, nil},
		{"rsa-x509", "inputs/rsa.cert.pem: upstream root-style self-signed cert (CN=" + gun + ") over the rsa key", in.rsaCert, nil},
		{"ecdsa-x509-chain", "inputs/chain-leaf.cert.pem + chain-ca.cert.pem via utils.CertBundleToKey (leaf first); same key as ecdsa", in.chainLeaf, [][]byte{in.chainCA}},
	} {
		pk, err := certKey(x.pem, x.extra...)
		if err != nil {
			return fmt.Errorf("%s: %w", x.name, err)
		}
		if err := add(x.name, x.desc, pk, nil); err != nil {
			return err
		}
	}
	// The example from the fact sheet (§3.2): ed25519 public key bytes 0..31.
	pub := make([]byte, 32)
	for i := range pub {
		pub[i] = byte(i)
	}
	if err := add("ed25519-sheet-example", "fact sheet §3.2 example: ed25519 public key bytes 0x00..0x1f", data.NewPublicKey(data.ED25519Key, pub), nil); err != nil {
		return err
	}
	// Unknown key types are kept as opaque keys; their ID is computed the same way.
	if err := add("unknown-type", "keytype not known to notary (opaque UnknownPublicKey)", data.NewPublicKey("sha256-made-up", []byte("opaque")), nil); err != nil {
		return err
	}
	return writeJSON(filepath.Join(repo, "keys/testdata/v1/keyids.json"), map[string]interface{}{
		"generator": "tools/cmd/goldens (upstream notary v0.7.0 tuf/data + tuf/utils)",
		"notes": []string{
			"tuf_id = hex(sha256(key_json)); key_json = canonical {keytype, keyval:{private:null, public:b64}}",
			"canonical_id: for *-x509 keys, the ID of the leaf cert's public key as a plain ecdsa/rsa key; else equal to tuf_id",
			"public_pem is the PUBLIC KEY block format of `notary key generate -o` (role header included); ed25519 PUBLIC KEY blocks are rejected by upstream (parsed_public_pem)",
		},
		"cases": cases,
	})
}

// ---- PEMs ----

type pemCase struct {
	File        string            `json:"file"`
	KeyType     string            `json:"keytype"`
	Format      string            `json:"format"`
	Passphrase  string            `json:"passphrase"`
	PEMType     string            `json:"pem_type"`
	Headers     map[string]string `json:"headers"`
	ParsedID    string            `json:"parsed_key_id,omitempty"`    // upstream ParsePEMPrivateKey(file, passphrase).ID()
	ParsedAlg   string            `json:"parsed_algorithm,omitempty"` // ... .Algorithm()
	ParseError  string            `json:"parse_error,omitempty"`
	WrongPass   string            `json:"wrong_passphrase_result"` // result with passphrase "wrongpassphrase"
	EmptyPass   string            `json:"empty_passphrase_result"` // result with passphrase ""
	AttrRole    string            `json:"extract_role"`
	AttrGUN     string            `json:"extract_gun"`
	AttrError   string            `json:"extract_error,omitempty"`
	Description string            `json:"description"`
}

func parseResult(b []byte, pass string) string {
	k, err := utils.ParsePEMPrivateKey(b, pass)
	if err != nil {
		return "error: " + err.Error()
	}
	return "ok " + k.Algorithm() + " " + k.ID()
}

func legacyPEM(k data.PrivateKey, role string, pass string) ([]byte, error) {
	var typ string
	switch k.Algorithm() {
	case data.ECDSAKey:
		typ = "EC PRIVATE KEY"
	case data.RSAKey:
		typ = "RSA PRIVATE KEY"
	case data.ED25519Key:
		typ = "ED25519 PRIVATE KEY"
	default:
		return nil, errors.New("unsupported")
	}
	if pass == "" {
		return pem.EncodeToMemory(&pem.Block{Type: typ, Headers: map[string]string{"role": role}, Bytes: k.Private()}), nil
	}
	//lint:ignore SA1019 legacy RFC 1423 encryption is exactly what we want to exercise.
	blk, err := x509.EncryptPEMBlock(rand.Reader, typ, k.Private(), []byte(pass), x509.PEMCipherAES256) //nolint:staticcheck
	if err != nil {
		return nil, err
	}
	blk.Headers["role"] = role
	return pem.EncodeToMemory(blk), nil
}

func writePEMs(repo string, in *inputs) error {
	dir := filepath.Join(repo, "keys/testdata/v1/pem")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var cases []pemCase
	for _, k := range []struct {
		name string
		key  data.PrivateKey
	}{{"ecdsa", in.ecdsa}, {"rsa", in.rsa}, {"ed25519", in.ed25519}} {
		type variant struct {
			suffix, format, role, gun, pass, desc string
		}
		vs := []variant{
			{"root.enc.pem", "pkcs8-encrypted", "root", "", passphrase, "utils.ConvertPrivateKeyToPKCS8(key, root, \"\", passphrase): as the CLI stores a root key"},
			{"targets.enc.pem", "pkcs8-encrypted", "targets", gun, passphrase, "utils.ConvertPrivateKeyToPKCS8(key, targets, gun, passphrase): as the CLI stores a targets/snapshot key"},
			{"delegation.enc.pem", "pkcs8-encrypted", "targets/releases", "", passphrase, "utils.ConvertPrivateKeyToPKCS8(key, targets/releases, \"\", passphrase)"},
			{"plain.pem", "pkcs8", "targets/releases", "", "", "utils.ConvertPrivateKeyToPKCS8(key, targets/releases, \"\", \"\"): unencrypted PRIVATE KEY"},
			{"legacy.pem", "legacy", "targets/releases", "", "", "legacy unencrypted block (EC/RSA/ED25519 PRIVATE KEY), written by this generator with Go's encoding/pem; read by upstream"},
			{"legacy.enc.pem", "legacy-rfc1423", "targets/releases", "", passphrase, "legacy RFC 1423 AES-256-CBC block written by Go's x509.EncryptPEMBlock; read by upstream"},
		}
		for _, v := range vs {
			var b []byte
			var err error
			if v.format == "legacy" || v.format == "legacy-rfc1423" {
				b, err = legacyPEM(k.key, v.role, v.pass)
			} else {
				b, err = utils.ConvertPrivateKeyToPKCS8(k.key, data.RoleName(v.role), data.GUN(v.gun), v.pass)
			}
			if err != nil {
				return fmt.Errorf("%s %s: %w", k.name, v.suffix, err)
			}
			file := k.name + "." + v.suffix
			if err := writeFile(filepath.Join(dir, file), b); err != nil {
				return err
			}
			blk, _ := pem.Decode(b)
			c := pemCase{
				File: "pem/" + file, KeyType: k.key.Algorithm(), Format: v.format, Passphrase: v.pass,
				PEMType: blk.Type, Headers: blk.Headers, Description: v.desc,
				WrongPass: parseResult(b, "wrongpassphrase"), EmptyPass: parseResult(b, ""),
			}
			if pk, err := utils.ParsePEMPrivateKey(b, v.pass); err != nil {
				c.ParseError = err.Error()
			} else {
				c.ParsedID, c.ParsedAlg = pk.ID(), pk.Algorithm()
				if pk.ID() != k.key.ID() {
					return fmt.Errorf("%s: parsed key ID %s != %s", file, pk.ID(), k.key.ID())
				}
			}
			role, g, err := utils.ExtractPrivateKeyAttributes(b)
			c.AttrRole, c.AttrGUN = role.String(), g.String()
			if err != nil {
				c.AttrError = err.Error()
			}
			cases = append(cases, c)
		}
	}
	return writeJSON(filepath.Join(repo, "keys/testdata/v1/pems.json"), map[string]interface{}{
		"generator":  "tools/cmd/goldens (upstream notary v0.7.0 tuf/utils.ConvertPrivateKeyToPKCS8 / ParsePEMPrivateKey)",
		"passphrase": passphrase,
		"key_ids": map[string]string{
			"ecdsa": in.ecdsa.ID(), "rsa": in.rsa.ID(), "ed25519": in.ed25519.ID(),
		},
		"notes": []string{
			"encrypted PKCS#8: PBES2 + PBKDF2(HMAC-SHA1, 8-byte salt, 2048 iterations) + AES-256-CBC; salt and IV are random, so bytes change on every regeneration",
			"result strings: 'ok <algorithm> <key id>' or 'error: <upstream error text>'",
		},
		"cases": cases,
	})
}

// ---- signatures ----

type sigCase struct {
	Name    string `json:"name"`
	Key     string `json:"key"` // name in keyids.json
	KeyType string `json:"keytype"`
	KeyID   string `json:"keyid"` // TUF ID of the verifying key
	// KeyJSON is the public key object (canonical), so a test needs no other file.
	KeyJSON string `json:"key_json"`
	Method  string `json:"method"`
	// MessageRef names the message in "messages".
	MessageRef string `json:"message"`
	SigB64     string `json:"sig_b64"`
	// Upstream is upstream signed.Verifiers[method].Verify(key, sig, msg): "ok" or the error.
	Upstream    string `json:"upstream_verify"`
	Description string `json:"description"`
}

func verdict(method data.SigAlgorithm, pk data.PublicKey, sig, msg []byte) string {
	v, ok := signed.Verifiers[method]
	if !ok {
		return "error: signing method is not supported: " + string(method)
	}
	if err := v.Verify(pk, sig, msg); err != nil {
		return "error: " + err.Error()
	}
	return "ok"
}

func writeSignatures(repo string, in *inputs) error {
	msgs := map[string][]byte{
		"fixed":  []byte(`{"_type":"Targets","delegations":{"keys":{},"roles":[]},"expires":"2030-01-02T03:04:05Z","targets":{"a&b<c>":{"hashes":{"sha256":"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="},"length":0}},"version":1}`),
		"empty":  {},
		"binary": {0x00, 0xff, 0x10, 0x80, '\n'},
	}
	ecX, err := certKey(in.ecdsaCert)
	if err != nil {
		return err
	}
	rsaX, err := certKey(in.rsaCert)
	if err != nil {
		return err
	}
	type signer struct {
		name string
		priv data.PrivateKey
		pub  data.PublicKey
	}
	signers := []signer{
		{"ed25519", in.ed25519, data.PublicKeyFromPrivate(in.ed25519)},
		{"ecdsa", in.ecdsa, data.PublicKeyFromPrivate(in.ecdsa)},
		{"rsa", in.rsa, data.PublicKeyFromPrivate(in.rsa)},
		{"ecdsa-x509", in.ecdsa, ecX},
		{"rsa-x509", in.rsa, rsaX},
	}
	var cases []sigCase
	add := func(name, desc string, s signer, method data.SigAlgorithm, msgRef string, sig []byte, msg []byte) error {
		kj, err := cjson.MarshalCanonical(data.TUFKey{Type: s.pub.Algorithm(), Value: data.KeyPair{Public: s.pub.Public()}})
		if err != nil {
			return err
		}
		cases = append(cases, sigCase{
			Name: name, Key: s.name, KeyType: s.pub.Algorithm(), KeyID: s.pub.ID(), KeyJSON: string(kj),
			Method: string(method), MessageRef: msgRef, SigB64: base64.StdEncoding.EncodeToString(sig),
			Upstream: verdict(method, s.pub, sig, msg), Description: desc,
		})
		return nil
	}
	msgNames := []string{"fixed", "empty", "binary"}
	for _, s := range signers {
		for _, mn := range msgNames {
			msg := msgs[mn]
			sig, err := s.priv.Sign(rand.Reader, msg, nil)
			if err != nil {
				return fmt.Errorf("%s sign: %w", s.name, err)
			}
			method := s.priv.SignatureAlgorithm()
			if err := add(s.name+"/"+mn, "upstream data.PrivateKey.Sign (the CLI/signer signing code)", s, method, mn, sig, msg); err != nil {
				return err
			}
			if mn != "fixed" {
				continue
			}
			// Negative and edge vectors over the fixed message.
			tampered := append([]byte{}, sig...)
			tampered[len(tampered)-1] ^= 0x01
			if err := add(s.name+"/fixed/tampered-sig", "last signature byte flipped", s, method, mn, tampered, msg); err != nil {
				return err
			}
			if err := add(s.name+"/fixed/method-uppercase-lookup", "method written in upper case: Verifiers map lookup is case-sensitive (the JSON decoder lowercases before this)", s, data.SigAlgorithm(upper(string(method))), mn, sig, msg); err != nil {
				return err
			}
			if err := add(s.name+"/fixed/other-message", "valid signature checked against the 'binary' message", s, method, "binary", sig, msgs["binary"]); err != nil {
				return err
			}
		}
	}
	// Extra method/key combinations that upstream accepts or refuses.
	ecS, rsaS := signers[1], signers[2]
	msg := msgs["fixed"]
	h := sha256.Sum256(msg)
	// ECDSA DER (ASN.1) signature instead of raw r||s.
	if k, ok := ecS.priv.CryptoSigner().(crypto.Signer); ok {
		der, err := k.Sign(rand.Reader, h[:], crypto.SHA256)
		if err != nil {
			return err
		}
		if err := add("ecdsa/fixed/asn1-der-sig", "ASN.1 DER ECDSA signature (not raw r||s): refused by upstream", ecS, data.ECDSASignature, "fixed", der, msg); err != nil {
			return err
		}
	}
	rk := rsaS.priv.CryptoSigner().(*rsa.PrivateKey)
	pkcs1, err := rsa.SignPKCS1v15(rand.Reader, rk, crypto.SHA256, h[:])
	if err != nil {
		return err
	}
	if err := add("rsa/fixed/rsapkcs1v15", "PKCS#1 v1.5 SHA-256 signature, method rsapkcs1v15 (verify-only in upstream)", rsaS, data.RSAPKCS1v15Signature, "fixed", pkcs1, msg); err != nil {
		return err
	}
	if err := add("rsa-x509/fixed/rsapkcs1v15", "PKCS#1 v1.5 with an rsa-x509 key", signers[4], data.RSAPKCS1v15Signature, "fixed", pkcs1, msg); err != nil {
		return err
	}
	if err := add("rsa/fixed/pkcs1v15-as-rsapss", "PKCS#1 v1.5 signature labelled rsapss", rsaS, data.RSAPSSSignature, "fixed", pkcs1, msg); err != nil {
		return err
	}
	pssAuto, err := rsa.SignPSS(rand.Reader, rk, crypto.SHA256, h[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto, Hash: crypto.SHA256})
	if err != nil {
		return err
	}
	if err := add("rsa/fixed/pss-max-salt", "RSA-PSS with maximal salt length (not 32): upstream requires salt length 32", rsaS, data.RSAPSSSignature, "fixed", pssAuto, msg); err != nil {
		return err
	}
	pss32, err := rsa.SignPSS(rand.Reader, rk, crypto.SHA256, h[:], &rsa.PSSOptions{SaltLength: 32, Hash: crypto.SHA256})
	if err != nil {
		return err
	}
	if err := add("rsa/fixed/pss-via-pycrypto-method", "valid PSS sig, method 'pycrypto-pkcs#1 pss' with a DER (non-PEM) rsa key: upstream expects PEM here", rsaS, data.PyCryptoSignature, "fixed", pss32, msg); err != nil {
		return err
	}
	pemPub := data.NewPublicKey(data.RSAKey, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: rsaS.pub.Public()}))
	if err := add("rsa-pem-public/fixed/pycrypto", "valid PSS sig, method 'pycrypto-pkcs#1 pss', rsa key whose public is PEM text (legacy pycrypto form)", signer{"rsa-pem-public", rsaS.priv, pemPub}, data.PyCryptoSignature, "fixed", pss32, msg); err != nil {
		return err
	}
	edSig, _ := signers[0].priv.Sign(rand.Reader, msg, nil)
	if err := add("ed25519/fixed/method-ecdsa", "ed25519 signature labelled ecdsa", signers[0], data.ECDSASignature, "fixed", edSig, msg); err != nil {
		return err
	}
	ecSig, _ := ecS.priv.Sign(rand.Reader, msg, nil)
	if err := add("ecdsa/fixed/truncated", "raw r||s missing its last byte (63 bytes)", ecS, data.ECDSASignature, "fixed", ecSig[:63], msg); err != nil {
		return err
	}
	if err := add("ecdsa/fixed/unknown-method", "method not in upstream's Verifiers map", ecS, data.SigAlgorithm("ecdsa-sha2-nistp256"), "fixed", ecSig, msg); err != nil {
		return err
	}
	sort.SliceStable(cases, func(i, j int) bool { return cases[i].Name < cases[j].Name })
	m := map[string]string{}
	for k, v := range msgs {
		m[k] = base64.StdEncoding.EncodeToString(v)
	}
	return writeJSON(filepath.Join(repo, "keys/testdata/v1/signatures.json"), map[string]interface{}{
		"generator":    "tools/cmd/goldens (upstream notary v0.7.0 data.PrivateKey.Sign and signed.Verifiers)",
		"messages_b64": m,
		"notes": []string{
			"upstream_verify is signed.Verifiers[method].Verify(key, sig, message) from v0.7.0: 'ok' or 'error: ...'",
			"the message is signed as-is (callers pass canonical bytes of 'signed'); ecdsa and rsapss hash with SHA-256, eddsa is pure Ed25519",
			"ecdsa and rsapss signatures are randomised and change on every regeneration; ed25519 signatures are deterministic",
		},
		"cases": cases,
	})
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 32
		}
	}
	return string(b)
}
