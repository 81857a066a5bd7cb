package efsync

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// RunInfo describes a run kept in the state directory.
type RunInfo struct {
	ID          string
	Source      string
	Destination string
	Start, End  time.Time
	// Status is the run's kpi.Status, "running" while it runs, or
	// "killed" for a run that ended without saying how.
	Status string
	// Chunks by how they ended. Pending chunks were started but not
	// finished: a run that was stopped or killed has some.
	Done, Failed, Pending int
	// Crawled says the crawl listed the whole source; Finished that the
	// delete pass and the directories' metadata were done. A --resume of
	// a run without both ends with a full pass.
	Crawled, Finished bool
	// FailedChunks and PendingChunks are the ids of those chunks.
	FailedChunks, PendingChunks []int

	next      int  // above every chunk id the run used
	abandoned bool // copies were left running: temporary files may remain
	cleaned   bool // those were removed
}

// StatusKilled is a run's status when it ended without saying how.
const StatusKilled = "killed"

// Runs lists the runs of src and dst kept under stateDir ("" means the
// default, see Options.StateDir), oldest first.
func Runs(stateDir, src, dst string) ([]RunInfo, error) {
	root, err := stateRoot(stateDir)
	if err != nil {
		return nil, err
	}
	rs, rd, err := absPair(src, dst)
	if err != nil {
		return nil, err
	}
	return listRuns(filepath.Join(root, pairKey(rs, rd)), false)
}

// absPair returns src and dst as the state keys them: absolute, with
// symlinks resolved.
func absPair(src, dst string) (string, string, error) {
	rs, err := resolve(src)
	if err != nil {
		return "", "", err
	}
	rd, err := resolve(dst)
	return rs, rd, err
}

// listRuns reads every run of a pair's state directory. locked says the
// caller holds the pair's lock, so a "running" run is a killed one.
func listRuns(pairDir string, locked bool) ([]RunInfo, error) {
	ents, err := os.ReadDir(filepath.Join(pairDir, "runs"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []RunInfo
	for _, e := range ents {
		info, err := loadRun(filepath.Join(pairDir, "runs", e.Name()), locked)
		if err != nil {
			continue // a run whose start was cut short: nothing to resume
		}
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// loadRun reads one run's journal.
func loadRun(dir string, locked bool) (RunInfo, error) {
	m, err := readMeta(dir)
	if err != nil {
		return RunInfo{}, err
	}
	info := RunInfo{ID: m.ID, Source: m.Source, Destination: m.Destination, Start: m.Start, End: m.End,
		Status: m.Status, cleaned: m.Cleaned}
	if info.Status == statusRunning && (locked || !alive(m.PID)) {
		info.Status = StatusKilled
	}
	if f, err := os.Open(filepath.Join(dir, "events")); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			switch line := sc.Text(); {
			case line == "crawled":
				info.Crawled = true
			case line == "finished":
				info.Finished = true
			case line == "abandoned":
				info.abandoned = true
			case strings.HasPrefix(line, "done "):
				info.Done++
				if id, err := strconv.Atoi(line[5:]); err == nil {
					info.next = max(info.next, id+1)
				}
			}
		}
		f.Close()
	}
	ents, err := os.ReadDir(filepath.Join(dir, "chunks"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return info, err
	}
	fails := map[int]bool{}
	var ids []int
	for _, e := range ents {
		name, fail := strings.CutSuffix(e.Name(), ".fail")
		id, err := strconv.Atoi(name)
		if err != nil {
			continue
		}
		info.next = max(info.next, id+1)
		if fail {
			fails[id] = true
		} else {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		if fails[id] {
			info.FailedChunks = append(info.FailedChunks, id)
		} else {
			info.PendingChunks = append(info.PendingChunks, id)
		}
	}
	info.Failed, info.Pending = len(info.FailedChunks), len(info.PendingChunks)
	return info, nil
}

// alive reports whether a process pid exists.
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	_, err := os.Stat("/proc/" + strconv.Itoa(pid))
	return err == nil
}

// keepRuns is how many runs a pair's state keeps; older ones are removed
// when a run starts.
const keepRuns = 20

// pruneRuns removes all but the newest keep runs of a pair.
func pruneRuns(pairDir string, runs []RunInfo, keep int) error {
	var errs []error
	for i := 0; i < len(runs)-keep; i++ {
		errs = append(errs, os.RemoveAll(filepath.Join(pairDir, "runs", runs[i].ID)))
	}
	return errors.Join(errs...)
}

// String is one line of agent sync --list-runs.
func (r RunInfo) String() string {
	end := "-"
	if !r.End.IsZero() {
		end = r.End.Sub(r.Start).Round(time.Second).String()
	}
	pass := "pass complete"
	switch {
	case !r.Crawled:
		pass = "crawl incomplete"
	case !r.Finished:
		pass = "not finished"
	}
	return fmt.Sprintf("%s  %-10s  %8s  chunks: %d done, %d failed, %d pending  (%s)",
		r.ID, r.Status, end, r.Done, r.Failed, r.Pending, pass)
}
