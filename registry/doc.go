// Package registry reads image manifests from any registry that speaks
// the Docker Registry HTTP API V2 / OCI distribution spec, through
// oras-go v2: it resolves a tag to a descriptor, fetches a manifest's
// exact bytes (at most MaxManifestSize, checked against the registry's
// Docker-Content-Digest and the digest asked for), and lists an index's
// children with their platforms.
//
// Access is as Docker users already have it: credentials from the Docker
// config file (auths, credsStore, credHelpers; DockerCredentials), the
// Bearer token flow and Basic, each host's credentials sent only to it;
// TLS with the system roots plus an optional CA file; plain HTTP allowed
// for loopback registries and the hosts named insecure.
//
// It knows nothing of TUF: package image joins it with the trust data.
// Errors are typed (*ReferenceError, *UnreachableError, *TLSError,
// *AuthError, *NotFoundError, *ManifestTooLargeError,
// *DigestMismatchError, *MediaTypeError, *ResponseError) and match this
// package's sentinels with errors.Is.
package registry
