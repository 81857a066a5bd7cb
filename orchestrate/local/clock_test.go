package local

import (
	"testing"
	"time"
)

func TestParseSchedule(t *testing.T) {
	from := time.Date(2030, 3, 1, 1, 59, 30, 0, time.UTC)
	tests := []struct {
		name, spec string
		want       time.Time // zero: a parse error
	}{
		{"five fields", "0 2 * * *", time.Date(2030, 3, 1, 2, 0, 0, 0, time.UTC)},
		{"every", "@every 10s", from.Add(10 * time.Second)},
		{"daily", "@daily", time.Date(2030, 3, 2, 0, 0, 0, 0, time.UTC)},
		{"hourly", "@hourly", time.Date(2030, 3, 1, 2, 0, 0, 0, time.UTC)},
		{"weekdays", "30 1 * * 1-5", time.Date(2030, 3, 4, 1, 30, 0, 0, time.UTC)}, // Friday 1st, 01:30 past
		{"time zone", "CRON_TZ=Europe/Paris 0 3 * * *", time.Date(2030, 3, 1, 2, 0, 0, 0, time.UTC)},
		{"six fields", "0 0 2 * * *", time.Time{}},
		{"minute 61", "61 * * * *", time.Time{}},
		{"unknown descriptor", "@nightly", time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseSchedule(tt.spec)
			if tt.want.IsZero() {
				if err == nil {
					t.Fatalf("ParseSchedule(%q): no error", tt.spec)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Next(from.In(time.UTC)); !got.Equal(tt.want) {
				t.Errorf("Next(%s) = %s, want %s", from, got.UTC(), tt.want)
			}
		})
	}
}

func TestRealDeadline(t *testing.T) {
	fake := time.Date(2030, 3, 1, 2, 0, 0, 0, time.UTC)
	wall := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	if got := realDeadline(fake.Add(3*time.Hour), fake, wall); !got.Equal(wall.Add(3 * time.Hour)) {
		t.Errorf("got %s, want three hours after %s", got, wall)
	}
	if got := realDeadline(time.Time{}, fake, wall); !got.IsZero() {
		t.Errorf("no window: got %s, want none", got)
	}
}
