package audit

import (
	"crypto/tls"
	"os"
	"strings"
	"testing"

	"github.com/notary-go/notary/internal/daemon"
	"github.com/notary-go/notary/internal/tlscheck"
	"github.com/notary-go/notary/signer"
)

// TestAudit_TLS_RefusesLegacyProtocols: every TLS endpoint refuses TLS 1.1
// and older and RSA key exchange (no forward secrecy), and still completes
// TLS 1.2 ECDHE and TLS 1.3 handshakes. Covered here: notary-server's and
// notary-auth's listener (daemon.ServerTLS, which both call), the signer
// library's server configuration, notary-server's client configuration
// for reaching a signer (signer.LoadClientTLS), and the Go library
// client's default (the zero tls.Config an http.Client uses). The
// notary-signer program adds cipher suites of its own and the notary CLI
// builds its own client configuration: those are checked beside their code
// (cmd/notary-signer TestAudit_TLS_SignerRefusesLegacy, cmd/notary
// TestAudit_TLS_CLIRefusesLegacy).
func TestAudit_TLS_RefusesLegacyProtocols(t *testing.T) {
	cert := tlscheck.NewRSACert(t)

	t.Run("server listener (daemon.ServerTLS)", func(t *testing.T) {
		cfg, err := daemon.ServerTLS(cert.CertFile, cert.KeyFile)
		if err != nil {
			t.Fatal(err)
		}
		tlscheck.ServerRefusesLegacy(t, cfg, nil)
	})
	t.Run("signer server (signer.LoadServerTLS, mutual TLS)", func(t *testing.T) {
		// The test certificate is its own CA: it is both the signer's
		// certificate and the client's.
		cfg, err := signer.LoadServerTLS(cert.CertFile, cert.KeyFile, cert.CertFile)
		if err != nil {
			t.Fatal(err)
		}
		tlscheck.ServerRefusesLegacy(t, cfg, &cert.TLS)
	})
	t.Run("server to signer client (signer.LoadClientTLS)", func(t *testing.T) {
		cfg, err := signer.LoadClientTLS(cert.CertFile, cert.CertFile, cert.KeyFile, "localhost")
		if err != nil {
			t.Fatal(err)
		}
		tlscheck.ClientRefusesLegacy(t, cfg)
	})
	t.Run("library client default", func(t *testing.T) {
		// The library's default http.Client uses Go's defaults, which a
		// user's GODEBUG can loosen; every configuration we build lists
		// its suites (internal/tlspolicy) and is checked above.
		if g := os.Getenv("GODEBUG"); strings.Contains(g, "tlsrsakex=1") || strings.Contains(g, "tls10server=1") {
			t.Skip("GODEBUG loosens Go's TLS defaults: " + g)
		}
		tlscheck.ClientRefusesLegacy(t, &tls.Config{})
	})
}
