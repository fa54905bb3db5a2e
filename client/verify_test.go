package client_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/notary-go/notary/client"
)

func TestTargetCheck(t *testing.T) {
	tg, err := client.NewTarget("app.tar", strings.NewReader("trusted bytes"), nil)
	if err != nil {
		t.Fatal(err)
	}
	twr := client.TargetWithRole{Target: tg, Role: "targets/releases"}
	for _, tc := range []struct {
		name, content string
		alg           string // "" for a match
	}{
		{"match", "trusted bytes", ""},
		{"same length", "TRUSTED BYTES", "sha"},
		{"longer", "trusted bytes!", "length"},
		{"empty", "", "length"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := twr.Check([]byte(tc.content))
			if tc.alg == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var me *client.TargetMismatchError
			if !errors.As(err, &me) || !errors.Is(err, client.ErrTargetMismatch) {
				t.Fatalf("got %v, want a TargetMismatchError", err)
			}
			if me.Name != "app.tar" || me.Role != "targets/releases" || !strings.HasPrefix(me.Algorithm, tc.alg) || me.Want == me.Got || me.Want == "" {
				t.Errorf("got %+v", me)
			}
			if msg := err.Error(); !strings.Contains(msg, `target "app.tar" (signed by targets/releases): `+me.Algorithm+" mismatch: expected "+me.Want) {
				t.Errorf("message %q", msg)
			}
		})
	}
}
