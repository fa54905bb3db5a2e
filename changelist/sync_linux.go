package changelist

import (
	"os"

	"golang.org/x/sys/unix"
)

// syncDir makes the data of the n files just written in r's directory
// durable with one syncfs(2) on its filesystem, instead of n fsyncs.
func syncDir(r *os.Root, n int) error {
	d, err := r.Open(".")
	if err != nil {
		return err
	}
	defer d.Close()
	sc, err := d.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := sc.Control(func(fd uintptr) { serr = unix.Syncfs(int(fd)) }); err != nil {
		return err
	}
	return serr
}
