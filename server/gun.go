package server

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/notary-go/notary/api"
	"github.com/notary-go/notary/storage"
)

// MaxGUNLen is the longest GUN the server accepts, in bytes (v1's
// varchar(255) gun column).
const MaxGUNLen = storage.MaxNameLen

// gunProblem says why gun cannot name a collection, or "" if it can: 1 to
// MaxGUNLen bytes of valid UTF-8, no control character, no "*" (v1's
// route excludes it) and no ".." (no path tricks in mirrors and logs).
func gunProblem(gun string) string {
	switch {
	case gun == "":
		return "empty GUN"
	case len(gun) > MaxGUNLen:
		return fmt.Sprintf("GUN longer than %d bytes", MaxGUNLen)
	case !utf8.ValidString(gun):
		return "GUN is not valid UTF-8"
	case strings.Contains(gun, ".."):
		return `GUN contains ".."`
	case strings.Contains(gun, "*"):
		return `GUN contains "*"`
	}
	for _, r := range gun {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return "GUN contains a control character"
		}
	}
	return ""
}

// checkGUN refuses, with 400 INVALID_GUN, a GUN a write cannot use.
func checkGUN(gun string) error {
	if p := gunProblem(gun); p != "" {
		return api.NewError(api.CodeInvalidGUN, p)
	}
	return nil
}

// readableGUN reports whether a read for gun can find anything; reads of
// other GUNs are answered 404 without touching storage.
func readableGUN(gun string) bool { return gunProblem(gun) == "" }
