package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/efsync/efsync"
)

// snapshotsCmd is agent snapshots (and its alias, list): the backups the
// repository's catalog records, oldest first, without those pruned.
func snapshotsCmd(e *env, args []string) int {
	var msg bytes.Buffer
	fs := flag.NewFlagSet("snapshots", flag.ContinueOnError)
	fs.SetOutput(&msg)
	asJSON := fs.Bool("json", false, "print the catalog records as JSON")
	all := fs.Bool("all", false, "list pruned backups too")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintln(w, "usage: agent snapshots [flags] REPO")
		fmt.Fprintln(w, "\nLists the backups of REPO, oldest first: snapshots, and runs that made none.\n\nflags:")
		fs.PrintDefaults()
	}
	if code, done := parseFlags(e, fs, &msg, args); done {
		return code
	}
	a, err := positional("snapshots", fs.Args(), 1, "REPO")
	var repo string
	if err == nil {
		repo = a[0]
		if _, serr := os.Stat(filepath.Join(repo, ".efsync")); serr != nil {
			err = fmt.Errorf("%s: not a backup repository: %w", repo, serr)
		}
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "snapshots: %v\n", err)
		return 1
	}
	recs, err := efsync.NewFileCatalog(repo).List(e.ctx)
	if err != nil {
		fmt.Fprintf(e.stderr, "snapshots: %v\n", err)
		return 4
	}
	shown := recs[:0]
	for _, r := range recs {
		if *all || r.Pruned.IsZero() {
			shown = append(shown, r)
		}
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		enc.Encode(shown)
		return 0
	}
	writeSnapshots(e.stdout, shown)
	return 0
}

// writeSnapshots prints records as a table.
func writeSnapshots(w io.Writer, recs []efsync.Record) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tLABEL\tSTATUS\tFILES\tSIZE\tTOOK\tNEW\tCHANGED\tLINKED\tDELETED\tNOTE")
	for _, r := range recs {
		status := string(r.Status)
		if status == "" {
			status = "running"
		}
		took := "-"
		if !r.Stop.IsZero() {
			took = fmt.Sprintf("%.1fs", r.Stop.Sub(r.Start).Seconds())
		}
		note := ""
		switch {
		case !r.Pruned.IsZero():
			note = "pruned"
		case r.Snapshot == "" && r.Status != "":
			note = "no snapshot"
		case r.Suspect:
			note = "suspect: far fewer entries"
		}
		f := r.Report.Files
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%d\t%d\t%d\t%d\t%s\n", r.ID, r.Label, status, r.Files,
			sizeString(r.Bytes), took, f.Created, f.Updated+f.MetadataOnly, f.HardLinked, r.Report.Deleted.Total(), note)
	}
	tw.Flush()
}

// sizeString prints n bytes with a binary unit: 0 B, 12 KiB, 3.4 GiB.
func sizeString(n int64) string {
	const units = "KMGTPE"
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n)/1024, 0
	for v >= 1024 && i < len(units)-1 {
		v, i = v/1024, i+1
	}
	if v < 10 {
		return fmt.Sprintf("%.1f %ciB", v, units[i])
	}
	return fmt.Sprintf("%.0f %ciB", v, units[i])
}
