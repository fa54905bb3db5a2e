// Package pemcert reads the certificates of a PEM bundle, for callers that
// each word their own errors.
package pemcert

import (
	"crypto/x509"
	"encoding/pem"
)

// Parse returns the CERTIFICATE blocks of b, in order, skipping blocks of
// other types. The error is x509's for the first certificate that does not
// parse. No certificate at all gives an empty result and no error: the
// caller decides whether that is one.
func Parse(b []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for rest := b; ; {
		var blk *pem.Block
		if blk, rest = pem.Decode(rest); blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}
