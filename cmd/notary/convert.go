package main

import (
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/notary-go/notary/convert"
	"github.com/notary-go/notary/image"
	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/keystore"
	"github.com/notary-go/notary/registry"
)

// convertRole is the role of the trust directory's conversion key: the
// key that signs converted signatures unless --key names another. Its
// passphrase comes from NOTARY_DELEGATION_PASSPHRASE or a prompt.
const convertRole = "convert"

// certValidity is how long a self-issued Notation certificate is valid.
const certValidity = 10 * 365 * 24 * time.Hour

type convertFlags struct {
	to      string
	out     string
	keyID   string
	caCert  string
	caKey   string
	dryRun  bool
	formats []string
}

// addImageBridgeCommands adds "image convert" and "image sign --also".
func (a *app) addImageBridgeCommands(img *cobra.Command) {
	f := &convertFlags{}
	c := &cobra.Command{
		Use:   "convert --to cosign|notation|cosign,notation REF...",
		Short: "Write cosign and Notation signatures for images signed with Notary",
		Long: `For each signed tag (REF = host/repo:tag, or host/repo for every signed tag of the
repository): verify it through the trust data, check that the registry still serves the
signed digest, and write OCI-native signatures for that digest, signed with one key:

  cosign    the simple-signing payload (docker-reference, docker-manifest-digest, and
            the tag, GUN and role it came from) under the tag sha256-<hex>.sig, as
            cosign stores it; DIR/cosign.pub is the public key:
              cosign verify --key DIR/cosign.pub --insecure-ignore-tlog=true REF
  notation  a JWS envelope with an X.509 certificate for the key (self-issued, or
            issued by --ca-cert/--ca-key), pushed as a referrer of the digest (the
            referrers tag where the registry has no referrers API); DIR/notation/ holds
            trustpolicy.json and the trust store:
              XDG_CONFIG_HOME=DIR notation verify REF

The key is --key (the ID of an ECDSA or RSA key in the trust directory, e.g. a
delegation or targets key) or the trust directory's conversion key (role "convert",
ECDSA P-256, made on first use). Ed25519 keys sign for cosign only.
Reruns write nothing that is already there. Tags that are not signed, or that the
registry now serves with other content, are skipped and reported.`,
		Example: `  notary image convert --to cosign,notation -o trust-out registry.example.com/team/app
  notary image convert --to cosign --dry-run registry.example.com/team/app:1.0`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.imageConvert(cmd.Context(), imageFlagsOf(cmd), f, args)
		},
	}
	c.Flags().StringVar(&f.to, "to", "", "Formats to write: cosign, notation, or cosign,notation (required)")
	c.Flags().StringVarP(&f.out, "output", "o", ".", "Directory for cosign.pub and notation/ (the verifiers' configuration)")
	c.Flags().StringVar(&f.keyID, "key", "", "ID of the private key in the trust directory to sign with (default: the conversion key)")
	c.Flags().StringVar(&f.caCert, "ca-cert", "", "PEM certificate of a CA to issue the Notation certificate (with --ca-key)")
	c.Flags().StringVar(&f.caKey, "ca-key", "", "PEM private key (unencrypted PKCS #8 or EC) of --ca-cert")
	c.Flags().BoolVar(&f.dryRun, "dry-run", false, "Verify and report, but write nothing to the registry")
	img.AddCommand(c)

	if sign, _, err := img.Find([]string{"sign"}); err == nil && sign != img {
		var also, alsoOut string
		sign.Flags().StringVar(&also, "also", "", "After signing, also write these signatures: cosign, notation or cosign,notation (as image convert)")
		sign.Flags().StringVar(&alsoOut, "also-output", ".", "Directory for cosign.pub and notation/ with --also")
		run := sign.RunE
		sign.RunE = func(cmd *cobra.Command, args []string) error {
			if also != "" {
				if np, _ := cmd.Flags().GetBool("no-publish"); np {
					return usageError("--also needs the signatures published (not --no-publish): converted signatures are made from verified trust data")
				}
			}
			if err := run(cmd, args); err != nil || also == "" {
				return err
			}
			tag, _ := cmd.Flags().GetString("tag")
			refs := make([]string, len(args))
			for i, s := range args {
				refs[i] = s
				if r, err := registry.ParseReference(s); err == nil && tag != "" {
					refs[i] = r.Name() + ":" + tag
				}
			}
			return a.imageConvert(cmd.Context(), imageFlagsOf(cmd), &convertFlags{to: also, out: alsoOut}, refs)
		}
	}
}

// imageFlagsOf reads the image command's persistent registry flags.
func imageFlagsOf(cmd *cobra.Command) *imageFlags {
	f := &imageFlags{}
	f.registryCA, _ = cmd.Flags().GetString("registry-ca")
	f.insecure, _ = cmd.Flags().GetStringArray("insecure-registry")
	return f
}

// convertReport counts outcomes.
type convertReport struct {
	converted, present, dry, skipped, failed int
}

func (a *app) imageConvert(ctx context.Context, imf *imageFlags, f *convertFlags, refs []string) error {
	for _, t := range strings.Split(f.to, ",") {
		switch t = strings.TrimSpace(t); t {
		case "cosign", "notation":
			f.formats = append(f.formats, t)
		default:
			return usageError("--to %q: want cosign, notation or cosign,notation", f.to)
		}
	}
	env, err := a.imageEnv(imf, readOnly)
	if err != nil {
		return err
	}
	ks, s, err := a.fileStore()
	if err != nil {
		return err
	}
	var key *keys.PrivateKey
	if f.dryRun && f.keyID == "" && !a.hasRoleKey(ctx, ks, convertRole) {
		// A dry run writes nothing, not even a key: a throwaway key
		// finds no signature of its own, so everything "would convert".
		key, err = keys.Generate(keys.ECDSA)
	} else {
		key, err = a.roleKey(ctx, ks, f.keyID, convertRole, "conversion")
	}
	if err != nil {
		return err
	}
	signer := key.CryptoSigner()
	var (
		cos *convert.Cosign
		not *convert.Notation
	)
	for _, format := range f.formats {
		switch format {
		case "cosign":
			cos = &convert.Cosign{Registry: env.opts.Registry, Key: signer, DryRun: f.dryRun}
		case "notation":
			chain, err := a.notationChain(s.TrustDir, key.ID(), signer, f)
			if err != nil {
				return err
			}
			not = &convert.Notation{Registry: env.opts.Registry, Key: signer, Chain: chain, Now: a.now, DryRun: f.dryRun}
		}
	}

	tags, err := a.expandSignedTags(ctx, env, refs)
	if err != nil {
		return err
	}
	var (
		rep    convertReport
		scopes = map[string]bool{}
	)
	// One trust data update per repository, then every tag checked
	// against it and against the registry.
	verified, verrs := image.VerifyImages(ctx, tags, image.VerifyOptions{Options: env.opts})
	for i, ref := range tags {
		v, err := verified[i], verrs[i]
		var (
			ns *image.NotSignedError
			me *image.MismatchError
		)
		switch {
		case errors.As(err, &ns):
			rep.skipped++
			fmt.Fprintf(a.stdout, "skipped %s: not signed in targets/releases or targets\n", ref)
			continue
		case errors.As(err, &me):
			rep.skipped++
			fmt.Fprintf(a.stdout, "skipped %s: the registry serves %s, not the signed %s (re-pushed?): not converted\n", ref, me.Served, me.Signed)
			continue
		case err != nil:
			rep.failed++
			fmt.Fprintf(a.stdout, "FAILED %s: %v\n", ref, err)
			continue
		}
		subject, err := env.opts.Registry.Resolve(ctx, registry.Reference{Host: v.Ref.Host, Repository: v.Ref.Repository, Digest: v.SignedDigest})
		if err != nil {
			rep.failed++
			fmt.Fprintf(a.stdout, "FAILED %s: %v\n", ref, err)
			continue
		}
		t := convert.Target{
			Ref:     registry.Reference{Host: v.Ref.Host, Repository: v.Ref.Repository, Tag: v.Tag},
			GUN:     image.GUN(v.Ref),
			Role:    v.Role,
			Subject: subject,
		}
		scopes[t.Ref.Name()] = true
		for _, format := range f.formats {
			var st convert.Status
			if format == "cosign" {
				st, err = cos.Convert(ctx, t)
			} else {
				st, err = not.Convert(ctx, t)
			}
			if err != nil {
				rep.failed++
				fmt.Fprintf(a.stdout, "FAILED %s %s: %v\n", format, ref, err)
				continue
			}
			switch st {
			case convert.Converted:
				rep.converted++
			case convert.Present:
				rep.present++
			case convert.DryRun:
				rep.dry++
			}
			fmt.Fprintf(a.stdout, "%s %s %s (%s, signed by %s)\n", format, st, ref, subject.Digest, v.Role)
		}
	}
	if err := a.writeVerifierConfig(f, signer, not, scopes); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "%d converted, %d already present, %d skipped, %d failed", rep.converted, rep.present, rep.skipped, rep.failed)
	if f.dryRun {
		fmt.Fprintf(a.stdout, ", %d to convert (dry run: nothing written)", rep.dry)
	}
	fmt.Fprintln(a.stdout)
	if rep.failed > 0 {
		return fmt.Errorf("%d conversions failed", rep.failed)
	}
	return nil
}

// expandSignedTags turns each REF into signed tags: host/repo:tag as
// given, host/repo as every released tag of its trust data.
func (a *app) expandSignedTags(ctx context.Context, env *imageEnv, refs []string) ([]string, error) {
	var out []string
	for _, ref := range refs {
		r, err := registry.ParseReference(ref)
		if err != nil {
			return nil, err
		}
		if r.Digest != "" {
			return nil, usageError("%s: convert takes tags (host/repo:tag) or a repository (host/repo), not digests", ref)
		}
		if r.Tag != "" {
			out = append(out, r.String())
			continue
		}
		info, err := image.InspectImage(ctx, r.Name(), image.InspectOptions{Options: env.opts})
		if err != nil {
			return nil, imageHint(err)
		}
		for _, t := range info.SignedTags {
			out = append(out, r.Name()+":"+t.SignedTag)
		}
		if len(info.SignedTags) == 0 {
			fmt.Fprintf(a.stdout, "skipped %s: no signed tags\n", r.Name())
		}
	}
	return out, nil
}

// notationChain returns the certificate chain (leaf first) for the
// signing key: issued by --ca-cert/--ca-key, or self-issued. It is kept in
// the trust directory (convert/notation-<key ID>[-<CA>].pem), so reruns
// sign with the same certificate and find their own signatures.
func (a *app) notationChain(trustDir, keyID string, signer crypto.Signer, f *convertFlags) ([]*x509.Certificate, error) {
	if err := convert.CheckKey("notation", signer); err != nil {
		return nil, err
	}
	if (f.caCert == "") != (f.caKey == "") {
		return nil, usageError("--ca-cert and --ca-key go together")
	}
	var (
		ca    *x509.Certificate
		caKey crypto.Signer
		name  = "notation-" + keyID + ".pem"
	)
	if f.caCert != "" {
		var err error
		if ca, caKey, err = readCA(absFromCwd(f.caCert), absFromCwd(f.caKey)); err != nil {
			return nil, err
		}
		sum := sha256.Sum256(ca.Raw)
		name = "notation-" + keyID + "-" + hex.EncodeToString(sum[:8]) + ".pem"
	}
	path := filepath.Join(trustDir, "convert", name)
	if data, err := os.ReadFile(path); err == nil {
		chain, err := parseChain(data)
		if err == nil && len(chain) > 0 && a.now().Before(chain[0].NotAfter) && publicEqual(chain[0].PublicKey, signer.Public()) {
			return chain, nil
		}
	}
	var chain []*x509.Certificate
	if ca == nil {
		cert, err := convert.SelfIssuedCertificate(signer, "notary image convert "+keyID[:12], a.now(), certValidity)
		if err != nil {
			return nil, err
		}
		chain = []*x509.Certificate{cert}
	} else {
		cert, err := convert.IssueCertificate(signer.Public(), ca, caKey, "notary image convert "+keyID[:12], a.now(), certValidity)
		if err != nil {
			return nil, err
		}
		chain = []*x509.Certificate{cert, ca}
	}
	if f.dryRun {
		return chain, nil // a dry run writes nothing
	}
	var out []byte
	for _, c := range chain {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, out, 0o600); err != nil {
		return nil, err
	}
	return chain, nil
}

func publicEqual(a, b crypto.PublicKey) bool {
	e, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && e.Equal(b)
}

func parseChain(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no certificate")
	}
	return out, nil
}

func readCA(certFile, keyFile string) (*x509.Certificate, crypto.Signer, error) {
	cdata, err := os.ReadFile(certFile)
	if err != nil {
		return nil, nil, err
	}
	chain, err := parseChain(cdata)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", certFile, err)
	}
	kdata, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, nil, err
	}
	b, _ := pem.Decode(kdata)
	if b == nil {
		return nil, nil, fmt.Errorf("%s: no PEM key", keyFile)
	}
	var k any
	if k, err = x509.ParsePKCS8PrivateKey(b.Bytes); err != nil {
		if k, err = x509.ParseECPrivateKey(b.Bytes); err != nil {
			if k, err = x509.ParsePKCS1PrivateKey(b.Bytes); err != nil {
				return nil, nil, fmt.Errorf("%s: not an unencrypted PKCS #8, EC or PKCS #1 key", keyFile)
			}
		}
	}
	signer, ok := k.(crypto.Signer)
	if !ok || !publicEqual(chain[0].PublicKey, signer.Public()) {
		return nil, nil, fmt.Errorf("%s is not the key of %s", keyFile, certFile)
	}
	return chain[0], signer, nil
}

// writeVerifierConfig writes DIR/cosign.pub and DIR/notation/ (unless a
// dry run).
func (a *app) writeVerifierConfig(f *convertFlags, signer crypto.Signer, not *convert.Notation, scopes map[string]bool) error {
	if f.dryRun {
		return nil
	}
	if err := os.MkdirAll(f.out, 0o755); err != nil {
		return err
	}
	for _, format := range f.formats {
		switch format {
		case "cosign":
			pub, err := convert.PublicKeyPEM(signer)
			if err != nil {
				return err
			}
			p := filepath.Join(f.out, "cosign.pub")
			if err := os.WriteFile(p, pub, 0o644); err != nil {
				return err
			}
			fmt.Fprintf(a.stderr, "wrote %s: cosign verify --key %s --insecure-ignore-tlog=true REF\n", p, p)
		case "notation":
			list := make([]string, 0, len(scopes))
			for sc := range scopes {
				list = append(list, sc)
			}
			sort.Strings(list)
			if len(list) == 0 {
				continue
			}
			if err := convert.WriteNotationConfig(f.out, not.Chain, list); err != nil {
				return err
			}
			fmt.Fprintf(a.stderr, "wrote %s: XDG_CONFIG_HOME=%s notation verify REF\n", filepath.Join(f.out, "notation"), f.out)
		}
	}
	return nil
}

// hasRoleKey reports whether the trust directory holds a key of role.
func (a *app) hasRoleKey(ctx context.Context, ks *keystore.FileStore, role string) bool {
	infos, err := ks.List(ctx)
	if err != nil {
		return false
	}
	for _, in := range infos {
		if in.Role == role {
			return true
		}
	}
	return false
}
