package latencyfs

import (
	"context"
	"sync/atomic"
	"syscall"
	"time"
)

// policy decides what each request costs: it counts the request, waits the
// configured delay and answers with an injected fault. One policy is shared
// by every node and file of a mount; it is safe for concurrent use.
type policy struct {
	// config
	noXattrs  bool
	writeback bool

	// state
	delay, dataDelay atomic.Int64 // nanoseconds; changed at run time by SetDelay
	counts           *counters
	faults           faultSet
}

// newPolicy returns a policy configured by opt.
func newPolicy(opt Options) (*policy, error) {
	p := &policy{noXattrs: opt.NoXattrs, writeback: opt.WritebackCache, counts: newCounters()}
	p.setDelay(opt.Delay, opt.DataDelay)
	if err := p.faults.set(opt.Faults); err != nil {
		return nil, err
	}
	return p, nil
}

// setDelay changes the delays for the requests that start afterwards.
func (p *policy) setDelay(meta, data time.Duration) {
	p.delay.Store(int64(meta))
	p.dataDelay.Store(int64(data))
}

// faulty reports whether faults are set, so that callers compute paths for
// matching only then.
func (p *policy) faulty() bool { return p.faults.active() }

// meta counts the metadata operation op on rels (see faultSet.match), waits
// the metadata delay plus the fault's delay, and returns the fault's errno.
func (p *policy) meta(ctx context.Context, op string, rels ...string) syscall.Errno {
	p.counts.add(op)
	f := p.faults.match(op, rels, 0)
	return answer(ctx, time.Duration(p.delay.Load()), f)
}

// xattr is meta for the xattr call op: with Options.NoXattrs it counts
// the call and answers ENOSYS at once, which the kernel remembers.
func (p *policy) xattr(ctx context.Context, op, rel string) syscall.Errno {
	if p.noXattrs {
		p.counts.add(op)
		return syscall.ENOSYS
	}
	return p.meta(ctx, op, rel)
}

// backingFlags returns the open(2) flags to open the backing file with,
// for an open or create with flags: with Options.WritebackCache, a
// write-only open becomes read-write, because the kernel reads the rest
// of a page that a write covers only in part through the writer's handle
// (libfuse's passthrough example does the same).
func (p *policy) backingFlags(flags uint32) uint32 {
	if !p.writeback || flags&syscall.O_ACCMODE != syscall.O_WRONLY {
		return flags
	}
	return flags&^syscall.O_ACCMODE | syscall.O_RDWR
}

// data is meta for read and write calls: it waits the data delay; end is
// the offset just past the data, for Fault.AfterBytes.
func (p *policy) data(ctx context.Context, op, rel string, end int64) syscall.Errno {
	p.counts.add(op)
	f := p.faults.match(op, []string{rel}, end)
	return answer(ctx, time.Duration(p.dataDelay.Load()), f)
}

// answer waits base, then f.Delay, and returns f.Errno.
//
// go-fuse cancels ctx when the kernel sends INTERRUPT, which it does for
// any signal to the caller, including the Go runtime's preemption signals.
// An NFS hard mount neither fails nor shortens a call for those, so base is
// always waited in full and the answer is never EINTR (which a caller of a
// raw syscall would see). Only the fault delay, which can be long, ends at
// an interrupt: the kernel waits for the answer even when the caller was
// killed, and a test that kills a writer wants it gone promptly.
func answer(ctx context.Context, base time.Duration, f Fault) syscall.Errno {
	if base > 0 {
		time.Sleep(base)
	}
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
	}
	return f.Errno
}
