//go:build interop

package interop

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/notary-go/notary/signer"
	pb "github.com/notary-go/notary/signer/signerpb"
)

// TestSignerMutualTLSRefusals drives our notary-signer binary with
// clients that must be refused: without a client certificate (signing
// refused, health allowed), with one from another CA, with an expired one,
// and in plain text; and a notary-server without a client certificate
// cannot get keys (503).
func TestSignerMutualTLSRefusals(t *testing.T) {
	b := buildSignerBins(t)
	p := newSignerPKI(t)
	port := signerFreePort(t)
	proc := startSignerBinary(t, signerImplOurs, b, p, port)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	ctx := context.Background()

	dial := func(t *testing.T, tc *tls.Config) *grpc.ClientConn {
		creds := insecure.NewCredentials()
		if tc != nil {
			creds = credentials.NewTLS(tc)
		}
		cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cc.Close() })
		return cc
	}
	clientTLS := func(t *testing.T, certFile, keyFile string) *tls.Config {
		tc, err := signer.LoadClientTLS(p.ca.CAFile, certFile, keyFile, "notary-signer")
		if err != nil {
			t.Fatal(err)
		}
		return tc
	}
	// forced presents the certificate whatever CAs the signer names, as
	// an attacker would (a standard Go client would send none).
	forced := func(t *testing.T, certFile, keyFile string) *tls.Config {
		tc := clientTLS(t, "", "")
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			t.Fatal(err)
		}
		tc.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil }
		return tc
	}
	signCall := func(cc *grpc.ClientConn) error {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_, err := pb.NewSignerClient(cc).Sign(cctx, &pb.SignatureRequest{KeyID: &pb.KeyID{ID: strings.Repeat("0", 64)}, Content: []byte("m")})
		return err
	}
	createCall := func(cc *grpc.ClientConn) error {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_, err := pb.NewKeyManagementClient(cc).CreateKey(cctx, &pb.CreateKeyRequest{Algorithm: "ecdsa", Gun: "example.com/x", Role: "timestamp"})
		return err
	}
	healthCall := func(cc *grpc.ClientConn, svc string) (healthpb.HealthCheckResponse_ServingStatus, error) {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		resp, err := healthpb.NewHealthClient(cc).Check(cctx, &healthpb.HealthCheckRequest{Service: svc})
		return resp.GetStatus(), err
	}

	t.Run("valid client certificate", func(t *testing.T) {
		cc := dial(t, clientTLS(t, p.serverCert, p.serverKey))
		if err := createCall(cc); err != nil {
			t.Fatalf("CreateKey with a valid certificate: %v", err)
		}
		if err := signCall(cc); status.Code(err) != codes.NotFound {
			t.Fatalf("Sign of an unknown key with a valid certificate: %v, want NotFound", err)
		}
	})

	t.Run("no client certificate: signing refused, health allowed", func(t *testing.T) {
		cc := dial(t, clientTLS(t, "", ""))
		for _, svc := range []string{"", signer.HealthKeyManagement, signer.HealthSigner} {
			if st, err := healthCall(cc, svc); err != nil || st != healthpb.HealthCheckResponse_SERVING {
				t.Errorf("health %q: %v %v, want SERVING", svc, st, err)
			}
		}
		if err := signCall(cc); status.Code(err) != codes.Unauthenticated {
			t.Errorf("Sign: %v, want Unauthenticated", err)
		}
		if err := createCall(cc); status.Code(err) != codes.Unauthenticated {
			t.Errorf("CreateKey: %v, want Unauthenticated", err)
		}
	})

	handshakeRefused := func(t *testing.T, tc *tls.Config) {
		cc := dial(t, tc)
		if err := signCall(cc); status.Code(err) != codes.Unavailable {
			t.Errorf("Sign: %v, want a failed handshake (Unavailable)", err)
		}
		if _, err := healthCall(cc, ""); err == nil {
			t.Error("health answered over a refused handshake")
		}
	}
	t.Run("certificate from another CA", func(t *testing.T) {
		handshakeRefused(t, forced(t, p.otherCert, p.otherKey))
		// A standard client holding only that certificate sends none.
		if err := signCall(dial(t, clientTLS(t, p.otherCert, p.otherKey))); status.Code(err) != codes.Unauthenticated {
			t.Errorf("Sign from a standard client with another CA's certificate: %v, want Unauthenticated", err)
		}
	})
	t.Run("expired certificate", func(t *testing.T) {
		handshakeRefused(t, clientTLS(t, p.expiredCert, p.expiredKey))
		handshakeRefused(t, forced(t, p.expiredCert, p.expiredKey))
	})
	t.Run("plain text", func(t *testing.T) {
		cc := dial(t, nil)
		if err := signCall(cc); status.Code(err) != codes.Unavailable {
			t.Errorf("Sign in plain text: %v, want Unavailable", err)
		}
		if _, err := healthCall(cc, ""); err == nil {
			t.Error("health answered in plain text")
		}
	})

	t.Run("notary-server without a client certificate", func(t *testing.T) {
		serverPort := signerFreePort(t)
		startServerBinary(t, signerImplOurs, b, p, serverPort, port, withoutSignerClientCert)
		hc := p.httpClient(t)
		start := time.Now()
		resp, err := hc.Get(fmt.Sprintf("https://127.0.0.1:%d/v2/example.com/nocert/_trust/tuf/timestamp.key", serverPort))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("GET timestamp.key through a server without a signer client certificate: %d %s, want 503", resp.StatusCode, body)
		}
		t.Logf("refused in %v: %d %s", time.Since(start).Round(time.Millisecond), resp.StatusCode, body)

		// Issue 19 bug 4: health must not say OK while signing is impossible.
		resp, err = hc.Get(fmt.Sprintf("https://127.0.0.1:%d/_notary_server/health", serverPort))
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "Trust operational") {
			t.Errorf("health of a server the signer refuses: %d %s, want 503 naming the trust service", resp.StatusCode, body)
		}
	})

	for _, want := range []string{"refused a call without a client certificate", "refused a TLS connection"} {
		if !strings.Contains(proc.logs(), want) {
			t.Errorf("signer log lacks %q", want)
		}
	}
}
