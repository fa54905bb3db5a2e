package changelist_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/notary-go/notary/changelist"
	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/tuf"
)

// v1ChangeFiles returns every change file v1 wrote that we keep as
// fixtures: the Notary 0.1/0.3 trust directories (copied from
// fixtures/notary-compat) and the v0.7.0 golden scenario's staged lists.
func v1ChangeFiles(t testing.TB) []string {
	t.Helper()
	var files []string
	for _, pattern := range []string{
		"testdata/v1compat/*/*.change",
		"../tuf/testdata/v1/golden/changelist/*/*.change",
	} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 3 {
		t.Fatalf("found only %d v1 change files", len(files))
	}
	return files
}

// TestV1ChangesRoundTripByteForByte: every v1 change file decodes, and
// re-encodes to the same bytes, and so do their payloads (target
// FileMeta, delegation data) through our typed decoders and encoders.
func TestV1ChangesRoundTripByteForByte(t *testing.T) {
	for _, f := range v1ChangeFiles(t) {
		t.Run(filepath.Base(filepath.Dir(f))+"/"+filepath.Base(f), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			c, err := changelist.Unmarshal(raw)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Validate(); err != nil {
				t.Errorf("Validate: %v", err)
			}
			again, err := changelist.Marshal(c)
			if err != nil {
				t.Fatal(err)
			}
			if string(again) != string(raw) {
				t.Errorf("re-encoded change differs:\n got %s\nwant %s", again, raw)
			}
			var payload []byte
			switch {
			case c.Type == changelist.TypeTarget && c.Action == changelist.ActionCreate:
				m, err := c.TargetMeta()
				if err != nil {
					t.Fatal(err)
				}
				n, err := changelist.NewTarget(c.Scope, c.Path, m)
				if err != nil {
					t.Fatal(err)
				}
				payload = n.Data
			case c.Type == changelist.TypeDelegation && c.Data != nil:
				d, err := c.Delegation()
				if err != nil {
					t.Fatal(err)
				}
				n, err := changelist.NewDelegation(c.Action, c.Scope, d)
				if err != nil {
					t.Fatal(err)
				}
				payload = n.Data
			default:
				if c.Data != nil {
					t.Fatalf("unexpected data on %s %s", c.Action, c.Type)
				}
			}
			if string(payload) != string(c.Data) {
				t.Errorf("re-encoded data differs:\n got %s\nwant %s", payload, c.Data)
			}
		})
	}
}

// TestNewChangesAreWhatV1Writes: our constructors produce v1's bytes for
// the changes v1's client stages (client.go, delegations.go, witness.go).
func TestNewChangesAreWhatV1Writes(t *testing.T) {
	sha := make([]byte, 32)
	custom := json.RawMessage(`{"build":7,"note":"x<&>"}`)
	key := keys.PublicKey{Type: keys.ECDSA, Public: []byte{1, 2, 3}}
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	must := func(c changelist.Change, err error) changelist.Change {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	tests := []struct {
		name string
		c    changelist.Change
		want string
	}{
		{
			name: "AddTarget: FileMeta in v1 field order, name HTML-escaped",
			c:    must(changelist.NewTarget("targets", "a&b<c>", tuf.FileMeta{Length: 3, Hashes: tuf.Hashes{"sha256": sha}, Custom: &custom})),
			want: `{"action":"create","role":"targets","type":"target","path":"a\u0026b\u003cc\u003e","data":"` +
				b64(`{"length":3,"hashes":{"sha256":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="},"custom":{"build":7,"note":"x\u003c\u0026\u003e"}}`) + `"}`,
		},
		{
			name: "RemoveTarget: null data",
			c:    must(changelist.RemoveTarget("targets/releases", "v1")),
			want: `{"action":"delete","role":"targets/releases","type":"target","path":"v1","data":null}`,
		},
		{
			name: "AddDelegationRoleAndKeys: threshold 1 and keys, public before private",
			c:    must(changelist.NewDelegation(changelist.ActionCreate, "targets/a", changelist.TUFDelegation{NewThreshold: 1, AddKeys: []keys.PublicKey{key}})),
			want: `{"action":"create","role":"targets/a","type":"delegation","path":"","data":"` +
				b64(`{"threshold":1,"add_keys":[{"keytype":"ecdsa","keyval":{"public":"AQID","private":null}}]}`) + `"}`,
		},
		{
			name: "AddDelegationPaths",
			c:    must(changelist.NewDelegation(changelist.ActionCreate, "targets/a", changelist.TUFDelegation{AddPaths: []string{""}})),
			want: `{"action":"create","role":"targets/a","type":"delegation","path":"","data":"` + b64(`{"add_paths":[""]}`) + `"}`,
		},
		{
			name: "RemoveDelegationKeys on a wildcard",
			c:    must(changelist.NewDelegation(changelist.ActionUpdate, "targets/*", changelist.TUFDelegation{RemoveKeys: []string{"abc"}})),
			want: `{"action":"update","role":"targets/*","type":"delegation","path":"","data":"` + b64(`{"remove_keys":["abc"]}`) + `"}`,
		},
		{
			name: "ClearDelegationPaths and RemoveDelegationPaths",
			c:    must(changelist.NewDelegation(changelist.ActionUpdate, "targets/a", changelist.TUFDelegation{RemovePaths: []string{"x/"}, ClearAllPaths: true})),
			want: `{"action":"update","role":"targets/a","type":"delegation","path":"","data":"` + b64(`{"remove_paths":["x/"],"clear_paths":true}`) + `"}`,
		},
		{
			name: "RemoveDelegationRole",
			c:    must(changelist.DeleteDelegation("targets/a")),
			want: `{"action":"delete","role":"targets/a","type":"delegation","path":"","data":null}`,
		},
		{
			name: "Witness",
			c:    must(changelist.NewWitness("targets/a")),
			want: `{"action":"update","role":"targets/a","type":"witness","path":"","data":null}`,
		},
		{
			name: "RotateKey: root scope, path is the role",
			c:    must(changelist.NewBaseRoleKeys("targets", []keys.PublicKey{key})),
			want: `{"action":"create","role":"root","type":"role","path":"targets","data":"` +
				b64(`{"keys":[{"keytype":"ecdsa","keyval":{"public":"AQID","private":null}}],"role":"targets"}`) + `"}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := changelist.Marshal(tc.c)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestTypedDataDecoding(t *testing.T) {
	key := keys.PublicKey{Type: keys.ED25519, Public: make([]byte, 32)}
	d := changelist.TUFDelegation{NewThreshold: 2, AddKeys: []keys.PublicKey{key}, RemoveKeys: []string{"r"}, AddPaths: []string{"a/"}, RemovePaths: []string{"b/"}, ClearAllPaths: true}
	c, err := changelist.NewDelegation(changelist.ActionUpdate, "targets/x", d)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Delegation()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(d, got); diff != "" {
		t.Errorf("delegation data round trip (-want +got):\n%s", diff)
	}
	r, err := changelist.NewBaseRoleKeys("root", []keys.PublicKey{key})
	if err != nil {
		t.Fatal(err)
	}
	rd, err := r.RootRole()
	if err != nil || rd.RoleName != "root" || len(rd.Keys) != 1 || rd.Keys[0].ID() != key.ID() {
		t.Errorf("root role data = %+v, %v", rd, err)
	}
	// Wrong or missing data is an *InvalidChangeError wrapping the cause.
	target := func(data string) error {
		_, err := changelist.Change{Action: "create", Scope: "targets", Type: "target", Path: "x", Data: []byte(data)}.TargetMeta()
		return err
	}
	delegation := func(data string) error {
		_, err := changelist.Change{Action: "update", Scope: "targets/a", Type: "delegation", Data: []byte(data)}.Delegation()
		return err
	}
	root := func(data string) error {
		_, err := changelist.Change{Action: "create", Scope: "root", Type: "role", Data: []byte(data)}.RootRole()
		return err
	}
	for i, err := range []error{
		target(""), // v1: "unexpected end of JSON input"
		target(`{"length":"1"}`),
		target(`{"hashes":{"sha256":"not base64"}}`),
		delegation(""),
		delegation(`{"add_keys":[{"keytype":"ecdsa","keyval":{"public":"AQ==","private":"AQ=="}}]}`),
		delegation(`{"add_keys":[null]}`),
		delegation(`{"threshold":"1"}`),
		root(`{"keys":{}}`),
	} {
		var ice *changelist.InvalidChangeError
		if !errors.As(err, &ice) || ice.Field != "data" || !errors.Is(err, changelist.ErrInvalidChange) || ice.Err == nil {
			t.Errorf("case %d: error %v, want *InvalidChangeError on data", i, err)
		}
	}
}

// TestValidate: the shapes v1's applyChangelist can apply.
func TestValidate(t *testing.T) {
	tests := []struct {
		c         changelist.Change
		wantField string // "" for valid
	}{
		{changelist.Change{Action: "create", Scope: "targets", Type: "target", Path: "a"}, ""},
		{changelist.Change{Action: "delete", Scope: "targets/a/b", Type: "target", Path: "a"}, ""},
		{changelist.Change{Action: "update", Scope: "targets", Type: "target"}, "action"},
		{changelist.Change{Action: "create", Scope: "targets/a", Type: "delegation"}, ""},
		{changelist.Change{Action: "delete", Scope: "targets/a", Type: "delegation"}, ""},
		{changelist.Change{Action: "create", Scope: "targets", Type: "delegation"}, "role"},
		{changelist.Change{Action: "update", Scope: "targets/*", Type: "delegation"}, ""},
		{changelist.Change{Action: "update", Scope: "targets/a/*", Type: "delegation"}, ""},
		{changelist.Change{Action: "create", Scope: "targets/*", Type: "delegation"}, "role"},
		{changelist.Change{Action: "create", Scope: "targets/*", Type: "target"}, "role"},
		{changelist.Change{Action: "update", Scope: "targets", Type: "witness"}, ""},
		{changelist.Change{Action: "create", Scope: "targets/x", Type: "witness"}, ""}, // v1 ignores the action
		{changelist.Change{Action: "create", Scope: "root", Type: "role", Path: "targets"}, ""},
		{changelist.Change{Action: "update", Scope: "root", Type: "role"}, "action"},
		{changelist.Change{Action: "update", Scope: "root", Type: "witness"}, "type"},
		{changelist.Change{Action: "create", Scope: "snapshot", Type: "role"}, "role"},
		{changelist.Change{Action: "create", Scope: "targets/A", Type: "target"}, "role"},
		{changelist.Change{Action: "create", Scope: "targets/../x", Type: "target"}, "role"},
		{changelist.Change{Action: "create", Scope: "targets", Type: "file"}, "type"},
		{changelist.Change{Action: "move", Scope: "targets", Type: "target"}, "action"},
		{changelist.Change{}, "action"},
	}
	for _, tc := range tests {
		name := strings.Join([]string{tc.c.Action, tc.c.Scope, tc.c.Type}, " ")
		t.Run(name, func(t *testing.T) {
			err := tc.c.Validate()
			if tc.wantField == "" {
				if err != nil {
					t.Errorf("Validate = %v, want nil", err)
				}
				return
			}
			var ice *changelist.InvalidChangeError
			if !errors.As(err, &ice) || ice.Field != tc.wantField {
				t.Errorf("Validate = %v, want an invalid %s", err, tc.wantField)
			}
		})
	}
}

func TestConstructorsRefuseWhatV1Refuses(t *testing.T) {
	if _, err := changelist.NewTarget("targets", "x", tuf.FileMeta{Length: 1}); !errors.Is(err, changelist.ErrInvalidChange) {
		t.Errorf("target without hashes: %v", err)
	}
	if _, err := changelist.NewTarget("root", "x", tuf.FileMeta{Hashes: tuf.Hashes{"sha256": nil}}); !errors.Is(err, changelist.ErrInvalidChange) {
		t.Errorf("target in root: %v", err)
	}
	if _, err := changelist.DeleteDelegation("targets"); !errors.Is(err, changelist.ErrInvalidChange) {
		t.Errorf("delete targets: %v", err)
	}
	if _, err := changelist.NewDelegation(changelist.ActionDelete, "targets/a", changelist.TUFDelegation{}); !errors.Is(err, changelist.ErrInvalidChange) {
		t.Errorf("delegation delete with data: %v", err)
	}
	if _, err := changelist.NewBaseRoleKeys("targets/a", nil); !errors.Is(err, changelist.ErrInvalidChange) {
		t.Errorf("base role keys for a delegation: %v", err)
	}
	if _, err := changelist.NewWitness("targets/*"); !errors.Is(err, changelist.ErrInvalidChange) {
		t.Errorf("witness on a wildcard: %v", err)
	}
}
