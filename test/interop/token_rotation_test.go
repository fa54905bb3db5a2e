//go:build interop

package interop

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/notary-go/notary/auth"
	"github.com/notary-go/notary/client"
	"github.com/notary-go/notary/internal/authtest"
	"github.com/notary-go/notary/passphrase"
	"github.com/notary-go/notary/tuf"
)

// TestTokenAuthRotation: issue 19 bug 2. Our client, as a user whose
// token can grant only repository:<gun>:pull,push,* (no
// registry:catalog:*), initializes a collection and rotates its targets
// and root keys, against v0.7.0 notary-server and ours, both behind token
// auth from notary-auth's issuer on another port; a reader then lists it.
func TestTokenAuthRotation(t *testing.T) {
	srvBin := dockerV1Bin(t, "notary-server")
	p := authNewPKI(t)
	const gun = "example.com/rotate"
	tokens := httptest.NewUnstartedServer(authtest.Issuer(t, gun, "notary.example.com", p.Signer, p.SignerChain))
	tokens.TLS = &tls.Config{Certificates: []tls.Certificate{p.ServerTLS}, MinVersion: tls.VersionTLS12}
	tokens.StartTLS()
	defer tokens.Close()
	realm := tokens.URL + "/token"
	opts := map[string]any{"realm": realm, "service": "notary.example.com", "issuer": "notary-auth", "rootcertbundle": p.CA}
	servers := map[string]string{
		"v0.7.0": authStartUpstreamServerConfig(t, srvBin, p, fmt.Sprintf(`"auth":{"type":"token","options":{"realm":%q,"service":"notary.example.com","issuer":"notary-auth","rootcertbundle":%q}}`, realm, p.CA)),
		"ours":   authOurServer(t, p, auth.Config{Type: "token", Options: opts}),
	}
	for name, url := range servers {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			repo := func(dir, user, pass string, actions []string) *client.Repository {
				at, err := client.NewAuthTransport(client.AuthOptions{
					ServerURL: url, GUN: gun, Actions: actions,
					Credentials: func() (string, string) { return user, pass },
					Base:        &http.Transport{TLSClientConfig: p.clientTLS()},
				})
				if err != nil {
					t.Fatal(err)
				}
				r, err := client.NewRepository(gun, client.Options{TrustDir: dir, ServerURL: url,
					HTTPClient: &http.Client{Transport: at}, Retriever: passphrase.Constant("passphrase")})
				if err != nil {
					t.Fatal(err)
				}
				return r
			}
			dir := t.TempDir()
			if _, err := repo(dir, authtest.Admin, authtest.AdminPassword, client.ActionsWrite).Initialize(ctx, client.InitOptions{}); err != nil {
				t.Fatal(err)
			}
			for _, role := range []string{tuf.RoleTargets, tuf.RoleRoot} {
				if err := repo(dir, authtest.Admin, authtest.AdminPassword, client.ActionsAdmin).RotateKey(ctx, role, client.RotateOptions{}); err != nil {
					t.Fatalf("rotate %s: %v", role, err)
				}
			}
			reader := repo(t.TempDir(), authtest.Reader, authtest.ReaderPassword, client.ActionsRead)
			if _, err := reader.ListTargets(ctx); err != nil {
				t.Fatal(err)
			}
			data, err := reader.Cache().Load(tuf.RoleRoot)
			if err != nil {
				t.Fatal(err)
			}
			md, _, err := tuf.ParseRole(tuf.RoleRoot, data)
			if err != nil {
				t.Fatal(err)
			}
			// init publishes root 1; each rotation a new root.
			if v := md.Common().Version; v != 3 {
				t.Errorf("root version %d, want 3 (two rotations)", v)
			}
		})
	}
}
