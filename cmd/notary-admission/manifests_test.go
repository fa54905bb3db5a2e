package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/yaml"

	"github.com/notary-go/notary/policy"
)

// strictUnmarshal refuses fields the type does not have (a misspelt key
// in a manifest).
func strictUnmarshal(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	return d.Decode(v)
}

// The shipped manifests decode into the real API types, and the webhook
// configurations point at this program's paths, opt-in by namespace label.
func TestDeployManifests(t *testing.T) {
	dir := filepath.Join("..", "..", "deploy", "kubernetes", "admission")
	kinds := map[string]int{}
	var mutating admissionregistrationv1.MutatingWebhookConfiguration
	var validating admissionregistrationv1.ValidatingWebhookConfiguration
	var cm corev1.ConfigMap
	for _, f := range []string{"namespace.yaml", "config.yaml", "deployment.yaml", "webhooks.yaml"} {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
		for {
			var meta struct {
				Kind string `json:"kind"`
			}
			var raw map[string]any
			if err := dec.Decode(&raw); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			b, _ := json.Marshal(raw)
			_ = json.Unmarshal(b, &meta)
			kinds[meta.Kind]++
			var target any
			switch meta.Kind {
			case "Namespace":
				target = &corev1.Namespace{}
			case "ConfigMap":
				target = &cm
			case "Deployment":
				target = &appsv1.Deployment{}
			case "Service":
				target = &corev1.Service{}
			case "MutatingWebhookConfiguration":
				target = &mutating
			case "ValidatingWebhookConfiguration":
				target = &validating
			default:
				t.Fatalf("%s: unexpected kind %q", f, meta.Kind)
			}
			if err := strictUnmarshal(b, target); err != nil {
				t.Fatalf("%s: %s: %v", f, meta.Kind, err)
			}
		}
	}
	for _, k := range []string{"Namespace", "ConfigMap", "Deployment", "Service", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"} {
		if kinds[k] != 1 {
			t.Errorf("%d %s manifests, want 1", kinds[k], k)
		}
	}
	if len(mutating.Webhooks) != 1 || *mutating.Webhooks[0].ClientConfig.Service.Path != "/mutate" || mutating.Webhooks[0].NamespaceSelector.MatchLabels["notary.io/enforce"] != "enabled" {
		t.Errorf("mutating webhook: %+v", mutating.Webhooks)
	}
	if len(validating.Webhooks) != 1 || *validating.Webhooks[0].ClientConfig.Service.Path != "/validate" || validating.Webhooks[0].NamespaceSelector.MatchLabels["notary.io/enforce"] != "enabled" {
		t.Errorf("validating webhook: %+v", validating.Webhooks)
	}
	// The shipped policy parses (config.json names it by its path in the
	// pod, absent here).
	if _, err := policy.Parse([]byte(cm.Data["policy.json"])); err != nil {
		t.Errorf("shipped policy.json: %v", err)
	}
}
