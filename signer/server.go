package signer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/keystore"
	pb "github.com/notary-go/notary/signer/signerpb"
)

// Health service names the signer reports SERVING, as v1 does
// (notary.HealthCheckKeyManagement and notary.HealthCheckSigner). The
// notary-server checks both; the overall service "" is SERVING too.
const (
	HealthKeyManagement = "grpc.health.v1.Health.KeyManagement"
	HealthSigner        = "grpc.health.v1.Health.Signer"
)

// Metadata keys carrying a key's GUN, beside the v0.7.0 messages (which
// have no field for it): a v0.7.0 peer ignores them, so the wire contract
// is unchanged. Binary ("-bin") because a GUN need not be printable
// ASCII.
const (
	// KeyGUNHeader is sent by our signer in the response header of
	// GetKeyInfo: the GUN the key was created (or imported) for.
	KeyGUNHeader = "notary-key-gun-bin"
	// SignGUNHeader is sent by our notary-server in a Sign request: the
	// GUN whose metadata is being signed. Our signer refuses
	// (PermissionDenied) to sign with a key of another GUN.
	SignGUNHeader = "notary-sign-gun-bin"
)

// markUsedTimeout bounds recording a key's use after a signature, which
// goes on even when the caller has gone.
const markUsedTimeout = 5 * time.Second

// UsageRecorder is implemented by key stores that track whether a key has
// signed (keydb.DB): after every successful signature the server calls
// MarkUsed, which ends the key's pending state (v1's last_used).
type UsageRecorder interface {
	MarkUsed(ctx context.Context, id string) error
}

// Options configure a Server.
type Options struct {
	// Logger receives a line per failed call and per key created. Lines
	// carry key IDs, roles and GUNs, never key material or message
	// content. Nil discards.
	Logger *slog.Logger
	// Policy says which client certificate may do what to which GUN's
	// keys. Nil allows every caller everything, as v0.7.0 does.
	Policy *Policy
	// Limits bound what Sign accepts; the zero value means
	// DefaultSignLimits.
	Limits SignLimits
	// Now is the clock for expiry checks; nil means time.Now.
	Now func() time.Time
}

// Server serves the KeyManagement and Signer services over a key store,
// with v1's semantics and status codes (docs/protocol.md §6.3). It is
// safe for concurrent use.
type Server struct {
	store    keystore.Service
	log      *slog.Logger
	health   *health.Server
	policy   *Policy
	limits   SignLimits
	now      func() time.Time
	versions versionTracker
}

// NewServer returns a Server over store; key creation, lookup, signing
// and deletion all go to store. If store implements UsageRecorder, keys
// are marked used after they sign.
func NewServer(store keystore.Service, opts Options) *Server {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Server{store: store, log: log, health: health.NewServer(), policy: opts.Policy, limits: opts.Limits, now: opts.Now}
	if s.limits == (SignLimits{}) {
		s.limits = DefaultSignLimits
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.SetServing(true)
	return s
}

// Register adds the KeyManagement, Signer and grpc.health.v1.Health
// services to r (a *grpc.Server).
func (s *Server) Register(r grpc.ServiceRegistrar) {
	pb.RegisterKeyManagementServer(r, &keyManagement{s: s})
	pb.RegisterSignerServer(r, &signing{s: s})
	healthpb.RegisterHealthServer(r, s.health)
}

// SetServing sets the health of HealthKeyManagement, HealthSigner and the
// overall service "": SERVING when serving is true, else NOT_SERVING
// (e.g. while the key database is unreachable, or while shutting down).
func (s *Server) SetServing(serving bool) {
	st := healthpb.HealthCheckResponse_NOT_SERVING
	if serving {
		st = healthpb.HealthCheckResponse_SERVING
	}
	for _, name := range []string{"", HealthKeyManagement, HealthSigner} {
		s.health.SetServingStatus(name, st)
	}
}

type keyManagement struct {
	pb.UnimplementedKeyManagementServer
	s *Server
}

type signing struct {
	pb.UnimplementedSignerServer
	s *Server
}

// CreateKey makes (or hands out a pending) key. Like v1, a key type other
// than ecdsa or ed25519 fails with code Unknown and "algorithm X not
// supported for create key"; a store failure is Internal "Key creation
// failed".
func (k *keyManagement) CreateKey(ctx context.Context, req *pb.CreateKeyRequest) (*pb.PublicKey, error) {
	if !signableRole(req.GetRole()) {
		// Never a root (or targets) key: the signer only ever signs what a
		// notary-server signs. v0.7.0's server asks for no other role.
		k.s.log.Warn("CreateKey: refused a key for a role the signer does not hold", "role", req.GetRole(), "gun", req.GetGun())
		return nil, status.Errorf(codes.InvalidArgument, "the signer holds only timestamp and snapshot keys, not %q", req.GetRole())
	}
	if err := k.s.authorize(ctx, "CreateKey", OpCreate, req.GetGun(), ""); err != nil {
		return nil, err
	}
	alg := req.GetAlgorithm()
	if alg != keys.ECDSA && alg != keys.ED25519 {
		k.s.log.Warn("CreateKey: unsupported algorithm", "algorithm", alg)
		return nil, status.Errorf(codes.Unknown, "algorithm %s not supported for create key", alg)
	}
	pub, err := k.s.store.Create(ctx, req.GetRole(), req.GetGun(), alg)
	if err != nil {
		k.s.log.Error("CreateKey failed", "role", req.GetRole(), "gun", req.GetGun(), "algorithm", alg, "err", err)
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, status.FromContextError(ctxErr).Err()
		}
		return nil, status.Error(codes.Internal, "Key creation failed")
	}
	k.s.log.Info("CreateKey", "key_id", pub.ID(), "role", req.GetRole(), "gun", req.GetGun(), "algorithm", alg)
	return &pb.PublicKey{KeyInfo: keyInfo(pub.ID(), pub.Type), PublicKey: pub.Public}, nil
}

// DeleteKey removes the key. As with v1's SQL store, deleting an unknown
// key succeeds; a store failure is Internal.
func (k *keyManagement) DeleteKey(ctx context.Context, req *pb.KeyID) (*pb.Void, error) {
	id := req.GetID()
	if k.s.policy != nil {
		_, info, err := k.s.get(ctx, id)
		switch {
		case isNotFound(err):
			if err := k.s.authorizeAny(ctx, "DeleteKey"); err != nil {
				return nil, err
			}
			return &pb.Void{}, nil
		case err != nil && !errors.Is(err, keystore.ErrPassphraseGiveUp) && !errors.Is(err, keystore.ErrBadPassphrase):
			return nil, k.s.internal(ctx, "DeleteKey", id, err)
		}
		// A key that does not decrypt still has its GUN, unless the store
		// could not say; then only a client allowed every GUN may delete.
		if err := k.s.authorize(ctx, "DeleteKey", OpDelete, info.GUN, id); err != nil {
			return nil, err
		}
	}
	if err := k.s.store.Remove(ctx, id); err != nil && !isNotFound(err) {
		k.s.log.Error("DeleteKey failed", "key_id", id, "err", err)
		return nil, status.Errorf(codes.Internal, "Key deletion for KeyID %s failed", id)
	}
	return &pb.Void{}, nil
}

// GetKeyInfo returns the key's public half and role; an unknown key is
// NotFound "key <id> not found" as in v1. Unlike v1, which answered
// NotFound for any failure, a store failure (database down, passphrase
// missing) is Internal, so callers do not mistake it for a missing key.
func (k *keyManagement) GetKeyInfo(ctx context.Context, req *pb.KeyID) (*pb.GetKeyInfoResponse, error) {
	id := req.GetID()
	if err := k.s.authorizeAny(ctx, "GetKeyInfo"); err != nil {
		return nil, err
	}
	priv, info, err := k.s.get(ctx, id)
	if err != nil {
		if isNotFound(err) {
			return nil, status.Errorf(codes.NotFound, "key %s not found", id)
		}
		return nil, k.s.internal(ctx, "GetKeyInfo", id, err)
	}
	if err := k.s.authorize(ctx, "GetKeyInfo", OpInfo, info.GUN, id); err != nil {
		return nil, err
	}
	pub := priv.Public()
	// Outside a gRPC call (direct use in tests) there is no header to set.
	_ = grpc.SetHeader(ctx, metadata.Pairs(KeyGUNHeader, info.GUN))
	return &pb.GetKeyInfoResponse{KeyInfo: keyInfo(priv.ID(), pub.Type), PublicKey: pub.Public, Role: info.Role}, nil
}

// Sign signs the request content, the full canonical message, with the
// key. It returns the raw signature, the signature method as algorithm and
// the key type in keyInfo. An unknown key is NotFound "signing key not
// found: <id>" (v1's wording).
func (g *signing) Sign(ctx context.Context, req *pb.SignatureRequest) (*pb.Signature, error) {
	id := req.GetKeyID().GetID()
	if err := g.s.authorizeAny(ctx, "Sign"); err != nil {
		return nil, err
	}
	priv, info, err := g.s.get(ctx, id)
	if err != nil {
		if isNotFound(err) {
			return nil, status.Errorf(codes.NotFound, "signing key not found: %s", id)
		}
		return nil, g.s.internal(ctx, "Sign", id, err)
	}
	// Issue 10: a root of GUN B may list GUN A's timestamp key; the key
	// must still never sign B's metadata.
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		if want := md.Get(SignGUNHeader); len(want) > 0 && want[0] != info.GUN {
			g.s.log.Warn("Sign: refused a key of another GUN", "key_id", id, "key_gun", info.GUN, "requested_gun", want[0])
			return nil, status.Errorf(codes.PermissionDenied, "key %s does not belong to GUN %q", id, want[0])
		}
	}
	if err := g.s.authorize(ctx, "Sign", OpSign, info.GUN, id); err != nil {
		return nil, err
	}
	version, err := checkSignable(id, info.Role, req.GetContent(), g.s.now(), g.s.limits, &g.s.versions)
	if err != nil {
		g.s.log.Warn("Sign: refused", "key_id", id, "role", info.Role, "gun", info.GUN, "err", err)
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	sig, err := priv.Sign(req.GetContent())
	if err != nil {
		g.s.log.Error("Sign: signing failed", "key_id", id, "err", err)
		return nil, status.Errorf(codes.Internal, "Signing failed for KeyID %s", id)
	}
	g.s.versions.signed(id, version)
	if rec, ok := g.s.store.(UsageRecorder); ok {
		mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), markUsedTimeout)
		if err := rec.MarkUsed(mctx, id); err != nil {
			g.s.log.Warn("Sign: could not record the key's use", "key_id", id, "err", err)
		}
		cancel()
	}
	return &pb.Signature{
		KeyInfo:   keyInfo(priv.ID(), priv.Type()),
		Algorithm: &pb.Algorithm{Algorithm: priv.Method()},
		Content:   sig,
	}, nil
}

// authorize checks the caller may do op on a key of gun (id, if known, is
// logged): PermissionDenied otherwise.
func (s *Server) authorize(ctx context.Context, method, op, gun, id string) error {
	if s.policy == nil {
		return nil
	}
	names := PeerNames(ctx)
	if s.policy.Allows(names, op, gun) {
		return nil
	}
	s.log.Warn(method+": refused by the authorization policy", "client", names, "operation", op, "gun", gun, "key_id", id)
	return status.Errorf(codes.PermissionDenied, "client %v may not %s keys of GUN %q", names, op, gun)
}

// authorizeAny refuses, before any lookup, a caller no grant names.
func (s *Server) authorizeAny(ctx context.Context, method string) error {
	if s.policy == nil {
		return nil
	}
	names := PeerNames(ctx)
	if s.policy.knows(names) {
		return nil
	}
	s.log.Warn(method+": refused a client the authorization policy does not name", "client", names)
	return status.Errorf(codes.PermissionDenied, "client %v is not named by the signer's authorization policy", names)
}

// get looks a key up.
func (s *Server) get(ctx context.Context, id string) (*keys.PrivateKey, keystore.KeyInfo, error) {
	return s.store.Get(ctx, id)
}

// isNotFound: like v1, a malformed key ID (one no key can have) is just
// not found.
func isNotFound(err error) bool {
	return errors.Is(err, keystore.ErrNotFound) || errors.Is(err, keystore.ErrInvalidID)
}

// internal logs a store failure and returns the status to send: the
// caller's own cancellation, or Internal without the failure's details.
func (s *Server) internal(ctx context.Context, op, id string, err error) error {
	s.log.Error(op+": key lookup failed", "key_id", id, "err", err)
	if ctxErr := ctx.Err(); ctxErr != nil {
		return status.FromContextError(ctxErr).Err()
	}
	return status.Error(codes.Internal, fmt.Sprintf("key %s is unavailable", id))
}

func keyInfo(id, typ string) *pb.KeyInfo {
	return &pb.KeyInfo{KeyID: &pb.KeyID{ID: id}, Algorithm: &pb.Algorithm{Algorithm: typ}}
}
