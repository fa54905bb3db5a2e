package server

import (
	"errors"
	"testing"

	"github.com/notary-go/notary/api"
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
