package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/encoding/proto"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/tap"

	"github.com/notary-go/notary/signer"
)

// Resource limits. Every peer that completes the TLS handshake reaches
// the gRPC transport, certificate or not (load balancers probe health
// without one), so what an anonymous peer can make the signer hold must
// be bounded before anything is authenticated (issue 18 item 1: 20,000
// anonymous Health/Watch streams on one connection held 246 MB).
const (
	// maxConnections caps open connections; Accept waits while full.
	maxConnections = 1024
	// maxAnonConnections caps connections without a verified client
	// certificate; more are closed right after the handshake.
	maxAnonConnections = 64
	// anonReadBudget is how many bytes a connection without a client
	// certificate may send in its lifetime before it is closed. A health
	// check costs about a hundred bytes, so a prober keeping one connection
	// open gets thousands of checks before it reconnects; a peer cannot
	// park a large message or many streams on the signer.
	anonReadBudget = 1 << 20
	// maxStreams is the HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS per
	// connection; streams beyond it are refused (REFUSED_STREAM).
	maxStreams = 64
	// maxHeaderListSize caps a request's metadata.
	maxHeaderListSize = 16 << 10
	// maxHealthRequest caps a grpc.health.v1 request (a service name),
	// checked before it is decoded.
	maxHealthRequest = 1 << 10
	// anonLifetime: a connection without a client certificate is closed
	// this long after its handshake, idle or not, so idle anonymous
	// connections cannot keep the maxAnonConnections slots taken.
	anonLifetime = 10 * time.Minute
	// Keepalive: pings more often than keepaliveMinTime end the connection
	// (GOAWAY too_many_pings); a peer that does not answer the signer's
	// ping (sent after keepaliveTime without activity) within
	// keepaliveTimeout is dropped. Authenticated connections are not
	// closed for idleness: v0.7.0's notary-server holds one connection
	// and an old gRPC client may fail a call while it reconnects.
	keepaliveMinTime = 30 * time.Second
	keepaliveTime    = 2 * time.Minute
	keepaliveTimeout = 20 * time.Second
)

// anonMethod is the one method a peer without a client certificate may
// call: Health/Check answers from a fixed table, whereas Watch and List
// hold or build per-call state.
const anonMethod = "/grpc.health.v1.Health/Check"

// serverOptions are the grpc.Server options bounding what peers can make
// the signer hold, given the TLS credentials.
func serverOptions(creds credentials.TransportCredentials, log *slog.Logger) []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.Creds(&limitedCreds{TransportCredentials: creds, log: log, anon: newSlots(maxAnonConnections)}),
		grpc.ConnectionTimeout(handshakeTimeout),
		grpc.MaxRecvMsgSize(signer.MaxMessageSize),
		grpc.MaxSendMsgSize(signer.MaxMessageSize),
		grpc.MaxConcurrentStreams(maxStreams),
		grpc.MaxHeaderListSize(maxHeaderListSize),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: keepaliveMinTime}),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: keepaliveTime, Timeout: keepaliveTimeout}),
		// Refuse anonymous calls before a stream exists or a message is read.
		grpc.InTapHandle(anonTap(log)),
		grpc.ForceServerCodecV2(boundedCodec{encoding.GetCodecV2(proto.Name)}),
	}
}

// anonTap refuses every method but anonMethod from a peer without a
// verified client certificate, as the stream arrives: no handler, no
// message buffer, no stream state is kept for it.
func anonTap(log *slog.Logger) tap.ServerInHandle {
	return func(ctx context.Context, info *tap.Info) (context.Context, error) {
		if info.FullMethodName == anonMethod {
			return ctx, nil
		}
		if _, ok := verifiedPeer(ctx); ok {
			return ctx, nil
		}
		if log.Enabled(ctx, slog.LevelDebug) {
			addr := ""
			if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
				addr = p.Addr.String()
			}
			log.Debug("refused a call without a client certificate", "method", info.FullMethodName, "peer", addr)
		}
		return ctx, errNoClientCert
	}
}

// boundedCodec is the proto codec, refusing a health request larger than
// maxHealthRequest before decoding it (the only message anonymous peers
// can send, see anonTap).
type boundedCodec struct{ encoding.CodecV2 }

func (c boundedCodec) Unmarshal(data mem.BufferSlice, v any) error {
	if _, ok := v.(*healthpb.HealthCheckRequest); ok && data.Len() > maxHealthRequest {
		return status.Errorf(codes.ResourceExhausted, "health request of %d bytes is larger than %d", data.Len(), maxHealthRequest)
	}
	return c.CodecV2.Unmarshal(data, v)
}

// slots is a counting semaphore that never waits.
type slots struct{ free atomic.Int64 }

func newSlots(n int64) *slots { s := &slots{}; s.free.Store(n); return s }

func (s *slots) take() bool {
	if s.free.Add(-1) < 0 {
		s.free.Add(1)
		return false
	}
	return true
}

func (s *slots) give() { s.free.Add(1) }

var errTooManyAnon = errors.New("too many connections without a client certificate")

// limitedCreds logs refused TLS handshakes (a certificate from another
// CA, an expired one, no TLS at all), which gRPC would otherwise only
// report through its own logger, and bounds connections without a client
// certificate: at most maxAnonConnections at once, each closed after
// anonReadBudget bytes.
type limitedCreds struct {
	credentials.TransportCredentials
	log          *slog.Logger
	anon         *slots
	anonLifetime time.Duration // 0: anonLifetime (tests shorten it)
}

func (c *limitedCreds) ServerHandshake(raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	conn, info, err := c.TransportCredentials.ServerHandshake(raw)
	if err != nil {
		c.log.Warn("refused a TLS connection", "peer", raw.RemoteAddr().String(), "err", err)
		return conn, info, err
	}
	if ti, ok := info.(credentials.TLSInfo); ok && len(ti.State.VerifiedChains) > 0 {
		return conn, info, nil
	}
	if !c.anon.take() {
		c.log.Warn("refused a connection without a client certificate: too many open", "peer", raw.RemoteAddr().String(), "max", maxAnonConnections)
		conn.Close()
		return nil, nil, errTooManyAnon
	}
	ac := &anonConn{Conn: conn, budget: anonReadBudget, release: c.anon.give}
	ac.timer.Store(time.AfterFunc(c.lifetime(), func() { ac.Close() }))
	return ac, info, nil
}

func (c *limitedCreds) lifetime() time.Duration {
	if c.anonLifetime > 0 {
		return c.anonLifetime
	}
	return anonLifetime
}

func (c *limitedCreds) Clone() credentials.TransportCredentials {
	return &limitedCreds{TransportCredentials: c.TransportCredentials.Clone(), log: c.log, anon: c.anon, anonLifetime: c.anonLifetime}
}

// anonConn is a connection without a client certificate: it fails reads
// once budget bytes have been read, is closed by timer at the end of its
// lifetime, and gives its slot back when closed.
type anonConn struct {
	net.Conn
	budget  int64 // read by the transport's single reader only
	once    sync.Once
	release func()
	timer   atomic.Pointer[time.Timer]
}

var errReadBudget = errors.New("connection without a client certificate sent more than its budget")

func (a *anonConn) Read(p []byte) (int, error) {
	if a.budget <= 0 {
		return 0, errReadBudget
	}
	if int64(len(p)) > a.budget {
		p = p[:a.budget]
	}
	n, err := a.Conn.Read(p)
	a.budget -= int64(n)
	return n, err
}

func (a *anonConn) Close() error {
	a.once.Do(func() {
		// Stopped, so a closed connection is not kept until its timer.
		if t := a.timer.Load(); t != nil {
			t.Stop()
		}
		a.release()
	})
	return a.Conn.Close()
}

// limitListener caps the connections open at once: Accept waits for one
// to close when n are open.
type limitListener struct {
	net.Listener
	sem       chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

func newLimitListener(l net.Listener, n int) net.Listener {
	return &limitListener{Listener: l, sem: make(chan struct{}, n), done: make(chan struct{})}
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.sem <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	return &limitedConn{Conn: c, release: func() { <-l.sem }}, nil
}

func (l *limitListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}
