// Command notary is the Notary client, a drop-in for Notary v0.7.0's
// notary CLI: the same commands, flags, output, config file and trust
// directory. It manages trusted collections (GUNs) of signed targets:
// keys, staged changes, publishing to a notary server, delegations, key
// rotation, and verified reads from the server, a static mirror or the
// local cache.
//
// # Commands
//
// As v0.7.0: init (--rootkey, --rootcert, -p), add (--custom, -r, -p),
// addhash (--sha256, --sha512), remove, list (-r), lookup, verify (-i, -o,
// -q), status, reset (-n, --all), publish, witness, delete (--remote),
// delegation add/remove/list/purge (--paths, --all-paths, -y, --key),
// key list/generate/rotate (-r, -k, -l)/import/export/remove/passwd,
// version. Added: cert list and cert remove, which show and forget the
// root certificates a trust directory trusts for each collection (the
// cached root.json pins trust since v0.4; 0.3's trusted_certificates/
// directory is gone).
//
// # Configuration
//
// Global flags: -d/--trustDir, -c/--configFile, -s/--server, --tlscacert,
// --tlscert, --tlskey, -D/--debug (every HTTP request on stderr),
// -v/--verbose, and --mirror (below). The config file (default
// ~/.notary/config.json) is v0.7.0's:
//
//	{
//	  "trust_dir": "~/.docker/trust",
//	  "remote_server": {
//	    "url": "https://notary.example.com:4443",
//	    "root_ca": "root-ca.crt",
//	    "tls_client_cert": "client.crt",
//	    "tls_client_key": "client.key",
//	    "skipTLSVerify": false,
//	    "mirror": "https://cdn.example.com/trust/{gun}"
//	  },
//	  "trust_pinning": {
//	    "certs": {"example.com/app": ["<root certificate ID>"], "example.com/*": ["..."]},
//	    "ca": {"example.com/": "ca-bundle.pem"},
//	    "disable_tofu": false
//	  }
//	}
//
// Relative paths in the file (trust_dir, root_ca, the client pair, CA
// bundles) resolve against the file's directory, as v0.7.0's documentation
// says; paths given as flags resolve against the working directory. The
// default trust directory is ~/.notary and the default server
// https://notary-server:4443, as in v0.7.0. Passphrases come from
// NOTARY_ROOT_PASSPHRASE, NOTARY_TARGETS_PASSPHRASE,
// NOTARY_SNAPSHOT_PASSPHRASE and NOTARY_DELEGATION_PASSPHRASE, else from a
// prompt when stdin is a terminal; with neither, the command fails at once
// naming the variable to set. NOTARY_AUTH (base64 of user:password) answers
// Basic and token-auth challenges.
//
// # Offline use and mirrors
//
// list, lookup, verify and delegation list read the server when they can;
// when it cannot be reached they use the trust data cached by an earlier
// read, if it is still valid, and say so on stderr. Staging commands never
// use the network.
//
// --mirror URL (or remote_server.mirror) makes those read commands read a
// static copy of the collection's files instead of the server: any HTTP
// server, object store or folder holding <role>.json (and optionally
// <role>.<sha256>.json, <version>.root.json), delegations in
// subdirectories. The files of a GUN are at <URL>/<gun>/, or wherever
// "{gun}" is replaced by the GUN in URL, so
// https://host/v2/{gun}/_trust/tuf reads a notary server's own layout
// through any cache. A local path or file:// URL names a folder. Nothing
// is trusted because of where it comes from: every file is verified
// against the keys of the root trusted before (or pinned), exactly as from
// the server.
//
// # Container images
//
// Added: image sign, image verify, image inspect and image revoke sign and
// check images in any Docker Registry V2 / OCI registry with no Docker
// engine, with the Docker CLI's content trust rules (a tag's target is
// the manifest's size and sha256, in targets/releases and the signer
// delegations the user holds keys for, or targets; verify reads
// targets/releases then targets), so docker trust inspect and
// DOCKER_CONTENT_TRUST=1 docker pull read what they sign and the other
// way round. Registry credentials come from the Docker config file;
// --registry-ca adds a CA, --insecure-registry allows plain HTTP (loopback
// registries always may). The trust server of a registry is
// DOCKER_CONTENT_TRUST_SERVER, else its entry in the config file's
// "trust_servers" map ({"registry.example.com": "https://notary.example.com"}),
// else -s / remote_server.url if given, else https://<registry host>.
//
// # Differences from v0.7.0
//
// Errors go to stderr ("* fatal: ...", then hints on what to do) and the
// exit code is 1. Custom target data is stored in canonical form so that
// it always verifies. A first publish of an old trust directory renews
// root certificates that have expired (same root key) and moves the
// timestamp key to the server's when the server does not hold the one the
// cached root names (v0.7.0 needed `key rotate <gun> timestamp -r` and
// could not renew certificates). Encrypted keys without a "path" header
// import (v0.7.0 refused them). witness with a role that cannot be witnessed
// exits non-zero. reset -n with a number that is not in the list fails.
package main
