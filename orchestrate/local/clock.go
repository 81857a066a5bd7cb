package local

import (
	"fmt"
	"time"

	"github.com/robfig/cron/v3"
)

// Clock tells the time and runs functions later: the wall clock, or a
// fake one in tests (orchestratetest.FakeClock). Implementations MUST be
// safe for concurrent use.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f, on a goroutine of the clock's, once d has
	// passed; stop cancels it and reports whether it had not run.
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

// WallClock returns the machine's clock.
func WallClock() Clock { return wallClock{} }

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

func (wallClock) AfterFunc(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }

// Schedule says when backups start.
type Schedule interface {
	// Next returns the first start after t.
	Next(t time.Time) time.Time
}

// ParseSchedule parses a standard 5-field cron spec ("0 2 * * *", in the
// local time zone, or with a CRON_TZ=Zone prefix), a descriptor (@daily,
// @hourly, @weekly, @monthly, @yearly, @midnight) or "@every D" with a Go
// duration. It uses robfig/cron's parser alone: its runner would bring a
// clock of its own.
func ParseSchedule(spec string) (Schedule, error) {
	s, err := cron.ParseStandard(spec)
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %w", spec, err)
	}
	return s, nil
}

// realDeadline returns the wall-clock deadline of a window that ends at
// end on clock, which reads now while the wall clock reads wall: the
// engine's Options.Deadline is on the wall clock, the window on the
// injected one.
func realDeadline(end, now, wall time.Time) time.Time {
	if end.IsZero() {
		return time.Time{}
	}
	return wall.Add(end.Sub(now))
}
