package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/notary-go/notary/keys"
)

// TestStartChecksAliases (issue 19 bug 4): a signer whose database holds
// keys under alias prod2026 refuses to start without
// NOTARY_SIGNER_PROD2026 (or with a wrong one), naming the alias and the
// variable, instead of starting healthy and failing every Sign.
func TestStartChecksAliases(t *testing.T) {
	p := newTestPKI(t)
	db := filepath.Join(p.dir, "keys.db")
	withAlias := func(alias string) string {
		return writeConfig(t, p.dir, p.baseConfig(map[string]any{"backend": "sqlite3", "db_url": db, "default_alias": alias}))
	}
	ctx := context.Background()

	rs := startSigner(t, withAlias("prod2026"), map[string]string{"NOTARY_SIGNER_PROD2026": "pw 2026"})
	c := dialClient(t, rs.addr, p.clientTLS(t, p.clientCert, p.clientKey))
	if _, err := c.CreateKey(ctx, "timestamp", "example.com/app", keys.ECDSA); err != nil {
		t.Fatal(err)
	}
	if code := rs.stop(t); code != 0 {
		t.Fatalf("stop: exit %d", code)
	}

	for name, envm := range map[string]map[string]string{
		"missing": {"NOTARY_SIGNER_ALIAS1": "pw 1"},
		"wrong":   {"NOTARY_SIGNER_ALIAS1": "pw 1", "NOTARY_SIGNER_PROD2026": "not it"},
	} {
		t.Run(name, func(t *testing.T) {
			var out syncBuffer
			code := run(ctx, []string{"-config", withAlias("alias1")}, env{stdout: &out, stderr: &out, lookup: mapLookup(envm)})
			if code == 0 {
				t.Fatalf("signer started without the passphrase of alias prod2026:\n%s", out.String())
			}
			if s := out.String(); !strings.Contains(s, `"prod2026"`) || !strings.Contains(s, "NOTARY_SIGNER_PROD2026") {
				t.Errorf("the refusal does not name the alias and its variable:\n%s", s)
			}
			if strings.Contains(out.String(), "not it") {
				t.Error("the passphrase was logged")
			}
		})
	}
	t.Run("every alias set", func(t *testing.T) {
		startSigner(t, withAlias("alias1"), map[string]string{"NOTARY_SIGNER_ALIAS1": "pw 1", "NOTARY_SIGNER_PROD2026": "pw 2026"})
	})
}
