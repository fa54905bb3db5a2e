package passphrase

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
)

func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestEnvVarNames(t *testing.T) {
	tests := []struct{ alias, notary, docker string }{
		{"root", "NOTARY_ROOT_PASSPHRASE", "DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE"},
		{"targets", "NOTARY_TARGETS_PASSPHRASE", "DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE"},
		{"snapshot", "NOTARY_SNAPSHOT_PASSPHRASE", "DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE"},
		{"timestamp", "", "DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE"},
		{"targets/releases", "NOTARY_DELEGATION_PASSPHRASE", "DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE"},
		{"user", "NOTARY_DELEGATION_PASSPHRASE", "DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE"},
		{"", "NOTARY_DELEGATION_PASSPHRASE", "DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE"},
	}
	for _, tt := range tests {
		t.Run(tt.alias, func(t *testing.T) {
			if got := NotaryEnvVar(tt.alias); got != tt.notary {
				t.Errorf("NotaryEnvVar = %q, want %q", got, tt.notary)
			}
			if got := DockerEnvVar(tt.alias); got != tt.docker {
				t.Errorf("DockerEnvVar = %q, want %q", got, tt.docker)
			}
		})
	}
}

func TestFromEnv(t *testing.T) {
	env := envMap(map[string]string{
		"NOTARY_ROOT_PASSPHRASE":       " root pass ",
		"NOTARY_DELEGATION_PASSPHRASE": "deleg",
	})
	tests := []struct {
		name       string
		alias      string
		attempt    int
		want       string
		wantGiveUp bool
		wantErr    string
		wantNoPass bool
	}{
		{name: "root", alias: "root", want: " root pass "},
		{name: "delegation", alias: "targets/releases", want: "deleg"},
		{name: "unset", alias: "targets", wantGiveUp: true, wantNoPass: true,
			wantErr: "no passphrase for role targets: set NOTARY_TARGETS_PASSPHRASE or run on a terminal"},
		{name: "timestamp has none", alias: "timestamp", wantGiveUp: true, wantNoPass: true,
			wantErr: "no passphrase for role timestamp: run on a terminal"},
		{name: "second attempt", alias: "root", attempt: 1, wantGiveUp: true,
			wantErr: "passphrase from NOTARY_ROOT_PASSPHRASE not accepted for root key"},
	}
	r := NotaryEnv(env)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, giveUp, err := r("0123456789abcdef", tt.alias, false, tt.attempt)
			if string(got) != tt.want || giveUp != tt.wantGiveUp {
				t.Errorf("got %q giveUp %v, want %q %v", got, giveUp, tt.want, tt.wantGiveUp)
			}
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr) {
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
			if errors.Is(err, ErrNoPassphrase) != tt.wantNoPass {
				t.Errorf("errors.Is(err, ErrNoPassphrase) = %v, want %v", !tt.wantNoPass, tt.wantNoPass)
			}
		})
	}
}

func TestDockerEnv(t *testing.T) {
	r := DockerEnv(envMap(map[string]string{
		"DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE":       "rootpass",
		"DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE": "repopass",
	}))
	for alias, want := range map[string]string{"root": "rootpass", "targets": "repopass", "snapshot": "repopass", "targets/releases": "repopass"} {
		t.Run(alias, func(t *testing.T) {
			if got, _, err := r("id", alias, true, 0); string(got) != want || err != nil {
				t.Errorf("got %q, %v; want %q", got, err, want)
			}
		})
	}
}

func TestConstant(t *testing.T) {
	r := Constant("pass")
	if p, giveUp, err := r("id", "root", false, 0); string(p) != "pass" || giveUp || err != nil {
		t.Errorf("attempt 0: %q %v %v", p, giveUp, err)
	}
	if _, giveUp, err := r("id", "root", false, 1); !giveUp || err == nil {
		t.Errorf("attempt 1: giveUp %v err %v, want give up", giveUp, err)
	}
}

// fake is a scripted source that records its calls.
type fake struct {
	calls int
	pass  string
	err   error
}

func (f *fake) retrieve(_, _ string, _ bool, _ int) ([]byte, bool, error) {
	f.calls++
	return []byte(f.pass), f.err != nil, f.err
}

func TestChain(t *testing.T) {
	noPass := &NoPassphraseError{Alias: "root", EnvVar: "NOTARY_ROOT_PASSPHRASE"}
	wrong := errors.New("wrong")
	tests := []struct {
		name       string
		first      fake
		second     fake
		want       string
		wantErr    error
		wantCalls2 int
	}{
		{name: "first answers", first: fake{pass: "a"}, second: fake{pass: "b"}, want: "a"},
		{name: "falls through", first: fake{err: noPass}, second: fake{pass: "b"}, want: "b", wantCalls2: 1},
		{name: "first gives up for good", first: fake{err: wrong}, second: fake{pass: "b"}, wantErr: wrong},
		{name: "none", first: fake{err: noPass}, second: fake{err: noPass}, wantErr: ErrNoPassphrase, wantCalls2: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, giveUp, err := Chain(tt.first.retrieve, tt.second.retrieve)("id", "root", false, 0)
			if string(got) != tt.want || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) == giveUp {
				t.Errorf("got %q %v %v, want %q %v", got, giveUp, err, tt.want, tt.wantErr)
			}
			if tt.second.calls != tt.wantCalls2 {
				t.Errorf("second source called %d times, want %d", tt.second.calls, tt.wantCalls2)
			}
		})
	}
	if _, giveUp, err := Chain()("id", "root", false, 0); !giveUp || !errors.Is(err, ErrNoPassphrase) {
		t.Errorf("empty chain: %v %v", giveUp, err)
	}
}

type call struct {
	keyName, alias string
	createNew      bool
	attempt        int
	want           string
	wantGiveUp     bool
	wantErr        error
}

func TestPrompt(t *testing.T) {
	const id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	tests := []struct {
		name    string
		input   string
		aliases map[string]string
		calls   []call
		wantOut string
	}{
		{
			name:    "decrypt, then cached",
			input:   "  secret  \n",
			calls:   []call{{keyName: id, alias: "targets", want: "secret"}, {keyName: "other", alias: "targets", want: "secret"}},
			wantOut: "Enter passphrase for targets key with ID 0123456: \n",
		},
		{
			name:  "retries then too many",
			input: "a\nb\nc\nd\n",
			calls: []call{
				{keyName: id, alias: "root", want: "a"},
				{keyName: id, alias: "root", attempt: 1, want: "b"},
				{keyName: id, alias: "root", attempt: 2, want: "c"},
				{keyName: id, alias: "root", attempt: 3, wantGiveUp: true, wantErr: ErrTooManyAttempts},
			},
			wantOut: "Enter passphrase for root key with ID 0123456: \n" +
				"Passphrase incorrect. Please retry.\nEnter passphrase for root key with ID 0123456: \n" +
				"Passphrase incorrect. Please retry.\nEnter passphrase for root key with ID 0123456: \n",
		},
		{
			name:  "wrong cached passphrase is forgotten",
			input: "first\nsecond\n",
			calls: []call{
				{keyName: id, alias: "snapshot", want: "first"},
				{keyName: id, alias: "snapshot", attempt: 1, want: "second"},
				{keyName: id, alias: "snapshot", want: "second"},
			},
			wantOut: "Enter passphrase for snapshot key with ID 0123456: \n" +
				"Passphrase incorrect. Please retry.\nEnter passphrase for snapshot key with ID 0123456: \n",
		},
		{
			name:  "new key: short, mismatch, ok",
			input: "short\nlongenough\ndifferent\nlongenough\nlongenough\n",
			calls: []call{{keyName: id, alias: "targets", createNew: true, want: "longenough"}},
			wantOut: "Enter passphrase for new targets key with ID 0123456: \n" +
				"Passphrase is too short. Please use a password manager to generate and store a good random passphrase.\n" +
				"Enter passphrase for new targets key with ID 0123456: \n" +
				"Repeat passphrase for new targets key with ID 0123456: \n" +
				"Passphrases do not match. Please retry.\n" +
				"Enter passphrase for new targets key with ID 0123456: \n" +
				"Repeat passphrase for new targets key with ID 0123456: \n",
		},
		{
			name:  "new root key warns; too many",
			input: "a\nb\nc\n",
			calls: []call{{keyName: "", alias: "root", createNew: true, wantGiveUp: true, wantErr: ErrTooManyAttempts}},
			wantOut: rootKeyGenerationWarning + "\n" + strings.Repeat("Enter passphrase for new root key: \n"+
				"Passphrase is too short. Please use a password manager to generate and store a good random passphrase.\n", 3),
		},
		{
			name:    "docker names",
			input:   "pass\n",
			aliases: DockerAliases,
			calls:   []call{{keyName: id, alias: "targets", want: "pass"}},
			wantOut: "Enter passphrase for repository key with ID 0123456: \n",
		},
		{
			name:    "end of input",
			input:   "",
			calls:   []call{{keyName: id, alias: "root", wantGiveUp: true, wantErr: io.EOF}},
			wantOut: "Enter passphrase for root key with ID 0123456: \n",
		},
		{
			name:    "last line without newline",
			input:   "tail",
			calls:   []call{{keyName: id, alias: "root", want: "tail"}},
			wantOut: "Enter passphrase for root key with ID 0123456: \n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			r := Prompt(strings.NewReader(tt.input), &out, tt.aliases)
			for i, c := range tt.calls {
				got, giveUp, err := r(c.keyName, c.alias, c.createNew, c.attempt)
				if string(got) != c.want || giveUp != c.wantGiveUp || (c.wantErr == nil) != (err == nil) || !errors.Is(err, c.wantErr) {
					t.Errorf("call %d: got %q giveUp %v err %v; want %q %v %v", i, got, giveUp, err, c.want, c.wantGiveUp, c.wantErr)
				}
			}
			if out.String() != tt.wantOut {
				t.Errorf("output:\n%q\nwant:\n%q", out.String(), tt.wantOut)
			}
		})
	}
}

func TestPromptConcurrent(t *testing.T) {
	r := Prompt(strings.NewReader(strings.Repeat("passphrase\n", 100)), io.Discard, nil)
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if p, _, err := r("id", "targets", false, 0); string(p) != "passphrase" || err != nil {
				t.Errorf("got %q %v", p, err)
			}
		}()
	}
	wg.Wait()
}

func TestShortName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"0123456789", "0123456"},
		{"0123456", ""},
		{"", ""},
		{"tuf_keys/gun/0123456789", "0123456 (tuf_keys/gun)"},
	}
	for _, tt := range tests {
		if got := shortName(tt.in); got != tt.want {
			t.Errorf("shortName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestNewWithoutTerminal: with no terminal, New answers from the
// environment or gives up at once with a clear error.
func TestNewWithoutTerminal(t *testing.T) {
	in, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	tests := []struct {
		name    string
		docker  bool
		env     map[string]string
		alias   string
		want    string
		wantErr string
	}{
		{name: "notary root from env", env: map[string]string{"NOTARY_ROOT_PASSPHRASE": "r00tpass"}, alias: "root", want: "r00tpass"},
		{name: "notary missing", alias: "root", wantErr: "no passphrase for role root: set NOTARY_ROOT_PASSPHRASE or run on a terminal"},
		{name: "notary delegation missing", alias: "targets/releases", wantErr: "no passphrase for role targets/releases: set NOTARY_DELEGATION_PASSPHRASE or run on a terminal"},
		{name: "docker repo", docker: true, env: map[string]string{"DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE": "repo"}, alias: "targets/releases", want: "repo"},
		{name: "docker ignores notary vars", docker: true, env: map[string]string{"NOTARY_ROOT_PASSPHRASE": "x"}, alias: "root",
			wantErr: "no passphrase for role root: set DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE or run on a terminal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New(Options{Getenv: envMap(tt.env), Docker: tt.docker, In: in, Out: os.Stderr})
			got, giveUp, err := r("id", tt.alias, false, 0)
			if string(got) != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr || !giveUp || !errors.Is(err, ErrNoPassphrase) {
					t.Errorf("err = %v (giveUp %v), want %q", err, giveUp, tt.wantErr)
				}
			} else if err != nil {
				t.Errorf("err = %v", err)
			}
		})
	}
}
