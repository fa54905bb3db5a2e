package keydb

import (
	"strings"
)

// PassphraseFunc returns the passphrase for a passphrase alias, or an error
// (typically a *MissingPassphraseError) when there is none. It is called
// for every encryption and for every decryption that misses the key cache,
// possibly concurrently, and must not log the passphrase.
type PassphraseFunc func(alias string) (string, error)

// EnvPrefix is the prefix of the environment variables holding passphrases.
const EnvPrefix = "NOTARY_SIGNER_"

// EnvVar is the environment variable holding the passphrase of alias, as
// v1 resolves it through viper: NOTARY_SIGNER_ followed by the alias
// uppercased with "." replaced by "_" (alias "alias1" →
// NOTARY_SIGNER_ALIAS1).
func EnvVar(alias string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(alias, ".", "_"))
}

// EnvPassphrases reads passphrases from the environment through lookup
// (os.LookupEnv in production; a map in tests). An unset or empty variable
// is a *MissingPassphraseError, as in v1.
func EnvPassphrases(lookup func(string) (string, bool)) PassphraseFunc {
	return func(alias string) (string, error) {
		name := EnvVar(alias)
		if v, ok := lookup(name); ok && v != "" {
			return v, nil
		}
		return "", &MissingPassphraseError{Alias: alias, Source: name}
	}
}

// ConstantPassphrase resolves every alias to passphrase, e.g. for the
// memory backend, which v1 runs with a fixed passphrase.
func ConstantPassphrase(passphrase string) PassphraseFunc {
	return func(string) (string, error) { return passphrase, nil }
}
