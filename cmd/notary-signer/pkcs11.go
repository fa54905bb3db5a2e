package main

import (
	"errors"
	"log/slog"

	"github.com/notary-go/notary/keystore/pkcs11"
)

// openToken opens the PKCS#11 backend: keys are generated on the token
// and never leave it; signer.Server signs through the token-backed keys
// the store's Get returns. The PIN comes from NOTARY_SIGNER_PKCS11_PIN
// only.
func openToken(cfg *config, e env, log *slog.Logger) (*keyStore, error) {
	pin, _ := e.lookup(envPKCS11PIN)
	if pin == "" {
		return nil, errors.New("the pkcs11 backend needs the token's user PIN in " + envPKCS11PIN)
	}
	pc := pkcs11.Config{Module: cfg.pkcs11Module, TokenLabel: cfg.pkcs11Token, PIN: pin, MaxSessions: cfg.pkcs11Max}
	st, err := pkcs11.Open(pc)
	if err != nil {
		return nil, err // never holds the PIN
	}
	log.Info("using the PKCS#11 token", "pkcs11", pc) // pkcs11.Config logs without its PIN
	return &keyStore{store: st, close: func() { st.Close() }}, nil
}
