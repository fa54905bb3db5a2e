package main

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/notary-go/notary/internal/tlspolicy"
)

// access is the permission a command needs on the GUN, which selects the
// token scope (v1 httpAccess: pull, push+pull, *).
type access int

const (
	readOnly access = iota
	readWrite
	admin
)

func (a access) actions() []string {
	switch a {
	case admin:
		return []string{"*"}
	case readWrite:
		return []string{"push", "pull"}
	}
	return []string{"pull"}
}

// maxTokenResponse caps a token server's answer.
const maxTokenResponse = 1 << 20

// tlsConfig builds the client TLS configuration (v1 getTransport with
// docker/go-connections tlsconfig.Client): TLS 1.2 or later; with a CA
// file, only that CA is trusted (ExclusiveRootPools); an optional client
// certificate for mutual TLS.
func tlsConfig(s *settings) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tlspolicy.MinVersion, CipherSuites: tlspolicy.CipherSuites(), InsecureSkipVerify: s.SkipTLSVerify} //nolint:gosec // user's explicit choice (skipTLSVerify)
	if s.RootCA != "" {
		pem, err := os.ReadFile(s.RootCA)
		if err != nil {
			return nil, fmt.Errorf("unable to configure TLS: could not read CA certificate %s: %w", s.RootCA, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("unable to configure TLS: no certificate found in CA file %s", s.RootCA)
		}
		cfg.RootCAs = pool
	}
	if s.ClientCert != "" {
		pair, err := tls.LoadX509KeyPair(s.ClientCert, s.ClientKey)
		if err != nil {
			return nil, fmt.Errorf("unable to configure TLS: could not load client certificate %s and key %s: %w", s.ClientCert, s.ClientKey, err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

// httpClient returns the client for talking to the server about gun with
// the given access: TLS from the settings, proxies from the environment,
// connect and handshake timeouts, token or basic authentication when the
// server asks for it, and request logging with -D.
func (a *app) httpClient(s *settings, gun string, acc access) (*http.Client, error) {
	tc, err := tlsConfig(s)
	if err != nil {
		return nil, err
	}
	base := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		TLSClientConfig:       tc,
		ForceAttemptHTTP2:     true,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       30 * time.Second,
		ResponseHeaderTimeout: 5 * time.Minute,
	}
	var rt http.RoundTripper = base
	if a.flags.debug {
		rt = &logTransport{next: rt, out: a.stderr}
	}
	rt = &authTransport{
		next:    rt,
		gun:     gun,
		actions: acc.actions(),
		creds:   a.credentials(acc),
		tokens:  map[string]string{},
	}
	return &http.Client{Transport: rt}, nil
}

// credentials returns a function giving the Basic credentials for the
// server: NOTARY_AUTH (base64 of user:password) or, for writes on a
// terminal, a prompt (v1 passwordStore). Reads without NOTARY_AUTH stay
// anonymous.
func (a *app) credentials(acc access) func() (string, string) {
	var (
		once       sync.Once
		user, pass string
	)
	return func() (string, string) {
		once.Do(func() {
			if v := a.getenv("NOTARY_AUTH"); v != "" {
				dec, err := base64.StdEncoding.DecodeString(v)
				if err != nil {
					a.warnf("NOTARY_AUTH is not valid base64; continuing without credentials")
					return
				}
				u, p, ok := strings.Cut(string(dec), ":")
				if !ok || u == "" {
					a.warnf("NOTARY_AUTH must be the base64 of <username>:<password>; continuing without credentials")
					return
				}
				user, pass = u, strings.TrimSpace(p)
				return
			}
			if acc == readOnly || !a.stdinIsTerminal() {
				return
			}
			fmt.Fprint(a.stdout, "Enter username: ")
			line, err := bufio.NewReader(a.stdin).ReadString('\n')
			if err != nil && line == "" {
				return
			}
			user = strings.TrimSpace(line)
			if user == "" {
				return
			}
			fmt.Fprint(a.stdout, "Enter password: ")
			p, err := readSecret(a.stdinFile)
			fmt.Fprintln(a.stdout)
			if err != nil {
				user = ""
				return
			}
			pass = strings.TrimSpace(p)
		})
		return user, pass
	}
}

// authTransport answers the server's authentication challenges the way
// docker/distribution's client does for notary: on a 401 with a Bearer
// challenge it gets a token for repository:<gun>:<actions> from the realm
// (with Basic credentials if any) and retries; on a Basic challenge it
// retries with the credentials. Tokens are kept per realm and scope.
type authTransport struct {
	next    http.RoundTripper
	gun     string
	actions []string
	creds   func() (string, string)

	mu     sync.Mutex
	tokens map[string]string // realm|service|scope → token
	auth   string            // Authorization value that worked last
}

func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.mu.Lock()
	auth := t.auth
	t.mu.Unlock()
	first := req
	if auth != "" && req.Header.Get("Authorization") == "" {
		first = req.Clone(req.Context())
		first.Header.Set("Authorization", auth)
	}
	resp, err := t.next.RoundTrip(first)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	challenge := resp.Header.Get("WWW-Authenticate")
	scheme, params := parseChallenge(challenge)
	var value string
	switch strings.ToLower(scheme) {
	case "bearer":
		tok, terr := t.token(req, params)
		if terr != nil {
			return resp, nil // the 401 says enough; the error is logged by the caller's message
		}
		value = "Bearer " + tok
	case "basic":
		u, p := t.creds()
		if u == "" {
			return resp, nil
		}
		value = "Basic " + base64.StdEncoding.EncodeToString([]byte(u+":"+p))
	default:
		return resp, nil
	}
	retry := req.Clone(req.Context())
	if req.Body != nil && req.Body != http.NoBody {
		if req.GetBody == nil {
			return resp, nil
		}
		body, berr := req.GetBody()
		if berr != nil {
			return resp, nil
		}
		retry.Body = body
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<10))
	resp.Body.Close()
	retry.Header.Set("Authorization", value)
	resp, err = t.next.RoundTrip(retry)
	if err == nil && resp.StatusCode != http.StatusUnauthorized {
		t.mu.Lock()
		t.auth = value
		t.mu.Unlock()
	}
	return resp, err
}

// token fetches (or reuses) a bearer token for the challenge.
func (t *authTransport) token(req *http.Request, params map[string]string) (string, error) {
	realm := params["realm"]
	if realm == "" {
		return "", errors.New("bearer challenge without realm")
	}
	scope := "repository:" + t.gun + ":" + strings.Join(t.actions, ",")
	key := realm + "|" + params["service"] + "|" + scope
	t.mu.Lock()
	tok, ok := t.tokens[key]
	t.mu.Unlock()
	if ok {
		return tok, nil
	}
	u, err := url.Parse(realm)
	if err != nil {
		return "", err
	}
	q := u.Query()
	if s := params["service"]; s != "" {
		q.Set("service", s)
	}
	q.Set("scope", scope)
	user, pass := t.creds()
	if user != "" {
		q.Set("account", user)
	}
	u.RawQuery = q.Encode()
	treq, err := http.NewRequestWithContext(req.Context(), http.MethodGet, u.String(), nil)
	if err != nil {
		return "", err
	}
	if user != "" {
		treq.SetBasicAuth(user, pass)
	}
	resp, err := t.next.RoundTrip(treq)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("token server %s answered HTTP %d", realm, resp.StatusCode)
	}
	var body struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxTokenResponse)).Decode(&body); err != nil {
		return "", fmt.Errorf("token server %s: %w", realm, err)
	}
	tok = body.Token
	if tok == "" {
		tok = body.AccessToken
	}
	if tok == "" {
		return "", fmt.Errorf("token server %s returned no token", realm)
	}
	t.mu.Lock()
	t.tokens[key] = tok
	t.mu.Unlock()
	return tok, nil
}

// parseChallenge parses `Scheme k="v",k2="v2"` (RFC 7235, one challenge).
func parseChallenge(h string) (string, map[string]string) {
	h = strings.TrimSpace(h)
	scheme, rest, _ := strings.Cut(h, " ")
	params := map[string]string{}
	for rest = strings.TrimSpace(rest); rest != ""; {
		k, v, ok := strings.Cut(rest, "=")
		if !ok {
			break
		}
		k = strings.ToLower(strings.TrimSpace(k))
		v = strings.TrimLeft(v, " ")
		var val string
		if strings.HasPrefix(v, `"`) {
			v = v[1:]
			var b strings.Builder
			i := 0
			for ; i < len(v); i++ {
				if v[i] == '\\' && i+1 < len(v) {
					i++
					b.WriteByte(v[i])
					continue
				}
				if v[i] == '"' {
					break
				}
				b.WriteByte(v[i])
			}
			val = b.String()
			if i < len(v) {
				v = v[i+1:]
			} else {
				v = ""
			}
		} else {
			end := strings.IndexByte(v, ',')
			if end < 0 {
				end = len(v)
			}
			val, v = strings.TrimSpace(v[:end]), v[end:]
		}
		params[k] = val
		rest = strings.TrimLeft(strings.TrimSpace(v), ",")
		rest = strings.TrimSpace(rest)
	}
	return scheme, params
}

// logTransport prints every request and its outcome on stderr (-D).
type logTransport struct {
	next http.RoundTripper
	out  io.Writer
	mu   sync.Mutex
}

func (t *logTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	t.mu.Lock()
	defer t.mu.Unlock()
	d := time.Since(start).Round(time.Millisecond)
	if err != nil {
		fmt.Fprintf(t.out, "debug: %s %s: %v (%s)\n", req.Method, req.URL.Redacted(), err, d)
	} else {
		fmt.Fprintf(t.out, "debug: %s %s: %s (%s)\n", req.Method, req.URL.Redacted(), resp.Status, d)
	}
	return resp, err
}
