//go:build interop

package interop

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Bounds of the fault test. Our server bounds each signer call by 10s
// (server.DefaultKeyTimeout, signer.DefaultTimeout); a stopped signer is
// noticed at once (connection refused), a hung one at the timeout.
const (
	signerDownBound     = 15 * time.Second
	signerHungBound     = 25 * time.Second
	signerRecoveryBound = 45 * time.Second
)

// TestSignerFaultRecovery: our notary-server and our notary-signer (keys
// in SQLite, so they survive a restart). With the signer stopped, then
// hung (SIGSTOP), the server still serves stored metadata (a fresh client
// lists), answers operations that need a signature with 503 within a
// bounded time, and reports itself unhealthy; when the signer comes back
// everything works again without restarting the server.
func TestSignerFaultRecovery(t *testing.T) {
	b := buildSignerBins(t)
	p := newSignerPKI(t)
	signerPort, serverPort := signerFreePort(t), signerFreePort(t)
	sg := startSignerBinary(t, signerImplOurs, b, p, signerPort)
	startServerBinary(t, signerImplOurs, b, p, serverPort, signerPort)
	serverURL := fmt.Sprintf("https://127.0.0.1:%d", serverPort)
	hc := p.httpClient(t)
	cli := newSignerCLI(t, signerImplV1, b.v1Client, serverURL, p)

	gun := fmt.Sprintf("example.com/signer-fault/%d", time.Now().UnixNano())
	dir := t.TempDir()
	target := filepath.Join(dir, "t.txt")
	if err := os.WriteFile(target, []byte("target\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cli.must(t, "init", "-p", gun)
	cli.must(t, "add", "-p", gun, "v1", target)
	cli.must(t, "key", "rotate", gun, "snapshot", "-r") // the server signs snapshots too

	get := func(path string) (int, string, time.Duration) {
		t.Helper()
		start := time.Now()
		resp, err := hc.Get(serverURL + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(body), time.Since(start)
	}
	// needsSigner makes the server create a key (GetOrCreate on a new GUN).
	needsSigner := func(bound time.Duration) {
		t.Helper()
		newGUN := fmt.Sprintf("example.com/signer-fault/new-%d", time.Now().UnixNano())
		code, body, took := get("/v2/" + newGUN + "/_trust/tuf/timestamp.key")
		t.Logf("GET timestamp.key of a new GUN: %d in %v: %s", code, took.Round(time.Millisecond), strings.TrimSpace(body))
		if code != http.StatusServiceUnavailable || !strings.Contains(body, "UNAVAILABLE") {
			t.Errorf("GET timestamp.key with the signer unavailable: %d %s, want 503 UNAVAILABLE", code, body)
		}
		if took > bound {
			t.Errorf("GET timestamp.key took %v with the signer unavailable, want at most %v", took, bound)
		}
	}
	storedStillServed := func() {
		t.Helper()
		for _, role := range []string{"root", "targets", "snapshot", "timestamp"} {
			if code, body, _ := get("/v2/" + gun + "/_trust/tuf/" + role + ".json"); code != http.StatusOK {
				t.Errorf("GET %s.json with the signer unavailable: %d %s", role, code, body)
			}
		}
		out := cli.fresh(t, serverURL, p).must(t, "list", gun)
		if !strings.Contains(out, "v1") {
			t.Errorf("a fresh client's list with the signer unavailable lacks v1:\n%s", out)
		}
	}
	healthIs := func(want int) {
		t.Helper()
		start := time.Now()
		err := signerEventually(30*time.Second, func() error {
			if code, body, _ := get("/_notary_server/health"); code != want {
				return fmt.Errorf("health %d %s", code, body)
			}
			return nil
		})
		if err != nil {
			t.Errorf("server health: want %d: %v", want, err)
		}
		t.Logf("server health %d after %v", want, time.Since(start).Round(time.Millisecond))
	}
	publishFails := func(version string, bound time.Duration) {
		t.Helper()
		start := time.Now()
		out, err := cli.run(t, "add", "-p", gun, version, target)
		took := time.Since(start)
		t.Logf("publishing %s with the signer unavailable failed in %v", version, took.Round(time.Millisecond))
		if err == nil {
			t.Errorf("publishing %s with the signer unavailable succeeded:\n%s", version, out)
		}
		if took > bound+10*time.Second { // the CLI's own overhead on top
			t.Errorf("publishing with the signer unavailable took %v", took)
		}
	}

	t.Run("signer stopped", func(t *testing.T) {
		if took := sg.stop(t); took > 12*time.Second {
			t.Errorf("the signer took %v to stop on SIGTERM", took)
		}
		if !strings.Contains(sg.logs(), "shutting down") {
			t.Error("the signer did not log a graceful shutdown")
		}
		storedStillServed()
		needsSigner(signerDownBound)
		publishFails("v2", signerDownBound)
		healthIs(http.StatusServiceUnavailable)
	})

	t.Run("signer back", func(t *testing.T) {
		sg.start(t)
		healthIs(http.StatusOK)
		// v2 was staged by the failed publish; publishing it now works.
		if err := signerEventually(signerRecoveryBound, func() error {
			_, err := cli.run(t, "publish", gun)
			return err
		}); err != nil {
			t.Fatalf("publish after the signer came back: %v", err)
		}
		out := cli.fresh(t, serverURL, p).must(t, "list", gun)
		if !strings.Contains(out, "v2") {
			t.Errorf("list after recovery lacks v2:\n%s", out)
		}
	})

	t.Run("signer hung", func(t *testing.T) {
		sg.signal(t, syscall.SIGSTOP)
		defer sg.signal(t, syscall.SIGCONT)
		storedStillServed()
		needsSigner(signerHungBound)
		publishFails("v3", signerHungBound)
		healthIs(http.StatusServiceUnavailable)
	})

	t.Run("signer resumed", func(t *testing.T) {
		healthIs(http.StatusOK)
		if err := signerEventually(signerRecoveryBound, func() error {
			_, err := cli.run(t, "publish", gun)
			return err
		}); err != nil {
			t.Fatalf("publish after the signer resumed: %v", err)
		}
		out := cli.fresh(t, serverURL, p).must(t, "list", gun)
		if !strings.Contains(out, "v3") {
			t.Errorf("list after recovery lacks v3:\n%s", out)
		}
		newGUN := fmt.Sprintf("example.com/signer-fault/after-%d", time.Now().UnixNano())
		if code, body, _ := get("/v2/" + newGUN + "/_trust/tuf/timestamp.key"); code != http.StatusOK {
			t.Errorf("GET timestamp.key after recovery: %d %s", code, body)
		}
	})
}
