package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/notary-go/notary/api"
	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/server"
	"github.com/notary-go/notary/server/servertest"
	"github.com/notary-go/notary/tuf"
)

// wantErr describes an expected publish failure: a validation error Name
// (and a substring of its message), or an api.Code.
type wantErr struct {
	name string // api.ErrName*
	msg  string // substring of the validation message
	code api.Code
}

func checkPublishErr(t *testing.T, err error, want *wantErr) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("publish: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("publish succeeded, want %+v", *want)
	}
	if want.name != "" {
		var ve *api.ValidationError
		if !errors.As(err, &ve) {
			t.Fatalf("publish error %v, want validation error %s", err, want.name)
		}
		if ve.Name != want.name || !strings.Contains(ve.Msg, want.msg) {
			t.Fatalf("validation error %s %q, want %s containing %q", ve.Name, ve.Msg, want.name, want.msg)
		}
		return
	}
	var se *api.StatusError
	if !errors.As(err, &se) || se.Err == nil || se.Err.Code != want.code {
		t.Fatalf("publish error %v, want code %s", err, want.code)
	}
}

func sign(t *testing.T, body any, k ...*keys.PrivateKey) []byte {
	t.Helper()
	var s []tuf.Signer
	for _, key := range k {
		s = append(s, tuf.LocalSigner(key))
	}
	_, b, err := tuf.Sign(context.Background(), body, s...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustKey(t *testing.T) *keys.PrivateKey {
	t.Helper()
	k, err := keys.Generate(keys.ECDSA)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestUpdateValidation checks that every upload is validated as v0.7.0
// does (protocol §4.1), and more strictly where v0.7.0 was wrong.
func TestUpdateValidation(t *testing.T) {
	type setup struct {
		t *testing.T
		h *servertest.Harness
		r *servertest.Repo // already published once
	}
	for _, tc := range []struct {
		name           string
		serverSnapshot bool
		fresh          bool // the GUN has no collection yet (r is unpublished)
		parts          func(s setup) []api.Part
		want           *wantErr
		check          func(s setup)
	}{
		{
			name: "NoRootFirst", fresh: true, serverSnapshot: true,
			parts: func(s setup) []api.Part {
				_, _ = s.r.SignTargets(tuf.RoleTargets)
				return s.r.Parts(tuf.RoleTargets)
			},
			want: &wantErr{name: api.ErrNameValidation, msg: "no pre-existing root and no root provided in update."},
		},
		{
			name: "RootOnlyFirst", fresh: true, serverSnapshot: true,
			parts: func(s setup) []api.Part {
				_, _ = s.r.SignRoot()
				return s.r.Parts(tuf.RoleRoot)
			},
			want: &wantErr{name: api.ErrNameValidation, msg: "targets must be loaded first"},
		},
		{
			name: "ClientSnapshotFirst", fresh: true,
			parts: func(s setup) []api.Part {
				p, err := s.r.Initial()
				if err != nil {
					s.t.Fatal(err)
				}
				return p
			},
		},
		{
			name: "RootCNOtherGUN", fresh: true, serverSnapshot: true,
			parts: func(s setup) []api.Part {
				k, err := mustKey(s.t).WithRootCertificate("example.com/other", time.Now(), time.Now().Add(time.Hour))
				if err != nil {
					s.t.Fatal(err)
				}
				s.r.RootKey = k
				s.r.SetRoleKey(tuf.RoleRoot, k.Public())
				p, _ := s.r.Initial()
				return p
			},
			want: &wantErr{name: api.ErrNameBadRoot, msg: "could not validate the path to a trusted root: unable to retrieve valid leaf certificates"},
		},
		{
			name: "RootCertExpired", fresh: true, serverSnapshot: true,
			parts: func(s setup) []api.Part {
				k, err := mustKey(s.t).WithRootCertificate(s.r.GUN, time.Now().Add(-2*time.Hour), time.Now().Add(-time.Hour))
				if err != nil {
					s.t.Fatal(err)
				}
				s.r.RootKey = k
				s.r.SetRoleKey(tuf.RoleRoot, k.Public())
				p, _ := s.r.Initial()
				return p
			},
			want: &wantErr{name: api.ErrNameBadRoot, msg: "unable to retrieve valid leaf certificates"},
		},
		{
			name: "RootNotSelfSigned", fresh: true, serverSnapshot: true,
			parts: func(s setup) []api.Part {
				b := sign(s.t, func() *tuf.Root { s.r.Root.Version = 1; s.r.Root.Expires = time.Now().Add(time.Hour); return s.r.Root }(), s.r.TargetsKey)
				_, _ = s.r.SignTargets(tuf.RoleTargets)
				return []api.Part{{Role: "root", Data: b}, {Role: "targets", Data: s.r.Files["targets"]}}
			},
			want: &wantErr{name: api.ErrNameBadRoot, msg: "failed to validate integrity of roots"},
		},
		{
			name: "RootVersionJump", serverSnapshot: true,
			parts: func(s setup) []api.Part {
				s.r.Root.Version++
				_, _ = s.r.SignRoot()
				return s.r.Parts(tuf.RoleRoot)
			},
			want: &wantErr{name: api.ErrNameBadRoot, msg: "Root modifications must increment the version. Current 1, new 3"},
		},
		{
			name: "RootRotationWithoutOldKey", serverSnapshot: true,
			parts: func(s setup) []api.Part {
				if _, err := s.r.RotateRootKey(); err != nil {
					s.t.Fatal(err)
				}
				_, _ = s.r.SignRoot()
				return s.r.Parts(tuf.RoleRoot)
			},
			want: &wantErr{name: api.ErrNameBadRoot, msg: "could not rotate trust to a new trusted root: failed to validate data with current trusted certificates"},
		},
		{
			name: "RootRotation", serverSnapshot: true,
			parts: func(s setup) []api.Part {
				old, err := s.r.RotateRootKey()
				if err != nil {
					s.t.Fatal(err)
				}
				_, _ = s.r.SignRoot(old)
				return s.r.Parts(tuf.RoleRoot)
			},
			check: func(s setup) {
				if got := do(s.t, s.h, "GET", "/v2/"+s.r.GUN+"/_trust/tuf/root.json", nil, ""); !bytes.Equal(got.body, s.r.Files["root"]) {
					s.t.Error("current root is not the rotated one")
				}
			},
		},
		{
			name: "RootReuploadIdentical", serverSnapshot: true,
			parts: func(s setup) []api.Part {
				_, _ = s.r.SignTargets(tuf.RoleTargets)
				return s.r.Parts(tuf.RoleRoot, tuf.RoleTargets)
			},
		},
		{
			name: "RootExpired", serverSnapshot: true,
			parts: func(s setup) []api.Part {
				s.r.Root.Version++
				s.r.Root.Expires = time.Now().Add(-time.Minute)
				return []api.Part{{Role: "root", Data: sign(s.t, s.r.Root, s.r.RootKey)}}
			},
			want: &wantErr{name: api.ErrNameBadRoot, msg: "expired"},
		},
		{
			name: "TargetsKeyRotatedWithoutTargets", serverSnapshot: true,
			parts: func(s setup) []api.Part {
				s.r.SetRoleKey(tuf.RoleTargets, mustKey(s.t).Public())
				_, _ = s.r.SignRoot()
				return s.r.Parts(tuf.RoleRoot)
			},
			want: &wantErr{name: api.ErrNameBadTargets, msg: "new root's targets keys do not accept the current targets"},
		},
		{
			name: "TargetsKeyRotated", serverSnapshot: true,
			parts: func(s setup) []api.Part {
				s.r.TargetsKey = mustKey(s.t)
				s.r.SetRoleKey(tuf.RoleTargets, s.r.TargetsKey.Public())
				_, _ = s.r.SignRoot()
				_, _ = s.r.SignTargets(tuf.RoleTargets)
				return s.r.Parts(tuf.RoleRoot, tuf.RoleTargets)
			},
		},
		{
			name: "TargetsWrongKey", serverSnapshot: true,
			parts: func(s setup) []api.Part {
				s.r.TargetsKey = mustKey(s.t)
				_, _ = s.r.SignTargets(tuf.RoleTargets)
				return s.r.Parts(tuf.RoleTargets)
			},
			want: &wantErr{name: api.ErrNameBadTargets, msg: "valid signatures did not meet threshold for targets"},
		},
		{
			name: "TargetsExpired", serverSnapshot: true,
			parts: func(s setup) []api.Part {
				t := s.r.Targets[tuf.RoleTargets]
				t.Version++
				t.Expires = time.Now().Add(-time.Second)
				return []api.Part{{Role: "targets", Data: sign(s.t, t, s.r.TargetsKey)}}
			},
			want: &wantErr{name: api.ErrNameBadTargets, msg: "expired"},
		},
		{
			name: "TargetsWrongType", serverSnapshot: true,
			parts: func(s setup) []api.Part {
				t := s.r.Targets[tuf.RoleTargets]
				t.Version++
				t.Type = "Root"
				t.Expires = time.Now().Add(time.Hour)
				return []api.Part{{Role: "targets", Data: sign(s.t, t, s.r.TargetsKey)}}
			},
			want: &wantErr{name: api.ErrNameBadTargets, msg: `_type "Root"`},
		},
		{
			name: "TargetsStaleVersion", serverSnapshot: true,
			parts: func(s setup) []api.Part { return s.r.Parts(tuf.RoleTargets) },
			want:  &wantErr{code: api.CodeOldVersion},
		},
		{
			name: "DelegationNotDelegated", serverSnapshot: true,
			parts: func(s setup) []api.Part {
				k := mustKey(s.t)
				b := sign(s.t, &tuf.Targets{Type: "Targets", Version: 1, Expires: time.Now().Add(time.Hour), Targets: map[string]tuf.FileMeta{}}, k)
				return []api.Part{{Role: "targets/x", Data: b}}
			},
			want: &wantErr{name: api.ErrNameBadTargets, msg: "targets/x"},
		},
		{
			name: "DelegationNestedInOneUpdate", serverSnapshot: true,
			parts: func(s setup) []api.Part {
				for _, d := range []string{"targets/a", "targets/a/b"} {
					if err := s.r.AddDelegation(d, ""); err != nil {
						s.t.Fatal(err)
					}
				}
				_ = s.r.AddTarget("targets/a/b", "deep", []byte("deep"))
				p, err := s.r.Publish(tuf.RoleTargets, "targets/a", "targets/a/b")
				if err != nil {
					s.t.Fatal(err)
				}
				return p
			},
			check: func(s setup) {
				if got := do(s.t, s.h, "GET", "/v2/"+s.r.GUN+"/_trust/tuf/targets/a/b.json", nil, ""); got.status != 200 {
					s.t.Errorf("nested delegation not served: %d", got.status)
				}
			},
		},
		{
			name: "TooManyDelegationPaths", serverSnapshot: true,
			parts: func(s setup) []api.Part {
				paths := make([]string, tuf.MaxDelegationPaths+1)
				for i := range paths {
					paths[i] = fmt.Sprintf("team-a/%d/", i)
				}
				_ = s.r.AddDelegation("targets/a", paths...)
				p, err := s.r.Publish(tuf.RoleTargets, "targets/a")
				if err != nil {
					s.t.Fatal(err)
				}
				return p
			},
			want: &wantErr{name: api.ErrNameBadTargets, msg: "paths"},
		},
		{
			name: "AtomicOnBadDelegation", serverSnapshot: true,
			parts: func(s setup) []api.Part {
				_ = s.r.AddDelegation("targets/a", "")
				_, _ = s.r.SignTargets(tuf.RoleTargets)
				s.r.DelegationKeys["targets/a"] = mustKey(s.t) // signs with a key targets does not list
				_, _ = s.r.SignTargets("targets/a")
				return s.r.Parts(tuf.RoleTargets, "targets/a")
			},
			want: &wantErr{name: api.ErrNameBadTargets, msg: "targets/a"},
			check: func(s setup) {
				if got := do(s.t, s.h, "GET", "/v2/"+s.r.GUN+"/_trust/tuf/3.targets.json", nil, ""); got.status != 404 {
					s.t.Errorf("valid targets of a rejected update was stored: %d", got.status)
				}
			},
		},
		{
			name: "PrettyPrintedTargetsHashedAsStored", serverSnapshot: true,
			parts: func(s setup) []api.Part {
				_, _ = s.r.SignTargets(tuf.RoleTargets)
				var buf bytes.Buffer
				if err := json.Indent(&buf, s.r.Files["targets"], "", "  "); err != nil {
					s.t.Fatal(err)
				}
				s.r.Files["targets"] = buf.Bytes()
				return s.r.Parts(tuf.RoleTargets)
			},
			check: func(s setup) {
				// §1.10: the server-made snapshot must describe the
				// bytes it serves, not a re-serialisation.
				snap := do(s.t, s.h, "GET", "/v2/"+s.r.GUN+"/_trust/tuf/snapshot.json", nil, "")
				sn, _, err := tuf.ParseSnapshot(snap.body)
				if err != nil {
					s.t.Fatal(err)
				}
				served := do(s.t, s.h, "GET", "/v2/"+s.r.GUN+"/_trust/tuf/targets.json", nil, "")
				if err := sn.Meta["targets"].Check(served.body); err != nil {
					s.t.Errorf("snapshot does not describe the served targets: %v", err)
				}
			},
		},
		{
			name: "ClientSnapshotHashMismatch",
			parts: func(s setup) []api.Part {
				_, _ = s.r.SignTargets(tuf.RoleTargets)
				_, _ = s.r.SignSnapshot()
				var buf bytes.Buffer
				_ = json.Indent(&buf, s.r.Files["targets"], "", " ")
				return []api.Part{{Role: "targets", Data: buf.Bytes()}, {Role: "snapshot", Data: s.r.Files["snapshot"]}}
			},
			want: &wantErr{name: api.ErrNameBadSnapshot, msg: "checksum mismatch"},
		},
		{
			name: "ClientSnapshotWrongKey",
			parts: func(s setup) []api.Part {
				s.r.SnapshotKey = mustKey(s.t)
				p, _ := s.r.Publish(tuf.RoleTargets)
				return p
			},
			want: &wantErr{name: api.ErrNameBadSnapshot, msg: "valid signatures did not meet threshold for snapshot"},
		},
		{
			name: "ClientSnapshotListsUnknownFile",
			parts: func(s setup) []api.Part {
				s.r.Files["targets/ghost"] = []byte("not stored anywhere")
				p, _ := s.r.Publish(tuf.RoleTargets)
				delete(s.r.Files, "targets/ghost")
				return p
			},
			want: &wantErr{name: api.ErrNameBadSnapshot, msg: "targets/ghost"},
		},
		{
			name: "ClientSnapshotMissingRelied",
			parts: func(s setup) []api.Part {
				_ = s.r.AddDelegation("targets/a", "")
				_, _ = s.r.SignTargets(tuf.RoleTargets)
				_, _ = s.r.SignTargets("targets/a")
				_, _ = s.r.SignSnapshot()
				return s.r.Parts(tuf.RoleTargets, "targets/a", tuf.RoleSnapshot)
			},
		},
		{
			name: "ServerDoesNotHoldSnapshotKey",
			parts: func(s setup) []api.Part {
				_, _ = s.r.SignTargets(tuf.RoleTargets)
				return s.r.Parts(tuf.RoleTargets)
			},
			want: &wantErr{name: api.ErrNameBadHierarchy, msg: "no snapshot was included in update and server does not hold current snapshot key for repository"},
		},
		{
			name: "ServerDoesNotHoldTimestampKey", serverSnapshot: true,
			parts: func(s setup) []api.Part {
				s.r.SetRoleKey(tuf.RoleTimestamp, mustKey(s.t).Public())
				_, _ = s.r.SignRoot()
				return s.r.Parts(tuf.RoleRoot)
			},
			want: &wantErr{name: api.ErrNameBadRoot, msg: "no  timestamp keys exist on the server"},
		},
		{
			name: "UploadedTimestampIgnored", serverSnapshot: true,
			parts: func(s setup) []api.Part {
				k := mustKey(s.t)
				ts := sign(s.t, &tuf.Timestamp{Type: "Timestamp", Version: 99, Expires: time.Now().Add(time.Hour),
					Meta: map[string]tuf.FileMeta{"snapshot": {Hashes: tuf.Hashes{"sha256": make([]byte, 32)}, Length: 1}}}, k)
				return []api.Part{{Role: "timestamp", Data: ts}}
			},
			check: func(s setup) {
				got := do(s.t, s.h, "GET", "/v2/"+s.r.GUN+"/_trust/tuf/timestamp.json", nil, "")
				ts, _, err := tuf.ParseTimestamp(got.body)
				if err != nil || ts.Version != 2 {
					s.t.Errorf("timestamp after an uploaded one: version %v (%v), want the server's version 2", ts, err)
				}
			},
		},
		{
			name: "RoleWithJSONSuffix", serverSnapshot: true,
			parts: func(s setup) []api.Part {
				_, _ = s.r.SignTargets(tuf.RoleTargets)
				return []api.Part{{Role: "targets.json", Data: s.r.Files["targets"]}}
			},
		},
	} {
		for _, b := range servertest.Backends() {
			t.Run(tc.name+"/"+b.Name, func(t *testing.T) {
				h := servertest.Start(t, b.Open(t), server.Options{})
				gun := "example.com/" + strings.ToLower(tc.name)
				var r *servertest.Repo
				if tc.fresh {
					c := h.Client(t, gun)
					ts, err := c.GetKey(context.Background(), "timestamp")
					if err != nil {
						t.Fatal(err)
					}
					var sn keys.PublicKey
					if tc.serverSnapshot {
						sn, _ = c.GetKey(context.Background(), "snapshot")
					}
					if r, err = servertest.NewRepo(gun, ts, sn); err != nil {
						t.Fatal(err)
					}
				} else {
					r = h.NewRepo(t, gun, tc.serverSnapshot)
				}
				s := setup{t, h, r}
				err := h.Client(t, gun).Publish(context.Background(), tc.parts(s))
				checkPublishErr(t, err, tc.want)
				if tc.check != nil {
					tc.check(s)
				}
			})
		}
	}
}

// multipartBody builds a raw update body with the given part headers.
func multipartBody(parts ...string) (body []byte, contentType string) {
	var b strings.Builder
	for _, p := range parts {
		b.WriteString("--BOUNDARY\r\n")
		b.WriteString(p)
	}
	b.WriteString("--BOUNDARY--\r\n")
	return []byte(b.String()), "multipart/form-data; boundary=BOUNDARY"
}

func filePart(disposition string, data string) string {
	return "Content-Disposition: " + disposition + "\r\nContent-Type: application/octet-stream\r\n\r\n" + data + "\r\n"
}

// TestUpdateBodyErrors checks the per-part errors of an upload (§5.2).
func TestUpdateBodyErrors(t *testing.T) {
	h := servertest.Start(t, servertest.Backends()[0].Open(t), server.Options{MaxUpdateSize: 4096, MaxPartSize: 3000})
	r := h.NewRepo(t, "gun", true)
	good := string(r.Files["targets"])
	for _, tc := range []struct {
		name        string
		body        []byte
		contentType string
		code        api.Code
		detail      string
	}{
		{name: "NotMultipart", body: []byte("{}"), contentType: "application/json", code: api.CodeMalformedUpload, detail: "-"},
		{name: "NoContentType", body: []byte("x"), code: api.CodeMalformedUpload, detail: "-"},
		{name: "BrokenMultipart", body: []byte("--BOUNDARY\r\nno end"), contentType: "multipart/form-data; boundary=BOUNDARY", code: api.CodeMalformedUpload, detail: "-"},
		{name: "NoFilename", code: api.CodeNoFilename, detail: "-",
			body: first(multipartBody(filePart(`form-data; name="files"`, good)))},
		{name: "EmptyFilename", code: api.CodeNoFilename, detail: "-",
			body: first(multipartBody(filePart(`form-data; name="files"; filename=""`, good)))},
		{name: "InvalidRole", code: api.CodeInvalidRole, detail: `"foo"`,
			body: first(multipartBody(filePart(`form-data; name="files"; filename="foo"`, good)))},
		{name: "UppercaseDelegation", code: api.CodeInvalidRole, detail: `"targets/Rel"`,
			body: first(multipartBody(filePart(`form-data; name="files"; filename="targets/Rel"`, good)))},
		{name: "MalformedJSON", code: api.CodeMalformedJSON, detail: "-",
			body: first(multipartBody(filePart(`form-data; name="files"; filename="targets"`, `{"signed":`)))},
		{name: "VersionNotInteger", code: api.CodeMalformedJSON, detail: "-",
			body: first(multipartBody(filePart(`form-data; name="files"; filename="targets"`, `{"signed":{"version":"1"},"signatures":[]}`)))},
		{name: "DuplicateRole", code: api.CodeMalformedUpload, detail: `"role targets sent twice"`,
			body: first(multipartBody(filePart(`form-data; name="files"; filename="targets"`, good), filePart(`form-data; name="files"; filename="targets.json"`, good)))},
		{name: "TooLarge", code: api.CodeMalformedUpload, detail: `"request body larger than 4096 bytes"`,
			body: first(multipartBody(filePart(`form-data; name="files"; filename="targets"`, strings.Repeat(" ", 2000)+good), filePart(`form-data; name="files"; filename="root"`, strings.Repeat(" ", 2000)+good)))},
		{name: "PartTooLarge", code: api.CodeMalformedUpload, detail: `"the targets part is larger than 3000 bytes"`,
			body: first(multipartBody(filePart(`form-data; name="files"; filename="targets"`, strings.Repeat(" ", 3500)+good)))},
		{name: "EmptySignatures", code: api.CodeInvalidUpdate, detail: `{"Name":"ErrBadTargets","Error":{"Msg":"targets metadata has no signatures"}}`,
			body: first(multipartBody(filePart(`form-data; name="files"; filename="targets"`, `{"signed":{"_type":"Targets","version":3,"expires":"2030-01-01T00:00:00Z","targets":{},"delegations":{"keys":{},"roles":[]}},"signatures":[]}`)))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ct := tc.contentType
			if ct == "" && tc.name != "NoContentType" {
				ct = "multipart/form-data; boundary=BOUNDARY"
			}
			got := do(t, h, "POST", "/v2/gun/_trust/tuf/", tc.body, ct)
			if got.status != tc.code.HTTPStatus() {
				t.Fatalf("status %d, want %d (%s)", got.status, tc.code.HTTPStatus(), got.body)
			}
			code, detail, has := errorOf(t, got)
			if code != tc.code {
				t.Errorf("code %s, want %s", code, tc.code)
			}
			if (tc.detail == "-") == has || (has && string(detail) != tc.detail) {
				t.Errorf("detail %s (present %v), want %s", detail, has, tc.detail)
			}
		})
	}
	// A body of only an end boundary is an empty update: nothing to store
	// but a new timestamp, which the server always makes.
	body, ct := multipartBody()
	if got := do(t, h, "POST", "/v2/gun/_trust/tuf/", body, ct); got.status != 200 {
		t.Errorf("empty update: %d %s", got.status, got.body)
	}
}

func first(b []byte, _ string) []byte { return b }

// TestValidationErrorBodySize checks that INVALID_UPDATE bodies stay
// readable by v1 clients, which read at most 1 KiB of an error body.
func TestValidationErrorBodySize(t *testing.T) {
	h := servertest.Start(t, servertest.Backends()[0].Open(t), server.Options{})
	r := h.NewRepo(t, "gun", true)
	// A delegation whose name makes the message long.
	long := "targets/" + strings.Repeat("a", 240)
	b := sign(t, &tuf.Targets{Type: "Targets", Version: 1, Expires: time.Now().Add(time.Hour), Targets: map[string]tuf.FileMeta{}}, mustKey(t))
	body, ct := multipartBody(filePart(fmt.Sprintf(`form-data; name="files"; filename=%q`, long), string(b)))
	got := do(t, h, "POST", "/v2/gun/_trust/tuf/", body, ct)
	if got.status != 400 || int64(len(got.body)) > api.MaxErrorSize {
		t.Errorf("status %d, body %d bytes (max %d): %s", got.status, len(got.body), api.MaxErrorSize, got.body)
	}
	_ = r
}
