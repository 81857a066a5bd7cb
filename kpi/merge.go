package kpi

// AddWork adds to c the file outcomes and bytes that another set of
// counters booked: a worker's, in another process, for one partition of
// this run (efsync.Work). InFlight is not added: the work is done. It is
// safe for concurrent use; a nil c does nothing.
func (c *Counters) AddWork(f FileCounts, b ByteCounts) {
	if c == nil {
		return
	}
	n := &c.n
	for o, v := range map[Outcome]int64{Created: f.Created, Updated: f.Updated, HardLinked: f.HardLinked,
		Unchanged: f.Unchanged, MetadataOnly: f.MetadataOnly, Failed: f.Failed, Skipped: f.Skipped} {
		n.outcomes[o].Add(v)
	}
	n.transferred.Add(f.Transferred)
	n.transferredBytes.Add(b.Transferred)
	n.read.Add(b.Read)
	n.literal.Add(b.Literal)
	n.matched.Add(b.Matched)
}

// AddError counts and keeps r as Error would have, as is: an error that
// another set of counters booked, a worker's for one partition of this
// run. A class AddError does not know counts as ClassOther. It is safe
// for concurrent use; a nil c does nothing.
func (c *Counters) AddError(r ErrorRecord) {
	if c == nil {
		return
	}
	if r.Class >= numClasses {
		r.Class = ClassOther
	}
	c.record(r)
}

// AddErrors adds the errors and vanished entries that another set of
// counters booked, a worker's for one partition of this run: byClass and
// vanished are all it counted, kept and keptVanished those it kept (up to
// its MaxErrors), which c keeps in turn as far as its own MaxErrors
// allows; the others are counted without their paths. It is safe for
// concurrent use; a nil c does nothing.
func (c *Counters) AddErrors(byClass ErrorCounts, kept []ErrorRecord, vanished int64, keptVanished []string) {
	if c == nil {
		return
	}
	var listed [numClasses]int64
	for _, r := range kept {
		c.AddError(r)
		if r.Class >= numClasses {
			r.Class = ClassOther
		}
		listed[r.Class]++
	}
	byClass.each(func(cl Class, n int64) {
		if rest := n - listed[cl]; rest > 0 {
			c.n.classes[cl].Add(rest)
			c.n.errors.Add(rest)
		}
	})
	for _, p := range keptVanished {
		c.Vanished(p)
	}
	if rest := vanished - int64(len(keptVanished)); rest > 0 {
		c.n.classes[ClassVanished].Add(rest)
	}
}
