// Package issuer is a token server for notary-server's token
// authentication (and for Docker registries): it implements the Docker
// Registry token specification's GET /token (Basic credentials, service,
// scope and account parameters) and the OAuth2 password grant (POST), checks
// users against an htpasswd file, grants access by an ACL, and signs JWTs
// whose x5c chain leads to a certificate the server's rootcertbundle holds.
//
// It is meant for tests and small setups; larger ones can use any token
// server that follows the specification, since notary-server only checks
// the tokens.
package issuer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"strings"
	"time"

	"github.com/notary-go/notary/auth"
	"github.com/notary-go/notary/auth/htpasswd"
)

// Limits and defaults.
const (
	// DefaultTTL is how long a token is valid.
	DefaultTTL = 5 * time.Minute
	// MinTTL is the shortest lifetime allowed (the specification's
	// minimum: clients treat anything shorter as 60 s anyway).
	MinTTL = 60 * time.Second
	// MaxTTL is the longest lifetime allowed.
	MaxTTL = 24 * time.Hour
	// MaxScopes bounds the scopes of one request.
	MaxScopes = 32
	// DefaultRealm is the Basic realm of 401 answers.
	DefaultRealm = "notary-auth"
)

// Options configure an Issuer.
type Options struct {
	// Issuer is the "iss" of every token; notary-server's
	// auth.options.issuer must equal it.
	Issuer string
	// Services are the accepted values of the service parameter, i.e.
	// notary-server's auth.options.service; it becomes the token's "aud".
	Services []string
	// Key signs the tokens: an ECDSA key on P-256, P-384 or P-521 (ES256,
	// ES384, ES512) or an RSA key of at least 2048 bits (RS256). Any
	// crypto.Signer works, so the key may live in an HSM.
	Key crypto.Signer
	// Chain is the certificate chain of Key, leaf first, sent as x5c. The
	// last certificate (or a CA above it) must be in notary-server's
	// rootcertbundle; a self-signed leaf can be the bundle itself.
	Chain []*x509.Certificate
	// TTL is the tokens' lifetime; 0 means DefaultTTL.
	TTL time.Duration
	// Users are the accounts that can authenticate; nil means none (every
	// request is anonymous).
	Users *htpasswd.File
	// ACL grants access to accounts.
	ACL ACL
	// Realm is the Basic realm of 401 answers; "" means DefaultRealm.
	Realm string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Rand is the randomness for token IDs and signatures; nil means
	// crypto/rand.
	Rand io.Reader
	// Logger receives a line per token issued or refused; nil means
	// slog.Default().
	Logger *slog.Logger
}

// An Issuer answers token requests. It is safe for concurrent use.
type Issuer struct {
	opts   Options
	alg    string
	hash   crypto.Hash
	header string // base64url of the JOSE header
	log    *slog.Logger
}

// New checks opts and returns an Issuer.
func New(opts Options) (*Issuer, error) {
	if opts.Issuer == "" {
		return nil, errors.New("issuer: Options.Issuer is required")
	}
	if len(opts.Services) == 0 {
		return nil, errors.New("issuer: at least one service is required")
	}
	if opts.Key == nil || len(opts.Chain) == 0 {
		return nil, errors.New("issuer: a signing key and its certificate chain are required")
	}
	if opts.TTL == 0 {
		opts.TTL = DefaultTTL
	}
	if opts.TTL < MinTTL || opts.TTL > MaxTTL {
		return nil, fmt.Errorf("issuer: token lifetime %v outside [%v, %v]", opts.TTL, MinTTL, MaxTTL)
	}
	if opts.Realm == "" {
		opts.Realm = DefaultRealm
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	if err := opts.ACL.Validate(); err != nil {
		return nil, err
	}
	i := &Issuer{opts: opts, log: opts.Logger}
	if i.log == nil {
		i.log = slog.Default()
	}
	pub := opts.Key.Public()
	if eq, ok := pub.(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(opts.Chain[0].PublicKey) {
		return nil, errors.New("issuer: the first certificate of the chain is not the signing key's")
	}
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			i.alg, i.hash = "ES256", crypto.SHA256
		case elliptic.P384():
			i.alg, i.hash = "ES384", crypto.SHA384
		case elliptic.P521():
			i.alg, i.hash = "ES512", crypto.SHA512
		default:
			return nil, fmt.Errorf("issuer: unsupported curve %s", k.Curve.Params().Name)
		}
	case *rsa.PublicKey:
		if k.N.BitLen() < auth.MinRSABits {
			return nil, fmt.Errorf("issuer: RSA key of %d bits is below %d", k.N.BitLen(), auth.MinRSABits)
		}
		i.alg, i.hash = "RS256", crypto.SHA256
	default:
		return nil, fmt.Errorf("issuer: unsupported key type %T (want ECDSA or RSA; notary-server v0.7.0 verifies nothing else)", pub)
	}
	kid, err := auth.LibtrustKeyID(pub)
	if err != nil {
		return nil, err
	}
	x5c := make([]string, len(opts.Chain))
	for n, c := range opts.Chain {
		x5c[n] = base64.StdEncoding.EncodeToString(c.Raw)
	}
	hdr, err := json.Marshal(struct {
		Typ string   `json:"typ"`
		Alg string   `json:"alg"`
		Kid string   `json:"kid"`
		X5c []string `json:"x5c"`
	}{"JWT", i.alg, kid, x5c})
	if err != nil {
		return nil, err
	}
	i.header = base64.RawURLEncoding.EncodeToString(hdr)
	return i, nil
}

// A Token is an issued token.
type Token struct {
	Raw       string
	IssuedAt  time.Time
	ExpiresAt time.Time
	Access    []auth.ResourceActions
}

// claims are the token's claims, in docker/distribution's ClaimSet form
// ("aud" a string, which v2 verifiers require).
type claims struct {
	Issuer     string                 `json:"iss"`
	Subject    string                 `json:"sub"`
	Audience   string                 `json:"aud"`
	Expiration int64                  `json:"exp"`
	NotBefore  int64                  `json:"nbf"`
	IssuedAt   int64                  `json:"iat"`
	JWTID      string                 `json:"jti"`
	Access     []auth.ResourceActions `json:"access"`
}

// Mint signs a token for subject (the account, "" for anonymous) and
// service granting exactly access. It does not consult the ACL: Grant
// does that.
func (i *Issuer) Mint(subject, service string, access []auth.ResourceActions) (*Token, error) {
	now := i.opts.Now().Truncate(time.Second)
	jti := make([]byte, 16)
	if _, err := io.ReadFull(i.opts.Rand, jti); err != nil {
		return nil, fmt.Errorf("issuer: %w", err)
	}
	if access == nil {
		access = []auth.ResourceActions{}
	}
	c := claims{
		Issuer: i.opts.Issuer, Subject: subject, Audience: service,
		Expiration: now.Add(i.opts.TTL).Unix(), NotBefore: now.Unix(), IssuedAt: now.Unix(),
		JWTID: hex.EncodeToString(jti), Access: access,
	}
	body, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	input := i.header + "." + base64.RawURLEncoding.EncodeToString(body)
	sig, err := i.sign([]byte(input))
	if err != nil {
		return nil, err
	}
	return &Token{
		Raw:       input + "." + base64.RawURLEncoding.EncodeToString(sig),
		IssuedAt:  now,
		ExpiresAt: now.Add(i.opts.TTL),
		Access:    access,
	}, nil
}

// sign returns the JWS signature of input: r||s (each padded to the curve
// size) for ECDSA, PKCS #1 v1.5 for RSA.
func (i *Issuer) sign(input []byte) ([]byte, error) {
	var h hash.Hash
	switch i.hash {
	case crypto.SHA384:
		h = sha512.New384()
	case crypto.SHA512:
		h = sha512.New()
	default:
		h = sha256.New()
	}
	h.Write(input)
	sig, err := i.opts.Key.Sign(i.opts.Rand, h.Sum(nil), i.hash)
	if err != nil {
		return nil, fmt.Errorf("issuer: signing: %w", err)
	}
	k, ok := i.opts.Key.Public().(*ecdsa.PublicKey)
	if !ok {
		return sig, nil
	}
	var rs struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(sig, &rs); err != nil || len(rest) > 0 {
		return nil, errors.New("issuer: signer returned a malformed ECDSA signature")
	}
	size := (k.Curve.Params().BitSize + 7) / 8
	out := make([]byte, 2*size)
	rs.R.FillBytes(out[:size])
	rs.S.FillBytes(out[size:])
	return out, nil
}

// Grant returns what the ACL lets account do of the requested scopes:
// resources with no granted action are left out.
func (i *Issuer) Grant(account string, scopes []auth.ResourceActions) []auth.ResourceActions {
	out := []auth.ResourceActions{}
	for _, s := range scopes {
		if acts := i.opts.ACL.Grant(account, s); len(acts) > 0 {
			out = append(out, auth.ResourceActions{Type: s.Type, Class: s.Class, Name: s.Name, Actions: acts})
		}
	}
	return out
}

// ServeHTTP answers a token request: GET with optional Basic credentials
// and the query parameters service, scope (repeatable, each possibly
// space-separated) and account; or POST of an OAuth2 password grant
// (grant_type=password, username, password, service, client_id, scope).
// Anonymous requests get what the ACL grants the anonymous account. Bad
// credentials are answered 401 with a Basic challenge; an unknown service
// or a malformed scope 400.
func (i *Issuer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		i.serveGet(w, r)
	case http.MethodPost:
		i.servePost(w, r)
	default:
		w.Header().Set("Allow", "GET, POST")
		writeError(w, http.StatusMethodNotAllowed, "UNSUPPORTED", "method not allowed")
	}
}

func (i *Issuer) serveGet(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	user, ok := i.authenticate(w, r)
	if !ok {
		return
	}
	if acct := q.Get("account"); acct != "" && acct != user {
		i.log.Info("token refused", "remote", r.RemoteAddr, "user", user, "account", acct, "reason", "account does not match the credentials")
		if user == "" {
			i.challenge(w, "authentication required to act as account "+acct)
			return
		}
		writeError(w, http.StatusBadRequest, "DENIED", "account does not match the credentials")
		return
	}
	i.issue(w, r, user, q.Get("service"), q["scope"], false)
}

func (i *Issuer) servePost(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "malformed form")
		return
	}
	f := r.PostForm
	switch f.Get("grant_type") {
	case "password":
	case "refresh_token":
		writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type", "this server issues no refresh tokens")
		return
	default:
		writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant_type must be password")
		return
	}
	if f.Get("client_id") == "" {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "client_id is required")
		return
	}
	user, pass := f.Get("username"), f.Get("password")
	if i.opts.Users == nil || !i.opts.Users.Authenticate(user, pass) {
		i.log.Info("token refused", "remote", r.RemoteAddr, "user", user, "reason", "invalid username or password")
		writeOAuthError(w, http.StatusUnauthorized, "invalid_grant", "invalid username or password")
		return
	}
	var scopes []string
	if s := f.Get("scope"); s != "" {
		scopes = []string{s}
	}
	i.issue(w, r, user, f.Get("service"), scopes, true)
}

// authenticate returns the request's user ("" for anonymous). It answers
// 401 itself and returns false for credentials that do not check out.
func (i *Issuer) authenticate(w http.ResponseWriter, r *http.Request) (string, bool) {
	scheme, cred, err := auth.ParseAuthorization(r.Header.Get("Authorization"))
	if errors.Is(err, auth.ErrNoCredentials) {
		return "", true
	}
	if err != nil || !strings.EqualFold(scheme, "Basic") {
		i.challenge(w, "Basic credentials required")
		return "", false
	}
	user, pass, err := auth.ParseBasic(cred)
	if err != nil {
		i.challenge(w, "malformed Basic credentials")
		return "", false
	}
	if i.opts.Users == nil || !i.opts.Users.Authenticate(user, pass) {
		i.log.Info("token refused", "remote", r.RemoteAddr, "user", user, "reason", "invalid username or password")
		i.challenge(w, "invalid username or password")
		return "", false
	}
	return user, true
}

func (i *Issuer) challenge(w http.ResponseWriter, msg string) {
	w.Header().Set("WWW-Authenticate", fmt.Sprintf("Basic realm=%q", i.opts.Realm))
	writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", msg)
}

func (i *Issuer) issue(w http.ResponseWriter, r *http.Request, user, service string, rawScopes []string, oauth bool) {
	if !contains(i.opts.Services, service) {
		writeError(w, http.StatusBadRequest, "INVALID_SERVICE", fmt.Sprintf("unknown service %q", service))
		return
	}
	var scopes []auth.ResourceActions
	for _, raw := range rawScopes {
		for _, s := range strings.Fields(raw) {
			if len(scopes) == MaxScopes {
				writeError(w, http.StatusBadRequest, "INVALID_SCOPE", fmt.Sprintf("more than %d scopes", MaxScopes))
				return
			}
			ra, err := auth.ParseScope(s)
			if err != nil {
				writeError(w, http.StatusBadRequest, "INVALID_SCOPE", err.Error())
				return
			}
			scopes = append(scopes, ra)
		}
	}
	granted := i.Grant(user, scopes)
	tok, err := i.Mint(user, service, granted)
	if err != nil {
		i.log.Error("token signing failed", "error", err)
		writeError(w, http.StatusInternalServerError, "UNKNOWN", "unable to sign token")
		return
	}
	i.log.Info("token issued", "remote", r.RemoteAddr, "user", user, "service", service, "requested", scopeStrings(scopes), "granted", scopeStrings(granted))
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	expiresIn := int(tok.ExpiresAt.Sub(tok.IssuedAt) / time.Second)
	issuedAt := tok.IssuedAt.UTC().Format(time.RFC3339)
	var body any
	if oauth {
		body = struct {
			AccessToken string `json:"access_token"`
			Scope       string `json:"scope"`
			ExpiresIn   int    `json:"expires_in"`
			IssuedAt    string `json:"issued_at"`
		}{tok.Raw, strings.Join(scopeStrings(granted), " "), expiresIn, issuedAt}
	} else {
		body = struct {
			Token       string `json:"token"`
			AccessToken string `json:"access_token"`
			ExpiresIn   int    `json:"expires_in"`
			IssuedAt    string `json:"issued_at"`
		}{tok.Raw, tok.Raw, expiresIn, issuedAt}
	}
	_ = json.NewEncoder(w).Encode(body)
}

func scopeStrings(ras []auth.ResourceActions) []string {
	out := make([]string, len(ras))
	for n, ra := range ras {
		out[n] = ra.String()
	}
	return out
}

// writeError writes a docker/distribution errcode body, which Docker
// clients turn into a readable message.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]string{{"code": code, "message": msg}}})
}

// writeOAuthError writes an RFC 6749 §5.2 error body.
func writeOAuthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}
