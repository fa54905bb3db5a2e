//go:build !linux

package changelist

import (
	"os"
	"strings"
)

// syncDir fsyncs each temporary file in r's directory: without syncfs(2)
// there is no one call for many files.
func syncDir(r *os.Root, _ int) error {
	d, err := r.Open(".")
	if err != nil {
		return err
	}
	ents, err := d.ReadDir(-1)
	d.Close()
	if err != nil {
		return err
	}
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), tempPrefix) || !e.Type().IsRegular() {
			continue
		}
		f, err := r.OpenFile(e.Name(), os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		err = f.Sync()
		f.Close()
		if err != nil {
			return err
		}
	}
	return nil
}
