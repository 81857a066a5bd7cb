package aws

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"github.com/efsync/efsync"
	"github.com/efsync/efsync/kpi"
	"github.com/efsync/efsync/orchestrate"
)

// fullRecord returns a record with every field set, as a backup that
// ended makes it.
func fullRecord(start time.Time) efsync.Record {
	stop := start.Add(42 * time.Minute)
	return efsync.Record{Version: efsync.RecordVersion, ID: efsync.NewBackupID(start), Label: "daily", Source: "/mnt/src",
		Repo: "/mnt/dst", Host: "ip-10-0-0-1", Snapshot: "/mnt/dst/daily/x", Parent: "20291231T020000.000Z-000000",
		Status: kpi.StatusPartial, Reason: "2 entries failed", Start: start, Stop: stop,
		Phases: []kpi.Phase{{Name: "copy", Start: start, Stop: stop, Seconds: 2520}},
		Files:  1200, Bytes: 5 << 30, Failed: []string{"a/b", "c"}, Suspect: true,
		Report: kpi.Report{Version: kpi.ReportVersion, RunID: "r1", Source: "/mnt/src", Destination: "/mnt/dst/daily/.inprogress-x",
			Status: kpi.StatusPartial, Start: start, Stop: stop, Seconds: 2520,
			Scanned: kpi.EntryCounts{File: 1000, Dir: 190, Symlink: 10}, Files: kpi.FileCounts{Created: 30, Updated: 12, Transferred: 42, Failed: 2},
			Bytes:         kpi.ByteCounts{Scanned: 5 << 30, Transferred: 7 << 20, Read: 7 << 20, Literal: 7 << 20},
			VanishedPaths: []string{}, Errors: kpi.ErrorSummary{First: []kpi.ErrorRecord{}}, Phases: []kpi.Phase{}, Partitions: []kpi.Partition{}}}
}

// TestCatalogRoundTrip: a full record comes back as it went in, from Get
// and List; the seed's KPIs, the status and the phases are attributes
// of their own, and the TTL is a Number (the seed wrote a String, which
// DynamoDB's TTL ignores: nothing ever expired).
func TestCatalogRoundTrip(t *testing.T) {
	e := newEnv(t, true)
	want := fullRecord(e.now)
	if err := e.b.Catalog.Put(t.Context(), want); err != nil {
		t.Fatal(err)
	}
	got, err := e.b.Catalog.Get(t.Context(), want.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Get (-put +got):\n%s", d)
	}
	list, err := e.b.Catalog.List(t.Context())
	if err != nil || len(list) != 1 {
		t.Fatalf("List: %d records, %v; want 1", len(list), err)
	}
	if d := cmp.Diff(want, list[0]); d != "" {
		t.Errorf("List (-put +got):\n%s", d)
	}
	item := e.rawItem(t, want.ID)
	ttl, ok := item[TTLAttribute].(*ddbtypes.AttributeValueMemberN)
	if !ok {
		t.Fatalf("%s is %T, want a Number", TTLAttribute, item[TTLAttribute])
	}
	if wantTTL := strconv.FormatInt(e.now.Add(e.res.TTL).Unix(), 10); ttl.Value != wantTTL {
		t.Errorf("%s = %s, want %s (start + TTL)", TTLAttribute, ttl.Value, wantTTL)
	}
	for name, v := range map[string]string{"NumberOfFiles": "1200", "NumberOfFilesTransferred": "42",
		"TotalFileSize": strconv.Itoa(5 << 30), "TotalTransferredFileSize": strconv.Itoa(7 << 20)} {
		if n, ok := item[name].(*ddbtypes.AttributeValueMemberN); !ok || n.Value != v {
			t.Errorf("%s = %#v, want the Number %s", name, item[name], v)
		}
	}
	if s, ok := item["Status"].(*ddbtypes.AttributeValueMemberS); !ok || s.Value != "partial" {
		t.Errorf("Status = %#v", item["Status"])
	}
	if p, ok := item["Phases"].(*ddbtypes.AttributeValueMemberL); !ok || len(p.Value) != 1 {
		t.Errorf("Phases = %#v", item["Phases"])
	}
	if _, err := e.b.Catalog.Get(t.Context(), "20300101T000000.000Z-none"); !errors.Is(err, efsync.ErrNotFound) {
		t.Errorf("Get of an unknown id: %v, want ErrNotFound", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := e.b.Catalog.Get(ctx, want.ID); err != context.Canceled {
		t.Errorf("Get with a done context: %v, want context.Canceled untouched", err)
	}
}

// TestCatalogReservedWords: dynalite refuses Status in an expression as
// DynamoDB does (the control), and Put, which writes Status, passes:
// every name goes through an expression attribute name.
func TestCatalogReservedWords(t *testing.T) {
	e := newEnv(t, true)
	_, err := e.ddb.UpdateItem(t.Context(), &dynamodb.UpdateItemInput{TableName: awssdk.String(e.res.Table),
		Key:                       map[string]ddbtypes.AttributeValue{KeyAttribute: str("x")},
		UpdateExpression:          awssdk.String("SET Status = :s, Size = :n"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":s": str("success"), ":n": num(1)}})
	if err == nil {
		t.Fatal("the emulator took reserved words in an expression: this test can't fail")
	}
	r := fullRecord(e.now)
	r.Status = kpi.StatusSuccess
	if err := e.b.Catalog.Put(t.Context(), r); err != nil {
		t.Errorf("Put with Status: %v", err)
	}
}

// TestCatalogNeverBackwards: a Put that would take a job back (a late
// "running" write after its end, an ended one after it was reported) is
// refused with ErrStale and changes nothing; one at the same rank or
// further goes through.
func TestCatalogNeverBackwards(t *testing.T) {
	e := newEnv(t, true)
	base := efsync.Record{ID: efsync.NewBackupID(e.now), Label: "daily", Start: e.now}
	running := base
	ended := base
	ended.Status, ended.Stop = kpi.StatusSuccess, e.now.Add(time.Minute)
	reported := ended
	reported.Phases = []kpi.Phase{{Name: orchestrate.PhaseReported, Start: ended.Stop, Stop: ended.Stop}}
	pruned := reported
	pruned.Pruned = e.now.Add(48 * time.Hour)
	steps := []struct {
		name  string
		put   efsync.Record
		stale bool
	}{
		{"create running", running, false},
		{"running again", running, false},
		{"ended", ended, false},
		{"late running", running, true},
		{"ended again", ended, false},
		{"reported", reported, false},
		{"late ended", ended, true},
		{"late running after reported", running, true},
		{"reported, pruned", pruned, false},
	}
	want := running
	for _, s := range steps {
		err := e.b.Catalog.Put(t.Context(), s.put)
		if s.stale != errors.Is(err, ErrStale) || (!s.stale && err != nil) {
			t.Errorf("%s: Put: %v, want stale %v", s.name, err, s.stale)
		}
		if err == nil {
			want = s.put
		}
		got, err := e.b.Catalog.Get(t.Context(), base.ID)
		if err != nil {
			t.Fatal(err)
		}
		want.Version = efsync.RecordVersion
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s: stored (-want +got):\n%s", s.name, d)
		}
	}
}

// TestCatalogClaim: a second running record for one schedule slot (label
// and start) is refused with ErrClaimed and not stored; the first can be
// put again; another label or start is another slot.
func TestCatalogClaim(t *testing.T) {
	e := newEnv(t, true)
	first := efsync.Record{ID: efsync.NewBackupID(e.now), Label: "daily", Start: e.now}
	second := first
	second.ID = efsync.NewBackupID(e.now)
	if err := e.b.Catalog.Put(t.Context(), first); err != nil {
		t.Fatal(err)
	}
	if err := e.b.Catalog.Put(t.Context(), second); !errors.Is(err, ErrClaimed) {
		t.Errorf("a second start in the slot: %v, want ErrClaimed", err)
	}
	if _, err := e.b.Catalog.Get(t.Context(), second.ID); !errors.Is(err, efsync.ErrNotFound) {
		t.Errorf("the refused record was kept: %v", err)
	}
	if err := e.b.Catalog.Put(t.Context(), first); err != nil {
		t.Errorf("the slot's owner again: %v", err)
	}
	other := second
	other.Label = "hourly"
	if err := e.b.Catalog.Put(t.Context(), other); err != nil {
		t.Errorf("another label: %v", err)
	}
	list, err := e.b.Catalog.List(t.Context())
	if err != nil || len(list) != 2 {
		t.Errorf("List: %d records (%v), want 2: claims are no records", len(list), err)
	}
}

// TestCatalogReleaseSlot: the slot of a job that could not start is
// released, and a new record takes it; releasing another's slot, or
// twice, changes nothing.
func TestCatalogReleaseSlot(t *testing.T) {
	e := newEnv(t, true)
	cat := e.b.Catalog.(*Catalog)
	failed := efsync.Record{ID: efsync.NewBackupID(e.now), Label: "daily", Start: e.now}
	if err := cat.Put(t.Context(), failed); err != nil {
		t.Fatal(err)
	}
	failed.Status = kpi.StatusFailed
	if err := cat.Put(t.Context(), failed); err != nil {
		t.Fatal(err)
	}
	retry := efsync.Record{ID: efsync.NewBackupID(e.now), Label: "daily", Start: e.now}
	if err := cat.Put(t.Context(), retry); !errors.Is(err, ErrClaimed) {
		t.Fatalf("before the release: %v, want ErrClaimed", err)
	}
	for range 2 {
		if err := cat.ReleaseSlot(t.Context(), failed); err != nil {
			t.Fatal(err)
		}
	}
	if err := cat.Put(t.Context(), retry); err != nil {
		t.Fatalf("the retry after the release: %v", err)
	}
	if err := cat.ReleaseSlot(t.Context(), failed); err != nil { // the retry's slot now: kept
		t.Fatal(err)
	}
	third := efsync.Record{ID: efsync.NewBackupID(e.now), Label: "daily", Start: e.now}
	if err := cat.Put(t.Context(), third); !errors.Is(err, ErrClaimed) {
		t.Errorf("the retry's slot after another's release: %v, want ErrClaimed", err)
	}
}
