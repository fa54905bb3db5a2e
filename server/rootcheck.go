package server

import (
	"errors"
	"time"

	"github.com/notary-go/notary/api"
	"github.com/notary-go/notary/trustpin"
	"github.com/notary-go/notary/tuf"
)

// Messages of v1's trustpinning errors (ErrValidationFail,
// ErrRootRotationFail), kept so v1 clients print what they always printed.
const (
	msgValidationFail = api.TextValidationFailed + ": "
	msgRotationFail   = api.TextRootRotationFailed + ": "
)

// tofu is the pinning the server applies to uploads: v1's server calls
// trustpinning.ValidateRoot with an empty TrustPinConfig, i.e. trust on
// first use with the stored root as the pin.
var tofu = trustpin.Config{}

// checkRoot applies v1's root rules for an upload (§4.1 step 2, §3.5,
// §4.5) through trustpin, the one owner of the root and certificate
// rules, then checks root's own expiry:
//
//   - the new root's root keys must hold acceptable certificates for gun;
//   - with a stored root, the new root must be signed by the stored root's
//     certificate keys (expiry not checked) meeting the stored threshold;
//   - it must be signed by its own valid certificate keys meeting its own
//     threshold;
//   - it must not be expired.
//
// The returned error's text becomes the ErrBadRoot message: a rule broken
// is reported with v1's message (rootRuleMessage).
func checkRoot(gun string, prev *tuf.Root, env *tuf.Envelope, root *tuf.Root, now time.Time) error {
	ch, err := tofu.Checker(gun)
	if err != nil {
		return err // an empty Config has nothing to load
	}
	if err := ch.ValidateRoot(prev, root, env, now); err != nil {
		return errors.New(rootRuleMessage(err))
	}
	return tuf.CheckExpiry(tuf.RoleRoot, root.Expires, now)
}

// rootRuleMessage maps a trustpin rule error to the text v1's server
// sends for it (trustpinning's ErrValidationFail and ErrRootRotationFail
// reasons): the one place the server translates root rules.
func rootRuleMessage(err error) string {
	var ve *trustpin.ValidationError
	if !errors.As(err, &ve) {
		return msgValidationFail + err.Error()
	}
	switch {
	case errors.Is(ve.Err, tuf.ErrRootRotation):
		return msgRotationFail + api.TextCertsMismatch
	case ve.Rule == trustpin.ErrRootRotation:
		// The stored root has no usable certificate to check the new one.
		return msgValidationFail + "could not retrieve trusted certs from previous root role data"
	case ve.Rule == trustpin.ErrNoValidLeaf:
		return msgValidationFail + "unable to retrieve valid leaf certificates"
	case ve.Rule == trustpin.ErrRootSignatures:
		return msgValidationFail + "failed to validate integrity of roots"
	default:
		// ErrNotPinned's text is v1's "unable to match any certificates
		// to trust_pinning config".
		return msgValidationFail + ve.Rule.Error()
	}
}
