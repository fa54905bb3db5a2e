package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

const dumpableChildEnv = "NOTARY_AUDIT_DUMPABLE_CHILD"

// TestAudit_SignerNonDumpable: the NCC 2015 hardening of notary-signer
// (protect_linux.go): a serving signer is not dumpable, so no core dump
// writes its keys to disk and other processes of the same user cannot
// ptrace it. prctl(PR_SET_DUMPABLE) is process-wide and cannot be undone
// by a test, so the signer runs in a fresh child process (this test binary
// re-executed), which reports PR_GET_DUMPABLE before starting and once the
// signer listens, through the real run/serve path. Listed in
// docs/security.md.
func TestAudit_SignerNonDumpable(t *testing.T) {
	if os.Getenv(dumpableChildEnv) == "1" {
		dumpableChild(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestAudit_SignerNonDumpable$", "-test.v")
	cmd.Env = append(os.Environ(), dumpableChildEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	for _, want := range []string{"DUMPABLE before=1", "DUMPABLE serving=0"} {
		if !strings.Contains(string(out), want) {
			t.Fatalf("child output lacks %q:\n%s", want, out)
		}
	}
}

func dumpableChild(t *testing.T) {
	before, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("DUMPABLE before=%d\n", before)
	p := newTestPKI(t)
	cfgFile := writeConfig(t, p.dir, p.baseConfig(map[string]any{"backend": "memory"}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuffer
	e := env{stdout: &out, stderr: &out, lookup: mapLookup(nil), listening: func(net.Addr) {
		v, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
		if err != nil {
			v = -1
		}
		fmt.Printf("DUMPABLE serving=%d\n", v)
		cancel()
	}}
	if code := run(ctx, []string{"-config", cfgFile}, e); code != 0 {
		t.Fatalf("signer exited with %d:\n%s", code, out.String())
	}
}
