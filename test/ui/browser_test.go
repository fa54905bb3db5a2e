// Package ui drives Debian's chromium, headless, against the web view of
// an in-process server holding collections with delegations, expired and
// expiring roles and hostile names (servertest.UIFixture): every page
// loads with its data, its links answer, the hostile names do not run,
// and a screenshot of each page is written as a test artifact (into
// $NOTARY_TEST_ARTIFACTS when set, else the test's temporary directory).
//
// It needs chromium on PATH (scripts/install-chromium.sh): without it the
// test skips, except with CI=true where it fails.
package ui

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/notary-go/notary/server"
	"github.com/notary-go/notary/server/servertest"
)

// chromium finds the browser, or skips (fails on CI).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "chromium is not installed: run scripts/install-chromium.sh to run the web view's browser test"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

func artifactDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("NOTARY_TEST_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	dir = filepath.Join(dir, "ui")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// browser runs headless chromium with args then url, with its own
// profile, and returns its standard output. The deadline only keeps a
// hung browser from hanging the test; nothing is timed.
func browser(t *testing.T, bin, profile string, args []string, u string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	all := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--no-first-run", "--disable-extensions", "--hide-scrollbars", "--user-data-dir=" + profile}, args...)
	cmd := exec.CommandContext(ctx, bin, append(all, u)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium %s %s: %v\n%s", strings.Join(args, " "), u, err, stderr.String())
	}
	return string(out)
}

var (
	titleRE = regexp.MustCompile(`(?s)<title>(.*?)</title>`)
	hrefRE  = regexp.MustCompile(`href="([^"]*)"`)
)

func TestBrowser(t *testing.T) {
	bin := chromium(t)
	h, _ := servertest.UIFixture(t, server.Options{})
	art := artifactDir(t)
	profile := t.TempDir()
	gunPath := func(g string) string { return server.UIPrefix + "gun/" + url.PathEscape(g) }
	hostileText := html.EscapeString(servertest.UIHostileTarget) // as the DOM serializes text

	for _, tc := range []struct {
		name, path string
		want       []string // in the dumped DOM
	}{
		{name: "index", path: "/ui/",
			want: []string{servertest.UIAppGUN, servertest.UISecretGUN, `href="` + gunPath(servertest.UIAppGUN) + `"`}},
		{name: "collection", path: gunPath(servertest.UIAppGUN),
			want: []string{strings.ReplaceAll(hostileText, "&#39;", "'"), servertest.UIAppGUN + "@sha256:", servertest.UIReleaseTarget,
				"targets/releases", servertest.UIExpiredRole, `class="badge expired"`, `class="badge soon"`, `class="badge fine"`}},
		{name: "hostile-gun", path: gunPath(servertest.UIHostileGUN),
			want: []string{"registry.example.com/&lt;script&gt;"}},
		{name: "target-search", path: gunPath(servertest.UIAppGUN) + "?t=release",
			want: []string{servertest.UIReleaseTarget, "1 target matching"}},
		{name: "search-gun", path: "/ui/?q=team",
			want: []string{servertest.UIAppGUN}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := h.HTTP.URL + tc.path
			dom := browser(t, bin, profile, []string{"--dump-dom"}, u)
			m := titleRE.FindStringSubmatch(dom)
			if m == nil {
				t.Fatalf("no <title> in the DOM:\n%s", dom)
			}
			// The hostile names set document.title to "pwned" if they run;
			// a page's own title ends in " · notary" (and may hold a
			// hostile GUN as text).
			if title := html.UnescapeString(strings.TrimSpace(m[1])); title == "pwned" || !strings.HasSuffix(title, " · notary") {
				t.Fatalf("a hostile name ran: the title is %q", title)
			}
			if strings.Contains(strings.ToLower(dom), "<script") {
				t.Errorf("the DOM has a script element:\n%s", dom)
			}
			for _, w := range tc.want {
				if !strings.Contains(dom, w) {
					t.Errorf("DOM lacks %q:\n%s", w, dom)
				}
			}
			// Every link and the stylesheet answer 200.
			for _, hm := range hrefRE.FindAllStringSubmatch(dom, -1) {
				ref, err := url.Parse(html.UnescapeString(hm[1]))
				if err != nil {
					t.Errorf("bad link %q: %v", hm[1], err)
					continue
				}
				resp, err := h.HTTP.Client().Get(h.HTTP.URL + ref.RequestURI())
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Errorf("link %s: status %d", ref, resp.StatusCode)
				}
			}
			for _, size := range []struct{ name, wh string }{{"desktop", "1280,1000"}, {"phone", "412,915"}} {
				file := filepath.Join(art, fmt.Sprintf("%s-%s.png", tc.name, size.name))
				browser(t, bin, profile, []string{"--screenshot=" + file, "--window-size=" + size.wh}, u)
				st, err := os.Stat(file)
				if err != nil || st.Size() == 0 {
					t.Fatalf("screenshot %s not written: %v", file, err)
				}
				t.Logf("screenshot: %s", file)
			}
		})
	}
}
