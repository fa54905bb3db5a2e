package signer_test

import (
	"context"
	"database/sql"
	"log"
	"net"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/notary-go/notary/signer"
	"github.com/notary-go/notary/signer/keydb"
)

// ExampleNewServer assembles a notary-signer: keys in MySQL encrypted under
// the alias whose passphrase is in NOTARY_SIGNER_ALIAS1, mutual TLS, and
// the KeyManagement, Signer and health services on port 7899.
func ExampleNewServer() {
	ctx := context.Background()
	sqlDB, err := sql.Open("mysql", "signer@tcp(db:3306)/notarysigner") // the program links the driver
	if err != nil {
		log.Fatal(err)
	}
	keyDB, err := keydb.OpenSQL(ctx, sqlDB, keydb.MySQL, keydb.Options{DefaultAlias: "alias1"})
	if err != nil {
		log.Fatal(err)
	}
	tlsConf, err := signer.LoadServerTLS("signer.crt", "signer.key", "notary-server-ca.crt")
	if err != nil {
		log.Fatal(err)
	}
	gs := grpc.NewServer(grpc.Creds(credentials.NewTLS(tlsConf)))
	signer.NewServer(keyDB, signer.Options{}).Register(gs)
	lis, err := net.Listen("tcp", ":7899")
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(gs.Serve(lis))
}

// ExampleDial is the notary-server side: make a timestamp key and sign
// with it.
func ExampleDial() {
	ctx := context.Background()
	tlsConf, err := signer.LoadClientTLS("signer-ca.crt", "server-client.crt", "server-client.key", "notary-signer")
	if err != nil {
		log.Fatal(err)
	}
	c, err := signer.Dial("notary-signer:7899", tlsConf, signer.ClientOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	pub, err := c.CreateKey(ctx, "timestamp", "docker.io/library/alpine", "ecdsa")
	if err != nil {
		log.Fatal(err) // errors.Is(err, signer.ErrUnavailable) → answer 503
	}
	sig, err := c.Signer(pub).Sign(ctx, []byte(`{"_type":"Timestamp",...}`))
	if err != nil {
		log.Fatal(err)
	}
	_ = sig
}
