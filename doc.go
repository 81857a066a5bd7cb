// Package efsync makes one file tree a fast, exact copy of another: a Go
// reimplementation of fpsync (fpart + rsync) for large NFS file systems such
// as Amazon EFS, and the scheduled backups built on it.
//
// The engine joins the stages, each in its own package:
//
//	partition.Walker  --Chunk-->  transfer.Copier  --result-->  kpi.Counters
//
// and returns a kpi.Report.
package efsync
