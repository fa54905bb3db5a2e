package audit

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// A cliFlag is one flag of one command, as its help shows it.
type cliFlag struct {
	command string // "notary key import", "notary-signer rotate-alias"
	name    string
	value   string // "" for a boolean flag
	usage   string
}

// buildPrograms builds the named programs (default: all four) into a
// temporary folder.
func buildPrograms(t *testing.T, names ...string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the programs")
	}
	if len(names) == 0 {
		names = []string{"notary", "notary-server", "notary-signer", "notary-auth", "notary-proxy", "notary-admission"}
	}
	dir := t.TempDir()
	args := []string{"build", "-o", dir + string(os.PathSeparator)}
	for _, n := range names {
		args = append(args, "./cmd/"+n)
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = filepath.Join("..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return dir
}

// help runs bin with args and returns what it printed (help goes to stdout
// or stderr depending on the program; the exit status does not matter).
func help(t *testing.T, bin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}
	out, _ := cmd.CombinedOutput()
	return string(out)
}

var (
	// Go flag package: "  -name type" then "    \tusage".
	goFlagLine = regexp.MustCompile(`^  -([A-Za-z0-9][\w.-]*)(?: (\w+))?$`)
	// cobra: "  -s, --server string   usage" or "      --mirror string   usage".
	cobraFlagLine = regexp.MustCompile(`^\s+(?:-\w, )?--([\w.-]+)(?: (\w+))?\s{2,}(.*)$`)
	cobraCmdLine  = regexp.MustCompile(`^  ([a-z][\w-]*)\s{2,}`)
)

// goFlags parses the flag list of a Go flag-package help text.
func goFlags(command, text string) []cliFlag {
	var out []cliFlag
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		m := goFlagLine.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		f := cliFlag{command: command, name: m[1], value: m[2]}
		if i+1 < len(lines) {
			f.usage = strings.TrimSpace(lines[i+1])
		}
		out = append(out, f)
	}
	return out
}

// subcommands finds "prog sub" in a usage text.
func subcommands(prog, text string) []string {
	re := regexp.MustCompile(`(?m)^\s+` + regexp.QuoteMeta(prog) + ` \[?([a-z][a-z0-9-]+)\]?\b`)
	var subs []string
	for _, m := range re.FindAllStringSubmatch(text, -1) {
		if m[1] != "help" && !slices.Contains(subs, m[1]) {
			subs = append(subs, m[1])
		}
	}
	return subs
}

// walkGoProgram lists the flags of a Go flag-package program and of every
// subcommand its usage names.
func walkGoProgram(t *testing.T, dir, prog string) []cliFlag {
	bin := filepath.Join(dir, prog)
	top := help(t, bin, "-help")
	flags := goFlags(prog, top)
	for _, sub := range subcommands(prog, top) {
		flags = append(flags, goFlags(prog+" "+sub, help(t, bin, sub, "-help"))...)
	}
	return flags
}

// walkCobra lists the flags of the notary CLI's every command, recursively.
func walkCobra(t *testing.T, bin string, path []string, out *[]cliFlag) {
	text := help(t, bin, append(slices.Clone(path), "--help")...)
	command := strings.Join(append([]string{"notary"}, path...), " ")
	section := ""
	sc := bufio.NewScanner(strings.NewReader(text))
	var subs []string
	for sc.Scan() {
		l := sc.Text()
		if strings.HasSuffix(l, ":") && !strings.HasPrefix(l, " ") {
			section = l
			continue
		}
		switch section {
		case "Available Commands:", "Additional Commands:":
			if m := cobraCmdLine.FindStringSubmatch(l); m != nil && m[1] != "help" && m[1] != "completion" {
				subs = append(subs, m[1])
			}
		case "Flags:", "Global Flags:":
			if m := cobraFlagLine.FindStringSubmatch(l); m != nil {
				*out = append(*out, cliFlag{command: command, name: m[1], value: m[2], usage: m[3]})
			}
		}
	}
	for _, s := range subs {
		walkCobra(t, bin, append(slices.Clone(path), s), out)
	}
}

var (
	// secretName: a flag whose value is a secret by its name.
	secretName = regexp.MustCompile(`(?i)pass(word|wd|phrase)?\b|passphrase|secret|token|credential|api-?key|\bpin\b|private-?key-?data`)
	// secretUsage: a flag whose usage says it carries a secret.
	secretUsage = regexp.MustCompile(`(?i)\b(password|passphrase|secret|pin|credentials?|bearer)\b`)
	// dsnName, dsnUsage: a flag that takes a database DSN, which may hold
	// a password.
	dsnName  = regexp.MustCompile(`(?i)dsn|url`)
	dsnUsage = regexp.MustCompile(`\bDSN\b`)
)

// notSecret are flags whose usage mentions a secret word but whose value
// is not one, each reviewed.
var notSecret = map[string]string{
	"notary-server -data-dir":               "a folder (which holds the generated key passphrase file, mode 0600)",
	"notary-server import-v1 -data-dir":     "a folder, as for the server",
	"notary-signer rotate-alias -new-alias": "the name of a passphrase alias; the passphrase itself comes from $NOTARY_SIGNER_<ALIAS>",
}

// notSecretInherited are persistent flags, reviewed once for every
// command of the program that inherits them (program and flag name).
var notSecretInherited = map[string]string{
	"notary -key-store": `"file" or "pkcs11"; the PIN comes from $NOTARY_PKCS11_PIN or a prompt`,
}

// TestAudit_NCC2015_6_NoSecretsOnCommandLine: NCC 2015 finding 6 (secrets
// could be passed as command-line arguments, readable by every user of the
// machine in the process list and kept in shell history). It builds the
// four programs and walks every flag of every command from their own help
// (the notary CLI's whole cobra tree; notary-server, notary-signer and
// notary-auth and each subcommand their usage names). No flag may take a
// secret by its name or usage; a flag that takes a DSN must refuse one
// holding a password, pointing at the environment variable to use instead,
// without echoing it.
func TestAudit_NCC2015_6_NoSecretsOnCommandLine(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("program names")
	}
	dir := buildPrograms(t)
	var flags []cliFlag
	walkCobra(t, filepath.Join(dir, "notary"), nil, &flags)
	for _, prog := range []string{"notary-server", "notary-signer", "notary-auth", "notary-proxy", "notary-admission"} {
		flags = append(flags, walkGoProgram(t, dir, prog)...)
	}

	// The walk must see the programs: a help format change that hid the
	// flags would otherwise pass.
	seen := map[string]bool{}
	for _, f := range flags {
		seen[f.command+" -"+f.name] = true
	}
	for _, want := range []string{
		"notary -server", "notary key import -role", "notary delegation add -all-paths", "notary init -rootkey",
		"notary-server -config", "notary-server import-v1 -from-url",
		"notary-signer -config", "notary-signer rotate-alias -new-alias", "notary-signer import-v1 -to-url",
		"notary-auth -config", "notary-auth keygen -key", "notary-auth htpasswd -cost",
	} {
		if !seen[want] {
			t.Errorf("the walk did not find flag %q (help format changed?)", want)
		}
	}
	t.Logf("walked %d flags of %d commands", len(flags), len(commandsOf(flags)))

	const secret = "s3cretPassw0rd"
	for _, f := range flags {
		what := f.command + " -" + f.name
		if f.value == "" { // a boolean carries no secret
			continue
		}
		if _, ok := notSecret[what]; ok {
			continue
		}
		prog, _, _ := strings.Cut(f.command, " ")
		if _, ok := notSecretInherited[prog+" -"+f.name]; ok {
			continue
		}
		if secretName.MatchString(f.name) || secretUsage.MatchString(f.usage) {
			t.Errorf("%s takes a secret on the command line (%q): read it from the environment, a file or a prompt", what, f.usage)
			continue
		}
		if !dsnName.MatchString(f.name) && !dsnUsage.MatchString(f.usage) {
			continue
		}
		// A DSN flag: one holding a password is refused, naming the
		// environment variable, before anything is opened.
		for _, dsn := range []string{"postgres://audit:" + secret + "@127.0.0.1:1/none?sslmode=disable", "audit:" + secret + "@tcp(127.0.0.1:1)/none"} {
			parts := strings.Fields(f.command)
			args := append(parts[1:], "-"+f.name, dsn)
			out := help(t, filepath.Join(dir, parts[0]), args...)
			if strings.Contains(out, secret) {
				t.Errorf("%s echoed the password of its DSN:\n%s", what, out)
			}
			if !strings.Contains(out, "password") || !strings.Contains(out, "$NOTARY_") {
				t.Errorf("%s accepted a DSN with a password on the command line:\n%s", what, out)
			}
		}
	}
}

func commandsOf(flags []cliFlag) map[string]bool {
	m := map[string]bool{}
	for _, f := range flags {
		m[f.command] = true
	}
	return m
}
