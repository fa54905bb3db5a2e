package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/notary-go/notary/internal/testpki"
	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/keystore"
	"github.com/notary-go/notary/signer"
	"github.com/notary-go/notary/tuf"
)

// metaBody is the canonical "signed" body of role (timestamp or
// snapshot), as a notary-server asks the signer to sign.
func metaBody(t *testing.T, role string, version int64) []byte {
	t.Helper()
	fm := tuf.FileMeta{Hashes: tuf.Hashes{"sha256": make([]byte, 32)}, Length: 1}
	expires := time.Now().Add(tuf.DefaultTTL(role)).UTC().Truncate(time.Second)
	var body any
	switch role {
	case tuf.RoleTimestamp:
		body = &tuf.Timestamp{Type: tuf.TypeOf(role), Version: version, Expires: expires, Meta: map[string]tuf.FileMeta{tuf.RoleSnapshot: fm}}
	case tuf.RoleSnapshot:
		body = &tuf.Snapshot{Type: tuf.TypeOf(role), Version: version, Expires: expires, Meta: map[string]tuf.FileMeta{tuf.RoleRoot: fm, tuf.RoleTargets: fm}}
	default:
		t.Fatalf("metaBody: role %s", role)
	}
	b, err := tuf.CanonicalSigned(body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func remoteCode(err error) codes.Code {
	var re *signer.RemoteError
	switch {
	case err == nil:
		return codes.OK
	case errors.As(err, &re):
		return re.Code
	case errors.Is(err, keystore.ErrNotFound):
		return codes.NotFound
	}
	return codes.Unknown
}

// TestAuthorizationConfig (issue 18 item 2): two tenants' notary-servers
// with certificates from the same client CA share one signer configured
// with an "authorization" section; each uses its own GUNs' keys and is
// refused the other's. Without the section the signer warns loudly.
func TestAuthorizationConfig(t *testing.T) {
	p := newTestPKI(t)
	certA, keyA := p.ca.Issue(t, "server-a", testpki.Options{ClientAuth: true}).Files()
	certB, keyB := p.ca.Issue(t, "server-b", testpki.Options{ClientAuth: true}).Files()
	cfg := p.baseConfig(map[string]any{"backend": "memory"})
	cfg["authorization"] = map[string]any{"clients": []any{
		map[string]any{"name": "server-a", "gun_prefixes": []any{"registry.example.com/a/"}, "operations": []any{"create", "info", "sign"}},
		map[string]any{"name": "server-b", "gun_prefixes": []any{"registry.example.com/b/"}, "operations": []any{"create", "info", "sign"}},
	}}
	cfg["signing"] = map[string]any{"max_timestamp_expiry": "720h"}
	rs := startSigner(t, writeConfig(t, p.dir, cfg), nil)
	a := dialClient(t, rs.addr, p.clientTLS(t, certA, keyA))
	b := dialClient(t, rs.addr, p.clientTLS(t, certB, keyB))
	ctx := context.Background()

	pubA, err := a.CreateKey(ctx, tuf.RoleTimestamp, "registry.example.com/a/app", keys.ECDSA)
	if err != nil {
		t.Fatal(err)
	}
	body := metaBody(t, tuf.RoleTimestamp, 2)
	if _, err := a.Sign(ctx, pubA.ID(), body); err != nil {
		t.Fatalf("tenant A signing with its key: %v", err)
	}
	if _, err := b.Sign(ctx, pubA.ID(), body); remoteCode(err) != codes.PermissionDenied {
		t.Errorf("tenant B signing with A's key: %v, want PermissionDenied", err)
	}
	if _, err := b.GetKeyInfo(ctx, pubA.ID()); remoteCode(err) != codes.PermissionDenied {
		t.Errorf("tenant B reading A's key: %v, want PermissionDenied", err)
	}
	if _, err := b.CreateKey(ctx, tuf.RoleTimestamp, "registry.example.com/a/app", keys.ECDSA); remoteCode(err) != codes.PermissionDenied {
		t.Errorf("tenant B creating a key for A's GUN: %v, want PermissionDenied", err)
	}
	if err := a.DeleteKey(ctx, pubA.ID()); remoteCode(err) != codes.PermissionDenied {
		t.Errorf("tenant A deleting without the delete operation: %v, want PermissionDenied", err)
	}
	// The configured expiry bound applies: v0.7.0's 14 days pass, 60 do not.
	long := metaBodyTTL(t, 3, 60*24*time.Hour)
	if _, err := a.Sign(ctx, pubA.ID(), long); remoteCode(err) != codes.InvalidArgument {
		t.Errorf("a timestamp expiring in 60 days with max 720h: %v, want InvalidArgument", err)
	}
	if strings.Contains(rs.logs.String(), "NO AUTHORIZATION POLICY") {
		t.Error("warned of no policy with one configured")
	}

	open := startSigner(t, writeConfig(t, p.dir, p.baseConfig(map[string]any{"backend": "memory"})), nil)
	if !strings.Contains(open.logs.String(), "NO AUTHORIZATION POLICY") {
		t.Errorf("no warning without a policy:\n%s", open.logs)
	}
}

func metaBodyTTL(t *testing.T, version int64, ttl time.Duration) []byte {
	t.Helper()
	b, err := tuf.CanonicalSigned(&tuf.Timestamp{Type: tuf.TypeOf(tuf.RoleTimestamp), Version: version,
		Expires: time.Now().Add(ttl).UTC().Truncate(time.Second),
		Meta:    map[string]tuf.FileMeta{tuf.RoleSnapshot: {Hashes: tuf.Hashes{"sha256": make([]byte, 32)}, Length: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseAuthz(t *testing.T) {
	client := func(extra map[string]any) map[string]any {
		m := map[string]any{"name": "x", "gun_prefixes": []any{""}, "operations": []any{"sign"}}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name    string
		cfg     map[string]any
		wantErr string
		policy  bool
	}{
		{name: "none", cfg: map[string]any{}},
		{name: "one client", cfg: map[string]any{"authorization": map[string]any{"clients": []any{client(nil)}}}, policy: true},
		{name: "unknown operation", cfg: map[string]any{"authorization": map[string]any{"clients": []any{client(map[string]any{"operations": []any{"admin"}})}}}, wantErr: "unknown operation"},
		{name: "unknown key", cfg: map[string]any{"authorization": map[string]any{"clients": []any{client(map[string]any{"gun": "x"})}}}, wantErr: "not a known key"},
		{name: "clients not a list", cfg: map[string]any{"authorization": map[string]any{"clients": "x"}}, wantErr: "must be a list"},
		{name: "no prefixes", cfg: map[string]any{"authorization": map[string]any{"clients": []any{client(map[string]any{"gun_prefixes": []any{}})}}}, wantErr: "no GUN prefixes"},
		{name: "bad expiry", cfg: map[string]any{"signing": map[string]any{"max_snapshot_expiry": "-1h"}}, wantErr: "must be positive"},
		{name: "bad jump", cfg: map[string]any{"signing": map[string]any{"max_version_jump": -1}}, wantErr: "must not be negative"},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc, err := loadRawConfig(writeConfig(t, dir, tt.cfg), mapLookup(nil))
			if err != nil {
				t.Fatal(err)
			}
			ac, err := parseAuthz(rc)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (ac.policy != nil) != tt.policy {
				t.Errorf("policy = %v, want set=%v", ac.policy, tt.policy)
			}
		})
	}
}
