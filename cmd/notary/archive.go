package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/notary-go/notary/api"
	"github.com/notary-go/notary/archive"
	"github.com/notary-go/notary/client"
	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/keystore"
)

// archiveRole is the role of the trust directory's archive key: the key
// that signs archive manifests unless --key names another. Its passphrase
// comes from NOTARY_DELEGATION_PASSPHRASE (any non-base role) or a prompt.
const archiveRole = "archive"

type archiveFlags struct {
	out      string
	all      bool
	keyID    string
	pageSize int
	at       string
	pubKey   string
}

func (a *app) archiveCommand() *cobra.Command {
	f := &archiveFlags{}
	c := &cobra.Command{
		Use:   "archive [ GUN... ] -o DIR",
		Short: "Archives verified trust data as a static tree any web server can serve.",
		Long: `Archives collections as a static tree laid out as the server's URL space
(DIR/v2/<gun>/_trust/tuf/...), after verifying each with the keys this trust
directory trusts. Serve DIR with any static web server and read it with
"notary -s http://host/" (any notary client, v0.7.0 too) or
"notary --mirror DIR/v2/{gun}/_trust/tuf". Reruns add only what changed. A
collection that fails to verify is reported and not written.

DIR/notary-archive.json lists every collection, version and file hash and is
signed by the archive key (the trust directory's key of role "archive",
made on first use, or --key); DIR/notary-archive.pub is its public key.
Check an archive with "notary archive verify DIR --key-id ID".`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return a.archiveRun(cmd.Context(), f, args) },
	}
	c.Flags().StringVarP(&f.out, "output", "o", "", "Directory to write the archive to (required)")
	c.Flags().BoolVar(&f.all, "all", false, "Archive every collection the server's changefeed lists")
	c.Flags().StringVar(&f.keyID, "key", "", "ID of a private key in the trust directory to sign the manifest with (default: the archive key)")
	c.Flags().IntVar(&f.pageSize, "page-size", 100, "Changefeed records per request with --all")

	v := &cobra.Command{
		Use:   "verify DIR",
		Short: "Checks an archive: the manifest's signature, every file's hash, and each collection through TUF.",
		Long: `Checks that the archive in DIR is whole: its manifest is signed by the archiver's
key (--key-id ID, or --pubkey FILE; without either, the key shipped in the archive,
whose ID is printed: compare it with the one the archiver published), every file it
lists has the recorded length and SHA-256, and each collection verifies through
the TUF workflow as a first-time reader would, as of --at (default: the time
each collection was archived, since archived timestamps expire).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return a.archiveVerify(cmd.Context(), f, args[0]) },
	}
	v.Flags().StringVar(&f.keyID, "key-id", "", "ID the archiver's key must have")
	v.Flags().StringVar(&f.pubKey, "pubkey", "", "File holding the archiver's public key (notary-archive.pub of a trusted copy)")
	v.Flags().StringVar(&f.at, "at", "", "Verify the collections as of this time (RFC 3339 or YYYY-MM-DD); default: when each was archived")
	c.AddCommand(v)
	return c
}

func (a *app) archiveRun(ctx context.Context, f *archiveFlags, guns []string) error {
	if f.out == "" {
		return usageError("archive needs -o DIR")
	}
	if f.all == (len(guns) > 0) {
		return usageError("archive needs GUNs or --all, not both or neither")
	}
	ks, s, err := a.fileStore()
	if err != nil {
		return err
	}
	key, err := a.roleKey(ctx, ks, f.keyID, archiveRole, "archive")
	if err != nil {
		return err
	}
	if f.all {
		if guns, err = a.changefeedGUNs(ctx, s, f.pageSize); err != nil {
			return err
		}
		fmt.Fprintf(a.stderr, "archive: %d collections in the changefeed of %s\n", len(guns), s.ServerURL)
	}
	var (
		cols   []archive.Collection
		failed []string
	)
	for i, g := range guns {
		a.progress("verifying", i, len(guns))
		col, err := a.exportCollection(ctx, g)
		if err != nil {
			a.endProgress()
			fmt.Fprintf(a.stderr, "FAILED %s: not archived: %v\n", g, err)
			failed = append(failed, g)
			continue
		}
		cols = append(cols, col)
	}
	a.progress("verifying", len(guns), len(guns))
	a.endProgress()
	w := &archive.Writer{Dir: f.out, Key: key, Now: a.now}
	results, err := w.Add(cols...)
	for _, r := range results {
		fmt.Fprintf(a.stdout, "archived %s: %d files written, %d unchanged\n", r.GUN, r.Written, r.Unchanged)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "manifest %s signed by key %s\n", filepath.Join(f.out, archive.ManifestName), key.ID())
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d collections failed to verify and were not archived: %v", len(failed), len(guns), failed)
	}
	return nil
}

// progress shows "stage: done/total" on a terminal, however few the
// collections: each is a round trip to the server, so the client's
// threshold for small work (progressMin) does not apply.
func (a *app) progress(stage string, done, total int) {
	if p := a.progressFunc(); p != nil {
		a.prog.mu.Lock()
		a.prog.shown = true
		a.prog.mu.Unlock()
		p(client.Progress{Stage: stage, Done: done, Total: total})
	}
}

// exportCollection verifies g through the client library and lists its
// archive files.
func (a *app) exportCollection(ctx context.Context, g string) (archive.Collection, error) {
	repo, err := a.repoFor(g, readOnly, true)
	if err != nil {
		return archive.Collection{}, err
	}
	exp, err := repo.Export(ctx)
	if err != nil {
		return archive.Collection{}, err
	}
	if exp.RootChainErr != nil {
		a.warnf("%s: older root versions not archived (%v); readers that trust an older root cannot follow its rotation from the archive", g, exp.RootChainErr)
	}
	return archive.FilesOf(g, exp.Repo, exp.OlderRoots)
}

// roleKey returns the key given by ID, else the trust directory's key of
// role (the archive or conversion key), made on first use.
func (a *app) roleKey(ctx context.Context, ks *keystore.FileStore, id, role, what string) (*keys.PrivateKey, error) {
	if id == "" {
		infos, err := ks.List(ctx)
		if err != nil {
			return nil, err
		}
		sort.Slice(infos, func(i, j int) bool { return infos[i].ID < infos[j].ID })
		for _, in := range infos {
			if in.Role == role {
				id = in.ID
				break
			}
		}
		if id == "" {
			pub, err := ks.Create(ctx, role, "", keys.ECDSA)
			if err != nil {
				return nil, fmt.Errorf("creating the %s key: %w", what, err)
			}
			cid, err := pub.CanonicalID()
			if err != nil {
				return nil, err
			}
			fmt.Fprintf(a.stderr, "created the %s key %s (role %q) in the trust directory\n", what, cid, role)
			id = cid
		}
	}
	key, _, err := ks.Get(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("%s key %s: %w", what, id, err)
	}
	return key, nil
}

// changefeedGUNs pages through the server's global changefeed and returns
// the GUNs whose last event is not a deletion, sorted.
func (a *app) changefeedGUNs(ctx context.Context, s *settings, pageSize int) ([]string, error) {
	if pageSize <= 0 {
		return nil, usageError("--page-size must be positive")
	}
	hc, _, err := a.httpClients(s, "", readOnly)
	if err != nil {
		return nil, err
	}
	c, err := api.NewClient(s.ServerURL, "", api.ClientOptions{HTTPClient: hc})
	if err != nil {
		return nil, err
	}
	live := map[string]bool{}
	id := "0"
	for {
		cf, err := c.GlobalChangefeed(ctx, id, pageSize)
		if err != nil {
			return nil, fmt.Errorf("reading the changefeed of %s: %w", s.ServerURL, err)
		}
		for _, r := range cf.Records {
			live[r.GUN] = r.Category != "deletion"
		}
		if len(cf.Records) < pageSize {
			break
		}
		next := cf.Records[len(cf.Records)-1].ID
		if next == id {
			return nil, errors.New("the changefeed does not advance")
		}
		id = next
	}
	var out []string
	for g, ok := range live {
		if ok {
			out = append(out, g)
		}
	}
	sort.Strings(out)
	return out, nil
}

func (a *app) archiveVerify(ctx context.Context, f *archiveFlags, dir string) error {
	var pub *keys.PublicKey
	if f.pubKey != "" {
		data, err := os.ReadFile(f.pubKey)
		if err != nil {
			return err
		}
		var k keys.PublicKey
		if err := json.Unmarshal(data, &k); err != nil {
			return fmt.Errorf("%s: %w", f.pubKey, err)
		}
		pub = &k
	}
	var at time.Time
	if f.at != "" {
		t, err := parseAt(f.at)
		if err != nil {
			return usageError("%v", err)
		}
		at = t
	}
	m, key, err := archive.Verify(dir, pub)
	if key.Type != "" && f.keyID != "" && key.ID() != f.keyID {
		if cid, cerr := key.CanonicalID(); cerr != nil || cid != f.keyID {
			return fmt.Errorf("archive %s is signed by key %s, not %s", dir, key.ID(), f.keyID)
		}
	}
	if err != nil {
		return err
	}
	if pub == nil && f.keyID == "" {
		a.warnf("the manifest verifies with the key shipped in the archive, %s: this proves the archive whole only if that is the archiver's key ID (use --key-id)", key.ID())
	}
	var failed int
	for _, g := range sortedKeysOf(m.Collections) {
		when := m.Collections[g].Archived
		if !at.IsZero() {
			when = at
		}
		repo, err := archive.CheckCollection(ctx, dir, g, when, nil)
		if err != nil {
			fmt.Fprintf(a.stderr, "FAILED %s: %v\n", g, err)
			failed++
			continue
		}
		fmt.Fprintf(a.stdout, "%s: ok as of %s (root v%d, targets v%d, snapshot v%d, timestamp v%d)\n", g, when.Format(time.RFC3339), repo.Root.Version, repo.Targets("targets").Version, repo.Snapshot.Version, repo.Timestamp.Version)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d collections in %s do not verify", failed, len(m.Collections), dir)
	}
	fmt.Fprintf(a.stdout, "archive %s: manifest version %d signed by %s; %d collections, every file intact\n", dir, m.Version, key.ID(), len(m.Collections))
	return nil
}

func sortedKeysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
