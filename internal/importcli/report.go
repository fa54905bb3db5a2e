package importcli

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/notary-go/notary/internal/v1import"
)

// Ends are where an import reads and writes: the source engine and DSN,
// the destination engine and DSN, and whether this is a dry run.
type Ends struct {
	FromBackend, FromURL string
	Backend, DSN         string
	DryRun               bool
}

// Print tells w where the import reads and writes, DSNs without their
// passwords.
func (e Ends) Print(w io.Writer) {
	fmt.Fprintf(w, "source: %s %s\ndestination: %s %s\n", e.FromBackend, v1import.DescribeDSN(e.FromBackend, e.FromURL),
		e.Backend, v1import.DescribeDSN(e.Backend, e.DSN))
	if e.DryRun {
		fmt.Fprintln(w, "dry run: nothing will be written")
	}
}

// Redact removes both DSNs' passwords from err's text.
func (e Ends) Redact(err error) error {
	return v1import.Redact(v1import.Redact(err, e.FromBackend, e.FromURL), e.Backend, e.DSN)
}

// Verb is what a report calls the rows it copied: "imported", or "to
// import" on a dry run.
func Verb(dryRun bool) string {
	if dryRun {
		return "to import"
	}
	return "imported"
}

// Outcome is the error an import command ends with: ierr (rows not
// imported: conflicts), failed items of the check after it (described by
// failedWhat, e.g. "collection(s) failed verification"), both, or nil.
// hint follows the count when only the check failed.
func Outcome(ierr error, failed int, failedWhat, hint string) error {
	switch {
	case ierr != nil && failed > 0:
		return fmt.Errorf("%v; and %d %s", ierr, failed, failedWhat)
	case ierr != nil:
		return ierr
	case failed > 0:
		return fmt.Errorf("%d %s%s", failed, failedWhat, hint)
	}
	return nil
}

// Throttle returns a progress printer: it runs print for a step of phase
// at most once a second (by now), and always for the last step of a
// phase (final). Calls are serialised, so print may write to a shared
// writer.
func Throttle(now func() time.Time) func(phase string, final bool, print func()) {
	var (
		mu   sync.Mutex
		last = map[string]time.Time{}
	)
	return func(phase string, final bool, print func()) {
		mu.Lock()
		defer mu.Unlock()
		t := now()
		if l, ok := last[phase]; ok && !final && t.Sub(l) < time.Second {
			return
		}
		last[phase] = t
		print()
	}
}
