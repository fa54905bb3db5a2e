// Package deploy holds sample deployments (systemd units, Kubernetes
// manifests, PKI script); its test checks that they parse.
package deploy

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/yaml"
)

// files returns the files under deploy/ ending in one of exts.
func files(t *testing.T, exts ...string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(".", func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		for _, e := range exts {
			if strings.HasSuffix(p, e) {
				out = append(out, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestJSONParses: every JSON file is one valid JSON value and nothing
// after it (encoding/json).
func TestJSONParses(t *testing.T) {
	for _, f := range files(t, ".json") {
		t.Run(f, func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var v any
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.UseNumber()
			if err := dec.Decode(&v); err != nil {
				t.Fatal(err)
			}
			if dec.More() {
				t.Error("trailing data after the object")
			}
		})
	}
}

var topKey = regexp.MustCompile(`(?m)^([A-Za-z][A-Za-z0-9]*):`)

// TestYAMLStructure parses every YAML document (with the YAML reader of
// k8s.io/apimachinery, which notary-admission brings) and checks that
// every Kubernetes document names apiVersion, kind and metadata.name (or
// is a Kustomization), with no tabs. When python3 with PyYAML is installed every document
// is also fully parsed, and when kubectl is installed the kustomization
// is built; otherwise those parts are skipped (logged).
func TestYAMLStructure(t *testing.T) {
	ys := files(t, ".yaml", ".yml")
	if len(ys) == 0 {
		t.Fatal("no YAML files")
	}
	for _, f := range ys {
		t.Run(f, func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			// A real YAML parse of every document (the reader k8s.io/api
			// brings; JSON documents pass through it too).
			dec := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(b), 4096)
			for {
				var doc map[string]any
				if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
					break
				} else if err != nil {
					t.Fatalf("YAML: %v", err)
				}
			}
			for i, line := range strings.Split(string(b), "\n") {
				if strings.Contains(line, "\t") {
					t.Errorf("line %d: tab", i+1)
				}
			}
			for j, doc := range regexp.MustCompile(`(?m)^---$`).Split(string(b), -1) {
				if strings.TrimSpace(regexp.MustCompile(`(?m)^\s*#.*$`).ReplaceAllString(doc, "")) == "" {
					continue // an empty document (a file starting with ---)
				}
				keys := map[string]bool{}
				for _, m := range topKey.FindAllStringSubmatch(doc, -1) {
					keys[m[1]] = true
				}
				if !keys["apiVersion"] || !keys["kind"] {
					t.Errorf("document %d lacks apiVersion or kind", j)
				}
				if !strings.Contains(doc, "kind: Kustomization") && !regexp.MustCompile(`(?m)^metadata:\n  name: \S+`).MatchString(doc) {
					t.Errorf("document %d lacks metadata.name", j)
				}
			}
		})
	}
	if py, err := exec.LookPath("python3"); err == nil && exec.Command(py, "-c", "import yaml").Run() == nil {
		for _, f := range ys {
			out, err := exec.Command(py, "-c", "import sys, yaml; docs = list(yaml.safe_load_all(open(sys.argv[1]))); assert all(isinstance(d, dict) for d in docs), 'a document is not a mapping'", f).CombinedOutput()
			if err != nil {
				t.Errorf("%s: PyYAML: %v\n%s", f, err, out)
			}
		}
	} else {
		t.Log("python3 with PyYAML not found: YAML not fully parsed")
	}
	if k, err := exec.LookPath("kubectl"); err == nil {
		out, err := exec.Command(k, "kustomize", "kubernetes").CombinedOutput()
		if err != nil {
			t.Errorf("kubectl kustomize kubernetes: %v\n%s", err, out)
		}
	} else {
		t.Log("kubectl not found: kustomization not built")
	}
}

// TestSystemdUnitsHardened: the units keep the hardening the guide
// promises (a regression guard against someone dropping a line).
func TestSystemdUnitsHardened(t *testing.T) {
	for _, f := range files(t, ".service") {
		t.Run(f, func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"DynamicUser=yes", "NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "StateDirectory=", "CapabilityBoundingSet=\n", "--config /etc/notary/"} {
				if !strings.Contains(string(b), want) {
					t.Errorf("missing %q", want)
				}
			}
		})
	}
}

// TestSystemdVerify runs systemd-analyze verify on the units (with
// ExecStart's binary swapped for /bin/true, which exists here), when
// systemd-analyze is installed.
func TestSystemdVerify(t *testing.T) {
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed")
	}
	dir := t.TempDir()
	var units []string
	for _, f := range files(t, ".service") {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b = regexp.MustCompile(`(?m)^ExecStart=/usr/local/bin/`).ReplaceAll(b, []byte("ExecStart=/bin/true -- "))
		p := filepath.Join(dir, filepath.Base(f))
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		units = append(units, p)
	}
	out, err := exec.Command(sa, append([]string{"verify"}, units...)...).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}
