// Package keys models the public and private keys of Notary v1: ed25519,
// ecdsa (P-256 for keys we make), rsa, and the ecdsa-x509 / rsa-x509 forms
// whose public value is a PEM certificate. It computes key IDs exactly as v1
// does and signs and verifies with the v1 methods, refusing any method that
// does not belong to the key's type (Notary's 2015 audit, finding NCC-1).
package keys
