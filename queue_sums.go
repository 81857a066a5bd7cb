package efsync

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/efsync/efsync/internal/manifest"
	"github.com/efsync/efsync/transfer"
)

// A backup through a queue builds its manifest as any backup does, from
// what the copies learnt of each entry, but its workers' copies run on
// other hosts. So a worker writes what its copy of a task learnt, the
// hash of each file it read and the digest of the xattrs it read, to a
// sums file in the directory the task names (TaskCopy.Sums, in the
// leader's run state), and its completion names the file; the leader
// reads it into its manifest log and removes it. Without it the leader
// would read every file the workers wrote back from the snapshot, and
// probe every entry's xattrs: on NFS, the night's new data twice.
//
// A sums file is a manifest file whose records hold the entry's path,
// type, size and mtime as the copy left them, and in Mode what the record
// knows: needHash for Hash, needXattrs for Xattrs.

// sumsWriter collects a task's sums as its copier reports entries.
type sumsWriter struct {
	w    *manifest.Writer
	name string // the file's name, in the task's Sums directory

	mu sync.Mutex
	// A hard link to a file the copy wrote just before is reported
	// without what the copy learnt of that file: the sum of its inode
	// (the source's, by device and number), for the links to it.
	byIno   map[[2]uint64]manifest.Record
	pending []pendingSum
	err     error
}

// pendingSum is a hard link whose sum is its inode's.
type pendingSum struct {
	path string
	ino  [2]uint64
}

// newSumsWriter starts the sums file of chunk's copy in dir.
func newSumsWriter(dir string, chunk int) (*sumsWriter, error) {
	var r [6]byte
	rand.Read(r[:])
	name := fmt.Sprintf("%d-%s", chunk, hex.EncodeToString(r[:])) // a redelivery writes a file of its own
	// Not synced: the leader reads it at once, and a crash loses only
	// the sums, which the manifest then reads back from the snapshot.
	w, err := manifest.Create(filepath.Join(dir, name), manifest.Options{TempDir: os.TempDir(), NoSync: true})
	if err != nil {
		return nil, fmt.Errorf("sums: %w", err)
	}
	return &sumsWriter{w: w, name: name, byIno: map[[2]uint64]manifest.Record{}}, nil
}

// onDone records what the copier learnt of d's entry, if anything.
func (s *sumsWriter) onDone(d transfer.Done) {
	r := recordOf(d.Entry)
	r.Mode = 0 // what the record knows, not the entry's mode
	if d.Hashed {
		r.Hash, r.HasHash, r.Mode = d.Sum, true, needHash
	}
	if d.XattrsRead {
		r.Xattrs = xattrDigest(d.Xattrs)
		r.Mode |= needXattrs
	}
	if e := d.Entry; e.Nlink > 1 && r.Type == manifest.TypeFile {
		ino := [2]uint64{e.Dev, e.Ino}
		s.mu.Lock()
		if r.Mode == 0 {
			s.pending = append(s.pending, pendingSum{r.Path, ino})
		} else if k, ok := s.byIno[ino]; !ok || r.HasHash || !k.HasHash {
			s.byIno[ino] = r // the latest copy's: a link made after a new copy (EMLINK) is to it
		}
		s.mu.Unlock()
	}
	if r.Mode != 0 {
		s.add(r)
	}
}

// add adds r to the file.
func (s *sumsWriter) add(r manifest.Record) {
	if err := s.w.Add(r); err != nil {
		s.mu.Lock()
		s.err = errors.Join(s.err, err)
		s.mu.Unlock()
	}
}

// close writes the file, complete, and returns its name.
func (s *sumsWriter) close() (string, error) {
	for _, p := range s.pending {
		if r, ok := s.byIno[p.ino]; ok {
			r.Path = p.path
			s.add(r)
		}
	}
	if s.err != nil {
		s.w.Abort()
		return "", fmt.Errorf("sums: %w", s.err)
	}
	if err := s.w.Close(); err != nil {
		return "", fmt.Errorf("sums: %w", err)
	}
	return s.name, nil
}

// abort drops the file.
func (s *sumsWriter) abort() { s.w.Abort() }

// fromSum takes into r what a worker's sum sr of the same entry knows of
// need, and returns what r still needs. The sum is the entry as the copy
// left it: if the snapshot's entry has another type, size or mtime, a
// later copy wrote it, and the sum is not its own.
func fromSum(r *manifest.Record, sr manifest.Record, need uint32) uint32 {
	if sr.Type != r.Type || sr.Size != r.Size || sr.Mtime != r.Mtime {
		return need
	}
	if need&needHash != 0 && sr.Mode&needHash != 0 && sr.HasHash {
		r.Hash, r.HasHash = sr.Hash, true
		need &^= needHash
	}
	if need&needXattrs != 0 && sr.Mode&needXattrs != 0 {
		r.Xattrs = sr.Xattrs
		need &^= needXattrs
	}
	return need
}

// sumsFile returns the path of a completion's sums file name in dir, or
// an error for a name that would leave dir: the leader removes the file,
// and a completion is only a message.
func sumsFile(dir, name string) (string, error) {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
		return "", fmt.Errorf("sums file %q: %w", name, ErrBadMessage)
	}
	return filepath.Join(dir, name), nil
}

// readSums passes each record of the sums file path to add, once the
// whole file has read well: none of a damaged one.
func readSums(path string, add func(manifest.Record) error) error {
	r, err := manifest.Open(path)
	if err != nil {
		return err
	}
	defer r.Close()
	var recs []manifest.Record // a chunk's worth
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("sums %s: %w", path, err)
		}
		recs = append(recs, rec)
	}
	for _, rec := range recs {
		if err := add(rec); err != nil {
			return fmt.Errorf("sums %s: %w", path, err)
		}
	}
	return nil
}

// sumsDir makes the directory where workers write their sums files, and
// returns it, absolute; "" when the run keeps no manifest.
func (l *leader) sumsDir() (string, error) {
	if l.e.o.onSum == nil || l.j == nil {
		return "", nil
	}
	dir, err := filepath.Abs(filepath.Join(l.j.dir, "sums"))
	if err == nil {
		err = os.MkdirAll(dir, 0o700)
	}
	if err != nil {
		return "", fmt.Errorf("sums: %w", err)
	}
	return dir, nil
}

// takeSums passes the sums of a chunk's first completion to the
// manifest, then removes its file. A file that can't be read costs time,
// not the manifest: its entries are read back from the snapshot.
func (l *leader) takeSums(c Completion) {
	if c.Sums == "" || l.copy.Sums == "" {
		return
	}
	path, err := sumsFile(l.copy.Sums, c.Sums)
	if err == nil {
		err = readSums(path, l.e.o.onSum)
		os.Remove(path)
	}
	if err != nil {
		l.e.o.Logger.Warn("a worker's sums: the manifest reads its files back", "chunk", c.Chunk, "worker", c.Worker, "err", err)
	}
}

// dropSums removes the sums file of a completion not taken.
func (l *leader) dropSums(c Completion) {
	if c.Sums == "" || l.copy.Sums == "" {
		return
	}
	if path, err := sumsFile(l.copy.Sums, c.Sums); err == nil {
		os.Remove(path)
	}
}
