package api

import "errors"

// Well-known texts of Notary v0.7.0 that people and scripts recognise:
// the server sends them (inside ValidationError messages), the client
// recognises or repeats them. They are defined here once, for both.
const (
	// TextRootRotationFailed begins v1's trustpinning.ErrRootRotationFail
	// ("could not rotate trust to a new trusted root: <reason>"): a new
	// root not signed by the trusted root's keys.
	TextRootRotationFailed = "could not rotate trust to a new trusted root"
	// TextValidationFailed begins v1's trustpinning.ErrValidationFail:
	// no valid certificate path to a trusted root.
	TextValidationFailed = "could not validate the path to a trusted root"
	// TextCertsMismatch is the reason of TextRootRotationFailed when the
	// new root is not signed by the current root's certificates.
	TextCertsMismatch = "failed to validate data with current trusted certificates"
	// TextNoTimestampKey is the ErrBadRoot message for a root listing a
	// timestamp key the server does not hold (sic: v1's two spaces).
	TextNoTimestampKey = "no  timestamp keys exist on the server"
	// TextCachedTimestamp is v1's client warning when the remote
	// timestamp cannot be read and the cached one is used
	// (client/tufclient.go).
	TextCachedTimestamp = "Error while downloading remote metadata, using cached timestamp"
)

// IsNoTimestampKey reports whether err is the server's refusal of a root
// whose timestamp key it does not hold (ErrBadRoot, TextNoTimestampKey).
func IsNoTimestampKey(err error) bool {
	var ve *ValidationError
	return errors.As(err, &ve) && ve.Name == ErrNameBadRoot && ve.Msg == TextNoTimestampKey
}
