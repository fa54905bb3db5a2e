// Package keydb is the notary-signer's private key database: a
// keystore.Service whose rows are encrypted at rest exactly as Notary
// v0.7.0's signer stores them (table private_keys, JWE compact
// serialisation with PBES2-HS256+A128KW and A256GCM), so a v1 signer
// database can be used in place and rows we write open with any RFC 7516
// library.
//
// Semantics kept from v1 (docs/protocol.md §6.4, §8.4):
//   - Create first returns an existing "pending" key, one never used to
//     sign, for the same role, GUN and key type (lowest key ID first), and
//     only generates a key when there is none.
//   - MarkUsed records a successful signature (last_used), which ends a
//     key's pending state.
//   - Remove is a soft delete (deleted_at); deleted rows keep their key ID.
//   - Each row names the passphrase alias it is encrypted under; the
//     passphrase for alias A comes from NOTARY_SIGNER_<A uppercased> by
//     default. New rows use Options.DefaultAlias.
//
// Beyond v1, Reencrypt moves every row to a new alias in batches while the
// database stays in use.
//
// Backends: NewMemory, and OpenSQL over a database/sql handle for SQLite,
// PostgreSQL or MySQL/MariaDB. This package imports no SQL driver; the
// program (cmd/notary-signer) or the test links the one it needs.
package keydb
