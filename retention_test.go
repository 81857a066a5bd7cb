package efsync

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/efsync/efsync/kpi"
	"github.com/google/go-cmp/cmp"
)

// snap is a snapshot of label "daily" named by its time, RFC 3339.
func snap(at string, status kpi.Status) SnapshotInfo {
	t, err := time.Parse(time.RFC3339, at)
	if err != nil {
		panic(err)
	}
	return SnapshotInfo{ID: at, Label: "daily", Time: t, Status: status}
}

const (
	stOK      = kpi.StatusSuccess
	stPartial = kpi.StatusPartial
)

func ids(snaps []SnapshotInfo) []string {
	out := []string{}
	for _, s := range snaps {
		out = append(out, s.Label+" "+s.ID)
	}
	return out
}

func TestRetentionApply(t *testing.T) {
	four := []SnapshotInfo{
		snap("2024-03-01T10:00:00Z", stOK), snap("2024-03-02T10:00:00Z", stOK),
		snap("2024-03-03T10:00:00Z", stOK), snap("2024-03-04T10:00:00Z", stOK),
	}
	tests := []struct {
		name  string
		r     Retention
		snaps []SnapshotInfo
		drop  []string // ids, the rest is kept
	}{
		{name: "zero policy keeps all", snaps: four},
		{name: "last 2", r: Retention{Last: 2}, snaps: four,
			drop: []string{"2024-03-01T10:00:00Z", "2024-03-02T10:00:00Z"}},
		{name: "last larger than the count", r: Retention{Last: 10}, snaps: four},
		{name: "no snapshots", r: Retention{Last: 1}, snaps: nil},
		{name: "daily, many a day", r: Retention{Daily: 2}, snaps: []SnapshotInfo{
			snap("2024-03-01T01:00:00Z", stOK), snap("2024-03-01T02:00:00Z", stOK), snap("2024-03-01T23:00:00Z", stOK),
			snap("2024-03-02T01:00:00Z", stOK), snap("2024-03-02T02:00:00Z", stOK),
			snap("2024-03-03T05:00:00Z", stOK),
		}, drop: []string{"2024-03-01T01:00:00Z", "2024-03-01T02:00:00Z", "2024-03-01T23:00:00Z", "2024-03-02T01:00:00Z"}},
		{name: "daily counts days that have snapshots", r: Retention{Daily: 3}, snaps: []SnapshotInfo{
			snap("2024-03-01T10:00:00Z", stOK), snap("2024-03-05T10:00:00Z", stOK),
			snap("2024-03-09T10:00:00Z", stOK), snap("2024-03-10T10:00:00Z", stOK),
		}, drop: []string{"2024-03-01T10:00:00Z"}},
		{name: "daily in UTC", r: Retention{Daily: 2}, snaps: []SnapshotInfo{
			snap("2024-03-10T12:00:00Z", stOK),
			snap("2024-03-10T20:00:00-05:00", stOK), // 2024-03-11 01:00 UTC
			snap("2024-03-11T03:00:00Z", stOK),
		}, drop: []string{"2024-03-10T20:00:00-05:00"}},
		{name: "weekly by ISO week across a year", r: Retention{Weekly: 2}, snaps: []SnapshotInfo{
			snap("2024-12-29T10:00:00Z", stOK), // Sunday, 2024-W52
			snap("2024-12-30T10:00:00Z", stOK), // Monday, 2025-W01
			snap("2025-01-05T10:00:00Z", stOK), // Sunday, 2025-W01
		}, drop: []string{"2024-12-30T10:00:00Z"}},
		{name: "monthly", r: Retention{Monthly: 2}, snaps: []SnapshotInfo{
			snap("2024-01-01T10:00:00Z", stOK), snap("2024-01-31T10:00:00Z", stOK),
			snap("2024-02-15T10:00:00Z", stOK), snap("2024-03-01T10:00:00Z", stOK),
		}, drop: []string{"2024-01-01T10:00:00Z", "2024-01-31T10:00:00Z"}},
		{name: "rules are a union", r: Retention{Last: 1, Monthly: 3}, snaps: []SnapshotInfo{
			snap("2024-01-10T10:00:00Z", stOK), snap("2024-01-20T10:00:00Z", stOK),
			snap("2024-02-10T10:00:00Z", stOK), snap("2024-02-20T10:00:00Z", stOK),
		}, drop: []string{"2024-01-10T10:00:00Z", "2024-02-10T10:00:00Z"}},
		{name: "incomplete snapshots kept and not counted", r: Retention{Last: 1}, snaps: []SnapshotInfo{
			snap("2024-03-01T10:00:00Z", stOK), snap("2024-03-02T10:00:00Z", stOK),
			snap("2024-03-03T10:00:00Z", kpi.StatusIncomplete), snap("2024-03-04T10:00:00Z", kpi.StatusFailed),
			snap("2024-03-05T10:00:00Z", ""),
		}, drop: []string{"2024-03-01T10:00:00Z"}},
		{name: "partial newest counts, the newest success kept too", r: Retention{Last: 1}, snaps: []SnapshotInfo{
			snap("2024-03-01T10:00:00Z", stOK), snap("2024-03-02T10:00:00Z", stOK),
			snap("2024-03-03T10:00:00Z", stPartial), snap("2024-03-04T10:00:00Z", stPartial),
		}, drop: []string{"2024-03-01T10:00:00Z", "2024-03-03T10:00:00Z"}},
		{name: "only partial snapshots", r: Retention{Last: 1}, snaps: []SnapshotInfo{
			snap("2024-03-01T10:00:00Z", stPartial), snap("2024-03-02T10:00:00Z", stPartial),
		}, drop: []string{"2024-03-01T10:00:00Z"}},
		{name: "ties by id", r: Retention{Last: 1}, snaps: []SnapshotInfo{
			{ID: "b", Label: "daily", Time: four[0].Time, Status: stOK},
			{ID: "a", Label: "daily", Time: four[0].Time, Status: stOK},
		}, drop: []string{"a"}},
		{name: "labels apart", r: Retention{Last: 1}, snaps: []SnapshotInfo{
			four[0], four[1], {ID: "x", Label: "weekly", Time: four[0].Time, Status: stOK},
		}, drop: []string{"2024-03-01T10:00:00Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keep, drop := tt.r.Apply(tt.snaps)
			want := map[string]bool{}
			for _, id := range tt.drop {
				want[id] = true
			}
			var wantKeep, wantDrop []SnapshotInfo
			for _, s := range tt.snaps {
				if want[s.ID] {
					wantDrop = append(wantDrop, s)
				} else {
					wantKeep = append(wantKeep, s)
				}
			}
			keepSorted, dropSorted := sortedOldestFirst(wantKeep), sortedOldestFirst(wantDrop)
			if d := cmp.Diff(ids(keepSorted), ids(keep)); d != "" {
				t.Errorf("keep (-want +got):\n%s", d)
			}
			if d := cmp.Diff(ids(dropSorted), ids(drop)); d != "" {
				t.Errorf("drop (-want +got):\n%s", d)
			}
		})
	}
}

func sortedOldestFirst(s []SnapshotInfo) []SnapshotInfo {
	out := slices.Clone(s)
	slices.SortFunc(out, oldestFirst)
	return out
}

// TestRetentionNewestKept checks, over many policies, that the newest
// complete snapshot is never dropped.
func TestRetentionNewestKept(t *testing.T) {
	var snaps []SnapshotInfo
	start := time.Date(2023, 12, 25, 6, 0, 0, 0, time.UTC)
	for i := range 40 {
		st := stOK
		if i%3 == 0 {
			st = stPartial
		}
		at := start.Add(time.Duration(i) * 17 * time.Hour)
		snaps = append(snaps, SnapshotInfo{ID: at.Format(time.RFC3339), Label: "l", Time: at, Status: st})
	}
	snaps = append(snaps, SnapshotInfo{ID: "z-failed", Label: "l", Time: start.AddDate(1, 0, 0), Status: kpi.StatusFailed})
	newest := snaps[39].ID
	for _, r := range []Retention{{Last: 1}, {Daily: 1}, {Weekly: 1}, {Monthly: 1}, {Last: 0, Daily: 3}, {Weekly: 2, Monthly: 5}} {
		keep, drop := r.Apply(snaps)
		if len(keep)+len(drop) != len(snaps) {
			t.Errorf("%+v: %d kept and %d dropped of %d", r, len(keep), len(drop), len(snaps))
		}
		for _, s := range drop {
			if s.ID == newest || s.ID == "z-failed" {
				t.Errorf("%+v dropped %s", r, s.ID)
			}
		}
	}
}

func TestRetentionValidate(t *testing.T) {
	var ue *UsageError
	if err := (Retention{Daily: -1}).validate(); !errors.As(err, &ue) {
		t.Errorf("keep-daily -1: got %v, want a *UsageError", err)
	}
	if err := (Retention{Last: 3, Monthly: 12}).validate(); err != nil {
		t.Errorf("valid policy: %v", err)
	}
	if !(Retention{}).keepsAll() || (Retention{Weekly: 1}).keepsAll() {
		t.Error("keepsAll")
	}
}
