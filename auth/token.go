package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// DefaultLeeway is the clock skew allowed on a token's exp and nbf claims
// (docker/distribution token.Leeway).
const DefaultLeeway = 60 * time.Second

// MinRSABits is the smallest RSA key a token may be signed with.
const MinRSABits = 2048

// maxChainLen bounds the certificates of an x5c header.
const maxChainLen = 8

// TokenAlgorithms are the JWS algorithms a token may be signed with. "none"
// and the HMAC algorithms are never accepted: the verifier holds only
// public keys, and an HMAC over a public key proves nothing.
var TokenAlgorithms = []string{"ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA"}

// TokenOptions configure token authentication (the server config's
// auth.options for auth.type "token").
type TokenOptions struct {
	// Realm is the token server's URL, sent in challenges.
	Realm string
	// Service is this server's name: the audience tokens must be for,
	// sent in challenges.
	Service string
	// Issuer is the "iss" tokens must carry.
	Issuer string
	// Roots are the certificates of the root certificate bundle. A token
	// is signed either by the key of a certificate that chains to one of
	// them (x5c header), or by the key of one of them named by "kid"
	// (its libtrust key ID or RFC 7638 thumbprint).
	Roots []*x509.Certificate
	// AutoRedirect replaces Realm in challenges by
	// https://<request host><AutoRedirectPath> (distribution's
	// autoredirect); AutoRedirectPath defaults to /auth/token.
	AutoRedirect     bool
	AutoRedirectPath string
	// Leeway is the clock skew allowed on exp and nbf; 0 means
	// DefaultLeeway.
	Leeway time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Claims are the claims of a verified token.
type Claims struct {
	Issuer    string
	Subject   string
	Audience  []string
	ID        string
	IssuedAt  time.Time // zero when absent
	NotBefore time.Time // zero when absent
	Expiry    time.Time
	Access    []ResourceActions
}

// Allows reports whether the claims grant a: an entry for the same type
// and name listing a.Action or "*" (the resource class is not compared,
// as in docker/distribution).
func (c *Claims) Allows(a Access) bool {
	for _, ra := range c.Access {
		if ra.Type == a.Type && ra.Name == a.Name && (contains(ra.Actions, a.Action) || contains(ra.Actions, ActionAll)) {
			return true
		}
	}
	return false
}

// A TokenVerifier checks bearer tokens. It is safe for concurrent use.
type TokenVerifier struct {
	issuer, service string
	roots           *x509.CertPool
	rootCerts       []*x509.Certificate
	trusted         map[string]*x509.Certificate // kid → bundle certificate
	leeway          time.Duration
	now             func() time.Time
	parser          *jwt.Parser
}

// NewTokenVerifier returns a verifier for tokens issued by opts.Issuer for
// opts.Service and signed with a key the bundle vouches for.
func NewTokenVerifier(opts TokenOptions) (*TokenVerifier, error) {
	if opts.Issuer == "" {
		return nil, errors.New("auth: token auth requires an issuer")
	}
	if opts.Service == "" {
		return nil, errors.New("auth: token auth requires a service")
	}
	if len(opts.Roots) == 0 {
		return nil, errors.New("auth: token auth requires at least one token signing root certificate")
	}
	v := &TokenVerifier{
		issuer:  opts.Issuer,
		service: opts.Service,
		roots:   x509.NewCertPool(),
		trusted: map[string]*x509.Certificate{},
		leeway:  opts.Leeway,
		now:     opts.Now,
	}
	if v.leeway == 0 {
		v.leeway = DefaultLeeway
	}
	if v.now == nil {
		v.now = time.Now
	}
	for _, c := range opts.Roots {
		v.roots.AddCert(c)
		v.rootCerts = append(v.rootCerts, c)
		if id, err := LibtrustKeyID(c.PublicKey); err == nil {
			v.trusted[id] = c
		}
		for _, tp := range jwkThumbprints(c.PublicKey) {
			v.trusted[tp] = c
		}
	}
	v.parser = jwt.NewParser(
		jwt.WithValidMethods(TokenAlgorithms),
		jwt.WithIssuer(v.issuer),
		jwt.WithAudience(v.service),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(v.leeway),
		jwt.WithTimeFunc(v.now),
		// One encoding per token: no padding, no stray trailing bits.
		jwt.WithStrictDecoding(),
	)
	return v, nil
}

// tokenClaims is the claim set on the wire (docker/distribution
// token.ClaimSet); "aud" may be a string or an array.
type tokenClaims struct {
	jwt.RegisteredClaims
	Access []ResourceActions `json:"access"`
}

// Verify parses and verifies a compact JWS token: algorithm (one of
// TokenAlgorithms, matching the key), signing key (x5c chain to a root, or
// kid of a root), signature, issuer, audience, expiry and not-before (with
// the leeway). Every failure wraps ErrInvalidToken.
func (v *TokenVerifier) Verify(raw string) (*Claims, error) {
	if len(raw) > MaxCredentialsLen {
		return nil, fmt.Errorf("%w: token longer than %d bytes", ErrInvalidToken, MaxCredentialsLen)
	}
	var tc tokenClaims
	if _, err := v.parser.ParseWithClaims(raw, &tc, v.keyFunc); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	c := &Claims{
		Issuer:   tc.Issuer,
		Subject:  tc.Subject,
		Audience: tc.Audience,
		ID:       tc.ID,
		Access:   tc.Access,
	}
	if tc.ExpiresAt != nil {
		c.Expiry = tc.ExpiresAt.Time
	}
	if tc.NotBefore != nil {
		c.NotBefore = tc.NotBefore.Time
	}
	if tc.IssuedAt != nil {
		c.IssuedAt = tc.IssuedAt.Time
	}
	return c, nil
}

// keyFunc finds the key a token must verify with, as docker/distribution's
// Token.VerifySigningKey: the x5c chain first, else the kid. A jwk header
// alone is not trusted. Any "crit" header is refused (RFC 7515 §4.1.11: we
// understand no extension).
func (v *TokenVerifier) keyFunc(t *jwt.Token) (any, error) {
	if _, ok := t.Header["crit"]; ok {
		return nil, errors.New(`unsupported "crit" header`)
	}
	var pub crypto.PublicKey
	switch x5c, kid := t.Header["x5c"], t.Header["kid"]; {
	case x5c != nil:
		leaf, err := v.verifyChain(x5c)
		if err != nil {
			return nil, err
		}
		pub = leaf.PublicKey
	case kid != nil:
		id, ok := kid.(string)
		if !ok {
			return nil, errors.New(`"kid" is not a string`)
		}
		cert, ok := v.trusted[id]
		if !ok {
			return nil, fmt.Errorf("token signed by untrusted key with ID %q", id)
		}
		if now := v.now(); now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
			return nil, fmt.Errorf("certificate of key %q is not valid at %s", id, now.UTC().Format(time.RFC3339))
		}
		pub = cert.PublicKey
	default:
		return nil, errors.New("token names no signing key (no x5c or kid header)")
	}
	if err := keyMatchesAlg(pub, t.Method.Alg()); err != nil {
		return nil, err
	}
	return pub, nil
}

// verifyChain decodes an x5c header (standard base64 DER certificates, leaf
// first) and verifies the chain to the roots at the current time.
func (v *TokenVerifier) verifyChain(x5c any) (*x509.Certificate, error) {
	list, ok := x5c.([]any)
	if !ok || len(list) == 0 {
		return nil, errors.New(`"x5c" is not a non-empty array`)
	}
	if len(list) > maxChainLen {
		return nil, fmt.Errorf(`"x5c" holds more than %d certificates`, maxChainLen)
	}
	var certs []*x509.Certificate
	for i, e := range list {
		s, ok := e.(string)
		if !ok {
			return nil, fmt.Errorf("x5c[%d] is not a string", i)
		}
		der, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("x5c[%d]: %v", i, err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("x5c[%d]: %v", i, err)
		}
		certs = append(certs, c)
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	if _, err := certs[0].Verify(x509.VerifyOptions{
		Roots:         v.roots,
		Intermediates: inter,
		CurrentTime:   v.now(),
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	}); err != nil {
		return nil, fmt.Errorf("unable to verify certificate chain: %v", err)
	}
	return certs[0], nil
}

// keyMatchesAlg refuses a key the algorithm does not belong to: ES256 only
// with P-256, ES384 with P-384, ES512 with P-521, RS*/PS* with RSA of at
// least MinRSABits, EdDSA with Ed25519.
func keyMatchesAlg(pub crypto.PublicKey, alg string) error {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		want := map[string]elliptic.Curve{"ES256": elliptic.P256(), "ES384": elliptic.P384(), "ES512": elliptic.P521()}[alg]
		if want == nil || k.Curve != want {
			return fmt.Errorf("%s key on curve %s cannot verify %s", "ECDSA", k.Curve.Params().Name, alg)
		}
		return nil
	case *rsa.PublicKey:
		if !strings.HasPrefix(alg, "RS") && !strings.HasPrefix(alg, "PS") {
			return fmt.Errorf("RSA key cannot verify %s", alg)
		}
		if k.N.BitLen() < MinRSABits {
			return fmt.Errorf("RSA key of %d bits is below the %d-bit minimum", k.N.BitLen(), MinRSABits)
		}
		return nil
	case ed25519.PublicKey:
		if alg != "EdDSA" {
			return fmt.Errorf("Ed25519 key cannot verify %s", alg)
		}
		return nil
	}
	return fmt.Errorf("unsupported signing key type %T", pub)
}

// A TokenAuth authorizes requests that carry a bearer token granting the
// access they need (docker/distribution registry/auth/token
// accessController). It is safe for concurrent use.
type TokenAuth struct {
	realm, service   string
	autoRedirect     bool
	autoRedirectPath string
	verifier         *TokenVerifier
}

var _ Authorizer = (*TokenAuth)(nil)

// NewTokenAuth returns a TokenAuth for opts.
func NewTokenAuth(opts TokenOptions) (*TokenAuth, error) {
	if opts.Realm == "" && !opts.AutoRedirect {
		return nil, errors.New("auth: token auth requires a realm")
	}
	v, err := NewTokenVerifier(opts)
	if err != nil {
		return nil, err
	}
	p := opts.AutoRedirectPath
	if p == "" {
		p = "/auth/token"
	}
	return &TokenAuth{realm: opts.Realm, service: opts.Service, autoRedirect: opts.AutoRedirect, autoRedirectPath: p, verifier: v}, nil
}

// Verifier returns the TokenVerifier the TokenAuth uses.
func (a *TokenAuth) Verifier() *TokenVerifier { return a.verifier }

// Authorize checks the request's bearer token against access. A refusal is
// a *Challenge: ErrCredentialsRequired without a bearer token (including
// Basic credentials), ErrInvalidToken for a token that does not verify,
// ErrInsufficientScope for a valid token lacking some access.
func (a *TokenAuth) Authorize(r *http.Request, access []Access) (*Grant, error) {
	ch := &Challenge{Scheme: "Bearer", Realm: a.realm, Service: a.service, Access: access}
	if a.autoRedirect {
		ch.Realm = "https://" + r.Host + a.autoRedirectPath
	}
	h := r.Header.Get("Authorization")
	scheme, cred, err := ParseAuthorization(h)
	if err != nil {
		// As distribution: no header, another scheme or no credentials
		// at all get the plain challenge; bearer credentials that do not
		// even parse are a malformed token (error="invalid_token").
		first, rest, _ := strings.Cut(strings.Trim(h, " \t"), " ")
		if errors.Is(err, ErrNoCredentials) || !strings.EqualFold(first, "Bearer") || strings.TrimSpace(rest) == "" {
			ch.Err = ErrCredentialsRequired
			return nil, ch
		}
		ch.Err = fmt.Errorf("%w: %v", ErrInvalidToken, err)
		return nil, ch
	}
	if !strings.EqualFold(scheme, "Bearer") {
		ch.Err = fmt.Errorf("%w: %s credentials where a bearer token is needed", ErrCredentialsRequired, scheme)
		return nil, ch
	}
	claims, err := a.verifier.Verify(cred)
	if err != nil {
		ch.Err = err
		return nil, ch
	}
	for _, acc := range access {
		if !claims.Allows(acc) {
			ch.Err = fmt.Errorf("%w: token for %q lacks %s:%s:%s", ErrInsufficientScope, claims.Subject, acc.Type, acc.Name, acc.Action)
			return nil, ch
		}
	}
	return &Grant{User: claims.Subject, Access: access}, nil
}
