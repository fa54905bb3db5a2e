// Package tuf is the Notary v1 wire model of The Update Framework: the
// signed envelope, the root, targets (and delegated targets), snapshot and
// timestamp roles, and the rules that decide whether a piece of metadata can
// be trusted. It does no I/O and never reads the clock: callers pass the
// time to check expiry against.
package tuf
