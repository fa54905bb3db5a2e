package server

import (
	"errors"

	"github.com/notary-go/notary/api"
	"github.com/notary-go/notary/gun"
)

// checkGUN refuses, with 400 INVALID_GUN, a GUN a write cannot use (the
// rules live in package gun).
func checkGUN(g string) error {
	var e *gun.Error
	if err := gun.Check(g); errors.As(err, &e) {
		return api.NewError(api.CodeInvalidGUN, "GUN "+e.Reason)
	}
	return nil
}

// readableGUN reports whether a read for g can find anything; reads of
// other GUNs are answered 404 without touching storage.
func readableGUN(g string) bool { return gun.Check(g) == nil }
