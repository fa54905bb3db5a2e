package gun_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/notary-go/notary/gun"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		gun        string
		server     bool // gun.Check
		asPath     bool // gun.CheckPath
		wantReason string
	}{
		{gun: "docker.io/library/alpine", server: true, asPath: true},
		{gun: "localhost:5000/app", server: true, asPath: true},
		{gun: "example.com/émile", server: true, asPath: true},
		{gun: strings.Repeat("g", gun.MaxLen), server: true, asPath: true},
		{gun: "", wantReason: "is empty"},
		{gun: strings.Repeat("g", gun.MaxLen+1), wantReason: "is longer than 255 bytes"},
		{gun: "a\xffb", wantReason: "is not valid UTF-8"},
		{gun: "a*b", wantReason: `contains "*"`},
		{gun: "a..b", wantReason: `contains ".."`},
		{gun: "a/../b", wantReason: `contains ".."`},
		{gun: "a\x00b", wantReason: "contains a control character"},
		{gun: "a\u0085b", wantReason: "contains a control character"},
		// a server accepts these; a path below a trust directory may not be
		{gun: "/etc/app", server: true, wantReason: "is an absolute path"},
		{gun: `a\b`, server: true, wantReason: `contains "\"`},
		{gun: "c:/app", server: true, wantReason: "looks like a Windows drive path"},
		{gun: "a//b", server: true, wantReason: "has an empty path segment"},
		{gun: "a/", server: true, wantReason: "has an empty path segment"},
		{gun: "a/./b", server: true, wantReason: `has a "." path segment`},
	}
	for _, tc := range tests {
		t.Run(tc.gun, func(t *testing.T) {
			if err := gun.Check(tc.gun); (err == nil) != tc.server {
				t.Errorf("Check = %v, want ok=%v", err, tc.server)
			}
			err := gun.CheckPath(tc.gun)
			if (err == nil) != tc.asPath {
				t.Fatalf("CheckPath = %v, want ok=%v", err, tc.asPath)
			}
			if err == nil {
				return
			}
			var e *gun.Error
			if !errors.As(err, &e) || !errors.Is(err, gun.ErrInvalid) {
				t.Fatalf("CheckPath error %v (%T) is not a *gun.Error wrapping ErrInvalid", err, err)
			}
			if !strings.HasPrefix(e.Reason, tc.wantReason) {
				t.Errorf("reason %q, want %q", e.Reason, tc.wantReason)
			}
		})
	}
}

func TestPrefixes(t *testing.T) {
	for _, bad := range []string{"a", "/a/", "a//", "../a/", "a/../b/", " a/", "a/./"} {
		if _, err := gun.ParsePrefixes([]string{"ok/", bad}); err == nil {
			t.Errorf("ParsePrefixes accepted %q", bad)
		}
	}
	p, err := gun.ParsePrefixes([]string{"docker.io/", "example.com/team/"})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{
		"docker.io/library/alpine": true,
		"example.com/team/app":     true,
		"example.com/other":        false,
		"docker.iox/app":           false,
	} {
		if got := p.Allows(name); got != want {
			t.Errorf("Allows(%q) = %v, want %v", name, got, want)
		}
	}
	if !(gun.Prefixes{}).Allows("anything") {
		t.Error("no prefixes must allow every GUN")
	}
	if got, want := p.RefusalDetail(), "Require GUNs with prefix: [docker.io/ example.com/team/]"; got != want {
		t.Errorf("RefusalDetail = %q, want v0.7.0's %q", got, want)
	}
}

func TestCheckPathTrustDirFolders(t *testing.T) {
	for g, ok := range map[string]bool{
		"metadata/app":             true, // the first segment is a host, never a folder of a collection
		"example.com/metadata":     false,
		"example.com/x/Changelist": false,
		"example.com/metadatax":    true,
	} {
		if err := gun.CheckPath(g); (err == nil) != ok {
			t.Errorf("CheckPath(%q) = %v, want ok=%v", g, err, ok)
		}
		if err := gun.Check(g); err != nil {
			t.Errorf("Check(%q) = %v: a server accepts it", g, err)
		}
	}
}
