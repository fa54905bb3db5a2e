package main

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/notary-go/notary/client"
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
		return client.ActionsAdmin
	case readWrite:
		return client.ActionsWrite
	}
	return client.ActionsRead
}

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

// httpClients returns the clients for talking to the server about gun
// with the given access, and to a mirror: TLS from the settings, proxies
// from the environment, connect and handshake timeouts, request logging
// with -D. Only the server's client answers authentication challenges
// (client.AuthTransport, which sends credentials to the server's origin
// alone); the mirror's never sends credentials.
func (a *app) httpClients(s *settings, gun string, acc access) (server, mirror *http.Client, err error) {
	return a.httpClientsWith(s, gun, acc, a.credentials(acc))
}

// httpClientsWith is httpClients with the server's credentials given.
func (a *app) httpClientsWith(s *settings, gun string, acc access, creds func() (string, string)) (server, mirror *http.Client, err error) {
	tc, err := tlsConfig(s)
	if err != nil {
		return nil, nil, err
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
	at, err := client.NewAuthTransport(client.AuthOptions{
		ServerURL:   s.ServerURL,
		GUN:         gun,
		Actions:     acc.actions(),
		Credentials: creds,
		Base:        rt,
		Now:         a.now,
	})
	if err != nil {
		return nil, nil, err
	}
	return &http.Client{Transport: at}, &http.Client{Transport: rt}, nil
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
