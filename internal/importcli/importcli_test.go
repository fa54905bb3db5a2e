package importcli

import (
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     []string
		wantOK   bool
		wantFlag bool // a *FlagError
		wantErr  bool
		want     Flags
	}{
		{"Defaults", nil, true, false, false, Flags{SourceTZ: "UTC", Batch: 7}},
		{"All", []string{"-from-backend", "mysql", "-from-url", "u", "-to-backend", "sqlite3", "-to-url", "f.db", "-config", "c.json", "-source-tz", "Local", "-dry-run", "-quiet", "-batch", "3"}, true, false, false,
			Flags{FromBackend: "mysql", FromURL: "u", ToBackend: "sqlite3", ToURL: "f.db", ConfigFile: "c.json", SourceTZ: "Local", DryRun: true, Quiet: true, Batch: 3}},
		{"Help", []string{"-help"}, false, false, false, Flags{}},
		{"UnknownFlag", []string{"-bogus"}, false, true, true, Flags{}},
		{"ExtraArgs", []string{"-dry-run", "extra"}, false, false, true, Flags{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := flag.NewFlagSet("x", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			var f Flags
			f.Register(fs, Help{Upstream: "notary-server", Batch: 7})
			ok, err := Parse(fs, tc.args)
			if ok != tc.wantOK || (err != nil) != tc.wantErr {
				t.Fatalf("Parse = %v, %v; want ok %v, error %v", ok, err, tc.wantOK, tc.wantErr)
			}
			var fe *FlagError
			if errors.As(err, &fe) != tc.wantFlag {
				t.Errorf("err = %v, *FlagError %v", err, tc.wantFlag)
			}
			if ok && f != tc.want {
				t.Errorf("flags = %+v, want %+v", f, tc.want)
			}
		})
	}
}

func TestRegisterHelp(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	var f Flags
	f.Register(fs, Help{Upstream: "notary-signer", ToBackend: " (tb)", ToURLDefault: ", or tu", Config: "cfg", DryRun: "dr", SourceTZ: "Local", Batch: 9})
	for name, want := range map[string]string{
		"from-url":   "Upstream notary-signer DSN, as its storage.db_url (default $" + FromURLEnv + ")",
		"to-backend": "Destination engine: sqlite3, postgres or mysql (tb)",
		"to-url":     "Destination DSN or SQLite file (default $" + ToURLEnv + ", or tu)",
		"config":     "cfg",
		"dry-run":    "dr",
		"source-tz":  "Zone of the upstream database's zone-less times (e.g. Local)",
	} {
		if got := fs.Lookup(name).Usage; got != want {
			t.Errorf("-%s usage = %q, want %q", name, got, want)
		}
	}
	if got := fs.Lookup("batch").DefValue; got != "9" {
		t.Errorf("-batch default = %s, want 9", got)
	}
}

func TestOutcome(t *testing.T) {
	conflict := errors.New("2 conflicts")
	for _, tc := range []struct {
		name   string
		ierr   error
		failed int
		want   string // "" for nil
	}{
		{"Clean", nil, 0, ""},
		{"Conflicts", conflict, 0, "2 conflicts"},
		{"Failed", nil, 3, "3 things failed (hint)"},
		{"Both", conflict, 1, "2 conflicts; and 1 things failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Outcome(tc.ierr, tc.failed, "things failed", " (hint)")
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Outcome = %v, want nil", err)
				}
				return
			}
			if err == nil || err.Error() != tc.want {
				t.Fatalf("Outcome = %v, want %q", err, tc.want)
			}
			if tc.ierr != nil && tc.failed == 0 && !errors.Is(err, tc.ierr) {
				t.Errorf("Outcome does not keep the import error")
			}
		})
	}
}

func TestThrottle(t *testing.T) {
	now := time.Unix(1000, 0)
	show := Throttle(func() time.Time { return now })
	var got []string
	step := func(phase string, final bool, label string) {
		show(phase, final, func() { got = append(got, label) })
	}
	step("a", false, "a1")    // first of a phase: shown
	step("a", false, "a2")    // same second: dropped
	step("b", false, "b1")    // another phase: shown
	step("a", true, "a-last") // last step: always shown
	now = now.Add(time.Second)
	step("a", false, "a3") // a second later: shown
	step("b", false, "b2") // a second after b1: shown
	now = now.Add(time.Millisecond)
	step("b", false, "b3") // dropped
	if want := "a1 b1 a-last a3 b2"; strings.Join(got, " ") != want {
		t.Errorf("shown %q, want %q", strings.Join(got, " "), want)
	}
}

func TestEnds(t *testing.T) {
	e := Ends{FromBackend: "postgres", FromURL: "postgres://u:secret1@h/db", Backend: "mysql", DSN: "u:secret2@tcp(h)/db", DryRun: true}
	var b strings.Builder
	e.Print(&b)
	err := e.Redact(errors.New("failed: postgres://u:secret1@h/db and u:secret2@tcp(h)/db"))
	for _, s := range []string{b.String(), err.Error()} {
		if strings.Contains(s, "secret") {
			t.Errorf("a password is shown: %s", s)
		}
	}
	if !strings.Contains(b.String(), "dry run: nothing will be written") {
		t.Errorf("no dry-run line: %s", b.String())
	}
	if Verb(true) != "to import" || Verb(false) != "imported" {
		t.Errorf("Verb = %q, %q", Verb(true), Verb(false))
	}
}
