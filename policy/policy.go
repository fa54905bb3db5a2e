// Package policy is the enforcement policy shared by notary-proxy and
// notary-admission: it parses the policy file, matches full image names
// (registry host[:port]/repository) against its rules, and decides
// whether an image may be pulled, resolving a tag to the digest its trust
// data signs. It serves nothing over HTTP.
//
// Trust decisions stay in package update, asked through package client
// (the TUF workflow, the trust directory's cache, trust pinning); the
// Docker CLI's target rules come from package image. This package only
// caches what they verified and compares digests.
package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"
)

// Mode says what a rule does with an image that fails its checks.
type Mode string

const (
	// ModeEnforce refuses it.
	ModeEnforce Mode = "enforce"
	// ModeAudit allows it and reports it (Decision.Audit).
	ModeAudit Mode = "audit"
)

// A Policy is the parsed policy file.
//
//	{"rules": [{"images": "reg.example.com:5000/org/*",
//	            "trust": {"server": "https://notary.example.com:4443",
//	                      "ca": "/etc/notary/ca.crt", "tofu": true},
//	            "roles": ["targets/releases"], "mode": "enforce"}],
//	 "default": "deny"}
type Policy struct {
	Rules []Rule `json:"rules"`
	// Default is what happens to an image no rule matches: "deny" (the
	// default when left out) or "allow".
	Default string `json:"default,omitempty"`
}

// A Rule applies to the images its pattern matches.
type Rule struct {
	// Images is a pattern over the full image name host[:port]/repository
	// (no tag or digest): "*" matches any run of characters, "/"
	// included. See Match for which rule wins.
	Images string `json:"images"`
	Trust  Trust  `json:"trust"`
	// Roles must have signed the tag, tried in order (the first that
	// signs it decides). Left out: the Docker CLI's rule,
	// "targets/releases" then "targets".
	Roles []string `json:"roles,omitempty"`
	// Threshold, when more than 1, requires that many of Roles to sign
	// the same digest (and length) for the tag.
	Threshold int `json:"threshold,omitempty"`
	// Mode is "enforce" (the default) or "audit".
	Mode Mode `json:"mode,omitempty"`
}

// Trust says where an image's trust data comes from and how its first
// root is trusted. Exactly one of Server and Mirror; exactly one of TOFU,
// RootKeys, RootCerts and RootCA.
type Trust struct {
	// Server is a notary server URL (https://host[:port]).
	Server string `json:"server,omitempty"`
	// Mirror is a static archive or mirror of the collections' files:
	// an http(s) base URL, a file:// URL or a folder, holding
	// <gun>/<role>.json (see client.MirrorRemote).
	Mirror string `json:"mirror,omitempty"`
	// CA is a PEM file of CA certificates for TLS to Server or Mirror, in
	// addition to the system roots.
	CA string `json:"ca,omitempty"`
	// TOFU trusts the first root seen for a GUN (then pins it in the
	// trust directory's cache). Only if asked for.
	TOFU bool `json:"tofu,omitempty"`
	// RootKeys are the TUF IDs of the root keys (certificates) a GUN's
	// root must be signed with.
	RootKeys []string `json:"root_keys,omitempty"`
	// RootCerts are PEM files of the root certificates (their TUF IDs are
	// pinned as RootKeys are).
	RootCerts []string `json:"root_certs,omitempty"`
	// RootCA is a PEM file of a CA the root certificates must chain to.
	RootCA string `json:"root_ca,omitempty"`
	// Refresh, when set ("5m"), re-reads the trust data that often even
	// when the cached timestamp has not expired yet, so a revocation is
	// seen sooner. Left out: trust data is re-read when the earliest of
	// its timestamp, snapshot and targets expires.
	Refresh Duration `json:"refresh,omitempty"`
}

// Duration is a time.Duration written as a Go duration string ("30s").
type Duration time.Duration

// UnmarshalJSON parses "30s", "5m", ...
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration is a string such as \"5m\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	if v < 0 {
		return fmt.Errorf("negative duration %q", s)
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// ErrInvalidPolicy: the policy file cannot be used.
var ErrInvalidPolicy = errors.New("invalid policy")

// InvalidPolicyError says what is wrong with a policy, and where.
type InvalidPolicyError struct {
	Where  string // "rules[0].trust", ...
	Reason string
}

func (e *InvalidPolicyError) Error() string {
	if e.Where == "" {
		return "invalid policy: " + e.Reason
	}
	return fmt.Sprintf("invalid policy: %s: %s", e.Where, e.Reason)
}

// Unwrap returns ErrInvalidPolicy.
func (e *InvalidPolicyError) Unwrap() error { return ErrInvalidPolicy }

// maxPolicySize bounds a policy file.
const maxPolicySize = 4 << 20

// Parse reads a policy from JSON. Unknown keys are refused (a misspelt
// "roles" must not silently mean the default), and every rule is
// checked (Validate).
func Parse(data []byte) (*Policy, error) {
	if len(data) > maxPolicySize {
		return nil, &InvalidPolicyError{Reason: fmt.Sprintf("larger than %d bytes", maxPolicySize)}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var p Policy
	if err := dec.Decode(&p); err != nil {
		return nil, &InvalidPolicyError{Reason: err.Error()}
	}
	if dec.More() {
		return nil, &InvalidPolicyError{Reason: "trailing data after the policy object"}
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

// Load reads and parses the policy file at path.
func Load(path string) (*Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	return Parse(data)
}

// FromConfig reads a policy given in a program's config file: either the
// policy object inline, or a JSON string naming a policy file.
func FromConfig(raw json.RawMessage) (*Policy, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, &InvalidPolicyError{Reason: "no policy given"}
	}
	if raw[0] == '"' {
		var path string
		if err := json.Unmarshal(raw, &path); err != nil {
			return nil, &InvalidPolicyError{Reason: err.Error()}
		}
		return Load(path)
	}
	return Parse(raw)
}

// Validate checks every rule: a pattern, one trust source, one way to
// trust the first root, a known mode, a usable threshold.
func (p *Policy) Validate() error {
	switch p.Default {
	case "", "deny", "allow":
	default:
		return &InvalidPolicyError{Where: "default", Reason: fmt.Sprintf("%q: write \"deny\" or \"allow\"", p.Default)}
	}
	for i := range p.Rules {
		if err := p.Rules[i].validate(); err != nil {
			var ie *InvalidPolicyError
			if errors.As(err, &ie) {
				ie.Where = fmt.Sprintf("rules[%d]%s", i, ie.Where)
			}
			return err
		}
	}
	return nil
}

func (r *Rule) validate() error {
	bad := func(where, format string, args ...any) error {
		return &InvalidPolicyError{Where: where, Reason: fmt.Sprintf(format, args...)}
	}
	if strings.TrimSpace(r.Images) == "" {
		return bad(".images", "a pattern is required, e.g. \"registry.example.com/team/*\"")
	}
	if strings.ContainsAny(r.Images, "@ \t") || strings.Contains(r.Images, "://") {
		return bad(".images", "%q: a pattern is host[:port]/repository with \"*\", no scheme, tag or digest", r.Images)
	}
	switch r.Mode {
	case "", ModeEnforce, ModeAudit:
	default:
		return bad(".mode", "%q: write \"enforce\" or \"audit\"", r.Mode)
	}
	t := r.Trust
	switch {
	case t.Server == "" && t.Mirror == "":
		return bad(".trust", "name a notary \"server\" or a static \"mirror\"")
	case t.Server != "" && t.Mirror != "":
		return bad(".trust", "name either \"server\" or \"mirror\", not both")
	}
	if t.Server != "" {
		u, err := url.Parse(t.Server)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return bad(".trust.server", "%q is not an http(s)://host[:port] URL", t.Server)
		}
	}
	n := 0
	for _, set := range []bool{t.TOFU, len(t.RootKeys) > 0, len(t.RootCerts) > 0, t.RootCA != ""} {
		if set {
			n++
		}
	}
	switch {
	case n == 0:
		return bad(".trust", "say how a GUN's first root is trusted: \"root_keys\", \"root_certs\", \"root_ca\", or \"tofu\": true")
	case n > 1:
		return bad(".trust", "use one of \"tofu\", \"root_keys\", \"root_certs\" and \"root_ca\"")
	}
	for i, role := range r.Roles {
		if role != "targets" && !strings.HasPrefix(role, "targets/") {
			return bad(fmt.Sprintf(".roles[%d]", i), "%q is not a targets role (\"targets\" or \"targets/<name>\")", role)
		}
	}
	roles := len(r.Roles)
	if roles == 0 {
		roles = 2
	}
	if r.Threshold < 0 || r.Threshold > roles {
		return bad(".threshold", "%d: must be between 1 and the number of roles (%d)", r.Threshold, roles)
	}
	return nil
}

// mode is the rule's mode, enforce when left out.
func (r *Rule) mode() Mode {
	if r.Mode == "" {
		return ModeEnforce
	}
	return r.Mode
}
