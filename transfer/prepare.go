package transfer

import (
	"context"

	"github.com/efsync/efsync/partition"
)

// Prepare readies the destination for a chunk that another Copier, a
// worker on another host, copies: it makes the chunk's directories (other
// NFS clients may have cached a lookup that found nothing, so they must
// exist before the work under them is published), and records all that
// Finish needs of the chunk's entries: the source's names for the delete
// pass, the directories' source metadata, the entries not read completely.
// Finish, on this Copier, once every worker is done, then removes what
// the source lacks and sets the directories' metadata.
//
// Prepare is safe to call concurrently with itself, not with Finish. It
// returns the paths that failed, and an error that stops the run, like
// Run.
func (c *Copier) Prepare(ctx context.Context, ch *partition.Chunk) ([]string, error) {
	w := c.newWorker()
	defer w.close()
	var r Result
	for i := range ch.Entries {
		e := &ch.Entries[i]
		if err := checkRel(e.Path); err != nil {
			return nil, err
		}
		if e.Err == nil && !e.IsDir() {
			if c.opt.Delete && e.Path != "." {
				dir, name := split(e.Path)
				c.dirs.name(dir, name)
			}
			continue
		}
		// A directory, or an error entry, which entry books as incomplete.
		if err := w.do(ctx, e, func(kf *fileReport) error { return w.entry(ctx, e, kf) }); err != nil {
			if !w.failed(&r, e.Path, err) {
				return nil, err
			}
		}
		if e.IsDir() && e.Err == nil {
			c.dirs.dirty(e.Path)  // the workers write in it: Finish sets its metadata,
			c.dirs.unlist(e.Path) // and the delete pass lists it as they left it
		}
	}
	return r.Failed, ctx.Err()
}
