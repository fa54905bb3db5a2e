package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/notary-go/notary/client"
	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/keystore"
	"github.com/notary-go/notary/trustpin"
	"github.com/notary-go/notary/tuf"
)

// keyFlags are the flags of the key commands (v1 keyCommander).
type keyFlags struct {
	rotateServerManaged bool
	rotateKeyFiles      []string
	legacyVersions      int
	importRole          string
	importGUN           string
	generateRole        string
	exportGUNs          []string
	exportKeyIDs        []string
	outFile             string
}

func (a *app) keyCommand() *cobra.Command {
	f := &keyFlags{}
	cmd := &cobra.Command{Use: "key", Short: "Operates on keys.", Long: "Operations on private keys."}
	sub := func(use, short, long string, run func(*cobra.Command, []string) error) *cobra.Command {
		c := &cobra.Command{Use: use, Short: short, Long: long, RunE: run, Args: cobra.ArbitraryArgs}
		cmd.AddCommand(c)
		return c
	}
	var format string
	list := sub("list", "Lists keys.", "Lists all keys known to notary.",
		func(c *cobra.Command, args []string) error { return a.keysList(c, format, args) })
	addOutputFlag(list, &format)

	gen := sub("generate [ algorithm ]", "Generates a new key with a given algorithm.",
		"Generates a new key with a given algorithm. If a `--output` file name is provided, two files will be written, <output>.pem and <output>-key.pem, containing the public and private keys respectively (the key will not be stored in Notary's key storage). If no `--role` is provided, \"root\" will be assumed.",
		func(c *cobra.Command, args []string) error { return a.keysGenerate(c, f, args) })
	gen.Flags().StringVarP(&f.outFile, "output", "o", "", "Filepath to write export output to")
	gen.Flags().StringVarP(&f.generateRole, "role", "r", "root", "Role to generate key with, defaulting to \"root\".")

	sub("remove [ keyID ]", "Removes the key with the given keyID.",
		"Removes the key with the given keyID.  If the key is stored in more than one location, you will be asked which one to remove.",
		func(c *cobra.Command, args []string) error { return a.keyRemove(c, args) })
	sub("passwd [ keyID ]", "Changes the passphrase for the key with the given keyID.",
		"Changes the passphrase for the key with the given keyID.  Will require validation of the old passphrase.",
		func(c *cobra.Command, args []string) error { return a.keyPassphraseChange(c, args) })

	rot := sub("rotate [ GUN ] [ key role ]", "Rotate a signing (non-root) key of the given type for the given Globally Unique Name and role.",
		`Generates a new key for the given Globally Unique Name and role (one of "snapshot", "targets", "root", or "timestamp").  If rotating to a server-managed key, a new key is requested from the server rather than generated.  If the generation or key request is successful, the key rotation is immediately published.  No other changes, even if they are staged, will be published.`,
		func(c *cobra.Command, args []string) error { return a.keysRotate(c, f, args) })
	rot.Flags().BoolVarP(&f.rotateServerManaged, "server-managed", "r", false, "Signing and key management will be handled by the remote server "+
		"(no key will be generated or stored locally). Required for timestamp role, optional for snapshot role")
	rot.Flags().IntVarP(&f.legacyVersions, "legacy", "l", 0, "Number of old version's root roles to sign with to support old clients")
	rot.Flags().StringSliceVarP(&f.rotateKeyFiles, "key", "k", nil, "New key(s) to rotate to. If not specified, one will be generated.")

	imp := sub("import pemfile [ pemfile ... ]", "Imports all keys from all provided .pem files",
		"Imports all keys from all provided .pem files by reading each PEM block from the file and writing that block to a unique object in the local keystore.",
		func(c *cobra.Command, args []string) error { return a.importKeys(c, f, args) })
	imp.Flags().StringVarP(&f.importRole, "role", "r", "", "Role to import key with, if a role is not already given in a PEM header")
	imp.Flags().StringVarP(&f.importGUN, "gun", "g", "", "Gun to import key with, if a gun is not already given in a PEM header")

	exp := sub("export", "Exports all keys from all local keystores. Can be filtered using the --key and --gun flags.",
		"Exports all keys from all local keystores. Which keys are exported can be restricted by using the --key or --gun flags. By default the result is sent to stdout, it can be directed to a file with the -o flag.",
		func(c *cobra.Command, args []string) error { return a.exportKeys(c, f, args) })
	exp.Flags().StringSliceVar(&f.exportGUNs, "gun", nil, "GUNs for which to export keys")
	exp.Flags().StringSliceVar(&f.exportKeyIDs, "key", nil, "Key IDs to export")
	exp.Flags().StringVarP(&f.outFile, "output", "o", "", "Filepath to write export output to")
	return cmd
}

// fileStore opens the trust directory's key store.
func (a *app) fileStore() (*keystore.FileStore, *settings, error) {
	s, err := a.config()
	if err != nil {
		return nil, nil, err
	}
	if err := os.MkdirAll(s.TrustDir, 0o700); err != nil {
		return nil, nil, err
	}
	ks, err := keystore.OpenFile(s.TrustDir, a.getRetriever())
	if err != nil {
		return nil, nil, fmt.Errorf("Failed to create private key store in directory: %s: %w", s.TrustDir, err)
	}
	return ks, s, nil
}

func (a *app) keysList(cmd *cobra.Command, format string, args []string) error {
	if len(args) > 0 {
		return usageError("key list takes no arguments")
	}
	if err := checkFormat(format); err != nil {
		return err
	}
	routed, err := a.routedStore()
	if err != nil {
		return err
	}
	if routed != nil {
		located, err := routed.Locations(cmd.Context())
		if err != nil {
			return err
		}
		if format == formatJSON {
			return printKeyRowsJSON(locatedKeyRows(located), a.stdout)
		}
		fmt.Fprintln(a.stdout)
		prettyPrintLocatedKeys(located, a.stdout)
		fmt.Fprintln(a.stdout)
		return nil
	}
	ks, s, err := a.fileStore()
	if err != nil {
		return err
	}
	infos, err := ks.List(cmd.Context())
	if err != nil {
		return err
	}
	if format == formatJSON {
		return printKeyRowsJSON(keyInfoRows(infos, filepath.Join(s.TrustDir, keystore.PrivateDir)), a.stdout)
	}
	fmt.Fprintln(a.stdout)
	prettyPrintKeys(infos, filepath.Join(s.TrustDir, keystore.PrivateDir), a.stdout)
	fmt.Fprintln(a.stdout)
	return nil
}

func (a *app) keysGenerate(cmd *cobra.Command, f *keyFlags, args []string) error {
	if len(args) > 1 {
		return usageError("Please provide only one Algorithm as an argument to generate (rsa, ecdsa)")
	}
	alg := keys.ECDSA
	if len(args) > 0 {
		alg = strings.ToLower(args[0])
	}
	if alg != keys.ECDSA {
		return errors.New("Algorithm not allowed, possible values are: ECDSA")
	}
	if f.generateRole == "" || strings.ContainsAny(f.generateRole, "\r\n:") {
		return fmt.Errorf("invalid role %q", f.generateRole)
	}
	if f.outFile == "" {
		var ks keystore.Service
		if r, err := a.routedStore(); err != nil {
			return err
		} else if r != nil {
			ks = r // on the token when the role is routed there
		} else if ks, _, err = a.fileStore(); err != nil {
			return err
		}
		pub, err := ks.Create(cmd.Context(), f.generateRole, "", alg)
		if err != nil {
			return fmt.Errorf("Failed to create a new %s key: %w", f.generateRole, err)
		}
		fmt.Fprintf(a.stdout, "Generated new %s %s key with keyID: %s\n", alg, f.generateRole, pub.ID())
		return nil
	}
	if _, err := a.config(); err != nil {
		return err
	}
	return a.generateKeyToFile(f.generateRole, alg, f.outFile)
}

// generateKeyToFile writes <out>-key.pem (encrypted) and <out>.pem
// (public key with a role header), as v1 does; the key is not stored.
func (a *app) generateKeyToFile(role, alg, out string) error {
	priv, err := keys.Generate(alg)
	if err != nil {
		return err
	}
	ret := a.getRetriever()
	var pass []byte
	defer func() { clear(pass) }()
	for attempt := 0; ; attempt++ {
		p, giveUp, err := ret(priv.ID(), "", true, attempt)
		if err == nil && !giveUp {
			pass = p
			break
		}
		clear(p)
		if giveUp || attempt >= 10 {
			if err == nil {
				err = errors.New("maximum number of passphrase attempts exceeded")
			}
			return err
		}
	}
	if len(pass) == 0 {
		return errors.New("no password provided")
	}
	privPEM, err := keys.EncryptPEM(priv, role, "", pass)
	if err != nil {
		return err
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Headers: map[string]string{"role": role}, Bytes: priv.Public().Public})
	if err := writeSecretFile(out+"-key.pem", privPEM); err != nil {
		return err
	}
	return writeSecretFile(out+".pem", pubPEM)
}

// writeSecretFile writes key material to path with mode 0600, whatever
// was there: os.WriteFile and O_TRUNC keep the mode of an existing file,
// so a world-readable file at -o would have received a private key. A
// regular file (or none) is replaced by renaming a new 0600 file over it,
// in the directory a symlink at path points to, so no one holding the old
// file open sees the new bytes. A device or pipe (-o /dev/stdout) is
// written to in place: it has no contents to protect by mode.
func writeSecretFile(path string, data []byte) error {
	target := path
	if resolved, err := filepath.EvalSymlinks(path); err == nil {
		target = resolved
		if st, err := os.Stat(resolved); err == nil && !st.Mode().IsRegular() {
			if st.IsDir() {
				return fmt.Errorf("%s is a directory", path)
			}
			f, err := os.OpenFile(resolved, os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			if _, err := f.Write(data); err != nil {
				f.Close()
				return err
			}
			return f.Close()
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(target), "."+filepath.Base(target)+".tmp*") // mode 0600
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op once renamed
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), target)
}

func (a *app) keysRotate(cmd *cobra.Command, f *keyFlags, args []string) error {
	if len(args) < 2 {
		return usageError("Must specify a GUN and a key role to rotate")
	}
	gun, role := args[0], args[1]
	repo, err := a.repoFor(gun, admin, true)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	var ids []string
	if len(f.rotateKeyFiles) > 0 {
		ks, err := repo.KeyStore()
		if err != nil {
			return err
		}
		for _, file := range f.rotateKeyFiles {
			priv, err := a.readKeyFile(role, file)
			if err != nil {
				return err
			}
			keyGUN := gun
			if role == tuf.RoleRoot {
				keyGUN = ""
			}
			if err := ks.Add(ctx, keystore.KeyInfo{Role: role, GUN: keyGUN}, priv); err != nil && !errors.Is(err, keystore.ErrExists) {
				return fmt.Errorf("Error importing key: %w", err)
			}
			ids = append(ids, priv.CanonicalID())
		}
	}
	if role == tuf.RoleRoot {
		fmt.Fprint(a.stdout, "Warning: you are about to rotate your root key.\n\n"+
			"You must use your old key to sign this root rotation.\n"+
			"Are you sure you want to proceed?  (yes/no)  ")
		if !a.askConfirm() {
			fmt.Fprintln(a.stdout, "\nAborting action.")
			return nil
		}
	}
	err = repo.RotateKey(ctx, role, client.RotateOptions{
		ServerManaged: f.rotateServerManaged, KeyIDs: ids, LegacyVersions: f.legacyVersions,
	})
	a.endProgress()
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "Successfully rotated %s key for repository %s\n", role, gun)
	return nil
}

func (a *app) findKey(cmd *cobra.Command, ks *keystore.FileStore, id string) (keystore.KeyInfo, bool, error) {
	infos, err := ks.List(cmd.Context())
	if err != nil {
		return keystore.KeyInfo{}, false, err
	}
	for _, ki := range infos {
		if ki.ID == id {
			return ki, true, nil
		}
	}
	return keystore.KeyInfo{}, false, nil
}

func (a *app) keyRemove(cmd *cobra.Command, args []string) error {
	if len(args) < 1 {
		return usageError("must specify the key ID of the key to remove")
	}
	id := args[0]
	if !keystore.ValidID(id) {
		return fmt.Errorf("invalid key ID provided: %s", id)
	}
	ks, s, err := a.fileStore()
	if err != nil {
		return err
	}
	fmt.Fprintln(a.stdout)
	ki, ok, err := a.findKey(cmd, ks, id)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("No key with ID %s found", id)
	}
	desc := fmt.Sprintf("%s (role %s) from %s", id, ki.Role, filepath.Join(s.TrustDir, keystore.PrivateDir))
	fmt.Fprintf(a.stdout, "Are you sure you want to remove %s?  (yes/no)  ", desc)
	if !a.askConfirm() {
		fmt.Fprintln(a.stdout, "\nAborting action.")
		return nil
	}
	if err := ks.Remove(cmd.Context(), id); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "\nDeleted %s.\n", desc)
	fmt.Fprintln(a.stdout)
	return nil
}

func (a *app) keyPassphraseChange(cmd *cobra.Command, args []string) error {
	if len(args) < 1 {
		return usageError("must specify the key ID of the key to change the passphrase of")
	}
	id := args[0]
	if !keystore.ValidID(id) {
		return fmt.Errorf("invalid key ID provided: %s", id)
	}
	ks, _, err := a.fileStore()
	if err != nil {
		return err
	}
	if _, _, err := ks.Get(cmd.Context(), id); err != nil {
		if errors.Is(err, keystore.ErrNotFound) {
			return fmt.Errorf("could not retrieve local key for key ID provided: %s", id)
		}
		return err
	}
	// A separate retriever, so a prompt does not offer the old passphrase
	// from its cache (v1 does the same).
	if err := ks.ChangePassphrase(cmd.Context(), id, a.newRetriever()); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "\nSuccessfully updated passphrase for key ID: %s\n", id)
	return nil
}

func (a *app) importKeys(cmd *cobra.Command, f *keyFlags, args []string) error {
	if len(args) < 1 {
		return usageError("must specify at least one input file to import keys from")
	}
	ks, _, err := a.fileStore()
	if err != nil {
		return err
	}
	var failed []string
	for _, file := range args {
		data, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		blocks := 0
		for rest := data; ; {
			var block *pem.Block
			block, rest = pem.Decode(rest)
			if block == nil {
				break
			}
			blocks++
			if done, err := a.importToToken(cmd, f, file, block); done || err != nil {
				if err != nil {
					failed = append(failed, fmt.Sprintf("%s: %v", file, err))
				}
				continue
			}
			ki, err := ks.Import(cmd.Context(), pem.EncodeToMemory(block), keystore.ImportOptions{Role: f.importRole, GUN: f.importGUN, Name: file})
			switch {
			case errors.Is(err, keystore.ErrExists):
				a.warnf("%s: the key is already in the key store", file)
			case err != nil:
				failed = append(failed, fmt.Sprintf("%s: %v", file, err))
			default:
				a.infof("imported %s key %s from %s", ki.Role, ki.ID, file)
			}
		}
		if blocks == 0 {
			failed = append(failed, fmt.Sprintf("%s: no PEM block found", file))
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("failed to import all keys: %s", strings.Join(failed, "; "))
	}
	return nil
}

func (a *app) exportKeys(cmd *cobra.Command, f *keyFlags, args []string) error {
	if len(args) > 0 {
		return usageError("export does not take any positional arguments")
	}
	if len(f.exportGUNs) > 0 && len(f.exportKeyIDs) > 0 {
		return errors.New("Only the --gun or --key flag may be provided, not a mix of the two flags")
	}
	ks, _, err := a.fileStore()
	if err != nil {
		return err
	}
	infos, err := ks.List(cmd.Context())
	if err != nil {
		return err
	}
	sort.Slice(infos, func(i, j int) bool { return infos[i].ID < infos[j].ID })
	want := func(ki keystore.KeyInfo) bool { return true }
	switch {
	case len(f.exportGUNs) > 0:
		guns := map[string]bool{}
		for _, g := range f.exportGUNs {
			guns[g] = true
		}
		want = func(ki keystore.KeyInfo) bool { return guns[ki.GUN] }
	case len(f.exportKeyIDs) > 0:
		ids := map[string]bool{}
		for _, id := range f.exportKeyIDs {
			ids[id] = true
		}
		want = func(ki keystore.KeyInfo) bool { return ids[ki.ID] }
	}
	var buf bytes.Buffer
	for _, ki := range infos {
		if !want(ki) {
			continue
		}
		data, err := ks.Export(cmd.Context(), ki.ID)
		if err != nil {
			return err
		}
		for rest := data; ; {
			var block *pem.Block
			block, rest = pem.Decode(rest)
			if block == nil {
				break
			}
			if block.Headers == nil {
				block.Headers = map[string]string{}
			}
			block.Headers["path"] = ki.ID // for a later import (v1 ExportKeys)
			if err := pem.Encode(&buf, block); err != nil {
				return err
			}
		}
	}
	if f.outFile != "" {
		return writeSecretFile(f.outFile, buf.Bytes())
	}
	_, err = a.stdout.Write(buf.Bytes())
	return err
}

// nowFunc is the clock certificate checks use.
var nowFunc = time.Now

// parsePublicKeyPEM reads a delegation key (v1 ParsePEMPublicKey): a
// CERTIFICATE (checked as v1 checks certificates, and used as an x509 key)
// or a PUBLIC KEY (ecdsa, rsa, and beyond v1, ed25519).
func parsePublicKeyPEM(data []byte) (keys.PublicKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return keys.PublicKey{}, errors.New("no valid public key found")
	}
	switch block.Type {
	case "CERTIFICATE":
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return keys.PublicKey{}, fmt.Errorf("could not parse provided certificate: %w", err)
		}
		if err := trustpin.ValidateCertificate(cert, nowFunc(), true); err != nil {
			return keys.PublicKey{}, fmt.Errorf("invalid certificate: %w", err)
		}
		return keys.X509PublicKey(cert)
	case "PUBLIC KEY":
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return keys.PublicKey{}, fmt.Errorf("unable to parse pem encoded public key: %w", err)
		}
		switch p := pub.(type) {
		case *ecdsa.PublicKey:
			return keys.NewPublicKey(keys.ECDSA, block.Bytes), nil
		case *rsa.PublicKey:
			return keys.NewPublicKey(keys.RSA, block.Bytes), nil
		case ed25519.PublicKey:
			return keys.NewPublicKey(keys.ED25519, []byte(p)), nil
		}
		return keys.PublicKey{}, errors.New("unknown public key format")
	}
	return keys.PublicKey{}, fmt.Errorf("unsupported PEM block type %q, expected CERTIFICATE or PUBLIC KEY", block.Type)
}
