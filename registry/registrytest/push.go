package registrytest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// maxPush bounds one uploaded blob or manifest.
const maxPush = 8 << 20

// EnablePush lets clients upload blobs (POST then PUT ?digest=, HEAD to
// check) and manifests (PUT). With referrers, manifests with a subject are
// indexed and served by GET /v2/<repo>/referrers/<digest> (and pushes
// answer OCI-Subject), as a registry with the OCI 1.1 referrers API does;
// without, that endpoint is 404, so clients use the referrers tag.
func (r *Registry) EnablePush(referrers bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.push = true
	r.referrersAPI = referrers
	if r.blobs == nil {
		r.blobs = map[string][]byte{}
		r.uploads = map[string]string{}
		r.refs = map[string][]json.RawMessage{}
	}
}

// Blob returns a stored blob (nil if none).
func (r *Registry) Blob(repo, digest string) []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.blobs[repo+"@"+digest]
}

// Manifest returns a stored manifest by tag or digest (nil if none).
func (r *Registry) Manifest(repo, ref string) []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	d := ref
	if !strings.HasPrefix(ref, "sha256:") {
		d = r.tags[repo+":"+ref]
	}
	return r.manifests[repo+"@"+d].body
}

// servePush handles the push endpoints; false means not one of them.
// r.mu is held.
func (r *Registry) servePush(w http.ResponseWriter, req *http.Request, rest string) bool {
	if !r.push {
		return false
	}
	switch {
	case strings.Contains(rest, "/blobs/uploads/") && req.Method == http.MethodPost:
		repo := rest[:strings.Index(rest, "/blobs/uploads/")]
		id := fmt.Sprintf("u%d", len(r.uploads)+1)
		r.uploads[id] = repo
		w.Header().Set("Location", "/v2/"+repo+"/blobs/uploads/"+id)
		w.WriteHeader(http.StatusAccepted)
		return true
	case strings.Contains(rest, "/blobs/uploads/") && req.Method == http.MethodPut:
		i := strings.Index(rest, "/blobs/uploads/")
		repo, id := rest[:i], rest[i+len("/blobs/uploads/"):]
		if r.uploads[id] != repo {
			writeErr(w, http.StatusNotFound, "BLOB_UPLOAD_UNKNOWN", "unknown upload")
			return true
		}
		body, err := io.ReadAll(io.LimitReader(req.Body, maxPush+1))
		d := req.URL.Query().Get("digest")
		if err != nil || len(body) > maxPush || Digest(body) != d {
			writeErr(w, http.StatusBadRequest, "DIGEST_INVALID", "digest does not match")
			return true
		}
		r.blobs[repo+"@"+d] = body
		w.Header().Set("Docker-Content-Digest", d)
		w.WriteHeader(http.StatusCreated)
		return true
	case strings.Contains(rest, "/blobs/") && (req.Method == http.MethodHead || req.Method == http.MethodGet):
		i := strings.LastIndex(rest, "/blobs/")
		repo, d := rest[:i], rest[i+len("/blobs/"):]
		b, ok := r.blobs[repo+"@"+d]
		if !ok {
			writeErr(w, http.StatusNotFound, "BLOB_UNKNOWN", "blob unknown")
			return true
		}
		w.Header().Set("Docker-Content-Digest", d)
		w.Header().Set("Content-Length", fmt.Sprint(len(b)))
		w.WriteHeader(http.StatusOK)
		if req.Method == http.MethodGet {
			_, _ = w.Write(b)
		}
		return true
	case strings.Contains(rest, "/manifests/") && req.Method == http.MethodPut:
		i := strings.LastIndex(rest, "/manifests/")
		repo, ref := rest[:i], rest[i+len("/manifests/"):]
		body, err := io.ReadAll(io.LimitReader(req.Body, maxPush+1))
		if err != nil || len(body) > maxPush {
			writeErr(w, http.StatusBadRequest, "MANIFEST_INVALID", "too large")
			return true
		}
		d := Digest(body)
		if strings.HasPrefix(ref, "sha256:") && ref != d {
			writeErr(w, http.StatusBadRequest, "DIGEST_INVALID", "digest does not match")
			return true
		}
		r.manifests[repo+"@"+d] = stored{mediaType: req.Header.Get("Content-Type"), body: body}
		if !strings.HasPrefix(ref, "sha256:") {
			r.tags[repo+":"+ref] = d
		}
		var m struct {
			ArtifactType string                     `json:"artifactType"`
			Config       struct{ MediaType string } `json:"config"`
			Annotations  map[string]string          `json:"annotations"`
			Subject      *struct{ Digest string }   `json:"subject"`
		}
		_ = json.Unmarshal(body, &m)
		if m.Subject != nil && r.referrersAPI {
			at := m.ArtifactType
			if at == "" {
				at = m.Config.MediaType
			}
			desc, _ := json.Marshal(map[string]any{"mediaType": req.Header.Get("Content-Type"), "digest": d, "size": len(body), "artifactType": at, "annotations": m.Annotations})
			r.refs[repo+"@"+m.Subject.Digest] = append(r.refs[repo+"@"+m.Subject.Digest], desc)
			w.Header().Set("OCI-Subject", m.Subject.Digest)
		}
		w.Header().Set("Docker-Content-Digest", d)
		w.WriteHeader(http.StatusCreated)
		return true
	case strings.Contains(rest, "/referrers/") && req.Method == http.MethodGet:
		if !r.referrersAPI {
			writeErr(w, http.StatusNotFound, "UNSUPPORTED", "no referrers API")
			return true
		}
		i := strings.LastIndex(rest, "/referrers/")
		repo, d := rest[:i], rest[i+len("/referrers/"):]
		at := req.URL.Query().Get("artifactType")
		list := []json.RawMessage{}
		for _, raw := range r.refs[repo+"@"+d] {
			var x struct{ ArtifactType string }
			_ = json.Unmarshal(raw, &x)
			if at == "" || x.ArtifactType == at {
				list = append(list, raw)
			}
		}
		w.Header().Set("Content-Type", "application/vnd.oci.image.index.v1+json")
		if at != "" {
			w.Header().Set("OCI-Filters-Applied", "artifactType")
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": list})
		return true
	}
	return false
}
