package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/notary-go/notary/policy"
	"github.com/notary-go/notary/registry"
)

// Config is the -config file.
//
//	{"listen": ":5000", "tls_cert": "proxy.crt", "tls_key": "proxy.key",
//	 "upstream": {"url": "https://reg.example.com:5000", "ca": "reg-ca.crt",
//	              "credentials": {"file": "/etc/notary-proxy/upstream.json"}},
//	 "trust_dir": "/var/lib/notary-proxy",
//	 "policy": "/etc/notary-proxy/policy.json"}
type Config struct {
	Listen   string   `json:"listen"`
	TLSCert  string   `json:"tls_cert,omitempty"`
	TLSKey   string   `json:"tls_key,omitempty"`
	Upstream Upstream `json:"upstream"`
	// TrustDir caches verified trust data (it keeps serving through a
	// trust server outage and across restarts). Default:
	// /var/lib/notary-proxy.
	TrustDir string `json:"trust_dir,omitempty"`
	// Policy is the policy object inline, or a path to its file.
	Policy json.RawMessage `json:"policy"`
	// ClientAuth, when set, requires pull clients to authenticate.
	ClientAuth *ClientAuth `json:"client_auth,omitempty"`
	// LogLevel is debug, info (default), warn or error.
	LogLevel string `json:"log_level,omitempty"`
}

// ClientAuth is how pull clients authenticate to the proxy, as to a
// registry: Basic, checked against an htpasswd file of bcrypt hashes, or
// bearer tokens from a token server (the registry token spec). Exactly one
// of the two.
type ClientAuth struct {
	Htpasswd string     `json:"htpasswd,omitempty"`
	Token    *TokenAuth `json:"token,omitempty"`
}

// TokenAuth is the token server the proxy sends clients to, and what its
// tokens must carry: the same four options as notary-server's (and the
// distribution registry's) token auth.
type TokenAuth struct {
	// Realm is the token server's URL, named in the challenge.
	Realm string `json:"realm"`
	// Service is the audience clients ask tokens for ("aud").
	Service string `json:"service"`
	// Issuer is the tokens' "iss".
	Issuer string `json:"issuer"`
	// RootCertBundle is a PEM file of the certificates token signing
	// chains must lead to.
	RootCertBundle string `json:"rootcertbundle"`
}

// Upstream is the registry the proxy forwards to.
type Upstream struct {
	URL string `json:"url"`
	// Name is the registry name images carry, for the policy and their
	// GUN, when it is not the URL's host[:port]: "docker.io" for
	// https://registry-1.docker.io.
	Name        string       `json:"name,omitempty"`
	CA          string       `json:"ca,omitempty"`
	Credentials *Credentials `json:"credentials,omitempty"`
}

// Credentials for the upstream come from a file or the environment, never
// from the command line or the config file itself.
type Credentials struct {
	// File holds {"username": "...", "password": "..."} (mode 0600).
	File string `json:"file,omitempty"`
	// UsernameEnv and PasswordEnv name environment variables.
	UsernameEnv string `json:"username_env,omitempty"`
	PasswordEnv string `json:"password_env,omitempty"`
}

// loadConfig reads and checks the config file.
func loadConfig(path string) (*Config, *policy.Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	return parseConfig(data)
}

func parseConfig(data []byte) (*Config, *policy.Policy, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var c Config
	if err := dec.Decode(&c); err != nil {
		return nil, nil, fmt.Errorf("config: %w", err)
	}
	if c.Listen == "" {
		return nil, nil, errors.New("config: listen is required (e.g. \":5000\")")
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return nil, nil, errors.New("config: tls_cert and tls_key go together")
	}
	if _, err := c.Upstream.host(); err != nil {
		return nil, nil, err
	}
	if c.TrustDir == "" {
		c.TrustDir = "/var/lib/notary-proxy"
	}
	if a := c.ClientAuth; a != nil && (a.Htpasswd == "") == (a.Token == nil) {
		return nil, nil, errors.New(`config: client_auth takes exactly one of "htpasswd" and "token"`)
	}
	pol, err := policy.FromConfig(c.Policy)
	if err != nil {
		return nil, nil, fmt.Errorf("config: policy: %w", err)
	}
	return &c, pol, nil
}

// host is the upstream's host[:port]: the first component of the image
// names the policy sees.
func (u Upstream) host() (string, error) {
	p, err := url.Parse(u.URL)
	if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" || (p.Path != "" && p.Path != "/") {
		return "", fmt.Errorf("config: upstream.url must be http(s)://host[:port], got %q", u.URL)
	}
	if u.Name != "" {
		if strings.ContainsAny(u.Name, "/@ ") {
			return "", fmt.Errorf("config: upstream.name must be host[:port], got %q", u.Name)
		}
		return u.Name, nil
	}
	return p.Host, nil
}

// endpoint is the host[:port] of the upstream URL, where requests go.
func (u Upstream) endpoint() string {
	p, _ := url.Parse(u.URL)
	return p.Host
}

// credentialFunc returns the upstream credentials as configured.
func (u Upstream) credentialFunc(getenv func(string) string) (registry.CredentialFunc, error) {
	if u.Credentials == nil {
		return nil, nil
	}
	if _, err := u.host(); err != nil {
		return nil, err
	}
	host := u.endpoint()
	var cred registry.Credential
	switch c := u.Credentials; {
	case c.File != "":
		data, err := os.ReadFile(c.File)
		if err != nil {
			return nil, fmt.Errorf("upstream credentials: %w", err)
		}
		var f struct {
			Username string `json:"username"`
			Password string `json:"password"`
		}
		if err := json.Unmarshal(data, &f); err != nil {
			return nil, fmt.Errorf("upstream credentials %s: not {\"username\", \"password\"} JSON", c.File)
		}
		cred = registry.Credential{Username: f.Username, Password: f.Password}
	case c.UsernameEnv != "" || c.PasswordEnv != "":
		cred = registry.Credential{Username: getenv(c.UsernameEnv), Password: getenv(c.PasswordEnv)}
		if cred.Password == "" {
			return nil, fmt.Errorf("upstream credentials: $%s is empty", c.PasswordEnv)
		}
	default:
		return nil, errors.New("upstream credentials: give \"file\" or \"username_env\"/\"password_env\"")
	}
	return registry.StaticCredentials(host, cred), nil
}

// insecure lists the upstream host when its URL is plain http.
func (u Upstream) insecure() []string {
	if strings.HasPrefix(u.URL, "http://") {
		return []string{u.endpoint(), u.Name}
	}
	return nil
}
