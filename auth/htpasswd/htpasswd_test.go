package htpasswd

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Known vectors from docker/distribution's htpasswd tests ($2y$, written by
// Apache htpasswd -B).
const distributionUsers = `
# comment
	frodo:$2y$05$926C3y10Quzn/LnqQH86VOEVh/18T6RnLaS.khre96jLNL/7e.K5W
MiShil:$2y$05$0oHgwMehvoe8iAWS8I.7l.KoECXrwVaC16RPfaSCU5eVTFrATuMI2
`

func TestParseAndAuthenticate(t *testing.T) {
	f, err := Parse(strings.NewReader(distributionUsers))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Users(); !cmp.Equal(got, []string{"MiShil", "frodo"}) {
		t.Errorf("Users = %v", got)
	}
	for _, tc := range []struct {
		user, pass string
		ok         bool
	}{
		{"frodo", "baggins", true},
		{"MiShil", "새주", true},
		{"frodo", "bagginS", false},
		{"frodo", "", false},
		{"Frodo", "baggins", false},
		{"bilbo", "baggins", false},
		{"", "", false},
	} {
		if got := f.Authenticate(tc.user, tc.pass); got != tc.ok {
			t.Errorf("Authenticate(%q, %q) = %v, want %v", tc.user, tc.pass, got, tc.ok)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	frodo := "frodo:$2y$05$926C3y10Quzn/LnqQH86VOEVh/18T6RnLaS.khre96jLNL/7e.K5W"
	for _, tc := range []struct {
		name, in string
		line     int
		msg      string
	}{
		{"sha1", "bilbo:{SHA}5siv5c0SHx681xU6GiSx9ZQryqs=", 1, "only bcrypt"},
		{"md5", frodo + "\nbob:$apr1$abc$defdefdefdefdefdefdefd", 2, "only bcrypt"},
		{"plain", "DeokMan:공주님", 1, "only bcrypt"},
		{"crypt", "u:abJnggxhB/yWI", 1, "only bcrypt"},
		{"no colon", "asdf", 1, "want"},
		{"empty user", ":$2y$05$926C3y10Quzn/LnqQH86VOEVh/18T6RnLaS.khre96jLNL/7e.K5W", 1, "want"},
		{"duplicate", frodo + "\n" + frodo, 2, "twice"},
		{"truncated bcrypt", "u:$2y$05$926C3y10Quzn", 1, "only bcrypt"},
		{"bad cost", "u:$2y$99$926C3y10Quzn/LnqQH86VOEVh/18T6RnLaS.khre96jLNL/7e.K5W", 1, "invalid bcrypt"},
		{"unknown minor", "u:$2x$05$926C3y10Quzn/LnqQH86VOEVh/18T6RnLaS.khre96jLNL/7e.K5W", 1, "only bcrypt"},
		{"control in user", "a\x01b:$2y$05$926C3y10Quzn/LnqQH86VOEVh/18T6RnLaS.khre96jLNL/7e.K5W", 1, "control"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tc.in))
			var se *SyntaxError
			if !errors.As(err, &se) || se.Line != tc.line || !strings.Contains(se.Msg, tc.msg) {
				t.Errorf("Parse = %v, want a SyntaxError at line %d containing %q", err, tc.line, tc.msg)
			}
		})
	}
}

func TestLineAndLoad(t *testing.T) {
	dir := t.TempDir()
	a, err := Line("alice", "s3cret pass", 4)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Line("bob", "hunter2", 0)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b, "bob:$2a$10$") {
		t.Errorf("Line with default cost = %q", b)
	}
	file := filepath.Join(dir, "htpasswd")
	if err := os.WriteFile(file, []byte(a+"\n\n"+b+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	if !f.Authenticate("alice", "s3cret pass") || !f.Authenticate("bob", "hunter2") || f.Authenticate("alice", "hunter2") {
		t.Error("Authenticate disagrees with Line")
	}
	if !f.Has("alice") || f.Has("carol") {
		t.Error("Has")
	}
	for _, bad := range []string{"", "a:b", "a\nb", "a\x7fb"} {
		if _, err := Line(bad, "x", 4); !errors.Is(err, ErrInvalidUser) {
			t.Errorf("Line(%q) = %v, want ErrInvalidUser", bad, err)
		}
	}
	if _, err := Load(filepath.Join(dir, "nope")); err == nil {
		t.Error("Load of a missing file succeeded")
	}
}
