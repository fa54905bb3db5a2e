package main

import (
	"context"
	"log/slog"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// errNoClientCert is the status of a KeyManagement or Signer call (or any
// other non-health call) from a client without a verified certificate.
var errNoClientCert = status.Error(codes.Unauthenticated,
	"notary-signer: a client certificate issued by the signer's client CA is required (mutual TLS)")

// verifiedPeer returns the subject of the client's verified certificate,
// and false when the connection did not present one that verified.
func verifiedPeer(ctx context.Context) (string, bool) {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return "", false
	}
	ti, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok || len(ti.State.VerifiedChains) == 0 || len(ti.State.VerifiedChains[0]) == 0 {
		return "", false
	}
	return ti.State.VerifiedChains[0][0].Subject.String(), true
}

// authorize admits Health/Check from anyone who completed the TLS
// handshake, and every other call only from a client whose certificate
// verified against the client CA. Default deny: a service added later is
// protected too. anonTap refuses the same calls earlier; this is the
// second line should the tap be lost from the server options.
func authorize(ctx context.Context, method string, log *slog.Logger) error {
	if method == anonMethod {
		return nil
	}
	if _, ok := verifiedPeer(ctx); ok {
		return nil
	}
	addr := ""
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		addr = p.Addr.String()
	}
	log.Warn("refused a call without a client certificate", "method", method, "peer", addr)
	return errNoClientCert
}

func authUnary(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if err := authorize(ctx, info.FullMethod, log); err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

func authStream(log *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if err := authorize(ss.Context(), info.FullMethod, log); err != nil {
			return err
		}
		return handler(srv, ss)
	}
}

// logUnary logs every call at debug level: method, client, status and
// duration. Requests and responses (key material, messages, signatures)
// are never logged.
func logUnary(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if !log.Enabled(ctx, slog.LevelDebug) {
			return handler(ctx, req)
		}
		start := time.Now()
		resp, err := handler(ctx, req)
		client, _ := verifiedPeer(ctx)
		log.Debug("grpc call", "method", info.FullMethod, "client", client,
			"code", status.Code(err).String(), "duration", time.Since(start).String())
		return resp, err
	}
}
