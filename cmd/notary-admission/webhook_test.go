package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/notary-go/notary/internal/tuftest"
	"github.com/notary-go/notary/policy"
	"github.com/notary-go/notary/tuf"
)

const gun = "reg.example.com:5000/org/app"

func sha(s string) (string, tuf.FileMeta) {
	sum := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(sum[:]), tuf.FileMeta{Length: int64(len(s)), Hashes: tuf.Hashes{tuf.SHA256: sum[:]}}
}

// writeMirror writes the simulator's current files as a static mirror
// folder: <dir>/<gun>/<role>.json.
func writeMirror(t *testing.T, sim *tuftest.Simulator, dir string, roles ...string) {
	t.Helper()
	for _, role := range append([]string{"root", "targets", "snapshot", "timestamp"}, roles...) {
		p := filepath.Join(dir, filepath.FromSlash(sim.GUN()), filepath.FromSlash(role)+".json")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, sim.Bytes(role), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "notary-admission"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kd, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	_ = os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	_ = os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd}), 0o600)
	c, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(c)
	return certFile, keyFile, pool
}

type harness struct {
	url    string
	client *http.Client
	signed string // digest signed for :1.0
}

// start runs the program (run, as main does) over TLS with a policy whose
// trust source is a static mirror folder written from a simulator.
func start(t *testing.T) *harness {
	t.Helper()
	dir := t.TempDir()
	sim := tuftest.New(gun)
	sim.AddDelegation(tuf.RoleTargets, "targets/releases", "")
	d, fm := sha("manifest 1.0")
	sim.AddTargetMeta("targets/releases", "1.0", fm)
	sim.Publish()
	mirror := filepath.Join(dir, "mirror")
	writeMirror(t, sim, mirror, "targets/releases")
	certFile, keyFile, pool := selfSigned(t, dir)
	cfg := fmt.Sprintf(`{"listen": "127.0.0.1:0", "log_level": "error", "tls_cert": %q, "tls_key": %q, "trust_dir": %q, "policy": {"rules": [
  {"images": "reg.example.com:5000/org/*", "trust": {"mirror": %q, "root_keys": [%q]}},
  {"images": "reg.example.com:5000/audit/*", "trust": {"mirror": %q, "tofu": true}, "mode": "audit"}], "default": "deny"}}`,
		certFile, keyFile, filepath.Join(dir, "trust"), mirror, sim.RootCertIDs()[0], mirror)
	cfgPath := filepath.Join(dir, "config.json")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	errc := make(chan error, 1)
	go func() { errc <- run(ctx, []string{"-config", cfgPath}, ready, policy.Options{Now: sim.Clock.Now}) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-errc:
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	return &harness{url: "https://" + addr, signed: d, client: &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}}
}

func (h *harness) send(t *testing.T, path string, kind metav1.GroupVersionKind, obj runtime.Object) *admissionv1.AdmissionResponse {
	t.Helper()
	raw, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	review := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID: types.UID("uid-" + kind.Kind), Kind: kind, Operation: admissionv1.Create,
			Namespace: "team", Name: "x", Object: runtime.RawExtension{Raw: raw},
		},
	}
	body, _ := json.Marshal(review)
	resp, err := h.client.Post(h.url+path, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	var out admissionv1.AdmissionReview
	if err := json.Unmarshal(b, &out); err != nil || out.Response == nil {
		t.Fatalf("bad review %s", b)
	}
	if out.Response.UID != review.Request.UID {
		t.Fatalf("uid %s", out.Response.UID)
	}
	return out.Response
}

func podSpec(images ...string) corev1.PodSpec {
	var s corev1.PodSpec
	s.InitContainers = []corev1.Container{{Name: "init", Image: images[0]}}
	for i, img := range images[1:] {
		s.Containers = append(s.Containers, corev1.Container{Name: fmt.Sprintf("c%d", i), Image: img})
	}
	return s
}

type workload struct {
	kind    metav1.GroupVersionKind
	pointer string
	make    func(corev1.PodSpec) runtime.Object
}

var workloads = []workload{
	{metav1.GroupVersionKind{Version: "v1", Kind: "Pod"}, "/spec", func(s corev1.PodSpec) runtime.Object { return &corev1.Pod{Spec: s} }},
	{metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, "/spec/template/spec", func(s corev1.PodSpec) runtime.Object {
		return &appsv1.Deployment{Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: s}}}
	}},
	{metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "StatefulSet"}, "/spec/template/spec", func(s corev1.PodSpec) runtime.Object {
		return &appsv1.StatefulSet{Spec: appsv1.StatefulSetSpec{Template: corev1.PodTemplateSpec{Spec: s}}}
	}},
	{metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "DaemonSet"}, "/spec/template/spec", func(s corev1.PodSpec) runtime.Object {
		return &appsv1.DaemonSet{Spec: appsv1.DaemonSetSpec{Template: corev1.PodTemplateSpec{Spec: s}}}
	}},
	{metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "ReplicaSet"}, "/spec/template/spec", func(s corev1.PodSpec) runtime.Object {
		return &appsv1.ReplicaSet{Spec: appsv1.ReplicaSetSpec{Template: corev1.PodTemplateSpec{Spec: s}}}
	}},
	{metav1.GroupVersionKind{Group: "batch", Version: "v1", Kind: "Job"}, "/spec/template/spec", func(s corev1.PodSpec) runtime.Object {
		return &batchv1.Job{Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: s}}}
	}},
	{metav1.GroupVersionKind{Group: "batch", Version: "v1", Kind: "CronJob"}, "/spec/jobTemplate/spec/template/spec", func(s corev1.PodSpec) runtime.Object {
		return &batchv1.CronJob{Spec: batchv1.CronJobSpec{JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: s}}}}}
	}},
}

type op struct {
	Op, Path, Value string
}

func TestWebhookWorkloads(t *testing.T) {
	h := start(t)
	signedTag := gun + ":1.0"
	pinned := gun + "@" + h.signed
	for _, wl := range workloads {
		t.Run(wl.kind.Kind, func(t *testing.T) {
			t.Run("mutate pins signed tags", func(t *testing.T) {
				resp := h.send(t, "/mutate", wl.kind, wl.make(podSpec(signedTag, pinned, signedTag)))
				if !resp.Allowed {
					t.Fatalf("denied: %+v", resp.Result)
				}
				if resp.PatchType == nil || *resp.PatchType != admissionv1.PatchTypeJSONPatch {
					t.Fatalf("no JSONPatch")
				}
				var ops []op
				if err := json.Unmarshal(resp.Patch, &ops); err != nil {
					t.Fatal(err)
				}
				want := []op{
					{"replace", wl.pointer + "/initContainers/0/image", pinned},
					{"replace", wl.pointer + "/containers/1/image", pinned},
				}
				if fmt.Sprint(ops) != fmt.Sprint(want) {
					t.Fatalf("patch %+v, want %+v", ops, want)
				}
			})
			t.Run("validate allows without a patch", func(t *testing.T) {
				resp := h.send(t, "/validate", wl.kind, wl.make(podSpec(signedTag, pinned)))
				if !resp.Allowed || resp.Patch != nil {
					t.Fatalf("%+v", resp)
				}
			})
			t.Run("unsigned denied naming the container", func(t *testing.T) {
				for _, path := range []string{"/validate", "/mutate"} {
					resp := h.send(t, path, wl.kind, wl.make(podSpec(signedTag, gun+":2.0")))
					if resp.Allowed || resp.Result == nil || resp.Result.Code != 403 {
						t.Fatalf("%s: %+v", path, resp)
					}
					msg := resp.Result.Message
					if !strings.Contains(msg, `container "c0"`) || !strings.Contains(msg, gun+":2.0") || !strings.Contains(msg, "not_signed") {
						t.Fatalf("message %q", msg)
					}
					if resp.Patch != nil {
						t.Fatal("patch on a denial")
					}
				}
			})
			t.Run("audit allows with a warning", func(t *testing.T) {
				resp := h.send(t, "/mutate", wl.kind, wl.make(podSpec(signedTag, "reg.example.com:5000/audit/x:1")))
				if !resp.Allowed || len(resp.Warnings) != 1 || !strings.Contains(resp.Warnings[0], `"c0"`) {
					t.Fatalf("%+v", resp)
				}
			})
			t.Run("no rule denied", func(t *testing.T) {
				resp := h.send(t, "/validate", wl.kind, wl.make(podSpec("nginx")))
				if resp.Allowed || !strings.Contains(resp.Result.Message, "no_rule") || !strings.Contains(resp.Result.Message, `init container "init"`) {
					t.Fatalf("%+v", resp.Result)
				}
			})
		})
	}
}

func TestWebhookRequests(t *testing.T) {
	h := start(t)
	t.Run("unknown kind fails closed", func(t *testing.T) {
		resp := h.send(t, "/validate", metav1.GroupVersionKind{Group: "", Version: "v1", Kind: "ReplicationController"}, &corev1.ReplicationController{})
		if resp.Allowed {
			t.Fatal("allowed")
		}
	})
	for _, tt := range []struct {
		name, method, body string
		want               int
	}{
		{name: "GET", method: "GET", want: 405},
		{name: "not json", method: "POST", body: "{", want: 400},
		{name: "no request", method: "POST", body: `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}`, want: 400},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, h.url+"/validate", strings.NewReader(tt.body))
			resp, err := h.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
	t.Run("delete is allowed", func(t *testing.T) {
		review := admissionv1.AdmissionReview{Request: &admissionv1.AdmissionRequest{UID: "d", Kind: metav1.GroupVersionKind{Version: "v1", Kind: "Pod"}, Operation: admissionv1.Delete}}
		b, _ := json.Marshal(review)
		resp, err := h.client.Post(h.url+"/validate", "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out admissionv1.AdmissionReview
		_ = json.NewDecoder(resp.Body).Decode(&out)
		if out.Response == nil || !out.Response.Allowed {
			t.Fatalf("%+v", out.Response)
		}
	})
}

func TestParseConfig(t *testing.T) {
	for _, tt := range []struct {
		name, cfg string
		wantErr   bool
	}{
		{name: "ok", cfg: `{"listen": ":8443", "tls_cert": "c", "tls_key": "k", "policy": {"default": "deny"}}`},
		{name: "no tls", cfg: `{"listen": ":8443", "policy": {}}`, wantErr: true},
		{name: "no listen", cfg: `{"tls_cert": "c", "tls_key": "k", "policy": {}}`, wantErr: true},
		{name: "unknown key", cfg: `{"listen": ":1", "tls_cert": "c", "tls_key": "k", "policy": {}, "insecure": true}`, wantErr: true},
		{name: "bad policy", cfg: `{"listen": ":1", "tls_cert": "c", "tls_key": "k", "policy": {"rules": [{"images": "x/*"}]}}`, wantErr: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := parseConfig([]byte(tt.cfg))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v", err)
			}
		})
	}
}
