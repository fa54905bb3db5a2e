package policy

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// glob agrees with the regular expression the pattern stands for.
func FuzzGlob(f *testing.F) {
	for _, s := range [][2]string{{"reg.example.com/*", "reg.example.com/a/b"}, {"*a*b", "xaxb"}, {"a*", "b"}, {"**", ""}, {"*/mirror/*", "q/mirror/x"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, s string) {
		// The reference regexp works on UTF-8 (image names are ASCII).
		if len(pattern) > 64 || len(s) > 256 || !utf8.ValidString(pattern) || !utf8.ValidString(s) {
			return
		}
		parts := strings.Split(pattern, "*")
		for i := range parts {
			parts[i] = regexp.QuoteMeta(parts[i])
		}
		re := regexp.MustCompile(`^(?s:` + strings.Join(parts, ".*") + `)$`)
		if got, want := glob(pattern, s), re.MatchString(s); got != want {
			t.Fatalf("glob(%q, %q) = %v, regexp says %v", pattern, s, got, want)
		}
	})
}

// Parse never panics, and what it accepts validates.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"rules": [{"images": "r.example.com/*", "trust": {"server": "https://n", "tofu": true}}], "default": "deny"}`))
	f.Add([]byte(`{"rules": [{"images": "*", "trust": {"mirror": "/m", "root_keys": ["a"]}, "roles": ["targets/a", "targets/b"], "threshold": 2}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data)
		if err != nil {
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("accepted, then invalid: %v", err)
		}
		_ = p.Match("reg.example.com/team/app")
	})
}
