package storage

import (
	"strings"
	"unicode/utf8"
)

// ValidateUpdates checks the arguments of MetaStore.UpdateMany that do not
// depend on stored state: gun and every role must be names that every
// backend stores byte for byte (see ValidName). Implementations call it
// first, so all of them refuse the same inputs with the same
// *InvalidArgumentError. It also refuses, with an *OldVersionError, an
// update that repeats a (role, version) pair given earlier in the call;
// version rules against stored state are the implementation's to check.
func ValidateUpdates(gun string, updates []MetaUpdate) error {
	if !ValidName(gun) {
		return &InvalidArgumentError{Arg: "gun", Value: gun, Want: nameWant}
	}
	for _, u := range updates {
		if !ValidName(u.Role) {
			return &InvalidArgumentError{Arg: "role", Value: u.Role, Want: nameWant}
		}
	}
	return checkBatchVersions(gun, updates)
}

const nameWant = "valid UTF-8 of 1 to 255 bytes without NUL"

// ValidName reports whether s can be stored as a GUN or role name: valid
// UTF-8 (PostgreSQL refuses anything else), no NUL byte (PostgreSQL text
// cannot hold one), and 1 to MaxNameLen bytes (upstream's varchar(255)).
func ValidName(s string) bool {
	return s != "" && len(s) <= MaxNameLen && utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// checkBatchVersions returns an *OldVersionError for the first update that
// repeats a (role, version) pair given earlier in the same call.
func checkBatchVersions(gun string, updates []MetaUpdate) error {
	type key struct {
		role    string
		version int64
	}
	seen := make(map[key]bool, len(updates))
	for _, u := range updates {
		k := key{u.Role, u.Version}
		if seen[k] {
			return &OldVersionError{GUN: gun, Role: u.Role, Version: u.Version}
		}
		seen[k] = true
	}
	return nil
}

// ValidSHA256 reports whether s is spelled as stored SHA-256 sums are:
// 64 lowercase hex digits. Other spellings can never match GetChecksum.
func ValidSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
