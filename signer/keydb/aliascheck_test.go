package keydb

import (
	"context"
	"errors"
	"testing"

	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/keystore"
)

// TestCheckAliases (issue 19 bug 4): a DB opened without the passphrase
// of an alias its live rows use, or with a wrong one, says which alias
// and which variable; removed rows do not count.
func TestCheckAliases(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(*testing.T, Options) *DB) {
		ctx := context.Background()
		all := map[string]string{"old": "old passphrase", "prod2026": "new passphrase", "gone": "gone passphrase"}
		for _, alias := range []string{"old", "prod2026", "gone"} {
			d := open(t, Options{DefaultAlias: alias, Passphrases: testPass(all)})
			pub, err := d.Create(ctx, "timestamp", "gun/"+alias, keys.ECDSA)
			if err != nil {
				t.Fatal(err)
			}
			if alias == "gone" {
				if err := d.Remove(ctx, pub.ID()); err != nil {
					t.Fatal(err)
				}
			}
		}
		tests := []struct {
			name      string
			pass      map[string]string
			wantAlias string
			wantIs    error
		}{
			{name: "every alias", pass: map[string]string{"old": "old passphrase", "prod2026": "new passphrase"}},
			{name: "missing", pass: map[string]string{"old": "old passphrase"}, wantAlias: "prod2026", wantIs: keystore.ErrPassphraseGiveUp},
			{name: "wrong", pass: map[string]string{"old": "old passphrase", "prod2026": "wrong"}, wantAlias: "prod2026", wantIs: keystore.ErrBadPassphrase},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				d := open(t, Options{DefaultAlias: "old", Passphrases: testPass(tt.pass)})
				err := d.CheckAliases(ctx)
				if tt.wantAlias == "" {
					if err != nil {
						t.Fatal(err)
					}
					return
				}
				var ae *AliasError
				if !errors.As(err, &ae) || ae.Alias != tt.wantAlias || ae.EnvVar != "NOTARY_SIGNER_PROD2026" || !errors.Is(err, tt.wantIs) {
					t.Fatalf("CheckAliases = %v, want an AliasError for %q matching %v", err, tt.wantAlias, tt.wantIs)
				}
			})
		}
	})
}
