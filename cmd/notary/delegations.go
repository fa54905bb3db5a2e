package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/tuf"
)

// delegationFlags are the flags of the delegation commands (v1
// delegationCommander).
type delegationFlags struct {
	paths       []string
	allPaths    bool
	forceYes    bool
	keyIDs      []string
	autoPublish bool
}

func (a *app) delegationCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "delegation", Short: "Operates on delegations.", Long: "Operations on TUF delegations."}
	sub := func(use, short, long string, run func(*cobra.Command, []string) error) *cobra.Command {
		c := &cobra.Command{Use: use, Short: short, Long: long, RunE: run, Args: cobra.ArbitraryArgs}
		cmd.AddCommand(c)
		return c
	}
	var format string
	list := sub("list [ GUN ]", "Lists delegations for the Global Unique Name.",
		"Lists all delegations known to notary for a specific Global Unique Name.",
		func(c *cobra.Command, args []string) error { return a.delegationsList(c, format, args) })
	addOutputFlag(list, &format)

	pf := &delegationFlags{}
	purge := sub("purge [ GUN ]", "Remove KeyID(s) from all delegation roles in the given GUN.",
		"Remove KeyID(s) from all delegation roles in the given GUN, for which the signing keys are available. Warnings will be printed for delegations that cannot be updated.",
		func(c *cobra.Command, args []string) error { return a.delegationPurgeKeys(c, pf, args) })
	purge.Flags().StringSliceVar(&pf.keyIDs, "key", nil, "Delegation key IDs to be removed from the GUN")
	purge.Flags().BoolVarP(&pf.autoPublish, "publish", "p", false, htAutoPublish)

	rf := &delegationFlags{}
	rem := sub("remove [ GUN ] [ Role ] <KeyID 1> ...", "Remove KeyID(s) from the specified Role delegation.",
		"Remove KeyID(s) from the specified Role delegation in a specific Global Unique Name.",
		func(c *cobra.Command, args []string) error { return a.delegationRemove(c, rf, args) })
	rem.Flags().StringSliceVar(&rf.paths, "paths", nil, "List of paths to remove")
	rem.Flags().BoolVarP(&rf.forceYes, "yes", "y", false, "Answer yes to the removal question (no confirmation)")
	rem.Flags().BoolVar(&rf.allPaths, "all-paths", false, "Remove all paths from this delegation")
	rem.Flags().BoolVarP(&rf.autoPublish, "publish", "p", false, htAutoPublish)

	af := &delegationFlags{}
	add := sub("add [ GUN ] [ Role ] <X509 file path 1> ...", "Add a keys to delegation using the provided public key X509 certificates.",
		"Add a keys to delegation using the provided public key PEM encoded X509 certificates in a specific Global Unique Name.",
		func(c *cobra.Command, args []string) error { return a.delegationAdd(c, af, args) })
	add.Flags().StringSliceVar(&af.paths, "paths", nil, "List of paths to add")
	add.Flags().BoolVar(&af.allPaths, "all-paths", false, "Add all paths to this delegation")
	add.Flags().BoolVarP(&af.autoPublish, "publish", "p", false, htAutoPublish)
	return cmd
}

func (a *app) delegationsList(cmd *cobra.Command, format string, args []string) error {
	if len(args) != 1 {
		return usageError("Please provide a Global Unique Name as an argument to list")
	}
	if err := checkFormat(format); err != nil {
		return err
	}
	gun := args[0]
	repo, err := a.repoFor(gun, readOnly, true)
	if err != nil {
		return err
	}
	roles, err := repo.GetDelegationRoles(cmd.Context())
	if err != nil {
		return fmt.Errorf("Error retrieving delegation roles for repository %s: %w", gun, err)
	}
	if format == formatJSON {
		return printRolesJSON(roles, a.stdout)
	}
	fmt.Fprintln(a.stdout)
	prettyPrintRoles(roles, a.stdout, "delegations")
	fmt.Fprintln(a.stdout)
	return nil
}

func (a *app) delegationPurgeKeys(cmd *cobra.Command, f *delegationFlags, args []string) error {
	if len(args) != 1 {
		return usageError("Please provide a single Global Unique Name as an argument to remove")
	}
	if len(f.keyIDs) == 0 {
		return usageError("Please provide at least one key ID to be removed using the --key flag")
	}
	gun := args[0]
	repo, err := a.repoFor(gun, readWrite, false)
	if err != nil {
		return err
	}
	if err := repo.RemoveDelegationKeys(cmd.Context(), "targets/*", f.keyIDs); err != nil {
		return fmt.Errorf("failed to remove keys from delegations: %w", err)
	}
	fmt.Fprintf(a.stdout, "Removal of the following keys from all delegations in %s staged for next publish:\n\t- %s\n", gun, strings.Join(f.keyIDs, "\n\t- "))
	return a.maybeAutoPublish(cmd, f.autoPublish, gun)
}

func (a *app) delegationRemove(cmd *cobra.Command, f *delegationFlags, args []string) error {
	if len(args) < 2 {
		return usageError("must specify the Global Unique Name and the role of the delegation along with optional keyIDs and/or a list of paths to remove")
	}
	gun, role := args[0], args[1]
	if !tuf.IsDelegationName(role) {
		return fmt.Errorf("invalid delegation name %s", role)
	}
	removeAll := len(args) == 2 && f.paths == nil && !f.allPaths
	keyIDs := args[2:]
	if f.allPaths {
		f.paths = nil
	}
	repo, err := a.repoFor(gun, readWrite, false)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	if removeAll {
		fmt.Fprintln(a.stdout, "\nAre you sure you want to remove all data for this delegation? (yes/no)")
		if !f.forceYes {
			if !a.askConfirm() {
				return errors.New("Aborting action.")
			}
		} else {
			fmt.Fprintln(a.stdout, "Confirmed `yes` from flag")
		}
		if err := repo.RemoveDelegationRole(ctx, role); err != nil {
			return fmt.Errorf("failed to remove delegation: %w", err)
		}
	} else {
		if f.allPaths {
			if err := repo.ClearDelegationPaths(ctx, role); err != nil {
				return fmt.Errorf("failed to remove delegation: %w", err)
			}
		}
		if err := repo.RemoveDelegationKeysAndPaths(ctx, role, keyIDs, f.paths); err != nil {
			return fmt.Errorf("failed to remove delegation: %w", err)
		}
	}
	fmt.Fprintln(a.stdout)
	if removeAll {
		fmt.Fprintf(a.stdout, "Forced removal (including all keys and paths) of delegation role %s to repository \"%s\" staged for next publish.\n", role, gun)
	} else {
		items := ""
		if len(keyIDs) > 0 {
			items += fmt.Sprintf("with keys %s, ", keyIDs)
		}
		if f.allPaths {
			items += "with all paths, "
		}
		if f.paths != nil {
			items += fmt.Sprintf("with paths [%s], ", strings.Join(prettyPaths(f.paths), "\n"))
		}
		fmt.Fprintf(a.stdout, "Removal of delegation role %s %sto repository \"%s\" staged for next publish.\n", role, items, gun)
	}
	fmt.Fprintln(a.stdout)
	return a.maybeAutoPublish(cmd, f.autoPublish, gun)
}

func (a *app) delegationAdd(cmd *cobra.Command, f *delegationFlags, args []string) error {
	if len(args) < 2 || len(args) < 3 && f.paths == nil && !f.allPaths {
		return usageError("must specify the Global Unique Name and the role of the delegation along with the public key certificate paths and/or a list of paths to add")
	}
	gun, role := args[0], args[1]
	var pubs []keys.PublicKey
	for _, p := range args[2:] {
		data, err := os.ReadFile(p)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("file for public key does not exist: %s", p)
			}
			return fmt.Errorf("unable to read public key from file: %s", p)
		}
		pub, err := parsePublicKeyPEM(data)
		if err != nil {
			return fmt.Errorf("unable to parse valid public key certificate from PEM file %s: %w", p, err)
		}
		pubs = append(pubs, pub)
	}
	for _, p := range f.paths {
		if p == "" {
			f.allPaths = true
		}
	}
	if f.allPaths {
		f.paths = []string{""}
	}
	repo, err := a.repoFor(gun, readWrite, false)
	if err != nil {
		return err
	}
	if err := repo.AddDelegation(cmd.Context(), role, pubs, f.paths); err != nil {
		return fmt.Errorf("failed to create delegation: %w", err)
	}
	var ids []string
	for _, pub := range pubs {
		id, err := pub.CanonicalID()
		if err != nil {
			return err
		}
		ids = append(ids, id)
	}
	fmt.Fprintln(a.stdout)
	items := ""
	if len(ids) > 0 {
		items += fmt.Sprintf("with keys %s, ", ids)
	}
	if f.paths != nil || f.allPaths {
		items += fmt.Sprintf("with paths [%s], ", strings.Join(prettyPaths(f.paths), "\n"))
	}
	fmt.Fprintf(a.stdout, "Addition of delegation role %s %sto repository \"%s\" staged for next publish.\n", role, items, gun)
	fmt.Fprintln(a.stdout)
	return a.maybeAutoPublish(cmd, f.autoPublish, gun)
}
