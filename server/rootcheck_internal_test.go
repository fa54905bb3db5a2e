package server

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/notary-go/notary/api"
	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/trustpin"
	"github.com/notary-go/notary/tuf"
)

// TestRootRuleMessage pins the one translation of trustpin's root rules
// into the messages v1's server sends (and v1 clients and scripts match).
func TestRootRuleMessage(t *testing.T) {
	ve := func(rule, err error) error { return &trustpin.ValidationError{GUN: "g", Rule: rule, Err: err} }
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"NoValidLeaf", ve(trustpin.ErrNoValidLeaf, nil), api.TextValidationFailed + ": unable to retrieve valid leaf certificates"},
		{"NotSignedByStoredRoot", ve(trustpin.ErrRootRotation, &tuf.RootRotationError{Trusted: 1, Err: errors.New("x")}), api.TextRootRotationFailed + ": " + api.TextCertsMismatch},
		{"StoredRootUnusable", ve(trustpin.ErrRootRotation, errors.New("x")), api.TextValidationFailed + ": could not retrieve trusted certs from previous root role data"},
		{"NotSelfSigned", ve(trustpin.ErrRootSignatures, errors.New("x")), api.TextValidationFailed + ": failed to validate integrity of roots"},
		{"NoUsableCert", ve(trustpin.ErrNotPinned, nil), api.TextValidationFailed + ": unable to match any certificates to trust_pinning config"},
		{"Wrapped", errors.Join(errors.New("ctx"), ve(trustpin.ErrNoValidLeaf, nil)), api.TextValidationFailed + ": unable to retrieve valid leaf certificates"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := rootRuleMessage(tc.err); got != tc.want {
				t.Errorf("rootRuleMessage = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestCheckRootRebuildsCertKeys: the server validates an uploaded root
// with trustpin's rules, so it refuses what every client refuses. Here the
// root certificate's PEM is not in Go's encoding (it carries a header):
// v1 and trustpin re-encode the certificate before counting signatures,
// so the signature under the listed key ID does not count. The server's
// own copy of the rules used to accept this root, which clients then
// could not use.
func TestCheckRootRebuildsCertKeys(t *testing.T) {
	const gun = "example.com/rootcheck"
	now := time.Now()
	k, err := keys.Generate(keys.ECDSA)
	if err != nil {
		t.Fatal(err)
	}
	rootKey, err := k.WithRootCertificate(gun, now, now.Add(keys.RootCertificateValidity))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		odd  bool
		want string // "" for accepted
	}{
		{"GoEncoding", false, ""},
		{"PEMWithHeader", true, msgValidationFail + "failed to validate integrity of roots"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			signer, pub := rootKey, rootKey.Public()
			if tc.odd {
				pub.Public = bytes.Replace(pub.Public, []byte("-----BEGIN CERTIFICATE-----\n"), []byte("-----BEGIN CERTIFICATE-----\nComment: x\n\n"), 1)
				if signer, err = rootKey.WithPublic(pub); err != nil {
					t.Fatal(err)
				}
			}
			body := &tuf.Root{Type: tuf.TypeRoot, Version: 1, Expires: now.Add(time.Hour),
				Keys:  map[string]keys.PublicKey{pub.ID(): pub},
				Roles: map[string]*tuf.RootRole{},
			}
			for _, role := range tuf.BaseRoles {
				body.Roles[role] = &tuf.RootRole{KeyIDs: []string{pub.ID()}, Threshold: 1}
			}
			_, data, err := tuf.Sign(context.Background(), body, tuf.LocalSigner(signer))
			if err != nil {
				t.Fatal(err)
			}
			root, env, err := tuf.ParseRoot(data)
			if err != nil {
				t.Fatal(err)
			}
			err = checkRoot(gun, nil, env, root, now)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("checkRoot = %v, want accepted", err)
			case tc.want != "" && (err == nil || err.Error() != tc.want):
				t.Fatalf("checkRoot = %v, want %q", err, tc.want)
			}
		})
	}
}
