package passphrase

import (
	"bufio"
	"bytes"
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
	// cache holds the passphrase last entered per alias, so one command
	// asks once per role (as v1). It lives as long as the Retriever; an
	// entry that proves wrong is wiped before it is dropped.
	cache map[string][]byte
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
	p := &prompter{fd: -1, reader: bufio.NewReader(in), out: out, aliasMap: aliasMap, cache: map[string][]byte{}}
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

func (p *prompter) retrieve(keyName, alias string, createNew bool, attempt int) ([]byte, bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if attempt == 0 {
		if alias == "root" && createNew {
			fmt.Fprintln(p.out, rootKeyGenerationWarning)
		}
		if pass, ok := p.cache[alias]; ok {
			return bytes.Clone(pass), false, nil
		}
	} else if !createNew {
		p.forget(alias) // it was wrong
		if attempt >= MaxPromptAttempts {
			return nil, true, ErrTooManyAttempts
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
			return nil, true, err
		}
		p.remember(alias, pass)
		return pass, false, nil
	}
	for try := 0; try < MaxPromptAttempts; try++ {
		fmt.Fprintf(p.out, "Enter passphrase for new %s key%s: ", display, withID)
		pass, err := p.read()
		if err != nil {
			return nil, true, err
		}
		if len(pass) < MinLength {
			clear(pass)
			fmt.Fprintln(p.out, "Passphrase is too short. Please use a password manager to generate and store a good random passphrase.")
			continue
		}
		fmt.Fprintf(p.out, "Repeat passphrase for new %s key%s: ", display, withID)
		confirm, err := p.read()
		if err != nil {
			clear(pass)
			return nil, true, err
		}
		same := bytes.Equal(confirm, pass)
		clear(confirm)
		if !same {
			clear(pass)
			fmt.Fprintln(p.out, "Passphrases do not match. Please retry.")
			continue
		}
		p.remember(alias, pass)
		return pass, false, nil
	}
	return nil, true, fmt.Errorf("%w choosing a passphrase for new %s key", ErrTooManyAttempts, display)
}

// remember caches a copy of pass for alias (the caller keeps and clears
// pass itself), wiping the copy it replaces.
func (p *prompter) remember(alias string, pass []byte) {
	p.forget(alias)
	p.cache[alias] = bytes.Clone(pass)
}

// forget wipes and drops the cached passphrase of alias.
func (p *prompter) forget(alias string) {
	clear(p.cache[alias])
	delete(p.cache, alias)
}

// read reads one passphrase and ends the prompt line. The result is a
// fresh slice, trimmed of surrounding white space; the buffers it was read
// through are wiped where this package owns them (the terminal's), but not
// bufio's (see docs/security.md).
func (p *prompter) read() ([]byte, error) {
	defer fmt.Fprintln(p.out)
	if p.fd >= 0 {
		b, err := term.ReadPassword(p.fd)
		if err != nil {
			clear(b)
			return nil, fmt.Errorf("passphrase: reading from terminal: %w", err)
		}
		s := bytes.Clone(bytes.TrimSpace(b))
		clear(b)
		return s, nil
	}
	line, err := p.reader.ReadBytes('\n')
	if err != nil && !(errors.Is(err, io.EOF) && len(line) > 0) {
		clear(line)
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("passphrase: no passphrase entered: %w", err)
		}
		return nil, fmt.Errorf("passphrase: reading: %w", err)
	}
	s := bytes.Clone(bytes.TrimSpace(line))
	clear(line)
	return s, nil
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
