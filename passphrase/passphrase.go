// Package passphrase supplies the passphrases that protect private keys at
// rest: from environment variables (Notary's or Docker Content Trust's),
// from a terminal prompt, or from a constant in tests. It reproduces the
// behaviour of Notary v0.7.0's passphrase package and of the retriever its
// CLI builds (cmd/notary getPassphraseRetriever), and never logs a secret.
package passphrase

import (
	"errors"
	"fmt"
	"os"
)

// A Retriever returns the passphrase for one key.
//
// keyName identifies the key (its ID, or a file name on import) and is shown
// to the user; alias is the key's role ("root", "targets", "snapshot",
// "timestamp" or a delegation role), which selects the environment variable
// and the prompt. createNew is true when the passphrase will encrypt a new
// key (a prompt then asks twice and enforces MinLength). attempt counts the
// calls for this key and operation from 0; a caller calls again with
// attempt+1 after the passphrase failed to decrypt the key.
//
// Results: a passphrase with giveUp false and a nil error; or giveUp true,
// meaning stop asking, with err saying why; or, only when createNew, an
// error with giveUp false, meaning this attempt failed and the caller may
// ask again with attempt+1 (callers bound the number of attempts). An error
// wrapping ErrNoPassphrase means this source has no passphrase for the
// alias, so Chain moves on to the next source.
//
// The passphrase is a byte slice the caller owns: each call returns a
// fresh one, and the caller clears it (clear(p)) as soon as it has been
// used, so that it does not linger in memory (NCC 2015 finding 5; see
// docs/security.md for what Go cannot wipe).
//
// Retrievers returned by this package are safe for concurrent use; prompts
// are serialised.
type Retriever func(keyName, alias string, createNew bool, attempt int) (passphrase []byte, giveUp bool, err error)

// MinLength is the shortest passphrase a prompt accepts for a new key (v1:
// "Passphrase is too short").
const MinLength = 8

// MaxPromptAttempts is how many times a prompt asks for a passphrase (to
// decrypt one key, or to choose one for a new key) before it gives up with
// ErrTooManyAttempts.
const MaxPromptAttempts = 3

// Errors, tested with errors.Is.
var (
	ErrTooShort        = errors.New("passphrase too short")
	ErrDontMatch       = errors.New("the entered passphrases do not match")
	ErrTooManyAttempts = errors.New("too many attempts")
	// ErrNoPassphrase: a source has no passphrase for the alias (no
	// environment variable set, no terminal). Wrapped by *NoPassphraseError.
	ErrNoPassphrase = errors.New("no passphrase available")
)

// NoPassphraseError reports that no source could supply a passphrase for a
// role. EnvVar is the variable that would have supplied it, if any.
type NoPassphraseError struct {
	Alias  string
	EnvVar string
}

func (e *NoPassphraseError) Error() string {
	role := e.Alias
	if role == "" {
		role = `""`
	}
	if e.EnvVar == "" {
		return fmt.Sprintf("no passphrase for role %s: run on a terminal", role)
	}
	return fmt.Sprintf("no passphrase for role %s: set %s or run on a terminal", role, e.EnvVar)
}

func (e *NoPassphraseError) Unwrap() error { return ErrNoPassphrase }

// Constant returns a Retriever that always offers p. It gives up on any
// attempt after the first, since offering p again cannot help. An empty p
// means "no encryption" to key stores that follow v1 (keys are written
// unencrypted), so use it only in tests.
func Constant(p string) Retriever {
	return func(_, alias string, _ bool, attempt int) ([]byte, bool, error) {
		if attempt > 0 {
			return nil, true, fmt.Errorf("constant passphrase not accepted for %s key", alias)
		}
		return []byte(p), false, nil
	}
}

// Chain returns a Retriever that asks each source in turn and returns the
// first answer that is not an ErrNoPassphrase error; when every source has
// none it gives up with the last source's error. A source that supplies a
// passphrase stays in charge for later attempts: a wrong NOTARY_*
// variable is not followed by a prompt, as in v1.
func Chain(sources ...Retriever) Retriever {
	return func(keyName, alias string, createNew bool, attempt int) ([]byte, bool, error) {
		err := error(&NoPassphraseError{Alias: alias})
		for _, src := range sources {
			var p []byte
			var giveUp bool
			p, giveUp, err = src(keyName, alias, createNew, attempt)
			if errors.Is(err, ErrNoPassphrase) {
				clear(p)
				continue
			}
			return p, giveUp, err
		}
		return nil, true, err
	}
}

// Options configures New.
type Options struct {
	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
	// Docker selects Docker Content Trust's variables
	// (DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE and
	// DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE) and prompt names instead
	// of the notary CLI's.
	Docker bool
	// In is where prompts read from; nil means os.Stdin. Prompts are used
	// only when In is a terminal.
	In *os.File
	// Out is where prompts are written; nil means os.Stdout (as v1).
	Out *os.File
}

// New returns the retriever the notary CLI uses (or, with Options.Docker,
// the one Docker's trust commands use): environment variables first, then,
// only if In is a terminal, a prompt on In/Out. Without a terminal and
// without a variable it gives up at once with a *NoPassphraseError such as
// "no passphrase for role root: set NOTARY_ROOT_PASSPHRASE or run on a
// terminal".
func New(opts Options) Retriever {
	getenv, in, out := opts.Getenv, opts.In, opts.Out
	if getenv == nil {
		getenv = os.Getenv
	}
	if in == nil {
		in = os.Stdin
	}
	if out == nil {
		out = os.Stdout
	}
	env, aliases := NotaryEnv(getenv), map[string]string(nil)
	if opts.Docker {
		env, aliases = DockerEnv(getenv), DockerAliases
	}
	if !isTerminal(in) {
		return env
	}
	return Chain(env, Prompt(in, out, aliases))
}
