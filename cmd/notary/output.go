package main

import (
	"encoding/hex"
	"encoding/json"
	"io"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/notary-go/notary/changelist"
	"github.com/notary-go/notary/client"
	"github.com/notary-go/notary/tuf"
)

// -o json for scripts (docs/output.md). The table stays v0.7.0's, byte
// for byte: scripts written for v0.7.0 parse it. The JSON field names
// below are part of the CLI's interface: add fields, never rename or
// remove them. Lists are always arrays (never null), sorted as the
// table is.

const (
	formatTable = "table"
	formatJSON  = "json"
)

// addOutputFlag adds -o/--output (table or json) to c.
func addOutputFlag(c *cobra.Command, dst *string) {
	c.Flags().StringVarP(dst, "output", "o", formatTable, "Output format: table or json (field names in docs/output.md)")
}

// checkFormat refuses an unknown --output before any work is done.
func checkFormat(f string) error {
	if f != formatTable && f != formatJSON {
		return usageError("invalid --output %q: want table or json", f)
	}
	return nil
}

// writeJSON writes v indented, with a final newline.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// targetJSON is one target in `list -o json` and `lookup -o json`.
type targetJSON struct {
	Name string `json:"name"`
	// Digest is "sha256:<hex>", the form lookup prints and OCI uses.
	Digest string            `json:"digest"`
	Size   int64             `json:"size"`
	Hashes map[string]string `json:"hashes"`
	Role   string            `json:"role"`
	// Custom is the target's custom data, as published; omitted if none.
	Custom json.RawMessage `json:"custom,omitempty"`
}

func toTargetJSON(t client.TargetWithRole) targetJSON {
	hashes := make(map[string]string, len(t.Hashes))
	for alg, h := range t.Hashes {
		hashes[alg] = hex.EncodeToString(h)
	}
	out := targetJSON{Name: t.Name, Size: t.Length, Hashes: hashes, Role: t.Role}
	if h, ok := t.Hashes[tuf.SHA256]; ok {
		out.Digest = "sha256:" + hex.EncodeToString(h)
	}
	if len(t.Custom) > 0 {
		out.Custom = t.Custom
	}
	return out
}

func printTargetsJSON(ts []client.TargetWithRole, w io.Writer) error {
	sort.SliceStable(ts, func(i, j int) bool { return ts[i].Name < ts[j].Name })
	out := make([]targetJSON, 0, len(ts))
	for _, t := range ts {
		out = append(out, toTargetJSON(t))
	}
	return writeJSON(w, out)
}

// statusJSON is `status -o json`.
type statusJSON struct {
	GUN     string       `json:"gun"`
	Changes []changeJSON `json:"changes"`
}

// changeJSON is one staged change; number is what `reset -n` takes.
type changeJSON struct {
	Number int    `json:"number"`
	Action string `json:"action"`
	Scope  string `json:"scope"`
	Type   string `json:"type"`
	Path   string `json:"path"`
}

func printStatusJSON(gun string, changes []changelist.Change, w io.Writer) error {
	out := statusJSON{GUN: gun, Changes: make([]changeJSON, 0, len(changes))}
	for i, ch := range changes {
		out.Changes = append(out.Changes, changeJSON{Number: i, Action: ch.Action, Scope: ch.Scope, Type: ch.Type, Path: ch.Path})
	}
	return writeJSON(w, out)
}

// delegationJSON is one role in `delegation list -o json`. Paths are as
// published: "" means every path.
type delegationJSON struct {
	Name      string   `json:"name"`
	Paths     []string `json:"paths"`
	KeyIDs    []string `json:"key_ids"`
	Threshold int      `json:"threshold"`
}

func printRolesJSON(rs []client.DelegationRole, w io.Writer) error {
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].Name < rs[j].Name })
	out := make([]delegationJSON, 0, len(rs))
	for _, r := range rs {
		paths := append([]string{}, r.Paths...)
		sort.Strings(paths)
		out = append(out, delegationJSON{Name: r.Name, Paths: paths, KeyIDs: append([]string{}, r.KeyIDs...), Threshold: r.Threshold})
	}
	return writeJSON(w, out)
}

// keyJSON is one key in `key list -o json` (nothing truncated).
type keyJSON struct {
	Role     string `json:"role"`
	GUN      string `json:"gun"`
	KeyID    string `json:"key_id"`
	Location string `json:"location"`
}

func printKeyRowsJSON(rows []keyRow, w io.Writer) error {
	sortKeyRows(rows)
	out := make([]keyJSON, 0, len(rows))
	for _, r := range rows {
		out = append(out, keyJSON{Role: r.role, GUN: r.gun, KeyID: r.id, Location: r.location})
	}
	return writeJSON(w, out)
}

// certJSON is one trusted root certificate in `cert list -o json`.
type certJSON struct {
	GUN         string `json:"gun"`
	ID          string `json:"id"`
	Expires     string `json:"expires"`
	SecondsLeft int64  `json:"seconds_left"`
}

func printCertsJSON(certs []trustedCert, now time.Time, w io.Writer) error {
	out := make([]certJSON, 0, len(certs))
	for _, c := range certs {
		out = append(out, certJSON{
			GUN:         c.gun,
			ID:          c.id,
			Expires:     c.notAfter.UTC().Format(time.RFC3339),
			SecondsLeft: int64(c.notAfter.Sub(now) / time.Second),
		})
	}
	return writeJSON(w, out)
}
