package client_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/notary-go/notary/client"
)

func TestValidateGUN(t *testing.T) {
	for _, tc := range []struct {
		gun string
		ok  bool
	}{
		{"example.com/app", true},
		{"docker.io/library/alpine", true},
		{"localhost:5000/team/app", true},
		{"a", true},
		{"café/ünïcødé", true},
		{"with space", true},
		{strings.Repeat("a", 255), true},

		{"", false},
		{strings.Repeat("a", 256), false},
		{"../../x", false},
		{"../x", false},
		{"..", false},
		{".", false},
		{"a/../../x", false},
		{"a/./b", false},
		{"a/..", false},
		{"/etc/passwd", false},
		{"a//b", false},
		{"a/", false},
		{`a\..\b`, false},
		{`C:/x`, false},
		{"a*", false},
		{"a\x00b", false},
		{"a\nb", false},
		{"\xff", false},
	} {
		t.Run(tc.gun, func(t *testing.T) {
			err := client.ValidateGUN(tc.gun)
			if (err == nil) != tc.ok {
				t.Fatalf("ValidateGUN(%q) = %v, want ok=%v", tc.gun, err, tc.ok)
			}
			if err != nil && !errors.Is(err, client.ErrInvalidGUN) {
				t.Errorf("error %v does not match ErrInvalidGUN", err)
			}
			_, rerr := client.NewRepository(tc.gun, client.Options{TrustDir: t.TempDir()})
			if (rerr == nil) != tc.ok {
				t.Errorf("NewRepository(%q) = %v", tc.gun, rerr)
			}
		})
	}
}
