package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"

	"github.com/notary-go/notary/client"
	"github.com/notary-go/notary/keystore"
	"github.com/notary-go/notary/passphrase"
)

// printError prints a failure as v1 does ("* fatal: <message>"), on
// stderr, followed by what to do about it when we can tell.
func (a *app) printError(err error) {
	a.endProgress()
	msg := err.Error()
	var pe *keystore.PassphraseError
	if errors.As(err, &pe) {
		// The key store's wrapping repeats itself; say it once.
		what := "the " + pe.Role + " key"
		if keystore.ValidID(pe.ID) {
			what += " " + pe.ID
		}
		msg = fmt.Sprintf("cannot use %s: %v", what, pe.Err)
		if pe.Attempts > 0 && pe.Err == nil {
			msg = fmt.Sprintf("cannot use %s: wrong passphrase", what)
		}
	}
	fmt.Fprintf(a.stderr, "* fatal: %s\n", msg)
	for _, h := range a.hints(err) {
		fmt.Fprintf(a.stderr, "  hint: %s\n", h)
	}
}

// hints says what a person can do about err.
func (a *app) hints(err error) []string {
	gun := a.gun
	if gun == "" {
		gun = "<GUN>"
	}
	var out []string
	server := "(not configured)"
	if a.settings != nil {
		server = a.settings.ServerURL
	}

	var se *client.ServerError
	if errors.As(err, &se) {
		switch se.Kind {
		case client.KindUnreachable:
			out = append(out, fmt.Sprintf("check the trust server URL (-s/--server, or remote_server.url in the config file; now %s) and that the server is running", server),
				"list, lookup and verify work offline from trust data cached by an earlier read")
		case client.KindTLS:
			out = append(out, tlsHints(se.Err)...)
		case client.KindUnauthorized:
			out = append(out, a.authHints(err)...)
		case client.KindUnavailable:
			out = append(out, "the server (or its signing service) is failing: try again later, or ask its operator")
		case client.KindRejected:
			var ve *client.ValidationError
			if errors.As(err, &ve) {
				switch ve.Name {
				case client.ValidationBadRoot, client.ValidationBadTargets, client.ValidationBadSnapshot, client.ValidationBadHierarchy:
					out = append(out, fmt.Sprintf("the server refused the signed metadata; `notary list %s` shows whether your trust data is current, `notary status %s` what is staged", gun, gun))
				}
			}
		}
	}

	var exp *client.ExpiredMetadataError
	if errors.As(err, &exp) {
		switch {
		case exp.Role == client.RoleRoot:
			out = append(out, fmt.Sprintf("the publisher re-signs root (and renews its certificate) with the root key: `notary publish %s`", gun))
		case exp.Role == client.RoleTimestamp:
			out = append(out, "the trust server signs the timestamp and renews it when asked: check the server, its signer, and this machine's clock")
		case exp.Role == client.RoleSnapshot:
			out = append(out, fmt.Sprintf("if you hold the snapshot key, `notary publish %s` re-signs it; if the server manages it, check the server and this machine's clock", gun))
		case client.IsTargetsRole(exp.Role):
			out = append(out, fmt.Sprintf("re-sign it with its key: `notary witness %s %s -p`", gun, exp.Role))
		}
	}

	var conflict *client.PublishConflictError
	if errors.As(err, &conflict) {
		out = append(out, fmt.Sprintf("run `notary publish %s` again", gun))
	}
	var rne *client.RepositoryNotExistError
	if errors.As(err, &rne) {
		out = append(out, fmt.Sprintf("check the GUN and the server; to create the collection: `notary init %s -p`", gun))
	}
	var ree *client.RepositoryExistsError
	if errors.As(err, &ree) {
		out = append(out, fmt.Sprintf("stage changes and `notary publish %s`; or `notary delete %s --remote` to start over", gun, gun))
	}
	var nf *client.TargetNotFoundError
	if errors.As(err, &nf) {
		out = append(out, fmt.Sprintf("`notary list %s` shows the targets it holds", gun))
	}
	var ae *client.ApplyError
	if errors.As(err, &ae) {
		out = append(out, fmt.Sprintf("nothing was published; drop this change with `notary reset %s -n %d` (see `notary status %s`)", gun, ae.Index, gun))
	}
	var nsk *client.NoSigningKeysError
	if errors.As(err, &nsk) {
		out = append(out, fmt.Sprintf("import a private key of %s into the trust directory with `notary key import`", nsk.Role))
	}
	var ise *client.InsufficientSignaturesError
	if errors.As(err, &ise) {
		out = append(out, fmt.Sprintf("import the missing private key(s) of %s with `notary key import`", ise.Role))
	}

	var pe *keystore.PassphraseError
	if errors.As(err, &pe) {
		v := passphrase.NotaryEnvVar(pe.Role)
		switch {
		case errors.Is(err, keystore.ErrBadPassphrase) && v != "" && a.getenv(v) != "":
			out = append(out, fmt.Sprintf("%s holds a wrong passphrase for the %s key", v, pe.Role))
		case errors.Is(err, keystore.ErrBadPassphrase):
			out = append(out, fmt.Sprintf("the passphrase of the %s key was wrong", pe.Role))
		case errors.Is(err, passphrase.ErrNoPassphrase):
			// the message already names the variable
		}
	}
	return out
}

// authHints says what to do about a refusal for want of authorization,
// by what the token server (or the server) answered.
func (a *app) authHints(err error) []string {
	var ae *client.AuthError
	errors.As(err, &ae)
	switch {
	case errors.Is(err, client.ErrCredentialsRefused) && ae != nil && ae.Reason == "invalid_token":
		return []string{"the trust server does not accept the tokens of its token server: ask the operator to check the server's auth.options (issuer, service, rootcertbundle)"}
	case errors.Is(err, client.ErrCredentialsRefused) && a.getenv("NOTARY_AUTH") != "":
		return []string{"the user name or password in NOTARY_AUTH was refused: check it (the base64 of <username>:<password>)"}
	case errors.Is(err, client.ErrCredentialsRefused):
		return []string{"the user name or password was refused: check them"}
	case errors.Is(err, client.ErrAccessDenied):
		return []string{fmt.Sprintf("you are logged in, but not allowed this on %s: ask the operator of the token server to grant it", a.gunOr())}
	}
	return []string{"the server wants credentials: set NOTARY_AUTH to the base64 of <username>:<password>"}
}

func (a *app) gunOr() string {
	if a.gun == "" {
		return "<GUN>"
	}
	return a.gun
}

// tlsHints explains a TLS failure.
func tlsHints(err error) []string {
	var (
		ua  x509.UnknownAuthorityError
		uap *x509.UnknownAuthorityError
		he  x509.HostnameError
		cv  *tls.CertificateVerificationError
	)
	switch {
	case errors.As(err, &ua) || errors.As(err, &uap) || errors.As(err, &cv) && strings.Contains(cv.Error(), "unknown authority"):
		return []string{"the server's certificate is not signed by a trusted CA: pass the CA with --tlscacert or remote_server.root_ca"}
	case errors.As(err, &he):
		return []string{"the server's certificate is not valid for the host name in the server URL"}
	case strings.Contains(err.Error(), "certificate required") || strings.Contains(err.Error(), "bad certificate"):
		return []string{"the server wants a client certificate: --tlscert/--tlskey, or remote_server.tls_client_cert/tls_client_key"}
	}
	return []string{"check the server URL scheme (https) and the TLS settings (--tlscacert, --tlscert, --tlskey)"}
}
