// Package local is the built-in orchestrate backend: a daemon that needs
// nothing but the machine it runs on. A cron schedule starts backups, run
// in this process by efsync.Backup with the window as their deadline;
// records go to the repository's catalog, logs to REPO/.efsync/logs,
// notices to a webhook or a command, metrics to a Prometheus textfile, and
// `agent stop` reaches the daemon through a unix socket.
//
// Pseudo-code of Daemon.Run:
//
//	orch := orchestrate.New(plan, Fleet, Timer, FileCatalog, LogFiles, ...)
//	for each record of the label without status:  // the last daemon died
//	    orch.Handle(AgentGone{id})
//	go every Schedule.Next(clock.Now()): events <- ScheduleStart
//	go on the socket's "stop ID": events <- StopRequested{id}
//	loop: orch.Handle(<-events)  // the Fleet sends AgentReport, the Timer WindowEnd
//	on a stop of the daemon: StopRequested for each running backup,
//	    then handle events until none runs
//
// The clock is injected (Clock), so that tests move time instead of
// waiting for it.
package local
