package efsync

import (
	"context"
	"strings"
	"sync"

	"github.com/efsync/efsync/kpi"
)

// Difference is one entry of a tree that is not what it should be, and
// how: "missing" (absent), "extra" (there, and should not be), "type",
// "content", "size", "mtime", "mode", "owner", "group", "xattrs" or
// "link" (its hard links differ).
type Difference struct {
	Path  string   `json:"path"`
	Kinds []string `json:"kinds"`
}

// VerifyReport is what a verification found.
type VerifyReport struct {
	// Checked counts the entries compared.
	Checked int64 `json:"checked"`
	// Total counts the entries that differ; Differences lists the first
	// VerifyOptions.Max of them.
	Total       int64        `json:"total"`
	Differences []Difference `json:"differences"`
	// Status is Success when nothing differs, Partial when something
	// does (exit code 2), Incomplete or Failed when the check itself
	// did not end.
	Status kpi.Status `json:"status"`
}

// VerifyOptions are the options of Verify and VerifyTree.
type VerifyOptions struct {
	// Options are the engine's: Workers, Logger, NoXattrs, Excludes.
	Options
	// Full checks every entry of a snapshot against its manifest, its
	// content read in full. Without it, only the entries the backup that
	// made the snapshot wrote are checked.
	Full bool
	// Source, if set, makes Verify compare the snapshot with this tree
	// (the live source), every entry in full, instead of its manifest.
	Source string
	// Max is how many differences the report lists (default 1000); all
	// are counted.
	Max int
}

// differences collects a verification's differences.
type differences struct {
	mu  sync.Mutex
	max int
	r   *VerifyReport
}

func (d *differences) add(diff Difference) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.r.Total++
	if len(d.r.Differences) < d.max {
		d.r.Differences = append(d.r.Differences, diff)
	}
}

// VerifyTree compares tree with want, entry by entry, in parallel: types,
// content (every regular file of the same size on both sides is read and
// hashed, whatever the times say), sizes, modes, owners, mtimes to the
// nanosecond, xattrs and ACLs, hard links; entries only in one of them
// too. Like rsync -c -n -aHAX --delete -i, it changes nothing.
func VerifyTree(ctx context.Context, want, tree string, opts VerifyOptions) (*VerifyReport, error) {
	o := opts.Options
	if o.Delete || o.DryRun || o.Resume != "" || len(o.LinkDest) > 0 || o.InPlace {
		return nil, usage("verify: Delete, DryRun, Resume, LinkDest and InPlace are Verify's own")
	}
	r := &VerifyReport{Differences: []Difference{}}
	d := &differences{max: opts.Max, r: r}
	if d.max <= 0 {
		d.max = 1000
	}
	o.Delete, o.Checksum = true, true
	o.DryRun, o.Itemize = true, func(line string) {
		if diff, ok := parseItem(line); ok {
			d.add(diff)
		}
	}
	rep, err := Sync(ctx, want, tree, WithOptions(o))
	if rep == nil {
		return nil, err
	}
	r.Checked = rep.Scanned.Total()
	r.Status = verifyStatus(rep.Status, r.Total)
	return r, err
}

// verifyStatus is a verification's status: the run's, but Partial once
// anything differs.
func verifyStatus(run kpi.Status, differ int64) kpi.Status {
	if differ > 0 && (run == kpi.StatusSuccess || run == kpi.StatusPartial) {
		return kpi.StatusPartial
	}
	return run
}

// parseItem reads one itemized line of a dry run (see transfer's
// itemize: rsync -i's YXcstpoguax, then a space and the path) as a
// Difference.
func parseItem(line string) (Difference, bool) {
	if p, ok := strings.CutPrefix(line, "*deleting "); ok {
		return Difference{Path: strings.TrimSuffix(strings.TrimSpace(p), "/"), Kinds: []string{"extra"}}, true
	}
	flags, path, ok := strings.Cut(line, " ")
	if !ok || len(flags) < 3 {
		return Difference{}, false
	}
	path = strings.TrimSuffix(strings.TrimLeft(path, " "), "/")
	d := Difference{Path: path}
	attrs := flags[2:]
	switch {
	case flags[0] == 'h':
		d.Kinds = []string{"link"}
	case strings.HasPrefix(attrs, "+++"):
		d.Kinds = []string{"missing"} // or of another type

	default:
		for i, k := range []string{"content", "size", "mtime", "mode", "owner", "group", "", "acl", "xattrs"} {
			if i < len(attrs) && attrs[i] != '.' && k != "" {
				d.Kinds = append(d.Kinds, k)
			}
		}
		if flags[0] == '>' && attrs[0] == '.' && (len(attrs) < 2 || attrs[1] == '.') {
			d.Kinds = append([]string{"content"}, d.Kinds...) // rewritten: its data differs
		}
		if len(d.Kinds) == 0 {
			d.Kinds = []string{"type"}
		}
	}
	return d, true
}
