package auth

import (
	"encoding/base64"
	"errors"
	"strings"
	"unicode/utf8"
)

// Errors of ParseAuthorization and ParseBasic.
var (
	// ErrNoCredentials: the request has no Authorization header.
	ErrNoCredentials = errors.New("auth: no credentials")
	// ErrMalformedCredentials: the header is not "<scheme> <token68>", or
	// Basic credentials do not decode to user:password.
	ErrMalformedCredentials = errors.New("auth: malformed Authorization header")
)

// MaxCredentialsLen bounds the credentials of an Authorization header.
// Bearer tokens carrying a certificate chain are a few KiB; anything above
// this is refused before it is decoded.
const MaxCredentialsLen = 16 << 10

// ParseAuthorization splits an Authorization header value into its scheme
// and credentials (RFC 7235 §2.1, token68 form only: "Bearer <jwt>",
// "Basic <base64>"). The scheme is returned as written; compare it with
// strings.EqualFold. Leading and trailing spaces and tabs are ignored, and
// scheme and credentials may be separated by several spaces.
func ParseAuthorization(h string) (scheme, credentials string, err error) {
	h = strings.Trim(h, " \t")
	if h == "" {
		return "", "", ErrNoCredentials
	}
	i := strings.IndexByte(h, ' ')
	if i <= 0 {
		return "", "", ErrMalformedCredentials
	}
	scheme, credentials = h[:i], strings.TrimLeft(h[i+1:], " ")
	if !isToken(scheme) || credentials == "" || len(credentials) > MaxCredentialsLen || !isToken68(credentials) {
		return "", "", ErrMalformedCredentials
	}
	return scheme, credentials, nil
}

// isToken is RFC 7230's token (tchar+).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// isToken68 is RFC 7235's token68: 1*( ALPHA / DIGIT / "-" / "." / "_" /
// "~" / "+" / "/" ) *"=".
func isToken68(s string) bool {
	end := len(strings.TrimRight(s, "="))
	if end == 0 {
		return false
	}
	for i := 0; i < end; i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '-', c == '.', c == '_', c == '~', c == '+', c == '/':
		default:
			return false
		}
	}
	return true
}

// ParseBasic decodes the credentials of a Basic Authorization header
// (RFC 7617): base64 of "user:password", split at the first colon. The
// user may not be empty; neither may contain control characters, and both
// must be valid UTF-8.
func ParseBasic(credentials string) (user, password string, err error) {
	b, err := base64.StdEncoding.DecodeString(credentials)
	if err != nil {
		return "", "", ErrMalformedCredentials
	}
	s := string(b)
	i := strings.IndexByte(s, ':')
	if i <= 0 || !utf8.ValidString(s) {
		return "", "", ErrMalformedCredentials
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return "", "", ErrMalformedCredentials
		}
	}
	return s[:i], s[i+1:], nil
}
