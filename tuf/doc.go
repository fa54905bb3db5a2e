// Package tuf is the Notary v1 wire model of The Update Framework: the
// signed envelope, the root, targets (and delegated targets), snapshot and
// timestamp roles, and the rules that decide whether a piece of metadata can
// be trusted. It does no I/O and never reads the clock: callers pass the
// time to check expiry against.
//
// Reading metadata is three separate steps, each with typed errors:
//
//   - parse: ParseRoot, ParseTargets, ParseSnapshot, ParseTimestamp (or
//     ParseRole) check the file's structure strictly (one object with
//     exactly "signed" and "signatures", no duplicate keys anywhere, the
//     role's required fields) and return the body and its Envelope;
//   - verify: VerifySignatures (or RoleKeys.Verify, with keys from
//     (*Root).RoleKeys or (*Targets).DelegatedRole) checks the threshold of
//     distinct valid signatures over the canonical form of "signed";
//     VerifyRootRotation checks a new root against the trusted one;
//   - check: CheckExpiry, CheckVersion, FileMeta.Check (hashes and length
//     of a file named by its parent).
//
// Writing is Sign (canonical body, signatures, exact v1 file bytes) or
// MarshalEnvelope for an envelope already signed. Walk enumerates
// delegated roles in v1's priority order for callers that fetch them.
//
// Errors unwrap to the Err* sentinels (errors.Is) and carry the role and,
// for malformed files, the field at fault (errors.As with *MalformedError,
// *ThresholdError, ...).
package tuf
