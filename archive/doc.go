// Package archive writes and checks static archives of notary collections:
// trust data that outlives its server.
//
// An archive is a directory laid out exactly as a notary server's URL space,
//
//	DIR/v2/<gun>/_trust/tuf/<role>.json
//	DIR/v2/<gun>/_trust/tuf/<role>.<sha256>.json
//	DIR/v2/<gun>/_trust/tuf/<version>.<role>.json
//	DIR/v2/<gun>/_trust/tuf/<role>.key            (timestamp, snapshot)
//
// so any static web server, object store or folder serves it, to our client
// (--mirror DIR/v2/{gun}/_trust/tuf) and to v0.7.0's (-s http://host/).
// Trust in the collections still comes only from the publishers' keys.
//
// Beside the tree, DIR/notary-archive.json is a manifest (every collection,
// its role versions, every file with its length and SHA-256, when it was
// archived) signed by the archiver's key, and DIR/notary-archive.pub is
// that key: a reader who knows the archiver's key ID can tell that the
// archive is whole and unaltered (Verify), independently of TUF.
//
// The package verifies nothing about TUF itself: callers hand it
// collections the client library has verified (Files), and Verify's TUF
// pass (VerifyCollections) runs the update package over the archive.
package archive
