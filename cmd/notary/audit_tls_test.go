package main

import (
	"testing"

	"github.com/notary-go/notary/internal/tlscheck"
)

// TestAudit_TLS_CLIRefusesLegacy: the notary CLI's client TLS
// configuration (tlsConfig, with and without a CA file and client
// certificate) refuses servers that speak only TLS 1.1 or older or only
// RSA key exchange. Listed in docs/security.md with test/audit's
// TestAudit_TLS_RefusesLegacyProtocols.
func TestAudit_TLS_CLIRefusesLegacy(t *testing.T) {
	cert := tlscheck.NewRSACert(t)
	for name, s := range map[string]*settings{
		"defaults":                    {},
		"CA file and client cert":     {RootCA: cert.CertFile, ClientCert: cert.CertFile, ClientKey: cert.KeyFile},
		"skipTLSVerify still refuses": {SkipTLSVerify: true},
	} {
		t.Run(name, func(t *testing.T) {
			tc, err := tlsConfig(s)
			if err != nil {
				t.Fatal(err)
			}
			tlscheck.ClientRefusesLegacy(t, tc)
		})
	}
}
