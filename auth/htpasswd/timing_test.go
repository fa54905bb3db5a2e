package htpasswd

import (
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// TestAuthenticateWorkIndependentOfUser counts the bcrypt work (2^cost per
// compare) of Authenticate: the same for a cheap user, a dear user and an
// unknown user, right or wrong password (issue 10: with one dummy hash at
// the file's usual cost, a user of another cost was told apart from
// unknown users by the time taken). Work is counted, not timed.
func TestAuthenticateWorkIndependentOfUser(t *testing.T) {
	cheap, err := Line("cheap", "pw-cheap", 4)
	if err != nil {
		t.Fatal(err)
	}
	cheap2, _ := Line("cheap2", "pw-cheap2", 4)
	dear, _ := Line("dear", "pw-dear", 7)
	f, err := Parse(strings.NewReader(cheap + "\n" + cheap2 + "\n" + dear + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	var work int64
	orig := compare
	t.Cleanup(func() { compare = orig })
	compare = func(hash, pw []byte) error {
		c, err := bcrypt.Cost(hash)
		if err != nil {
			t.Fatalf("compare with a non-bcrypt hash: %v", err)
		}
		work += 1 << c
		return orig(hash, pw)
	}
	want := int64(1) << 7
	for _, tc := range []struct {
		user, pass string
		ok         bool
	}{
		{"cheap", "pw-cheap", true},
		{"cheap", "wrong", false},
		{"dear", "pw-dear", true},
		{"dear", "wrong", false},
		{"nobody", "wrong", false},
		{"", "", false},
	} {
		work = 0
		if got := f.Authenticate(tc.user, tc.pass); got != tc.ok {
			t.Errorf("Authenticate(%q, %q) = %v, want %v", tc.user, tc.pass, got, tc.ok)
		}
		if work != want {
			t.Errorf("Authenticate(%q, %q) did %d units of bcrypt work, want %d like every other call", tc.user, tc.pass, work, want)
		}
	}
}
