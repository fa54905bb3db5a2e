package policy

import (
	"errors"
	"testing"
)

func TestParseIssueShape(t *testing.T) {
	p, err := Parse([]byte(`{"rules": [{"images": "reg.example.com:5000/org/*", "trust": {"server":
 "https://notary.example.com:4443", "ca": "/etc/notary/ca.crt", "tofu": true}, "roles":
 ["targets/releases"], "mode": "enforce"}], "default": "deny"}`))
	if err != nil {
		t.Fatal(err)
	}
	r := p.Rules[0]
	if r.Images != "reg.example.com:5000/org/*" || r.Trust.Server != "https://notary.example.com:4443" || r.Trust.CA != "/etc/notary/ca.crt" || !r.Trust.TOFU || len(r.Roles) != 1 || r.Mode != ModeEnforce || p.Default != "deny" {
		t.Fatalf("got %+v", p)
	}
}

func TestParse(t *testing.T) {
	const trust = `"trust": {"server": "https://n.example.com", "tofu": true}`
	tests := []struct {
		name    string
		in      string
		wantErr bool
	}{
		{name: "minimal", in: `{"rules": [{"images": "r.example.com/*", ` + trust + `}]}`},
		{name: "root_keys", in: `{"rules": [{"images": "r.example.com/*", "trust": {"server": "https://n", "root_keys": ["abc"]}}]}`},
		{name: "root_certs", in: `{"rules": [{"images": "r.example.com/*", "trust": {"mirror": "/srv/trust", "root_certs": ["/c.pem"]}}]}`},
		{name: "root_ca", in: `{"rules": [{"images": "r.example.com/*", "trust": {"mirror": "https://m.example.com/trust", "root_ca": "/ca.pem"}}]}`},
		{name: "audit and threshold", in: `{"rules": [{"images": "r.example.com/*", ` + trust + `, "roles": ["targets/a", "targets/b"], "threshold": 2, "mode": "audit"}], "default": "allow"}`},
		{name: "refresh", in: `{"rules": [{"images": "*", "trust": {"server": "https://n", "tofu": true, "refresh": "5m"}}]}`},
		{name: "no rules, allow", in: `{"default": "allow"}`},
		{name: "unknown key", in: `{"rules": [{"images": "r/*", ` + trust + `, "rols": ["targets"]}]}`, wantErr: true},
		{name: "no trust source", in: `{"rules": [{"images": "r/*", "trust": {"tofu": true}}]}`, wantErr: true},
		{name: "two trust sources", in: `{"rules": [{"images": "r/*", "trust": {"server": "https://n", "mirror": "/m", "tofu": true}}]}`, wantErr: true},
		{name: "no root trust", in: `{"rules": [{"images": "r/*", "trust": {"server": "https://n"}}]}`, wantErr: true},
		{name: "tofu and keys", in: `{"rules": [{"images": "r/*", "trust": {"server": "https://n", "tofu": true, "root_keys": ["a"]}}]}`, wantErr: true},
		{name: "bad server url", in: `{"rules": [{"images": "r/*", "trust": {"server": "notary:4443", "tofu": true}}]}`, wantErr: true},
		{name: "bad mode", in: `{"rules": [{"images": "r/*", ` + trust + `, "mode": "warn"}]}`, wantErr: true},
		{name: "bad default", in: `{"default": "open"}`, wantErr: true},
		{name: "bad role", in: `{"rules": [{"images": "r/*", ` + trust + `, "roles": ["releases"]}]}`, wantErr: true},
		{name: "threshold above roles", in: `{"rules": [{"images": "r/*", ` + trust + `, "roles": ["targets"], "threshold": 2}]}`, wantErr: true},
		{name: "empty pattern", in: `{"rules": [{"images": "", ` + trust + `}]}`, wantErr: true},
		{name: "pattern with tag digest", in: `{"rules": [{"images": "r/app@sha256:00", ` + trust + `}]}`, wantErr: true},
		{name: "trailing data", in: `{} {}`, wantErr: true},
		{name: "not json", in: `rules:`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("Parse: err = %v, want error %v", err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, ErrInvalidPolicy) {
				t.Fatalf("error %v does not match ErrInvalidPolicy", err)
			}
		})
	}
}

func TestFromConfig(t *testing.T) {
	if _, err := FromConfig([]byte(`{"default":"allow"}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := FromConfig([]byte(`"/nonexistent/policy.json"`)); err == nil {
		t.Fatal("missing file accepted")
	}
	if _, err := FromConfig(nil); !errors.Is(err, ErrInvalidPolicy) {
		t.Fatalf("no policy: %v", err)
	}
}

func TestMatch(t *testing.T) {
	p := &Policy{Rules: []Rule{
		{Images: "*"},
		{Images: "reg.example.com/*"},
		{Images: "reg.example.com/team/*"},
		{Images: "reg.example.com/team/app"},
		{Images: "reg.example.com:5000/org/*"},
		{Images: "docker.io/library/nginx"},
		{Images: "*/mirror/*"},
	}}
	tests := []struct {
		name string
		want string
	}{
		{name: "reg.example.com/team/app", want: "reg.example.com/team/app"},
		{name: "reg.example.com/team/app2", want: "reg.example.com/team/*"},
		{name: "reg.example.com/team/sub/app", want: "reg.example.com/team/*"},
		{name: "reg.example.com/other", want: "reg.example.com/*"},
		{name: "reg.example.com:5000/org/app", want: "reg.example.com:5000/org/*"},
		{name: "reg.example.com:5001/org/app", want: "*"},
		{name: "docker.io/library/nginx", want: "docker.io/library/nginx"},
		{name: "docker.io/library/nginx2", want: "*"},
		{name: "q.example.com/mirror/x", want: "*/mirror/*"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := p.Match(tt.name)
			if got == nil || got.Images != tt.want {
				t.Fatalf("Match(%q) = %v, want %q", tt.name, got, tt.want)
			}
		})
	}
	t.Run("no catch-all", func(t *testing.T) {
		p := &Policy{Rules: []Rule{{Images: "reg.example.com/team/*"}}}
		if r := p.Match("reg.example.com/teamx/app"); r != nil {
			t.Fatalf("matched %q", r.Images)
		}
		if r := p.Match("reg.example.com/team"); r != nil {
			t.Fatalf("matched %q", r.Images)
		}
	})
	t.Run("tie goes to the first", func(t *testing.T) {
		p := &Policy{Rules: []Rule{{Images: "a.io/x*", Mode: ModeAudit}, {Images: "a.io/*x", Mode: ModeEnforce}}}
		if r := p.Match("a.io/xx"); r == nil || r.Mode != ModeAudit {
			t.Fatalf("got %+v", r)
		}
	})
}

func TestNormalizeImage(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{in: "nginx", want: "docker.io/library/nginx:latest"},
		{in: "nginx:1.27", want: "docker.io/library/nginx:1.27"},
		{in: "bitnami/redis:7", want: "docker.io/bitnami/redis:7"},
		{in: "index.docker.io/nginx", want: "docker.io/library/nginx:latest"},
		{in: "reg.example.com:5000/org/app:1.0", want: "reg.example.com:5000/org/app:1.0"},
		{in: "localhost/app", want: "localhost/app:latest"},
		{in: "reg.example.com/app@sha256:" + hex64('a'), want: "reg.example.com/app@sha256:" + hex64('a')},
		{in: "reg.example.com/app:1@sha256:" + hex64('a'), want: "reg.example.com/app:1@sha256:" + hex64('a')},
		{in: "Reg.example.com/APP", wantErr: true},
		{in: "", wantErr: true},
		{in: "reg.example.com/app:bad tag", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			r, err := NormalizeImage(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err == nil && r.String() != tt.want {
				t.Fatalf("got %s, want %s", r, tt.want)
			}
		})
	}
}

func hex64(c byte) string {
	b := make([]byte, 64)
	for i := range b {
		b[i] = c
	}
	return string(b)
}

func TestGlobWorstCase(t *testing.T) {
	// Many stars against a long non-matching name must still answer.
	p := "*a*a*a*a*a*a*a*a*a*a*b"
	s := make([]byte, 2000)
	for i := range s {
		s[i] = 'a'
	}
	if glob(p, string(s)) {
		t.Fatal("matched")
	}
}
