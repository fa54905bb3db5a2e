package passphrase

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// openPTY opens a pseudo-terminal pair; the test is skipped where that is
// not possible.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	var unlock int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		m.Close()
		t.Skipf("unlockpt: %v", e)
	}
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		m.Close()
		t.Skipf("ptsname: %v", e)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		t.Skipf("open pts: %v", err)
	}
	t.Cleanup(func() { s.Close(); m.Close() })
	return m, s
}

// waitEchoOff waits until the prompt has turned the terminal's echo off.
func waitEchoOff(t *testing.T, tty *os.File) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var tio syscall.Termios
		if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, tty.Fd(), syscall.TCGETS, uintptr(unsafe.Pointer(&tio))); e != 0 {
			t.Fatalf("TCGETS: %v", e)
		}
		if tio.Lflag&syscall.ECHO == 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("echo never turned off")
}

// TestPromptOnTerminal drives a prompt through a pty: the passphrase is
// read with echo off, and New uses the prompt when In is a terminal.
func TestPromptOnTerminal(t *testing.T) {
	master, slave := openPTY(t)
	var screen bytes.Buffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = io.Copy(&screen, master)
	}()
	r := New(Options{Getenv: envMap(nil), In: slave, Out: slave})
	type result struct {
		p   string
		err error
	}
	res := make(chan result, 1)
	go func() {
		p, _, err := r("0123456789abcdef", "targets", false, 0)
		res <- result{string(p), err}
	}()
	waitEchoOff(t, slave)
	if _, err := master.Write([]byte("terminal secret\r")); err != nil {
		t.Fatal(err)
	}
	var got result
	select {
	case got = <-res:
	case <-time.After(10 * time.Second):
		t.Fatal("prompt did not return")
	}
	if got.err != nil || got.p != "terminal secret" {
		t.Fatalf("got %q, %v", got.p, got.err)
	}
	time.Sleep(100 * time.Millisecond)
	slave.Close()
	master.Close()
	<-done
	if !strings.Contains(screen.String(), "Enter passphrase for targets key with ID 0123456: ") {
		t.Errorf("prompt not shown: %q", screen.String())
	}
	if strings.Contains(screen.String(), "secret") {
		t.Errorf("passphrase echoed: %q", screen.String())
	}
}
