// Package kpi counts what a run does and reports it. It is passive, like
// rclone's accounting: stages call it, it never calls them, prints, or
// decides the run's status. It imports only the standard library.
//
// One *Counters is made per run. Stages depend on a narrow reporter
// interface of their own, which *Counters satisfies, for example:
//
//	type reporter interface {
//		StartFile(rel string, size int64) *kpi.File
//		Scanned(t kpi.EntryType, size int64)
//		Error(rel string, err error)
//		Vanished(rel string)
//	}
//
// The no-op default is a nil *Counters: all its methods do nothing, and its
// StartFile returns a nil *File, whose methods do nothing either.
//
// Overview of a run:
//
//	c := kpi.New(kpi.Options{RunID: id, Source: src, Destination: dst})
//	stop := c.StartPhase("crawl")
//	walk:  for each entry: c.Scanned(kpi.TypeOf(mode), size)
//	       on ENOENT: c.Vanished(rel); on another error: c.Error(rel, err)
//	stop()
//	copy:  for each entry in a partition:
//	           f := c.StartFile(rel, size)
//	           io.Copy(dst, f.Reader(src))       // bytes counted as they flow
//	           f.Done(kpi.Created, err)          // booked once, err classified
//	       c.AddPartition(kpi.Partition{ID: id, Status: kpi.StatusSuccess, ...})
//	delete: for each entry gone from the source: c.Deleted(kpi.TypeOf(mode))
//	c.Finish(status)                             // the engine decides status
//	r := c.Report()                              // a plain snapshot
//	r.WriteJSON(w); r.WriteText(w); r.WritePrometheus(w)
//
// Hot counters use sync/atomic only; an error's class indexes a fixed array
// (see Classify), so counting an error takes no lock either. Only the first
// errors kept with their paths, the phases and the partition records take a
// mutex.
//
// Outputs, all from a Report and outside the stages:
//
//   - JSON (Report.WriteJSON, ReadReport): the stable form, versioned by
//     ReportVersion, for logs, S3 and notifications;
//   - text (Report.WriteText): a summary in the spirit of rsync --stats;
//   - Prometheus (Report.WritePrometheus): gauges for node_exporter's
//     textfile collector.
//
// The run's KPIs of the seed's solution map onto Report: NumberOfFiles is
// Scanned.Total(), NumberOfFilesTransferred is Files.Transferred,
// TotalFileSize is Bytes.Scanned and TotalTransferredFileSize is
// Bytes.Transferred.
package kpi
