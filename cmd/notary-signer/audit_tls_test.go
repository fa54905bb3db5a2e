package main

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/notary-go/notary/internal/tlscheck"
)

// TestAudit_TLS_SignerRefusesLegacy: the TLS configuration notary-signer
// serves with (serverTLS, client certificates optional for health only)
// refuses TLS 1.1 and older and RSA key exchange. Listed in
// docs/security.md with test/audit's TestAudit_TLS_RefusesLegacyProtocols.
func TestAudit_TLS_SignerRefusesLegacy(t *testing.T) {
	cert := tlscheck.NewRSACert(t)
	cfg := &config{tlsCert: cert.CertFile, tlsKey: cert.KeyFile, clientCA: cert.CertFile}
	tc, err := serverTLS(cfg, time.Now(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("without a client certificate", func(t *testing.T) { tlscheck.ServerRefusesLegacy(t, tc, nil) })
	t.Run("with a client certificate", func(t *testing.T) { tlscheck.ServerRefusesLegacy(t, tc, &cert.TLS) })
}
