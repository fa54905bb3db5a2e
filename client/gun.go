package client

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxGUNLen is the longest GUN accepted, in bytes: v0.7.0's server stores
// GUNs in a varchar(255) column.
const MaxGUNLen = 255

// ValidateGUN reports whether gun can name a trusted collection. A GUN
// becomes a path below <trust_dir>/tuf (v1 §7.1), so it must never be able
// to name anything outside it (2018 Cure53 audit, NOT-01-003: `notary init
// ../../x` wrote outside the trust directory). Beyond being non-empty and
// at most MaxGUNLen bytes of valid UTF-8, a GUN:
//
//   - is relative: it does not start with "/" (nor "\", nor a drive letter);
//   - has no empty, "." or ".." segment between its "/" separators, so it
//     equals its own path.Clean and has no leading or trailing "/";
//   - holds no "\" (a separator on Windows), no control character and no
//     "*" (v0.7.0's server routes match GUNs as [^*]+);
//   - has no segment but the first named "metadata" or "changelist" (in
//     any case): <trust_dir>/tuf/X/metadata/targets/metadata/root.json
//     would be both GUN X's role targets/metadata/root and GUN
//     X/metadata/targets's root, GUN X/changelist would live inside X's
//     changelist, and clearing X's cache would delete GUN X/metadata
//     (issue 10 item 6). v0.7.0 accepted such GUNs; no registry needs one.
//
// Docker's names ("docker.io/library/alpine", "localhost:5000/app") pass.
func ValidateGUN(gun string) error {
	bad := func(reason string) error { return &InvalidGUNError{GUN: gun, Reason: reason} }
	switch {
	case gun == "":
		return bad("it is empty")
	case len(gun) > MaxGUNLen:
		return bad("it is longer than 255 bytes")
	case !utf8.ValidString(gun):
		return bad("it is not valid UTF-8")
	case strings.HasPrefix(gun, "/"):
		return bad("it is an absolute path")
	case strings.ContainsRune(gun, '\\'):
		return bad(`it contains "\"`)
	case strings.ContainsRune(gun, '*'):
		return bad(`it contains "*"`)
	case len(gun) >= 2 && gun[1] == ':' && isASCIILetter(gun[0]) && (len(gun) == 2 || gun[2] == '/'):
		return bad("it looks like a Windows drive path")
	}
	for _, r := range gun {
		if unicode.IsControl(r) {
			return bad("it contains a control character")
		}
	}
	for i, seg := range strings.Split(gun, "/") {
		switch seg {
		case "":
			return bad(`it has an empty path segment (leading, trailing or double "/")`)
		case ".", "..":
			return bad(`it has a "` + seg + `" path segment, which could name a directory outside the trust directory`)
		}
		if i > 0 && reservedSegment(seg) {
			return bad(`it has a "` + seg + `" path segment, the name of a directory the trust directory keeps each collection's cache or changelist in`)
		}
	}
	return nil
}

// reservedSegment reports whether seg names one of the directories of a
// collection in the trust directory (MetadataDir, ChangelistDir), in any
// case (macOS and Windows file systems ignore it).
func reservedSegment(seg string) bool {
	return strings.EqualFold(seg, MetadataDir) || strings.EqualFold(seg, ChangelistDir)
}

func isASCIILetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
