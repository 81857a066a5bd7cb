// Package orchestrate is the scheduled-backup lifecycle: a schedule starts
// a backup, a window bounds it, a stop ends it gracefully, and its record,
// logs, metrics and notice come out however it ends. It holds no copying
// logic, and no job state of its own: every decision is taken from the
// job's record in the Catalog, so an orchestrator that restarts, or runs
// as a new Lambda invocation per event, loses nothing.
//
// The work is done by backends behind small interfaces (Fleet, Timer,
// Commander, LogStore, Notifier, Metrics, and efsync.Catalog):
// orchestrate/local runs it all in one process; an AWS backend maps them
// to Auto Scaling, EventBridge, SSM, S3, SNS, CloudWatch and DynamoDB.
//
// Pseudo-code of Orchestrator.Handle:
//
//	ScheduleStart{At}:
//	    id := efsync.NewBackupID(At)          // per start, never per process
//	    Catalog.Put(record{id, status ""})    // a run that dies has a record
//	    Timer.Set(id, At+Window-Margin)       // the payload is the id alone
//	    Fleet.Start(job{id, deadline At+Window})
//	ev with an id:
//	    rec := Catalog.Get(id)                // the only state there is
//	    switch decide(stateOf(rec), ev) {
//	    case ignore:  // unknown id, late or repeated stop, repeated report
//	    case scaleIn: Fleet.Stop(id)          // WindowEnd
//	    case command: Commander.Stop(id)      // StopRequested
//	    case settle:  Catalog.Put(the agent's record, or Failed/Incomplete); finish
//	    case bury:    Catalog.Put(rec as Incomplete: the agent was gone); finish
//	    case finish:  Timer.Cancel, Fleet.Stop, Metrics, Notifier unless
//	                  Success, then the "reported" phase in the record
//	    }
package orchestrate
