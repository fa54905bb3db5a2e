package audit

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/notary-go/notary/api"
	"github.com/notary-go/notary/client"
	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/server/servertest"
	"github.com/notary-go/notary/update"
)

// verifyFresh runs the whole client workflow against the server as a new
// client (TOFU, empty cache) and returns the names of the top-level
// targets, failing the test if anything does not verify.
func verifyFresh(t *testing.T, h *servertest.Harness, gun string) []string {
	t.Helper()
	u, err := update.NewUpdater(update.Options{GUN: gun, Remote: client.ServerRemote(h.Client(t, gun)), Cache: update.NewMemoryCache()})
	if err != nil {
		t.Fatal(err)
	}
	repo, err := u.Update(context.Background(), time.Now())
	if err != nil {
		t.Fatalf("a fresh client cannot verify %s: %v", gun, err)
	}
	var names []string
	for _, tg := range repo.ListTargets() {
		names = append(names, tg.Name)
	}
	slices.Sort(names)
	return names
}

// wantRefused fails unless err is a 4xx answer: a client's mistake is
// never a 5xx or a success.
func wantRefused(t *testing.T, what string, err error) {
	t.Helper()
	var se *api.StatusError
	var ve *api.ValidationError
	switch {
	case err == nil:
		t.Fatalf("%s: accepted, want a 4xx refusal", what)
	case errors.As(err, &ve):
		// Only a 400 carries a validation detail (api.statusError).
	case !errors.As(err, &se):
		t.Fatalf("%s: %v, want an HTTP 4xx", what, err)
	case se.Status < 400 || se.Status >= 500 || se.Status == http.StatusNotFound:
		t.Fatalf("%s: status %d (%v), want 400-class refusal", what, se.Status, err)
	}
}

// resign replaces the "signed" value of envelope env by signed (raw bytes,
// used as is) and signs those bytes with k: a validly signed envelope
// around a body tuf.Sign could not produce.
func resign(t *testing.T, k *keys.PrivateKey, signed []byte) []byte {
	t.Helper()
	sig, err := k.Sign(signed)
	if err != nil {
		t.Fatal(err)
	}
	sigs, err := json.Marshal([]map[string]string{{"keyid": k.ID(), "method": k.Method(), "sig": base64.StdEncoding.EncodeToString(sig)}})
	if err != nil {
		t.Fatal(err)
	}
	return []byte(`{"signed":` + string(signed) + `,"signatures":` + string(sigs) + `}`)
}

// splitEnvelope returns the raw "signed" and "signatures" values of env.
func splitEnvelope(t *testing.T, env []byte) (signed, sigs []byte) {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(env, &m); err != nil {
		t.Fatal(err)
	}
	return m["signed"], m["signatures"]
}
