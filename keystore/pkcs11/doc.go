// Package pkcs11 keeps Notary private keys on a PKCS#11 token (a hardware
// security module, a smart card, SoftHSM2) so that the private key never
// leaves it: keys are generated on the token as sensitive, non-extractable
// token objects and every signature is made by the token (C_Sign).
//
// A Store implements keystore.Service over one token:
//
//   - Create generates ECDSA P-256 (CKM_EC_KEY_PAIR_GEN) or Ed25519
//     (CKM_EC_EDWARDS_KEY_PAIR_GEN, PKCS#11 3.0; SoftHSM2 2.6 has it) key
//     pairs on the token.
//   - Add imports an existing software key (ecdsa, ed25519, rsa) with
//     C_CreateObject, as v1 imported root keys into Yubikeys; the imported
//     private key is sensitive and non-extractable from then on, but the
//     token reports it as never having been CKA_ALWAYS_SENSITIVE.
//   - Get cannot hand out a software key. It returns a *keys.PrivateKey
//     built with keys.FromCrypto over a token-backed crypto.Signer when the
//     keys package accepts one, and otherwise an error matching
//     ErrKeyNotExportable. Signer is the way to sign: it returns a
//     tuf.Signer (and, through CryptoSigner, a crypto.Signer for
//     certificates) whose signatures the token makes.
//
// # Objects on the token
//
// Each key is a private key object (CKO_PRIVATE_KEY; CKA_TOKEN,
// CKA_PRIVATE, CKA_SENSITIVE true; CKA_EXTRACTABLE false; CKA_SIGN only)
// and a public key object (CKO_PUBLIC_KEY) sharing one CKA_ID: the 32 raw
// bytes of the key's canonical key ID (v1 §3.3), so pkcs11-tool shows the ID
// Notary prints. CKA_LABEL is "<role>:<gun>" (no TUF role name contains
// ':'; the GUN may). The public key is rebuilt from the public object's
// CKA_EC_PARAMS and CKA_EC_POINT (or CKA_MODULUS and
// CKA_PUBLIC_EXPONENT), and a key whose public key does not hash to its
// CKA_ID is refused. Objects whose CKA_ID is not 32 bytes or whose label
// has no ':' are not Notary's and are ignored by List.
//
// # Sessions and concurrency
//
// A Store is safe for concurrent use. PKCS#11 sessions are not, so each
// call takes a session from a pool of at most Config.MaxSessions (calls
// beyond that wait, or fail when their context is done). Calls that
// create or destroy objects (Create, Add, Remove) run alone on the token,
// since SoftHSM2's file store breaks when an object is written while
// another thread reads (SoftHSMv2 issue #573); signing runs in parallel.
// The store logs in
// once (PKCS#11 login state belongs to the process, not the session). When
// the token reports that the device, the session or the login went away
// (CKR_DEVICE_REMOVED, CKR_TOKEN_NOT_PRESENT, CKR_SESSION_HANDLE_INVALID,
// CKR_USER_NOT_LOGGED_IN, ...) the store closes every session, finds the
// token again by label, logs in again and retries the call once. A PKCS#11
// call itself cannot be cancelled: a context is checked before a call and
// while waiting for a session.
//
// All Stores of one process that name the same module and token label
// share one connection (sessions, login, key handle cache), because
// PKCS#11 login state is per process: opening such a store with a PIN other
// than the one already logged in fails with ErrPINIncorrect.
//
// # Builds without cgo
//
// The binding (github.com/miekg/pkcs11) loads the module with dlopen at run
// time, so no HSM library is needed to build, but it needs cgo. With
// CGO_ENABLED=0 this package still builds, and Open fails with ErrNoCgo.
package pkcs11

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
)

// Environment variables read by ConfigFromEnv. scripts/softhsm.sh prints
// them for a SoftHSM2 token.
const (
	EnvModule = "NOTARY_PKCS11_MODULE"
	EnvToken  = "NOTARY_PKCS11_TOKEN"
	EnvPIN    = "NOTARY_PKCS11_PIN"
)

// DefaultMaxSessions is the session pool size when Config.MaxSessions is 0.
const DefaultMaxSessions = 8

// Config says which token a Store uses. Its String, GoString and LogValue
// methods leave the PIN out, so a Config can be printed or logged.
type Config struct {
	// Module is the path of the PKCS#11 library, e.g.
	// /usr/lib/softhsm/libsofthsm2.so.
	Module string
	// TokenLabel is the label of the token (CK_TOKEN_INFO.label). Exactly
	// one present, initialised token must carry it.
	TokenLabel string
	// PIN is the user PIN. The store keeps it in memory to log in again
	// after a reconnect; it is never logged or put into an error. Take it
	// from the environment (EnvPIN) or a secret file, not a flag.
	PIN string
	// MaxSessions bounds the sessions open at once, and so the calls in
	// flight; 0 means DefaultMaxSessions. Stores of one process on the
	// same token share the sessions of the first one opened, and its
	// MaxSessions.
	MaxSessions int
}

// ConfigFromEnv reads Module, TokenLabel and PIN from NOTARY_PKCS11_MODULE,
// NOTARY_PKCS11_TOKEN and NOTARY_PKCS11_PIN. It fails if the module or the
// token label is unset.
func ConfigFromEnv() (Config, error) {
	c := Config{Module: os.Getenv(EnvModule), TokenLabel: os.Getenv(EnvToken), PIN: os.Getenv(EnvPIN)}
	var missing []string
	if c.Module == "" {
		missing = append(missing, EnvModule)
	}
	if c.TokenLabel == "" {
		missing = append(missing, EnvToken)
	}
	if len(missing) > 0 {
		return Config{}, fmt.Errorf("pkcs11: %s not set", strings.Join(missing, " and "))
	}
	return c, nil
}

func (c Config) redacted() string {
	pin := "unset"
	if c.PIN != "" {
		pin = "set"
	}
	return fmt.Sprintf("pkcs11.Config{Module: %q, TokenLabel: %q, PIN: %s, MaxSessions: %d}", c.Module, c.TokenLabel, pin, c.MaxSessions)
}

// String describes the config without its PIN.
func (c Config) String() string { return c.redacted() }

// GoString is String, so %#v does not print the PIN either.
func (c Config) GoString() string { return c.redacted() }

// LogValue logs the config without its PIN.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("module", c.Module),
		slog.String("token", c.TokenLabel),
		slog.Bool("pin_set", c.PIN != ""),
		slog.Int("max_sessions", c.MaxSessions),
	)
}

func (c Config) check() error {
	switch {
	case c.Module == "":
		return errors.New("pkcs11: Config.Module (the PKCS#11 library path) is empty")
	case c.TokenLabel == "":
		return errors.New("pkcs11: Config.TokenLabel is empty")
	case c.MaxSessions < 0:
		return fmt.Errorf("pkcs11: Config.MaxSessions is %d", c.MaxSessions)
	}
	return nil
}

// Sentinel errors, tested with errors.Is.
var (
	// ErrKeyNotExportable: the private key is held by the token and cannot
	// be returned as a software key. Use (*Store).Signer to sign with it.
	ErrKeyNotExportable = errors.New("pkcs11: private key cannot leave the token")
	// ErrNoCgo: this binary was built with CGO_ENABLED=0.
	ErrNoCgo = errors.New("pkcs11: PKCS#11 needs a cgo build (CGO_ENABLED=1)")
	// ErrPINIncorrect: the token refused the PIN (CKR_PIN_INCORRECT).
	ErrPINIncorrect = errors.New("pkcs11: incorrect PIN")
	// ErrPINLocked: the token locked the user PIN after too many wrong ones.
	ErrPINLocked = errors.New("pkcs11: PIN locked")
	// ErrTokenNotFound: no present, initialised token has the label.
	ErrTokenNotFound = errors.New("pkcs11: token not found")
	// ErrClosed: the Store was closed.
	ErrClosed = errors.New("pkcs11: store closed")
)

// NotExportableError says that Get cannot return key ID as a software key.
// It matches ErrKeyNotExportable; Err is why the keys package refused the
// token-backed signer.
type NotExportableError struct {
	ID  string
	Err error
}

func (e *NotExportableError) Error() string {
	msg := fmt.Sprintf("pkcs11: key %s is held by the token and cannot be returned as a software key; sign with (*pkcs11.Store).Signer", e.ID)
	if e.Err != nil {
		msg += " (" + e.Err.Error() + ")"
	}
	return msg
}

func (e *NotExportableError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrKeyNotExportable}
	}
	return []error{ErrKeyNotExportable, e.Err}
}

// LoginError says the token refused to log in. It matches ErrPINIncorrect
// or ErrPINLocked when that was the reason, and Err (the PKCS#11 error).
// It never carries the PIN.
type LoginError struct {
	Token string
	// Reason is ErrPINIncorrect, ErrPINLocked or nil.
	Reason error
	Err    error
}

func (e *LoginError) Error() string {
	msg := fmt.Sprintf("pkcs11: cannot log in to token %q", e.Token)
	if e.Reason != nil {
		msg += ": " + strings.TrimPrefix(e.Reason.Error(), "pkcs11: ")
	}
	if e.Err != nil {
		msg += " (" + e.Err.Error() + ")"
	}
	return msg
}

func (e *LoginError) Unwrap() []error {
	var errs []error
	if e.Reason != nil {
		errs = append(errs, e.Reason)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// TokenNotFoundError says which token label was looked for and which
// labels the module offered. It matches ErrTokenNotFound.
type TokenNotFoundError struct {
	Module string
	Label  string
	Found  []string
}

func (e *TokenNotFoundError) Error() string {
	found := "none"
	if len(e.Found) > 0 {
		found = fmt.Sprintf("%q", e.Found)
	}
	return fmt.Sprintf("pkcs11: no initialised token labelled %q in %s (tokens found: %s)", e.Label, e.Module, found)
}

func (e *TokenNotFoundError) Unwrap() error { return ErrTokenNotFound }

// objectLabel is the CKA_LABEL of a key's objects: "<role>:<gun>".
func objectLabel(role, gun string) (string, error) {
	if role == "" || strings.Contains(role, ":") {
		return "", fmt.Errorf("pkcs11: role %q cannot be stored: it must be non-empty and contain no ':'", role)
	}
	return role + ":" + gun, nil
}

// parseLabel splits a CKA_LABEL made by objectLabel.
func parseLabel(label string) (role, gun string, ok bool) {
	role, gun, ok = strings.Cut(label, ":")
	return role, gun, ok && role != ""
}
