package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestDoubleDashConfig: --config and --config= are accepted as well as
// -config (issue 17), for the server and its import-v1 subcommand.
func TestDoubleDashConfig(t *testing.T) {
	cfg := writeConfig(t, `{"server":{"http_addr":"127.0.0.1:0"},"storage":{"backend":"memory"}}`)
	for _, args := range [][]string{
		{"-config", cfg, "-bootstrap"},
		{"--config", cfg, "--bootstrap"},
		{"--config=" + cfg, "-bootstrap"},
	} {
		t.Run(strings.Join(args[:1], ""), func(t *testing.T) {
			var out bytes.Buffer
			if code := run(args, &out, envFrom(nil)); code != 0 {
				t.Errorf("%q: exit %d\n%s", args, code, out.String())
			}
		})
	}
}
