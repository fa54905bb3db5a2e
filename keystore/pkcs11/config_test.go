package pkcs11

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestConfigHidesPIN(t *testing.T) {
	const pin = "s3cret-PIN-value"
	c := Config{Module: "/usr/lib/softhsm/libsofthsm2.so", TokenLabel: "notary", PIN: pin}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("open", "hsm", c)
	for _, out := range []string{
		fmt.Sprint(c), fmt.Sprintf("%v %+v %#v %s", c, c, c, c), fmt.Sprintf("%v", &c), buf.String(),
		(&LoginError{Token: c.TokenLabel, Reason: ErrPINIncorrect}).Error(),
	} {
		if strings.Contains(out, pin) {
			t.Errorf("PIN printed: %s", out)
		}
		if !strings.Contains(out, "notary") {
			t.Errorf("token label missing: %s", out)
		}
	}
	if got := fmt.Sprint(c); !strings.Contains(got, "PIN: set") {
		t.Errorf("String() = %s, want it to say the PIN is set", got)
	}
}

func TestConfigFromEnv(t *testing.T) {
	t.Setenv(EnvModule, "/lib/p11.so")
	t.Setenv(EnvToken, "tok")
	t.Setenv(EnvPIN, "1234")
	got, err := ConfigFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if want := (Config{Module: "/lib/p11.so", TokenLabel: "tok", PIN: "1234"}); got != want {
		t.Errorf("ConfigFromEnv() = %v, want %v", got, want)
	}
	t.Setenv(EnvModule, "")
	t.Setenv(EnvToken, "")
	if _, err := ConfigFromEnv(); err == nil || !strings.Contains(err.Error(), EnvModule) || !strings.Contains(err.Error(), EnvToken) {
		t.Errorf("ConfigFromEnv without module and token: err = %v", err)
	}
}

func TestOpenChecksConfig(t *testing.T) {
	for _, c := range []Config{
		{TokenLabel: "x"},
		{Module: "/lib/p11.so"},
		{Module: "/lib/p11.so", TokenLabel: "x", MaxSessions: -1},
	} {
		if _, err := Open(c); err == nil || errors.Is(err, ErrNoCgo) {
			t.Errorf("Open(%v): err = %v, want a config error", c, err)
		}
	}
}

func TestLabel(t *testing.T) {
	tests := []struct {
		role, gun, label string
	}{
		{"root", "", "root:"},
		{"targets", "docker.io/library/alpine", "targets:docker.io/library/alpine"},
		{"targets/releases", "localhost:5000/app", "targets/releases:localhost:5000/app"},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			got, err := objectLabel(tt.role, tt.gun)
			if err != nil || got != tt.label {
				t.Fatalf("objectLabel(%q, %q) = %q, %v; want %q", tt.role, tt.gun, got, err, tt.label)
			}
			role, gun, ok := parseLabel(got)
			if !ok || role != tt.role || gun != tt.gun {
				t.Errorf("parseLabel(%q) = %q, %q, %v", got, role, gun, ok)
			}
		})
	}
	for _, role := range []string{"", "a:b"} {
		if _, err := objectLabel(role, "g"); err == nil {
			t.Errorf("objectLabel(%q) succeeded", role)
		}
	}
	for _, label := range []string{"", "no colon", ":gun"} {
		if _, _, ok := parseLabel(label); ok {
			t.Errorf("parseLabel(%q) accepted", label)
		}
	}
}

func TestErrors(t *testing.T) {
	err := error(&NotExportableError{ID: "ab", Err: errors.New("keys: unsupported private key")})
	if !errors.Is(err, ErrKeyNotExportable) || !strings.Contains(err.Error(), "Signer") {
		t.Errorf("NotExportableError: %v", err)
	}
	err = &TokenNotFoundError{Module: "/m.so", Label: "x", Found: []string{"a", "b"}}
	if !errors.Is(err, ErrTokenNotFound) || !strings.Contains(err.Error(), `"a"`) {
		t.Errorf("TokenNotFoundError: %v", err)
	}
	err = &LoginError{Token: "x", Reason: ErrPINLocked}
	if !errors.Is(err, ErrPINLocked) || errors.Is(err, ErrPINIncorrect) {
		t.Errorf("LoginError: %v", err)
	}
}
