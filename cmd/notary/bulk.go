package main

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/notary-go/notary/client"
	"github.com/notary-go/notary/tuf"
)

// Bulk staging: "notary addhash GUN --from-file FILE" and "notary add GUN
// --from-file FILE" stage many targets in one process and one changelist
// batch (issue 13: one process per target took minutes for 10,000).

// maxBulkLineErrors caps how many bad lines one error lists.
const maxBulkLineErrors = 10

// maxBulkLine caps one input line (a path or "NAME SIZE SHA256 SHA512").
const maxBulkLine = 64 << 10

// BulkLineError is one malformed line of a --from-file input.
type BulkLineError struct {
	Source string // the file name, or "stdin"
	Line   int    // 1-based
	Err    error
}

func (e *BulkLineError) Error() string { return fmt.Sprintf("%s:%d: %v", e.Source, e.Line, e.Err) }

func (e *BulkLineError) Unwrap() error { return e.Err }

// bulkLine is one non-blank input line and its number.
type bulkLine struct {
	n    int
	text string
}

// readBulkLines reads the lines of FILE, or stdin for "-", skipping blank
// lines and lines starting with "#".
func (a *app) readBulkLines(from string) (source string, lines []bulkLine, err error) {
	var r io.Reader
	source = from
	if from == "-" {
		source, r = "stdin", a.reader()
	} else {
		f, err := os.Open(from)
		if err != nil {
			return "", nil, err
		}
		defer f.Close()
		r = f
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxBulkLine)
	n := 0
	for sc.Scan() {
		n++
		text := strings.TrimRight(sc.Text(), "\r")
		if t := strings.TrimSpace(text); t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		lines = append(lines, bulkLine{n: n, text: text})
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return "", nil, &BulkLineError{Source: source, Line: n + 1, Err: fmt.Errorf("line longer than %d bytes", maxBulkLine)}
		}
		return "", nil, fmt.Errorf("reading %s: %w", source, err)
	}
	return source, lines, nil
}

// joinLineErrors returns nil for none, else the first maxBulkLineErrors
// and a count of the rest, each line on its own.
func joinLineErrors(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	if len(errs) > maxBulkLineErrors {
		more := len(errs) - maxBulkLineErrors
		errs = append(errs[:maxBulkLineErrors:maxBulkLineErrors], fmt.Errorf("and %d more bad line(s)", more))
	}
	return fmt.Errorf("nothing staged, the input has errors:\n%w", errors.Join(errs...))
}

// parseTargetSize parses a target's byte size as addhash takes it.
func parseTargetSize(size string) (int64, error) {
	length, err := strconv.ParseInt(size, 0, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid byte size %q: %w", size, err)
	}
	if length < 0 {
		return 0, fmt.Errorf("invalid byte size %d: must not be negative", length)
	}
	return length, nil
}

// parseTargetHashes decodes the hex sha256 and/or sha512 addhash takes
// (either may be empty), returning the hashes and the algorithms given.
func parseTargetHashes(sha256Hex, sha512Hex string) (tuf.Hashes, []string, error) {
	hashes := tuf.Hashes{}
	var used []string
	for _, h := range []struct {
		alg, hex string
		size     int
	}{{tuf.SHA256, sha256Hex, 64}, {tuf.SHA512, sha512Hex, 128}} {
		if h.hex == "" {
			continue
		}
		if len(h.hex) != h.size {
			return nil, nil, fmt.Errorf("invalid %s hex contents provided", h.alg)
		}
		raw, err := hex.DecodeString(h.hex)
		if err != nil {
			return nil, nil, fmt.Errorf("invalid %s hex contents provided: %w", h.alg, err)
		}
		hashes[h.alg] = raw
		used = append(used, h.alg)
	}
	return hashes, used, nil
}

// parseAddHashLine parses "NAME SIZE SHA256 [SHA512]" (fields separated
// by spaces or tabs, so a name cannot contain either).
func parseAddHashLine(text string, custom []byte) (client.Target, error) {
	f := strings.Fields(text)
	if len(f) != 3 && len(f) != 4 {
		return client.Target{}, fmt.Errorf("want NAME SIZE SHA256 [SHA512], got %d field(s)", len(f))
	}
	length, err := parseTargetSize(f[1])
	if err != nil {
		return client.Target{}, err
	}
	sha512Hex := ""
	if len(f) == 4 {
		sha512Hex = f[3]
	}
	hashes, _, err := parseTargetHashes(f[2], sha512Hex)
	if err != nil {
		return client.Target{}, err
	}
	return client.Target{Name: f[0], Length: length, Hashes: hashes, Custom: custom}, nil
}

// bulkTargets turns the lines of from into targets: for addhash each line
// is "NAME SIZE SHA256 [SHA512]"; for add each line is the path of a file,
// which is also the target's name. Every line is checked; any bad line
// means an error listing the bad lines (with numbers) and no targets.
func (a *app) bulkTargets(from string, byHash bool, custom []byte) ([]client.Target, []bulkLine, string, error) {
	source, lines, err := a.readBulkLines(from)
	if err != nil {
		return nil, nil, "", err
	}
	if len(lines) == 0 {
		return nil, nil, "", fmt.Errorf("%s: no targets", source)
	}
	ts := make([]client.Target, 0, len(lines))
	seen := make(map[string]int, len(lines))
	var errs []error
	for _, l := range lines {
		var (
			t   client.Target
			err error
		)
		if byHash {
			t, err = parseAddHashLine(l.text, custom)
		} else {
			t, err = client.NewTargetFromFile(l.text, l.text, custom)
		}
		if err == nil {
			if prev, dup := seen[t.Name]; dup {
				err = fmt.Errorf("target %q already given on line %d", t.Name, prev)
			}
			seen[t.Name] = l.n
		}
		if err != nil {
			errs = append(errs, &BulkLineError{Source: source, Line: l.n, Err: err})
			continue
		}
		ts = append(ts, t)
	}
	if err := joinLineErrors(errs); err != nil {
		return nil, nil, "", err
	}
	return ts, lines, source, nil
}

// tufAddBulk is add/addhash with --from-file: args is just the GUN.
func (a *app) tufAddBulk(cmd *cobra.Command, f *tufFlags, args []string, byHash bool) error {
	if len(args) != 1 {
		return usageError("With --from-file, give only the GUN")
	}
	if byHash && (f.sha256 != "" || f.sha512 != "") {
		return usageError("With --from-file, the hashes come from the file, not --sha256/--sha512")
	}
	gun := args[0]
	custom, err := readCustom(f.custom)
	if err != nil {
		return err
	}
	ts, lines, source, err := a.bulkTargets(f.fromFile, byHash, custom)
	if err != nil {
		return err
	}
	// With -p the new targets go straight into the publish and reach the
	// changelist only if it fails (client.PublishTargets): on disks where
	// creating a file costs a millisecond, writing 10,000 change files
	// (and deleting them after the publish) took longer than all the rest.
	repo, err := a.repoFor(gun, readWrite, f.autoPublish)
	if err != nil {
		return err
	}
	if !f.autoPublish {
		if err := repo.AddTargets(cmd.Context(), ts, f.roles...); err != nil {
			return lineError(err, source, lines)
		}
	}
	fmt.Fprintf(a.stdout, "Addition of %d target(s) to repository \"%s\" staged for next publish.\n", len(ts), gun)
	if !f.autoPublish {
		return nil
	}
	fmt.Fprintln(a.stdout, "Auto-publishing changes to", gun)
	err = repo.PublishTargets(cmd.Context(), ts, f.roles...)
	a.endProgress()
	if err != nil {
		return lineError(err, source, lines)
	}
	fmt.Fprintf(a.stdout, "Successfully published changes for repository %s\n", repo.GUN())
	return nil
}

// lineError names the input line of a target the client refused.
func lineError(err error, source string, lines []bulkLine) error {
	var te *client.TargetError
	if errors.As(err, &te) && te.Index < len(lines) {
		return fmt.Errorf("nothing staged: %w", &BulkLineError{Source: source, Line: lines[te.Index].n, Err: err})
	}
	return err
}
