package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/notary-go/notary/changelist"
)

const gun = "example.com/app"

var keyIDRE = regexp.MustCompile(`[0-9a-f]{64}`)

// TestWorkflow runs every collection, key and delegation command against
// our server, in the order a publisher would, checking v0.7.0's output.
func TestWorkflow(t *testing.T) {
	srv := newTestServer(t)
	c := newCLI(t, srv.URL)
	dir := t.TempDir()
	hello := writeFile(t, filepath.Join(dir, "hello.txt"), "hello world\n")
	custom := writeFile(t, filepath.Join(dir, "custom.json"), `{ "note": "x", "build": 7 }`)

	// init -p: root, targets, snapshot keys made; published at once.
	r := c.ok("init", "-p", gun)
	if r.out != "Auto-publishing changes to "+gun+"\nSuccessfully published changes for repository "+gun+"\n" {
		t.Errorf("init output:\n%s", r.out)
	}

	// add, addhash, status.
	r = c.ok("add", gun, "hello", hello)
	mustContain(t, "add", r.out, `Addition of target "hello" to repository "example.com/app" staged for next publish.`)
	r = c.ok("add", gun, "v1.0", hello, "--custom", custom)
	r = c.ok("addhash", gun, "by-hash", "1234", "--sha256", strings.Repeat("ab", 32))
	mustContain(t, "addhash", r.out, `Addition of target "by-hash" by sha256 hash to repository "example.com/app" staged for next publish.`)
	r = c.ok("status", gun)
	want := "Unpublished changes for example.com/app:\n\n" +
		"#    ACTION    SCOPE      TYPE      PATH\n" +
		"-    ------    -----      ----      ----\n" +
		"0    create    targets    target    hello\n" +
		"1    create    targets    target    v1.0\n" +
		"2    create    targets    target    by-hash\n"
	if r.out != want {
		t.Errorf("status:\n%s\nwant:\n%s", r.out, want)
	}
	// The custom data was staged in canonical form.
	mustContain(t, "changelist", readChangelist(t, c, gun), `"custom":{"build":7,"note":"x"}`)

	r = c.ok("publish", gun)
	if r.out != "Pushing changes to "+gun+"\nSuccessfully published changes for repository "+gun+"\n" {
		t.Errorf("publish output:\n%s", r.out)
	}
	c.ok("status", gun)

	// list and lookup from a fresh trust dir (another consumer).
	consumer := newCLI(t, srv.URL)
	r = consumer.ok("list", gun)
	want = "NAME       DIGEST                                                              SIZE (BYTES)    ROLE\n" +
		"----       ------                                                              ------------    ----\n" +
		"by-hash    abababababababababababababababababababababababababababababababab    1234            targets\n" +
		"hello      a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447    12              targets\n" +
		"v1.0       a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447    12              targets\n"
	if r.out != want {
		t.Errorf("list:\n%s\nwant:\n%s", r.out, want)
	}
	r = consumer.ok("lookup", gun, "hello")
	if r.out != "hello sha256:a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447 12\n" {
		t.Errorf("lookup: %q", r.out)
	}
	r = consumer.runIn("hello world\n", "verify", gun, "hello")
	if r.code != 0 || r.out != "hello world\n" {
		t.Errorf("verify: %s", r)
	}
	r = consumer.run("verify", gun, "hello", "-i", hello, "-q")
	if r.code != 0 || r.out != "" {
		t.Errorf("verify -q: %s", r)
	}
	out := filepath.Join(dir, "verified")
	consumer.ok("verify", gun, "hello", "-i", hello, "-o", out)
	if b, _ := os.ReadFile(out); string(b) != "hello world\n" {
		t.Errorf("verify -o wrote %q", b)
	}
	r = consumer.runIn("tampered\n", "verify", gun, "hello")
	if r.code == 0 {
		t.Errorf("verify of other content succeeded: %s", r)
	}
	mustContain(t, "verify stderr", r.err, "data not present in the trusted collection")

	// Delegations: a key made by `key generate -o`, and a certificate.
	relBase := filepath.Join(dir, "releases")
	r = c.ok("key", "generate", "ecdsa", "--role", "targets/releases", "-o", relBase)
	if r.out != "" {
		t.Errorf("key generate -o printed %q", r.out)
	}
	for _, f := range []string{relBase + ".pem", relBase + "-key.pem"} {
		if st, err := os.Stat(f); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v", f, st, err)
		}
	}
	r = c.ok("delegation", "add", gun, "targets/releases", relBase+".pem", "--all-paths")
	relID := keyIDRE.FindString(r.out)
	mustContain(t, "delegation add", r.out, "\nAddition of delegation role targets/releases with keys ["+relID+"], with paths [\"\" <all paths>], to repository \"example.com/app\" staged for next publish.\n\n")
	c.ok("delegation", "add", gun, "targets/qa", relBase+".pem", "--paths", "qa/,other/")
	c.ok("key", "import", relBase+"-key.pem")
	c.ok("publish", gun)

	r = consumer.ok("delegation", "list", gun)
	want = "\nROLE                PATHS             KEY IDS                                                             THRESHOLD\n" +
		"----                -----             -------                                                             ---------\n" +
		"targets/qa          other/            " + relID + "    1\n" +
		"                    qa/                                                                                   \n" +
		"targets/releases    \"\" <all paths>    " + relID + "    1\n\n"
	if r.out != want {
		t.Errorf("delegation list:\n%q\nwant:\n%q", r.out, want)
	}

	c.ok("add", gun, "release-1", hello, "-r", "targets/releases")
	c.ok("add", gun, "qa/tool", hello, "-r", "targets/qa", "-p")
	r = consumer.ok("list", gun)
	mustContain(t, "list", r.out, "release-1 ", "targets/releases\n", "qa/tool ", "targets/qa\n")
	r = consumer.ok("list", gun, "--roles", "targets/releases")
	if strings.Count(r.out, "\n") != 3 {
		t.Errorf("list -r targets/releases:\n%s", r.out)
	}

	// A target outside the delegation's paths cannot be published.
	c.ok("add", gun, "elsewhere", hello, "-r", "targets/qa")
	r = c.fail("publish", gun)
	mustContain(t, "publish stderr", r.err, "cannot apply staged change #0", "notary reset example.com/app -n 0")
	c.ok("reset", gun, "-n", "0")
	r = c.ok("status", gun)
	mustContain(t, "status", r.out, "No unpublished changes for example.com/app")

	// witness.
	r = c.ok("witness", gun, "targets/releases", "-p")
	mustContain(t, "witness", r.out, "The following roles were successfully marked for witnessing on the next publish:\n\t- targets/releases\n", "Successfully published")

	// Key rotations: snapshot and timestamp to the server, targets to a
	// new local key, root to a new key (answering yes).
	keysBefore := c.ok("key", "list").out
	r = c.ok("key", "rotate", gun, "snapshot", "-r")
	if r.out != "Successfully rotated snapshot key for repository example.com/app\n" {
		t.Errorf("rotate: %q", r.out)
	}
	c.ok("key", "rotate", gun, "timestamp", "-r")
	c.ok("key", "rotate", gun, "targets")
	r = c.runIn("yes\n", "key", "rotate", gun, "root")
	if r.code != 0 {
		t.Fatalf("rotate root: %s", r)
	}
	mustContain(t, "rotate root", r.out, "Warning: you are about to rotate your root key.", "Successfully rotated root key for repository example.com/app")
	r = c.runIn("no\n", "key", "rotate", gun, "root")
	mustContain(t, "rotate root (no)", r.out, "Aborting action.")
	keysAfter := c.ok("key", "list").out
	if strings.Count(keysAfter, "\nroot ") != 2 || strings.Contains(keysAfter, "snapshot") || strings.Count(keysBefore, "targets    ") != strings.Count(keysAfter, "targets    ") {
		t.Errorf("keys before:\n%s\nafter:\n%s", keysBefore, keysAfter)
	}
	r = consumer.ok("list", gun) // the consumer follows the rotations
	mustContain(t, "list after rotations", r.out, "hello ", "release-1 ")

	// Rotation rules (v1 wording).
	r = c.fail("key", "rotate", gun, "targets", "-r")
	mustContain(t, "rotate targets -r", r.err, "notary does not permit the server managing the targets key")
	r = c.fail("key", "rotate", gun, "timestamp")
	mustContain(t, "rotate timestamp", r.err, "notary does not permit the client managing the timestamp key")

	// remove, delegation remove/purge.
	c.ok("remove", gun, "hello", "-p")
	r = c.ok("delegation", "remove", gun, "targets/qa", "--paths", "other/")
	mustContain(t, "delegation remove paths", r.out, "Removal of delegation role targets/qa with paths [other/], to repository")
	r = c.ok("delegation", "purge", gun, "--key", relID)
	mustContain(t, "purge", r.out, "Removal of the following keys from all delegations in example.com/app staged for next publish:\n\t- "+relID)
	c.ok("reset", gun, "--all")
	r = c.ok("delegation", "remove", gun, "targets/qa", "-y", "-p")
	mustContain(t, "delegation remove", r.out, "Confirmed `yes` from flag", "Forced removal (including all keys and paths) of delegation role targets/qa to repository \"example.com/app\" staged for next publish.", "Successfully published")
	r = consumer.ok("list", gun)
	mustNotContain(t, "list", r.out, "hello ", "qa/tool")
	r = consumer.ok("delegation", "list", gun)
	mustNotContain(t, "delegation list", r.out, "targets/qa")

	// cert list shows the root certificate the consumer trusts.
	r = consumer.ok("cert", "list")
	mustContain(t, "cert list", r.out, "FINGERPRINT OF TRUSTED ROOT CERTIFICATE", gun, "days")

	// delete --remote.
	r = c.ok("delete", gun, "--remote")
	if r.out != "Deleting trust data for repository example.com/app\nSuccessfully deleted local and remote trust data for repository example.com/app\n" {
		t.Errorf("delete: %q", r.out)
	}
	if _, err := os.Stat(filepath.Join(c.trustDir, "tuf", "example.com", "app")); !os.IsNotExist(err) {
		t.Errorf("local trust data still there: %v", err)
	}
	r = newCLI(t, srv.URL).fail("list", gun)
	mustContain(t, "list after delete", r.err, "does not have trust data for example.com/app")
}

func readChangelist(t *testing.T, c *cli, gun string) string {
	t.Helper()
	dir := filepath.Join(c.trustDir, "tuf", filepath.FromSlash(gun), "changelist")
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range ents {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		ch, err := changelist.Unmarshal(data)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(data)
		b.WriteString("\n")
		if ch.Data != nil {
			b.Write(ch.Data)
			b.WriteString("\n")
		}
	}
	return b.String()
}

func TestVersion(t *testing.T) {
	c := newCLI(t, "")
	r := c.ok("version")
	mustContain(t, "version", r.out, "notary\n Version:    "+version+"\n Git commit: ")
	r = c.ok("--version")
	mustContain(t, "--version", r.out, "notary Version: "+version+", Git commit: ")
}

func TestKeyCommands(t *testing.T) {
	c := newCLI(t, "")
	r := c.ok("key", "list")
	if r.out != "\nNo signing keys found.\n\n" {
		t.Errorf("empty key list: %q", r.out)
	}
	r = c.ok("key", "generate")
	mustContain(t, "generate", r.out, "Generated new ecdsa root key with keyID: ")
	rootID := keyIDRE.FindString(r.out)
	r = c.fail("key", "generate", "rsa")
	mustContain(t, "generate rsa", r.err, "Algorithm not allowed, possible values are: ECDSA")
	r = c.ok("key", "generate", "--role", "targets/a")
	delegID := keyIDRE.FindString(r.out)

	r = c.ok("key", "list")
	lines := strings.Split(strings.TrimSpace(r.out), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[2], "root ") || !strings.HasPrefix(lines[3], "targets/a ") {
		t.Errorf("key list:\n%s", r.out)
	}
	mustContain(t, "key list", r.out, rootID, delegID)

	// export (all, by key), import into another trust dir.
	exp := filepath.Join(c.home, "export.pem")
	c.ok("key", "export", "-o", exp)
	data, _ := os.ReadFile(exp)
	if strings.Count(string(data), "BEGIN ENCRYPTED PRIVATE KEY") != 2 || !strings.Contains(string(data), "path: "+rootID) {
		t.Errorf("export:\n%s", data)
	}
	r = c.ok("key", "export", "--key", delegID)
	if strings.Count(r.out, "BEGIN") != 1 || !strings.Contains(r.out, "role: targets/a") {
		t.Errorf("export --key:\n%s", r.out)
	}
	r = c.fail("key", "export", "--key", delegID, "--gun", gun)
	mustContain(t, "export mix", r.err, "Only the --gun or --key flag may be provided")

	other := newCLI(t, "")
	other.ok("key", "import", exp)
	r = other.ok("key", "list")
	mustContain(t, "imported keys", r.out, rootID, delegID)
	// Importing again is not an error.
	other.ok("key", "import", exp)

	// An unencrypted PKCS#8 key is encrypted on import, with a fallback role.
	plain := writeFile(t, filepath.Join(c.home, "plain.pem"), mustRead(t, "../../keys/testdata/v1/pem/ecdsa.plain.pem"))
	if _, err := os.Stat("../../keys/testdata/v1/pem/ecdsa.plain.pem"); err == nil {
		other.ok("key", "import", plain, "--role", "targets/b")
	}

	// passwd: the key then decrypts only with the new passphrase.
	other.env["NOTARY_ROOT_PASSPHRASE"] = "rootpassphrase"
	r = other.ok("key", "passwd", rootID)
	mustContain(t, "passwd", r.out, "Successfully updated passphrase for key ID: "+rootID)
	r = other.fail("key", "passwd", strings.Repeat("0", 64))
	mustContain(t, "passwd unknown", r.err, "could not retrieve local key for key ID provided")
	r = other.fail("key", "passwd", "abc")
	mustContain(t, "passwd bad id", r.err, "invalid key ID provided: abc")

	// remove asks first.
	r = other.runIn("no\n", "key", "remove", delegID)
	mustContain(t, "remove (no)", r.out, "Are you sure you want to remove "+delegID+" (role targets/a) from ", "Aborting action.")
	r = other.runIn("yes\n", "key", "remove", delegID)
	mustContain(t, "remove", r.out, "Deleted "+delegID+" (role targets/a)")
	r = other.ok("key", "list")
	mustNotContain(t, "key list after remove", r.out, delegID)
	r = other.fail("key", "remove", delegID)
	mustContain(t, "remove again", r.err, "No key with ID "+delegID+" found")
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return string(b)
}

// TestUsageErrors checks that missing arguments print the usage and fail.
func TestUsageErrors(t *testing.T) {
	c := newCLI(t, "http://127.0.0.1:1")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"init"}, "Must specify a GUN"},
		{[]string{"add", gun, "x"}, "Must specify a GUN, target, and path to target data"},
		{[]string{"addhash", gun, "x", "12"}, "at least one hash"},
		{[]string{"addhash", gun, "x", "12", "--sha256", "abcd"}, "invalid sha256 hex contents provided"},
		{[]string{"remove", gun}, "Must specify a GUN and target"},
		{[]string{"list"}, "Must specify a GUN"},
		{[]string{"lookup", gun}, "Must specify a GUN and target"},
		{[]string{"verify", gun}, "Must specify a GUN and target"},
		{[]string{"status"}, "Must specify a GUN"},
		{[]string{"reset", gun}, "Must specify changes to reset with -n or the --all flag"},
		{[]string{"publish"}, "Must specify a GUN"},
		{[]string{"delete"}, "Must specify a GUN"},
		{[]string{"witness", gun}, "Please provide a GUN and at least one role to witness"},
		{[]string{"key", "rotate", gun}, "Must specify a GUN and a key role to rotate"},
		{[]string{"key", "generate", "a", "b"}, "Please provide only one Algorithm"},
		{[]string{"key", "import"}, "must specify at least one input file"},
		{[]string{"key", "remove"}, "must specify the key ID"},
		{[]string{"delegation", "list"}, "Please provide a Global Unique Name as an argument to list"},
		{[]string{"delegation", "add", gun, "targets/x"}, "must specify the Global Unique Name and the role of the delegation"},
		{[]string{"delegation", "remove", gun}, "must specify the Global Unique Name and the role of the delegation"},
		{[]string{"delegation", "remove", gun, "notadelegation"}, "invalid delegation name notadelegation"},
		{[]string{"delegation", "purge", gun}, "Please provide at least one key ID to be removed using the --key flag"},
		{[]string{"add", gun, "x", "y", "--nosuchflag"}, "unknown flag: --nosuchflag"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := c.run(tc.args...)
			if r.code != 1 {
				t.Errorf("exit %d, want 1", r.code)
			}
			mustContain(t, "stderr", r.err, "* fatal: ", tc.want)
		})
	}
}

// TestChangelistFormat checks that staged changes are written exactly as
// v1 writes them (v1 §7.3).
func TestChangelistFormat(t *testing.T) {
	c := newCLI(t, "")
	c.ok("addhash", gun, "a&b<c>", "3", "--sha256", strings.Repeat("00", 32))
	c.ok("remove", gun, "gone", "-r", "targets/x")
	dir := filepath.Join(c.trustDir, "tuf", "example.com", "app", "changelist")
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 {
		t.Fatalf("%d change files", len(ents))
	}
	nameRE := regexp.MustCompile(`^\d{20}_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.change$`)
	var got []string
	for _, e := range ents {
		if !nameRE.MatchString(e.Name()) {
			t.Errorf("change file name %q", e.Name())
		}
		st, _ := os.Stat(filepath.Join(dir, e.Name()))
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v", e.Name(), st.Mode())
		}
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		got = append(got, string(b))
	}
	// v1's data.FileMeta field order: length, hashes, custom.
	meta, _ := json.Marshal(struct {
		Length int64             `json:"length"`
		Hashes map[string][]byte `json:"hashes"`
	}{3, map[string][]byte{"sha256": make([]byte, 32)}})
	want0 := fmt.Sprintf(`{"action":"create","role":"targets","type":"target","path":"a\u0026b\u003cc\u003e","data":%q}`, b64(meta))
	if got[0] != want0 {
		t.Errorf("change 0:\n%s\nwant\n%s", got[0], want0)
	}
	if got[1] != `{"action":"delete","role":"targets/x","type":"target","path":"gone","data":null}` {
		t.Errorf("change 1: %s", got[1])
	}
}

func b64(b []byte) string {
	s, _ := json.Marshal(b)
	return strings.Trim(string(s), `"`)
}
