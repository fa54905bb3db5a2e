package tuf

import "fmt"

// VersionError reports a version that breaks a publishing rule: Stored is
// the version already held (0 when none), Version the new one.
type VersionError struct {
	Role    string
	Version int64
	Stored  int64
	Reason  string
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("tuf: %s version %d: %s", roleLabel(e.Role), e.Version, e.Reason)
}

func (e *VersionError) Unwrap() error { return ErrLowVersion }

// CheckNewerVersion reports a *VersionError unless version is strictly
// greater than stored, the highest version already held for the role
// (v1 §4.3: the server rejects a row whose version is not above every
// stored one). Versions need not be consecutive.
func CheckNewerVersion(role string, version, stored int64) error {
	if version <= stored {
		return &VersionError{Role: role, Version: version, Stored: stored,
			Reason: fmt.Sprintf("must be greater than the stored version %d", stored)}
	}
	return nil
}

// CheckRootUpdateVersion applies v1's rule for a root in an upload (§4.1
// step 2): its version must equal the current root's version or exceed it
// by one. With no current root, current counts as 1, so a first root may
// be version 1 or 2. The reason reproduces v1's message ("Root
// modifications must increment the version. Current N, new M").
func CheckRootUpdateVersion(current int64, haveCurrent bool, version int64) error {
	if !haveCurrent {
		current = 1
	}
	if version != current && version != current+1 {
		return &VersionError{Role: RoleRoot, Version: version, Stored: current,
			Reason: fmt.Sprintf("Root modifications must increment the version. Current %d, new %d", current, version)}
	}
	return nil
}
