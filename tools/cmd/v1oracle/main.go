// Command v1oracle runs Notary v0.7.0's own key code (tuf/utils, cryptoservice)
// as an oracle for keys/pem*.go and keys/cert*.go:
//
//	v1oracle gen DIR          # writes v1-made PEMs, a root cert and expectations
//	v1oracle check FILE PASS  # v1 decrypts FILE, prints "<keytype> <id> <hex private>"
//	v1oracle migrate TRUSTDIR # v1 opens the key store of TRUSTDIR, migrating legacy layouts
//
// It lives in the tools module (the upstream dependency graph must not enter the
// root go.mod); scripts/install-peers.sh builds it into .tools/bin/v1oracle.
package main

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/theupdateframework/notary/cryptoservice"
	"github.com/theupdateframework/notary/passphrase"
	"github.com/theupdateframework/notary/trustmanager"
	"github.com/theupdateframework/notary/tuf/data"
	"github.com/theupdateframework/notary/tuf/utils"
)

const goldenPass = "v1-golden-passphrase"

type expect struct {
	File       string `json:"file"`
	Passphrase string `json:"passphrase,omitempty"`
	KeyType    string `json:"keytype"`
	ID         string `json:"id"`
	Private    string `json:"private_hex"`
	Role       string `json:"role"`
	GUN        string `json:"gun"`
	Canonical  string `json:"canonical_id,omitempty"`
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func main() {
	switch os.Args[1] {
	case "gen":
		gen(os.Args[2])
	case "migrate":
		_, err := trustmanager.NewKeyFileStore(os.Args[2], passphrase.ConstantRetriever(""))
		must(err)
	case "check":
		b, err := os.ReadFile(os.Args[2])
		must(err)
		k, err := utils.ParsePEMPrivateKey(b, os.Args[3])
		must(err)
		role, gun, err := utils.ExtractPrivateKeyAttributes(b)
		must(err)
		fmt.Printf("%s %s %s role=%q gun=%q\n", k.Algorithm(), k.ID(), hex.EncodeToString(k.Private()), role, gun)
	}
}

func gen(dir string) {
	var out []expect
	add := func(name string, k data.PrivateKey, role, gun, pass string) {
		pemBytes, err := utils.ConvertPrivateKeyToPKCS8(k, data.RoleName(role), data.GUN(gun), pass)
		must(err)
		must(os.WriteFile(filepath.Join(dir, name), pemBytes, 0o644))
		out = append(out, expect{File: name, Passphrase: pass, KeyType: k.Algorithm(), ID: k.ID(), Canonical: k.ID(),
			Private: hex.EncodeToString(k.Private()), Role: role, GUN: gun})
	}
	ec, err := utils.GenerateKey(data.ECDSAKey)
	must(err)
	ed, err := utils.GenerateKey(data.ED25519Key)
	must(err)
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	must(err)
	rsaKey, err := utils.RSAToPrivateKey(rk)
	must(err)
	root, err := utils.GenerateKey(data.ECDSAKey)
	must(err)

	// Headers exactly as the v1 key store writes them (gun only for base
	// non-root roles).
	add("ecdsa_targets.pem", ec, "targets", "example.com/app", "")
	add("ecdsa_targets_enc.pem", ec, "targets", "example.com/app", goldenPass)
	add("ed25519_snapshot.pem", ed, "snapshot", "example.com/app", "")
	add("ed25519_snapshot_enc.pem", ed, "snapshot", "example.com/app", goldenPass)
	add("rsa_delegation.pem", rsaKey, "targets/releases", "", "")
	add("rsa_delegation_enc.pem", rsaKey, "targets/releases", "", goldenPass)
	add("ecdsa_root_enc.pem", root, "root", "", goldenPass)

	start := time.Now()
	cert, err := cryptoservice.GenerateCertificate(root, "example.com/app", start, start.Add(10*365*24*time.Hour))
	must(err)
	certKey := utils.CertToKey(cert)
	must(os.WriteFile(filepath.Join(dir, "root_cert.pem"), certKey.Public(), 0o644))
	canonical, err := utils.CanonicalKeyID(certKey)
	must(err)
	out = append(out, expect{File: "root_cert.pem", KeyType: certKey.Algorithm(), ID: certKey.ID(), Role: "root", GUN: "example.com/app", Canonical: canonical})

	b, err := json.MarshalIndent(out, "", "  ")
	must(err)
	must(os.WriteFile(filepath.Join(dir, "expect.json"), append(b, '\n'), 0o644))
}
