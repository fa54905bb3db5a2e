//go:build interop

package interop

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// TestEnforceAdmissionBinary: the notary-admission binary over TLS, with
// trust from our trust server for an image signed in the distribution
// registry (real clock, real HTTP trust source). A real kube-apiserver is
// out of reach here: the AdmissionReview requests are built from the
// k8s.io/api types, as the API server would send them.
func TestEnforceAdmissionBinary(t *testing.T) {
	reg := regStartDistribution(t, regDistOpts{}).Host
	trust := enfStartTrust(t)
	signedDigest, _ := enfPushImage(t, reg, "team/web", "1.0", "web layer ", 4096, "linux/amd64")
	trust.sign(t, reg+"/team/web:1.0")
	enfPushImage(t, reg, "team/web", "2.0", "unsigned web ", 4096, "linux/amd64")

	pki := newServerPKI(t)
	dir := t.TempDir()
	host := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cfg, _ := json.Marshal(map[string]any{
		"listen": host, "tls_cert": pki.CertFile, "tls_key": pki.KeyFile, "trust_dir": filepath.Join(dir, "trust"),
		"policy": map[string]any{"rules": []any{
			map[string]any{"images": reg + "/team/*", "trust": map[string]any{"server": trust.srv.URL, "tofu": true}},
		}, "default": "deny"},
	})
	cfgFile := filepath.Join(dir, "admission.json")
	if err := os.WriteFile(cfgFile, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	proc := regStartProc(t, dir, "notary-admission", []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}, ourBin(t, "./cmd/notary-admission"), "-config", cfgFile)
	tlsConf := &tls.Config{RootCAs: pki.Pool}
	proc.waitUp(t, "https://"+host+"/healthz", tlsConf)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConf}}

	send := func(t *testing.T, path string, obj runtime.Object, kind metav1.GroupVersionKind) *admissionv1.AdmissionResponse {
		t.Helper()
		raw, _ := json.Marshal(obj)
		body, _ := json.Marshal(admissionv1.AdmissionReview{
			TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
			Request:  &admissionv1.AdmissionRequest{UID: "u1", Kind: kind, Operation: admissionv1.Create, Namespace: "team", Object: runtime.RawExtension{Raw: raw}},
		})
		resp, err := hc.Post("https://"+host+path, "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out admissionv1.AdmissionReview
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Response == nil {
			t.Fatalf("bad answer: %v", err)
		}
		return out.Response
	}
	deploy := func(img string) *appsv1.Deployment {
		return &appsv1.Deployment{Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: img}}}}}}
	}
	dk := metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}

	t.Run("signed tag pinned", func(t *testing.T) {
		r := send(t, "/mutate", deploy(reg+"/team/web:1.0"), dk)
		want := fmt.Sprintf(`[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"%s/team/web@%s"}]`, reg, signedDigest)
		if !r.Allowed || string(r.Patch) != want {
			t.Fatalf("allowed=%v patch=%s, want %s", r.Allowed, r.Patch, want)
		}
	})
	t.Run("pinned image validates", func(t *testing.T) {
		if r := send(t, "/validate", deploy(reg+"/team/web@"+signedDigest), dk); !r.Allowed {
			t.Fatalf("%+v", r.Result)
		}
	})
	t.Run("unsigned denied", func(t *testing.T) {
		r := send(t, "/validate", deploy(reg+"/team/web:2.0"), dk)
		if r.Allowed || !strings.Contains(r.Result.Message, `container "web"`) || !strings.Contains(r.Result.Message, "not_signed") {
			t.Fatalf("%+v", r.Result)
		}
	})
	t.Run("trust server stopped: cached answers stand", func(t *testing.T) {
		trust.srv.Close()
		if r := send(t, "/validate", deploy(reg+"/team/web:1.0"), dk); !r.Allowed {
			t.Fatalf("%+v", r.Result)
		}
		if r := send(t, "/validate", deploy(reg+"/team/web:2.0"), dk); r.Allowed {
			t.Fatal("unsigned allowed during the outage")
		}
	})
}
