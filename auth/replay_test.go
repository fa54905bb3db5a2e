package auth

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"testing"
	"time"
)

// exchange is one record of test/interop/testdata/http-exchanges.jsonl.gz
// (tools/cmd/httplog's format).
type exchange struct {
	Seq        int         `json:"seq"`
	Time       time.Time   `json:"time"`
	Mark       string      `json:"mark"`
	Method     string      `json:"method"`
	URI        string      `json:"uri"`
	ReqHeaders http.Header `json:"req_headers"`
	Status     int         `json:"status"`
	RespHdr    http.Header `json:"resp_headers"`
	RespBody   []byte      `json:"resp_body"`
}

const exchangesFile = "../test/interop/testdata/http-exchanges.jsonl.gz"

// tokenAuthExchanges returns the exchanges of the "Token auth" sections:
// v0.7.0 notary-server with auth.type token, driven by curl and by the
// v0.7.0 CLI with tokens minted by tools/cmd/tokenserver.
func tokenAuthExchanges(t *testing.T) []exchange {
	t.Helper()
	f, err := os.Open(exchangesFile)
	if err != nil {
		t.Fatalf("golden data missing (scripts/gen-goldens.sh makes it): no upstream recording: %v", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	var out []exchange
	in := false
	for sc.Scan() {
		var e exchange
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		if e.Mark != "" {
			in = strings.HasPrefix(e.Mark, "Token auth")
			continue
		}
		if in && !strings.HasPrefix(e.URI, "[token server]") {
			out = append(out, e)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatal("no token auth exchanges in the recording")
	}
	return out
}

// TestUpstreamTokenAuthReplay replays every request of the recorded
// token-auth sessions against the middleware, at the time it was made and
// with the token-signing CA of that session as root bundle, and checks
// that every request v0.7.0 refused is refused with the same status,
// challenge (scope compared as a set) and body, and that every request it
// let through passes.
func TestUpstreamTokenAuthReplay(t *testing.T) {
	exs := tokenAuthExchanges(t)
	var roots []*x509.Certificate
	var realm, service string
	for _, e := range exs {
		if h := e.RespHdr.Get("Www-Authenticate"); h != "" && realm == "" {
			p := parseChallenge(t, h)
			realm, service = p["realm"], p["service"]
		}
		if _, tok, ok := strings.Cut(e.ReqHeaders.Get("Authorization"), "Bearer "); ok && roots == nil && strings.Count(tok, ".") == 2 {
			hb, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
			if err != nil {
				continue
			}
			var h struct{ X5c []string }
			if json.Unmarshal(hb, &h) != nil || len(h.X5c) == 0 {
				continue
			}
			der, _ := base64.StdEncoding.DecodeString(h.X5c[len(h.X5c)-1])
			c, err := x509.ParseCertificate(der)
			if err != nil {
				t.Fatal(err)
			}
			roots = append(roots, c)
		}
	}
	if realm == "" || roots == nil {
		t.Fatal("recording has no challenge or no token")
	}
	var now time.Time
	a, err := NewTokenAuth(TokenOptions{Realm: realm, Service: service, Issuer: "auth.example.com", Roots: roots, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	h := Middleware(a, MiddlewareOptions{Logger: quiet})(reached)
	refused, passed := 0, 0
	for _, e := range exs {
		t.Run(strings.ReplaceAll(e.Method+" "+e.URI, "/", "_"), func(t *testing.T) {
			now = e.Time
			req := httptest.NewRequest(e.Method, e.URI, nil)
			for k, vs := range e.ReqHeaders {
				for _, v := range vs {
					req.Header.Add(k, v)
				}
			}
			rec := serve(h, req)
			if e.Status != http.StatusUnauthorized {
				passed++
				if rec.Code != 299 {
					t.Fatalf("v0.7.0 answered %d (auth passed); we answered %d %s", e.Status, rec.Code, rec.Body)
				}
				return
			}
			refused++
			if rec.Code != http.StatusUnauthorized {
				t.Fatalf("v0.7.0 answered 401; we answered %d", rec.Code)
			}
			want, got := parseChallenge(t, e.RespHdr.Get("Www-Authenticate")), parseChallenge(t, rec.Header().Get("Www-Authenticate"))
			if !sameChallenge(want, got) {
				t.Errorf("challenge = %q\nv0.7.0:     %q", rec.Header().Get("Www-Authenticate"), e.RespHdr.Get("Www-Authenticate"))
			}
			if !bytes.Equal(rec.Body.Bytes(), e.RespBody) {
				t.Errorf("body = %s\nv0.7.0: %s", rec.Body, e.RespBody)
			}
			if got, want := rec.Header().Get("Content-Type"), e.RespHdr.Get("Content-Type"); got != want {
				t.Errorf("Content-Type = %q, v0.7.0 %q", got, want)
			}
		})
	}
	t.Logf("replayed %d refused and %d authorized upstream requests", refused, passed)
	if refused == 0 || passed == 0 {
		t.Error("the recording should hold both refused and authorized requests")
	}
}

// parseChallenge parses `Bearer k="v",k="v"` (values without commas or
// escaped quotes, as in the recording) into a map; "scheme" holds the
// scheme.
func parseChallenge(t *testing.T, h string) map[string]string {
	t.Helper()
	scheme, rest, _ := strings.Cut(h, " ")
	out := map[string]string{"scheme": scheme}
	for rest != "" {
		k, r, ok := strings.Cut(rest, `="`)
		if !ok {
			t.Fatalf("bad challenge %q", h)
		}
		v, r2, ok := strings.Cut(r, `"`)
		if !ok {
			t.Fatalf("bad challenge %q", h)
		}
		out[k] = v
		rest = strings.TrimPrefix(r2, ",")
	}
	return out
}

// sameChallenge compares two parsed challenges, the scope's resources and
// actions as sets (v0.7.0 orders them randomly).
func sameChallenge(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if k == "scope" {
			if normScope(v) != normScope(b[k]) {
				return false
			}
		} else if b[k] != v {
			return false
		}
	}
	return true
}

func normScope(s string) string {
	var res []string
	for _, one := range strings.Fields(s) {
		i := strings.LastIndexByte(one, ':')
		acts := strings.Split(one[i+1:], ",")
		sort.Strings(acts)
		res = append(res, one[:i+1]+strings.Join(acts, ","))
	}
	sort.Strings(res)
	return strings.Join(res, " ")
}
