package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/notary-go/notary/client"
	"github.com/notary-go/notary/image"
	"github.com/notary-go/notary/registry"
)

// imageFlags are the flags of `notary image ...`.
type imageFlags struct {
	registryCA string
	insecure   []string
	tag        string
	publish    bool
	noPublish  bool
	platform   string
	role       string
	pretty     bool
	yes        bool
}

const imageLong = `Sign and verify container images in any registry that speaks the Docker Registry
HTTP API V2 / OCI distribution spec, with no Docker engine.

An image REF is host[:port]/repository:tag, or host[:port]/repository@sha256:<digest>.
Its trust data is the collection named host[:port]/repository (the GUN Docker uses),
in the same trust directory as the other commands (-d; ~/.docker/trust is Docker's).

Registry access: credentials from the Docker config file ($DOCKER_CONFIG/config.json
or ~/.docker/config.json: auths, credsStore, credHelpers), the registry's token flow or
Basic; TLS with the system roots plus --registry-ca; plain HTTP only for loopback
registries (localhost, 127.0.0.0/8, ::1) and hosts named by --insecure-registry, and
only when they do not speak TLS.

Trust server, per registry: $DOCKER_CONTENT_TRUST_SERVER, else the registry's entry in
the config file's "trust_servers" map ({"registry.example.com": "https://notary.example.com"}),
else -s / remote_server.url when given, else https://<registry host> (Docker's rule).
The trust server is sent NOTARY_AUTH if set, else the Docker credentials of the trust
server's host, else those of the registry (as the Docker CLI does).`

func (a *app) imageCommand() *cobra.Command {
	f := &imageFlags{}
	cmd := &cobra.Command{
		Use:   "image",
		Short: "Sign, verify, inspect and revoke container images in any registry",
		Long:  imageLong,
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			c.SetOut(a.stdout)
			return c.Usage()
		},
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&f.registryCA, "registry-ca", "", "PEM file of CA certificates to trust for registries, besides the system roots")
	pf.StringArrayVar(&f.insecure, "insecure-registry", nil, "Registry host (host or host:port) that may be reached over plain HTTP (repeatable; loopback registries always may)")

	sign := &cobra.Command{
		Use:   "sign REF [REF...]",
		Short: "Sign the manifests a registry serves for image tags",
		Long: `Sign the manifest the registry serves for each REF, as docker push with content trust did.

The tag's target records the exact manifest bytes served (Docker image manifests and
manifest lists, OCI image manifests and indexes): name = tag, length = size,
hashes = {"sha256": digest}. It is signed into targets/releases and every signer
delegation whose key is in the trust directory, or into targets when the collection
has no delegations. For an index, its children and platforms are recorded too.
A collection that does not exist yet is created (the server manages its snapshot key).

With REF = host/repo@sha256:<digest> and --tag, exactly that manifest is signed as the
tag, whether or not the tag was pushed yet. All manifests are read before anything is
staged: one bad REF signs nothing. Each repository is published once, with all its tags.`,
		Example: `  notary image sign registry.example.com/team/app:1.0
  notary image sign registry.example.com/team/app@sha256:3f5e... --tag 1.0
  notary image sign localhost:5000/app:a localhost:5000/app:b --no-publish`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error { return a.imageSign(c.Context(), f, args) },
	}
	sign.Flags().StringVar(&f.tag, "tag", "", "Tag to sign a REF given by digest as")
	sign.Flags().BoolVarP(&f.publish, "publish", "p", true, "Publish the signatures (the default)")
	sign.Flags().BoolVar(&f.noPublish, "no-publish", false, "Only stage the signatures; `notary publish <host/repo>` publishes them")

	verify := &cobra.Command{
		Use:   "verify REF",
		Short: "Check that what a registry serves is what was signed",
		Long: `Verify an image against its trust data and print the pinned reference
host/repo@sha256:<digest> on stdout.

For a tag: the trusted target is looked up in targets/releases, then targets (as the
Docker CLI does; --role requires that role), the registry is asked what it serves for
the tag now, and the digests must match. For a digest: some signed tag must name it,
or name an index that contains it. With --platform, the signed image must be an index
with a manifest for that platform, whose digest is printed.

Exits non-zero, saying which, when the tag is not signed, the registry serves
something else, or the registry (or trust server) cannot be reached.`,
		Example: `  notary image verify registry.example.com/team/app:1.0
  notary image verify registry.example.com/team/app:1.0 --platform linux/arm64/v8
  docker pull "$(notary image verify registry.example.com/team/app:1.0)"`,
		Args: exactArgs(1, "REF"),
		RunE: func(c *cobra.Command, args []string) error { return a.imageVerify(c.Context(), f, args[0]) },
	}
	verify.Flags().StringVar(&f.platform, "platform", "", "Require a signed index with a manifest for os/arch[/variant], and print its digest")
	verify.Flags().StringVar(&f.role, "role", "", "Require the signature to be in this role (e.g. targets/releases)")

	inspect := &cobra.Command{
		Use:   "inspect REF...",
		Short: "Show signed tags, signers and keys, as docker trust inspect",
		Long: `Show what docker trust inspect shows for each REF (host/repo or host/repo:tag):
the signed tags and their digests and signers, the signer delegations and their keys,
and the root and repository keys. The output is docker trust inspect's JSON by
default, --pretty for people. The registry is not contacted.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error { return a.imageInspect(c.Context(), f, args) },
	}
	inspect.Flags().BoolVar(&f.pretty, "pretty", false, "Print the information in a human friendly format")

	revoke := &cobra.Command{
		Use:   "revoke REF",
		Short: "Remove the signature of a tag, or of every tag of a repository",
		Long: `Remove trust for host/repo:tag (one tag) or host/repo (every signed tag), as
docker trust revoke: the signatures are removed from every role you hold a key for,
and published. Revoking a whole repository asks for confirmation on a terminal
unless --yes is given.`,
		Args: exactArgs(1, "REF"),
		RunE: func(c *cobra.Command, args []string) error { return a.imageRevoke(c.Context(), f, args[0]) },
	}
	revoke.Flags().BoolVarP(&f.yes, "yes", "y", false, "Do not prompt for confirmation")
	revoke.Flags().BoolVar(&f.noPublish, "no-publish", false, "Only stage the removals")

	cmd.AddCommand(sign, verify, inspect, revoke)
	return cmd
}

func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) != n {
			return usageError("Must specify exactly one %s", what)
		}
		return nil
	}
}

// imageEnv is what the image commands share: the registry client and the
// trust data of each repository.
type imageEnv struct {
	opts image.Options
}

func (a *app) imageEnv(f *imageFlags, acc access) (*imageEnv, error) {
	s, err := a.config()
	if err != nil {
		return nil, err
	}
	servers, err := a.trustServers(s)
	if err != nil {
		return nil, err
	}
	home := a.getenv("HOME")
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	creds, err := registry.DockerCredentials(registry.DockerConfigPath(a.getenv, home))
	if err != nil {
		return nil, err
	}
	ca := f.registryCA
	if ca != "" {
		ca = absFromCwd(ca)
	}
	ro := registry.Options{Credentials: creds, CAFile: ca, Insecure: f.insecure, UserAgent: "notary/" + version}
	if a.flags.debug {
		ro.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { return &logTransport{next: rt, out: a.stderr} }
	}
	rc, err := registry.New(ro)
	if err != nil {
		return nil, err
	}
	return &imageEnv{opts: image.Options{
		Registry: rc,
		Repository: func(gun string) (*client.Repository, error) {
			host, _, _ := strings.Cut(gun, "/")
			return a.imageRepo(s, gun, servers.For(host), host, acc, creds)
		},
	}}, nil
}

// imageRepo is repoFor with the trust server of the image's registry.
func (a *app) imageRepo(s *settings, gun, serverURL, registryHost string, acc access, creds registry.CredentialFunc) (*client.Repository, error) {
	if err := client.ValidateGUN(gun); err != nil {
		return nil, err
	}
	a.gun = gun
	ss := *s
	ss.ServerURL = serverURL
	a.infof("trust server for %s: %s", gun, serverURL)
	// The trust server gets NOTARY_AUTH, else the Docker credentials of
	// its own host, else the registry's (the Docker CLI authenticates to
	// the trust server with the registry's credentials); a prompt last.
	hc, _, err := a.httpClientsWith(&ss, gun, acc, a.imageTrustCreds(acc, serverURL, registryHost, creds))
	if err != nil {
		return nil, err
	}
	return client.NewRepository(gun, client.Options{
		TrustDir:     s.TrustDir,
		ServerURL:    serverURL,
		HTTPClient:   hc,
		Retriever:    a.getRetriever(),
		TrustPinning: s.Pinning,
		Now:          a.now,
		OnWarning:    a.warn,
		Progress:     a.progressFunc(),
	})
}

func (a *app) imageTrustCreds(acc access, serverURL, registryHost string, creds registry.CredentialFunc) func() (string, string) {
	fallback := a.credentials(acc)
	return func() (string, string) {
		if a.getenv("NOTARY_AUTH") == "" && creds != nil {
			hosts := []string{registryHost}
			if h := hostOf(serverURL); h != "" && h != registryHost {
				hosts = append([]string{h}, hosts...)
			}
			for _, h := range hosts {
				c, err := creds(context.Background(), h)
				if err == nil && c.Username != "" && c.Password != "" {
					return c.Username, c.Password
				}
			}
		}
		return fallback()
	}
}

func hostOf(u string) string {
	_, rest, ok := strings.Cut(u, "://")
	if !ok {
		return ""
	}
	h, _, _ := strings.Cut(rest, "/")
	return h
}

func (a *app) imageSign(ctx context.Context, f *imageFlags, refs []string) error {
	env, err := a.imageEnv(f, readWrite)
	if err != nil {
		return err
	}
	noPublish := f.noPublish || !f.publish
	signed, err := image.SignImages(ctx, refs, image.SignOptions{Options: env.opts, Tag: f.tag, NoPublish: noPublish})
	a.endProgress()
	if err != nil {
		return imageHint(err)
	}
	initialized := map[string]bool{}
	for _, s := range signed {
		if s.Initialized && !initialized[s.GUN] {
			initialized[s.GUN] = true
			fmt.Fprintf(a.stderr, "Initialized trust data for %s\n", s.GUN)
		}
		if noPublish {
			fmt.Fprintf(a.stdout, "Staged %s as %s (%s); publish with `notary publish %s`\n", s.Ref, s.Ref.Pinned(s.Digest), strings.Join(s.Roles, ", "), s.GUN)
			continue
		}
		fmt.Fprintf(a.stdout, "Signed %s as %s (%s)\n", s.Ref, s.Ref.Pinned(s.Digest), strings.Join(s.Roles, ", "))
	}
	return nil
}

func (a *app) imageVerify(ctx context.Context, f *imageFlags, ref string) error {
	env, err := a.imageEnv(f, readOnly)
	if err != nil {
		return err
	}
	v, err := image.VerifyImage(ctx, ref, image.VerifyOptions{Options: env.opts, Platform: f.platform, Role: f.role})
	if err != nil {
		return imageHint(err)
	}
	a.infof("%s is signed by %s as %s", ref, v.Role, v.SignedDigest)
	fmt.Fprintln(a.stdout, v.Pinned)
	return nil
}

func (a *app) imageInspect(ctx context.Context, f *imageFlags, refs []string) error {
	env, err := a.imageEnv(f, readOnly)
	if err != nil {
		return err
	}
	var (
		infos  []*image.TrustInfo
		failed []string
		last   error
	)
	for i, ref := range refs {
		info, err := image.InspectImage(ctx, ref, image.InspectOptions{Options: env.opts})
		if err != nil {
			if f.pretty {
				return imageHint(err)
			}
			// As docker trust inspect: print what could be read, then fail.
			failed = append(failed, err.Error())
			last = err
			continue
		}
		if f.pretty {
			if i > 0 {
				fmt.Fprint(a.stdout, "\n\n")
			}
			prettyTrustInfo(a.stdout, info)
			continue
		}
		infos = append(infos, info)
	}
	if f.pretty {
		return nil
	}
	if infos == nil {
		infos = []*image.TrustInfo{}
	}
	b, err := json.MarshalIndent(infos, "", "    ")
	if err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, string(b))
	if len(failed) == 1 {
		return imageHint(last)
	}
	if len(failed) > 1 {
		return fmt.Errorf("%s: %w", strings.Join(failed, "; "), last)
	}
	return nil
}

// prettyTrustInfo prints info as docker trust inspect --pretty does.
func prettyTrustInfo(w io.Writer, info *image.TrustInfo) {
	if len(info.SignedTags) > 0 {
		fmt.Fprintf(w, "\nSignatures for %s\n\n", info.Name)
		tw := tabwriter.NewWriter(w, 10, 1, 3, ' ', 0)
		fmt.Fprintln(tw, "SIGNED TAG\tDIGEST\tSIGNERS")
		for _, t := range info.SignedTags {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", t.SignedTag, t.Digest, strings.Join(t.Signers, ", "))
		}
		tw.Flush()
	} else {
		fmt.Fprintf(w, "\nNo signatures for %s\n\n", info.Name)
	}
	if len(info.Signers) > 0 {
		fmt.Fprintf(w, "\nList of signers and their keys for %s\n\n", info.Name)
		signers := append([]image.Signer(nil), info.Signers...)
		sort.Slice(signers, func(i, j int) bool { return signers[i].Name < signers[j].Name })
		tw := tabwriter.NewWriter(w, 10, 1, 3, ' ', 0)
		fmt.Fprintln(tw, "SIGNER\tKEYS")
		for _, s := range signers {
			var ids []string
			for _, k := range s.Keys {
				id := k.ID
				if len(id) > 12 {
					id = id[:12]
				}
				ids = append(ids, id)
			}
			fmt.Fprintf(tw, "%s\t%s\n", s.Name, strings.Join(ids, ", "))
		}
		tw.Flush()
	}
	fmt.Fprintf(w, "\nAdministrative keys for %s\n\n", info.Name)
	// Docker lists them by role name, descending: targets, then root.
	admin := append([]image.Signer(nil), info.AdministrativeKeys...)
	sort.Slice(admin, func(i, j int) bool { return admin[i].Name == "Repository" && admin[j].Name != "Repository" })
	for _, k := range admin {
		label := map[string]string{"Root": "Root Key", "Repository": "Repository Key"}[k.Name]
		var ids []string
		for _, key := range k.Keys {
			ids = append(ids, key.ID)
		}
		fmt.Fprintf(w, "  %s:\t%s\n", label, strings.Join(ids, ", "))
	}
}

func (a *app) imageRevoke(ctx context.Context, f *imageFlags, ref string) error {
	r, err := registry.ParseReference(ref)
	if err != nil {
		return err
	}
	if r.Tag == "" && r.Digest == "" && !f.yes && a.stdinIsTerminal() {
		fmt.Fprintf(a.stdout, "Please confirm you would like to delete all signature data for %s? [y/N] ", ref)
		if !a.askConfirm() {
			fmt.Fprintln(a.stdout, "\nAborting action.")
			return nil
		}
	}
	env, err := a.imageEnv(f, readWrite)
	if err != nil {
		return err
	}
	res, err := image.RevokeImage(ctx, ref, image.RevokeOptions{Options: env.opts, NoPublish: f.noPublish})
	a.endProgress()
	if err != nil {
		return imageHint(fmt.Errorf("could not remove signature for %s: %w", ref, err))
	}
	if !res.Published {
		fmt.Fprintf(a.stdout, "Staged the removal of the signature for %s (%s); publish with `notary publish %s`\n", ref, strings.Join(res.Tags, ", "), res.GUN)
		return nil
	}
	fmt.Fprintf(a.stdout, "Successfully deleted signature for %s\n", ref)
	return nil
}

// hintedError adds lines saying what to do to an error's message; it
// unwraps to the error.
type hintedError struct {
	err   error
	hints []string
}

func (e *hintedError) Error() string {
	var b bytes.Buffer
	b.WriteString(e.err.Error())
	for _, h := range e.hints {
		b.WriteString("\n  hint: " + h)
	}
	return b.String()
}

func (e *hintedError) Unwrap() error { return e.err }

// imageHint says what a person can do about an image command's failure
// when the printer of errors.go would not.
func imageHint(err error) error {
	var (
		ae  *registry.AuthError
		ns  *image.NotSignedError
		me  *image.MismatchError
		nsr *image.NoSigningRoleError
		ue  *registry.UnreachableError
		te  *registry.TLSError
	)
	var hints []string
	switch {
	case errors.As(err, &ae) && !ae.HadCredentials:
		hints = append(hints, fmt.Sprintf("log in with `docker login %s` (or add it to the Docker config file's auths or credHelpers)", ae.Host))
	case errors.As(err, &ae):
		hints = append(hints, fmt.Sprintf("the credentials stored for %s were refused: `docker login %s` again", ae.Host, ae.Host))
	case errors.As(err, &ns) && ns.NoTrustData:
		hints = append(hints, fmt.Sprintf("sign it with `notary image sign %s`, or check which trust server is used (-v shows it; DOCKER_CONTENT_TRUST_SERVER, trust_servers in the config file, -s)", ns.Ref))
	case errors.As(err, &ns):
		hints = append(hints, fmt.Sprintf("`notary image inspect %s` lists the signed tags", ns.GUN))
	case errors.As(err, &me):
		hints = append(hints, "the tag was pushed again after it was signed, or the registry is serving other content: sign the new image, or push the signed one back")
	case errors.As(err, &nsr):
		hints = append(hints, "import a signer's key with `notary key import`, or ask the repository's owner to add yours with `notary delegation add`")
	case errors.As(err, &ue):
		hints = append(hints, "check the registry host and port in REF, and that the registry is running")
	case errors.As(err, &te):
		h := "pass the registry's CA with --registry-ca"
		if !registry.IsLoopback(te.Host) {
			h += "; a registry without TLS needs --insecure-registry " + te.Host
		}
		hints = append(hints, h)
	}
	if len(hints) == 0 {
		return err
	}
	return &hintedError{err: err, hints: hints}
}
