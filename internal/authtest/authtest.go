// Package authtest is test-only: a notary server behind token auth with
// the token server of cmd/notary-auth (auth/issuer) on another port, as
// they are deployed, with users whose rights on one GUN differ.
package authtest

import (
	"crypto"
	"crypto/x509"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/notary-go/notary/auth"
	"github.com/notary-go/notary/auth/htpasswd"
	"github.com/notary-go/notary/auth/issuer"
	"github.com/notary-go/notary/internal/testpki"
	"github.com/notary-go/notary/server"
	"github.com/notary-go/notary/server/keyservice"
	"github.com/notary-go/notary/storage/memory"
)

// Users of a Setup, with their passwords: Admin may do everything on the
// GUN ("pull", "push", "*") and nothing else (no registry:catalog:*);
// Reader may pull it.
const (
	Admin          = "admin"
	AdminPassword  = "admin-pw"
	Reader         = "reader"
	ReaderPassword = "reader-pw"
)

// A Setup is a server and its token server.
type Setup struct {
	Server, Tokens *httptest.Server

	mu       sync.Mutex
	requests []string
}

// Issuer returns the token server of notary-auth for service, signing
// with key (chain: its certificate, leaf first), with the users Admin and
// Reader and their rights on gun.
func Issuer(t testing.TB, gun, service string, key crypto.Signer, chain []*x509.Certificate) http.Handler {
	t.Helper()
	var lines []string
	for _, u := range [][2]string{{Admin, AdminPassword}, {Reader, ReaderPassword}} {
		l, err := htpasswd.Line(u[0], u[1], 4) // the lowest bcrypt cost: tests only
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, l)
	}
	users, err := htpasswd.Parse(strings.NewReader(strings.Join(lines, "\n") + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	acl, err := issuer.ParseACL([]byte(`[
		{"account": "` + Admin + `", "name": "` + gun + `", "actions": ["pull", "push", "*"]},
		{"account": "` + Reader + `", "name": "` + gun + `", "actions": ["pull"]}
	]`))
	if err != nil {
		t.Fatal(err)
	}
	iss, err := issuer.New(issuer.Options{
		Issuer: "notary-auth", Services: []string{service},
		Key: key, Chain: chain, Users: users, ACL: acl, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	return iss
}

// New starts a Setup for gun. hook, if not nil, sees every server request
// first and answers it by returning true.
func New(t testing.TB, gun string, hook func(http.ResponseWriter, *http.Request) bool) *Setup {
	t.Helper()
	ca := testpki.New(t, "token CA")
	leaf := ca.Issue(t, "token signer", testpki.Options{})
	iss := Issuer(t, gun, "notary", leaf.TLS.PrivateKey.(crypto.Signer), []*x509.Certificate{leaf.Cert})
	discard := slog.New(slog.DiscardHandler)
	s := &Setup{}
	s.Tokens = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _, _ := r.BasicAuth()
		s.mu.Lock()
		s.requests = append(s.requests, r.URL.Query().Get("scope")+" "+u)
		s.mu.Unlock()
		iss.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Tokens.Close)
	srv, err := server.New(server.Options{Store: memory.New(), Keys: keyservice.NewMemory(), Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	mw, err := auth.New(auth.Config{Type: "token", Logger: discard, Options: map[string]any{
		"realm": s.Tokens.URL + "/token", "service": "notary", "issuer": "notary-auth", "rootcertbundle": ca.CAFile,
	}})
	if err != nil {
		t.Fatal(err)
	}
	h := mw(srv)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hook != nil && hook(w, r) {
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Server.Close)
	return s
}

// TokenRequests returns the token requests so far, each "<scope> <user>".
func (s *Setup) TokenRequests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}
