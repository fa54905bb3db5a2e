package client

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/notary-go/notary/tuf"
)

// ErrTargetMismatch: content is not the trusted target.
var ErrTargetMismatch = errors.New("content does not match the trusted target")

// A TargetMismatchError reports content that is not the trusted target
// Name: its length, or its hash of Algorithm ("sha256", "sha512"), is not
// what the trusted metadata (of Role, when known) lists.
type TargetMismatchError struct {
	Name      string
	Role      string
	Algorithm string // "length", "sha256" or "sha512"
	Want, Got string
}

func (e *TargetMismatchError) Error() string {
	signed := ""
	if e.Role != "" {
		signed = " (signed by " + e.Role + ")"
	}
	if e.Algorithm == "length" {
		return fmt.Sprintf("target %q%s: length mismatch: expected %s bytes, got %s", e.Name, signed, e.Want, e.Got)
	}
	return fmt.Sprintf("target %q%s: %s mismatch: expected %s, got %s", e.Name, signed, e.Algorithm, e.Want, e.Got)
}

// Unwrap returns ErrTargetMismatch.
func (e *TargetMismatchError) Unwrap() error { return ErrTargetMismatch }

// Check reports whether content is the target: its length and every hash
// listed (v1 `notary verify`). A mismatch is a *TargetMismatchError.
func (t Target) Check(content []byte) error {
	if int64(len(content)) != t.Length {
		return &TargetMismatchError{Name: t.Name, Algorithm: "length", Want: strconv.FormatInt(t.Length, 10), Got: strconv.Itoa(len(content))}
	}
	err := tuf.FileMeta{Length: t.Length, Hashes: t.Hashes}.Check(content)
	var hm *tuf.HashMismatchError
	if errors.As(err, &hm) {
		return &TargetMismatchError{Name: t.Name, Algorithm: hm.Algorithm, Want: hm.Want, Got: hm.Got}
	}
	if err != nil {
		return fmt.Errorf("target %q: %w", t.Name, err)
	}
	return nil
}

// Check is Target.Check, naming the role that signed the target.
func (t TargetWithRole) Check(content []byte) error {
	err := t.Target.Check(content)
	var me *TargetMismatchError
	if errors.As(err, &me) {
		me.Role = t.Role
	}
	return err
}
