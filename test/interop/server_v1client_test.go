//go:build interop

package interop

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/notary-go/notary/api"
	"github.com/notary-go/notary/server/servertest"
	"github.com/notary-go/notary/tuf"
)

// serverSkipDelegations is the message for the steps a v0.7.0
// server cannot do (protocol §5.2, docs/upstream-notes.md §0).
const serverSkipDelegations = "v0.7.0 server built with Go ≥1.17 rejects delegation uploads (400 INVALID_ROLE)"

// TestServerWithV1Client runs the v0.7.0 notary CLI through a full
// scenario against our server (SQLite, TLS), and, to prove the scenario
// itself, against v0.7.0's server (delegation uploads skipped: see
// serverSkipDelegations).
func TestServerWithV1Client(t *testing.T) {
	v1Bin(t)
	for _, tc := range []struct {
		kind        serverKind
		delegations bool
	}{
		{ourServer, true},
		{upstreamServer, false},
	} {
		t.Run(string(tc.kind), func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, tc.kind, serverOptions{})
			serverRunV1Scenario(t, srv, tc.delegations)
		})
	}
}

func serverHas(t *testing.T, what, out string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(out, s) {
			t.Errorf("%s: output does not contain %q:\n%s", what, s, out)
		}
	}
}

func serverLacks(t *testing.T, what, out string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if strings.Contains(out, s) {
			t.Errorf("%s: output serverHas %q:\n%s", what, s, out)
		}
	}
}

func serverRunV1Scenario(t *testing.T, srv *serverProc, delegations bool) {
	const gun = "example.com/interop/app"
	c := newServerCLI(t, srv)
	payload := []byte("the payload of v1\n")
	sum := sha256.Sum256(payload)
	digest := hex.EncodeToString(sum[:])
	f1 := c.file("v1.txt", payload)

	// init with auto-publish: root, targets, snapshot (client key),
	// timestamp from the server.
	out := c.must("init", gun, "-p")
	serverHas(t, "init -p", out, "Successfully published changes for repository "+gun)

	// add and addhash.
	out = c.must("add", gun, "v1", f1, "-p")
	serverHas(t, "add", out, `Addition of target "v1"`, "Successfully published")
	other := sha256.Sum256([]byte("other"))
	out = c.must("addhash", gun, "v2", "5", "--sha256", hex.EncodeToString(other[:]), "-p")
	serverHas(t, "addhash", out, `Addition of target "v2"`, "Successfully published")

	// A name the envelope marshal must HTML-escape, with (canonical)
	// custom data.
	custom := c.file("custom.json", []byte(`{"build":7,"tags":["a","b"]}`))
	out = c.must("add", gun, "a&b<c>é", f1, "--custom", custom, "-p")
	serverHas(t, "add with custom", out, "Successfully published")

	out = c.must("list", gun)
	serverHas(t, "list", out, "v1", digest, strconv.Itoa(len(payload)), "v2", hex.EncodeToString(other[:]), "targets", "a&b<c>é")

	out = c.must("lookup", gun, "v1")
	serverHas(t, "lookup", out, "v1", digest, strconv.Itoa(len(payload)))

	// verify reads the payload on stdin and echoes it when it matches.
	out, err := c.run(payload, "verify", gun, "v1")
	if err != nil || out != string(payload) {
		t.Errorf("verify of the right payload: %v, output %q", err, out)
	}
	if out, err := c.run([]byte("tampered\n"), "verify", gun, "v1"); err == nil {
		t.Errorf("verify of a tampered payload succeeded: %q", out)
	}

	// remove.
	out = c.must("remove", gun, "v2", "-p")
	serverHas(t, "remove", out, "Successfully published")
	out = c.must("list", gun)
	serverLacks(t, "list after remove", out, "v2 ")

	// status and reset of unpublished changes.
	c.must("add", gun, "v3", f1)
	out = c.must("status", gun)
	serverHas(t, "status", out, "Unpublished changes for "+gun, "create", "v3")
	c.must("reset", gun, "--all")
	out = c.must("status", gun)
	serverHas(t, "status after reset", out, "No unpublished changes for "+gun)

	// Delegations.
	certFile, keyFile := serverDelegationCert(t, c.dir, "releases")
	out = c.must("delegation", "add", gun, "targets/releases", certFile, "--all-paths", "-p")
	serverHas(t, "delegation add", out, "Addition of delegation role targets/releases", "Successfully published")
	out = c.must("delegation", "list", gun)
	serverHas(t, "delegation list", out, "targets/releases", `""`)
	c.must("key", "import", keyFile, "-r", "targets/releases")
	if delegations {
		out = c.must("add", gun, "rel1", f1, "--roles", "targets/releases", "-p")
		serverHas(t, "add into a delegation", out, "Successfully published")
		out = c.must("list", gun)
		serverHas(t, "list with a delegation", out, "rel1", "targets/releases")
		out = c.must("witness", gun, "targets/releases", "-p")
		serverHas(t, "witness", out, "Successfully published")
	} else {
		t.Log(serverSkipDelegations + ": skipping publishing into targets/releases and witnessing it")
		out, err := c.run(nil, "add", gun, "rel1", f1, "--roles", "targets/releases", "-p")
		if err == nil {
			t.Errorf("the v0.7.0 server accepted a delegation upload:\n%s", out)
		}
		c.must("reset", gun, "--all")
	}
	out = c.must("witness", gun, "targets", "-p")
	serverHas(t, "witness targets", out, "Successfully published")
	// Add and remove a delegation while the client still signs the
	// snapshot: its snapshot drops the entry.
	qaCert, _ := serverDelegationCert(t, c.dir, "qa")
	c.must("delegation", "add", gun, "targets/qa", qaCert, "--paths", "qa/", "-p")
	out = c.must("delegation", "remove", gun, "targets/qa", "-y", "-p")
	serverHas(t, "delegation remove (client snapshot)", out, "Successfully published")
	out = c.must("delegation", "list", gun)
	serverLacks(t, "delegation list after removing targets/qa", out, "targets/qa")

	// Key rotations: snapshot and timestamp to server-managed keys, and a
	// new local targets key.
	out = c.must("key", "rotate", gun, "snapshot", "-r")
	serverHas(t, "rotate snapshot -r", out, "Successfully rotated snapshot key for repository "+gun)
	out = c.must("key", "rotate", gun, "timestamp", "-r")
	serverHas(t, "rotate timestamp -r", out, "Successfully rotated timestamp key for repository "+gun)
	out = c.must("key", "rotate", gun, "targets")
	serverHas(t, "rotate targets", out, "Successfully rotated targets key for repository "+gun)
	// Publishing still works with the server signing the snapshot.
	out = c.must("add", gun, "v4", f1, "-p")
	serverHas(t, "add after rotations", out, "Successfully published")

	// Remove the delegation again.
	out = c.must("delegation", "remove", gun, "targets/releases", "-y", "-p")
	serverHas(t, "delegation remove", out, "Successfully published")
	out = c.must("delegation", "list", gun)
	serverLacks(t, "delegation list after remove", out, "targets/releases")

	// A second client, with a new trust directory, sees everything.
	c2 := newServerCLI(t, srv)
	out = c2.must("list", gun)
	serverHas(t, "fresh client list", out, "v1", "v4", digest)
	serverLacks(t, "fresh client list", out, "v2 ", "v3 ", "rel1")
	out, err = c2.run(payload, "verify", gun, "v4")
	if err != nil || out != string(payload) {
		t.Errorf("fresh client verify: %v, output %q", err, out)
	}

	// delete --remote: the collection is gone for everyone.
	out = c.must("delete", gun, "--remote")
	serverHas(t, "delete --remote", out, "Successfully deleted local and remote trust data for repository "+gun)
	c3 := newServerCLI(t, srv)
	if out, err := c3.run(nil, "list", gun); err == nil {
		t.Errorf("list after delete --remote succeeded:\n%s", out)
	} else {
		serverHas(t, "list after delete --remote", out, "does not have trust data for "+gun)
	}
}

// TestServerCrashRecovery kills our server (SIGKILL) while clients publish
// to SQLite, restarts it, and checks that nothing acknowledged was lost
// and no partial update is ever served: every stored timestamp, current
// or historical, leads to a complete snapshot and complete role files.
func TestServerCrashRecovery(t *testing.T) {
	srv := startServer(t, ourServer, serverOptions{})
	ctx := context.Background()
	const gun = "example.com/interop/crash"
	hc := srv.HTTPClient()
	c, err := api.NewClient(srv.URL, gun, api.ClientOptions{HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	tsKey, err := c.GetKey(ctx, "timestamp")
	if err != nil {
		t.Fatal(err)
	}
	snKey, err := c.GetKey(ctx, "snapshot")
	if err != nil {
		t.Fatal(err)
	}
	repo, err := servertest.NewRepo(gun, tsKey, snKey)
	if err != nil {
		t.Fatal(err)
	}
	parts, err := repo.Initial()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Publish(ctx, parts); err != nil {
		t.Fatal(err)
	}
	const writers = 4
	roles := make([]string, writers)
	for i := range roles {
		roles[i] = fmt.Sprintf("targets/w%d", i)
		if err := repo.AddDelegation(roles[i], ""); err != nil {
			t.Fatal(err)
		}
	}
	if parts, err = repo.Publish(tuf.RoleTargets); err != nil {
		t.Fatal(err)
	}
	if err := c.Publish(ctx, parts); err != nil {
		t.Fatal(err)
	}

	type ack struct {
		role    string
		version int64
		data    []byte
	}
	var (
		mu    sync.Mutex
		acked []ack
		total int
	)
	for cycle := 0; cycle < 3; cycle++ {
		var wg sync.WaitGroup
		for i := 0; i < writers; i++ {
			wg.Add(1)
			go func(role string) {
				defer wg.Done()
				// Start from what the server holds now.
				body := &tuf.Targets{Type: tuf.TypeTargets, Targets: map[string]tuf.FileMeta{}}
				if cur, err := c.GetMeta(ctx, role, 0); err == nil {
					if body, _, err = tuf.ParseTargets(cur, role); err != nil {
						t.Errorf("%s: %v", role, err)
						return
					}
				}
				for n := 0; ; n++ {
					body.Version++
					body.Expires = time.Now().Add(time.Hour)
					fm, _ := tuf.NewFileMeta([]byte(fmt.Sprint(role, body.Version)))
					if body.Targets == nil {
						body.Targets = map[string]tuf.FileMeta{}
					}
					body.Targets[fmt.Sprintf("t%d", body.Version)] = fm
					_, data, err := tuf.Sign(ctx, body, tuf.LocalSigner(repo.DelegationKeys[role]))
					if err != nil {
						t.Error(err)
						return
					}
					err = c.Publish(ctx, []api.Part{{Role: role, Data: data}})
					if err != nil {
						var ne *api.NetworkError
						if !errors.As(err, &ne) {
							t.Errorf("%s v%d: %v (want success, or a network error when the server dies)", role, body.Version, err)
						}
						return // the server is gone; the outcome is unknown
					}
					mu.Lock()
					acked = append(acked, ack{role, body.Version, data})
					mu.Unlock()
				}
			}(roles[i])
		}
		time.Sleep(time.Duration(400+cycle*150) * time.Millisecond)
		srv.Kill()
		wg.Wait()
		srv.Restart(t)

		mu.Lock()
		t.Logf("cycle %d: %d publishes acknowledged so far", cycle, len(acked))
		if len(acked) == total {
			t.Errorf("cycle %d: no publish was acknowledged before the kill", cycle)
		}
		total = len(acked)
		// Nothing acknowledged is lost.
		latest := map[string]int64{}
		for _, a := range acked {
			b, err := c.GetMetaByVersion(ctx, a.role, a.version, 0)
			if err != nil || !bytes.Equal(b, a.data) {
				t.Errorf("acknowledged %s v%d lost after the crash (%v)", a.role, a.version, err)
			}
			latest[a.role] = max(latest[a.role], a.version)
		}
		mu.Unlock()
		for role, v := range latest {
			cur, err := c.GetMeta(ctx, role, 0)
			if err != nil {
				t.Fatalf("current %s: %v", role, err)
			}
			tg, _, err := tuf.ParseTargets(cur, role)
			if err != nil || tg.Version < v {
				t.Errorf("current %s is v%d (%v), older than acknowledged v%d", role, tg.Version, err, v)
			}
		}
		serverCheckHistory(t, c)
	}
}

// serverCheckHistory walks every timestamp the changefeed records: each
// must be stored, and lead (by hash) to a stored snapshot whose every
// entry is a stored file with matching hashes. A partial update would
// leave one of them missing.
func serverCheckHistory(t *testing.T, c *api.Client) {
	t.Helper()
	ctx := context.Background()
	cf, err := c.Changefeed(ctx, "", 100000)
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range cf.Records {
		if rec.Category != "update" {
			continue
		}
		tsb, err := c.GetMetaByVersion(ctx, "timestamp", rec.Version, 0)
		if err != nil {
			t.Fatalf("timestamp v%d of the changefeed: %v", rec.Version, err)
		}
		if got := fmt.Sprintf("%x", sha256.Sum256(tsb)); got != rec.SHA256 {
			t.Errorf("timestamp v%d: sha256 %s, changefeed says %s", rec.Version, got, rec.SHA256)
		}
		ts, _, err := tuf.ParseTimestamp(tsb)
		if err != nil {
			t.Fatal(err)
		}
		fm := ts.Meta["snapshot"]
		snb, err := c.GetMetaByHash(ctx, "snapshot", fm.SHA256Hex(), fm.Length)
		if err != nil || fm.Check(snb) != nil {
			t.Fatalf("timestamp v%d: its snapshot is missing or wrong (%v)", rec.Version, err)
		}
		sn, _, err := tuf.ParseSnapshot(snb)
		if err != nil {
			t.Fatal(err)
		}
		for role, m := range sn.Meta {
			b, err := c.GetMetaByHash(ctx, role, m.SHA256Hex(), m.Length)
			if err != nil || m.Check(b) != nil {
				t.Errorf("timestamp v%d: snapshot v%d lists %s, which is missing or wrong (%v)", rec.Version, sn.Version, role, err)
			}
		}
	}
}

// TestOurServerZeroConfig starts our binary with no config file at all
// (only the listen address moved off 4443 through the environment): plain
// HTTP with a warning, SQLite and a generated key passphrase in the data
// directory, both private, and everything, keys included, survives a
// restart.
func TestOurServerZeroConfig(t *testing.T) {
	bin := ourServerBin(t)
	dataDir := t.TempDir()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	logFile := filepath.Join(t.TempDir(), "server.log")
	start := func() (stop func()) {
		t.Helper()
		logf, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "-data-dir", dataDir, "-logf", "logfmt")
		cmd.Env = append(os.Environ(), "NOTARY_SERVER_SERVER_HTTP_ADDR="+addr, "NOTARY_SERVER_KEY_PASSPHRASE=")
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); logf.Close(); close(done) }()
		deadline := time.Now().Add(20 * time.Second)
		for {
			resp, err := http.Get("http://" + addr + "/_notary_server/health")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					break
				}
			}
			if time.Now().After(deadline) {
				b, _ := os.ReadFile(logFile)
				t.Fatalf("zero-config server did not start: %v\n%s", err, b)
			}
			time.Sleep(50 * time.Millisecond)
		}
		return func() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			<-done
		}
	}
	stop := start()
	log, _ := os.ReadFile(logFile)
	serverHas(t, "zero-config log", string(log), "listening on plain HTTP", "generated a random key passphrase", "using in-process signing with keys encrypted in the database")
	for _, f := range []string{"notary-server.db", "key-passphrase"} {
		fi, err := os.Stat(filepath.Join(dataDir, f))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v (%v), want 0600", f, fi.Mode(), err)
		}
	}
	ctx := context.Background()
	const gun = "example.com/zero"
	c, err := api.NewClient("http://"+addr, gun, api.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ts, err := c.GetKey(ctx, "timestamp")
	if err != nil {
		t.Fatal(err)
	}
	sn, err := c.GetKey(ctx, "snapshot")
	if err != nil {
		t.Fatal(err)
	}
	repo, err := servertest.NewRepo(gun, ts, sn)
	if err != nil {
		t.Fatal(err)
	}
	parts, _ := repo.Initial()
	if err := c.Publish(ctx, parts); err != nil {
		t.Fatal(err)
	}
	stop()

	stop = start()
	defer stop()
	root, err := c.GetMeta(ctx, "root", 0)
	if err != nil || !bytes.Equal(root, repo.Files["root"]) {
		t.Fatalf("root after a restart: %v", err)
	}
	// The server still holds (and can decrypt) its keys.
	if k, err := c.GetKey(ctx, "timestamp"); err != nil || k.ID() != ts.ID() {
		t.Errorf("timestamp key after a restart: %v %v", k.ID(), err)
	}
	_ = repo.AddTarget("targets", "after-restart", []byte("x"))
	parts, _ = repo.Publish("targets")
	if err := c.Publish(ctx, parts); err != nil {
		t.Errorf("publish after a restart: %v", err)
	}
}
