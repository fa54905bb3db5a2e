package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

// addBridgeCommands adds the commands for leaving Docker Content Trust
// (archive, image convert) and the --at flag of the read commands.
func (a *app) addBridgeCommands(root *cobra.Command) {
	root.AddCommand(a.archiveCommand())
	for _, path := range [][]string{{"list"}, {"lookup"}, {"verify"}, {"image", "verify"}} {
		if c, _, err := root.Find(path); err == nil && c != root {
			a.addAtFlag(c)
		}
	}
	if c, _, err := root.Find([]string{"image"}); err == nil && c != root {
		a.addImageBridgeCommands(c)
	}
}

// addAtFlag gives c an --at TIME flag: verify as of TIME, all expiries
// checked against it. The time reaches the TUF update through the
// client's injected clock (client.Options.Now, set from a.now), so the
// rules stay in update and nothing else changes.
func (a *app) addAtFlag(c *cobra.Command) {
	var at string
	c.Flags().StringVar(&at, "at", "", "Verify as of this past time (RFC 3339, or YYYY-MM-DD for its midnight UTC): every expiry is checked against it. A historical check, for archives whose timestamps have expired")
	run := c.RunE
	c.RunE = func(cmd *cobra.Command, args []string) error {
		if at != "" {
			t, err := parseAt(at)
			if err != nil {
				return usageError("%v", err)
			}
			if !t.Before(a.now()) {
				return usageError("--at %s is not in the past", at)
			}
			a.stdio.now = func() time.Time { return t }
			fmt.Fprintf(a.stderr, "historical check: verifying as of %s, with every expiry checked against that time and not now; this says the trust data was valid then, not that it is current\n", t.Format(time.RFC3339))
		}
		return run(cmd, args)
	}
}

// parseAt reads --at: RFC 3339, or a date (midnight UTC).
func parseAt(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("--at %q: want a time like 2026-11-30T12:00:00Z or 2026-11-30", s)
}
