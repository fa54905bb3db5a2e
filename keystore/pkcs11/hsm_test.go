//go:build cgo

package pkcs11

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/miekg/pkcs11"
)

// hsmEnv is a PKCS#11 module on which tests may make tokens.
type hsmEnv struct {
	module string
	token  string // the token scripts/softhsm.sh made (or NOTARY_PKCS11_TOKEN names)
	pin    string
	soPIN  string
}

// Test credentials for tokens the tests make. Never use such PINs on a
// real token.
const (
	testPIN   = "4321"
	testSOPIN = "87654321"
)

// setupHSM finds the PKCS#11 module for the tests. With NOTARY_PKCS11_MODULE
// set it uses that (NOTARY_PKCS11_SO_PIN, default that of
// scripts/softhsm.sh, lets tests make tokens in a free slot). Otherwise it
// runs scripts/softhsm.sh into t.TempDir() when SoftHSM2 is installed or
// CI=true (the script then installs it), and skips otherwise. On CI a
// missing HSM fails the test.
func setupHSM(t *testing.T) hsmEnv {
	t.Helper()
	ci := os.Getenv("CI") == "true"
	if os.Getenv(EnvModule) != "" {
		cfg, err := ConfigFromEnv()
		if err != nil {
			t.Fatal(err)
		}
		so := os.Getenv("NOTARY_PKCS11_SO_PIN")
		if so == "" {
			so = "123456"
		}
		return hsmEnv{module: cfg.Module, token: cfg.TokenLabel, pin: cfg.PIN, soPIN: so}
	}
	if _, err := exec.LookPath("softhsm2-util"); err != nil && !ci {
		t.Skip("PKCS#11 tests need SoftHSM2 (Debian package softhsm2): install it, or run " +
			"`eval \"$(scripts/softhsm.sh DIR)\"`, or set NOTARY_PKCS11_MODULE, NOTARY_PKCS11_TOKEN and " +
			"NOTARY_PKCS11_PIN for another token; with CI=true the test installs SoftHSM2 itself")
	}
	dir := t.TempDir()
	// Eval the script's output in bash, as a user would, and print the
	// variables it set: this also checks that the output is eval-able.
	cmd := exec.Command("bash", "-c", `set -e; eval "$(bash ../../scripts/softhsm.sh "$1")"; `+
		`printf '%s\n' "$SOFTHSM2_CONF" "$NOTARY_PKCS11_MODULE" "$NOTARY_PKCS11_TOKEN" "$NOTARY_PKCS11_PIN"`, "bash", dir)
	cmd.Env = append(os.Environ(),
		"NOTARY_PKCS11_TOKEN=notary-test", "NOTARY_PKCS11_PIN="+testPIN, "NOTARY_PKCS11_SO_PIN="+testSOPIN)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("scripts/softhsm.sh %s: %v\n%s", dir, err, stderr.String())
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("scripts/softhsm.sh printed %q", out)
	}
	t.Setenv("SOFTHSM2_CONF", lines[0])
	if lines[2] != "notary-test" || lines[3] != testPIN {
		t.Fatalf("scripts/softhsm.sh exported token %q PIN %q, want notary-test and the PIN it was given", lines[2], lines[3])
	}
	return hsmEnv{module: lines[1], token: lines[2], pin: lines[3], soPIN: testSOPIN}
}

// holdModule keeps the module loaded for the rest of the test, so stores
// closed and opened within it do not finalise and re-initialise it.
func holdModule(t *testing.T, env hsmEnv) *module {
	t.Helper()
	registry.mu.Lock()
	m, err := openModuleLocked(env.module)
	registry.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		registry.mu.Lock()
		m.releaseLocked()
		registry.mu.Unlock()
	})
	return m
}

// newToken initialises a new token in the module's free slot (SoftHSM2
// always keeps one) and returns a Config for it. Each store a test opens
// on its own token sees only its own keys.
func newToken(t *testing.T, env hsmEnv) Config {
	t.Helper()
	m := holdModule(t, env)
	p := m.ctx
	slots, err := p.GetSlotList(true)
	if err != nil {
		t.Fatal(err)
	}
	free := -1
	for _, s := range slots {
		info, err := p.GetTokenInfo(s)
		if err == nil && info.Flags&pkcs11.CKF_TOKEN_INITIALIZED == 0 {
			free = int(s)
			break
		}
	}
	if free < 0 {
		t.Skipf("module %s has no free slot to make a test token in (SoftHSM2 has one)", env.module)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	label := "nt-" + hex.EncodeToString(b)
	slot := uint(free)
	if err := p.InitToken(slot, env.soPIN, label); err != nil {
		t.Fatalf("C_InitToken (SO PIN from NOTARY_PKCS11_SO_PIN): %v", err)
	}
	sh, err := p.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
	if err != nil {
		t.Fatal(err)
	}
	defer p.CloseSession(sh)
	if err := p.Login(sh, pkcs11.CKU_SO, env.soPIN); err != nil {
		t.Fatal(err)
	}
	if err := p.InitPIN(sh, env.pin); err != nil {
		t.Fatal(err)
	}
	if err := p.Logout(sh); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Module: env.module, TokenLabel: label, PIN: env.pin}
	t.Cleanup(func() { wipeToken(t, cfg) })
	return cfg
}

// wipeToken removes the keys a test left, for tokens outside t.TempDir.
func wipeToken(t *testing.T, cfg Config) {
	s, err := Open(cfg)
	if err != nil {
		t.Logf("cleaning token %s: %v", cfg.TokenLabel, err)
		return
	}
	defer s.Close()
	ctx := context.Background()
	l, _ := s.List(ctx)
	for _, k := range l {
		_ = s.Remove(ctx, k.ID)
	}
}

// openStore opens a store on a new token and closes it when the test ends.
func openStore(t *testing.T, env hsmEnv) *Store {
	t.Helper()
	s, err := Open(newToken(t, env))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// slotOf returns the slot a store's connection uses.
func slotOf(s *Store) uint {
	s.t.mu.Lock()
	defer s.t.mu.Unlock()
	return s.t.slot
}

func mustHex(t *testing.T, id string) []byte {
	t.Helper()
	b, err := hex.DecodeString(id)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
