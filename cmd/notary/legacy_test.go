package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// fixtures are trust directories left by Notary 0.1 and 0.3 (see its README).
const fixtures = "testdata/notary-compat"

// TestLegacyTrustDirs: trust directories written by Notary 0.1 and 0.3
// list offline, show their staged changes, and publish to a fresh server
// (the fixtures are copied; the originals are never modified).
func TestLegacyTrustDirs(t *testing.T) {
	for _, tc := range []struct {
		dir, gun   string
		passphrase string
		offline    []string // targets listed from the cache
		staged     []string
		afterPub   []string
		delegation string
	}{
		{
			dir: "notary0.1", gun: "docker.com/notary0.1/samplerepo", passphrase: "randompass",
			offline:  []string{"LICENSE "},
			staged:   []string{"create    targets    target    .gitignore"},
			afterPub: []string{"LICENSE ", ".gitignore "},
		},
		{
			// The fixture README says randompass; the 0.3 keys decrypt
			// with "password" (as upstream's backwards_compatibility_test).
			dir: "notary0.3", gun: "docker.com/notary0.3/tst", passphrase: "password",
			offline:    []string{"LICENSE ", "change ", "hello "},
			staged:     []string{"create    targets             target    MAINTAINERS", "create    targets/releases    target    Dockerfile"},
			afterPub:   []string{"LICENSE ", "change ", "hello ", "MAINTAINERS ", "Dockerfile "},
			delegation: "targets/releases",
		},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			srv := newTestServer(t)
			c := newCLI(t, "http://127.0.0.1:1") // no server: read the cache
			copyDir(t, filepath.Join(fixtures, tc.dir), c.trustDir)
			for k := range testPassphrases {
				c.env[k] = tc.passphrase
			}

			r := c.ok("list", tc.gun)
			mustContain(t, "offline list", r.out, tc.offline...)
			r = c.ok("status", tc.gun)
			mustContain(t, "status", r.out, tc.staged...)
			// Keys were migrated to private/<id>.key with role/gun headers.
			r = c.ok("key", "list")
			if strings.Count(r.out, "/private") < 3 {
				t.Errorf("key list:\n%s", r.out)
			}

			c.server = srv.URL
			r = c.ok("publish", tc.gun)
			mustContain(t, "publish stderr", r.err, "rotating the timestamp key to the server's")
			r = c.ok("status", tc.gun)
			mustContain(t, "status after publish", r.out, "No unpublished changes")

			// A fresh consumer sees everything, from the server.
			consumer := newCLI(t, srv.URL)
			r = consumer.ok("list", tc.gun)
			mustContain(t, "list after publish", r.out, tc.afterPub...)
			if tc.delegation != "" {
				r = consumer.ok("delegation", "list", tc.gun)
				mustContain(t, "delegation list", r.out, tc.delegation)
			}
			// And the old trust dir keeps working: stage and publish again.
			f := writeFile(t, filepath.Join(c.home, "more.txt"), "more\n")
			c.ok("add", tc.gun, "more", f, "-p")
			mustContain(t, "list", consumer.ok("list", tc.gun).out, "more ")
			c.ok("key", "rotate", tc.gun, "targets")
			mustContain(t, "list", consumer.ok("list", tc.gun).out, "more ")
		})
	}
}
