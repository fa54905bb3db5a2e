package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/server"
	"github.com/notary-go/notary/signer"
	"github.com/notary-go/notary/signer/keydb"
	"github.com/notary-go/notary/storage/memory"
	"github.com/notary-go/notary/tuf"
)

// bufSigner serves our signer over an in-memory connection and returns a
// client for it. (Transport security is tested in cmd/notary-signer.)
func bufSigner(t *testing.T, opts ...grpc.ServerOption) *signer.Client {
	t.Helper()
	db, err := keydb.NewMemory(keydb.Options{DefaultAlias: "a", Passphrases: keydb.ConstantPassphrase("pw")})
	if err != nil {
		t.Fatal(err)
	}
	lis := bufconn.Listen(1 << 20)
	gs := grpc.NewServer(opts...)
	signer.NewServer(db, signer.Options{}).Register(gs)
	go gs.Serve(lis)
	t.Cleanup(gs.Stop)
	cc, err := grpc.NewClient("passthrough:///signer",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return signer.NewClient(cc, signer.ClientOptions{Timeout: 10 * time.Second})
}

// timestampBody is a canonical timestamp body the signer will sign.
func timestampBody(t *testing.T, version int64) []byte {
	t.Helper()
	b, err := tuf.CanonicalSigned(&tuf.Timestamp{
		Type: tuf.TypeOf(tuf.RoleTimestamp), Version: version,
		Expires: time.Now().Add(tuf.DefaultTimestampTTL).UTC().Truncate(time.Second),
		Meta:    map[string]tuf.FileMeta{tuf.RoleSnapshot: {Hashes: tuf.Hashes{"sha256": make([]byte, 32)}, Length: 1}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRemoteSignerChecksGUN (issue 10, "also check"): through a remote
// signer, GUN A's timestamp key never signs for GUN B, even when B's root
// lists it (its public half is public), whichever server made the key;
// the local key service refuses the same. Our signer refuses too when a
// request names another GUN.
func TestRemoteSignerChecksGUN(t *testing.T) {
	ctx := context.Background()
	c := bufSigner(t)
	creator := newRemoteKeys(c, nil)
	pubA, err := creator.CreateKey(ctx, "example.com/a", tuf.RoleTimestamp, keys.ECDSA)
	if err != nil {
		t.Fatal(err)
	}
	msg := timestampBody(t, 2)

	for name, rk := range map[string]*remoteKeys{
		"server that created the key":         creator,
		"another server (or after a restart)": newRemoteKeys(c, nil),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := rk.Signer(ctx, "example.com/b", tuf.RoleTimestamp, pubA); !errors.Is(err, server.ErrKeyNotFound) {
				t.Errorf("Signer for GUN B with GUN A's key: %v, want ErrKeyNotFound", err)
			}
			s, err := rk.Signer(ctx, "example.com/a", tuf.RoleTimestamp, pubA)
			if err != nil {
				t.Fatalf("Signer for the key's own GUN: %v", err)
			}
			sig, method, err := s.Sign(ctx, msg)
			if err != nil {
				t.Fatal(err)
			}
			if err := pubA.Verify(method, msg, sig); err != nil {
				t.Fatal(err)
			}
			// Once known, the key is still refused for B.
			if _, err := rk.Signer(ctx, "example.com/b", tuf.RoleTimestamp, pubA); !errors.Is(err, server.ErrKeyNotFound) {
				t.Errorf("second Signer for GUN B: %v, want ErrKeyNotFound", err)
			}
		})
	}

	t.Run("signer refuses a request naming another GUN", func(t *testing.T) {
		_, err := c.SignFor(ctx, "example.com/b", pubA.ID(), msg)
		var re *signer.RemoteError
		if !errors.As(err, &re) || re.Code != codes.PermissionDenied {
			t.Errorf("SignFor GUN B with GUN A's key: %v, want PermissionDenied", err)
		}
		if _, err := c.SignFor(ctx, "example.com/a", pubA.ID(), msg); err != nil {
			t.Errorf("SignFor the key's own GUN: %v", err)
		}
	})
}

// refuseKeyCalls is a signer's refusal of a client without an accepted
// certificate: health answers, every key call is Unauthenticated (what
// notary-signer answers a server whose trust_service has no client
// certificate). It counts the key calls.
func refuseKeyCalls(calls *atomic.Int64, refuse bool) grpc.ServerOption {
	return grpc.UnaryInterceptor(func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		if strings.HasPrefix(info.FullMethod, "/grpc.health.v1.Health/") {
			return h(ctx, req)
		}
		calls.Add(1)
		if refuse {
			return nil, status.Error(codes.Unauthenticated, "a client certificate is required")
		}
		return h(ctx, req)
	})
}

// TestHealthChecksSigning (issue 19 bug 4): /_notary_server/health is 503
// when the signer is up but refuses this server's calls (signing is
// impossible), 200 when it accepts them; the authenticated probe is
// cached, so polling health does not load the signer.
func TestHealthChecksSigning(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	health := func(t *testing.T, c *signer.Client) (int, string) {
		t.Helper()
		srv, err := server.New(server.Options{Store: memory.New(), Keys: newRemoteKeys(c, nil), HealthChecks: remoteHealthChecks(c, clock)})
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/_notary_server/health", nil))
		return rec.Code, rec.Body.String()
	}

	t.Run("signer refuses the server", func(t *testing.T) {
		var calls atomic.Int64
		c := bufSigner(t, refuseKeyCalls(&calls, true))
		if code, body := health(t, c); code != http.StatusServiceUnavailable || !strings.Contains(body, "Trust operational") || !strings.Contains(body, "Unauthenticated") {
			t.Errorf("health = %d %s, want 503 naming the trust service's refusal", code, body)
		}
	})
	t.Run("signer accepts the server", func(t *testing.T) {
		var calls atomic.Int64
		c := bufSigner(t, refuseKeyCalls(&calls, false))
		if code, body := health(t, c); code != http.StatusOK || body != "{}" {
			t.Errorf("health = %d %s, want 200 {}", code, body)
		}
	})
	t.Run("cached", func(t *testing.T) {
		var calls atomic.Int64
		c := bufSigner(t, refuseKeyCalls(&calls, false))
		h := newSigningHealth(c.CheckSigning, clock)
		ctx := context.Background()
		for range 5 {
			if err := h.Check(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if n := calls.Load(); n != 1 {
			t.Errorf("5 checks within %v made %d signer calls, want 1", signingHealthTTL, n)
		}
		now = now.Add(signingHealthTTL)
		if err := h.Check(ctx); err != nil {
			t.Fatal(err)
		}
		if n := calls.Load(); n != 2 {
			t.Errorf("a check after %v made %d signer calls in all, want 2", signingHealthTTL, n)
		}
	})
}
