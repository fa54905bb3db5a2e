package signer

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"github.com/notary-go/notary/internal/tlspolicy"
)

// ServerTLSConfig is the signer's TLS configuration: TLS 1.2 or later with
// cert. When clientCAs is not nil, clients must present a certificate
// issued by one of them (mutual TLS, v1's server.client_ca_file); with nil
// any client may connect, as v1 allows when no client CA is configured.
func ServerTLSConfig(cert tls.Certificate, clientCAs *x509.CertPool) *tls.Config {
	c := &tls.Config{
		MinVersion:   tlspolicy.MinVersion,
		Certificates: []tls.Certificate{cert},
		CipherSuites: tlspolicy.CipherSuites(), // not Go's defaults: see tlspolicy
	}
	if clientCAs != nil {
		c.ClientCAs = clientCAs
		c.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return c
}

// LoadServerTLS builds ServerTLSConfig from PEM files: the server
// certificate and key (v1's server.tls_cert_file, tls_key_file), and the
// CA bundle client certificates must chain to (server.client_ca_file; ""
// turns client authentication off).
func LoadServerTLS(certFile, keyFile, clientCAFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("signer: server certificate: %w", err)
	}
	var pool *x509.CertPool
	if clientCAFile != "" {
		if pool, err = loadPool(clientCAFile); err != nil {
			return nil, err
		}
	}
	return ServerTLSConfig(cert, pool), nil
}

// ClientTLSConfig is the notary-server's TLS configuration for reaching a
// signer: TLS 1.2 or later, trusting only roots (v1's
// trust_service.tls_ca_file), presenting cert when not nil
// (tls_client_cert / tls_client_key), and checking the signer's
// certificate against serverName (v1 uses trust_service.hostname).
func ClientTLSConfig(roots *x509.CertPool, cert *tls.Certificate, serverName string) *tls.Config {
	c := &tls.Config{
		MinVersion:   tlspolicy.MinVersion,
		CipherSuites: tlspolicy.CipherSuites(),
		RootCAs:      roots,
		ServerName:   serverName,
	}
	if cert != nil {
		c.Certificates = []tls.Certificate{*cert}
	}
	return c
}

// LoadClientTLS builds ClientTLSConfig from PEM files. caFile is required
// (the system roots are never used for the signer); certFile and keyFile
// are both set or both empty.
func LoadClientTLS(caFile, certFile, keyFile, serverName string) (*tls.Config, error) {
	if caFile == "" {
		return nil, errors.New("signer: a CA file for the signer's certificate is required")
	}
	roots, err := loadPool(caFile)
	if err != nil {
		return nil, err
	}
	var cert *tls.Certificate
	switch {
	case certFile != "" && keyFile != "":
		c, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("signer: client certificate: %w", err)
		}
		cert = &c
	case certFile != "" || keyFile != "":
		return nil, errors.New("signer: client certificate and key must be given together")
	}
	return ClientTLSConfig(roots, cert, serverName), nil
}

func loadPool(file string) (*x509.CertPool, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("signer: CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("signer: CA file %s holds no PEM certificate", file)
	}
	return pool, nil
}
