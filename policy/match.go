package policy

import (
	"strings"

	"github.com/notary-go/notary/registry"
)

// Match returns the rule that applies to name (host[:port]/repository),
// or nil. The most specific matching rule wins: a pattern with no "*"
// that equals the name beats every wildcard pattern; among wildcard
// patterns the one with the most literal (non-"*") characters wins; a
// tie goes to the rule written first. So "reg.example.com/team/app"
// beats "reg.example.com/team/*", which beats "reg.example.com/*" and
// "*".
func (p *Policy) Match(name string) *Rule {
	var best *Rule
	bestScore := -1
	for i := range p.Rules {
		r := &p.Rules[i]
		if !glob(r.Images, name) {
			continue
		}
		score := len(strings.ReplaceAll(r.Images, "*", ""))
		if !strings.Contains(r.Images, "*") {
			score = 1 << 30
		}
		if score > bestScore {
			best, bestScore = r, score
		}
	}
	return best
}

// glob reports whether s matches pattern, where "*" matches any run of
// characters (including none and "/"). Iterative with one backtrack
// point, so it runs in O(len(pattern)·len(s)) at worst.
func glob(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case p < len(pattern) && pattern[p] == s[i]:
			p++
			i++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// NormalizeImage turns an image reference as a Pod or `docker pull`
// writes it into a full one, as Docker does: a first component that is
// not a registry host (no "." or ":", not "localhost") means Docker Hub,
// "docker.io/", and a single-component name there is under "library/";
// no tag and no digest means ":latest". "nginx" is
// "docker.io/library/nginx:latest".
func NormalizeImage(s string) (registry.Reference, error) {
	full := s
	host, _, ok := strings.Cut(s, "/")
	if !ok || !(host == "localhost" || strings.ContainsAny(host, ".:") || strings.HasPrefix(host, "[")) {
		if !ok {
			full = "docker.io/library/" + s
		} else {
			full = "docker.io/" + s
		}
	}
	r, err := registry.ParseReference(full)
	if err != nil {
		return registry.Reference{}, err
	}
	if r.Host == "index.docker.io" {
		r.Host = "docker.io"
	}
	if r.Host == "docker.io" && !strings.Contains(r.Repository, "/") {
		r.Repository = "library/" + r.Repository
	}
	if r.Tag == "" && r.Digest == "" {
		r.Tag = "latest"
	}
	return r, nil
}
