package tuf

import (
	"strings"
	"testing"
)

// TestIsDelegationName: v1 §1.8, cases from v1's TestIsDelegation.
func TestIsDelegationName(t *testing.T) {
	tests := map[string]bool{
		"targets/level1":                      true,
		"targets/level1/level2/level3":        true,
		"targets/under_score":                 true,
		"targets/hyphen-hyphen":               true,
		"targets/" + strings.Repeat("x", 247): true,  // 255 bytes
		"targets/" + strings.Repeat("x", 248): false, // 256 bytes
		"":                                    false,
		"root":                                false,
		"root/level1":                         false,
		"targets":                             false,
		"targets/":                            false,
		"targets/level1/":                     false,
		"targets/UpperCase":                   false,
		"targets/directory/../../traversal":   false,
		"targets///test/middle/slashes":       false,
		"targets/./././":                      false,
		"  /targets/level1":                   false,
		"  targets/level1":                    false,
		"targets/level1  ":                    false,
		"targets/white   spacelevel2":         false,
		"targets/*":                           false,
		"targets/é":                           false,
		"targets/a.b":                         false,
	}
	for name, want := range tests {
		t.Run(name, func(t *testing.T) {
			if got := IsDelegationName(name); got != want {
				t.Fatalf("IsDelegationName(%q) = %v, want %v", name, got, want)
			}
		})
	}
}

// TestIsWildcardName: cases from v1's TestIsWildDelegation.
func TestIsWildcardName(t *testing.T) {
	tests := map[string]bool{
		"targets/*":     true,
		"targets/foo/*": true,
		"root":          false,
		"targets":       false,
		"snapshot":      false,
		"timestamp":     false,
		"foo":           false,
		"foo/*":         false,
		"root/*":        false,
		"snapshot/*":    false,
		"timestamp/*":   false,
		"targets/*/foo": false,
		"targets/*/*":   false,
		"targets//*":    false,
		"targets/*//":   false,
		"targets/*/":    false,
		"targets/foo*":  false,
		"*":             false,
		"":              false,
	}
	for name, want := range tests {
		t.Run(name, func(t *testing.T) {
			if got := IsWildcardName(name); got != want {
				t.Fatalf("IsWildcardName(%q) = %v, want %v", name, got, want)
			}
		})
	}
}

func TestWildcardMatches(t *testing.T) {
	tests := []struct {
		pattern, role string
		want          bool
	}{
		{"targets/*", "targets/a", true},
		{"targets/*", "targets/a/b", true},
		{"targets/*", "targets", false},
		{"targets/a/*", "targets/a/b", true},
		{"targets/a/*", "targets/a", false},
		{"targets/a/*", "targets/ab", false},
		{"targets/a", "targets/a", true},
		{"targets/a", "targets/a/b", false},
	}
	for _, tc := range tests {
		if got := WildcardMatches(tc.pattern, tc.role); got != tc.want {
			t.Errorf("WildcardMatches(%q, %q) = %v, want %v", tc.pattern, tc.role, got, tc.want)
		}
	}
}

func TestParentRole(t *testing.T) {
	tests := map[string]string{
		"targets/a":      "targets",
		"targets/a/b":    "targets/a",
		"targets":        "",
		"root":           "",
		"targets/A":      "",
		"targets/a/../b": "",
	}
	for name, want := range tests {
		if got := ParentRole(name); got != want {
			t.Errorf("ParentRole(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestValidRole(t *testing.T) {
	for _, r := range append(BaseRoles, "targets/a") {
		if !ValidRole(r) {
			t.Errorf("ValidRole(%q) = false", r)
		}
	}
	for _, r := range []string{"", "Root", "targets/", "targets/*", "foo"} {
		if ValidRole(r) {
			t.Errorf("ValidRole(%q) = true", r)
		}
	}
	if !IsDirectChild("targets/a", "targets/a/b") || IsDirectChild("targets", "targets/a/b") || IsDirectChild("targets/a", "targets/ab") {
		t.Error("IsDirectChild")
	}
}
