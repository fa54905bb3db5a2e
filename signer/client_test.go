package signer

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/notary-go/notary/internal/testpki"
	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/keystore"
)

// TestMutualTLSRefusals: the signer refuses clients without a certificate
// or with one from another CA, and the client refuses a signer whose
// certificate does not match its CA or server name. Every refusal is an
// error matching ErrUnavailable, reported within the timeout.
func TestMutualTLSRefusals(t *testing.T) {
	s := startSigner(t)
	other := testpki.New(t, "another CA")
	otherClient := other.Issue(t, "notary-server", clientCert).TLS
	goodClient, err := tls.LoadX509KeyPair(s.client.certFile, s.client.keyFile)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		conf *tls.Config
	}{
		{name: "no client certificate", conf: ClientTLSConfig(s.ca.Pool, nil, serverName)},
		{name: "client certificate from another CA", conf: ClientTLSConfig(s.ca.Pool, &otherClient, serverName)},
		{name: "client trusts another CA", conf: ClientTLSConfig(other.Pool, &goodClient, serverName)},
		{name: "wrong server name", conf: ClientTLSConfig(s.ca.Pool, &goodClient, "other.test")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Dial(s.addr, tc.conf, ClientOptions{Timeout: 3 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			start := time.Now()
			err = c.CheckHealth(context.Background())
			if !errors.Is(err, ErrUnavailable) {
				t.Fatalf("CheckHealth = %v, want an error matching ErrUnavailable", err)
			}
			if time.Since(start) > 5*time.Second {
				t.Errorf("refusal took %v", time.Since(start))
			}
			if _, err := c.CreateKey(context.Background(), "timestamp", "gun", keys.ECDSA); !errors.Is(err, ErrUnavailable) {
				t.Errorf("CreateKey = %v, want ErrUnavailable", err)
			}
			t.Logf("refused: %v", err)
		})
	}
	if list, _ := s.db.List(context.Background()); len(list) != 0 {
		t.Errorf("refused clients created %d keys", len(list))
	}
}

func TestClientErrors(t *testing.T) {
	s := startSigner(t)
	c := s.dial(t, ClientOptions{})
	ctx := ctxT(t)
	unknown := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	var nf *keystore.NotFoundError
	if _, err := c.GetKey(ctx, unknown); !errors.As(err, &nf) || nf.ID != unknown || !errors.Is(err, keystore.ErrNotFound) {
		t.Errorf("GetKey(unknown) = %v, want *keystore.NotFoundError", err)
	}
	if _, err := c.Sign(ctx, unknown, []byte("m")); !errors.Is(err, keystore.ErrNotFound) {
		t.Errorf("Sign(unknown) = %v, want ErrNotFound", err)
	}
	_, err := c.CreateKey(ctx, "timestamp", "gun", keys.RSA)
	var re *RemoteError
	if !errors.As(err, &re) || re.Message != "algorithm rsa not supported for create key" || errors.Is(err, ErrUnavailable) {
		t.Errorf("CreateKey(rsa) = %v, want *RemoteError", err)
	}
	pub, err := c.CreateKey(ctx, "timestamp", "gun", keys.ED25519)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteKey(ctx, pub.ID()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetKey(ctx, pub.ID()); !errors.Is(err, keystore.ErrNotFound) {
		t.Errorf("GetKey after DeleteKey = %v, want ErrNotFound", err)
	}
	if err := c.DeleteKey(ctx, pub.ID()); err != nil {
		t.Errorf("DeleteKey twice = %v, want nil", err)
	}
	// The caller's own cancellation is not "signer unavailable".
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := c.GetKey(cctx, pub.ID()); !errors.Is(err, context.Canceled) || errors.Is(err, ErrUnavailable) {
		t.Errorf("GetKey with a cancelled context = %v, want context.Canceled", err)
	}
}

// TestKeySignerRefusesBadSignature: a signer answering with a signature by
// another key is caught before the signature is used.
func TestKeySignerRefusesBadSignature(t *testing.T) {
	s := startSigner(t)
	c := s.dial(t, ClientOptions{})
	ctx := ctxT(t)
	a, err := c.CreateKey(ctx, "timestamp", "a", keys.ECDSA)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.CreateKey(ctx, "timestamp", "b", keys.ECDSA)
	if err != nil {
		t.Fatal(err)
	}
	ks := c.Signer(a)
	ks.canonicalID = b.ID() // as if the signer signed with the wrong key
	var bad *BadResponseError
	if _, err := ks.Sign(ctx, tsBody(t)); !errors.As(err, &bad) {
		t.Errorf("Sign with a mismatched key = %v, want *BadResponseError", err)
	}
}

// TestSignerDown: with nothing listening calls fail fast with
// ErrUnavailable; when the signer comes up on that address the same
// Client recovers without being rebuilt.
func TestSignerDown(t *testing.T) {
	s := startSigner(t)
	s.gs.Stop()
	c := s.dial(t, ClientOptions{Timeout: 2 * time.Second, MaxReconnectDelay: 200 * time.Millisecond})
	ctx := ctxT(t)
	for range 3 {
		start := time.Now()
		_, err := c.CreateKey(ctx, "timestamp", "gun", keys.ECDSA)
		if !errors.Is(err, ErrUnavailable) {
			t.Fatalf("CreateKey with the signer down = %v, want ErrUnavailable", err)
		}
		if d := time.Since(start); d > 4*time.Second {
			t.Errorf("failure took %v, want about the 2s timeout at most", d)
		}
	}
	// Bring a signer back on the same address.
	lis, err := net.Listen("tcp", s.addr)
	if err != nil {
		t.Skipf("cannot listen on %s again: %v", s.addr, err)
	}
	tlsConf, err := LoadServerTLS(s.server.certFile, s.server.keyFile, s.client.caFile)
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer(grpc.Creds(credentials.NewTLS(tlsConf)))
	NewServer(s.db, Options{}).Register(gs)
	go gs.Serve(lis)
	t.Cleanup(gs.Stop)
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := c.CreateKey(ctx, "timestamp", "gun", keys.ECDSA)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("client did not recover: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestSignerHangs: a peer that accepts TCP but never answers makes calls
// fail with ErrUnavailable after the client's timeout, not later.
func TestSignerHangs(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lis.Close() })
	go func() {
		for {
			conn, err := lis.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { conn.Close() })
		}
	}()
	ca := testpki.New(t, "ca")
	c, err := Dial(lis.Addr().String(), ClientTLSConfig(ca.Pool, nil, serverName), ClientOptions{Timeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	_, err = c.Sign(context.Background(), "id", []byte("m"))
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Sign against a silent peer = %v, want ErrUnavailable (deadline)", err)
	}
	if d := time.Since(start); d < 400*time.Millisecond || d > 3*time.Second {
		t.Errorf("Sign took %v, want about the 500ms timeout", d)
	}
}

func TestDialNeedsTLS(t *testing.T) {
	if _, err := Dial("127.0.0.1:1", nil, ClientOptions{}); err == nil {
		t.Error("Dial without TLS succeeded")
	}
}

func TestLoadTLSErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.pem")
	if err := os.WriteFile(empty, []byte("not pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	ca := testpki.New(t, "ca")
	cert, key := ca.Issue(t, serverName, serverCert).Files()
	if _, err := LoadServerTLS(cert, key, empty); err == nil {
		t.Error("LoadServerTLS with a CA file holding no certificate succeeded")
	}
	conf, err := LoadServerTLS(cert, key, "")
	if err != nil {
		t.Fatal(err)
	}
	if conf.ClientAuth != tls.NoClientCert || conf.MinVersion != tls.VersionTLS12 {
		t.Errorf("server TLS without client CA: auth %v, min version %x", conf.ClientAuth, conf.MinVersion)
	}
	caFile := filepath.Join(dir, "ca.pem")
	os.WriteFile(caFile, ca.PEM, 0o600)
	conf, err = LoadServerTLS(cert, key, caFile)
	if err != nil {
		t.Fatal(err)
	}
	if conf.ClientAuth != tls.RequireAndVerifyClientCert {
		t.Errorf("server TLS with a client CA: auth %v, want RequireAndVerifyClientCert", conf.ClientAuth)
	}
	if _, err := LoadClientTLS("", cert, key, serverName); err == nil {
		t.Error("LoadClientTLS without a CA succeeded")
	}
	if _, err := LoadClientTLS(caFile, cert, "", serverName); err == nil {
		t.Error("LoadClientTLS with a certificate but no key succeeded")
	}
}

// TestClientMessageLimit: the client refuses to send a message larger
// than MaxMessageSize instead of relying on gRPC's 2 GiB default.
func TestClientMessageLimit(t *testing.T) {
	s := startSigner(t)
	c := s.dial(t, ClientOptions{})
	ctx := ctxT(t)
	pub, err := c.CreateKey(ctx, "snapshot", "gun", keys.ED25519)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Sign(ctx, pub.ID(), make([]byte, MaxMessageSize+1)); err == nil {
		t.Error("Sign of a message larger than MaxMessageSize succeeded")
	}
	// A snapshot of about 1 MiB (many delegations).
	big := testBody(t, "snapshot", 1, time.Hour, 11000)
	if len(big) < 1<<20 {
		t.Fatalf("test body is %d bytes, want 1 MiB", len(big))
	}
	if _, err := c.Sign(ctx, pub.ID(), big); err != nil {
		t.Errorf("Sign of %d bytes = %v", len(big), err)
	}
}
