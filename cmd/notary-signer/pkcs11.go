package main

import (
	"context"
	"errors"
	"log/slog"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/keystore"
	"github.com/notary-go/notary/signer"
	"github.com/notary-go/notary/signer/pkcs11"
	pb "github.com/notary-go/notary/signer/signerpb"
)

// openToken opens the PKCS#11 backend. The PIN comes from
// NOTARY_SIGNER_PKCS11_PIN only.
//
// signer.Server signs with the *keys.PrivateKey its store's Get returns,
// which a token cannot hand out (keys.FromCrypto takes software keys
// only), so KeyManagement and Signer are served here by tokenService,
// with signer.Server's codes and messages, and signatures made by the
// token through (*pkcs11.Store).Signer. signer.Server still provides the
// health services.
func openToken(cfg *config, e env, log *slog.Logger) (*keyStore, error) {
	pin, _ := e.lookup(envPKCS11PIN)
	pc := pkcs11.Config{Module: cfg.pkcs11Module, TokenLabel: cfg.pkcs11Token, PIN: pin, MaxSessions: cfg.pkcs11Max}
	if pin == "" {
		return nil, errors.New("the pkcs11 backend needs the token's user PIN in " + envPKCS11PIN)
	}
	st, err := pkcs11.Open(pc)
	if err != nil {
		return nil, err // never holds the PIN
	}
	log.Info("using the PKCS#11 token", "pkcs11", pc) // pkcs11.Config logs without its PIN
	ts := &tokenService{st: st, log: log}
	return &keyStore{
		store: st,
		register: func(gs *grpc.Server, srv *signer.Server) {
			srv.Register(healthOnly{gs})
			pb.RegisterKeyManagementServer(gs, tokenKeyManagement{tokenService: ts})
			pb.RegisterSignerServer(gs, tokenSigner{tokenService: ts})
		},
		close: func() { st.Close() },
	}, nil
}

// healthOnly registers only grpc.health.v1.Health.
type healthOnly struct{ r grpc.ServiceRegistrar }

func (h healthOnly) RegisterService(d *grpc.ServiceDesc, impl any) {
	if d.ServiceName == healthpb.Health_ServiceDesc.ServiceName {
		h.r.RegisterService(d, impl)
	}
}

// tokenService serves KeyManagement and Signer from a PKCS#11 token.
type tokenService struct {
	st  *pkcs11.Store
	log *slog.Logger
}

type tokenKeyManagement struct {
	pb.UnimplementedKeyManagementServer
	*tokenService
}

type tokenSigner struct {
	pb.UnimplementedSignerServer
	*tokenService
}

func isNotFound(err error) bool {
	return errors.Is(err, keystore.ErrNotFound) || errors.Is(err, keystore.ErrInvalidID)
}

// failure logs a token failure and returns the status to send.
func (t *tokenService) failure(ctx context.Context, op, id string, err error, st *status.Status) error {
	t.log.Error(op+" failed", "key_id", id, "err", err)
	if ctxErr := ctx.Err(); ctxErr != nil {
		return status.FromContextError(ctxErr).Err()
	}
	return st.Err()
}

func (t tokenKeyManagement) CreateKey(ctx context.Context, req *pb.CreateKeyRequest) (*pb.PublicKey, error) {
	alg := req.GetAlgorithm()
	if alg != keys.ECDSA && alg != keys.ED25519 {
		return nil, status.Errorf(codes.Unknown, "algorithm %s not supported for create key", alg)
	}
	pub, err := t.st.Create(ctx, req.GetRole(), req.GetGun(), alg)
	if err != nil {
		return nil, t.failure(ctx, "CreateKey", "", err, status.New(codes.Internal, "Key creation failed"))
	}
	t.log.Info("CreateKey", "key_id", pub.ID(), "role", req.GetRole(), "gun", req.GetGun(), "algorithm", alg)
	return &pb.PublicKey{KeyInfo: keyInfo(pub.ID(), pub.Type), PublicKey: pub.Public}, nil
}

func (t tokenKeyManagement) DeleteKey(ctx context.Context, req *pb.KeyID) (*pb.Void, error) {
	id := req.GetID()
	if err := t.st.Remove(ctx, id); err != nil && !isNotFound(err) {
		return nil, t.failure(ctx, "DeleteKey", id, err, status.Newf(codes.Internal, "Key deletion for KeyID %s failed", id))
	}
	return &pb.Void{}, nil
}

func (t tokenKeyManagement) GetKeyInfo(ctx context.Context, req *pb.KeyID) (*pb.GetKeyInfoResponse, error) {
	id := req.GetID()
	k, err := t.st.Signer(ctx, id)
	if err != nil {
		if isNotFound(err) {
			return nil, status.Errorf(codes.NotFound, "key %s not found", id)
		}
		return nil, t.failure(ctx, "GetKeyInfo", id, err, status.Newf(codes.Internal, "key %s is unavailable", id))
	}
	pub := k.Public()
	return &pb.GetKeyInfoResponse{KeyInfo: keyInfo(pub.ID(), pub.Type), PublicKey: pub.Public, Role: k.Info().Role}, nil
}

func (t tokenSigner) Sign(ctx context.Context, req *pb.SignatureRequest) (*pb.Signature, error) {
	id := req.GetKeyID().GetID()
	k, err := t.st.Signer(ctx, id)
	if err != nil {
		if isNotFound(err) {
			return nil, status.Errorf(codes.NotFound, "signing key not found: %s", id)
		}
		return nil, t.failure(ctx, "Sign", id, err, status.Newf(codes.Internal, "key %s is unavailable", id))
	}
	sig, method, err := k.Sign(ctx, req.GetContent())
	if err != nil {
		return nil, t.failure(ctx, "Sign", id, err, status.Newf(codes.Internal, "Signing failed for KeyID %s", id))
	}
	pub := k.Public()
	return &pb.Signature{
		KeyInfo:   keyInfo(pub.ID(), pub.Type),
		Algorithm: &pb.Algorithm{Algorithm: method},
		Content:   sig,
	}, nil
}

func keyInfo(id, typ string) *pb.KeyInfo {
	return &pb.KeyInfo{KeyID: &pb.KeyID{ID: id}, Algorithm: &pb.Algorithm{Algorithm: typ}}
}
