package signer

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/notary-go/notary/internal/testpki"
	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/keystore"
	"github.com/notary-go/notary/signer/keydb"
	pb "github.com/notary-go/notary/signer/signerpb"
)

const serverName = "notary-signer.test"

// serverCert is the signer's certificate: serverName and 127.0.0.1.
var serverCert = testpki.Options{DNS: []string{serverName}, IPs: testpki.Loopback(), ServerAuth: true}

// clientCert is a client certificate.
var clientCert = testpki.Options{ClientAuth: true}

// testSigner is a signer listening on loopback with mutual TLS.
type testSigner struct {
	addr   string
	ca     *testpki.CA // issued the server and the good client certificates
	client tlsCertPair
	server tlsCertPair // the signer's own certificate
	db     *keydb.DB
	srv    *Server
	gs     *grpc.Server
}

type tlsCertPair struct{ certFile, keyFile, caFile string }

// startSigner runs a signer over a memory keydb with mutual TLS, its
// configuration loaded from PEM files as cmd/notary-signer will.
func startSigner(t testing.TB) *testSigner {
	t.Helper()
	return startSignerWith(t, Options{})
}

// startSignerWith is startSigner with server options (a Policy, a clock).
func startSignerWith(t testing.TB, opts Options) *testSigner {
	t.Helper()
	ca := testpki.New(t, "signer test CA")
	caFile := ca.CAFile
	srvCert, srvKey := ca.Issue(t, serverName, serverCert).Files()
	cliCert, cliKey := ca.Issue(t, "notary-server", clientCert).Files()
	tlsConf, err := LoadServerTLS(srvCert, srvKey, caFile)
	if err != nil {
		t.Fatal(err)
	}
	db, err := keydb.NewMemory(keydb.Options{DefaultAlias: "alias1", Passphrases: keydb.ConstantPassphrase("pw")})
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer(grpc.Creds(credentials.NewTLS(tlsConf)))
	srv := NewServer(db, opts)
	srv.Register(gs)
	go gs.Serve(lis)
	t.Cleanup(gs.Stop)
	return &testSigner{
		addr: lis.Addr().String(), ca: ca, db: db, srv: srv, gs: gs,
		client: tlsCertPair{certFile: cliCert, keyFile: cliKey, caFile: caFile},
		server: tlsCertPair{certFile: srvCert, keyFile: srvKey, caFile: caFile},
	}
}

// dial returns a Client with the good client certificate.
func (s *testSigner) dial(t testing.TB, opts ClientOptions) *Client {
	t.Helper()
	return s.dialAs(t, s.client, opts)
}

// dialAs returns a Client presenting cert.
func (s *testSigner) dialAs(t testing.TB, cert tlsCertPair, opts ClientOptions) *Client {
	t.Helper()
	tlsConf, err := LoadClientTLS(cert.caFile, cert.certFile, cert.keyFile, serverName)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Dial(s.addr, tlsConf, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// rawConn is a plain gRPC connection for checking exact wire answers.
func (s *testSigner) rawConn(t testing.TB) *grpc.ClientConn {
	t.Helper()
	tlsConf, err := LoadClientTLS(s.client.caFile, s.client.certFile, s.client.keyFile, serverName)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(s.addr, grpc.WithTransportCredentials(credentials.NewTLS(tlsConf)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestCreateSignVerify is the full round trip over mutual TLS: create a
// key, fetch it back, sign the full message and verify with keys.
func TestCreateSignVerify(t *testing.T) {
	s := startSigner(t)
	c := s.dial(t, ClientOptions{})
	ctx := ctxT(t)
	for _, typ := range []string{keys.ECDSA, keys.ED25519} {
		t.Run(typ, func(t *testing.T) {
			pub, err := c.CreateKey(ctx, "timestamp", "docker.io/library/"+typ, typ)
			if err != nil {
				t.Fatal(err)
			}
			if pub.Type != typ {
				t.Errorf("key type = %s, want %s", pub.Type, typ)
			}
			info, err := c.GetKeyInfo(ctx, pub.ID())
			if err != nil {
				t.Fatal(err)
			}
			if info.ID != pub.ID() || info.Role != "timestamp" || info.Public.ID() != pub.ID() {
				t.Errorf("GetKeyInfo = %+v", info)
			}
			msg := tsBody(t)
			ks := c.Signer(pub)
			sig, err := ks.Sign(ctx, msg)
			if err != nil {
				t.Fatal(err)
			}
			if err := pub.Verify(ks.Method(), msg, sig); err != nil {
				t.Errorf("signature does not verify: %v", err)
			}
			if ks.ID() != pub.ID() {
				t.Errorf("KeySigner.ID = %s, want %s", ks.ID(), pub.ID())
			}
		})
	}
}

// TestPendingUntilSigned checks §6.4 through the API: CreateKey repeats
// the key until it signs, then makes a new one.
func TestPendingUntilSigned(t *testing.T) {
	s := startSigner(t)
	c := s.dial(t, ClientOptions{})
	ctx := ctxT(t)
	a, err := c.CreateKey(ctx, "snapshot", "gun", keys.ECDSA)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.CreateKey(ctx, "snapshot", "gun", keys.ECDSA)
	if err != nil {
		t.Fatal(err)
	}
	if a.ID() != b.ID() {
		t.Fatalf("second CreateKey before any signature = %s, want the pending %s", b.ID(), a.ID())
	}
	if _, err := c.Sign(ctx, a.ID(), snBody(t)); err != nil {
		t.Fatal(err)
	}
	d, err := c.CreateKey(ctx, "snapshot", "gun", keys.ECDSA)
	if err != nil {
		t.Fatal(err)
	}
	if d.ID() == a.ID() {
		t.Error("CreateKey after a signature returned the used key (Sign did not mark it used)")
	}
}

// TestWireAnswers checks codes, messages and fields as v1 sends them.
func TestWireAnswers(t *testing.T) {
	s := startSigner(t)
	conn := s.rawConn(t)
	km, sg := pb.NewKeyManagementClient(conn), pb.NewSignerClient(conn)
	ctx := ctxT(t)

	_, err := km.CreateKey(ctx, &pb.CreateKeyRequest{Algorithm: "rsa", Gun: "g", Role: "timestamp"})
	if st := status.Convert(err); st.Code() != codes.Unknown || st.Message() != "algorithm rsa not supported for create key" {
		t.Errorf("CreateKey(rsa) = %v, want Unknown \"algorithm rsa not supported for create key\"", err)
	}
	unknown := strings.Repeat("ab", 32)
	_, err = km.GetKeyInfo(ctx, &pb.KeyID{ID: unknown})
	if st := status.Convert(err); st.Code() != codes.NotFound || st.Message() != "key "+unknown+" not found" {
		t.Errorf("GetKeyInfo(unknown) = %v, want NotFound \"key <id> not found\"", err)
	}
	_, err = sg.Sign(ctx, &pb.SignatureRequest{KeyID: &pb.KeyID{ID: unknown}, Content: []byte("m")})
	if st := status.Convert(err); st.Code() != codes.NotFound || st.Message() != "signing key not found: "+unknown {
		t.Errorf("Sign(unknown) = %v, want NotFound", err)
	}
	_, err = sg.Sign(ctx, &pb.SignatureRequest{})
	if status.Code(err) != codes.NotFound {
		t.Errorf("Sign without a key ID = %v, want NotFound", err)
	}
	if _, err := km.DeleteKey(ctx, &pb.KeyID{ID: unknown}); err != nil {
		t.Errorf("DeleteKey(unknown) = %v, want success as in v1", err)
	}

	pk, err := km.CreateKey(ctx, &pb.CreateKeyRequest{Algorithm: "ecdsa", Gun: "g", Role: "timestamp"})
	if err != nil {
		t.Fatal(err)
	}
	id := pk.GetKeyInfo().GetKeyID().GetID()
	pub := keys.NewPublicKey(pk.GetKeyInfo().GetAlgorithm().GetAlgorithm(), pk.GetPublicKey())
	if pub.Type != "ecdsa" || pub.ID() != id {
		t.Errorf("CreateKey answer: type %s, id %s; public key id %s", pub.Type, id, pub.ID())
	}
	if _, err := pub.CryptoPublicKey(); err != nil {
		t.Errorf("publicKey is not DER SubjectPublicKeyInfo: %v", err)
	}
	info, err := km.GetKeyInfo(ctx, &pb.KeyID{ID: id})
	if err != nil {
		t.Fatal(err)
	}
	if info.GetRole() != "timestamp" || info.GetKeyInfo().GetAlgorithm().GetAlgorithm() != "ecdsa" || string(info.GetPublicKey()) != string(pk.GetPublicKey()) {
		t.Errorf("GetKeyInfo answer = %v", info)
	}
	msg := tsBody(t)
	sig, err := sg.Sign(ctx, &pb.SignatureRequest{KeyID: &pb.KeyID{ID: id}, Content: msg})
	if err != nil {
		t.Fatal(err)
	}
	if sig.GetAlgorithm().GetAlgorithm() != "ecdsa" || sig.GetKeyInfo().GetAlgorithm().GetAlgorithm() != "ecdsa" || sig.GetKeyInfo().GetKeyID().GetID() != id {
		t.Errorf("Sign answer = %v", sig)
	}
	if len(sig.GetContent()) != 64 {
		t.Errorf("ecdsa signature is %d bytes, want raw r||s (64)", len(sig.GetContent()))
	}
	if err := pub.Verify("ecdsa", msg, sig.GetContent()); err != nil {
		t.Error(err)
	}
	if _, err := km.DeleteKey(ctx, &pb.KeyID{ID: id}); err != nil {
		t.Fatal(err)
	}
	if _, err := km.GetKeyInfo(ctx, &pb.KeyID{ID: id}); status.Code(err) != codes.NotFound {
		t.Errorf("GetKeyInfo after DeleteKey = %v, want NotFound", err)
	}

	ed, err := km.CreateKey(ctx, &pb.CreateKeyRequest{Algorithm: "ed25519", Gun: "g", Role: "snapshot"})
	if err != nil {
		t.Fatal(err)
	}
	if len(ed.GetPublicKey()) != 32 {
		t.Errorf("ed25519 publicKey is %d bytes, want 32", len(ed.GetPublicKey()))
	}
	edSig, err := sg.Sign(ctx, &pb.SignatureRequest{KeyID: ed.GetKeyInfo().GetKeyID(), Content: snBody(t)})
	if err != nil {
		t.Fatal(err)
	}
	if edSig.GetAlgorithm().GetAlgorithm() != "eddsa" || edSig.GetKeyInfo().GetAlgorithm().GetAlgorithm() != "ed25519" {
		t.Errorf("ed25519 Sign answer: algorithm %q, key type %q; want eddsa, ed25519",
			edSig.GetAlgorithm().GetAlgorithm(), edSig.GetKeyInfo().GetAlgorithm().GetAlgorithm())
	}
}

// failingStore fails every call as a database outage would.
type failingStore struct{ keystore.Service }

var errDown = errors.New("database is down")

func (failingStore) Create(context.Context, string, string, string) (keys.PublicKey, error) {
	return keys.PublicKey{}, errDown
}
func (failingStore) Get(context.Context, string) (*keys.PrivateKey, keystore.KeyInfo, error) {
	return nil, keystore.KeyInfo{}, errDown
}
func (failingStore) Remove(context.Context, string) error { return errDown }

func TestStoreFailures(t *testing.T) {
	gs := grpc.NewServer()
	NewServer(failingStore{}, Options{}).Register(gs)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go gs.Serve(lis)
	t.Cleanup(gs.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	km, sg := pb.NewKeyManagementClient(conn), pb.NewSignerClient(conn)
	ctx := ctxT(t)
	id := strings.Repeat("cd", 32)
	tests := []struct {
		name string
		call func() error
		code codes.Code
		msg  string
	}{
		{name: "CreateKey", code: codes.Internal, msg: "Key creation failed", call: func() error {
			_, err := km.CreateKey(ctx, &pb.CreateKeyRequest{Algorithm: "ecdsa", Role: "timestamp"})
			return err
		}},
		{name: "DeleteKey", code: codes.Internal, msg: "Key deletion for KeyID " + id + " failed", call: func() error {
			_, err := km.DeleteKey(ctx, &pb.KeyID{ID: id})
			return err
		}},
		{name: "GetKeyInfo", code: codes.Internal, call: func() error {
			_, err := km.GetKeyInfo(ctx, &pb.KeyID{ID: id})
			return err
		}},
		{name: "Sign", code: codes.Internal, call: func() error {
			_, err := sg.Sign(ctx, &pb.SignatureRequest{KeyID: &pb.KeyID{ID: id}})
			return err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := status.Convert(tc.call())
			if st.Code() != tc.code || (tc.msg != "" && st.Message() != tc.msg) {
				t.Errorf("got %v %q, want %v %q", st.Code(), st.Message(), tc.code, tc.msg)
			}
			if strings.Contains(st.Message(), errDown.Error()) {
				t.Errorf("status leaks the store's error: %q", st.Message())
			}
		})
	}
}

func TestHealth(t *testing.T) {
	s := startSigner(t)
	c := s.dial(t, ClientOptions{})
	ctx := ctxT(t)
	if err := c.CheckHealth(ctx); err != nil {
		t.Fatalf("CheckHealth: %v", err)
	}
	hc := healthpb.NewHealthClient(s.rawConn(t))
	for _, svc := range []string{"", HealthKeyManagement, HealthSigner} {
		resp, err := hc.Check(ctx, &healthpb.HealthCheckRequest{Service: svc})
		if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("health of %q = %v, %v; want SERVING", svc, resp.GetStatus(), err)
		}
	}
	s.srv.SetServing(false)
	if err := c.CheckHealth(ctx); !errors.Is(err, ErrUnavailable) {
		t.Errorf("CheckHealth of a NOT_SERVING signer = %v, want ErrUnavailable", err)
	}
	s.srv.SetServing(true)
	if err := c.CheckHealth(ctx); err != nil {
		t.Errorf("CheckHealth after SetServing(true): %v", err)
	}
}

// TestMalformedIDs: IDs no key can have (empty, path-like, uppercase) are
// NotFound, as in v1, not Internal.
func TestMalformedIDs(t *testing.T) {
	s := startSigner(t)
	conn := s.rawConn(t)
	km, sg := pb.NewKeyManagementClient(conn), pb.NewSignerClient(conn)
	ctx := ctxT(t)
	for _, id := range []string{"", "../../etc/passwd", strings.Repeat("AB", 32), "abc"} {
		if _, err := km.GetKeyInfo(ctx, &pb.KeyID{ID: id}); status.Code(err) != codes.NotFound {
			t.Errorf("GetKeyInfo(%q) = %v, want NotFound", id, err)
		}
		if _, err := sg.Sign(ctx, &pb.SignatureRequest{KeyID: &pb.KeyID{ID: id}}); status.Code(err) != codes.NotFound {
			t.Errorf("Sign(%q) = %v, want NotFound", id, err)
		}
		if _, err := km.DeleteKey(ctx, &pb.KeyID{ID: id}); err != nil {
			t.Errorf("DeleteKey(%q) = %v, want success", id, err)
		}
	}
}
