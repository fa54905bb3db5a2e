package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/notary-go/notary/client"
)

// A program talks to a trust server behind authentication (registry token
// auth, as notary-auth or a Docker registry's token server provide, or
// Basic auth) by giving the Repository an http.Client whose Transport is
// an AuthTransport. Here the server wants Basic credentials.
func ExampleNewAuthTransport() {
	inner := exampleServer()
	defer inner.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "alice" || p != "secret" {
			w.Header().Set("WWW-Authenticate", `Basic realm="notary"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		inner.Config.Handler.ServeHTTP(w, r)
	}))
	defer srv.Close()
	dir, _ := os.MkdirTemp("", "notary-example")
	defer os.RemoveAll(dir)

	transport, err := client.NewAuthTransport(client.AuthOptions{
		// Credentials go to this origin only (and to the token server its
		// challenge names), never to a mirror or a redirect target.
		ServerURL: srv.URL,
		GUN:       "example.com/app",
		Actions:   client.ActionsRead,
		Credentials: func() (string, string) {
			return "alice", "secret" // e.g. from the environment or a prompt
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	repo, err := client.NewRepository("example.com/app", client.Options{
		TrustDir:   dir,
		ServerURL:  srv.URL,
		HTTPClient: &http.Client{Transport: transport},
	})
	if err != nil {
		log.Fatal(err)
	}
	// Nothing is published for the GUN yet: the server was reached and
	// authenticated, and says so.
	_, err = repo.ListTargets(context.Background())
	fmt.Println("authenticated:", !errors.Is(err, client.ErrUnauthorized))
	fmt.Println("no such collection:", errors.Is(err, client.ErrRepositoryNotExist))
	// Output:
	// authenticated: true
	// no such collection: true
}
