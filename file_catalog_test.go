package efsync

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/efsync/efsync/kpi"
	"github.com/google/go-cmp/cmp"
)

func testRecord(id string, status kpi.Status) Record {
	start := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	return Record{
		Version: RecordVersion, ID: id, Label: "daily", Source: "/src", Repo: "/repo", Host: "h1",
		Snapshot: "/repo/daily/" + id, Parent: "20240229T100000Z-aaaaaa",
		Status: status, Reason: "2 entries failed",
		Start: start, Stop: start.Add(time.Minute),
		Phases: []kpi.Phase{{Name: "lock", Start: start, Stop: start.Add(time.Second), Seconds: 1}},
		Files:  1200, Bytes: 1 << 30,
		Failed: []string{"a/b", "c"},
		Report: kpi.Report{Version: kpi.ReportVersion, RunID: id, Status: status, Start: start,
			Files: kpi.FileCounts{Created: 3, Failed: 2}, Phases: []kpi.Phase{}, Partitions: []kpi.Partition{}},
	}
}

func TestCatalogRoundTrip(t *testing.T) {
	c := NewFileCatalog(t.TempDir())
	want := testRecord("20240301T100000Z-abcdef", kpi.StatusPartial)
	if err := c.Put(t.Context(), want); err != nil {
		t.Fatal(err)
	}
	got, err := c.Get(t.Context(), want.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Get (-want +got):\n%s", d)
	}
	data, err := os.ReadFile(filepath.Join(c.Dir(), want.ID+".json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "\n  \"status\": \"partial\",\n") {
		t.Errorf("not indented for reading by hand:\n%s", data)
	}
}

func TestCatalogListOrder(t *testing.T) {
	c := NewFileCatalog(t.TempDir())
	if recs, err := c.List(t.Context()); err != nil || len(recs) != 0 {
		t.Fatalf("List of an empty catalog: %v, %v", recs, err)
	}
	// "a.json" sorts after "a-b.json", yet "a" before "a-b".
	for _, id := range []string{"b", "a-b", "c", "a"} {
		if err := c.Put(t.Context(), testRecord(id, kpi.StatusSuccess)); err != nil {
			t.Fatal(err)
		}
	}
	// Left over by a crash, and by hand: not records.
	os.WriteFile(filepath.Join(c.Dir(), ".z.123.tmp"), []byte("{"), 0o600)
	os.WriteFile(filepath.Join(c.Dir(), "README"), []byte("notes"), 0o600)
	recs, err := c.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, r.ID)
	}
	if d := cmp.Diff([]string{"a", "a-b", "b", "c"}, got); d != "" {
		t.Errorf("List (-want +got):\n%s", d)
	}
}

func TestCatalogPutReplaces(t *testing.T) {
	c := NewFileCatalog(t.TempDir())
	r := testRecord("x", kpi.StatusIncomplete)
	r.Stop = time.Time{}
	if err := c.Put(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	r.Status, r.Stop = kpi.StatusSuccess, r.Start.Add(time.Hour)
	if err := c.Put(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	got, err := c.Get(t.Context(), "x")
	if err != nil || got.Status != kpi.StatusSuccess || !got.Stop.Equal(r.Stop) {
		t.Errorf("after the second Put: %s %v, %v", got.Status, got.Stop, err)
	}
	if ents, _ := os.ReadDir(c.Dir()); len(ents) != 1 {
		t.Errorf("catalog holds %v, want x.json alone", ents)
	}
}

func TestCatalogConcurrentPut(t *testing.T) {
	c := NewFileCatalog(t.TempDir())
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			// Half write one id, half their own.
			id := "same"
			if i%2 == 1 {
				id = fmt.Sprint("own-", i)
			}
			if err := c.Put(t.Context(), testRecord(id, kpi.StatusSuccess)); err != nil {
				t.Error(err)
			}
			if _, err := c.List(t.Context()); err != nil {
				t.Error(err) // a record seen half written
			}
		})
	}
	wg.Wait()
	if recs, err := c.List(t.Context()); err != nil || len(recs) != 5 {
		t.Errorf("List: %d records, %v; want 5", len(recs), err)
	}
}

func TestCatalogGetUnknown(t *testing.T) {
	c := NewFileCatalog(t.TempDir())
	for _, id := range []string{"nope", "../lock", "", ".hidden"} {
		if _, err := c.Get(t.Context(), id); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%q): got %v, want ErrNotFound", id, err)
		}
	}
	if err := c.Put(t.Context(), testRecord("../x", kpi.StatusSuccess)); err == nil {
		t.Error("Put of an id with a slash succeeded")
	}
}

func TestCatalogCorrupt(t *testing.T) {
	c := NewFileCatalog(t.TempDir())
	if err := c.Put(t.Context(), testRecord("good", kpi.StatusSuccess)); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"cut":     `{"version": 1, "id": "cut", "lab`,
		"renamed": `{"version": 1, "id": "other"}`,
		"future":  `{"version": 99, "id": "future"}`,
	}
	for id, data := range files {
		path := filepath.Join(c.Dir(), id+".json")
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Get(t.Context(), id); err == nil || !strings.Contains(err.Error(), path) || errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%q): got %v, want an error naming %s", id, err, path)
		}
		_, err := c.List(t.Context())
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("List with %s: got %v, want an error naming it", id, err)
		}
		os.Remove(path)
	}
}

func TestCatalogCanceled(t *testing.T) {
	c := NewFileCatalog(t.TempDir())
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := c.Put(ctx, testRecord("x", kpi.StatusSuccess)); !errors.Is(err, context.Canceled) {
		t.Errorf("Put: %v", err)
	}
	if _, err := c.Get(ctx, "x"); !errors.Is(err, context.Canceled) {
		t.Errorf("Get: %v", err)
	}
}
