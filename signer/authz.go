package signer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
)

// Operations a Grant allows, one per KeyManagement and Signer method.
const (
	OpCreate = "create" // KeyManagement.CreateKey
	OpInfo   = "info"   // KeyManagement.GetKeyInfo
	OpSign   = "sign"   // Signer.Sign
	OpDelete = "delete" // KeyManagement.DeleteKey
)

// AllOps lists every operation.
var AllOps = []string{OpCreate, OpInfo, OpSign, OpDelete}

// A Grant allows the client whose verified certificate carries Client (as
// its subject common name or as one of its subject alternative names:
// DNS name, e-mail address or URI) the Operations on keys of GUNs that
// start with one of GUNPrefixes. An empty prefix matches every GUN.
type Grant struct {
	Client      string
	GUNPrefixes []string
	Operations  []string
}

// A Policy is the signer's authorization model: which client may do what
// to the keys of which GUNs (issue 18 item 2; v0.7.0 lets any certificate
// from the client CA use every key). A nil *Policy allows everything, as
// v0.7.0 does. Grants add up; a client no grant names may do nothing.
type Policy struct {
	Grants []Grant
}

// Validate checks every grant names a client, at least one GUN prefix and
// known operations.
func (p *Policy) Validate() error {
	if p == nil {
		return nil
	}
	var errs []error
	for i, g := range p.Grants {
		if strings.TrimSpace(g.Client) == "" {
			errs = append(errs, fmt.Errorf("grant %d: no client name", i))
		}
		if len(g.GUNPrefixes) == 0 {
			errs = append(errs, fmt.Errorf("grant %d (%s): no GUN prefixes (use \"\" for every GUN)", i, g.Client))
		}
		if len(g.Operations) == 0 {
			errs = append(errs, fmt.Errorf("grant %d (%s): no operations", i, g.Client))
		}
		for _, op := range g.Operations {
			if !slices.Contains(AllOps, op) {
				errs = append(errs, fmt.Errorf("grant %d (%s): unknown operation %q (want one of %s)", i, g.Client, op, strings.Join(AllOps, ", ")))
			}
		}
	}
	return errors.Join(errs...)
}

// Allows reports whether a client known by names may do op on a key of gun.
func (p *Policy) Allows(names []string, op, gun string) bool {
	if p == nil {
		return true
	}
	for _, g := range p.Grants {
		if !slices.Contains(names, g.Client) || !slices.Contains(g.Operations, op) {
			continue
		}
		for _, prefix := range g.GUNPrefixes {
			if strings.HasPrefix(gun, prefix) {
				return true
			}
		}
	}
	return false
}

// knows reports whether any grant names one of names.
func (p *Policy) knows(names []string) bool {
	if p == nil {
		return true
	}
	for _, g := range p.Grants {
		if slices.Contains(names, g.Client) {
			return true
		}
	}
	return false
}

// PeerNames returns the names a Policy matches for the caller of ctx: the
// subject common name and the subject alternative names of its verified
// client certificate; nil without one.
func PeerNames(ctx context.Context) []string {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return nil
	}
	ti, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok || len(ti.State.VerifiedChains) == 0 || len(ti.State.VerifiedChains[0]) == 0 {
		return nil
	}
	leaf := ti.State.VerifiedChains[0][0]
	var names []string
	if leaf.Subject.CommonName != "" {
		names = append(names, leaf.Subject.CommonName)
	}
	names = append(names, leaf.DNSNames...)
	names = append(names, leaf.EmailAddresses...)
	for _, u := range leaf.URIs {
		names = append(names, u.String())
	}
	return names
}
