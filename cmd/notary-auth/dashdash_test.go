package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

// TestDoubleDashConfig: --config and --config= reach the config loader
// like -config (issue 17).
func TestDoubleDashConfig(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "absent.json")
	for _, args := range [][]string{
		{"-config", missing},
		{"--config", missing},
		{"--config=" + missing},
	} {
		t.Run(args[0], func(t *testing.T) {
			var out bytes.Buffer
			code := run(args, strings.NewReader(""), &out, &out)
			if code == 0 || strings.Contains(out.String(), "flag provided but not defined") || !strings.Contains(out.String(), "absent.json") {
				t.Errorf("%q: exit %d\n%s", args, code, out.String())
			}
		})
	}
}
