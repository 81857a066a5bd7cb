package efsync

import (
	"encoding/json"
	"os"
	"path/filepath"

	"github.com/efsync/efsync/transfer"
	"golang.org/x/sys/unix"
)

// settledState is the file "settled" of a pair's state: the moment, in
// both trees' clocks, when the last pass began that ended with every entry
// equal, and the destination it was for. A later pass reads no xattrs of
// an entry that no one changed since (see transfer.Options.Settled);
// Options.FullCheck, or another file system at the destination, sets it
// aside.
type settledState struct {
	Run         string `json:"run"`
	Source      int64  `json:"source"`
	Destination int64  `json:"destination"`
	Dev         uint64 `json:"dev"` // the destination root's, so that a file system
	Ino         uint64 `json:"ino"` // mounted or restored in its place voids it
}

// loadSettled returns the settled moment of the pair for the destination
// dst, or zero.
func (e *engine) loadSettled() transfer.Clock {
	if e.pair == nil || e.o.FullCheck || e.o.NoXattrs {
		return transfer.Clock{}
	}
	b, err := os.ReadFile(filepath.Join(e.pair.dir, "settled"))
	if err != nil {
		return transfer.Clock{}
	}
	var s settledState
	var st unix.Stat_t
	if json.Unmarshal(b, &s) != nil || unix.Stat(e.dst, &st) != nil || uint64(st.Dev) != s.Dev || st.Ino != s.Ino {
		return transfer.Clock{}
	}
	return transfer.Clock{Source: s.Source, Destination: s.Destination}
}

// saveSettled records c, when the pass that began then ended with every
// entry equal, xattrs compared.
func (e *engine) saveSettled(run string, c transfer.Clock) error {
	if e.pair == nil || e.o.NoXattrs || e.o.DryRun || c.IsZero() {
		return nil
	}
	var st unix.Stat_t
	if err := unix.Stat(e.dst, &st); err != nil {
		return err
	}
	b, err := json.Marshal(settledState{Run: run, Source: c.Source, Destination: c.Destination, Dev: uint64(st.Dev), Ino: st.Ino})
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Join(e.pair.dir, "settled"), b)
}
