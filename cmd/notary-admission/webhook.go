package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/notary-go/notary/policy"
)

// decider is the policy engine as the webhook uses it.
type decider interface {
	Decide(ctx context.Context, image string) (policy.Decision, error)
}

type webhook struct {
	engine decider
	log    *slog.Logger
}

func (wh *webhook) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/validate", func(w http.ResponseWriter, r *http.Request) { wh.serve(w, r, false) })
	mux.HandleFunc("/mutate", func(w http.ResponseWriter, r *http.Request) { wh.serve(w, r, true) })
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	return mux
}

// maxReviewSize bounds a request body: the API server's own limit on an
// object is 3 MiB, and a review carries at most two of them.
const maxReviewSize = 8 << 20

func (wh *webhook) serve(w http.ResponseWriter, r *http.Request, mutate bool) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST an AdmissionReview", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxReviewSize+1))
	if err != nil {
		http.Error(w, "reading the request: "+err.Error(), http.StatusBadRequest)
		return
	}
	if len(body) > maxReviewSize {
		http.Error(w, "AdmissionReview too large", http.StatusRequestEntityTooLarge)
		return
	}
	var review admissionv1.AdmissionReview
	if err := json.Unmarshal(body, &review); err != nil || review.Request == nil {
		http.Error(w, "the body is not an AdmissionReview with a request", http.StatusBadRequest)
		return
	}
	resp := wh.review(r.Context(), review.Request, mutate)
	resp.UID = review.Request.UID
	out := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Response: resp,
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

// podSpecOf decodes the object of req and returns its pod spec and the
// JSON pointer of that spec in the object; ok is false for a kind this
// webhook does not know.
func podSpecOf(req *admissionv1.AdmissionRequest) (spec *corev1.PodSpec, pointer string, ok bool, err error) {
	raw := req.Object.Raw
	gk := req.Kind.Group + "/" + req.Kind.Kind
	switch gk {
	case "/Pod":
		var o corev1.Pod
		err = json.Unmarshal(raw, &o)
		return &o.Spec, "/spec", true, err
	case "apps/Deployment":
		var o appsv1.Deployment
		err = json.Unmarshal(raw, &o)
		return &o.Spec.Template.Spec, "/spec/template/spec", true, err
	case "apps/StatefulSet":
		var o appsv1.StatefulSet
		err = json.Unmarshal(raw, &o)
		return &o.Spec.Template.Spec, "/spec/template/spec", true, err
	case "apps/DaemonSet":
		var o appsv1.DaemonSet
		err = json.Unmarshal(raw, &o)
		return &o.Spec.Template.Spec, "/spec/template/spec", true, err
	case "apps/ReplicaSet":
		var o appsv1.ReplicaSet
		err = json.Unmarshal(raw, &o)
		return &o.Spec.Template.Spec, "/spec/template/spec", true, err
	case "batch/Job":
		var o batchv1.Job
		err = json.Unmarshal(raw, &o)
		return &o.Spec.Template.Spec, "/spec/template/spec", true, err
	case "batch/CronJob":
		var o batchv1.CronJob
		err = json.Unmarshal(raw, &o)
		return &o.Spec.JobTemplate.Spec.Template.Spec, "/spec/jobTemplate/spec/template/spec", true, err
	}
	return nil, "", false, nil
}

// container is one image reference of a pod spec.
type container struct {
	kind  string // containers, initContainers, ephemeralContainers
	index int
	name  string
	image string
}

func containersOf(s *corev1.PodSpec) []container {
	var out []container
	for i, c := range s.InitContainers {
		out = append(out, container{"initContainers", i, c.Name, c.Image})
	}
	for i, c := range s.Containers {
		out = append(out, container{"containers", i, c.Name, c.Image})
	}
	for i, c := range s.EphemeralContainers {
		out = append(out, container{"ephemeralContainers", i, c.Name, c.Image})
	}
	return out
}

var containerWords = map[string]string{"initContainers": "init container", "containers": "container", "ephemeralContainers": "ephemeral container"}

type patchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value string `json:"value"`
}

// review decides on one request: every image of the pod spec must be
// allowed by the policy; with mutate, each signed tag is replaced by its
// pinned digest.
func (wh *webhook) review(ctx context.Context, req *admissionv1.AdmissionRequest, mutate bool) *admissionv1.AdmissionResponse {
	allow := &admissionv1.AdmissionResponse{Allowed: true}
	if req.Operation != admissionv1.Create && req.Operation != admissionv1.Update {
		return allow
	}
	spec, pointer, known, err := podSpecOf(req)
	if !known {
		// Fail closed: a kind routed here that we cannot read is refused,
		// not waved through.
		return deny(http.StatusBadRequest, fmt.Sprintf("notary-admission does not check %s/%s objects", req.Kind.Group, req.Kind.Kind))
	}
	if err != nil {
		return deny(http.StatusBadRequest, fmt.Sprintf("cannot decode the %s: %v", req.Kind.Kind, err))
	}
	var denials, warnings []string
	var patch []patchOp
	decided := map[string]policy.Decision{}
	for _, c := range containersOf(spec) {
		d, ok := decided[c.image]
		if !ok {
			d, err = wh.engine.Decide(ctx, c.image)
			if err != nil {
				return deny(http.StatusServiceUnavailable, "the admission review was canceled")
			}
			decided[c.image] = d
		}
		where := fmt.Sprintf("%s %q (image %s)", containerWords[c.kind], c.name, c.image)
		switch {
		case !d.Allowed:
			denials = append(denials, fmt.Sprintf("%s: %s: %v", where, d.Reason, cause(d.Err)))
			wh.log.Info("denied", "namespace", req.Namespace, "object", req.Name, "kind", req.Kind.Kind, "container", c.name, "image", c.image, "reason", d.Reason, "error", d.Err)
		case d.Audit:
			warnings = append(warnings, fmt.Sprintf("%s: would be denied (%s), allowed by an audit rule: %v", where, d.Reason, cause(d.Err)))
			wh.log.Warn("audit: allowed an image the policy would deny", "namespace", req.Namespace, "object", req.Name, "kind", req.Kind.Kind, "container", c.name, "image", c.image, "reason", d.Reason, "error", d.Err)
		case mutate && d.Digest != "" && d.Ref.Tag != "":
			patch = append(patch, patchOp{Op: "replace", Path: pointer + "/" + c.kind + "/" + strconv.Itoa(c.index) + "/image", Value: d.Pinned()})
		}
	}
	if len(denials) > 0 {
		return deny(http.StatusForbidden, "notary-admission: images refused by the signature policy: "+strings.Join(denials, "; "))
	}
	allow.Warnings = warnings
	if len(patch) > 0 {
		b, err := json.Marshal(patch)
		if err != nil {
			return deny(http.StatusInternalServerError, "cannot build the patch")
		}
		pt := admissionv1.PatchTypeJSONPatch
		allow.Patch, allow.PatchType = b, &pt
	}
	return allow
}

// cause is a denial's reason without the image repeated.
func cause(err error) error {
	var de *policy.DeniedError
	if e, ok := err.(*policy.DeniedError); ok {
		de = e
	}
	if de != nil && de.Err != nil {
		return de.Err
	}
	return err
}

func deny(code int32, msg string) *admissionv1.AdmissionResponse {
	return &admissionv1.AdmissionResponse{Allowed: false, Result: &metav1.Status{Status: metav1.StatusFailure, Code: code, Reason: metav1.StatusReasonForbidden, Message: msg}}
}
