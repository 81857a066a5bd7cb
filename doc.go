// Package efsync makes one file tree a fast, exact copy of another: a Go
// reimplementation of fpsync (fpart + rsync) for large NFS file systems such
// as Amazon EFS, and the scheduled backups built on it.
//
// The engine joins the stages, each in its own package:
//
//	partition.Walker  --Chunk-->  transfer.Copier  --result-->  kpi.Counters
//
// and returns a kpi.Report. With Options.Queue, a run is shared by hosts
// (fpsync -w):
//
//	leader: Walker --Chunk--> Copier.Prepare (directories) --Task--> Queue
//	workers (Work): Queue --Task--> Restat --> Copier.Run --Completion--> Queue
//	leader: every Completion, once per chunk --> Copier.Finish (delete pass, directories)
//
// A Task carries the leader's copy options (TaskCopy: a backup's link-dest
// and the parent's hard-link groups), so that a Backup with a Queue is a
// snapshot like any other; its manifest reads the workers' entries back
// from the snapshot. A queue carries one job at a time: Options.Job tags
// the tasks, and a worker with a Job drops another job's leftovers.
package efsync
