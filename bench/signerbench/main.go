// Command signerbench measures signatures per second through the gRPC
// signer: our notary-signer against Notary v0.7.0's, in the same run, on
// loopback, with mutual TLS, through the same client (signer.Client, what
// our notary-server uses).
//
// It makes a throwaway CA and certificates, starts both signers on free
// loopback ports (both on their memory backend unless -ours-backend says
// otherwise: v0.7.0's signer panics on CreateKey with an SQL backend when
// built with Go >= 1.16), creates one key in each, and then runs -rounds
// rounds, alternating ours and v0.7.0's (ABAB..., so drifting machine load
// hits both alike), each signing for -duration with -goroutines callers.
// It prints a Markdown table of every round, the medians and the ratio
// ours / v0.7.0. Everything is bounded: at most 60s per round and 20
// rounds, and every call times out after 10s.
//
// From the module root:
//
//	go run ./bench/signerbench -duration 5s -goroutines 16 -rounds 5
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/notary-go/notary/signer"
	"github.com/notary-go/notary/tuf"

	"github.com/notary-go/notary/bench/internal/report"
)

type options struct {
	ours, upstream string
	oursBackend    string
	duration       time.Duration
	warmup         time.Duration
	goroutines     int
	rounds         int
	alg            string
	msgSize        int
}

func main() {
	var o options
	flag.StringVar(&o.ours, "ours", "", "our notary-signer binary (default: go build ./cmd/notary-signer into a temporary directory)")
	flag.StringVar(&o.upstream, "upstream", "", "v0.7.0's notary-signer (default: $NOTARY_V1_BIN/notary-signer, else .tools/bin/notary-signer)")
	flag.StringVar(&o.oursBackend, "ours-backend", "memory", "our signer's storage backend: memory or sqlite3")
	flag.DurationVar(&o.duration, "duration", 5*time.Second, "signing time per round (at most 60s)")
	flag.DurationVar(&o.warmup, "warmup", time.Second, "unmeasured signing per signer before the rounds")
	flag.IntVar(&o.goroutines, "goroutines", 16, "concurrent callers (1 to 1024)")
	flag.IntVar(&o.rounds, "rounds", 5, "measured rounds per signer (1 to 20)")
	flag.StringVar(&o.alg, "alg", "ecdsa", "key type: ecdsa or ed25519")
	flag.IntVar(&o.msgSize, "msg-size", 512, "bytes signed per call, at least (a snapshot body padded with delegation entries; our signer signs only real metadata)")
	flag.Parse()
	if err := run(o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "signerbench:", err)
		os.Exit(1)
	}
}

func run(o options, out io.Writer) error {
	switch {
	case o.duration <= 0 || o.duration > time.Minute:
		return errors.New("-duration must be in (0, 60s]")
	case o.warmup < 0 || o.warmup > time.Minute:
		return errors.New("-warmup must be in [0, 60s]")
	case o.goroutines < 1 || o.goroutines > 1024:
		return errors.New("-goroutines must be in [1, 1024]")
	case o.rounds < 1 || o.rounds > 20:
		return errors.New("-rounds must be in [1, 20]")
	case o.alg != "ecdsa" && o.alg != "ed25519":
		return errors.New("-alg must be ecdsa or ed25519")
	case o.oursBackend != "memory" && o.oursBackend != "sqlite3":
		return errors.New("-ours-backend must be memory or sqlite3")
	case o.msgSize < 1 || o.msgSize > 1<<20:
		return errors.New("-msg-size must be in [1, 1MiB]")
	}
	dir, err := os.MkdirTemp("", "signerbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	if o.ours == "" {
		o.ours = filepath.Join(dir, "notary-signer")
		cmd := exec.Command("go", "build", "-o", o.ours, "./cmd/notary-signer")
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("building our notary-signer (run from the module root, or pass -ours): %w", err)
		}
	}
	if o.upstream == "" {
		binDir := os.Getenv("NOTARY_V1_BIN")
		if binDir == "" {
			binDir = filepath.Join(".tools", "bin")
		} else if fi, err := os.Stat(binDir); err == nil && !fi.IsDir() {
			binDir = filepath.Dir(binDir)
		}
		o.upstream = filepath.Join(binDir, "notary-signer")
	}
	if _, err := os.Stat(o.upstream); err != nil {
		return fmt.Errorf("v0.7.0 notary-signer: %w (run scripts/install-peers.sh or pass -upstream)", err)
	}

	p, err := makePKI(dir)
	if err != nil {
		return err
	}
	type target struct {
		name string
		c    *signer.Client
		id   string
	}
	var targets []*target
	for _, s := range []struct{ name, bin, backend string }{
		{"ours", o.ours, o.oursBackend},
		{"v0.7.0", o.upstream, "memory"},
	} {
		addr, stop, err := startSigner(dir, s.name, s.bin, s.backend, p)
		if err != nil {
			return err
		}
		defer stop()
		tc, err := signer.LoadClientTLS(p.caFile, p.clientCert, p.clientKey, "notary-signer")
		if err != nil {
			return err
		}
		c, err := signer.Dial(addr, tc, signer.ClientOptions{Timeout: 10 * time.Second})
		if err != nil {
			return err
		}
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		pub, err := c.CreateKey(ctx, "snapshot", "example.com/bench", o.alg)
		cancel()
		if err != nil {
			return fmt.Errorf("%s: CreateKey: %w", s.name, err)
		}
		targets = append(targets, &target{name: s.name, c: c, id: pub.ID()})
	}

	msg, err := snapshotBody(o.msgSize)
	if err != nil {
		return err
	}
	for _, tg := range targets {
		if o.warmup > 0 {
			if _, _, err := sign(tg.c, tg.id, msg, o.goroutines, o.warmup); err != nil {
				return fmt.Errorf("%s warm-up: %w", tg.name, err)
			}
		}
	}
	rates := map[string][]float64{}
	lat := map[string][]time.Duration{}
	fmt.Fprintf(out, "signerbench: %d rounds x %v, %d goroutines, %s keys, %d-byte messages, ours on %s; GOMAXPROCS %d, %d CPUs\n\n",
		o.rounds, o.duration, o.goroutines, o.alg, o.msgSize, o.oursBackend, runtime.GOMAXPROCS(0), runtime.NumCPU())
	fmt.Fprintln(out, "| round | signer | signatures/s | p50 latency | p99 latency |")
	fmt.Fprintln(out, "|---|---|---|---|---|")
	for r := 1; r <= o.rounds; r++ {
		order := targets
		if r%2 == 0 { // ABAB..., starting with the other one every round
			order = []*target{targets[1], targets[0]}
		}
		for _, tg := range order {
			n, l, err := sign(tg.c, tg.id, msg, o.goroutines, o.duration)
			if err != nil {
				return fmt.Errorf("%s round %d: %w", tg.name, r, err)
			}
			rate := float64(n) / o.duration.Seconds()
			rates[tg.name] = append(rates[tg.name], rate)
			p50, p99 := percentile(l, 0.50), percentile(l, 0.99)
			lat[tg.name+"/p50"] = append(lat[tg.name+"/p50"], p50)
			fmt.Fprintf(out, "| %d | %s | %.0f | %v | %v |\n", r, tg.name, rate, p50.Round(time.Microsecond), p99.Round(time.Microsecond))
		}
	}
	mo, mu := report.Median(rates["ours"]), report.Median(rates["v0.7.0"])
	rr := ratios(rates["ours"], rates["v0.7.0"])
	fmt.Fprintf(out, "\nmedian signatures/s: ours %.0f, v0.7.0 %.0f; ratio of medians ours / v0.7.0 = %.2f\n", mo, mu, mo/mu)
	fmt.Fprintf(out, "per-round ratios (each round runs both back to back): median %.2f, min %.2f, max %.2f\n",
		report.Median(rr), slices.Min(rr), slices.Max(rr))
	fmt.Fprintf(out, "median p50 latency: ours %v, v0.7.0 %v\n",
		report.Median(lat["ours/p50"]).Round(time.Microsecond), report.Median(lat["v0.7.0/p50"]).Round(time.Microsecond))
	return nil
}

// sign calls Sign from g goroutines for d and returns the number of
// signatures and a sample of latencies. Any error stops the run.
func sign(c *signer.Client, id string, msg []byte, g int, d time.Duration) (int64, []time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var (
		n       atomic.Int64
		mu      sync.Mutex
		lats    []time.Duration
		firstMu sync.Mutex
		first   error
		wg      sync.WaitGroup
	)
	for range g {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var local []time.Duration
			for ctx.Err() == nil {
				start := time.Now()
				_, err := c.Sign(context.Background(), id, msg)
				if err != nil {
					firstMu.Lock()
					if first == nil {
						first = err
					}
					firstMu.Unlock()
					cancel()
					return
				}
				if ctx.Err() != nil {
					break // finished after the deadline: not counted
				}
				n.Add(1)
				if len(local) < 100000 {
					local = append(local, time.Since(start))
				}
			}
			mu.Lock()
			lats = append(lats, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return n.Load(), lats, first
}

func percentile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// ratios are the per-round ratios a[i]/b[i].
func ratios(a, b []float64) []float64 {
	r := make([]float64, min(len(a), len(b)))
	for i := range r {
		r[i] = a[i] / b[i]
	}
	return r
}

type pki struct {
	caFile                string
	signerCert, signerKey string
	clientCert, clientKey string
}

func makePKI(dir string) (*pki, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "signerbench CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	p := &pki{caFile: filepath.Join(dir, "ca.crt")}
	if err := writePEM(p.caFile, "CERTIFICATE", caDER); err != nil {
		return nil, err
	}
	issue := func(name string, server bool) (string, string, error) {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return "", "", err
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		}
		if server {
			tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
			tmpl.DNSNames = []string{"notary-signer"}
			tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			return "", "", err
		}
		kder, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			return "", "", err
		}
		cf, kf := filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
		if err := writePEM(cf, "CERTIFICATE", der); err != nil {
			return "", "", err
		}
		return cf, kf, writePEM(kf, "PRIVATE KEY", kder)
	}
	if p.signerCert, p.signerKey, err = issue("notary-signer", true); err != nil {
		return nil, err
	}
	if p.clientCert, p.clientKey, err = issue("notary-server", false); err != nil {
		return nil, err
	}
	return p, nil
}

func writePEM(file, typ string, der []byte) error {
	return os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600)
}

// startSigner starts a signer on a free loopback port with logging at
// error level and returns its address and a function that stops it.
func startSigner(dir, name, bin, backend string, p *pki) (string, func(), error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	addr := l.Addr().String()
	l.Close()
	storage := map[string]any{"backend": backend}
	env := os.Environ()
	if backend == "sqlite3" {
		storage["db_url"] = filepath.Join(dir, name+"-keys.db")
		storage["default_alias"] = "bench"
		env = append(env, "NOTARY_SIGNER_BENCH=signerbench-passphrase")
	}
	cfg, _ := json.Marshal(map[string]any{
		"server":  map[string]any{"grpc_addr": addr, "tls_cert_file": p.signerCert, "tls_key_file": p.signerKey, "client_ca_file": p.caFile},
		"logging": map[string]any{"level": "error"},
		"storage": storage,
	})
	cfgFile := filepath.Join(dir, strings.ReplaceAll(name, ".", "")+"-signer.json")
	if err := os.WriteFile(cfgFile, cfg, 0o600); err != nil {
		return "", nil, err
	}
	logFile, err := os.Create(filepath.Join(dir, strings.ReplaceAll(name, ".", "")+"-signer.log"))
	if err != nil {
		return "", nil, err
	}
	cmd := exec.Command(bin, "-config", cfgFile)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return "", nil, fmt.Errorf("starting %s: %w", name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); logFile.Close(); close(done) }()
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return addr, stop, nil
		}
		select {
		case <-done:
			b, _ := os.ReadFile(logFile.Name())
			return "", nil, fmt.Errorf("%s exited at start:\n%s", name, b)
		default:
		}
		if time.Now().After(deadline) {
			stop()
			return "", nil, fmt.Errorf("%s does not listen on %s after 30s", name, addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// snapshotBody is the canonical body of a snapshot of at least size bytes
// (delegation entries added until it is): our signer signs only the
// timestamp and snapshot bodies a notary-server sends.
func snapshotBody(size int) ([]byte, error) {
	fm := tuf.FileMeta{Hashes: tuf.Hashes{"sha256": make([]byte, 32)}, Length: 1}
	sn := &tuf.Snapshot{Type: tuf.TypeOf(tuf.RoleSnapshot), Version: 1,
		Expires: time.Now().Add(tuf.DefaultSnapshotTTL).UTC().Truncate(time.Second),
		Meta:    map[string]tuf.FileMeta{tuf.RoleRoot: fm, tuf.RoleTargets: fm}}
	for i := 0; ; i++ {
		b, err := tuf.CanonicalSigned(sn)
		if err != nil || len(b) >= size {
			return b, err
		}
		// About 90 bytes per entry: add enough at once.
		for j := 0; j < (size-len(b))/90+1; j++ {
			sn.Meta[fmt.Sprintf("targets/r%d-%d", i, j)] = fm
		}
	}
}
