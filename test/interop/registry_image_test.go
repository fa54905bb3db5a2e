//go:build interop

package interop

// Issue 11, Proof: `notary image sign|verify|inspect|revoke` against real
// registries on loopback (the CNCF distribution registry with no auth,
// with htpasswd over TLS and with token auth from our notary-auth; olareg),
// images pushed with crane, and the Docker CLI and v0.7.0's notary reading
// what we sign (and we verifying what `docker trust sign` signs).
//
// Everything that does not need `notary image` (starting the peers,
// pushing with crane, the Docker CLI's own trust steps) runs first; each
// image step checks that our CLI has the command and fails, saying so,
// when it does not (regNotary.requireImage): nothing is skipped silently.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// regScenario is one registry setup of the image scenario.
type regScenario struct {
	reg   *regRegistry
	trust *regTrust
	// dockerConfig holds the registry credentials (crane, our notary);
	// creds are the same for the Docker CLI (registry host → user:pw).
	dockerConfig string
	creds        map[string]string
	// notaryAuth is user:password for the trust server ("" without auth).
	notaryAuth string
	// caFile is a CA our notary (--registry-ca), crane and regctl
	// (SSL_CERT_FILE) trust: the registry's or its token realm's.
	caFile string
	// docker runs the Docker CLI steps.
	docker bool
}

// ours is our notary CLI with a fresh trust directory for this setup.
func (s regScenario) ours(t *testing.T) *regNotary {
	t.Helper()
	n := regOurs(t, s.trust.URL, s.trust.p.CA, s.dockerConfig)
	n.auth = s.notaryAuth
	return n
}

// flags are the registry flags of every image command of this setup.
func (s regScenario) flags(args ...string) []string {
	if s.caFile == "" {
		return args
	}
	cmd, rest := args[0], args[1:]
	return append([]string{cmd, "--registry-ca", s.caFile}, rest...)
}

// dockerEnv is a Docker CLI configuration with the setup's credentials.
func (s regScenario) dockerEnv(t *testing.T) *dockerEnv {
	t.Helper()
	return dockerNewEnv(t, s.trust.URL, s.trust.p.caPEM(t), s.creds)
}

// regScenarioImages are what the scenario pushes.
type regScenarioImages struct {
	v1, oci, amd, arm, multi, dAmd, dArm, list, unsigned regImage
	dv1, dv2, dv3                                        regImage // the Docker-signed repository's
}

func regImageScenario(t *testing.T, s regScenario) {
	host := s.reg.Host
	repo := host + "/org/app"
	drepo := host + "/org/docker"
	cr := regNewCrane(t, s.dockerConfig, s.caFile)

	// Images, pushed with crane: single-platform Docker and OCI
	// manifests, an OCI index and a Docker manifest list of two
	// platforms each.
	var im regScenarioImages
	im.v1 = cr.push(t, repo+":v1", "v1 on "+s.reg.Kind, regImageOpts{})
	im.oci = cr.push(t, repo+":oci-build", "oci build", regImageOpts{OCI: true})
	im.amd = cr.push(t, repo+":amd64", "amd64", regImageOpts{OCI: true, Platform: "linux/amd64"})
	im.arm = cr.push(t, repo+":arm64", "arm64", regImageOpts{OCI: true, Platform: "linux/arm64"})
	im.multi = cr.pushIndex(t, repo+":multi", false, im.amd, im.arm)
	im.dAmd = cr.push(t, repo+":d-amd64", "docker amd64", regImageOpts{Platform: "linux/amd64"})
	im.dArm = cr.push(t, repo+":d-arm64", "docker arm64", regImageOpts{Platform: "linux/arm64/v8"})
	im.list = cr.pushIndex(t, repo+":list", true, im.dAmd, im.dArm)
	im.unsigned = cr.push(t, repo+":unsigned", "never signed", regImageOpts{})
	im.dv1 = cr.push(t, drepo+":v1", "docker v1", regImageOpts{})
	im.dv2 = cr.push(t, drepo+":v2", "docker v2", regImageOpts{OCI: true})
	im.dv3 = cr.push(t, drepo+":v3", "docker v3", regImageOpts{})
	if im.list.MediaType != "application/vnd.docker.distribution.manifest.list.v2+json" || im.multi.MediaType != "application/vnd.oci.image.index.v1+json" {
		t.Fatalf("index media types: list %q, multi %q", im.list.MediaType, im.multi.MediaType)
	}
	// A second client reads the same digests.
	regCheckRegctl(t, s.reg, s.dockerConfig, s.caFile, im.multi)
	regCheckRegctl(t, s.reg, s.dockerConfig, s.caFile, im.v1)

	if s.docker {
		t.Run("docker trust sign, notary image verify and sign", func(t *testing.T) {
			regDockerSigned(t, s, drepo, im)
		})
	}
	t.Run("notary image", func(t *testing.T) {
		regOurSigned(t, s, cr, repo, im)
	})
}

// regDockerSigned: a collection made by the Docker CLI (signer alice,
// targets/releases), a tag the collection already holds signed with
// `docker trust sign`; our verify accepts it, and our sign signs into
// targets/releases and alice's delegation as the Docker CLI would.
func regDockerSigned(t *testing.T, s regScenario, gun string, im regScenarioImages) {
	d := s.dockerEnv(t)
	keys := t.TempDir()
	d.ok("trust", "key", "generate", "alice", "--dir", keys)
	r := d.ok("trust", "signer", "add", "--key", filepath.Join(keys, "alice.pub"), "alice", gun)
	dockerContains(t, r, "Successfully added signer: alice to "+gun)
	// The tag in the collection, as `docker push` recorded it: added by
	// hash with our (existing) CLI on the Docker CLI's trust directory.
	w := s.ours(t).with(d.TrustDir())
	w.ok("addhash", gun, "v1", fmt.Sprint(im.dv1.Size), "--sha256", im.dv1.Hex, "-r", "targets/releases")
	w.ok("publish", gun)
	r = d.ok("trust", "sign", gun+":v1")
	dockerContains(t, r, "Successfully signed "+gun+":v1")
	in := dockerParseInspect(t, d.ok("trust", "inspect", gun))
	if got := in.tags()["v1"]; got != im.dv1.Hex {
		t.Fatalf("docker trust inspect: v1 = %q, want %s", got, im.dv1.Hex)
	}
	if got := in.tagSigners("v1"); strings.Join(got, ",") != "alice" {
		t.Errorf("v1 signers = %v, want alice", got)
	}
	r = d.run([]string{"DOCKER_CONTENT_TRUST=1"}, "pull", gun+":v1")
	dockerContains(t, r, fmt.Sprintf("Pull (1 of 1): %s:v1@%s", gun, im.dv1.Digest))

	// Our verify, from an empty trust directory, on what docker signed.
	rd := s.ours(t)
	rd.verify(im.dv1.Pinned(), s.flags("verify", gun+":v1")...)
	rd.verify(im.dv1.Pinned(), s.flags("verify", "--role", "targets/releases", gun+":v1")...)
	rd.verify(im.dv1.Pinned(), s.flags("verify", "--role", "targets/alice", gun+":v1")...)

	// Our sign with alice's key (the Docker CLI's trust directory): into
	// targets/releases and targets/alice, as `docker trust sign` would.
	w.imageOK(s.flags("sign", gun+":v2")...)
	in = dockerParseInspect(t, d.ok("trust", "inspect", gun))
	if got := in.tags()["v2"]; got != im.dv2.Hex {
		t.Errorf("docker trust inspect: v2 = %q, want %s", got, im.dv2.Hex)
	}
	if got := in.tagSigners("v2"); strings.Join(got, ",") != "alice" {
		t.Errorf("v2 signers = %v, want alice", got)
	}
	r = d.run([]string{"DOCKER_CONTENT_TRUST=1"}, "pull", gun+":v2")
	dockerContains(t, r, fmt.Sprintf("Pull (1 of 1): %s:v2@%s", gun, im.dv2.Digest))
	rd.verify(im.dv2.Pinned(), s.flags("verify", "--role", "targets/releases", gun+":v2")...)
	rd.verify(im.dv2.Pinned(), s.flags("verify", "--role", "targets/alice", gun+":v2")...)

	// Without any signer's key: refused, nothing published.
	rd.imageFail(s.flags("sign", gun+":v3"), "key")
	if got := dockerParseInspect(t, d.ok("trust", "inspect", gun)).tags(); got["v3"] != "" {
		t.Errorf("v3 was published by a refused sign: %v", got)
	}
}

// regOurSigned: our CLI signs (by tag, by digest, an index, a manifest
// list), verifies, inspects and revokes; the Docker CLI and v0.7.0's
// notary read the result.
func regOurSigned(t *testing.T, s regScenario, cr *regCrane, repo string, im regScenarioImages) {
	n := s.ours(t)  // the publisher
	rd := s.ours(t) // someone else, from an empty trust directory

	// Sign by tag (a new collection: initialised with a server-managed
	// snapshot), by digest before the tag is pushed, and two REFs in one
	// command.
	n.imageOK(s.flags("sign", repo+":v1")...)
	n.imageOK(s.flags("sign", im.oci.Pinned(), "--tag", "v2")...)
	n.imageOK(s.flags("sign", repo+":multi", repo+":list")...)

	rd.verify(im.v1.Pinned(), s.flags("verify", repo+":v1")...)
	// v2 is signed but not yet in the registry.
	rd.imageFail(s.flags("verify", repo+":v2"), "v2", "not found|no manifest|unknown|missing")
	cr.must(t, "tag", im.oci.Pinned(), "v2")
	rd.verify(im.oci.Pinned(), s.flags("verify", repo+":v2")...)
	rd.verify(im.multi.Pinned(), s.flags("verify", repo+":multi")...)
	rd.verify(im.list.Pinned(), s.flags("verify", repo+":list")...)

	// Platforms of a signed index, and children by digest.
	rd.verify(im.arm.Pinned(), s.flags("verify", "--platform", "linux/arm64", repo+":multi")...)
	rd.verify(im.amd.Pinned(), s.flags("verify", "--platform", "linux/amd64", repo+":multi")...)
	rd.verify(im.dArm.Pinned(), s.flags("verify", "--platform", "linux/arm64/v8", repo+":list")...)
	rd.verify(im.arm.Pinned(), s.flags("verify", im.arm.Pinned())...)
	rd.verify(im.v1.Pinned(), s.flags("verify", im.v1.Pinned())...)
	rd.imageFail(s.flags("verify", "--platform", "linux/s390x", repo+":multi"), "platform|s390x")
	rd.imageFail(s.flags("verify", "--platform", "linux/arm64", repo+":v1"), "platform|index")

	// Unsigned: a tag, a digest; a role that did not sign.
	rd.imageFail(s.flags("verify", repo+":unsigned"), "not signed|no signature|unsigned")
	rd.imageFail(s.flags("verify", im.unsigned.Pinned()), "not signed|no signature")
	rd.imageFail(s.flags("verify", "--role", "targets/releases", repo+":v1"), "not signed|no signature|targets/releases")
	rd.verify(im.v1.Pinned(), s.flags("verify", "--role", "targets", repo+":v1")...)

	// The trust server from DOCKER_CONTENT_TRUST_SERVER instead of -s.
	env := rd.with(t.TempDir())
	env.server, env.env = "", []string{"DOCKER_CONTENT_TRUST_SERVER=" + s.trust.URL}
	env.verify(im.v1.Pinned(), s.flags("verify", repo+":v1")...)

	// inspect: docker trust inspect's JSON, and --pretty.
	wantTags := map[string]string{"v1": im.v1.Hex, "v2": im.oci.Hex, "multi": im.multi.Hex, "list": im.list.Hex}
	ours := dockerParseInspect(t, rd.imageOK("inspect", repo))
	if got := ours.tags(); !regSameMap(got, wantTags) {
		t.Errorf("notary image inspect: signed tags %v, want %v", got, wantTags)
	}
	for _, st := range ours.SignedTags {
		if strings.Join(st.Signers, ",") != "Repo Admin" {
			t.Errorf("notary image inspect: %s signed by %v, want Repo Admin (the targets role)", st.SignedTag, st.Signers)
		}
	}
	if len(ours.AdministrativeKeys) != 2 || len(ours.Signers) != 0 {
		t.Errorf("notary image inspect: administrative keys %+v, signers %+v; want Root and Repository, no signers", ours.AdministrativeKeys, ours.Signers)
	}
	one := dockerParseInspect(t, rd.imageOK("inspect", repo+":v1"))
	if got := one.tags(); !regSameMap(got, map[string]string{"v1": im.v1.Hex}) {
		t.Errorf("notary image inspect %s:v1: tags %v", repo, got)
	}
	pretty := rd.imageOK("inspect", "--pretty", repo)
	dockerContains(t, pretty, "Signatures for "+repo, "v1", im.v1.Hex, "multi", im.multi.Hex,
		"Administrative keys for "+repo, "Repository Key:", "Root Key:")

	if s.docker {
		t.Run("docker reads what we signed", func(t *testing.T) {
			d := s.dockerEnv(t)
			din := dockerParseInspect(t, d.ok("trust", "inspect", repo))
			if got := din.tags(); !regSameMap(got, wantTags) {
				t.Errorf("docker trust inspect: signed tags %v, want %v", got, wantTags)
			}
			if a, b := regAdminKeys(din), regAdminKeys(ours); a != b {
				t.Errorf("administrative keys: docker %s, ours %s", a, b)
			}
			dockerContains(t, d.ok("trust", "inspect", "--pretty", repo), "v1", im.v1.Hex, "(Repo Admin)")
			for tag, img := range map[string]regImage{"v1": im.v1, "v2": im.oci, "multi": im.multi} {
				r := d.run([]string{"DOCKER_CONTENT_TRUST=1"}, "pull", repo+":"+tag)
				dockerContains(t, r, fmt.Sprintf("Pull (1 of 1): %s:%s@%s", repo, tag, img.Digest))
			}
		})
	}
	t.Run("notary v0.7.0 lists what we signed", func(t *testing.T) {
		r := s.trust.upstreamList(t, repo, s.notaryAuth)
		dockerContains(t, r, "v1", im.v1.Hex, fmt.Sprint(im.v1.Size), "v2", im.oci.Hex, fmt.Sprint(im.oci.Size),
			"multi", im.multi.Hex, "list", im.list.Hex, "targets")
	})

	// The tag re-pushed with other content: verify fails and says so,
	// until it is signed again.
	v1b := cr.push(t, repo+":v1", "v1 rebuilt on "+s.reg.Kind, regImageOpts{})
	rd.imageFail(s.flags("verify", repo+":v1"), "match", v1b.Hex+"|"+im.v1.Hex)
	n.imageOK(s.flags("sign", repo+":v1")...)
	rd.verify(v1b.Pinned(), s.flags("verify", repo+":v1")...)

	// --no-publish stages only; `notary publish` publishes.
	v3 := cr.push(t, repo+":v3", "v3", regImageOpts{OCI: true})
	n.imageOK(s.flags("sign", "--no-publish", repo+":v3")...)
	rd.imageFail(s.flags("verify", repo+":v3"), "not signed|no signature")
	n.ok("publish", repo)
	rd.verify(v3.Pinned(), s.flags("verify", repo+":v3")...)

	// Revoke one tag.
	n.imageOK("revoke", repo+":v2")
	rd.imageFail(s.flags("verify", repo+":v2"), "not signed|no signature")
	if got := dockerParseInspect(t, rd.imageOK("inspect", repo)).tags(); got["v2"] != "" || got["v1"] != v1b.Hex {
		t.Errorf("after revoking v2: tags %v", got)
	}
	if s.docker {
		t.Run("docker after revoking v2", func(t *testing.T) {
			d := s.dockerEnv(t)
			if got := dockerParseInspect(t, d.ok("trust", "inspect", repo)).tags(); got["v2"] != "" || got["v1"] != v1b.Hex {
				t.Errorf("docker trust inspect after revoking v2: %v", got)
			}
			r := d.run([]string{"DOCKER_CONTENT_TRUST=1"}, "pull", repo+":v2")
			dockerContains(t, r, "No valid trust data for v2")
		})
	}

	// An unreachable registry: verify says so.
	s.reg.Stop()
	rd.imageFail(s.flags("verify", repo+":v1"), s.reg.Host, "reach|connect|refused|unreachable")

	// Revoke every tag (needs no registry).
	r := n.image("y\n", "revoke", repo)
	if r.err != nil {
		t.Fatalf("notary image revoke %s: %v\n%s", repo, r.err, r)
	}
	if got := dockerParseInspect(t, rd.imageOK("inspect", repo)).SignedTags; len(got) != 0 {
		t.Errorf("after revoking everything: signed tags %+v", got)
	}
	t.Run("notary v0.7.0 after revoking everything", func(t *testing.T) {
		dockerContains(t, s.trust.upstreamList(t, repo, s.notaryAuth), "No targets present in this repository.")
	})
}

func regSameMap(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// regAdminKeys is "Name=id,id;..." of an inspect's administrative keys.
func regAdminKeys(in dockerInspect) string {
	var parts []string
	for _, a := range in.AdministrativeKeys {
		var ids []string
		for _, k := range a.Keys {
			ids = append(ids, k.ID)
		}
		sort.Strings(ids)
		parts = append(parts, a.Name+"="+strings.Join(ids, ","))
	}
	sort.Strings(parts)
	return strings.Join(parts, ";")
}

// TestRegistryImageDistribution: the distribution registry with no auth
// (plain HTTP on loopback), our trust server, the Docker CLI.
func TestRegistryImageDistribution(t *testing.T) {
	p := authNewPKI(t)
	trust := regStartTrust(t, p, "")
	reg := regStartDistribution(t, regDistOpts{})
	_, err := exec.LookPath("docker")
	regImageScenario(t, regScenario{reg: reg, trust: trust, dockerConfig: regDockerConfig(t, nil), docker: err == nil || regCI()})
}

// TestRegistryImageOlareg: olareg (referrers API) with no auth.
func TestRegistryImageOlareg(t *testing.T) {
	p := authNewPKI(t)
	trust := regStartTrust(t, p, "")
	reg := regStartOlareg(t)
	regImageScenario(t, regScenario{reg: reg, trust: trust, dockerConfig: regDockerConfig(t, nil)})
}

// TestRegistryImageDistributionHtpasswdTLS: the distribution registry
// over TLS (our test CA, --registry-ca) with Basic auth from an htpasswd
// file, credentials in DOCKER_CONFIG; without them, or without the CA,
// nothing is signed.
func TestRegistryImageDistributionHtpasswdTLS(t *testing.T) {
	p := authNewPKI(t)
	trust := regStartTrust(t, p, "")
	users := authUsers(t, ourBin(t, "./cmd/notary-auth"), t.TempDir(), map[string]string{"alice": "alice-pw"})
	reg := regStartDistribution(t, regDistOpts{TLS: p, Htpasswd: users})
	creds := map[string]string{reg.Host: "alice:alice-pw"}
	cfg := regDockerConfig(t, creds)

	// Pushed with credentials, for the refusals below.
	denied := regNewCrane(t, cfg, p.CA).push(t, reg.Host+"/org/denied:v1", "denied", regImageOpts{})
	gun := reg.Host + "/org/denied"
	t.Run("refusals", func(t *testing.T) {
		anon := regOurs(t, trust.URL, p.CA, "")
		anon.imageFail([]string{"sign", "--registry-ca", p.CA, denied.Ref}, "401|authentication|credentials|unauthorized")
		wrong := regOurs(t, trust.URL, p.CA, regDockerConfig(t, map[string]string{reg.Host: "alice:wrong"}))
		wrong.imageFail([]string{"sign", "--registry-ca", p.CA, denied.Ref}, "401|authentication|credentials|unauthorized|denied")
		noCA := regOurs(t, trust.URL, p.CA, cfg)
		noCA.imageFail([]string{"sign", denied.Ref}, "certificate|x509|tls")
		trust.assertNoTrustData(t, gun)
	})
	regImageScenario(t, regScenario{reg: reg, trust: trust, dockerConfig: cfg, creds: creds, caFile: p.CA})
}

// regTokenACL: alice pushes and pulls org/* in the registry and the
// matching collections (GUN host:port/org/*) in the trust server; the
// admin may do everything.
var regTokenACL = []map[string]any{
	{"account": "admin", "name": "*", "actions": []string{"*"}},
	{"account": "alice", "name": "org/*", "actions": []string{"push", "pull"}},
	{"account": "alice", "name": "127.0.0.1:*/org/*", "actions": []string{"push", "pull"}},
}

// TestRegistryImageDistributionToken: one token issuer (our notary-auth)
// for the distribution registry and our trust server, each its own
// service; the same Docker credentials get tokens for both.
func TestRegistryImageDistributionToken(t *testing.T) {
	p := authNewPKI(t)
	realm := regStartIssuer(t, p, map[string]string{"alice": "alice-pw", "admin": "admin-pw"}, regTokenACL)
	trust := regStartTrust(t, p, realm)
	reg := regStartDistribution(t, regDistOpts{Token: &regTokenAuth{Realm: realm, Service: regRegistryServer, Issuer: regIssuer, RootCertBundle: p.CA}})
	creds := map[string]string{reg.Host: "alice:alice-pw"}
	cfg := regDockerConfig(t, creds)

	denied := regNewCrane(t, cfg, p.CA).push(t, reg.Host+"/org/denied:v1", "denied", regImageOpts{})
	t.Run("refusals", func(t *testing.T) {
		// The trust server would let alice in; the registry gives an
		// anonymous client no token with access.
		anon := regOurs(t, trust.URL, p.CA, "")
		anon.auth = "alice:alice-pw"
		anon.imageFail([]string{"sign", "--registry-ca", p.CA, denied.Ref}, "401|authentication|credentials|unauthorized|denied")
		trust.assertNoTrustData(t, reg.Host+"/org/denied")
	})
	_, err := exec.LookPath("docker")
	regImageScenario(t, regScenario{reg: reg, trust: trust, dockerConfig: cfg, creds: creds,
		notaryAuth: "alice:alice-pw", caFile: p.CA, docker: err == nil || regCI()})
}

// TestRegistryImageTrustServers: one run signs and verifies images of two
// registries, each with its own trust server, chosen by the config file's
// trust_servers map (which wins over -s); each collection lands on its
// registry's trust server only.
func TestRegistryImageTrustServers(t *testing.T) {
	p := authNewPKI(t)
	trustA, trustB := regStartTrust(t, p, ""), regStartTrust(t, p, "")
	regA, regB := regStartDistribution(t, regDistOpts{}), regStartOlareg(t)
	cfg := regDockerConfig(t, nil)
	cr := regNewCrane(t, cfg, "")
	a := cr.push(t, regA.Host+"/org/a:v1", "on registry A", regImageOpts{})
	b := cr.push(t, regB.Host+"/org/b:v1", "on registry B", regImageOpts{OCI: true})

	dir := t.TempDir()
	conf := filepath.Join(dir, "config.json")
	body := fmt.Sprintf(`{"trust_servers": {%q: %q, %q: %q}}`, regA.Host, trustA.URL, regB.Host, trustB.URL)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, server := range []string{"", trustA.URL} {
		n := regOurs(t, server, p.CA, cfg)
		n.global = []string{"-c", conf}
		n.imageOK("sign", a.Ref, b.Ref)
		rd := regOurs(t, server, p.CA, cfg)
		rd.global = []string{"-c", conf}
		rd.verify(a.Pinned(), "verify", a.Ref)
		rd.verify(b.Pinned(), "verify", b.Ref)
		trustA.assertNoTrustData(t, regB.Host+"/org/b")
		trustB.assertNoTrustData(t, regA.Host+"/org/a")
		if t.Failed() {
			t.FailNow()
		}
	}
}
