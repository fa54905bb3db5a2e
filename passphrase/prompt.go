package passphrase

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"golang.org/x/term"
)

const (
	idBytesToDisplay         = 7
	rootKeyGenerationWarning = `You are about to create a new root signing key passphrase. This passphrase
will be used to protect the most sensitive key in your signing system. Please
choose a long, complex passphrase and be careful to keep the password and the
key file itself secure and backed up. It is highly recommended that you use a
password manager to generate the passphrase and keep it safe. There will be no
way to recover this key. You can find the key in your config directory.`
)

// prompter is v1's boundRetriever with its loose ends tied: one buffered
// reader for all prompts (v1 made a new one per prompt and could lose typed
// input), echo off when in is a terminal, bounded retries for new
// passphrases, and a cache cleared when a cached passphrase proves wrong.
type prompter struct {
	mu       sync.Mutex
	fd       int // terminal file descriptor of in, or -1
	reader   *bufio.Reader
	out      io.Writer
	aliasMap map[string]string
	cache    map[string]string // alias → passphrase
}

// Prompt returns a Retriever that asks on out and reads from in, one line
// per passphrase with surrounding white space trimmed (as v1, so keys made
// by v1 from a prompt decrypt the same). When in is a terminal echo is
// turned off. aliasMap gives display names for aliases (nil: the alias
// itself); DockerAliases is Docker's.
//
// A passphrase entered for an alias is cached and offered first for the
// next key of that alias, so one command asks once per role. To decrypt, it
// asks at most MaxPromptAttempts times (attempt 0 may be served from the
// cache), then gives up with ErrTooManyAttempts. For a new key it asks for
// the passphrase and a confirmation, refusing ones shorter than MinLength
// or not confirmed, up to MaxPromptAttempts times, then gives up with
// ErrTooManyAttempts. End of input gives up with an error wrapping io.EOF.
func Prompt(in io.Reader, out io.Writer, aliasMap map[string]string) Retriever {
	p := &prompter{fd: -1, reader: bufio.NewReader(in), out: out, aliasMap: aliasMap, cache: map[string]string{}}
	if f, ok := in.(*os.File); ok && isTerminal(f) {
		p.fd = int(f.Fd())
	}
	return p.retrieve
}

// OpenTerminal returns a Prompt on the process's controlling terminal
// (/dev/tty), usable even when stdin and stdout are redirected, and a
// function that closes it.
func OpenTerminal(aliasMap map[string]string) (Retriever, func() error, error) {
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("passphrase: no terminal: %w", err)
	}
	return Prompt(tty, tty, aliasMap), tty.Close, nil
}

func isTerminal(f *os.File) bool { return f != nil && term.IsTerminal(int(f.Fd())) }

func (p *prompter) retrieve(keyName, alias string, createNew bool, attempt int) (string, bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if attempt == 0 {
		if alias == "root" && createNew {
			fmt.Fprintln(p.out, rootKeyGenerationWarning)
		}
		if pass, ok := p.cache[alias]; ok {
			return pass, false, nil
		}
	} else if !createNew {
		delete(p.cache, alias) // it was wrong
		if attempt >= MaxPromptAttempts {
			return "", true, ErrTooManyAttempts
		}
		fmt.Fprintln(p.out, "Passphrase incorrect. Please retry.")
	}
	display := alias
	if v, ok := p.aliasMap[alias]; ok {
		display = v
	}
	withID := ""
	if short := shortName(keyName); short != "" {
		withID = " with ID " + short
	}
	if !createNew {
		fmt.Fprintf(p.out, "Enter passphrase for %s key%s: ", display, withID)
		pass, err := p.read()
		if err != nil {
			return "", true, err
		}
		p.cache[alias] = pass
		return pass, false, nil
	}
	for try := 0; try < MaxPromptAttempts; try++ {
		fmt.Fprintf(p.out, "Enter passphrase for new %s key%s: ", display, withID)
		pass, err := p.read()
		if err != nil {
			return "", true, err
		}
		if len(pass) < MinLength {
			fmt.Fprintln(p.out, "Passphrase is too short. Please use a password manager to generate and store a good random passphrase.")
			continue
		}
		fmt.Fprintf(p.out, "Repeat passphrase for new %s key%s: ", display, withID)
		confirm, err := p.read()
		if err != nil {
			return "", true, err
		}
		if confirm != pass {
			fmt.Fprintln(p.out, "Passphrases do not match. Please retry.")
			continue
		}
		p.cache[alias] = pass
		return pass, false, nil
	}
	return "", true, fmt.Errorf("%w choosing a passphrase for new %s key", ErrTooManyAttempts, display)
}

// read reads one passphrase and ends the prompt line.
func (p *prompter) read() (string, error) {
	defer fmt.Fprintln(p.out)
	if p.fd >= 0 {
		b, err := term.ReadPassword(p.fd)
		if err != nil {
			return "", fmt.Errorf("passphrase: reading from terminal: %w", err)
		}
		s := strings.TrimSpace(string(b))
		clear(b)
		return s, nil
	}
	line, err := p.reader.ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		if errors.Is(err, io.EOF) {
			return "", fmt.Errorf("passphrase: no passphrase entered: %w", err)
		}
		return "", fmt.Errorf("passphrase: reading: %w", err)
	}
	return strings.TrimSpace(line), nil
}

// shortName is how v1 shows a key in prompts: the first 7 characters of the
// ID, with a path prefix in parentheses ("abcdef1 (tuf_keys/gun)").
func shortName(keyName string) string {
	sep := strings.LastIndex(keyName, string(os.PathSeparator))
	if sep == -1 {
		sep = 0
	}
	if len(keyName) <= sep+idBytesToDisplay {
		return ""
	}
	if sep > 0 {
		return keyName[sep+1:sep+idBytesToDisplay+1] + " (" + keyName[:sep] + ")"
	}
	return keyName[:idBytesToDisplay]
}
