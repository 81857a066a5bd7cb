package efsync

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sync"

	"github.com/efsync/efsync/transfer"
)

// partials is the pair's transfer.Partial: the huge copies that stopped
// part way, kept in the pair's state directory (the file "partial") so
// that the next run, resumed or not, copies only their missing pieces.
// There are few huge files, so each change rewrites the whole small file.
type partials struct {
	mu   sync.Mutex
	file string
	recs map[string]transfer.PartialCopy
	log  *slog.Logger
}

// openPartials reads the records the pair's earlier runs left.
func openPartials(pairDir string, log *slog.Logger) *partials {
	p := &partials{file: filepath.Join(pairDir, "partial"), recs: map[string]transfer.PartialCopy{}, log: log}
	b, err := os.ReadFile(p.file)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			log.Warn("partial copies: starting them again", "err", err)
		}
		return p
	}
	if err := json.Unmarshal(b, &p.recs); err != nil {
		log.Warn("partial copies: starting them again", "file", p.file, "err", err)
		p.recs = map[string]transfer.PartialCopy{}
	}
	return p
}

// Load implements transfer.Partial.
func (p *partials) Load(rel string) (transfer.PartialCopy, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r, ok := p.recs[rel]
	return r, ok
}

// Save implements transfer.Partial.
func (p *partials) Save(rel string, c transfer.PartialCopy) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.recs[rel] = c
	p.write()
}

// Drop implements transfer.Partial.
func (p *partials) Drop(rel string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.recs[rel]; ok {
		delete(p.recs, rel)
		p.write()
	}
}

// write saves the records; p.mu is held. A record lost to an error only
// makes its copy start again.
func (p *partials) write() {
	b, err := json.Marshal(p.recs)
	if err == nil {
		err = writeAtomic(p.file, b)
	}
	if err != nil {
		p.log.Warn("partial copies: not recorded", "err", err)
	}
}

// temps returns the destination paths of the recorded temporary files,
// which a cleanup must spare.
func (p *partials) temps() map[string]bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	keep := make(map[string]bool, len(p.recs))
	for rel, r := range p.recs {
		keep[path.Join(path.Dir(rel), r.Temp)] = true
	}
	return keep
}

// clear forgets every record and removes its temporary file from dst. A
// pass that completed with nothing failed calls it: each huge file it
// copied dropped its record, so those left are stale (their file finished
// by another run, deleted from the source, excluded since).
func (p *partials) clear(ctx context.Context, dst string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.recs) == 0 {
		return nil
	}
	dirs := map[string]bool{}
	for rel := range p.recs {
		dirs[path.Dir(rel)] = true
	}
	// The pass is over: no copy is in flight, so every temporary file in
	// those directories is litter.
	if _, err := transfer.RemoveTemps(ctx, dst, slices.Sorted(maps.Keys(dirs)), nil); err != nil {
		return err
	}
	clear(p.recs)
	p.write()
	return nil
}
