package partition

// DefaultEntryCost is the cost of one entry, in bytes, used to balance
// chunks by files as well as bytes (Options.EntryCost).
//
// Creating one entry on EFS takes about five metadata calls (lookup,
// create, flush, setattr, rename) of about 1 ms each. In those 5 ms, one
// copy stream to EFS moves about 128 KiB (25 MB/s per stream, measured by
// aws-samples/amazon-efs-tutorial). So a thousand 1 KiB files cost about
// as much as one 128 MiB file, not one 1 MiB file.
const DefaultEntryCost = 128 << 10

// Chunk is one partition: entries that one copier worker takes together.
//
// Within a live-mode run, a directory's entry comes before its children's
// entries: in an earlier chunk, or earlier in the same chunk. Hard-link
// groups are whole within one chunk. Chunks may still be copied out of
// order by several workers, so a copier must create missing parents itself
// and set a directory's metadata after all its children are in.
type Chunk struct {
	ID      int     // 0, 1, 2, ... in the order chunks are sent
	Entries []Entry // every directory, file, link and error entry of the chunk

	// Files counts the entries (directories included, like fpart -f) and
	// Bytes the sizes of the regular files, each hard-link group once:
	// the quantities that Options.MaxFiles and Options.MaxBytes limit.
	Files int
	Bytes int64
	// Cost is Bytes plus Options.EntryCost for each entry: what a copy of
	// the chunk is expected to cost, in bytes' worth of time.
	Cost int64
}

// item is what the assembler places whole: one entry, or a complete
// hard-link group (then group holds its entries and entry is unused).
type item struct {
	entry Entry
	group []Entry
	bytes int64
}

// one returns the item of a single entry.
func one(e Entry) item { return item{entry: e, bytes: e.bytes()} }

// n returns the number of entries in it.
func (it *item) n() int {
	if it.group != nil {
		return len(it.group)
	}
	return 1
}

// first returns the path of its first entry.
func (it *item) first() string {
	if it.group != nil {
		return it.group[0].Path
	}
	return it.entry.Path
}

// cost returns the cost of it with entryCost per entry.
func (it *item) cost(entryCost int64) int64 {
	return it.bytes + entryCost*int64(it.n())
}

// add appends it to c.
func (c *Chunk) add(it *item, entryCost int64) {
	if it.group != nil {
		c.Entries = append(c.Entries, it.group...)
	} else {
		c.Entries = append(c.Entries, it.entry)
	}
	c.Files += it.n()
	c.Bytes += it.bytes
	c.Cost += it.cost(entryCost)
}
