// Package signer is the notary-signer: the gRPC KeyManagement and Signer
// services of Notary v0.7.0 (package proto, so /proto.KeyManagement/* and
// /proto.Signer/Sign) over a keystore.Service, usually a keydb.DB, and the
// Client the notary-server uses to reach them.
//
// Assembling a signer (what cmd/notary-signer does):
//
//	db, _ := keydb.OpenSQL(ctx, sqlDB, keydb.MySQL, keydb.Options{DefaultAlias: alias})
//	tlsConf, _ := signer.LoadServerTLS(certFile, keyFile, clientCAFile)
//	gs := grpc.NewServer(grpc.Creds(credentials.NewTLS(tlsConf)))
//	signer.NewServer(db, signer.Options{Logger: logger}).Register(gs)
//	gs.Serve(lis)
//
// And the server side:
//
//	tlsConf, _ := signer.LoadClientTLS(caFile, clientCert, clientKey, hostname)
//	c, _ := signer.Dial(net.JoinHostPort(hostname, "7899"), tlsConf, signer.ClientOptions{})
//	pub, _ := c.CreateKey(ctx, "timestamp", gun, "ecdsa")
//	sig, _ := c.SignerFor(gun, pub).Sign(ctx, canonicalBytes)
//
// Beyond v0.7.0, and wire-compatible with it: the Server holds only
// timestamp and snapshot keys and signs only the canonical body of its
// key's own role, with bounded expiry and version (SignLimits); an
// optional Policy limits each client certificate to GUN prefixes and
// operations; GetKeyInfo reports the key's GUN in the KeyGUNHeader
// response header, and Sign refuses a key of another GUN than the one a
// request names in SignGUNHeader (v0.7.0 peers ignore both headers).
package signer
