package main

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/notary-go/notary/signer"
)

// authzUsage documents the authorization and signing sections (part of
// usageText).
const authzUsage = `
Authorization (not in v0.7.0, whose signer lets any certificate from the
client CA use, read and delete every collection's keys). Without an
"authorization" section every client may do everything, as v0.7.0, and the
signer logs a warning at start. With one, each client certificate, named by
its subject common name or a subject alternative name (DNS, e-mail, URI),
may do only the listed operations on keys of GUNs starting with one of its
prefixes ("" is every GUN); a certificate no entry names may do nothing:

  "authorization": {
    "clients": [
      {"name": "notary-server", "gun_prefixes": [""],
       "operations": ["create", "info", "sign"]},
      {"name": "tenant-a.example", "gun_prefixes": ["registry.example.com/tenant-a/"],
       "operations": ["create", "info", "sign", "delete"]}
    ]
  }

  operations: create (CreateKey), info (GetKeyInfo), sign (Sign), delete (DeleteKey).
  A notary-server needs create, info and sign.

Signing rules (always on): the signer holds only timestamp and snapshot keys
(CreateKey refuses root, targets and delegations) and Sign signs only the
canonical JSON "signed" body of the key's own role, version 1..2^31-1, at
most signing.max_version_jump above the highest version this process
signed with that key, not yet expired and expiring within:
  signing.max_timestamp_expiry   default 8760h (1 year; v0.7.0's server uses 14 days)
  signing.max_snapshot_expiry    default 87600h (10 years; v0.7.0's server uses 3 years)
  signing.max_version_jump       default 1000 (0: no bound)
`

// authzConfig is the authorization policy and signing limits.
type authzConfig struct {
	policy *signer.Policy // nil: allow all (v0.7.0)
	limits signer.SignLimits
}

// parseAuthz reads the "authorization" and "signing" sections.
func parseAuthz(rc *rawConfig) (*authzConfig, error) {
	ac := &authzConfig{limits: signer.DefaultSignLimits}
	var errs []error
	if d, set, err := rc.Duration("signing.max_timestamp_expiry"); err != nil || set {
		errs = append(errs, err, positive("signing.max_timestamp_expiry", int64(d), err))
		ac.limits.MaxTimestampExpiry = d
	}
	if d, set, err := rc.Duration("signing.max_snapshot_expiry"); err != nil || set {
		errs = append(errs, err, positive("signing.max_snapshot_expiry", int64(d), err))
		ac.limits.MaxSnapshotExpiry = d
	}
	if n, set, err := rc.Int("signing.max_version_jump"); err != nil || set {
		errs = append(errs, err)
		if err == nil && n < 0 {
			errs = append(errs, errors.New("config: signing.max_version_jump must not be negative"))
		}
		ac.limits.MaxVersionJump = n
	}

	v, ok := rc.FileValue("authorization")
	if ok {
		p, err := parsePolicy(v)
		errs = append(errs, err)
		ac.policy = p
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return ac, nil
}

func positive(key string, n int64, err error) error {
	if err == nil && n <= 0 {
		return fmt.Errorf("config: %s must be positive", key)
	}
	return nil
}

// parsePolicy reads {"clients": [{"name", "gun_prefixes", "operations"}]}.
func parsePolicy(v any) (*signer.Policy, error) {
	sec, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New(`config: authorization must be an object: {"clients": [...]}`)
	}
	for k := range sec {
		if k != "clients" {
			return nil, fmt.Errorf("config: authorization.%s is not a known key (want clients)", k)
		}
	}
	list, ok := sec["clients"].([]any)
	if !ok {
		return nil, errors.New(`config: authorization.clients must be a list of {"name", "gun_prefixes", "operations"}`)
	}
	p := &signer.Policy{}
	for i, e := range list {
		o, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("config: authorization.clients[%d] must be an object", i)
		}
		var g signer.Grant
		for k, val := range o {
			var err error
			switch k {
			case "name":
				s, isStr := val.(string)
				if !isStr {
					err = errors.New("must be a string")
				}
				g.Client = strings.TrimSpace(s)
			case "gun_prefixes":
				g.GUNPrefixes, err = stringList(val)
			case "operations":
				g.Operations, err = stringList(val)
			default:
				err = errors.New("is not a known key (want name, gun_prefixes, operations)")
			}
			if err != nil {
				return nil, fmt.Errorf("config: authorization.clients[%d].%s %v", i, k, err)
			}
		}
		p.Grants = append(p.Grants, g)
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("config: authorization: %w", err)
	}
	return p, nil
}

func stringList(v any) ([]string, error) {
	l, ok := v.([]any)
	if !ok {
		return nil, errors.New("must be a list of strings")
	}
	out := make([]string, 0, len(l))
	for _, e := range l {
		s, ok := e.(string)
		if !ok {
			return nil, errors.New("must be a list of strings")
		}
		out = append(out, s)
	}
	return out, nil
}

// logAuthz says at start which authorization applies; without a policy,
// loudly.
func logAuthz(ac *authzConfig, log *slog.Logger) {
	if ac.policy == nil {
		log.Warn("NO AUTHORIZATION POLICY: every client certificate from the client CA may create, read, use and delete " +
			"the keys of every GUN, as in v0.7.0. Set an \"authorization\" section (see notary-signer -help) to give each " +
			"client only its own GUNs")
		return
	}
	for _, g := range ac.policy.Grants {
		log.Info("authorization grant", "client", g.Client, "gun_prefixes", g.GUNPrefixes, "operations", g.Operations)
	}
}

// withAuthzUsage inserts authzUsage into the serve usage, before its
// flags.
func withAuthzUsage(usage string) string {
	const flags = "\nFlags:\n"
	if i := strings.LastIndex(usage, flags); i >= 0 {
		return usage[:i] + authzUsage + usage[i:]
	}
	return usage + authzUsage
}
