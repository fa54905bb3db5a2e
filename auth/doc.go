// Package auth authenticates and authorizes requests to notary-server, as
// Notary v0.7.0 does (protocol §5.1 and §5.7), so that the Docker CLI, the
// notary CLI and any Docker-registry-style token server work unchanged.
//
// Three modes, chosen by the server config's "auth" section:
//
//   - none ("auth" absent or type ""): every request passes.
//   - "token": the Docker Registry token specification. A request without a
//     valid bearer token is answered 401 with a challenge
//     (WWW-Authenticate: Bearer realm=..,service=..,scope=..) telling the
//     client where to get a token; tokens are JWTs whose signing key is
//     vouched for by the configured root certificate bundle (x5c chain or
//     kid), issued by the configured issuer for the configured service, not
//     expired, and granting the access the route needs.
//   - "htpasswd": HTTP Basic authentication against an htpasswd file of
//     bcrypt hashes; every authenticated user may do everything.
//
// The access a request needs comes from v0.7.0's route table
// (RequiredAccess): pull to read a collection, push and pull to publish,
// "*" to delete a collection or rotate a server-managed key, and
// registry:catalog:* for /v2/, the global changefeed and unrouted paths.
//
// New builds the middleware from the server's config; the server's code
// stays unaware of who issues the tokens. Verification never reads the
// wall clock itself: the clock is a parameter (Config.Now).
package auth
