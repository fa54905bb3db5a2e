package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/notary-go/notary/client"
)

func (a *app) resignCommand() *cobra.Command {
	f := &expiryFlags{}
	c := &cobra.Command{
		Use:   "resign [ GUN ]",
		Short: "Re-signs the roles of a trusted collection that expire soon, and publishes them.",
		Long: "Re-signs, with new versions and expiry dates, every role of the collection whose key this trust directory holds " +
			"(root, targets, delegations, a snapshot whose key you hold) and that expires within --within (default 30d), " +
			"and publishes them at once. Staged changes stay staged. With --all, every collection in the trust directory that it holds a key of. " +
			"Roles due whose keys are elsewhere are reported and make the command fail. See docs/expiry.md for running it from cron or a systemd timer.",
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return a.resign(cmd, f, args) },
	}
	c.Flags().StringVar(&f.within, "within", "30d", "Re-sign roles that expire within this window (30d, 12h, 90m)")
	c.Flags().StringSliceVarP(&f.roles, "roles", "r", nil, "Only these roles (root, targets, snapshot, targets/<delegation>)")
	c.Flags().BoolVar(&f.all, "all", false, "Every collection in the trust directory")
	return c
}

func (a *app) resign(cmd *cobra.Command, f *expiryFlags, args []string) error {
	within, err := parseWindow(f.within)
	if err != nil {
		return err
	}
	switch {
	case f.all && len(args) > 0:
		return usageError("give either GUNs or --all, not both")
	case !f.all && len(args) == 0:
		return usageError("Must specify a GUN (or --all)")
	}
	guns, err := a.expiryGUNs(cmd, args, false)
	if err != nil {
		return err
	}
	failed := 0
	for _, gun := range guns {
		repo, err := a.repoFor(gun, readWrite, true)
		var res client.ResignResult
		if err == nil {
			res, err = repo.Resign(cmd.Context(), client.ResignOptions{Within: within, Roles: f.roles})
		}
		a.endProgress()
		if err != nil {
			failed++
			a.warnf("%s: %v", gun, err)
			continue
		}
		if f.all && !res.HoldsAny {
			// A collection this trust directory only reads: not ours to
			// re-sign (`notary expiry` still lists it).
			fmt.Fprintf(a.stdout, "%s: no keys of it here, skipped\n", gun)
			continue
		}
		for _, e := range res.NotHeld {
			failed++
			a.warnf("%s: %s expires %s but its key is not in this trust directory: re-sign it where the key is", gun, e.Role, e.Expires.Format("2006-01-02T15:04:05Z07:00"))
		}
		if len(res.Resigned) == 0 {
			fmt.Fprintf(a.stdout, "%s: nothing expires within %s\n", gun, f.within)
			continue
		}
		fmt.Fprintf(a.stdout, "%s: re-signed and published %s\n", gun, strings.Join(res.Resigned, ", "))
	}
	if failed > 0 {
		return fmt.Errorf("%d role(s) or collection(s) could not be re-signed", failed)
	}
	return nil
}
