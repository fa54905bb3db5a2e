// Command tokenserver is a minimal Docker-registry-style token server (the "realm" of
// notary-server's auth.type "token"), for exercising token auth on loopback.
//
//	tokenserver serve -listen 127.0.0.1:0 -tls-cert server.crt -tls-key server.key \
//	    -sign-cert ca.crt -sign-key ca.key -issuer auth.example.com [-grant push,pull] \
//	    [-log exchanges.jsonl] [-addr-file F]
//	tokenserver mint -sign-cert ca.crt -sign-key ca.key -issuer auth.example.com \
//	    -service notary.example.com -scope repository:example.com/foo:pull
//
// Tokens are ES256 JWTs with an x5c header holding -sign-cert, which must chain to the
// notary-server's auth.options.rootcertbundle. "serve" answers GET /token?service=S&scope=...
// granting every requested action unless -grant limits them; "mint" prints one token.
// With -log, each token request is appended in tools/cmd/httplog's JSON-lines format.
package main

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"
)

type access struct {
	Type    string   `json:"type"`
	Name    string   `json:"name"`
	Actions []string `json:"actions"`
}

type signer struct {
	key    *ecdsa.PrivateKey
	x5c    []string
	issuer string
}

func loadSigner(certFile, keyFile, issuer string) (*signer, error) {
	cb, err := os.ReadFile(certFile)
	if err != nil {
		return nil, err
	}
	var x5c []string
	for rest := cb; ; {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		if blk.Type == "CERTIFICATE" {
			x5c = append(x5c, base64.StdEncoding.EncodeToString(blk.Bytes))
		}
	}
	if len(x5c) == 0 {
		return nil, fmt.Errorf("no certificate in %s", certFile)
	}
	kb, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(kb)
	if blk == nil {
		return nil, fmt.Errorf("no PEM in %s", keyFile)
	}
	var k interface{}
	if k, err = x509.ParseECPrivateKey(blk.Bytes); err != nil {
		if k, err = x509.ParsePKCS8PrivateKey(blk.Bytes); err != nil {
			return nil, err
		}
	}
	ek, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, errors.New("signing key must be ECDSA P-256")
	}
	return &signer{key: ek, x5c: x5c, issuer: issuer}, nil
}

func b64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func (s *signer) mint(service, subject string, acc []access, ttl time.Duration) (string, error) {
	hdr, _ := json.Marshal(map[string]interface{}{"typ": "JWT", "alg": "ES256", "x5c": s.x5c})
	now := time.Now()
	jti := make([]byte, 8)
	rand.Read(jti)
	if acc == nil {
		acc = []access{}
	}
	claims, _ := json.Marshal(map[string]interface{}{
		"iss": s.issuer, "sub": subject, "aud": service,
		"exp": now.Add(ttl).Unix(), "nbf": now.Add(-time.Minute).Unix(), "iat": now.Unix(),
		"jti": fmt.Sprintf("%x", jti), "access": acc,
	})
	signingInput := b64url(hdr) + "." + b64url(claims)
	h := sha256.Sum256([]byte(signingInput))
	r, sv, err := ecdsa.Sign(rand.Reader, s.key, h[:])
	if err != nil {
		return "", err
	}
	sig := make([]byte, 64)
	fill(sig[:32], r)
	fill(sig[32:], sv)
	return signingInput + "." + b64url(sig), nil
}

func fill(dst []byte, n *big.Int) {
	b := n.Bytes()
	copy(dst[len(dst)-len(b):], b)
}

// parseScope parses "type:name:a,b" (name may contain ':'; the last ':' separates actions).
func parseScope(scope string) (access, error) {
	first := strings.Index(scope, ":")
	last := strings.LastIndex(scope, ":")
	if first < 0 || last == first {
		return access{}, fmt.Errorf("bad scope %q", scope)
	}
	return access{Type: scope[:first], Name: scope[first+1 : last], Actions: strings.Split(scope[last+1:], ",")}, nil
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	switch os.Args[1] {
	case "serve":
		serve(os.Args[2:])
	case "mint":
		mintCmd(os.Args[2:])
	default:
		usage()
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: tokenserver serve|mint [flags] (see package doc)")
	os.Exit(2)
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "tokenserver:", err)
		os.Exit(1)
	}
}

func mintCmd(args []string) {
	fs := flag.NewFlagSet("mint", flag.ExitOnError)
	cert := fs.String("sign-cert", "", "certificate (chain) for x5c")
	key := fs.String("sign-key", "", "ECDSA signing key")
	issuer := fs.String("issuer", "", "iss claim")
	service := fs.String("service", "", "aud claim")
	subject := fs.String("subject", "golden", "sub claim")
	ttl := fs.Duration("ttl", 5*time.Minute, "lifetime")
	var scopes []string
	fs.Func("scope", "granted scope type:name:actions (repeatable)", func(v string) error { scopes = append(scopes, v); return nil })
	fs.Parse(args)
	s, err := loadSigner(*cert, *key, *issuer)
	check(err)
	var acc []access
	for _, sc := range scopes {
		a, err := parseScope(sc)
		check(err)
		acc = append(acc, a)
	}
	tok, err := s.mint(*service, *subject, acc, *ttl)
	check(err)
	fmt.Println(tok)
}

type exchange struct {
	Seq      int         `json:"seq"`
	Time     time.Time   `json:"time"`
	Method   string      `json:"method"`
	URI      string      `json:"uri"`
	ReqHdr   http.Header `json:"req_headers"`
	Status   int         `json:"status"`
	RespHdr  http.Header `json:"resp_headers"`
	RespBody []byte      `json:"resp_body"`
}

func serve(args []string) {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	listen := fs.String("listen", "127.0.0.1:0", "listen address")
	tlsCert := fs.String("tls-cert", "", "TLS certificate")
	tlsKey := fs.String("tls-key", "", "TLS key")
	cert := fs.String("sign-cert", "", "certificate (chain) for x5c")
	key := fs.String("sign-key", "", "ECDSA signing key")
	issuer := fs.String("issuer", "", "iss claim")
	grant := fs.String("grant", "", "if set, grant only these actions (comma separated) of each requested scope")
	logFile := fs.String("log", "", "append token requests here (httplog JSON lines)")
	addrFile := fs.String("addr-file", "", "write the listen address here")
	fs.Parse(args)
	s, err := loadSigner(*cert, *key, *issuer)
	check(err)
	var mu sync.Mutex
	var out *os.File
	if *logFile != "" {
		out, err = os.OpenFile(*logFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		check(err)
	}
	allowed := map[string]bool{}
	for _, a := range strings.Split(*grant, ",") {
		if a != "" {
			allowed[a] = true
		}
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var acc []access
		for _, sc := range r.URL.Query()["scope"] {
			for _, one := range strings.Fields(sc) {
				a, err := parseScope(one)
				if err != nil {
					http.Error(w, err.Error(), http.StatusBadRequest)
					return
				}
				if len(allowed) > 0 {
					var keep []string
					for _, x := range a.Actions {
						if allowed[x] {
							keep = append(keep, x)
						}
					}
					a.Actions = keep
				}
				acc = append(acc, a)
			}
		}
		tok, err := s.mint(r.URL.Query().Get("service"), "golden", acc, 5*time.Minute)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		body, _ := json.Marshal(map[string]interface{}{"token": tok, "access_token": tok, "expires_in": 300, "issued_at": time.Now().UTC().Format(time.RFC3339)})
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
		if out != nil {
			mu.Lock()
			b, _ := json.Marshal(exchange{Time: time.Now().UTC(), Method: r.Method, URI: "[token server] " + r.RequestURI, ReqHdr: r.Header.Clone(),
				Status: 200, RespHdr: w.Header().Clone(), RespBody: body})
			out.Write(append(b, '\n'))
			mu.Unlock()
		}
	})
	ln, err := net.Listen("tcp", *listen)
	check(err)
	if *addrFile != "" {
		check(os.WriteFile(*addrFile, []byte(ln.Addr().String()+"\n"), 0o644))
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 30 * time.Second}
	go func() {
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGINT, syscall.SIGTERM)
		<-c
		srv.Close()
	}()
	if *tlsCert != "" {
		err = srv.ServeTLS(ln, *tlsCert, *tlsKey)
	} else {
		err = srv.Serve(ln)
	}
	if err != nil && err != http.ErrServerClosed {
		check(err)
	}
}
