package main

import (
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/notary-go/notary/keystore"
	"github.com/notary-go/notary/keystore/pkcs11"
	"github.com/notary-go/notary/tuf"
)

// Key store kinds of --key-store and key_store.type.
const (
	keyStoreFile   = "file"
	keyStorePKCS11 = "pkcs11"
)

// EnvPKCS11Roles lists the roles whose keys go on the token (comma
// separated: root, targets, snapshot, delegation); default root.
const EnvPKCS11Roles = "NOTARY_PKCS11_ROLES"

// keyStoreSettings are the key store's settings: key_store in the config
// file, then the environment, then --key-store.
type keyStoreSettings struct {
	Type   string
	Module string
	Token  string
	Roles  []string
}

// keyStoreKind is the key store the command uses.
func (a *app) keyStoreKind(s *settings) (string, error) {
	kind := s.KeyStore.Type
	if a.flags.keyStore != "" {
		kind = a.flags.keyStore
	}
	switch kind {
	case "", keyStoreFile:
		return keyStoreFile, nil
	case keyStorePKCS11:
		return keyStorePKCS11, nil
	}
	return "", usageError("invalid key store %q: want %s or %s", kind, keyStoreFile, keyStorePKCS11)
}

// routedStore returns the token-and-trust-directory key store when the
// PKCS#11 key store is chosen, or nil for the file store alone. It is
// opened once per run and closed when the run ends. A missing token or a
// wrong PIN fails here, before anything is written.
func (a *app) routedStore() (*keystore.Routed, error) {
	a.keyStoreOnce.Do(func() {
		a.routed, a.routedErr = a.openRouted()
	})
	return a.routed, a.routedErr
}

func (a *app) openRouted() (*keystore.Routed, error) {
	s, err := a.config()
	if err != nil {
		return nil, err
	}
	kind, err := a.keyStoreKind(s)
	if err != nil || kind != keyStorePKCS11 {
		return nil, err
	}
	cfg := pkcs11.Config{Module: s.KeyStore.Module, TokenLabel: s.KeyStore.Token}
	if v := a.getenv(pkcs11.EnvModule); v != "" {
		cfg.Module = v
	}
	if v := a.getenv(pkcs11.EnvToken); v != "" {
		cfg.TokenLabel = v
	}
	switch {
	case cfg.Module == "":
		return nil, fmt.Errorf("the PKCS#11 key store needs the module (library) path: set key_store.pkcs11.module in the config file or %s", pkcs11.EnvModule)
	case cfg.TokenLabel == "":
		return nil, fmt.Errorf("the PKCS#11 key store needs the token label: set key_store.pkcs11.token_label in the config file or %s", pkcs11.EnvToken)
	}
	roles := s.KeyStore.Roles
	if v := a.getenv(EnvPKCS11Roles); v != "" {
		roles = strings.Split(v, ",")
	}
	if len(roles) == 0 {
		roles = []string{tuf.RoleRoot}
	}
	routes := map[string]bool{}
	for _, r := range roles {
		r = strings.TrimSpace(r)
		switch r {
		case tuf.RoleRoot, tuf.RoleTargets, tuf.RoleSnapshot, keystore.RoleDelegation:
			routes[r] = true
		default:
			return nil, fmt.Errorf("invalid role %q for the PKCS#11 key store: want root, targets, snapshot or delegation", r)
		}
	}
	if cfg.PIN, err = a.pkcs11PIN(cfg.TokenLabel); err != nil {
		return nil, err
	}
	tok, err := pkcs11.Open(cfg)
	if err != nil {
		var le *pkcs11.LoginError
		switch {
		case errors.Is(err, pkcs11.ErrPINIncorrect):
			return nil, fmt.Errorf("the PKCS#11 token %q refused the PIN (from %s or the prompt); nothing was changed: %w", cfg.TokenLabel, pkcs11.EnvPIN, err)
		case errors.Is(err, pkcs11.ErrTokenNotFound):
			return nil, fmt.Errorf("the PKCS#11 token %q is not present (is it plugged in? is %s right?); nothing was changed: %w", cfg.TokenLabel, pkcs11.EnvToken, err)
		case errors.As(err, &le):
			return nil, fmt.Errorf("cannot log in to the PKCS#11 token %q; nothing was changed: %w", cfg.TokenLabel, err)
		}
		return nil, fmt.Errorf("cannot open the PKCS#11 key store (module %s, token %q); nothing was changed: %w", cfg.Module, cfg.TokenLabel, err)
	}
	a.closers = append(a.closers, func() { _ = tok.Close() })
	fs, _, err := a.fileStore()
	if err != nil {
		return nil, err
	}
	return &keystore.Routed{
		Token: tok, Default: fs, Roles: routes,
		TokenName: "pkcs11:" + cfg.TokenLabel, DefaultName: fileStoreLocation(s),
	}, nil
}

// pkcs11PIN is NOTARY_PKCS11_PIN, else a prompt on a terminal. It is never
// a flag, so it is not in the process list or shell history.
func (a *app) pkcs11PIN(label string) (string, error) {
	if pin := a.getenv(pkcs11.EnvPIN); pin != "" {
		return pin, nil
	}
	if !a.stdinIsTerminal() {
		return "", fmt.Errorf("the PIN of the PKCS#11 token %q is needed: set %s (no terminal to prompt on)", label, pkcs11.EnvPIN)
	}
	fmt.Fprintf(a.stderr, "Enter the user PIN of the PKCS#11 token %q: ", label)
	pin, err := term.ReadPassword(int(a.stdinFile.Fd()))
	fmt.Fprintln(a.stderr)
	if err != nil {
		return "", err
	}
	if len(pin) == 0 {
		return "", errors.New("no PIN given")
	}
	return string(pin), nil
}

// keyService is the key store of the run: the routed store with
// --key-store pkcs11, else nil (the client opens the trust directory's
// file store itself).
func (a *app) keyService() (keystore.Service, error) {
	r, err := a.routedStore()
	if err != nil || r == nil {
		return nil, err
	}
	return r, nil
}

func fileStoreLocation(s *settings) string {
	return filepath.Join(s.TrustDir, keystore.PrivateDir)
}

// importToToken imports a PEM block onto the token when --key-store pkcs11
// routes its role there (the role from its "role" header, else --role):
// the key is decrypted here and created on the token as a sensitive,
// non-extractable object; nothing is written to the trust directory.
// done is false when the key is not for the token.
func (a *app) importToToken(cmd *cobra.Command, f *keyFlags, file string, block *pem.Block) (done bool, err error) {
	r, err := a.routedStore()
	if err != nil || r == nil {
		return false, err
	}
	role := block.Headers["role"]
	if role == "" {
		role = f.importRole
	}
	if role == "" || !r.OnToken(role) {
		return false, nil
	}
	gun := block.Headers["gun"]
	if gun == "" {
		gun = f.importGUN
	}
	if role == tuf.RoleRoot || strings.HasPrefix(role, tuf.RoleTargets+"/") {
		gun = "" // v1 keeps no GUN for root and delegation keys
	}
	priv, err := a.decryptKey(role, file, pem.EncodeToMemory(block))
	if err != nil {
		return true, err
	}
	err = r.Token.Add(cmd.Context(), keystore.KeyInfo{Role: role, GUN: gun}, priv)
	switch {
	case errors.Is(err, keystore.ErrExists):
		a.warnf("%s: the key is already on the token", file)
		return true, nil
	case err != nil:
		return true, err
	}
	fmt.Fprintf(a.stdout, "Imported %s key %s onto the PKCS#11 token (%s)\n", role, priv.CanonicalID(), r.TokenName)
	return true, nil
}

// prettyPrintLocatedKeys is `key list` over several stores.
func prettyPrintLocatedKeys(located []keystore.LocatedKey, w io.Writer) {
	if len(located) == 0 {
		fmt.Fprint(w, "No signing keys found.\n")
		return
	}
	printKeyRows(locatedKeyRows(located), w)
}

func locatedKeyRows(located []keystore.LocatedKey) []keyRow {
	rows := make([]keyRow, 0, len(located))
	for _, l := range located {
		rows = append(rows, keyRow{role: l.Role, gun: l.GUN, id: l.ID, location: l.Location})
	}
	return rows
}
