package signer

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/keystore"
	pb "github.com/notary-go/notary/signer/signerpb"
)

// Client defaults.
const (
	// DefaultTimeout bounds each call that has no earlier deadline.
	DefaultTimeout = 10 * time.Second
	// DefaultMaxReconnectDelay caps the wait between reconnection
	// attempts, so the client recovers soon after the signer comes back.
	DefaultMaxReconnectDelay = 5 * time.Second
	// MaxMessageSize caps every gRPC message between the server and the
	// signer, both ways (gRPC's own default lets a peer send up to 2 GiB).
	// A Sign request carries the whole metadata to sign, so it matches
	// gRPC's default receive limit of 4 MiB.
	MaxMessageSize = 4 << 20
)

// connectTimeout bounds one connection attempt (TCP and TLS handshake).
// Calls do not wait for it beyond their own timeout.
const connectTimeout = 5 * time.Second

// ClientOptions configure a Client.
type ClientOptions struct {
	// Timeout bounds every call, health checks included, unless the
	// caller's context ends sooner. 0 means DefaultTimeout.
	Timeout time.Duration
	// MaxReconnectDelay caps the backoff between attempts to reconnect to
	// a signer that went away. 0 means DefaultMaxReconnectDelay. Dial only.
	MaxReconnectDelay time.Duration
	// DialOptions are appended to Dial's own (e.g. a custom dialer in
	// tests). Dial only.
	DialOptions []grpc.DialOption
}

// Client calls a notary-signer (ours or v1's). Calls never wait for a
// connection beyond their timeout (gRPC's WaitForReady is off): while the
// signer is down they fail at once, or at the latest after the timeout,
// with an error matching ErrUnavailable, and gRPC reconnects in the
// background. A Client is safe for concurrent use.
type Client struct {
	conn    grpc.ClientConnInterface
	closer  func() error
	timeout time.Duration
	km      pb.KeyManagementClient
	sg      pb.SignerClient
	health  healthpb.HealthClient
}

// Dial returns a Client for the signer at addr ("host:port"; v1's default
// port is 7899) over TLS configured by tlsConfig (see ClientTLSConfig;
// its ServerName is the name checked in the signer's certificate). It
// does not wait for the connection: the first call makes it.
func Dial(addr string, tlsConfig *tls.Config, opts ClientOptions) (*Client, error) {
	if tlsConfig == nil {
		return nil, errors.New("signer: TLS configuration required: the signer only speaks TLS")
	}
	maxDelay := opts.MaxReconnectDelay
	if maxDelay <= 0 {
		maxDelay = DefaultMaxReconnectDelay
	}
	bo := backoff.DefaultConfig
	bo.MaxDelay = maxDelay
	if bo.BaseDelay > maxDelay {
		bo.BaseDelay = maxDelay
	}
	dialOpts := append([]grpc.DialOption{
		grpc.WithTransportCredentials(credentials.NewTLS(tlsConfig)),
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: bo, MinConnectTimeout: connectTimeout}),
		grpc.WithDefaultCallOptions(grpc.WaitForReady(false),
			grpc.MaxCallRecvMsgSize(MaxMessageSize), grpc.MaxCallSendMsgSize(MaxMessageSize)),
	}, opts.DialOptions...)
	conn, err := grpc.NewClient(addr, dialOpts...)
	if err != nil {
		return nil, fmt.Errorf("signer: %w", err)
	}
	c := NewClient(conn, opts)
	c.closer = conn.Close
	return c, nil
}

// NewClient returns a Client over an existing connection, which the
// caller keeps and closes (Close does not). Only opts.Timeout applies.
func NewClient(conn grpc.ClientConnInterface, opts ClientOptions) *Client {
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &Client{
		conn:    conn,
		closer:  func() error { return nil },
		timeout: timeout,
		km:      pb.NewKeyManagementClient(conn),
		sg:      pb.NewSignerClient(conn),
		health:  healthpb.NewHealthClient(conn),
	}
}

// Close closes the connection Dial made.
func (c *Client) Close() error { return c.closer() }

// KeyInfo describes a key held by the signer.
type KeyInfo struct {
	ID     string // canonical key ID
	Role   string
	Public keys.PublicKey
	// GUN is the key's GUN when GUNKnown; a v0.7.0 signer does not report
	// it (our signer sends it in the KeyGUNHeader response header).
	GUN      string
	GUNKnown bool
}

// CreateKey asks the signer for a key of type algorithm ("ecdsa" or
// "ed25519") for role and gun and returns its public key. A v1 signer, and
// ours, may return a key it made earlier for the same role, gun and type
// that has not signed yet.
func (c *Client) CreateKey(ctx context.Context, role, gun, algorithm string) (keys.PublicKey, error) {
	const op = "CreateKey"
	ctx, cancel := c.callContext(ctx)
	defer cancel()
	resp, err := c.km.CreateKey(ctx, &pb.CreateKeyRequest{Algorithm: algorithm, Gun: gun, Role: role})
	if err != nil {
		return keys.PublicKey{}, c.callError(ctx, op, "", err)
	}
	return checkedKey(op, resp.GetKeyInfo(), resp.GetPublicKey())
}

// GetKey returns the public key with canonical ID id; an unknown key is a
// *keystore.NotFoundError.
func (c *Client) GetKey(ctx context.Context, id string) (keys.PublicKey, error) {
	info, err := c.GetKeyInfo(ctx, id)
	return info.Public, err
}

// GetKeyInfo returns the key with canonical ID id and its role; an unknown
// key is a *keystore.NotFoundError.
func (c *Client) GetKeyInfo(ctx context.Context, id string) (KeyInfo, error) {
	const op = "GetKeyInfo"
	ctx, cancel := c.callContext(ctx)
	defer cancel()
	var hdr metadata.MD
	resp, err := c.km.GetKeyInfo(ctx, &pb.KeyID{ID: id}, grpc.Header(&hdr))
	if err != nil {
		return KeyInfo{}, c.callError(ctx, op, id, err)
	}
	pub, err := checkedKey(op, resp.GetKeyInfo(), resp.GetPublicKey())
	if err != nil {
		return KeyInfo{}, err
	}
	info := KeyInfo{ID: pub.ID(), Role: resp.GetRole(), Public: pub}
	if g := hdr.Get(KeyGUNHeader); len(g) > 0 {
		info.GUN, info.GUNKnown = g[0], true
	}
	return info, nil
}

// Sign asks the signer to sign msg, the full canonical message (never a
// digest), with key id and returns the raw signature. The signature
// method follows from the key's type (see KeySigner.Method).
func (c *Client) Sign(ctx context.Context, id string, msg []byte) ([]byte, error) {
	return c.SignFor(ctx, "", id, msg)
}

// SignFor is Sign for metadata of gun: unless gun is "", the signer is
// told the GUN (SignGUNHeader) and ours refuses a key of another GUN
// (a *RemoteError with code PermissionDenied). A v0.7.0 signer ignores it.
func (c *Client) SignFor(ctx context.Context, gun, id string, msg []byte) ([]byte, error) {
	const op = "Sign"
	ctx, cancel := c.callContext(ctx)
	defer cancel()
	if gun != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, SignGUNHeader, gun)
	}
	resp, err := c.sg.Sign(ctx, &pb.SignatureRequest{KeyID: &pb.KeyID{ID: id}, Content: msg})
	if err != nil {
		return nil, c.callError(ctx, op, id, err)
	}
	if len(resp.GetContent()) == 0 {
		return nil, &BadResponseError{Op: op, Reason: "empty signature"}
	}
	return resp.GetContent(), nil
}

// DeleteKey deletes the key; deleting an unknown key succeeds.
func (c *Client) DeleteKey(ctx context.Context, id string) error {
	ctx, cancel := c.callContext(ctx)
	defer cancel()
	if _, err := c.km.DeleteKey(ctx, &pb.KeyID{ID: id}); err != nil {
		return c.callError(ctx, "DeleteKey", id, err)
	}
	return nil
}

// CheckHealth checks that the signer reports both HealthKeyManagement and
// HealthSigner SERVING (v1's "Overall" check). An unreachable signer gives
// an error matching ErrUnavailable, and so does a signer reporting another
// status.
func (c *Client) CheckHealth(ctx context.Context) error {
	ctx, cancel := c.callContext(ctx)
	defer cancel()
	for _, svc := range []string{HealthKeyManagement, HealthSigner} {
		resp, err := c.health.Check(ctx, &healthpb.HealthCheckRequest{Service: svc})
		if err != nil {
			return c.callError(ctx, "health check", "", err)
		}
		if st := resp.GetStatus(); st != healthpb.HealthCheckResponse_SERVING {
			return &UnavailableError{Op: "health check", Err: fmt.Errorf("%s is %s", svc, st)}
		}
	}
	return nil
}

// probeKeyID is a well-formed key ID no key has (finding a key with it
// means finding a SHA-256 preimage), looked up by CheckSigning.
const probeKeyID = "0000000000000000000000000000000000000000000000000000000000000000"

// CheckSigning checks what signing needs beyond CheckHealth, which any
// peer may call: that the signer accepts this client's credentials. It
// makes an authenticated call (GetKeyInfo of a key that does not exist)
// and expects NotFound; a refusal (Unauthenticated, PermissionDenied) is
// returned as the *RemoteError it is, so the notary-server's health says
// signing is impossible rather than OK (issue 19 bug 4). It works with
// v0.7.0 signers too.
func (c *Client) CheckSigning(ctx context.Context) error {
	if err := c.CheckHealth(ctx); err != nil {
		return err
	}
	_, err := c.GetKeyInfo(ctx, probeKeyID)
	if errors.Is(err, keystore.ErrNotFound) {
		return nil
	}
	if err == nil {
		return &BadResponseError{Op: "GetKeyInfo", Reason: "the signer claims a key with the all-zero ID"}
	}
	return err
}

// errCallTimeout is the cause of a call context ended by the client's
// own timeout, as opposed to the caller's context.
var errCallTimeout = errors.New("signer call timed out")

// callContext bounds a call by the client's timeout.
func (c *Client) callContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeoutCause(ctx, c.timeout, errCallTimeout)
}

// callError turns a failed RPC into this package's errors. ctx is the
// call's context from callContext. When the caller's own context ended
// the error wraps its cause (context.Canceled or DeadlineExceeded) and
// does not match ErrUnavailable; when the client's timeout did, it does.
func (c *Client) callError(ctx context.Context, op, id string, err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return fmt.Errorf("signer: %s: %w", op, err)
	}
	switch st.Code() {
	case codes.NotFound:
		return &keystore.NotFoundError{ID: id}
	case codes.Unavailable:
		return &UnavailableError{Op: op, Err: errors.New(st.Message())}
	case codes.DeadlineExceeded, codes.Canceled:
		if cause := context.Cause(ctx); cause != nil && cause != errCallTimeout {
			return fmt.Errorf("signer: %s: %w", op, cause) // the caller gave up
		}
		return &UnavailableError{Op: op, Err: fmt.Errorf("no answer within %v: %w", c.timeout, context.DeadlineExceeded)}
	}
	return &RemoteError{Op: op, Code: st.Code(), Message: st.Message()}
}

// checkedKey builds the public key of a response and checks it has the
// announced ID (TUF ID == canonical ID for the plain keys a signer makes).
func checkedKey(op string, info *pb.KeyInfo, public []byte) (keys.PublicKey, error) {
	typ := info.GetAlgorithm().GetAlgorithm()
	if typ == "" || len(public) == 0 {
		return keys.PublicKey{}, &BadResponseError{Op: op, Reason: "missing key type or public key"}
	}
	pub := keys.NewPublicKey(typ, public)
	if id := info.GetKeyID().GetID(); id != pub.ID() {
		return keys.PublicKey{}, &BadResponseError{Op: op, Reason: fmt.Sprintf("key ID %s does not match the public key (%s)", id, pub.ID())}
	}
	return pub, nil
}
