//go:build interop

package interop

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/notary-go/notary/auth"
)

// dockerGUN is the image repository (and trust collection) of the DCT
// scenarios. Its registry host is not loopback: the Docker CLI treats
// 127.0.0.0/8 registries as insecure and would then skip TLS verification
// of the notary server, which these tests want exercised.
const (
	dockerRegistry = "registry.example.com"
	dockerGUN      = dockerRegistry + "/org/app"
)

// dockerManifest is a made-up image manifest: the tag's target is its
// sha256 and length, as `docker push` would record.
type dockerManifest struct {
	tag    string
	digest string // hex sha256
	size   int
}

func dockerMakeManifest(tag string) dockerManifest {
	body := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","tag":%q}`, tag)
	sum := sha256.Sum256([]byte(body))
	return dockerManifest{tag: tag, digest: hex.EncodeToString(sum[:]), size: len(body)}
}

// dockerInspect is `docker trust inspect` output.
type dockerInspect struct {
	Name       string
	SignedTags []struct {
		SignedTag string
		Digest    string
		Signers   []string
	}
	Signers []struct {
		Name string
		Keys []struct{ ID string }
	}
	AdministrativeKeys []struct {
		Name string
		Keys []struct{ ID string }
	}
}

func dockerParseInspect(t *testing.T, r dockerResult) dockerInspect {
	t.Helper()
	var out []dockerInspect
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || len(out) != 1 {
		t.Fatalf("docker trust inspect output: %v\n%s", err, r)
	}
	return out[0]
}

func (i dockerInspect) tags() map[string]string {
	m := map[string]string{}
	for _, s := range i.SignedTags {
		m[s.SignedTag] = s.Digest
	}
	return m
}

func (i dockerInspect) signers() []string {
	var out []string
	for _, s := range i.Signers {
		out = append(out, s.Name)
	}
	sort.Strings(out)
	return out
}

func (i dockerInspect) tagSigners(tag string) []string {
	for _, s := range i.SignedTags {
		if s.SignedTag == tag {
			out := append([]string(nil), s.Signers...)
			sort.Strings(out)
			return out
		}
	}
	return nil
}

// dockerWriteKeyPair writes an unencrypted PKCS #8 ECDSA key (mode 0600, as
// `docker trust key load` requires) and its PKIX public key.
func dockerWriteKeyPair(t *testing.T, dir, name string) (keyFile, pubFile string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	pub, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	keyFile, pubFile = filepath.Join(dir, name+".key"), filepath.Join(dir, name+".pub")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pubFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o644); err != nil {
		t.Fatal(err)
	}
	return keyFile, pubFile
}

func dockerContains(t *testing.T, r dockerResult, wants ...string) {
	t.Helper()
	all := r.stdout + r.stderr
	for _, w := range wants {
		if !strings.Contains(all, w) {
			t.Errorf("output of %q lacks %q\n%s", strings.Join(r.args, " "), w, r)
		}
	}
}

// dockerScenarioOpts say how to reach the server for the publisher
// (docker env with write credentials) and how to run the notary CLIs.
type dockerScenarioOpts struct {
	serverURL  string
	caFile     string
	caPEM      []byte
	publisher  string // user:password of the publisher ("" without auth)
	reader     string // user:password of a pull-only user ("" to skip)
	notaryAuth string // user:password for the notary CLIs ("" without auth)
	// delegationUploads is false against v0.7.0 notary-server built with a
	// modern Go, which refuses every delegation upload (upstream-notes §0).
	delegationUploads bool
}

// dockerTrustScenario runs the Docker CLI's trust commands that need no
// Docker engine against a notary server, and the notary CLIs (v0.7.0 and
// ours) on the trust directory the Docker CLI wrote.
func dockerTrustScenario(t *testing.T, o dockerScenarioOpts) {
	creds := map[string]string{}
	if o.publisher != "" {
		creds[dockerRegistry] = o.publisher
	}
	d := dockerNewEnv(t, o.serverURL, o.caPEM, creds)
	keys := t.TempDir()
	upstream := &notaryCLI{t: t, bin: dockerV1Bin(t, "notary"), trustDir: d.TrustDir(), server: o.serverURL, ca: o.caFile, auth: o.notaryAuth}

	// Keys: generate one (loaded into $DOCKER_CONFIG/trust/private), load
	// another from a PEM file.
	r := d.ok("trust", "key", "generate", "alice", "--dir", keys)
	dockerContains(t, r, "Successfully generated and loaded private key")
	bobKey, bobPub := dockerWriteKeyPair(t, keys, "bob")
	r = d.ok("trust", "key", "load", "--name", "bob", bobKey)
	dockerContains(t, r, "Successfully imported key from "+bobKey)

	// signer add creates the collection (root key, targets key, server
	// snapshot and timestamp) and the targets/alice and targets/releases
	// delegations.
	r = d.ok("trust", "signer", "add", "--key", filepath.Join(keys, "alice.pub"), "alice", dockerGUN)
	dockerContains(t, r, "Initializing signed repository for "+dockerGUN, "Successfully added signer: alice to "+dockerGUN)
	r = d.ok("trust", "signer", "add", "--key", bobPub, "bob", dockerGUN)
	dockerContains(t, r, "Successfully added signer: bob to "+dockerGUN)

	r = d.ok("trust", "inspect", dockerGUN)
	in := dockerParseInspect(t, r)
	if got := in.signers(); strings.Join(got, ",") != "alice,bob" {
		t.Errorf("signers = %v, want alice, bob", got)
	}
	if len(in.SignedTags) != 0 {
		t.Errorf("signed tags = %+v, want none", in.SignedTags)
	}
	if len(in.AdministrativeKeys) != 2 {
		t.Errorf("administrative keys = %+v, want Root and Repository", in.AdministrativeKeys)
	}

	if !o.delegationUploads {
		// v0.7.0 notary-server refuses delegation uploads: the rest
		// of the scenario publishes into targets/releases.
		r = upstream.ok("list", dockerGUN)
		dockerContains(t, r, "No targets present in this repository.")
		return
	}

	// A tag the collection already holds (as `docker push` would have
	// recorded it): added with the v0.7.0 CLI, by hash, into
	// targets/releases with the keys docker made.
	v1, v2, v3 := dockerMakeManifest("v1"), dockerMakeManifest("v2"), dockerMakeManifest("v3")
	for _, m := range []dockerManifest{v1, v2, v3} {
		upstream.ok("addhash", dockerGUN, m.tag, fmt.Sprint(m.size), "--sha256", m.digest, "-r", "targets/releases")
	}
	upstream.ok("publish", dockerGUN)

	// docker trust sign of a tag the collection holds needs no engine:
	// it signs the existing target into every delegation it holds a key
	// for.
	r = d.ok("trust", "sign", dockerGUN+":v1")
	dockerContains(t, r, "Signing and pushing trust metadata for "+dockerGUN+":v1", "Successfully signed "+dockerGUN+":v1")

	in = dockerParseInspect(t, d.ok("trust", "inspect", dockerGUN))
	if got := in.tags(); got["v1"] != v1.digest || got["v2"] != v2.digest || got["v3"] != v3.digest || len(got) != 3 {
		t.Errorf("signed tags = %v, want v1..v3 with their digests", got)
	}
	if got := in.tagSigners("v1"); strings.Join(got, ",") != "alice,bob" {
		t.Errorf("v1 signers = %v, want alice, bob", got)
	}

	r = d.ok("trust", "inspect", "--pretty", dockerGUN)
	dockerContains(t, r,
		"Signatures for "+dockerGUN,
		"v1", v1.digest, "alice, bob",
		"List of signers and their keys for "+dockerGUN,
		"Administrative keys for "+dockerGUN,
		"Repository Key:", "Root Key:")

	// The trust lookup of DCT pull resolves the tag to its digest; the
	// pull itself then needs the engine.
	r = d.run([]string{"DOCKER_CONTENT_TRUST=1"}, "pull", dockerGUN+":v1")
	dockerContains(t, r, fmt.Sprintf("Pull (1 of 1): %s:v1@sha256:%s", dockerGUN, v1.digest))
	if r.err == nil {
		t.Error("DCT pull succeeded without an engine")
	}
	r = d.run([]string{"DOCKER_CONTENT_TRUST=1"}, "pull", dockerGUN+":nope")
	dockerContains(t, r, "No trust data for nope")

	// A reader with its own (empty) trust directory.
	if o.reader != "" {
		rd := dockerNewEnv(t, o.serverURL, o.caPEM, map[string]string{dockerRegistry: o.reader})
		in := dockerParseInspect(t, rd.ok("trust", "inspect", dockerGUN))
		if in.tags()["v2"] != v2.digest {
			t.Errorf("reader sees tags %v", in.tags())
		}
		_, pub := dockerWriteKeyPair(t, keys, "mallory")
		r := rd.run(nil, "trust", "signer", "add", "--key", pub, "mallory", dockerGUN)
		if r.err == nil {
			t.Error("a pull-only user added a signer")
		}
		dockerContains(t, r, "failed to add signer to: "+dockerGUN)
	}

	// Revoke one tag, then every tag.
	r = d.ok("trust", "revoke", "--yes", dockerGUN+":v1")
	dockerContains(t, r, "Successfully deleted signature for "+dockerGUN+":v1")
	in = dockerParseInspect(t, d.ok("trust", "inspect", dockerGUN))
	if got := in.tags(); got["v1"] != "" || got["v2"] != v2.digest {
		t.Errorf("after revoking v1: tags %v", got)
	}
	r = d.run([]string{"DOCKER_CONTENT_TRUST=1"}, "pull", dockerGUN+":v1")
	dockerContains(t, r, "No trust data for v1")

	// The v0.7.0 CLI and ours read what docker published.
	r = upstream.ok("list", dockerGUN)
	dockerContains(t, r, "v2", "v3", v2.digest)
	r = upstream.ok("delegation", "list", dockerGUN)
	dockerContains(t, r, "targets/alice", "targets/bob", "targets/releases")
	dockerOurNotary(t, d, o, v2, v3)

	r = d.ok("trust", "revoke", "--yes", dockerGUN)
	dockerContains(t, r, "Successfully deleted signature for "+dockerGUN)
	in = dockerParseInspect(t, d.ok("trust", "inspect", dockerGUN))
	if len(in.SignedTags) != 0 {
		t.Errorf("after revoking everything: tags %v", in.tags())
	}

	// Remove a signer.
	r = d.ok("trust", "signer", "remove", "--force", "bob", dockerGUN)
	dockerContains(t, r, "Successfully removed bob from "+dockerGUN)
	in = dockerParseInspect(t, d.ok("trust", "inspect", dockerGUN))
	if got := in.signers(); strings.Join(got, ",") != "alice" {
		t.Errorf("signers after removing bob = %v", got)
	}
	r = upstream.ok("delegation", "list", dockerGUN)
	if strings.Contains(r.stdout, "targets/bob") {
		t.Errorf("v0.7.0 CLI still lists targets/bob\n%s", r)
	}
}

// dockerOurNotary reads the collection with our notary CLI, from a copy
// of the trust directory docker wrote.
func dockerOurNotary(t *testing.T, d *dockerEnv, o dockerScenarioOpts, want ...dockerManifest) {
	t.Helper()
	bin := dockerBuild(t, "./cmd/notary", t.TempDir())
	ours := &notaryCLI{t: t, bin: bin, trustDir: d.TrustDir(), server: o.serverURL, ca: o.caFile, auth: o.notaryAuth}
	r := ours.run("list", dockerGUN)
	if r.err != nil {
		t.Errorf("our notary list on docker's trust dir failed: %v\n%s", r.err, r)
		return
	}
	for _, m := range want {
		dockerContains(t, r, m.tag, m.digest)
	}
	r = ours.run("delegation", "list", dockerGUN)
	if r.err != nil {
		t.Errorf("our notary delegation list failed: %v\n%s", r.err, r)
		return
	}
	dockerContains(t, r, "targets/alice", "targets/releases")
}

// TestDockerTrustNoAuth: the Docker CLI against our notary-server binary,
// over TLS, without authentication.
func TestDockerTrustNoAuth(t *testing.T) {
	dockerCLI(t)
	p := authNewPKI(t)
	bin := dockerBuild(t, "./cmd/notary-server", t.TempDir())
	dir := t.TempDir()
	port := authFreePort(t)
	cfg := fmt.Sprintf(`{"server":{"http_addr":"127.0.0.1:%d","tls_cert_file":%q,"tls_key_file":%q},
		"trust_service":{"type":"local"},"storage":{"backend":"memory"},"logging":{"level":"debug"}}`, port, p.ServerCert, p.ServerKey)
	cfgFile := filepath.Join(dir, "server.json")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	logFile := authStartProcess(t, dir, "notary-server", []string{"PATH=" + os.Getenv("PATH")}, bin, "-config", cfgFile, "-data-dir", dir)
	url := fmt.Sprintf("https://127.0.0.1:%d", port)
	authWaitHTTPS(t, url+"/_notary_server/health", p.clientTLS(), logFile)
	dockerTrustScenario(t, dockerScenarioOpts{serverURL: url, caFile: p.CA, caPEM: p.caPEM(t), delegationUploads: true})
}

// authTokenACL is the token issuer's ACL of the DCT scenarios: alice
// publishes to registry.example.com, carol only reads, admin may do
// everything (including "*": delete and key rotation).
var authTokenACL = []map[string]any{
	{"account": "admin", "name": "*", "actions": []string{"*"}},
	{"account": "admin", "type": "registry", "name": "catalog", "actions": []string{"*"}},
	{"account": "alice", "name": dockerRegistry + "/*", "actions": []string{"push", "pull"}},
	{"account": "carol", "name": dockerRegistry + "/*", "actions": []string{"pull"}},
}

var authTokenUsers = map[string]string{"alice": "alice-pw", "carol": "carol-pw", "admin": "admin-pw"}

// TestDockerTrustTokenAuth: the Docker CLI against our server with token
// auth, tokens from cmd/notary-auth.
func TestDockerTrustTokenAuth(t *testing.T) {
	dockerCLI(t)
	p := authNewPKI(t)
	na := dockerBuild(t, "./cmd/notary-auth", t.TempDir())
	realm := authStartIssuer(t, na, p, "notary-auth", "notary.example.com", authUsers(t, na, t.TempDir(), authTokenUsers), authTokenACL)
	url := authOurServer(t, p, auth.Config{Type: "token", Options: map[string]any{
		"realm": realm, "service": "notary.example.com", "issuer": "notary-auth", "rootcertbundle": p.CA,
	}})
	dockerTrustScenario(t, dockerScenarioOpts{
		serverURL: url, caFile: p.CA, caPEM: p.caPEM(t),
		publisher: "alice:alice-pw", reader: "carol:carol-pw", notaryAuth: "alice:alice-pw",
		delegationUploads: true,
	})
	authAdminOnly(t, url, p)
}

// authAdminOnly checks that "*" (remote delete) needs the admin: alice's
// push+pull token is not enough.
func authAdminOnly(t *testing.T, url string, p *authPKI) {
	dir := t.TempDir()
	bin := dockerV1Bin(t, "notary")
	alice := &notaryCLI{t: t, bin: bin, trustDir: dir, server: url, ca: p.CA, auth: "alice:alice-pw"}
	r := alice.run("delete", dockerGUN, "--remote")
	if r.err == nil {
		t.Error("alice deleted the collection without the * action")
	}
	admin := &notaryCLI{t: t, bin: bin, trustDir: dir, server: url, ca: p.CA, auth: "admin:admin-pw"}
	admin.ok("delete", dockerGUN, "--remote")
	r = alice.run("list", dockerGUN)
	if r.err == nil {
		t.Errorf("the collection survived its deletion\n%s", r)
	}
}

// TestDockerTrustBasicAuth: the Docker CLI against our server with Basic
// auth from an htpasswd file.
func TestDockerTrustBasicAuth(t *testing.T) {
	dockerCLI(t)
	p := authNewPKI(t)
	na := dockerBuild(t, "./cmd/notary-auth", t.TempDir())
	users := authUsers(t, na, t.TempDir(), map[string]string{"alice": "alice-pw"})
	url := authOurServer(t, p, auth.Config{Type: "htpasswd", Options: map[string]any{"realm": "notary", "path": users}})
	dockerTrustScenario(t, dockerScenarioOpts{
		serverURL: url, caFile: p.CA, caPEM: p.caPEM(t),
		publisher: "alice:alice-pw", notaryAuth: "alice:alice-pw",
		delegationUploads: true,
	})
	// Wrong password: everything is refused.
	d := dockerNewEnv(t, url, p.caPEM(t), map[string]string{dockerRegistry: "alice:wrong"})
	r := d.run(nil, "trust", "inspect", dockerGUN)
	if r.err == nil {
		t.Errorf("inspect with a wrong password succeeded\n%s", r)
	}
}

// TestDockerTrustUpstreamServerOurIssuer: the Docker CLI against the
// v0.7.0 notary-server with token auth, tokens from cmd/notary-auth: our
// issuer's tokens satisfy upstream's verifier.
func TestDockerTrustUpstreamServerOurIssuer(t *testing.T) {
	dockerCLI(t)
	srvBin := dockerV1Bin(t, "notary-server")
	p := authNewPKI(t)
	na := dockerBuild(t, "./cmd/notary-auth", t.TempDir())
	realm := authStartIssuer(t, na, p, "notary-auth", "notary.example.com", authUsers(t, na, t.TempDir(), authTokenUsers), authTokenACL)
	url := authStartUpstreamServer(t, srvBin, p, realm, p.CA)
	dockerTrustScenario(t, dockerScenarioOpts{
		serverURL: url, caFile: p.CA, caPEM: p.caPEM(t),
		publisher: "alice:alice-pw", reader: "carol:carol-pw", notaryAuth: "alice:alice-pw",
	})
}

// authStartUpstreamServer runs v0.7.0 notary-server (memory storage, local
// signing) with token auth and returns its URL.
func authStartUpstreamServer(t testing.TB, bin string, p *authPKI, realm, bundle string) string {
	t.Helper()
	dir := t.TempDir()
	port := authFreePort(t)
	cfg := fmt.Sprintf(`{"server":{"http_addr":"127.0.0.1:%d","tls_cert_file":%q,"tls_key_file":%q},
		"trust_service":{"type":"local","key_algorithm":"ecdsa"},"storage":{"backend":"memory"},"logging":{"level":"debug"},
		"auth":{"type":"token","options":{"realm":%q,"service":"notary.example.com","issuer":"notary-auth","rootcertbundle":%q}}}`,
		port, p.ServerCert, p.ServerKey, realm, bundle)
	cfgFile := filepath.Join(dir, "server.json")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	logFile := authStartProcess(t, dir, "notary-server-v0.7.0", []string{"PATH=" + os.Getenv("PATH")}, bin, "-config", cfgFile)
	url := fmt.Sprintf("https://127.0.0.1:%d", port)
	authWaitHTTPS(t, url+"/_notary_server/health", p.clientTLS(), logFile)
	return url
}
