package main

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/notary-go/notary/client"
)

// progressMin is the size of work below which no progress is shown.
const progressMin = 500

// progress renders client.Progress reports on one stderr line, at most
// every 100ms, only when stderr is a terminal.
type progress struct {
	mu    sync.Mutex
	last  time.Time
	shown bool
	width int
}

func (a *app) stderrIsTerminal() bool {
	if a.stderrTTY {
		return true
	}
	f, ok := a.stderr.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func (a *app) progressFunc() func(client.Progress) {
	if !a.stderrIsTerminal() {
		return nil
	}
	return func(p client.Progress) {
		ps := &a.prog
		ps.mu.Lock()
		defer ps.mu.Unlock()
		if p.Total < progressMin && !ps.shown {
			return
		}
		now := time.Now()
		final := p.Total > 0 && p.Done >= p.Total
		if !final && now.Sub(ps.last) < 100*time.Millisecond {
			return
		}
		ps.last = now
		line := p.Stage
		if p.Total > 0 {
			line = fmt.Sprintf("%s: %d/%d (%d%%)", p.Stage, p.Done, p.Total, p.Done*100/p.Total)
		}
		pad := ""
		if n := ps.width - len(line); n > 0 {
			pad = strings.Repeat(" ", n)
		}
		ps.width = len(line)
		fmt.Fprintf(a.stderr, "\r%s%s", line, pad)
		ps.shown = true
	}
}

// endProgress ends the progress line, if one was shown.
func (a *app) endProgress() {
	ps := &a.prog
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.shown {
		fmt.Fprintf(a.stderr, "\r%s\r", strings.Repeat(" ", ps.width))
		ps.shown, ps.width = false, 0
	}
}

// readSecret reads a line without echo from a terminal.
func readSecret(f *os.File) (string, error) {
	if f == nil || !term.IsTerminal(int(f.Fd())) {
		return "", fmt.Errorf("not a terminal")
	}
	b, err := term.ReadPassword(int(f.Fd()))
	return string(b), err
}
