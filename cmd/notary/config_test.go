package main

import (
	"path/filepath"
	"testing"
)

// TestConfigFileChecked: the client config's unknown keys are warned
// about by name and the command runs; a section or key of the wrong type
// is an error naming it (issue 19).
func TestConfigFileChecked(t *testing.T) {
	c := newCLI(t, "")
	cfg := writeFile(t, filepath.Join(c.home, "extra.json"), `{"remote_server":{"url":"https://notary.example.com","timeout":5},"trust_dir_x":"a"}`)
	r := c.ok("-c", cfg, "key", "list")
	mustContain(t, "stderr", r.err, `warning: ignoring unknown key "remote_server.timeout"`, `warning: ignoring unknown key "trust_dir_x"`, cfg)

	for _, tc := range []struct{ name, file, want string }{
		{"ServerString", `{"remote_server":"https://notary.example.com"}`, "remote_server must be an object, not a string"},
		{"TrustDirList", `{"trust_dir":["a"]}`, "trust_dir must be a string, not a list"},
		{"SkipVerifyString", `{"remote_server":{"skipTLSVerify":"yes"}}`, "remote_server.skiptlsverify must be true or false, not a string"},
		{"PinningCAList", `{"trust_pinning":{"ca":["ca.crt"]}}`, "trust_pinning.ca must be an object, not a list"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := writeFile(t, filepath.Join(c.home, tc.name+".json"), tc.file)
			r := c.fail("-c", cfg, "key", "list")
			mustContain(t, "stderr", r.err, tc.want)
		})
	}
}

// TestConfigPathsFromAnotherDirectory: relative paths in the config file
// resolve against its directory, whatever the working directory.
func TestConfigPathsFromAnotherDirectory(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "config.json"), `{"trust_dir":"trust","remote_server":{"root_ca":"tls/ca.crt"},"trust_pinning":{"ca":{"example.com/":"pins/ca.crt"}}}`)
	cwd := t.TempDir()
	t.Chdir(cwd)
	rel, err := filepath.Rel(cwd, filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	a := &app{stdio: &stdio{getenv: func(k string) string {
		if k == "HOME" {
			return cwd
		}
		return ""
	}}}
	a.flags.configFile = rel
	s, err := a.loadSettings()
	if err != nil {
		t.Fatal(err)
	}
	for what, got := range map[string][2]string{
		"trust_dir": {s.TrustDir, filepath.Join(dir, "trust")},
		"root_ca":   {s.RootCA, filepath.Join(dir, "tls", "ca.crt")},
		"pin CA":    {s.Pinning.CA["example.com/"], filepath.Join(dir, "pins", "ca.crt")},
	} {
		if got[0] != got[1] {
			t.Errorf("%s = %q, want %q", what, got[0], got[1])
		}
	}
}

func TestHelpListsConfigKeys(t *testing.T) {
	r := newCLI(t, "").ok("--help")
	mustContain(t, "notary --help", r.out, "remote_server.url", "remote_server.root_ca", "remote_server.skipTLSVerify",
		"trust_pinning.certs", "trust_pinning.ca", "trust_pinning.disable_tofu", "trust_dir", "relative to the config file's\ndirectory")
}
