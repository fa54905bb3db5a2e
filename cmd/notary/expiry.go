package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/notary-go/notary/api"
	"github.com/notary-go/notary/client"
)

// expiryFlags are the flags of `notary expiry` and `notary resign`.
type expiryFlags struct {
	within string
	output string
	remote bool
	roles  []string
	all    bool
}

// parseWindow parses --within: a whole number of days ("30d"), or any Go
// duration with h, m or s units ("36h", "90m", "1h30m").
func parseWindow(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.ParseUint(n, 10, 32)
		if err != nil || days > 100*366 {
			return 0, usageError("invalid --within %q: want a number of days (30d), hours (12h) or minutes (90m)", s)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, usageError("invalid --within %q: want a number of days (30d), hours (12h) or minutes (90m)", s)
	}
	return d, nil
}

// ExpiryFailedError is the exit status of `notary expiry --within`: some
// roles fail the check (or some collections could not be read).
type ExpiryFailedError struct {
	Due        int
	Unreadable int
	Within     string
}

func (e *ExpiryFailedError) Error() string {
	var parts []string
	if e.Due > 0 {
		if e.Within != "" {
			parts = append(parts, fmt.Sprintf("%d role(s) must be re-signed within %s (or have expired)", e.Due, e.Within))
		} else {
			parts = append(parts, fmt.Sprintf("%d role(s) have expired", e.Due))
		}
	}
	if e.Unreadable > 0 {
		parts = append(parts, fmt.Sprintf("%d collection(s) could not be read", e.Unreadable))
	}
	return strings.Join(parts, "; ")
}

func (a *app) expiryCommand() *cobra.Command {
	f := &expiryFlags{}
	c := &cobra.Command{
		Use:   "expiry [ GUN ... ]",
		Short: "Lists when each role of trusted collections expires and who must re-sign it.",
		Long: "Lists every role of the given collections (by default every collection in the trust directory; with --remote every collection the server lists) " +
			"with its version, expiry and who must re-sign it, soonest first. Root, targets, delegations and a snapshot whose key you hold must be re-signed by the publisher " +
			"(`notary resign`); the timestamp and a server-held snapshot are re-signed by the server.\n\n" +
			"With --within, exits non-zero when a role the publisher must re-sign expires within the window, or a server-managed role has already expired.\n\n" +
			"JSON fields (-o json), one object per role: gun, role, version, expires (RFC 3339, UTC), seconds_left (negative once expired), " +
			"resigned_by (\"publisher\" or \"server\"), key_held (a key of the role is in this trust directory), due (fails the check).",
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return a.expiry(cmd, f, args) },
	}
	c.Flags().StringVar(&f.within, "within", "", "Fail when a role the publisher must re-sign expires within this window (30d, 12h, 90m)")
	c.Flags().StringVarP(&f.output, "output", "o", "table", "Output format: table or json")
	c.Flags().BoolVar(&f.remote, "remote", false, "List every collection the server holds (from its changefeed)")
	return c
}

// expiryRow is one role in `notary expiry -o json`. The field names are
// part of the CLI's interface: add fields, never rename them.
type expiryRow struct {
	GUN         string `json:"gun"`
	Role        string `json:"role"`
	Version     int64  `json:"version"`
	Expires     string `json:"expires"`
	SecondsLeft int64  `json:"seconds_left"`
	ResignedBy  string `json:"resigned_by"`
	KeyHeld     bool   `json:"key_held"`
	Due         bool   `json:"due"`
}

// expiryGUNs returns the collections a command walks: those given, else
// every one the server lists (remote), else every one in the trust
// directory.
func (a *app) expiryGUNs(cmd *cobra.Command, args []string, remote bool) ([]string, error) {
	if len(args) > 0 {
		return args, nil
	}
	s, err := a.config()
	if err != nil {
		return nil, err
	}
	if !remote {
		return client.LocalGUNs(s.TrustDir)
	}
	hc, _, err := a.httpClients(s, "", readOnly)
	if err != nil {
		return nil, err
	}
	c, err := api.NewClient(s.ServerURL, "", api.ClientOptions{HTTPClient: hc})
	if err != nil {
		return nil, err
	}
	guns, err := client.RemoteGUNs(cmd.Context(), c)
	if err != nil {
		return nil, fmt.Errorf("could not list the collections of %s: %w", s.ServerURL, err)
	}
	return guns, nil
}

func (a *app) expiry(cmd *cobra.Command, f *expiryFlags, args []string) error {
	within, err := parseWindow(f.within)
	if err != nil {
		return err
	}
	if f.output != "table" && f.output != "json" {
		return usageError("invalid --output %q: want table or json", f.output)
	}
	guns, err := a.expiryGUNs(cmd, args, f.remote)
	if err != nil {
		return err
	}
	var (
		all        []client.RoleExpiry
		unreadable int
	)
	for _, gun := range guns {
		repo, err := a.repoFor(gun, readOnly, true)
		if err == nil {
			var list []client.RoleExpiry
			if list, err = repo.Expiry(cmd.Context()); err == nil {
				all = append(all, list...)
				continue
			}
		}
		unreadable++
		a.warnf("%s: %v", gun, err)
	}
	client.SortExpiries(all)
	now := a.now()
	rows := make([]expiryRow, 0, len(all))
	due := 0
	for _, e := range all {
		row := expiryRow{
			GUN: e.GUN, Role: e.Role, Version: e.Version,
			Expires:     e.Expires.UTC().Format(time.RFC3339),
			SecondsLeft: int64(e.Expires.Sub(now) / time.Second),
			ResignedBy:  e.ResignedBy, KeyHeld: e.KeyHeld,
			Due: e.Fails(now, within),
		}
		if row.Due {
			due++
		}
		rows = append(rows, row)
	}
	if f.output == "json" {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rows); err != nil {
			return err
		}
	} else {
		printExpiryTable(a, rows)
	}
	if (f.within != "" && due > 0) || unreadable > 0 {
		return &ExpiryFailedError{Due: due, Unreadable: unreadable, Within: f.within}
	}
	return nil
}

func printExpiryTable(a *app, rows []expiryRow) {
	if len(rows) == 0 {
		fmt.Fprintln(a.stdout, "No collections found.")
		return
	}
	tw := initTabWriter([]string{"GUN", "ROLE", "VERSION", "EXPIRES", "REMAINING", "RE-SIGNED BY", "DUE"}, a.stdout)
	for _, r := range rows {
		resigner := r.ResignedBy
		if r.ResignedBy == client.ResignerPublisher && !r.KeyHeld {
			resigner += " (key not here)"
		}
		dueMark := ""
		if r.Due {
			dueMark = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\n", r.GUN, r.Role, r.Version, r.Expires,
			remaining(time.Duration(r.SecondsLeft)*time.Second), resigner, dueMark)
	}
	_ = tw.Flush()
}

// remaining renders time left as days and hours ("29d 23h"), or
// "expired 2d 1h ago".
func remaining(d time.Duration) string {
	past := d < 0
	if past {
		d = -d
	}
	days := int64(d / (24 * time.Hour))
	hours := int64(d%(24*time.Hour)) / int64(time.Hour)
	var s string
	switch {
	case days > 0:
		s = fmt.Sprintf("%dd %dh", days, hours)
	case hours > 0:
		s = fmt.Sprintf("%dh %dm", hours, int64(d%time.Hour)/int64(time.Minute))
	default:
		s = fmt.Sprintf("%dm", int64(d/time.Minute))
	}
	if past {
		return "expired " + s + " ago"
	}
	return s
}
