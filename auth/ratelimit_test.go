package auth

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/notary-go/notary/auth/htpasswd"
)

type stepClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *stepClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *stepClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// TestBasicAuthFailureLimit: failed logins are limited per client address
// (issue 10: one bcrypt per failed request, without limit). Past the
// burst a client is refused with ErrTooManyFailures before any password
// check, even with the right password; other clients are not affected;
// time gives attempts back; successes cost nothing.
func TestBasicAuthFailureLimit(t *testing.T) {
	alice, err := htpasswd.Line("alice", "wonderland", 4)
	if err != nil {
		t.Fatal(err)
	}
	users, err := htpasswd.Parse(strings.NewReader(alice + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	clock := &stepClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	a, err := NewBasicAuth(BasicOptions{Realm: "notary", Users: users, FailureBurst: 3, FailureInterval: time.Minute, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	try := func(remote, pass string) error {
		req := httptest.NewRequest("POST", "/v2/example.com/app/_trust/tuf/", nil)
		req.RemoteAddr = remote
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("alice:"+pass)))
		_, err := a.Authorize(req, nil)
		return err
	}
	const attacker, other = "198.51.100.7:4000", "203.0.113.9:5000"
	for i := range 5 { // successes do not count
		if err := try(attacker, "wonderland"); err != nil {
			t.Fatalf("login %d: %v", i, err)
		}
	}
	for i := range 3 {
		if err := try(fmt.Sprintf("198.51.100.7:%d", 4000+i), "wrong"); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("failure %d = %v, want ErrInvalidCredentials", i, err)
		}
	}
	for _, pass := range []string{"wrong", "wonderland"} {
		if err := try(attacker, pass); !errors.Is(err, ErrTooManyFailures) {
			t.Errorf("past the burst, password %q: %v, want ErrTooManyFailures", pass, err)
		}
	}
	if err := try(other, "wonderland"); err != nil {
		t.Errorf("another client: %v", err)
	}
	clock.Advance(time.Minute)
	if err := try(attacker, "wonderland"); err != nil {
		t.Errorf("after one interval: %v", err)
	}
	// IPv6: one /64 is one client.
	for i := range 3 {
		_ = try(fmt.Sprintf("[2001:db8:1:2::%x]:443", i+1), "wrong")
	}
	if err := try("[2001:db8:1:2::ffff]:443", "wonderland"); !errors.Is(err, ErrTooManyFailures) {
		t.Errorf("another address of the same /64: %v, want ErrTooManyFailures", err)
	}
}

// TestFailureLimiterBounded: however many addresses fail, the limiter
// keeps at most its maximum of buckets; clients it cannot place share one.
func TestFailureLimiterBounded(t *testing.T) {
	clock := &stepClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := newFailureLimiter(2, time.Hour, clock.Now)
	l.max = 100
	for i := range 1000 {
		l.take(fmt.Sprintf("10.0.%d.%d", i/256, i%256))
	}
	if len(l.m) > l.max {
		t.Fatalf("limiter holds %d clients, max %d", len(l.m), l.max)
	}
	// The overflow bucket is spent: a new address is refused.
	if l.take("192.0.2.200") {
		t.Errorf("a new client past the maximum got a token from a spent overflow bucket")
	}
	// Once buckets refill they are freed for new clients.
	clock.Advance(2 * time.Hour)
	if !l.take("192.0.2.201") {
		t.Errorf("after refilling, a new client was refused")
	}
	if len(l.m) > l.max {
		t.Errorf("limiter holds %d clients, max %d", len(l.m), l.max)
	}
}
