// Package client is the Notary client library: a Repository per trusted
// collection (GUN) that stages changes, publishes them to a notary server,
// rotates keys, manages delegations, and reads verified targets from the
// server, a static mirror or the local cache. It is a drop-in for Notary
// v0.7.0's client package, and shares its on-disk trust directory (v1
// §7.1) byte for byte:
//
//	<trust_dir>/private/<key id>.key          encrypted PKCS#8 keys (keystore)
//	<trust_dir>/tuf/<gun>/metadata/*.json     metadata as downloaded or published (FileCache)
//	<trust_dir>/tuf/<gun>/changelist/*.change staged changes (changelist.FileList)
//
// so the upstream client, the Docker CLI (~/.docker/trust) and this package
// can take turns on one trust directory.
//
// Every read is verified in the TUF order (package update) against keys
// already trusted: the cached root, or for a first contact the trust
// pinning configuration (package trustpin). A GUN can never name a path
// outside the trust directory (ValidateGUN).
//
// A server behind authentication (registry token auth as notary-auth or a
// Docker registry's token server provide, or Basic auth) is reached
// through an http.Client whose Transport is an AuthTransport
// (Options.HTTPClient): it sends credentials to the trust server's own
// origin and the token server its challenge names, and to nothing else
// (never to a mirror, nor to where a redirect leads). A refusal is an
// *AuthError that says whether credentials were missing, refused, or not
// enough for the action on the GUN.
//
// Errors are typed (ServerError, RepositoryNotExistError,
// PublishConflictError, ExpiredMetadataError, ...) and match the sentinels
// of this package with errors.Is; their messages say what went wrong in
// terms a person can act on. The errors of the packages below (api's
// ValidationError, collection's key errors) are re-exported here, so a
// program can match everything a Repository returns by importing client
// alone.
package client
