package kpi

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// textTypeNames are the entry type names of the text summary; the first
// three are rsync --stats' own.
var textTypeNames = [numTypes]string{
	TypeFile: "reg", TypeDir: "dir", TypeSymlink: "link",
	TypeFIFO: "fifo", TypeSocket: "sock", TypeDevice: "dev", TypeOther: "other",
}

// WriteText writes r to w as a human-readable summary, in the spirit of
// rsync --stats: counts with thousands separators, a breakdown by type or
// class of the non-zero ones in parentheses, phase durations, the first
// errors and a closing status line with the exit code.
func (r Report) WriteText(w io.Writer) error {
	tw := &textWriter{w: w}
	tw.printf("Run: %s\n", r.RunID)
	tw.printf("Source: %s\nDestination: %s\n", r.Source, r.Destination)
	tw.printf("Start: %s\n", textTime(r.Start))
	tw.printf("Stop: %s\n\n", textTime(r.Stop))

	tw.printf("Number of files: %s%s\n", commas(r.Scanned.Total()), byType(r.Scanned))
	tw.printf("Number of created files: %s\n", commas(r.Files.Created))
	tw.printf("Number of updated files: %s\n", commas(r.Files.Updated))
	tw.printf("Number of hard-linked files: %s\n", commas(r.Files.HardLinked))
	tw.printf("Number of unchanged files: %s\n", commas(r.Files.Unchanged))
	tw.printf("Number of metadata-only updates: %s\n", commas(r.Files.MetadataOnly))
	tw.printf("Number of deleted files: %s%s\n", commas(r.Deleted.Total()), byType(r.Deleted))
	tw.printf("Number of regular files transferred: %s\n", commas(r.Files.Transferred))
	tw.printf("Number of failed files: %s\n", commas(r.Files.Failed))
	tw.printf("Number of skipped files: %s\n", commas(r.Files.Skipped))
	tw.printf("Number of vanished files: %s\n", commas(r.Vanished))
	tw.printf("Number of errors: %s%s\n", commas(r.Errors.Total), byClass(r.Errors.ByClass))
	tw.printf("Total file size: %s bytes\n", commas(r.Bytes.Scanned))
	tw.printf("Total transferred file size: %s bytes\n", commas(r.Bytes.Transferred))
	tw.printf("Literal data: %s bytes\n", commas(r.Bytes.Literal))
	tw.printf("Matched data: %s bytes\n", commas(r.Bytes.Matched))
	tw.printf("Number of partitions: %s%s\n\n", commas(int64(len(r.Partitions))), byStatus(r.Partitions))

	for _, p := range r.Phases {
		running := ""
		if p.Running {
			running = " (running)"
		}
		tw.printf("Phase %s: %s%s\n", p.Name, textDuration(p.Seconds), running)
	}
	tw.printf("Elapsed: %s\n", textDuration(r.Seconds))
	tw.list("Errors", r.Errors.Total, len(r.Errors.First), func(i int) string {
		e := r.Errors.First[i]
		return fmt.Sprintf("%s %s: %s", e.Class, e.Path, e.Message)
	})
	tw.list("Vanished", r.Vanished, len(r.VanishedPaths), func(i int) string {
		return r.VanishedPaths[i]
	})
	status := string(r.Status)
	if status == "" {
		status = "running"
	}
	tw.printf("\nStatus: %s (exit %d)\n", status, r.Status.ExitCode())
	if tw.err != nil {
		return fmt.Errorf("write text summary: %w", tw.err)
	}
	return nil
}

// textWriter keeps the first write error, so that WriteText checks once.
type textWriter struct {
	w   io.Writer
	err error
}

func (tw *textWriter) printf(format string, args ...any) {
	if tw.err == nil {
		_, tw.err = fmt.Fprintf(tw.w, format, args...)
	}
}

// list prints a heading and the n kept items of a list of total, one per
// line, or nothing if n is 0.
func (tw *textWriter) list(title string, total int64, n int, item func(i int) string) {
	if n == 0 {
		return
	}
	tw.printf("\n%s (first %s of %s):\n", title, commas(int64(n)), commas(total))
	for i := range n {
		tw.printf("  %s\n", oneLine(item(i)))
	}
}

// byType returns the non-zero counts of e as " (reg: 1, dir: 2)", or "".
func byType(e EntryCounts) string {
	var parts []string
	for t, n := range e.array() {
		if n != 0 {
			parts = append(parts, textTypeNames[t]+": "+commas(n))
		}
	}
	return parens(parts)
}

// byClass returns the non-zero counts of e as " (io: 1)", or "".
func byClass(e ErrorCounts) string {
	var parts []string
	e.each(func(c Class, n int64) {
		if n != 0 {
			parts = append(parts, c.String()+": "+commas(n))
		}
	})
	return parens(parts)
}

// byStatus returns the partition counts by status as " (success: 3)", or "".
func byStatus(parts []Partition) string {
	keys, counts := partitionsByStatus(parts)
	var out []string
	for _, s := range keys {
		if n := counts[s]; n != 0 {
			out = append(out, fmt.Sprintf("%s: %s", statusLabel(s), commas(int64(n))))
		}
	}
	return parens(out)
}

func parens(parts []string) string {
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// commas formats n with thousands separators, as rsync does: 1,234,567.
func commas(n int64) string {
	s := strconv.FormatInt(n, 10)
	sign := ""
	if n < 0 {
		sign, s = "-", s[1:]
	}
	var b strings.Builder
	for i, d := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(d)
	}
	return sign + b.String()
}

func textTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// textDuration rounds seconds to the millisecond, as in "1m30.5s".
func textDuration(seconds float64) string {
	return time.Duration(seconds * float64(time.Second)).Round(time.Millisecond).String()
}

// oneLine keeps a path or message containing newlines on one line.
func oneLine(s string) string {
	return strings.NewReplacer("\n", `\n`, "\r", `\r`).Replace(s)
}
