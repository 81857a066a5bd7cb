package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/efsync/efsync"
)

// verifyCmd is agent verify.
func verifyCmd(e *env, args []string) int {
	var msg bytes.Buffer
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(&msg)
	full := fs.Bool("full", false, "check every entry, content read in full, and find entries missing or extra")
	source := fs.String("source", "", "compare the snapshot with the tree `SRC` (the live source), every entry in full")
	workers := fs.Int("n", 0, "check `N` entries at once (default 8 × CPUs)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintln(w, "usage: agent verify [flags] REPO [ID]")
		fmt.Fprintln(w, "\nChecks snapshot ID of REPO (default: the newest) against its manifest: only")
		fmt.Fprintln(w, "the entries its backup wrote, or with --full every entry. Exit code 2 when")
		fmt.Fprintln(w, "anything differs. Flags go before REPO.\n\nflags:")
		fs.PrintDefaults()
	}
	if code, done := parseFlags(e, fs, &msg, args); done {
		return code
	}
	a, err := positional("verify", fs.Args(), 1, "REPO", "ID")
	if err == nil && *workers < 0 {
		err = fmt.Errorf("-n %d: want a positive count", *workers)
	}
	var id string
	if err == nil {
		if len(a) == 2 {
			id = a[1]
		} else {
			id, err = newestSnapshot(a[0])
		}
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "verify: %v\n", err)
		return 1
	}
	r, err := efsync.Verify(e.ctx, a[0], id, efsync.VerifyOptions{Options: efsync.Options{Workers: *workers},
		Full: *full, Source: *source})
	if r == nil {
		fmt.Fprintf(e.stderr, "verify: %v\n", err)
		return exitFor(err)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "verify: %v\n", err)
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		enc.Encode(r)
	} else {
		writeVerify(e.stdout, id, r)
	}
	return r.Status.ExitCode()
}

// writeVerify prints a verification's report for people.
func writeVerify(w io.Writer, id string, r *efsync.VerifyReport) {
	for _, d := range r.Differences {
		fmt.Fprintf(w, "%s: %s\n", d.Path, strings.Join(d.Kinds, ", "))
	}
	if n := r.Total - int64(len(r.Differences)); n > 0 {
		fmt.Fprintf(w, "... and %d more\n", n)
	}
	fmt.Fprintf(w, "Snapshot %s: %d entries checked, %d differ (%s)\n", id, r.Checked, r.Total, r.Status)
}

// newestSnapshot returns the id of the newest snapshot of repo, of any
// label.
func newestSnapshot(repo string) (string, error) {
	labels, err := os.ReadDir(repo)
	if err != nil {
		return "", fmt.Errorf("repository %s: %w", repo, err)
	}
	var ids []string
	for _, l := range labels {
		if !l.IsDir() || strings.HasPrefix(l.Name(), ".") {
			continue
		}
		snaps, _ := os.ReadDir(filepath.Join(repo, l.Name()))
		for _, s := range snaps {
			if s.IsDir() && !strings.HasPrefix(s.Name(), ".") {
				ids = append(ids, s.Name())
			}
		}
	}
	if len(ids) == 0 {
		return "", fmt.Errorf("repository %s: no snapshot", repo)
	}
	return slices.Max(ids), nil
}
