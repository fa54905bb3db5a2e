package main

import (
	"encoding/hex"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/notary-go/notary/client"
	"github.com/notary-go/notary/keystore"
	"github.com/notary-go/notary/tuf"
)

// Output formats of v0.7.0's cmd/notary/prettyprint.go.
const (
	fourItemRow = "%s\t%s\t%s\t%s\n"
	fiveItemRow = "%s\t%s\t%s\t%s\t%s\n"
	maxGUNWidth = 25
	maxLocWidth = 40
)

func initTabWriter(columns []string, w io.Writer) *tabwriter.Writer {
	tw := tabwriter.NewWriter(w, 4, 4, 4, ' ', 0)
	fmt.Fprintln(tw, strings.Join(columns, "\t"))
	dashes := make([]string, 0, len(columns))
	for _, c := range columns {
		dashes = append(dashes, strings.Repeat("-", len(c)))
	}
	fmt.Fprintln(tw, strings.Join(dashes, "\t"))
	return tw
}

func truncateWithEllipsis(s string, max int, left bool) string {
	if len(s) <= max {
		return s
	}
	if left {
		return "..." + s[len(s)-(max-3):]
	}
	return s[:max-3] + "..."
}

// prettyPrintTargets prints targets sorted by name (v1 prettyPrintTargets).
func prettyPrintTargets(ts []client.TargetWithRole, w io.Writer) {
	if len(ts) == 0 {
		fmt.Fprint(w, "\nNo targets present in this repository.\n\n")
		return
	}
	sort.SliceStable(ts, func(i, j int) bool { return ts[i].Name < ts[j].Name })
	tw := initTabWriter([]string{"NAME", "DIGEST", "SIZE (BYTES)", "ROLE"}, w)
	for _, t := range ts {
		fmt.Fprintf(tw, fourItemRow, t.Name, hex.EncodeToString(t.Hashes[tuf.SHA256]), fmt.Sprintf("%d", t.Length), t.Role)
	}
	tw.Flush()
}

// keyRow is one line of `key list`.
type keyRow struct {
	role, gun, id, location string
}

// prettyPrintKeys prints keys root first, then by GUN, role, ID and
// location (v1 keyInfoSorter).
func prettyPrintKeys(infos []keystore.KeyInfo, location string, w io.Writer) {
	if len(infos) == 0 {
		fmt.Fprint(w, "No signing keys found.\n")
		return
	}
	printKeyRows(keyInfoRows(infos, location), w)
}

func keyInfoRows(infos []keystore.KeyInfo, location string) []keyRow {
	rows := make([]keyRow, 0, len(infos))
	for _, ki := range infos {
		rows = append(rows, keyRow{role: ki.Role, gun: ki.GUN, id: ki.ID, location: location})
	}
	return rows
}

// printKeyRows sorts and prints `key list` rows.
func printKeyRows(rows []keyRow, w io.Writer) {
	sortKeyRows(rows)
	tw := initTabWriter([]string{"ROLE", "GUN", "KEY ID", "LOCATION"}, w)
	for _, r := range rows {
		fmt.Fprintf(tw, fourItemRow, r.role, truncateWithEllipsis(r.gun, maxGUNWidth, true), r.id, truncateWithEllipsis(r.location, maxLocWidth, true))
	}
	tw.Flush()
}

// sortKeyRows orders `key list` rows root first, then by GUN, role, ID
// and location (v1 keyInfoSorter).
func sortKeyRows(rows []keyRow) {
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.role != b.role {
			if a.role == tuf.RoleRoot {
				return true
			}
			if b.role == tuf.RoleRoot {
				return false
			}
		}
		for _, p := range [][2]string{{a.gun, b.gun}, {a.role, b.role}, {a.id, b.id}, {a.location, b.location}} {
			if p[0] != p[1] {
				return p[0] < p[1]
			}
		}
		return false
	})
}

// prettyPrintRoles prints delegations (v1 prettyPrintRoles): one line per
// role, extra lines for further paths and key IDs.
func prettyPrintRoles(rs []client.DelegationRole, w io.Writer, roleType string) {
	if len(rs) == 0 {
		fmt.Fprintf(w, "\nNo %s present in this repository.\n\n", roleType)
		return
	}
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].Name < rs[j].Name })
	tw := initTabWriter([]string{"ROLE", "PATHS", "KEY IDS", "THRESHOLD"}, w)
	for _, r := range rs {
		pp := prettyPaths(r.Paths)
		var path, kid string
		if len(pp) > 0 {
			path = pp[0]
		}
		if len(r.KeyIDs) > 0 {
			kid = r.KeyIDs[0]
		}
		fmt.Fprintf(tw, fourItemRow, r.Name, path, kid, fmt.Sprintf("%v", r.Threshold))
		for i := 1; i < max(len(pp), len(r.KeyIDs)); i++ {
			path, kid = "", ""
			if i < len(pp) {
				path = pp[i]
			}
			if i < len(r.KeyIDs) {
				kid = r.KeyIDs[i]
			}
			fmt.Fprintf(tw, fourItemRow, "", path, kid, "")
		}
	}
	tw.Flush()
}

// prettyPaths sorts paths and shows "" as `"" <all paths>` (v1).
func prettyPaths(paths []string) []string {
	sorted := append([]string(nil), paths...)
	sort.Strings(sorted)
	out := make([]string, 0, len(sorted))
	for _, p := range sorted {
		if p == "" {
			p = `"" <all paths>`
		}
		out = append(out, p)
	}
	return out
}
