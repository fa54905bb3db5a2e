// Package update is the Notary v1 client update workflow as a library
// (v1 client/tufclient.go and tuf/builder.go; TUF specification section
// 5): it decides what a client may trust about a collection, given a
// remote that serves its metadata and a cache of what was trusted before.
//
// It has two layers:
//
//   - TrustedSet, an ordered state machine that takes metadata bytes one
//     role at a time (root and its rotations, timestamp, snapshot, targets,
//     delegations), verifies each against what it already trusts and
//     refuses calls out of order. It does no I/O and never reads the clock.
//   - Updater, which drives a TrustedSet over two small interfaces the
//     caller provides: Remote (a notary server, a static mirror, see
//     DirRemote) and Cache (the trust directory, see MemoryCache). It
//     returns a Verified, which resolves targets through nested delegations.
//
// Every attack the TUF specification names is refused with a typed error
// (see errors.go and the tuf package's errors): rollback
// (*tuf.LowVersionError), freeze (*tuf.ExpiredError), mix-and-match and
// malicious mirrors (*tuf.HashMismatchError), endless data
// (*TooLargeError), arbitrary targets and forged metadata
// (*tuf.ThresholdError), and a fast-forward through a compromised key is
// recovered from by rotating that key in root (TUF 5.3.11).
//
// The time to verify against is always an argument: this package never
// calls time.Now.
package update
