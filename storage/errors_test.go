package storage

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestUnavailableWrapsOnlyBackendFailures(t *testing.T) {
	backend := errors.New("connection reset by peer")
	tests := []struct {
		name            string
		err             error
		wantUnavailable bool
	}{
		{"nil stays nil", nil, false},
		{"not found kept", &NotFoundError{GUN: "g", Role: "root"}, false},
		{"old version kept", &OldVersionError{GUN: "g", Role: "root", Version: 2}, false},
		{"invalid argument kept", &InvalidArgumentError{Arg: "gun"}, false},
		{"cancelled kept", fmt.Errorf("query: %w", context.Canceled), false},
		{"deadline kept", context.DeadlineExceeded, false},
		{"backend failure wrapped", backend, true},
		{"already wrapped not rewrapped", &UnavailableError{Op: "x", Err: backend}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Unavailable("GetCurrent", tt.err)
			if tt.err == nil {
				if got != nil {
					t.Fatalf("Unavailable(nil) = %v", got)
				}
				return
			}
			if errors.Is(got, ErrUnavailable) != tt.wantUnavailable {
				t.Fatalf("errors.Is(%v, ErrUnavailable) = %v, want %v", got, !tt.wantUnavailable, tt.wantUnavailable)
			}
			if !errors.Is(got, tt.err) {
				t.Errorf("%v no longer matches the original error %v", got, tt.err)
			}
			var ue *UnavailableError
			if tt.wantUnavailable && errors.As(got, &ue) && errors.As(ue.Err, &ue) {
				t.Errorf("wrapped twice: %v", got)
			}
		})
	}
}
