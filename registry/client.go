package registry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/notary-go/notary/internal/tlspolicy"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/errdef"
	orasreg "oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/errcode"
)

// MaxManifestSize caps a manifest read from a registry: 4 MiB, the limit
// of the distribution registry and containerd.
const MaxManifestSize = 4 << 20

// The manifest media types this package reads. Every request for a
// manifest accepts all four, so a registry never down-converts a list to
// one platform's manifest.
const (
	MediaTypeDockerManifest     = "application/vnd.docker.distribution.manifest.v2+json"
	MediaTypeDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
	MediaTypeOCIManifest        = ocispec.MediaTypeImageManifest
	MediaTypeOCIIndex           = ocispec.MediaTypeImageIndex
)

var manifestMediaTypes = []string{MediaTypeDockerManifest, MediaTypeDockerManifestList, MediaTypeOCIManifest, MediaTypeOCIIndex}

// IsIndexMediaType reports whether mt is a Docker manifest list or an OCI
// index.
func IsIndexMediaType(mt string) bool {
	return mt == MediaTypeDockerManifestList || mt == MediaTypeOCIIndex
}

func supportedMediaType(mt string) bool {
	for _, m := range manifestMediaTypes {
		if m == mt {
			return true
		}
	}
	return false
}

// Options configure a Client.
type Options struct {
	// Credentials gives the credentials of a registry host; nil:
	// anonymous. Credentials for a host are sent only to that host (and
	// to the token realm its Bearer challenge names, as the token flow
	// requires), never to another registry.
	Credentials CredentialFunc
	// CAFile is a PEM file of CA certificates trusted for registries in
	// addition to the system roots (--registry-ca).
	CAFile string
	// Insecure lists registry hosts (host or host:port) reached over plain
	// HTTP (--insecure-registry). Loopback hosts always are, as Docker does.
	Insecure []string
	// Transport sends the requests; nil: an http.Transport with the TLS
	// settings above, proxies from the environment and timeouts. Tests
	// pass an httptest server's transport.
	Transport http.RoundTripper
	// UserAgent is sent with every request; "" means "notary".
	UserAgent string
	// WrapTransport, if set, wraps the transport (e.g. to log requests).
	WrapTransport func(http.RoundTripper) http.RoundTripper
}

// A Client reads manifests from any registry that speaks the Docker
// Registry HTTP API V2 / OCI distribution spec, through oras-go: Bearer
// token and Basic authentication with per-host credentials, token caching,
// TLS or plain HTTP per host. It knows nothing of TUF. It is safe for
// concurrent use.
type Client struct {
	opts Options
	http *http.Client

	mu      sync.Mutex
	auths   map[string]*auth.Client // by endpoint host
	schemes map[string]string       // by endpoint host, once probed
}

// New returns a Client. It reads CAFile now, so a bad file fails early.
func New(opts Options) (*Client, error) {
	rt := opts.Transport
	if rt == nil {
		tc := &tls.Config{MinVersion: tlspolicy.MinVersion, CipherSuites: tlspolicy.CipherSuites()}
		if opts.CAFile != "" {
			pool, err := x509.SystemCertPool()
			if err != nil || pool == nil {
				pool = x509.NewCertPool()
			}
			pem, err := os.ReadFile(opts.CAFile)
			if err != nil {
				return nil, fmt.Errorf("registry CA file: %w", err)
			}
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("registry CA file %s holds no PEM certificate", opts.CAFile)
			}
			tc.RootCAs = pool
		}
		rt = &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout:   10 * time.Second,
			TLSClientConfig:       tc,
			ForceAttemptHTTP2:     true,
			MaxIdleConnsPerHost:   8,
			IdleConnTimeout:       30 * time.Second,
			ResponseHeaderTimeout: 2 * time.Minute,
		}
	}
	if opts.WrapTransport != nil {
		rt = opts.WrapTransport(rt)
	}
	if opts.UserAgent == "" {
		opts.UserAgent = "notary"
	}
	return &Client{opts: opts, http: &http.Client{Transport: rt}, auths: map[string]*auth.Client{}, schemes: map[string]string{}}, nil
}

// endpoint is the host requests for registry host go to: Docker Hub's
// name docker.io is served by registry-1.docker.io.
func endpoint(host string) string {
	if host == "docker.io" || host == "index.docker.io" {
		return "registry-1.docker.io"
	}
	return host
}

// PlainHTTP reports whether host may be reached over plain HTTP: a
// loopback host, or one listed in Options.Insecure (by host:port or host
// name). Such a host is still reached over HTTPS when it speaks TLS.
func (c *Client) PlainHTTP(host string) bool {
	if IsLoopback(host) {
		return true
	}
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	for _, h := range c.opts.Insecure {
		if strings.EqualFold(h, host) || strings.EqualFold(h, name) {
			return true
		}
	}
	return false
}

// authClient returns the oras auth client for registry host.
func (c *Client) authClient(host string) *auth.Client {
	ep := endpoint(host)
	c.mu.Lock()
	defer c.mu.Unlock()
	if ac, ok := c.auths[ep]; ok {
		return ac
	}
	ac := &auth.Client{
		Client: c.http,
		Cache:  auth.NewCache(),
		Header: http.Header{"User-Agent": {c.opts.UserAgent}},
		// Credentials are looked up for the host of the request, so they
		// only ever go to this registry (or its token realm).
		Credential: func(ctx context.Context, hostport string) (auth.Credential, error) {
			if c.opts.Credentials == nil || !strings.EqualFold(hostport, ep) {
				return auth.EmptyCredential, nil
			}
			cred, err := c.opts.Credentials(ctx, host)
			if err != nil {
				return auth.EmptyCredential, err
			}
			return cred.oras(), nil
		},
	}
	if IsLoopback(host) {
		// oras refuses loopback token realms by default (SSRF defence);
		// a loopback registry's token server is on loopback too.
		ac.BlockedRealmPrefixes = []netip.Prefix{}
	}
	c.auths[ep] = ac
	return ac
}

// scheme returns how to reach host. HTTPS always, except that a host
// allowed plain HTTP (PlainHTTP) is probed once, as Docker does for
// insecure registries: HTTPS first, and HTTP only if the server does not
// speak TLS at all. A certificate that fails verification is an error,
// never a reason to drop TLS.
func (c *Client) scheme(ctx context.Context, host string) (string, error) {
	if !c.PlainHTTP(host) {
		return "https", nil
	}
	ep := endpoint(host)
	c.mu.Lock()
	s, ok := c.schemes[ep]
	c.mu.Unlock()
	if ok {
		return s, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+ep+"/v2/", nil)
	if err != nil {
		return "", err
	}
	resp, err := c.http.Do(req)
	var rh tls.RecordHeaderError
	switch {
	case err == nil:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		s = "https"
	case errors.Is(err, http.ErrSchemeMismatch) || errors.As(err, &rh):
		s = "http"
	default:
		return "", err
	}
	c.mu.Lock()
	c.schemes[ep] = s
	c.mu.Unlock()
	return s, nil
}

// A Platform is the os/architecture[/variant] of an image.
type Platform struct {
	OS           string `json:"os"`
	Architecture string `json:"architecture"`
	Variant      string `json:"variant,omitempty"`
}

// ParsePlatform parses os/arch[/variant], as docker --platform takes it.
func ParsePlatform(s string) (Platform, error) {
	parts := strings.Split(s, "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" || (len(parts) == 3 && parts[2] == "") {
		return Platform{}, fmt.Errorf("invalid platform %q: write os/arch or os/arch/variant, e.g. linux/arm64/v8", s)
	}
	p := Platform{OS: strings.ToLower(parts[0]), Architecture: strings.ToLower(parts[1])}
	if len(parts) == 3 {
		p.Variant = strings.ToLower(parts[2])
	}
	return p, nil
}

func (p Platform) String() string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// Matches reports whether p (as found in an index) is what want asks
// for; a want without variant accepts any variant.
func (p Platform) Matches(want Platform) bool {
	return strings.EqualFold(p.OS, want.OS) && strings.EqualFold(p.Architecture, want.Architecture) &&
		(want.Variant == "" || strings.EqualFold(p.Variant, want.Variant))
}

// A Descriptor identifies a manifest: media type, "sha256:<hex>" digest,
// size in bytes, and for an index's child, its platform.
type Descriptor struct {
	MediaType string    `json:"mediaType"`
	Digest    string    `json:"digest"`
	Size      int64     `json:"size"`
	Platform  *Platform `json:"platform,omitempty"`
}

// A Manifest is a manifest exactly as the registry served it, checked
// against its digest.
type Manifest struct {
	Descriptor
	// Bytes are the manifest as served; their sha256 is Digest.
	Bytes []byte
	// Children are an index's manifests (empty for an image manifest).
	Children []Descriptor
}

// IsIndex reports whether m is a Docker manifest list or OCI index.
func (m *Manifest) IsIndex() bool { return IsIndexMediaType(m.MediaType) }

// Child returns the index's manifest for platform p; a child with no
// variant is preferred when p names none.
func (m *Manifest) Child(p Platform) (Descriptor, bool) {
	var found *Descriptor
	for i := range m.Children {
		ch := &m.Children[i]
		if ch.Platform == nil || !ch.Platform.Matches(p) {
			continue
		}
		if found == nil || (p.Variant == "" && found.Platform.Variant != "" && ch.Platform.Variant == "") {
			found = ch
		}
	}
	if found == nil {
		return Descriptor{}, false
	}
	return *found, true
}

// Resolve asks the registry (HEAD, accepting the four manifest types)
// which manifest ref's tag or digest names now, without downloading it.
// The digest is the registry's word (Docker-Content-Digest); FetchManifest
// checks it against the bytes.
func (c *Client) Resolve(ctx context.Context, ref Reference) (Descriptor, error) {
	if err := ref.NeedTagOrDigest(); err != nil {
		return Descriptor{}, err
	}
	scheme, err := c.scheme(ctx, ref.Host)
	if err != nil {
		return Descriptor{}, c.classify(ctx, ref, err)
	}
	repo := &remote.Repository{
		Client:             c.authClient(ref.Host),
		Reference:          orasreg.Reference{Registry: endpoint(ref.Host), Repository: ref.Repository},
		PlainHTTP:          scheme == "http",
		ManifestMediaTypes: manifestMediaTypes,
		MaxMetadataBytes:   MaxManifestSize,
	}
	want := ref.Digest
	if want == "" {
		want = ref.Tag
	}
	d, err := repo.Resolve(ctx, want)
	if err != nil {
		return Descriptor{}, c.classify(ctx, ref, err)
	}
	if d.Size > MaxManifestSize {
		return Descriptor{}, &ManifestTooLargeError{Ref: ref.String(), Size: d.Size, Limit: MaxManifestSize}
	}
	return Descriptor{MediaType: d.MediaType, Digest: d.Digest.String(), Size: d.Size}, nil
}

// FetchManifest downloads the manifest ref names (its digest if it has
// one, else its tag) with a GET accepting the four manifest types, reads
// at most MaxManifestSize bytes, and checks them: their digest must be the
// registry's Docker-Content-Digest (when sent) and ref's digest (when
// given). An index's children are listed with their platforms.
//
// Errors are typed: *ReferenceError (no tag), *UnreachableError,
// *TLSError, *AuthError, *NotFoundError, *ManifestTooLargeError,
// *DigestMismatchError, *MediaTypeError, *ResponseError.
func (c *Client) FetchManifest(ctx context.Context, ref Reference) (*Manifest, error) {
	if err := ref.NeedTagOrDigest(); err != nil {
		return nil, err
	}
	want := ref.Digest
	if want == "" {
		want = ref.Tag
	}
	ep := endpoint(ref.Host)
	scheme, err := c.scheme(ctx, ref.Host)
	if err != nil {
		return nil, c.classify(ctx, ref, err)
	}
	u := (&url.URL{Scheme: scheme, Host: ep, Path: "/v2/" + ref.Repository + "/manifests/" + want}).String()
	ctx = auth.AppendRepositoryScope(ctx, orasreg.Reference{Registry: ep, Repository: ref.Repository}, auth.ActionPull)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, &ReferenceError{Ref: ref.String(), Reason: err.Error(), Err: ErrInvalidReference}
	}
	req.Header.Set("Accept", strings.Join(manifestMediaTypes, ", "))
	resp, err := c.authClient(ref.Host).Do(req)
	if err != nil {
		return nil, c.classify(ctx, ref, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, c.statusError(ctx, ref, resp)
	}
	if resp.ContentLength > MaxManifestSize {
		return nil, &ManifestTooLargeError{Ref: ref.String(), Size: resp.ContentLength, Limit: MaxManifestSize}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxManifestSize+1))
	if err != nil {
		return nil, c.classify(ctx, ref, err)
	}
	if len(body) > MaxManifestSize {
		return nil, &ManifestTooLargeError{Ref: ref.String(), Size: -1, Limit: MaxManifestSize}
	}
	actual := digest.FromBytes(body)
	if h := resp.Header.Get("Docker-Content-Digest"); h != "" {
		announced, err := digest.Parse(h)
		if err != nil || !announced.Algorithm().Available() {
			return nil, &ResponseError{Host: ref.Host, Ref: ref.String(), Status: resp.StatusCode, Message: fmt.Sprintf("invalid Docker-Content-Digest %q", h)}
		}
		if got := announced.Algorithm().FromBytes(body); got != announced {
			return nil, &DigestMismatchError{Ref: ref.String(), Source: "Docker-Content-Digest", Expected: announced.String(), Actual: got.String()}
		}
	}
	if ref.Digest != "" && actual.String() != ref.Digest {
		return nil, &DigestMismatchError{Ref: ref.String(), Source: "reference", Expected: ref.Digest, Actual: actual.String()}
	}
	m := &Manifest{Descriptor: Descriptor{Digest: actual.String(), Size: int64(len(body))}, Bytes: body}
	if err := m.parse(ref, resp.Header.Get("Content-Type")); err != nil {
		return nil, err
	}
	return m, nil
}

// parse sets the media type (Content-Type, else the manifest's own
// mediaType field, else guessed from its shape as OCI allows the field to
// be left out) and an index's children.
func (m *Manifest) parse(ref Reference, contentType string) error {
	var body struct {
		MediaType string          `json:"mediaType"`
		Manifests json.RawMessage `json:"manifests"`
		Layers    json.RawMessage `json:"layers"`
		Config    json.RawMessage `json:"config"`
	}
	if err := json.Unmarshal(m.Bytes, &body); err != nil {
		return &ResponseError{Host: ref.Host, Ref: ref.String(), Status: http.StatusOK, Message: "the manifest is not valid JSON: " + err.Error()}
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	switch {
	case supportedMediaType(mt):
	case supportedMediaType(body.MediaType):
		mt = body.MediaType
	case body.MediaType == "" && body.Manifests != nil:
		mt = MediaTypeOCIIndex
	case body.MediaType == "" && body.Config != nil && body.Layers != nil:
		mt = MediaTypeOCIManifest
	default:
		if body.MediaType != "" {
			mt = body.MediaType
		}
		return &MediaTypeError{Ref: ref.String(), MediaType: mt}
	}
	m.MediaType = mt
	if !IsIndexMediaType(mt) {
		return nil
	}
	var idx struct {
		Manifests []Descriptor `json:"manifests"`
	}
	if err := json.Unmarshal(m.Bytes, &idx); err != nil {
		return &ResponseError{Host: ref.Host, Ref: ref.String(), Status: http.StatusOK, Message: "malformed index: " + err.Error()}
	}
	for _, ch := range idx.Manifests {
		if _, err := digest.Parse(ch.Digest); err != nil {
			return &ResponseError{Host: ref.Host, Ref: ref.String(), Status: http.StatusOK, Message: fmt.Sprintf("malformed index: child digest %q", ch.Digest)}
		}
	}
	m.Children = idx.Manifests
	return nil
}

// statusError turns a non-200 answer into a typed error.
func (c *Client) statusError(ctx context.Context, ref Reference, resp *http.Response) error {
	var body struct {
		Errors []struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	_ = json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&body)
	switch resp.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden:
		return c.authError(ctx, ref, resp.StatusCode)
	case http.StatusNotFound:
		return &NotFoundError{Ref: ref.String()}
	}
	e := &ResponseError{Host: ref.Host, Ref: ref.String(), Status: resp.StatusCode}
	if len(body.Errors) > 0 {
		e.Code, e.Message = body.Errors[0].Code, body.Errors[0].Message
	}
	return e
}

func (c *Client) authError(ctx context.Context, ref Reference, status int) error {
	had := false
	if c.opts.Credentials != nil {
		if cred, err := c.opts.Credentials(ctx, ref.Host); err == nil && !cred.IsZero() {
			had = true
		}
	}
	return &AuthError{Host: ref.Host, Repository: ref.Repository, Status: status, HadCredentials: had}
}

// classify turns an oras or transport error into a typed error.
func (c *Client) classify(ctx context.Context, ref Reference, err error) error {
	var (
		er   *errcode.ErrorResponse
		ce   *CredentialsError
		cv   *tls.CertificateVerificationError
		rh   tls.RecordHeaderError
		ua   x509.UnknownAuthorityError
		he   x509.HostnameError
		ne   net.Error
		oe   *net.OpError
		dnse *net.DNSError
	)
	switch {
	case errors.As(err, &ce):
		return ce
	case errors.Is(err, auth.ErrBasicCredentialNotFound):
		return c.authError(ctx, ref, http.StatusUnauthorized)
	case errors.Is(err, errdef.ErrNotFound):
		return &NotFoundError{Ref: ref.String()}
	case errors.Is(err, errdef.ErrSizeExceedsLimit):
		return &ManifestTooLargeError{Ref: ref.String(), Size: -1, Limit: MaxManifestSize}
	case errors.As(err, &er):
		switch er.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			return c.authError(ctx, ref, er.StatusCode)
		case http.StatusNotFound:
			return &NotFoundError{Ref: ref.String()}
		}
		e := &ResponseError{Host: ref.Host, Ref: ref.String(), Status: er.StatusCode}
		if len(er.Errors) > 0 {
			e.Code, e.Message = er.Errors[0].Code, er.Errors[0].Message
		}
		return e
	case errors.As(err, &cv), errors.As(err, &rh), errors.As(err, &ua), errors.As(err, &he):
		return &TLSError{Host: ref.Host, Err: err}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.As(err, &dnse), errors.As(err, &oe), errors.As(err, &ne):
		return &UnreachableError{Host: ref.Host, Err: err}
	}
	// Anything else (a token server failure, a malformed answer) is the
	// registry's doing.
	return &ResponseError{Host: ref.Host, Ref: ref.String(), Message: err.Error()}
}

// OpenBlob sends a GET or HEAD (method) for the blob d of ref's repository
// to the registry, with the client's credentials, TLS and scheme, plus
// the headers in hdr (Range, If-None-Match; nil for none), and returns
// the response as is: the caller streams and closes its body. Redirects
// (to a storage backend) are followed. A transport failure is a typed
// error (*UnreachableError, *TLSError, ...); any HTTP status is returned
// as a response for the caller to relay.
func (c *Client) OpenBlob(ctx context.Context, method string, ref Reference, d string, hdr http.Header) (*http.Response, error) {
	if _, err := digest.Parse(d); err != nil {
		return nil, &ReferenceError{Ref: ref.Name() + "@" + d, Reason: "invalid digest", Err: ErrInvalidReference}
	}
	ep := endpoint(ref.Host)
	scheme, err := c.scheme(ctx, ref.Host)
	if err != nil {
		return nil, c.classify(ctx, ref, err)
	}
	u := (&url.URL{Scheme: scheme, Host: ep, Path: "/v2/" + ref.Repository + "/blobs/" + d}).String()
	ctx = auth.AppendRepositoryScope(ctx, orasreg.Reference{Registry: ep, Repository: ref.Repository}, auth.ActionPull)
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return nil, &ReferenceError{Ref: ref.String(), Reason: err.Error(), Err: ErrInvalidReference}
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := c.authClient(ref.Host).Do(req)
	if err != nil {
		return nil, c.classify(ctx, ref, err)
	}
	return resp, nil
}
