package main

import "testing"

// TestReadAfterRemoteDelete: after `delete --remote`, a consumer with a
// cache is told that the server answered and the data is gone, not that
// the server is unreachable, in words that keep v0.7.0's phrase.
func TestReadAfterRemoteDelete(t *testing.T) {
	srv := newTestServer(t)
	pub := newCLI(t, srv.URL)
	pub.ok("init", "-p", gun)
	consumer := newCLI(t, srv.URL)
	consumer.ok("list", gun)
	pub.ok("delete", gun, "--remote")
	r := consumer.ok("-v", "list", gun)
	mustContain(t, "list after delete", r.err,
		srv.URL+" was reached, but no longer has trust data for "+gun,
		"Error while downloading remote metadata, using cached timestamp")
	mustNotContain(t, "list after delete", r.err, "unreachable")
}

// TestInitExistingKeepsV1Phrase: `init` of a GUN the server holds with
// another root says so clearly, and keeps v0.7.0's words beside it.
func TestInitExistingKeepsV1Phrase(t *testing.T) {
	srv := newTestServer(t)
	newCLI(t, srv.URL).ok("init", "-p", gun)
	r := newCLI(t, srv.URL).fail("init", "-p", gun)
	mustContain(t, "second init", r.err, "already has trust data for "+gun,
		"could not rotate trust to a new trusted root: failed to validate data with current trusted certificates")
}
