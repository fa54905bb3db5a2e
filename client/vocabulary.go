package client

import (
	"github.com/notary-go/notary/api"
	"github.com/notary-go/notary/collection"
	"github.com/notary-go/notary/tuf"
)

// The error vocabulary of the packages under client, re-exported so that a
// program (the notary CLI among them) can match every error a Repository
// returns with errors.As and errors.Is without importing api, collection
// or tuf.

// ValidationError is why the server refused a publish: v1's validation
// error (Name is one of the Validation* constants). It is
// api.ValidationError.
type ValidationError = api.ValidationError

// Names of a ValidationError (v1 tuf/validation).
const (
	ValidationGeneric      = api.ErrNameValidation
	ValidationBadHierarchy = api.ErrNameBadHierarchy
	ValidationBadRoot      = api.ErrNameBadRoot
	ValidationBadTargets   = api.ErrNameBadTargets
	ValidationBadSnapshot  = api.ErrNameBadSnapshot
)

// NoSigningKeysError: a publish would change a role none of whose
// private keys is in the key store. It is collection.NoSigningKeysError.
type NoSigningKeysError = collection.NoSigningKeysError

// InsufficientSignaturesError: the key store holds fewer of a role's keys
// than its threshold. It is collection.InsufficientSignaturesError.
type InsufficientSignaturesError = collection.InsufficientSignaturesError

// Role names, as errors (ExpiredMetadataError.Role, RotationError.Role)
// report them.
const (
	RoleRoot      = tuf.RoleRoot
	RoleTargets   = tuf.RoleTargets
	RoleSnapshot  = tuf.RoleSnapshot
	RoleTimestamp = tuf.RoleTimestamp
)

// IsTargetsRole reports whether role is "targets" or a delegation.
func IsTargetsRole(role string) bool { return tuf.IsTargetsRole(role) }
