package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/notary-go/notary/internal/jsonconfig"
	"github.com/notary-go/notary/trustpin"
)

// Defaults of v0.7.0's CLI (cmd/notary/main.go).
const (
	configDirName    = ".notary"
	configFileName   = "config.json"
	defaultServerURL = "https://notary-server:4443"
)

// configKeys are the keys of the client config file (lower-cased, as
// they are matched). Other keys load, with a warning naming each; a key
// or section of the wrong type is an error.
var configKeys = jsonconfig.Schema{
	"trust_dir":                     jsonconfig.KindString,
	"remote_server.url":             jsonconfig.KindString,
	"remote_server.root_ca":         jsonconfig.KindString,
	"remote_server.tls_client_cert": jsonconfig.KindString,
	"remote_server.tls_client_key":  jsonconfig.KindString,
	"remote_server.skiptlsverify":   jsonconfig.KindBool,
	"remote_server.mirror":          jsonconfig.KindString,
	"trust_pinning.certs":           jsonconfig.KindObject, // GUN → certificate IDs (checked in applyFile)
	"trust_pinning.ca":              jsonconfig.KindObject, // GUN prefix → CA file
	"trust_pinning.disable_tofu":    jsonconfig.KindBool,
	"key_store.type":                jsonconfig.KindString,
	"key_store.pkcs11.module":       jsonconfig.KindString,
	"key_store.pkcs11.token_label":  jsonconfig.KindString,
	"key_store.pkcs11.roles":        jsonconfig.KindStrings,
	"trust_servers":                 jsonconfig.KindObject, // registry host → trust server (image commands)
}

// configHelp describes the config file in notary --help.
const configHelp = `Config file (-c FILE, default ~/.notary/config.json; JSON, v0.7.0's
format). Relative paths in it are relative to the config file's
directory; relative paths given as flags are relative to the working
directory. Keys it does not read are warned about; a section or key of
the wrong type is an error. Flags override the file.

  trust_dir                     trust directory (default ~/.notary; -d)
  remote_server.url             notary server URL (default https://notary-server:4443; -s)
  remote_server.root_ca         CA bundle the server's certificate must chain to (--tlscacert)
  remote_server.tls_client_cert client certificate (--tlscert), with
  remote_server.tls_client_key  its key (--tlskey)
  remote_server.skipTLSVerify   true: do not verify the server's certificate
  remote_server.mirror          static mirror for read-only commands (--mirror)
  trust_pinning.certs           {"GUN": ["certificate ID", ...]}: pin root certificates
  trust_pinning.ca              {"GUN prefix": "ca.crt"}: root certificates must chain to it
  trust_pinning.disable_tofu    true: refuse a first root that nothing pins
  key_store.type                "file" (default) or "pkcs11" (--key-store)
  key_store.pkcs11.module       PKCS#11 library path ($NOTARY_PKCS11_MODULE)
  key_store.pkcs11.token_label  token label ($NOTARY_PKCS11_TOKEN)
  key_store.pkcs11.roles        roles whose keys go on the token: root (default),
                                targets, snapshot, delegation ($NOTARY_PKCS11_ROLES)
  trust_servers                 {"registry host[:port]": "https://trust server"} for notary image

Environment: NOTARY_AUTH (base64 of user:password for the server),
NOTARY_ROOT_PASSPHRASE, NOTARY_TARGETS_PASSPHRASE,
NOTARY_SNAPSHOT_PASSPHRASE, NOTARY_DELEGATION_PASSPHRASE,
NOTARY_PKCS11_PIN (the token's user PIN; never a flag).`

// fileConfig is the client config file (v1 §7.4, docs/reference/client-config.md).
// Keys are matched case-insensitively, as viper does.
type fileConfig struct {
	TrustDir     string `json:"trust_dir"`
	RemoteServer struct {
		URL           string `json:"url"`
		RootCA        string `json:"root_ca"`
		TLSClientCert string `json:"tls_client_cert"`
		TLSClientKey  string `json:"tls_client_key"`
		SkipTLSVerify *bool  `json:"skipTLSVerify"`
		// Mirror is our addition: read-only commands read metadata from
		// this static copy instead of the server (see --mirror).
		Mirror string `json:"mirror"`
	} `json:"remote_server"`
	TrustPinning struct {
		Certs       map[string]json.RawMessage `json:"certs"`
		CA          map[string]string          `json:"ca"`
		DisableTOFU bool                       `json:"disable_tofu"`
	} `json:"trust_pinning"`
	// KeyStore is our addition: private keys on a PKCS#11 token.
	KeyStore struct {
		Type   string `json:"type"`
		PKCS11 struct {
			Module     string          `json:"module"`
			TokenLabel string          `json:"token_label"`
			Roles      json.RawMessage `json:"roles"`
		} `json:"pkcs11"`
	} `json:"key_store"`
}

// settings are the resolved configuration: config file, then flags.
type settings struct {
	ConfigFile    string // "" when none was read
	TrustDir      string
	ServerURL     string
	RootCA        string
	ClientCert    string
	ClientKey     string
	SkipTLSVerify bool
	Mirror        string
	Pinning       trustpin.Config
	KeyStore      keyStoreSettings
}

// loadSettings reads the config file (the -c file, else
// ~/.notary/config.json if it exists) and applies the global flags, as v1's
// parseConfig does. Relative paths in the file resolve against the file's
// directory; relative paths in flags against the working directory.
func (a *app) loadSettings() (*settings, error) {
	home := a.getenv("HOME")
	if home == "" {
		if h, err := os.UserHomeDir(); err == nil {
			home = h
		}
	}
	defaultTrustDir := filepath.Join(home, configDirName)
	s := &settings{TrustDir: defaultTrustDir, ServerURL: defaultServerURL}

	path := a.flags.configFile
	explicit := path != ""
	if !explicit {
		path = filepath.Join(defaultTrustDir, configFileName)
	}
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		unknown, err := configKeys.CheckJSON(data)
		if err != nil {
			return nil, fmt.Errorf("error parsing config file %s: %w", absFromCwd(path), err)
		}
		for _, k := range unknown {
			a.warnf("ignoring unknown key %q in config file %s", k, absFromCwd(path))
		}
		if err := s.applyFile(path, data, home); err != nil {
			return nil, err
		}
	case explicit || !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("error opening config file: %w", err)
	}

	if f := a.flags.trustDir; f != "" {
		s.TrustDir = homeExpand(home, absFromCwd(f))
	}
	if f := a.flags.tlsCA; f != "" {
		s.RootCA = absFromCwd(f)
	}
	if f := a.flags.tlsCert; f != "" {
		s.ClientCert = absFromCwd(f)
	}
	if f := a.flags.tlsKey; f != "" {
		s.ClientKey = absFromCwd(f)
	}
	if f := a.flags.server; f != "" {
		s.ServerURL = f
	}
	if f := a.flags.mirror; f != "" {
		s.Mirror = f
		if !strings.Contains(f, "://") {
			s.Mirror = absFromCwd(f)
		}
	}
	if (s.ClientCert == "") != (s.ClientKey == "") {
		return nil, errors.New("either pass both client key and cert, or neither")
	}
	return s, nil
}

func (s *settings) applyFile(path string, data []byte, home string) error {
	var fc fileConfig
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&fc); err != nil {
		return fmt.Errorf("error parsing config file %s: %w", path, err)
	}
	dir := filepath.Dir(path)
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	rel := func(p string) string {
		if p == "" {
			return ""
		}
		p = homeExpand(home, p)
		if filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	s.ConfigFile = path
	if fc.TrustDir != "" {
		s.TrustDir = rel(fc.TrustDir)
	}
	rs := fc.RemoteServer
	if rs.URL != "" {
		s.ServerURL = rs.URL
	}
	s.RootCA = rel(rs.RootCA)
	s.ClientCert = rel(rs.TLSClientCert)
	s.ClientKey = rel(rs.TLSClientKey)
	if rs.SkipTLSVerify != nil {
		s.SkipTLSVerify = *rs.SkipTLSVerify
	}
	if rs.Mirror != "" {
		s.Mirror = rs.Mirror
		if !strings.Contains(rs.Mirror, "://") {
			s.Mirror = rel(rs.Mirror)
		}
	}
	tp := fc.TrustPinning
	if len(tp.Certs) > 0 {
		s.Pinning.Certs = map[string][]string{}
		for gun, raw := range tp.Certs {
			var ids []string
			if err := json.Unmarshal(raw, &ids); err != nil {
				return fmt.Errorf("invalid format for trust_pinning.certs in %s: %q must map to a list of certificate IDs", path, gun)
			}
			s.Pinning.Certs[gun] = ids
		}
	}
	if len(tp.CA) > 0 {
		s.Pinning.CA = map[string]string{}
		for prefix, p := range tp.CA {
			s.Pinning.CA[prefix] = rel(p)
		}
	}
	s.Pinning.DisableTOFU = tp.DisableTOFU
	ks := fc.KeyStore
	mod := ks.PKCS11.Module
	if strings.ContainsRune(mod, '/') || strings.HasPrefix(mod, "~") {
		mod = rel(mod) // a bare library name is left to the dynamic loader's search
	}
	s.KeyStore = keyStoreSettings{Type: ks.Type, Module: mod, Token: ks.PKCS11.TokenLabel}
	if len(ks.PKCS11.Roles) > 0 {
		var roles []string
		if err := json.Unmarshal(ks.PKCS11.Roles, &roles); err != nil {
			var one string
			if json.Unmarshal(ks.PKCS11.Roles, &one) != nil {
				return fmt.Errorf("invalid key_store.pkcs11.roles in %s: want a list of roles", path)
			}
			roles = strings.Fields(one)
		}
		s.KeyStore.Roles = roles
	}
	return nil
}

// absFromCwd makes a flag's path absolute against the working directory
// (v1 pathRelativeToCwd).
func absFromCwd(p string) string {
	if p == "" || filepath.IsAbs(p) || strings.HasPrefix(p, "~") {
		return p
	}
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return filepath.Clean(p)
}

// homeExpand expands a leading "~/" (v1 homeExpand).
func homeExpand(home, p string) string {
	if p == "" || p[0] != '~' || (len(p) > 1 && p[1] != os.PathSeparator) {
		return p
	}
	return filepath.Join(home, p[1:])
}
