package transfer

import (
	"time"

	"github.com/efsync/efsync/partition"
	"golang.org/x/sys/unix"
)

// Clock is one moment read in the clocks of both trees, ns since the Unix
// epoch: a file's ctime is set by its file system's clock (an NFS
// server's, for EFS), so that is the clock to compare it with.
type Clock struct {
	Source, Destination int64
}

// IsZero reports whether c was never read.
func (c Clock) IsZero() bool { return c.Source == 0 && c.Destination == 0 }

// clockSkew is how far the source's clock may be behind this machine's,
// when the source's own clock can't be read (it is never written to).
// Hosts on NTP, as EC2 instances and EFS are, stay within milliseconds.
const clockSkew = 2 * time.Minute

// readClock returns the moment New ran: the destination's clock is the
// ctime of the probe's file; the source's is the same when both trees are
// on one file system, else this machine's clock less clockSkew.
func readClock(probeCtime int64, srcDev, dstDev uint64) Clock {
	if probeCtime == 0 {
		return Clock{}
	}
	if srcDev == dstDev {
		return Clock{Source: probeCtime, Destination: probeCtime}
	}
	return Clock{Source: time.Now().Add(-clockSkew).UnixNano(), Destination: probeCtime}
}

// Clock returns the moment the copier started, in both trees' clocks; zero
// in a dry run. A pass that ends with every entry equal makes, from this
// moment on, a Settled point for later passes.
func (c *Copier) Clock() Clock { return c.clock }

// settled reports whether neither side of an entry changed its status
// since Options.Settled, when an earlier pass found every entry equal:
// then its xattrs and ACLs are still equal (every change to them, as to a
// mode or an owner, moves the ctime), and reading them is skipped. Its
// stat is compared all the same.
func (c *Copier) settled(e *partition.Entry, st *unix.Stat_t) bool {
	s := c.opt.Settled
	return !s.IsZero() && e.Ctime < s.Source && st.Ctim.Nano() < s.Destination
}
