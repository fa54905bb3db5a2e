package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/notary-go/notary/client"
	"github.com/notary-go/notary/trustpin"
	"github.com/notary-go/notary/tuf"
)

// The cert commands are not in v0.7.0 (which dropped Notary 0.3's
// trusted_certificates/ directory): there, the certificates a client trusts
// for a GUN are those of the root cached in tuf/<gun>/metadata/root.json,
// which pins the collection. `cert list` shows them and `cert remove`
// forgets such a pin, so that the next read bootstraps trust again through
// trust pinning (or trust on first use).

type certFlags struct {
	gun      string
	forceYes bool
}

func (a *app) certCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "cert", Short: "Operates on root certificates.",
		Long: "Operations on the root certificates trusted for each collection: those of the root cached in the trust directory, which pins trust in the collection."}
	var format string
	list := &cobra.Command{
		Use:   "list [ GUN ... ]",
		Short: "Lists trusted root certificates.",
		Long:  "Lists the root certificates trusted for every collection cached in the trust directory, or for the given GUNs. The ID is the one trust_pinning.certs takes.",
		Args:  cobra.ArbitraryArgs,
		RunE:  func(c *cobra.Command, args []string) error { return a.certList(c, format, args) },
	}
	addOutputFlag(list, &format)
	cmd.AddCommand(list)
	f := &certFlags{}
	rm := &cobra.Command{
		Use:   "remove [ certID ]",
		Short: "Removes trusted root certificates.",
		Long:  "Forgets the trusted root of the collections whose cached root holds the certificate with the given ID (or of the collection given with --gun): their cached metadata is deleted, staged changes and keys are kept, and the next read bootstraps trust again through trust pinning or on first use.",
		Args:  cobra.ArbitraryArgs,
		RunE:  func(c *cobra.Command, args []string) error { return a.certRemove(c, f, args) },
	}
	rm.Flags().StringVarP(&f.gun, "gun", "g", "", "Remove the trusted root certificates of this GUN")
	rm.Flags().BoolVarP(&f.forceYes, "yes", "y", false, "Answer yes to the removal question (no confirmation)")
	cmd.AddCommand(rm)
	return cmd
}

// trustedCert is one root certificate of a cached root.
type trustedCert struct {
	gun, id, cn string
	notAfter    time.Time
}

// cachedRootCerts returns the certificates of the root role of every
// cached root.json (or of guns only).
func (a *app) cachedRootCerts(guns []string) ([]trustedCert, error) {
	s, err := a.config()
	if err != nil {
		return nil, err
	}
	if len(guns) == 0 {
		if guns, err = cachedGUNs(s.TrustDir); err != nil {
			return nil, err
		}
	}
	var out []trustedCert
	for _, gun := range guns {
		cache, err := client.NewFileCache(s.TrustDir, gun)
		if err != nil {
			return nil, err
		}
		data, err := cache.Load(tuf.RoleRoot)
		if err != nil {
			continue
		}
		root, _, err := tuf.ParseRoot(data)
		if err != nil {
			a.warnf("%s: the cached root cannot be read: %v", gun, err)
			continue
		}
		certs, err := trustpin.RootCerts(root)
		if err != nil {
			continue
		}
		for _, c := range certs {
			out = append(out, trustedCert{gun: gun, id: c.KeyID, cn: c.Leaf.Subject.CommonName, notAfter: c.Leaf.NotAfter})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].gun != out[j].gun {
			return out[i].gun < out[j].gun
		}
		return out[i].id < out[j].id
	})
	return out, nil
}

// cachedGUNs finds every tuf/<gun>/metadata/root.json in the trust dir.
func cachedGUNs(trustDir string) ([]string, error) {
	base := filepath.Join(trustDir, client.TUFDir)
	var guns []string
	err := filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			return nil
		}
		if !d.IsDir() || d.Name() != client.MetadataDir {
			return nil
		}
		if st, err := os.Stat(filepath.Join(p, tuf.RoleRoot+".json")); err == nil && st.Mode().IsRegular() {
			rel, err := filepath.Rel(base, filepath.Dir(p))
			if err == nil && client.ValidateGUN(filepath.ToSlash(rel)) == nil {
				guns = append(guns, filepath.ToSlash(rel))
			}
			return fs.SkipDir
		}
		return nil
	})
	sort.Strings(guns)
	return guns, err
}

func (a *app) certList(cmd *cobra.Command, format string, args []string) error {
	if err := checkFormat(format); err != nil {
		return err
	}
	certs, err := a.cachedRootCerts(args)
	if err != nil {
		return err
	}
	if format == formatJSON {
		return printCertsJSON(certs, a.now(), a.stdout)
	}
	fmt.Fprintln(a.stdout)
	if len(certs) == 0 {
		fmt.Fprint(a.stdout, "No trusted root certificates present.\n\n")
		return nil
	}
	now := a.now()
	tw := initTabWriter([]string{"GUN", "FINGERPRINT OF TRUSTED ROOT CERTIFICATE", "EXPIRES IN"}, a.stdout)
	for _, c := range certs {
		left := c.notAfter.Sub(now)
		exp := "expired"
		if left > 0 {
			exp = fmt.Sprintf("%d days", int(left.Hours()/24))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", truncateWithEllipsis(c.gun, maxGUNWidth, true), c.id, exp)
	}
	tw.Flush()
	fmt.Fprintln(a.stdout)
	return nil
}

func (a *app) certRemove(cmd *cobra.Command, f *certFlags, args []string) error {
	if len(args) == 0 && f.gun == "" {
		return usageError("must specify the ID of the certificate to remove, or a GUN with --gun")
	}
	var guns []string
	if f.gun != "" {
		guns = []string{f.gun}
	}
	certs, err := a.cachedRootCerts(guns)
	if err != nil {
		return err
	}
	var match []trustedCert
	for _, c := range certs {
		if len(args) == 0 || c.id == args[0] || strings.HasPrefix(c.id, args[0]) && len(args[0]) >= 8 {
			match = append(match, c)
		}
	}
	if len(match) == 0 {
		return errors.New("no trusted root certificate matches")
	}
	fmt.Fprintln(a.stdout, "\nThe following certificates will be removed:")
	byGUN := map[string]bool{}
	for _, c := range match {
		fmt.Fprintf(a.stdout, "%s - %s\n", c.gun, c.id)
		byGUN[c.gun] = true
	}
	fmt.Fprint(a.stdout, "\nAre you sure you want to remove these certificates? (yes/no)  ")
	if !f.forceYes && !a.askConfirm() {
		fmt.Fprintln(a.stdout, "\nAborting action.")
		return nil
	}
	s, err := a.config()
	if err != nil {
		return err
	}
	for gun := range byGUN {
		cache, err := client.NewFileCache(s.TrustDir, gun)
		if err != nil {
			return err
		}
		if err := cache.Clear(); err != nil {
			return err
		}
	}
	fmt.Fprintln(a.stdout)
	return nil
}
