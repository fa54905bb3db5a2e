package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/notary-go/notary/client"
	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/keystore"
	"github.com/notary-go/notary/tuf"
)

const htAutoPublish = "Automatically attempt to publish after staging the change. Will also publish existing staged changes."

// tufFlags are the flags of the collection commands (v1 tufCommander).
type tufFlags struct {
	roles       []string
	sha256      string
	sha512      string
	rootKey     string
	rootCert    string
	custom      string
	input       string
	output      string
	quiet       bool
	resetAll    bool
	deleteIdx   []int
	remote      bool
	autoPublish bool
	fromFile    string
	// format is -o of list, lookup and status (table or json); verify's
	// -o is a file and lives in output.
	format string
}

func (a *app) addTUFCommands(root *cobra.Command) {
	f := &tufFlags{}
	cmd := func(use, short, long string, run func(*cobra.Command, []string) error) *cobra.Command {
		return &cobra.Command{Use: use, Short: short, Long: long, RunE: run, Args: cobra.ArbitraryArgs}
	}

	initCmd := cmd("init [ GUN ]", "Initializes a local trusted collection.",
		"Initializes a local trusted collection identified by the Globally Unique Name. This is an online operation.",
		func(c *cobra.Command, args []string) error { return a.tufInit(c, f, args) })
	initCmd.Flags().StringVar(&f.rootKey, "rootkey", "", "Root key to initialize the repository with")
	initCmd.Flags().StringVar(&f.rootCert, "rootcert", "", "Root certificate must match root key if a root key is supplied, otherwise it must match a key present in keystore")
	initCmd.Flags().BoolVarP(&f.autoPublish, "publish", "p", false, htAutoPublish)
	root.AddCommand(initCmd)

	statusCmd := cmd("status [ GUN ]", "Displays status of unpublished changes to the local trusted collection.",
		"Displays status of unpublished changes to the local trusted collection identified by the Globally Unique Name.",
		func(c *cobra.Command, args []string) error { return a.tufStatus(c, f, args) })
	addOutputFlag(statusCmd, &f.format)
	root.AddCommand(statusCmd)

	resetCmd := cmd("reset [ GUN ]", "Resets unpublished changes for the local trusted collection.",
		"Resets unpublished changes for the local trusted collection identified by the Globally Unique Name.",
		func(c *cobra.Command, args []string) error { return a.tufReset(c, f, args) })
	resetCmd.Flags().IntSliceVarP(&f.deleteIdx, "number", "n", nil, "Numbers of specific changes to exclusively reset, as shown in status list")
	resetCmd.Flags().BoolVar(&f.resetAll, "all", false, "Reset all changes shown in the status list")
	root.AddCommand(resetCmd)

	root.AddCommand(cmd("publish [ GUN ]", "Publishes the local trusted collection.",
		"Publishes the local trusted collection identified by the Globally Unique Name, sending the local changes to a remote trusted server.",
		func(c *cobra.Command, args []string) error { return a.tufPublish(c, args) }))

	lookupCmd := cmd("lookup [ GUN ] <target>", "Looks up a specific target in a remote trusted collection.",
		"Looks up a specific target in a remote trusted collection identified by the Globally Unique Name.",
		func(c *cobra.Command, args []string) error { return a.tufLookup(c, f, args) })
	addOutputFlag(lookupCmd, &f.format)
	root.AddCommand(lookupCmd)

	listCmd := cmd("list [ GUN ]", "Lists targets for a remote trusted collection.",
		"Lists all targets for a remote trusted collection identified by the Globally Unique Name. This is an online operation.",
		func(c *cobra.Command, args []string) error { return a.tufList(c, f, args) })
	listCmd.Flags().StringSliceVarP(&f.roles, "roles", "r", nil, "Delegation roles to list targets for (will shadow targets role)")
	addOutputFlag(listCmd, &f.format)
	root.AddCommand(listCmd)

	addCmd := cmd("add [ GUN ] <target> <file>", "Adds the file as a target to the trusted collection.",
		"Adds the file as a target to the local trusted collection identified by the Globally Unique Name. This is an offline operation.  Please then use `publish` to push the changes to the remote trusted collection.",
		func(c *cobra.Command, args []string) error { return a.tufAdd(c, f, args) })
	addCmd.Flags().StringSliceVarP(&f.roles, "roles", "r", nil, "Delegation roles to add this target to")
	addCmd.Flags().BoolVarP(&f.autoPublish, "publish", "p", false, htAutoPublish)
	addCmd.Flags().StringVar(&f.custom, "custom", "", "Path to the file containing custom data for this target")
	addCmd.Flags().StringVar(&f.fromFile, "from-file", "", "Stage many targets: read one file path (also the target name) per line from this file, or stdin for \"-\"; then give only the GUN")
	root.AddCommand(addCmd)

	removeCmd := cmd("remove [ GUN ] <target>", "Removes a target from a trusted collection.",
		"Removes a target from the local trusted collection identified by the Globally Unique Name. This is an offline operation.  Please then use `publish` to push the changes to the remote trusted collection.",
		func(c *cobra.Command, args []string) error { return a.tufRemove(c, f, args) })
	removeCmd.Flags().StringSliceVarP(&f.roles, "roles", "r", nil, "Delegation roles to remove this target from")
	removeCmd.Flags().BoolVarP(&f.autoPublish, "publish", "p", false, htAutoPublish)
	root.AddCommand(removeCmd)

	addHashCmd := cmd("addhash [ GUN ] <target> <byte size> <hashes>", "Adds the byte size and hash(es) as a target to the trusted collection.",
		"Adds the specified byte size and hash(es) as a target to the local trusted collection identified by the Globally Unique Name. This is an offline operation.  Please then use `publish` to push the changes to the remote trusted collection.",
		func(c *cobra.Command, args []string) error { return a.tufAddByHash(c, f, args) })
	addHashCmd.Flags().StringSliceVarP(&f.roles, "roles", "r", nil, "Delegation roles to add this target to")
	addHashCmd.Flags().StringVar(&f.sha256, tuf.SHA256, "", "hex encoded sha256 of the target to add")
	addHashCmd.Flags().StringVar(&f.sha512, tuf.SHA512, "", "hex encoded sha512 of the target to add")
	addHashCmd.Flags().BoolVarP(&f.autoPublish, "publish", "p", false, htAutoPublish)
	addHashCmd.Flags().StringVar(&f.custom, "custom", "", "Path to the file containing custom data for this target")
	addHashCmd.Flags().StringVar(&f.fromFile, "from-file", "", "Stage many targets: read one \"NAME SIZE SHA256 [SHA512]\" line per target from this file, or stdin for \"-\"; then give only the GUN")
	root.AddCommand(addHashCmd)

	verifyCmd := cmd("verify [ GUN ] <target>", "Verifies if the content is included in the remote trusted collection",
		"Verifies if the data passed in STDIN is included in the remote trusted collection identified by the Globally Unique Name.",
		func(c *cobra.Command, args []string) error { return a.tufVerify(c, f, args) })
	verifyCmd.Flags().StringVarP(&f.input, "input", "i", "", "Read from a file, instead of STDIN")
	verifyCmd.Flags().StringVarP(&f.output, "output", "o", "", "Write to a file, instead of STDOUT")
	verifyCmd.Flags().BoolVarP(&f.quiet, "quiet", "q", false, "No output except for errors")
	root.AddCommand(verifyCmd)

	witnessCmd := cmd("witness [ GUN ] <role> ...", "Marks roles to be re-signed the next time they're published",
		"Marks roles to be re-signed the next time they're published. Currently will always bump version and expiry for role. N.B. behaviour may change when thresholding is introduced.",
		func(c *cobra.Command, args []string) error { return a.tufWitness(c, f, args) })
	witnessCmd.Flags().BoolVarP(&f.autoPublish, "publish", "p", false, htAutoPublish)
	root.AddCommand(witnessCmd)

	deleteCmd := cmd("delete [ GUN ]", "Deletes all content for a trusted collection",
		"Deletes all local content for a trusted collection identified by the Globally Unique Name. Remote data can also be deleted with an additional flag.",
		func(c *cobra.Command, args []string) error { return a.tufDeleteGUN(c, f, args) })
	deleteCmd.Flags().BoolVar(&f.remote, "remote", false, "Delete remote data for GUN in addition to local cache")
	root.AddCommand(deleteCmd)
}

func (a *app) tufInit(cmd *cobra.Command, f *tufFlags, args []string) error {
	if len(args) < 1 {
		return usageError("Must specify a GUN")
	}
	gun := args[0]
	repo, err := a.repoFor(gun, readWrite, true)
	if err != nil {
		return err
	}
	ks, err := repo.KeyStore()
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	var rootIDs []string
	if f.rootKey != "" {
		priv, err := a.readKeyFile(tuf.RoleRoot, f.rootKey)
		if err != nil {
			return err
		}
		if err := ks.Add(ctx, keystore.KeyInfo{Role: tuf.RoleRoot}, priv); err != nil && !errors.Is(err, keystore.ErrExists) {
			return fmt.Errorf("Error importing key: %w", err)
		}
		rootIDs = []string{priv.CanonicalID()}
	} else {
		if rootIDs, err = repo.RootKeys(ctx); err != nil {
			return err
		}
		if len(rootIDs) > 1 {
			rootIDs = rootIDs[:1]
		}
	}
	if len(rootIDs) > 0 {
		fmt.Fprintf(a.stdout, "Root key found, using: %s\n", rootIDs[0])
	}
	var certs []keys.PublicKey
	if f.rootCert != "" {
		cert, err := readRootCert(f.rootCert)
		if err != nil {
			return err
		}
		certs = []keys.PublicKey{cert}
		if f.rootKey == "" {
			rootIDs = nil // found through the certificate
		}
	}
	if _, err := repo.Initialize(ctx, client.InitOptions{RootKeyIDs: rootIDs, RootCerts: certs}); err != nil {
		return err
	}
	return a.maybeAutoPublish(cmd, f.autoPublish, gun)
}

// readRootCert reads a PEM certificate for --rootcert (v1 importRootCert).
func readRootCert(path string) (keys.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return keys.PublicKey{}, fmt.Errorf("error reading certificate file: %w", err)
	}
	pub, err := parsePublicKeyPEM(data)
	if err != nil {
		return keys.PublicKey{}, fmt.Errorf("the provided file does not contain a valid PEM certificate: %w", err)
	}
	if !pub.IsX509() {
		return keys.PublicKey{}, errors.New("the provided file does not contain a valid PEM certificate")
	}
	return pub, nil
}

// readKeyFile reads a private key file for role (v1 readKey): root keys
// must be encrypted; encrypted keys are decrypted with a passphrase for
// role (v1 always asked with the root alias; that is tried second).
func (a *app) readKeyFile(role, path string) (*keys.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("Error reading input root key file: %w", err)
	}
	return a.decryptKey(role, path, data)
}

// decryptKey is readKeyFile for the PEM bytes data read from path.
func (a *app) decryptKey(role, path string, data []byte) (*keys.PrivateKey, error) {
	if !keys.IsEncryptedPEM(data) {
		if role == tuf.RoleRoot {
			return nil, errors.New("only encrypted root keys may be imported: the key file is not encrypted")
		}
		priv, _, err := keys.ParsePEM(data, nil)
		return priv, err
	}
	ret := a.getRetriever()
	aliases := []string{role}
	if role != tuf.RoleRoot {
		aliases = append(aliases, tuf.RoleRoot)
	}
	var lastErr error
	for _, alias := range aliases {
		for attempt := 0; attempt < 10; attempt++ {
			pass, giveUp, err := ret(path, alias, false, attempt)
			if giveUp || err != nil {
				clear(pass)
				if err != nil {
					lastErr = err
				}
				break
			}
			priv, _, err := keys.ParsePEM(data, pass)
			clear(pass)
			if err == nil {
				return priv, nil
			}
			lastErr = err
			if !errors.Is(err, keys.ErrWrongPassphrase) {
				return nil, err
			}
		}
	}
	if lastErr == nil {
		lastErr = errors.New("no passphrase")
	}
	return nil, fmt.Errorf("could not decrypt the key in %s: %w", path, lastErr)
}

func (a *app) tufStatus(cmd *cobra.Command, f *tufFlags, args []string) error {
	if len(args) < 1 {
		return usageError("Must specify a GUN")
	}
	if err := checkFormat(f.format); err != nil {
		return err
	}
	gun := args[0]
	repo, err := a.repoFor(gun, readOnly, false)
	if err != nil {
		return err
	}
	cl, err := repo.GetChangelist()
	if err != nil {
		return err
	}
	changes, err := cl.List()
	if err != nil {
		a.warn(err)
	}
	if f.format == formatJSON {
		return printStatusJSON(gun, changes, a.stdout)
	}
	if len(changes) == 0 {
		fmt.Fprintf(a.stdout, "No unpublished changes for %s\n", gun)
		return nil
	}
	fmt.Fprintf(a.stdout, "Unpublished changes for %s:\n\n", gun)
	tw := initTabWriter([]string{"#", "ACTION", "SCOPE", "TYPE", "PATH"}, a.stdout)
	for i, ch := range changes {
		fmt.Fprintf(tw, fiveItemRow, strconv.Itoa(i), ch.Action, ch.Scope, ch.Type, ch.Path)
	}
	return tw.Flush()
}

func (a *app) tufReset(cmd *cobra.Command, f *tufFlags, args []string) error {
	if len(args) < 1 {
		return usageError("Must specify a GUN")
	}
	if !f.resetAll && len(f.deleteIdx) < 1 {
		return usageError("Must specify changes to reset with -n or the --all flag")
	}
	gun := args[0]
	repo, err := a.repoFor(gun, admin, false)
	if err != nil {
		return err
	}
	cl, err := repo.GetChangelist()
	if err != nil {
		return err
	}
	if f.resetAll {
		err = cl.Clear()
	} else {
		changes, lerr := cl.List()
		if lerr != nil {
			a.warn(lerr)
		}
		var ids []string
		for _, i := range f.deleteIdx {
			if i < 0 || i >= len(changes) {
				return fmt.Errorf("no change #%d: %s has %d staged change(s), numbered from 0 (see `notary status %s`)", i, gun, len(changes), gun)
			}
			ids = append(ids, changes[i].ID)
		}
		err = cl.Remove(ids...)
	}
	if err == nil {
		fmt.Fprintf(a.stdout, "Successfully reset specified changes for repository %s\n", gun)
	}
	return err
}

func (a *app) tufPublish(cmd *cobra.Command, args []string) error {
	if len(args) < 1 {
		return usageError("Must specify a GUN")
	}
	gun := args[0]
	fmt.Fprintln(a.stdout, "Pushing changes to", gun)
	repo, err := a.repoFor(gun, readWrite, true)
	if err != nil {
		return err
	}
	return a.publishAndPrint(cmd, repo)
}

func (a *app) publishAndPrint(cmd *cobra.Command, repo *client.Repository) error {
	err := repo.Publish(cmd.Context())
	a.endProgress()
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "Successfully published changes for repository %s\n", repo.GUN())
	return nil
}

// maybeAutoPublish publishes after a staging command run with -p.
func (a *app) maybeAutoPublish(cmd *cobra.Command, do bool, gun string) error {
	if !do {
		return nil
	}
	repo, err := a.repoFor(gun, readWrite, true)
	if err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, "Auto-publishing changes to", gun)
	return a.publishAndPrint(cmd, repo)
}

func (a *app) tufLookup(cmd *cobra.Command, f *tufFlags, args []string) error {
	if len(args) < 2 {
		return usageError("Must specify a GUN and target")
	}
	if err := checkFormat(f.format); err != nil {
		return err
	}
	repo, err := a.repoFor(args[0], readOnly, true)
	if err != nil {
		return err
	}
	t, err := repo.GetTargetByName(cmd.Context(), args[1])
	if err != nil {
		return err
	}
	if f.format == formatJSON {
		return writeJSON(a.stdout, toTargetJSON(t))
	}
	fmt.Fprintln(a.stdout, t.Name, fmt.Sprintf("sha256:%x", t.Hashes[tuf.SHA256]), t.Length)
	return nil
}

func (a *app) tufList(cmd *cobra.Command, f *tufFlags, args []string) error {
	if len(args) < 1 {
		return usageError("Must specify a GUN")
	}
	if err := checkFormat(f.format); err != nil {
		return err
	}
	repo, err := a.repoFor(args[0], readOnly, true)
	if err != nil {
		return err
	}
	targets, err := repo.ListTargets(cmd.Context(), f.roles...)
	if err != nil {
		return err
	}
	if f.format == formatJSON {
		return printTargetsJSON(targets, a.stdout)
	}
	prettyPrintTargets(targets, a.stdout)
	return nil
}

// readCustom reads the --custom file.
func readCustom(path string) ([]byte, error) {
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	custom, err := client.CanonicalCustom(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return custom, nil
}

func (a *app) tufAdd(cmd *cobra.Command, f *tufFlags, args []string) error {
	if f.fromFile != "" {
		return a.tufAddBulk(cmd, f, args, false)
	}
	if len(args) < 3 {
		return usageError("Must specify a GUN, target, and path to target data")
	}
	gun, name, path := args[0], args[1], args[2]
	custom, err := readCustom(f.custom)
	if err != nil {
		return err
	}
	repo, err := a.repoFor(gun, readWrite, false)
	if err != nil {
		return err
	}
	t, err := client.NewTargetFromFile(name, path, custom)
	if err != nil {
		return err
	}
	if err := repo.AddTarget(cmd.Context(), t, f.roles...); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "Addition of target \"%s\" to repository \"%s\" staged for next publish.\n", name, gun)
	return a.maybeAutoPublish(cmd, f.autoPublish, gun)
}

func (a *app) tufAddByHash(cmd *cobra.Command, f *tufFlags, args []string) error {
	if f.fromFile != "" {
		return a.tufAddBulk(cmd, f, args, true)
	}
	if len(args) < 3 || f.sha256 == "" && f.sha512 == "" {
		return usageError("Must specify a GUN, target, byte size of target data, and at least one hash")
	}
	gun, name, size := args[0], args[1], args[2]
	custom, err := readCustom(f.custom)
	if err != nil {
		return err
	}
	length, err := parseTargetSize(size)
	if err != nil {
		return err
	}
	hashes, used, err := parseTargetHashes(f.sha256, f.sha512)
	if err != nil {
		return err
	}
	repo, err := a.repoFor(gun, readWrite, false)
	if err != nil {
		return err
	}
	t := client.Target{Name: name, Length: length, Hashes: hashes, Custom: custom}
	if err := repo.AddTarget(cmd.Context(), t, f.roles...); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "Addition of target \"%s\" by %s hash to repository \"%s\" staged for next publish.\n", name, strings.Join(used, ", "), gun)
	return a.maybeAutoPublish(cmd, f.autoPublish, gun)
}

func (a *app) tufRemove(cmd *cobra.Command, f *tufFlags, args []string) error {
	if len(args) < 2 {
		return usageError("Must specify a GUN and target")
	}
	gun, name := args[0], args[1]
	repo, err := a.repoFor(gun, admin, false)
	if err != nil {
		return err
	}
	if err := repo.RemoveTarget(cmd.Context(), name, f.roles...); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "Removal of %s from %s staged for next publish.\n", name, gun)
	return a.maybeAutoPublish(cmd, f.autoPublish, gun)
}

func (a *app) tufVerify(cmd *cobra.Command, f *tufFlags, args []string) error {
	if len(args) < 2 {
		return usageError("Must specify a GUN and target")
	}
	if _, err := a.config(); err != nil {
		return err
	}
	var (
		payload []byte
		err     error
	)
	if f.input != "" {
		payload, err = os.ReadFile(f.input)
	} else {
		payload, err = io.ReadAll(a.reader())
		if err != nil {
			err = fmt.Errorf("Error reading content from STDIN: %w", err)
		}
	}
	if err != nil {
		return err
	}
	gun, name := args[0], args[1]
	repo, err := a.repoFor(gun, readOnly, true)
	if err != nil {
		return err
	}
	t, err := repo.GetTargetByName(cmd.Context(), name)
	if err != nil {
		return fmt.Errorf("error retrieving target by name:%s, error:%w", name, err)
	}
	if err := t.Check(payload); err != nil {
		// v0.7.0's words first, for scripts that match them.
		return fmt.Errorf("data not present in the trusted collection, %w", err)
	}
	if f.quiet {
		return nil
	}
	if f.output != "" {
		return os.WriteFile(f.output, payload, 0o600)
	}
	_, err = a.stdout.Write(payload)
	return err
}

func (a *app) tufWitness(cmd *cobra.Command, f *tufFlags, args []string) error {
	if len(args) < 2 {
		return usageError("Please provide a GUN and at least one role to witness")
	}
	gun := args[0]
	repo, err := a.repoFor(gun, readOnly, false)
	if err != nil {
		return err
	}
	done, werr := repo.Witness(cmd.Context(), args[1:]...)
	if werr != nil {
		fmt.Fprintf(a.stdout, "Some roles have failed to be marked for witnessing: %s\n", werr)
	}
	fmt.Fprintf(a.stdout, "The following roles were successfully marked for witnessing on the next publish:\n\t- %s\n", strings.Join(done, "\n\t- "))
	if werr != nil {
		return werr
	}
	return a.maybeAutoPublish(cmd, f.autoPublish, gun)
}

func (a *app) tufDeleteGUN(cmd *cobra.Command, f *tufFlags, args []string) error {
	if len(args) < 1 {
		return usageError("Must specify a GUN")
	}
	gun := args[0]
	repo, err := a.repoFor(gun, admin, f.remote)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "Deleting trust data for repository %s\n", gun)
	if err := repo.DeleteTrustData(cmd.Context(), f.remote); err != nil {
		return err
	}
	remote := ""
	if f.remote {
		remote = " and remote"
	}
	fmt.Fprintf(a.stdout, "Successfully deleted local%s trust data for repository %s\n", remote, gun)
	return nil
}
