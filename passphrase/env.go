package passphrase

import (
	"fmt"
	"os"
)

// NotaryEnvVar names the notary CLI's variable for an alias (v1
// cmd/notary getPassphraseRetriever): NOTARY_ROOT_PASSPHRASE,
// NOTARY_TARGETS_PASSPHRASE, NOTARY_SNAPSHOT_PASSPHRASE, and
// NOTARY_DELEGATION_PASSPHRASE for every alias that is not a base role
// (delegation roles, but also "" or "user", since delegation keys can be
// shared across repositories). timestamp has no variable: "".
func NotaryEnvVar(alias string) string {
	switch alias {
	case "root":
		return "NOTARY_ROOT_PASSPHRASE"
	case "targets":
		return "NOTARY_TARGETS_PASSPHRASE"
	case "snapshot":
		return "NOTARY_SNAPSHOT_PASSPHRASE"
	case "timestamp":
		return ""
	}
	return "NOTARY_DELEGATION_PASSPHRASE"
}

// DockerEnvVar names Docker Content Trust's variable for an alias (docker
// cli/trust GetPassphraseRetriever): DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE for
// root, DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE for every other alias.
func DockerEnvVar(alias string) string {
	if alias == "root" {
		return "DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE"
	}
	return "DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE"
}

// DockerAliases are the names Docker's prompts show for aliases.
var DockerAliases = map[string]string{
	"root":     "root",
	"snapshot": "repository",
	"targets":  "repository",
	"default":  "repository",
}

// NotaryEnv returns a Retriever reading the notary CLI's variables
// (NotaryEnvVar); getenv nil means os.Getenv.
func NotaryEnv(getenv func(string) string) Retriever { return FromEnv(getenv, NotaryEnvVar) }

// DockerEnv returns a Retriever reading Docker Content Trust's variables
// (DockerEnvVar); getenv nil means os.Getenv.
func DockerEnv(getenv func(string) string) Retriever { return FromEnv(getenv, DockerEnvVar) }

// FromEnv returns a Retriever that reads the variable varFor(alias) names.
// An unset or empty variable (v1 treats both alike) gives up with a
// *NoPassphraseError, so Chain moves on. The value is used as is, without
// trimming, and returned as a fresh copy the caller clears; the
// environment's own string cannot be wiped (docs/security.md). After a
// first attempt the value is known to be wrong, so later attempts give up
// (v1 offered it twice more to no effect).
func FromEnv(getenv func(string) string, varFor func(alias string) string) Retriever {
	if getenv == nil {
		getenv = os.Getenv
	}
	return func(_, alias string, _ bool, attempt int) ([]byte, bool, error) {
		name := varFor(alias)
		var v string
		if name != "" {
			v = getenv(name)
		}
		if v == "" {
			return nil, true, &NoPassphraseError{Alias: alias, EnvVar: name}
		}
		if attempt > 0 {
			return nil, true, fmt.Errorf("passphrase from %s not accepted for %s key", name, alias)
		}
		return []byte(v), false, nil
	}
}
