package main

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	cjson "github.com/docker/go/canonical/json"
	"github.com/theupdateframework/notary/tuf/data"
	"github.com/theupdateframework/notary/tuf/utils"
)

// summarizeCmd writes manifest.json for a directory of metadata files laid out as
// served under /v2/<gun>/_trust/tuf/ and prints a Markdown summary (keys, roles,
// targets) of the current files, computed with upstream's own types.
//
//	goldens summarize -dir tuf/testdata/v1/golden/server -manifest .../manifest.json
func summarizeCmd(args []string) int {
	fsys := flag.NewFlagSet("summarize", flag.ContinueOnError)
	dir := fsys.String("dir", "", "directory of served metadata files")
	manifest := fsys.String("manifest", "", "write manifest.json here")
	if err := fsys.Parse(args); err != nil || *dir == "" {
		fmt.Fprintln(os.Stderr, "usage: goldens summarize -dir DIR [-manifest FILE]")
		return 2
	}
	if err := summarize(*dir, *manifest); err != nil {
		fmt.Fprintln(os.Stderr, "goldens summarize:", err)
		return 1
	}
	return 0
}

type manifestEntry struct {
	Path    string `json:"path"` // relative to the served directory, e.g. "1.targets/releases.json"
	Role    string `json:"role"`
	Version int    `json:"version"` // signed.version from the file
	Current bool   `json:"current"` // served as <role>.json
	Length  int    `json:"length"`
	SHA256  string `json:"sha256"` // hex
	SHA512  string `json:"sha512"` // hex
	// HashName is the hash-addressed name the server also serves these bytes under.
	HashName string `json:"hash_name"`
}

var versionedRE = regexp.MustCompile(`^([1-9][0-9]*)\.(.+)\.json$`)

func summarize(dir, manifest string) error {
	var entries []manifestEntry
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json") {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		var sm data.SignedMeta
		if err := cjson.Unmarshal(b, &sm); err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		e := manifestEntry{Path: rel, Version: sm.Signed.Version, Length: len(b)}
		if m := versionedRE.FindStringSubmatch(rel); m != nil {
			e.Role = m[2]
			if v, _ := strconv.Atoi(m[1]); v != sm.Signed.Version {
				return fmt.Errorf("%s: file name version %d != signed.version %d", rel, v, sm.Signed.Version)
			}
		} else {
			e.Role = strings.TrimSuffix(rel, ".json")
			e.Current = true
		}
		s256, s512 := sha256.Sum256(b), sha512.Sum512(b)
		e.SHA256, e.SHA512 = hex.EncodeToString(s256[:]), hex.EncodeToString(s512[:])
		e.HashName = e.Role + "." + e.SHA256 + ".json"
		entries = append(entries, e)
		return nil
	})
	if err != nil {
		return err
	}
	sort.Slice(entries, func(i, j int) bool {
		if entries[i].Role != entries[j].Role {
			return entries[i].Role < entries[j].Role
		}
		if entries[i].Current != entries[j].Current {
			return entries[i].Current
		}
		return entries[i].Version < entries[j].Version
	})
	if manifest != "" {
		if err := writeJSON(manifest, entries); err != nil {
			return err
		}
	}

	// Markdown summary of the current files.
	read := func(name string) (*data.Signed, []byte, error) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, nil, err
		}
		var s data.Signed
		return &s, b, cjson.Unmarshal(b, &s)
	}
	w := os.Stdout
	fmt.Fprintln(w, "### Current files")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| file | version | expires | length | sha256 (hex) |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	for _, e := range entries {
		if !e.Current {
			continue
		}
		_, b, err := read(e.Path)
		if err != nil {
			return err
		}
		var sm data.SignedMeta
		_ = cjson.Unmarshal(b, &sm)
		fmt.Fprintf(w, "| `%s` | %d | %s | %d | `%s` |\n", e.Path, e.Version, sm.Signed.Expires.Format("2006-01-02T15:04:05.999999999Z07:00"), e.Length, e.SHA256)
	}
	fmt.Fprintln(w)

	rs, _, err := read("root.json")
	if err != nil {
		return err
	}
	root, err := data.RootFromSigned(rs)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "### Keys in the current root.json")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| TUF key ID (metadata) | canonical key ID (key file name) | keytype | roles |")
	fmt.Fprintln(w, "|---|---|---|---|")
	roleOf := map[string][]string{}
	for rn, r := range root.Signed.Roles {
		for _, id := range r.KeyIDs {
			roleOf[id] = append(roleOf[id], rn.String())
		}
	}
	var ids []string
	for id := range root.Signed.Keys {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		k := root.Signed.Keys[id]
		cid, _ := utils.CanonicalKeyID(k)
		rl := roleOf[id]
		sort.Strings(rl)
		r := strings.Join(rl, ", ")
		if r == "" {
			r = "(none: kept old root cert)"
		}
		fmt.Fprintf(w, "| `%s` | `%s` | %s | %s |\n", id, cid, k.Algorithm(), r)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Root role thresholds:")
	var rnames []string
	for rn := range root.Signed.Roles {
		rnames = append(rnames, rn.String())
	}
	sort.Strings(rnames)
	for _, rn := range rnames {
		r := root.Signed.Roles[data.RoleName(rn)]
		fmt.Fprintf(w, "- `%s`: threshold %d, keys %s\n", rn, r.Threshold, "`"+strings.Join(r.KeyIDs, "`, `")+"`")
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Signatures on root.json: ")
	var sigs []string
	for _, s := range rs.Signatures {
		sigs = append(sigs, fmt.Sprintf("`%s` (%s)", s.KeyID, s.Method))
	}
	fmt.Fprintln(w, strings.Join(sigs, ", "))
	fmt.Fprintln(w)

	// Targets roles, walked from the snapshot.
	ss, _, err := read("snapshot.json")
	if err != nil {
		return err
	}
	snap, err := data.SnapshotFromSigned(ss)
	if err != nil {
		return err
	}
	var troles []string
	for name := range snap.Signed.Meta {
		if name == "targets" || strings.HasPrefix(name, "targets/") {
			troles = append(troles, name)
		}
	}
	sort.Strings(troles)
	fmt.Fprintln(w, "### Targets and delegations (current, as listed in snapshot.json)")
	fmt.Fprintln(w)
	for _, tr := range troles {
		ts, _, err := read(tr + ".json")
		if err != nil {
			return err
		}
		t, err := data.TargetsFromSigned(ts, data.RoleName(tr))
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "#### `%s` (version %d, signed by %s)\n\n", tr, t.Signed.Version, sigList(ts))
		if len(t.Signed.Delegations.Roles) > 0 {
			fmt.Fprintln(w, "Delegations:")
			for _, r := range t.Signed.Delegations.Roles {
				var ks []string
				for _, id := range r.KeyIDs {
					k := t.Signed.Delegations.Keys[id]
					cid := "?"
					kt := "?"
					if k != nil {
						cid, _ = utils.CanonicalKeyID(k)
						kt = k.Algorithm()
					}
					ks = append(ks, fmt.Sprintf("`%s` (%s, canonical `%s`)", id, kt, cid))
				}
				fmt.Fprintf(w, "- `%s`: threshold %d, paths %q, keys %s\n", r.Name, r.Threshold, r.Paths, strings.Join(ks, ", "))
			}
			fmt.Fprintln(w)
		}
		if len(t.Signed.Targets) == 0 {
			fmt.Fprintln(w, "No targets.")
			fmt.Fprintln(w)
			continue
		}
		fmt.Fprintln(w, "| target name | length | sha256 (hex) | sha512 (hex) | custom |")
		fmt.Fprintln(w, "|---|---|---|---|---|")
		var names []string
		for n := range t.Signed.Targets {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fm := t.Signed.Targets[n]
			custom := ""
			if fm.Custom != nil {
				custom = "`" + string(*fm.Custom) + "`"
			}
			fmt.Fprintf(w, "| `%s` | %d | `%s` | `%s` | %s |\n", mdEscape(n), fm.Length, hex.EncodeToString(fm.Hashes["sha256"]), hex.EncodeToString(fm.Hashes["sha512"]), custom)
		}
		fmt.Fprintln(w)
	}
	return nil
}

func sigList(s *data.Signed) string {
	var out []string
	for _, sg := range s.Signatures {
		out = append(out, fmt.Sprintf("`%s` (%s)", sg.KeyID, sg.Method))
	}
	return strings.Join(out, ", ")
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// keyidsMDCmd prints the rows of a Markdown table (key | keytype | TUF ID | canonical ID)
// for keyids.json.
func keyidsMDCmd(args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: goldens keyids-md keyids.json")
		return 2
	}
	b, err := os.ReadFile(args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var doc struct {
		Cases []keyIDCase `json:"cases"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for _, c := range doc.Cases {
		fmt.Printf("| %s | %s | `%s` | `%s` |\n", c.Name, c.KeyType, c.TUFID, c.CanonicalID)
	}
	return 0
}

// pemlistCmd prints Markdown table rows describing every *.key file in a trust dir's
// private/ directory: file name, PEM type, role and gun headers, and what upstream's
// parser makes of it with the given passphrase.
func pemlistCmd(args []string) int {
	fsys := flag.NewFlagSet("pemlist", flag.ContinueOnError)
	pass := fsys.String("pass", passphrase, "passphrase")
	if err := fsys.Parse(args); err != nil || fsys.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: goldens pemlist [-pass P] DIR")
		return 2
	}
	files, err := filepath.Glob(filepath.Join(fsys.Arg(0), "*.key"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	sort.Strings(files)
	fmt.Println("| file | PEM type | role | gun | keytype | parsed key ID == file name |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		blk, _ := pem.Decode(b)
		if blk == nil {
			fmt.Fprintln(os.Stderr, f, ": no PEM block")
			return 1
		}
		name := filepath.Base(f)
		kt, match := "error", "no"
		if k, err := utils.ParsePEMPrivateKey(b, *pass); err == nil {
			kt = k.Algorithm()
			if k.ID()+".key" == name {
				match = "yes"
			}
		} else {
			kt = "error: " + err.Error()
		}
		fmt.Printf("| `%s` | %s | `%s` | `%s` | %s | %s |\n", name, blk.Type, blk.Headers["role"], blk.Headers["gun"], kt, match)
	}
	return 0
}
