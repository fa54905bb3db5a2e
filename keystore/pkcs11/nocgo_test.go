//go:build !cgo

package pkcs11

import (
	"context"
	"errors"
	"testing"
)

func TestNoCgo(t *testing.T) {
	_, err := Open(Config{Module: "/usr/lib/softhsm/libsofthsm2.so", TokenLabel: "notary"})
	if !errors.Is(err, ErrNoCgo) {
		t.Fatalf("Open without cgo: err = %v, want ErrNoCgo", err)
	}
	var s Store
	if _, err := s.List(context.Background()); !errors.Is(err, ErrNoCgo) {
		t.Errorf("List: err = %v", err)
	}
}
