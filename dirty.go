package efsync

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
)

// dirtyLog records, in a run's journal, the files being rewritten in place
// (Options.InPlace): "+path\x00" before the first write, "-path\x00" once
// the file is whole. A file with a "+" and no "-" was cut short by a
// crash; the next run compares it by checksum.
type dirtyLog struct {
	mu sync.Mutex
	f  *os.File
}

func openDirty(runDir string) (*dirtyLog, error) {
	f, err := os.OpenFile(filepath.Join(runDir, "dirty"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	return &dirtyLog{f: f}, nil
}

func (d *dirtyLog) add(op byte, rel string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, err := d.f.Write(append(append([]byte{op}, rel...), 0))
	return err
}

// dirty and clean are transfer.Options.Dirty and Clean.
func (d *dirtyLog) dirty(rel string) error { return d.add('+', rel) }
func (d *dirtyLog) clean(rel string)       { d.add('-', rel) } // lost: one more checksum next time

func (d *dirtyLog) close() error { return d.f.Close() }

// readDirty returns the files a run's journal leaves dirty.
func readDirty(runDir string) map[string]bool {
	b, err := os.ReadFile(filepath.Join(runDir, "dirty"))
	if err != nil {
		return nil
	}
	left := map[string]bool{}
	for rec := range bytes.SplitSeq(b, []byte{0}) {
		if len(rec) < 2 {
			continue
		}
		if rec[0] == '+' {
			left[string(rec[1:])] = true
		} else {
			delete(left, string(rec[1:]))
		}
	}
	return left
}

// clearDirty forgets the dirty files of every run of the pair but keep,
// once a pass has compared them all by checksum and ended with every entry
// equal.
func clearDirty(pairDir, keep string) {
	runs, _ := filepath.Glob(filepath.Join(pairDir, "runs", "*", "dirty"))
	for _, p := range runs {
		if filepath.Base(filepath.Dir(p)) != keep {
			os.Remove(p)
		}
	}
}
