package auth

import (
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// Defaults of the failed-login limiter of BasicAuth.
const (
	// DefaultFailureBurst is how many failed logins a client may make in
	// a row before it is slowed down: room for a few commands with a
	// wrong password (the Docker CLI makes several requests per command).
	DefaultFailureBurst = 30
	// DefaultFailureInterval is how often a client earns one more failed
	// attempt after its burst is spent (30 a minute).
	DefaultFailureInterval = 2 * time.Second
	// maxFailureClients bounds the clients the limiter remembers; beyond
	// it, clients it cannot place share one bucket (see take).
	maxFailureClients = 10000
)

// failureLimiter is a token bucket per client for failed logins: each
// bcrypt check reserves a token, a success gives it back. With no token
// left the request is refused before any bcrypt work, so a client cannot
// make the server hash passwords without limit (issue 10). Memory is
// bounded by maxFailureClients buckets.
type failureLimiter struct {
	burst    float64
	interval time.Duration
	now      func() time.Time
	max      int

	mu       sync.Mutex
	m        map[string]*bucket
	overflow bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newFailureLimiter(burst int, interval time.Duration, now func() time.Time) *failureLimiter {
	if burst <= 0 {
		burst = DefaultFailureBurst
	}
	if interval <= 0 {
		interval = DefaultFailureInterval
	}
	if now == nil {
		now = time.Now
	}
	return &failureLimiter{burst: float64(burst), interval: interval, now: now, max: maxFailureClients, m: map[string]*bucket{}}
}

func (l *failureLimiter) refill(b *bucket, now time.Time) {
	if b.last.IsZero() {
		b.tokens, b.last = l.burst, now
		return
	}
	if d := now.Sub(b.last); d > 0 {
		b.tokens = min(l.burst, b.tokens+float64(d)/float64(l.interval))
		b.last = now
	}
}

// bucketOf returns client's bucket, with mu held. A new client when the
// map is full first frees buckets that have refilled (they hold nothing a
// fresh bucket would not); if none has, it shares the overflow bucket, so
// an attacker spreading over many addresses is limited as one client.
func (l *failureLimiter) bucketOf(client string, now time.Time) *bucket {
	if b, ok := l.m[client]; ok {
		return b
	}
	if len(l.m) >= l.max {
		for k, b := range l.m {
			if l.refill(b, now); b.tokens >= l.burst {
				delete(l.m, k)
			}
		}
	}
	if len(l.m) >= l.max {
		return &l.overflow
	}
	b := &bucket{}
	l.m[client] = b
	return b
}

// take reserves one failed attempt for client; false means none is left.
func (l *failureLimiter) take(client string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b := l.bucketOf(client, now)
	l.refill(b, now)
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// refund gives back the token of an attempt that succeeded.
func (l *failureLimiter) refund(client string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucketOf(client, l.now())
	b.tokens = min(l.burst, b.tokens+1)
}

// clientKey names the client of r for the limiter: its IP address (not
// the port), IPv6 addresses by their /64, the block one host is usually
// given. Forwarded headers are not trusted: they are the client's to set.
func clientKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}
