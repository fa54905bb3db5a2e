//go:build interop

package interop

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"testing"
)

// TestSignerMatrix runs the client workflow (runSignerWorkflow) with the
// v0.7.0 notary CLI and ours, over mutual TLS everywhere (CLI ↔ server,
// server ↔ signer), for each server/signer pair:
//
//	ours+ours      our notary-server, our notary-signer (SQLite keys)
//	v1server+ours  v0.7.0's notary-server, our notary-signer
//	ours+v1signer  our notary-server, v0.7.0's notary-signer (memory backend:
//	               with an SQL backend it panics on CreateKey when built with
//	               Go >= 1.16, docs/upstream-notes.md)
//	v1server+ours-pkcs11  v0.7.0's notary-server, our signer with its keys on
//	               a PKCS#11 token (when NOTARY_PKCS11_* name one)
//	*+ours-authz   our signer with an "authorization" section granting the
//	               server's certificate every GUN (create, info, sign)
//
// Each cell also checks, through the signer's own gRPC API, that the
// timestamp and snapshot keys the server hands out live in that signer.
func TestSignerMatrix(t *testing.T) {
	cells := []struct {
		name           string
		server, signer string
	}{
		{"ours-server+ours-signer", signerImplOurs, signerImplOurs},
		{"v0.7.0-server+ours-signer", signerImplV1, signerImplOurs},
		{"ours-server+v0.7.0-signer", signerImplOurs, signerImplV1},
		// Keys on a PKCS#11 token (SoftHSM2), signing for v0.7.0's server;
		// skipped without a token.
		{"v0.7.0-server+ours-signer-pkcs11", signerImplV1, signerImplOursHSM},
		// Our signer with an authorization policy naming the server's
		// certificate: v0.7.0's requests, and ours, pass it.
		{"v0.7.0-server+ours-signer-authz", signerImplV1, signerImplOursAuthz},
		{"ours-server+ours-signer-authz", signerImplOurs, signerImplOursAuthz},
	}
	b := buildSignerBins(t)
	for _, cell := range cells {
		t.Run(cell.name, func(t *testing.T) {
			p := newSignerPKI(t)
			signerPort, serverPort := signerFreePort(t), signerFreePort(t)
			startSignerBinary(t, cell.signer, b, p, signerPort)
			startServerBinary(t, cell.server, b, p, serverPort, signerPort)
			serverURL := fmt.Sprintf("https://127.0.0.1:%d", serverPort)
			sc := p.signerClient(t, net.JoinHostPort("127.0.0.1", strconv.Itoa(signerPort)))

			clients := signerClients(b)
			names := make([]string, 0, len(clients))
			for n := range clients {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, name := range names {
				t.Run(name+"-client", func(t *testing.T) {
					cli := newSignerCLI(t, name, clients[name], serverURL, p)
					runSignerWorkflow(t, cli, p, signerWorkflowOpts{
						serverURL:   serverURL,
						signer:      sc,
						delegations: cell.server == signerImplOurs,
					})
				})
			}
		})
	}
}
