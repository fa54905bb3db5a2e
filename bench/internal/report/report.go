// Package report holds what the whole-system benchmark programs in bench/
// share: medians, duration formatting, the "## Figures" section of a
// bench/*.md file, and a free loopback port.
package report

import (
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"time"
)

// Median is the middle value of xs (the mean of the two middle values for
// an even count), or 0 for none.
func Median[T ~int64 | ~float64](xs []T) T {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// Dur formats d with three significant figures or so: "1.2 s", "35 ms",
// "4.5 ms".
func Dur(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d >= 10*time.Millisecond:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	default:
		return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000)
	}
}

// WriteFigures replaces the "## Figures" section of the report at path
// (up to the next "## " heading) with figures, or appends it.
func WriteFigures(path, figures string) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	s := string(old)
	if i := strings.Index(s, "## Figures"); i >= 0 {
		end := len(s)
		if j := strings.Index(s[i+1:], "\n## "); j >= 0 {
			end = i + 1 + j + 1
		}
		s = s[:i] + figures + "\n" + s[end:]
	} else {
		s += "\n" + figures
	}
	return os.WriteFile(path, []byte(s), 0o644)
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
