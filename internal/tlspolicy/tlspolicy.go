// Package tlspolicy is the one place the TLS floor of every endpoint is
// set, server and client alike: TLS 1.2 or later and, for TLS 1.2, only
// ECDHE key exchange with AEAD ciphers (TLS 1.3 suites are fixed by Go).
// Listing the suites, rather than relying on Go's defaults, keeps RSA key
// exchange and CBC suites out even when GODEBUG (tlsrsakex=1,
// tls10server=1) turns the defaults back; see docs/security.md.
package tlspolicy

import "crypto/tls"

// MinVersion is the oldest protocol version any endpoint speaks.
const MinVersion = tls.VersionTLS12

// CipherSuites are the TLS 1.2 suites any endpoint offers or accepts.
func CipherSuites() []uint16 {
	return []uint16{
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
		tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	}
}
