package signer

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/notary-go/notary/internal/testpki"
	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/keystore"
	"github.com/notary-go/notary/tuf"
)

// code is the gRPC code of a Client error (NotFound is a keystore error).
func code(err error) codes.Code {
	var re *RemoteError
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

// TestTwoTenants (issue 18 item 2): two tenants' certificates from the
// same client CA, each granted its own GUN prefix, cannot read, use,
// delete or create each other's keys; the notary-server's certificate,
// granted every GUN, can do what a server does; a certificate the policy
// does not name can do nothing.
func TestTwoTenants(t *testing.T) {
	policy := &Policy{Grants: []Grant{
		{Client: "tenant-a", GUNPrefixes: []string{"example.com/a/"}, Operations: AllOps},
		// SAN match: tenant B is named by its DNS name, not its CN.
		{Client: "b.tenants.example", GUNPrefixes: []string{"example.com/b/"}, Operations: AllOps},
		{Client: "notary-server", GUNPrefixes: []string{""}, Operations: []string{OpCreate, OpInfo, OpSign}},
	}}
	if err := policy.Validate(); err != nil {
		t.Fatal(err)
	}
	s := startSignerWith(t, Options{Policy: policy})
	issue := func(cn string, o testpki.Options) tlsCertPair {
		cert, key := s.ca.Issue(t, cn, o).Files()
		return tlsCertPair{certFile: cert, keyFile: key, caFile: s.client.caFile}
	}
	a := s.dialAs(t, issue("tenant-a", clientCert), ClientOptions{})
	b := s.dialAs(t, issue("tenant-b-cn", testpki.Options{ClientAuth: true, DNS: []string{"b.tenants.example"}}), ClientOptions{})
	srv := s.dial(t, ClientOptions{}) // CN notary-server
	stranger := s.dialAs(t, issue("stranger", clientCert), ClientOptions{})
	ctx := ctxT(t)

	keyA, err := a.CreateKey(ctx, tuf.RoleTimestamp, "example.com/a/app", keys.ECDSA)
	if err != nil {
		t.Fatal(err)
	}
	keyB, err := b.CreateKey(ctx, tuf.RoleTimestamp, "example.com/b/app", keys.ECDSA)
	if err != nil {
		t.Fatal(err)
	}
	body := tsBody(t)

	type call func(c *Client) error
	info := func(id string) call { return func(c *Client) error { _, err := c.GetKeyInfo(ctx, id); return err } }
	sign := func(id string) call { return func(c *Client) error { _, err := c.Sign(ctx, id, body); return err } }
	create := func(gun string) call {
		return func(c *Client) error { _, err := c.CreateKey(ctx, tuf.RoleSnapshot, gun, keys.ECDSA); return err }
	}
	del := func(id string) call { return func(c *Client) error { return c.DeleteKey(ctx, id) } }
	tests := []struct {
		name   string
		client *Client
		call   call
		want   codes.Code
	}{
		{"B reads A's key", b, info(keyA.ID()), codes.PermissionDenied},
		{"B signs with A's key", b, sign(keyA.ID()), codes.PermissionDenied},
		{"B creates a key in A's GUN", b, create("example.com/a/app"), codes.PermissionDenied},
		{"B deletes A's key", b, del(keyA.ID()), codes.PermissionDenied},
		{"A reads B's key", a, info(keyB.ID()), codes.PermissionDenied},
		{"A signs with B's key", a, sign(keyB.ID()), codes.PermissionDenied},
		{"A creates outside its prefix", a, create("example.com/ab"), codes.PermissionDenied},
		{"stranger reads", stranger, info(keyA.ID()), codes.PermissionDenied},
		{"stranger probes an unknown key", stranger, info(testKeyID), codes.PermissionDenied},
		{"stranger creates", stranger, create("example.com/c/app"), codes.PermissionDenied},
		{"A reads its key", a, info(keyA.ID()), codes.OK},
		{"A signs with its key", a, sign(keyA.ID()), codes.OK},
		{"B signs with its key", b, sign(keyB.ID()), codes.OK},
		{"server reads A's key", srv, info(keyA.ID()), codes.OK},
		{"server signs with B's key", srv, sign(keyB.ID()), codes.OK},
		{"server creates anywhere", srv, create("example.com/c/app"), codes.OK},
		{"server may not delete", srv, del(keyB.ID()), codes.PermissionDenied},
		{"server probes an unknown key", srv, info(testKeyID), codes.NotFound},
		{"A deletes its key", a, del(keyA.ID()), codes.OK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := code(tt.call(tt.client)); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

const testKeyID = "1111111111111111111111111111111111111111111111111111111111111111"

// TestSignOnlyMetadata (issue 18 item 2): Sign accepts only the canonical
// body of the key's own role with a sane version and expiry; the signer
// makes no root or targets keys.
func TestSignOnlyMetadata(t *testing.T) {
	now := time.Now()
	s := startSignerWith(t, Options{Now: func() time.Time { return now }})
	c := s.dial(t, ClientOptions{})
	ctx := ctxT(t)
	ts, err := c.CreateKey(ctx, tuf.RoleTimestamp, "example.com/app", keys.ECDSA)
	if err != nil {
		t.Fatal(err)
	}
	sn, err := c.CreateKey(ctx, tuf.RoleSnapshot, "example.com/app", keys.ECDSA)
	if err != nil {
		t.Fatal(err)
	}
	day := 24 * time.Hour
	good := testBody(t, tuf.RoleTimestamp, 5, 14*day, 0)
	if _, err := c.Sign(ctx, ts.ID(), good); err != nil {
		t.Fatalf("a v0.7.0-style timestamp: %v", err)
	}
	if _, err := c.Sign(ctx, sn.ID(), testBody(t, tuf.RoleSnapshot, 3, 3*365*day, 0)); err != nil {
		t.Fatalf("a v0.7.0-style snapshot: %v", err)
	}
	tests := []struct {
		name string
		key  keys.PublicKey
		msg  []byte
	}{
		{"arbitrary bytes", ts, []byte("any bytes at all")},
		{"not canonical", ts, append([]byte(" "), good...)},
		{"non-canonical whitespace inside", ts, bytes.Replace(good, []byte(`":`), []byte(`": `), 1)},
		{"snapshot body for a timestamp key", ts, testBody(t, tuf.RoleSnapshot, 6, day, 0)},
		{"timestamp body for a snapshot key", sn, testBody(t, tuf.RoleTimestamp, 4, day, 0)},
		{"expires in 2099 (freeze)", ts, testBody(t, tuf.RoleTimestamp, 6, 73*365*day, 0)},
		{"timestamp for more than a year", ts, testBody(t, tuf.RoleTimestamp, 6, 400*day, 0)},
		{"snapshot for more than 10 years", sn, testBody(t, tuf.RoleSnapshot, 4, 11*365*day, 0)},
		{"already expired", ts, testBody(t, tuf.RoleTimestamp, 6, -time.Hour, 0)},
		{"version 999999 (lockout)", ts, testBody(t, tuf.RoleTimestamp, 999999, 14*day, 0)},
		{"version beyond 2^31-1", sn, testBody(t, tuf.RoleSnapshot, 1<<31, day, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := c.Sign(ctx, tt.key.ID(), tt.msg); code(err) != codes.InvalidArgument {
				t.Errorf("Sign = %v, want InvalidArgument", err)
			}
		})
	}
	for _, role := range []string{tuf.RoleRoot, tuf.RoleTargets, "targets/releases", ""} {
		if _, err := c.CreateKey(ctx, role, "example.com/app", keys.ECDSA); code(err) != codes.InvalidArgument {
			t.Errorf("CreateKey(%q) = %v, want InvalidArgument", role, err)
		}
	}
	// Counting up, as servers do, keeps working.
	for v := int64(6); v < 10; v++ {
		if _, err := c.Sign(ctx, ts.ID(), testBody(t, tuf.RoleTimestamp, v, 14*day, 0)); err != nil {
			t.Fatalf("version %d: %v", v, err)
		}
	}
}

func TestPolicyValidate(t *testing.T) {
	tests := []struct {
		name string
		p    *Policy
		ok   bool
	}{
		{"nil allows all", nil, true},
		{"good", &Policy{Grants: []Grant{{Client: "x", GUNPrefixes: []string{""}, Operations: []string{OpSign}}}}, true},
		{"no client", &Policy{Grants: []Grant{{GUNPrefixes: []string{""}, Operations: []string{OpSign}}}}, false},
		{"no prefixes", &Policy{Grants: []Grant{{Client: "x", Operations: []string{OpSign}}}}, false},
		{"unknown operation", &Policy{Grants: []Grant{{Client: "x", GUNPrefixes: []string{""}, Operations: []string{"admin"}}}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.p.Validate(); (err == nil) != tt.ok {
				t.Errorf("Validate = %v, want ok=%v", err, tt.ok)
			}
		})
	}
	var none *Policy
	if !none.Allows(nil, OpDelete, "any") {
		t.Error("a nil policy refused")
	}

}
