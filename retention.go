package efsync

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/efsync/efsync/kpi"
)

// SnapshotInfo is what a retention policy knows of a snapshot.
type SnapshotInfo struct {
	ID     string // unique, sorts by time
	Label  string
	Time   time.Time // when its backup started
	Status kpi.Status
}

// complete reports whether s is a snapshot to restore from: its backup
// ended, even with some entries failed.
func (s SnapshotInfo) complete() bool {
	return s.Status == kpi.StatusSuccess || s.Status == kpi.StatusPartial
}

// Retention says which complete snapshots of a label to keep, like
// restic's forget policy (--keep-last, --keep-daily, --keep-weekly,
// --keep-monthly). The rules are a union: a snapshot kept by any of them
// is kept. A rule at 0 keeps nothing by itself; the zero Retention keeps
// everything, so that nothing is pruned unless asked.
type Retention struct {
	// Last keeps the newest Last complete snapshots.
	Last int
	// Daily, Weekly and Monthly keep the newest snapshot of each of the
	// last Daily days, Weekly ISO weeks and Monthly months that have a
	// complete snapshot, in UTC.
	Daily, Weekly, Monthly int
}

// keepsAll reports whether r prunes nothing: all its rules are 0.
func (r Retention) keepsAll() bool { return r == Retention{} }

// validate refuses negative rules, with a *UsageError. (restic reads -1
// as "unlimited"; Apply reads it as 0, so it would drop far more than
// meant.)
func (r Retention) validate() error {
	for _, v := range []struct {
		name string
		n    int
	}{{"last", r.Last}, {"daily", r.Daily}, {"weekly", r.Weekly}, {"monthly", r.Monthly}} {
		if v.n < 0 {
			return usage("retention: keep-%s is %d, not a count of snapshots", v.name, v.n)
		}
	}
	return nil
}

// Apply divides snaps into those r keeps and those it drops, each sorted
// oldest first (by Time, then ID). Snapshots of several labels are judged
// each label apart.
//
// Only complete snapshots (success or partial) count toward the rules and
// may be dropped; any other is kept, as a backup may still be writing it.
// Whatever the rules, Apply keeps the newest complete snapshot of each
// label, and the newest successful one: a partial snapshot lacks the
// entries that failed, which the successful one has.
func (r Retention) Apply(snaps []SnapshotInfo) (keep, drop []SnapshotInfo) {
	byLabel := map[string][]SnapshotInfo{}
	for _, s := range snaps {
		byLabel[s.Label] = append(byLabel[s.Label], s)
	}
	for _, group := range byLabel {
		k, d := r.applyLabel(group)
		keep, drop = append(keep, k...), append(drop, d...)
	}
	slices.SortFunc(keep, oldestFirst)
	slices.SortFunc(drop, oldestFirst)
	return keep, drop
}

// applyLabel applies r to the snapshots of one label.
func (r Retention) applyLabel(snaps []SnapshotInfo) (keep, drop []SnapshotInfo) {
	var done []SnapshotInfo
	for _, s := range snaps {
		if s.complete() && !r.keepsAll() {
			done = append(done, s)
		} else {
			keep = append(keep, s)
		}
	}
	slices.SortFunc(done, func(a, b SnapshotInfo) int { return oldestFirst(b, a) })
	rules := []struct {
		n      int
		bucket func(i int, t time.Time) string
		last   string
	}{
		{n: r.Last, bucket: func(i int, _ time.Time) string { return strconv.Itoa(i) }},
		{n: r.Daily, bucket: func(_ int, t time.Time) string { return t.Format("2006-01-02") }},
		{n: r.Weekly, bucket: func(_ int, t time.Time) string {
			y, w := t.ISOWeek()
			return fmt.Sprintf("%d-W%02d", y, w)
		}},
		{n: r.Monthly, bucket: func(_ int, t time.Time) string { return t.Format("2006-01") }},
	}
	newestSuccess := slices.IndexFunc(done, func(s SnapshotInfo) bool { return s.Status == kpi.StatusSuccess })
	for i, s := range done {
		// Newest first, so the first of each bucket is its newest: like
		// restic, a rule keeps it and counts one period.
		// Any rule above 0 keeps the newest already: i == 0 holds the
		// promise whatever rules come.
		kept := i == 0 || i == newestSuccess
		for j := range rules {
			rule := &rules[j]
			if rule.n <= 0 {
				continue
			}
			if b := rule.bucket(i, s.Time.UTC()); b != rule.last {
				rule.last, rule.n, kept = b, rule.n-1, true
			}
		}
		if kept {
			keep = append(keep, s)
		} else {
			drop = append(drop, s)
		}
	}
	return keep, drop
}

// oldestFirst orders snapshots by time, then by id.
func oldestFirst(a, b SnapshotInfo) int {
	if c := a.Time.Compare(b.Time); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}
