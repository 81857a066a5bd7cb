// Package queuetest is one behaviour suite for every efsync.Queue, like
// rclone's fstest.NewRun running one suite on every remote: MemQueue's
// tests and orchestrate/aws's (on a fake SQS) both call Run.
//
//	queuetest.Run(t, func(t *testing.T, visibility time.Duration) efsync.Queue {
//		return a new, empty queue whose received tasks stay hidden for visibility
//	})
//	  for each behaviour, in parallel, on a queue of its own:
//	    round trip: Publish, Receive (Attempt 1), Done; paths not UTF-8, List
//	    redelivery: a task neither Done nor extended comes back, Attempt 2
//	    extend:     Extend hides it past the first timeout
//	    done:       Done removes it for good
//	    completions: Report, Completion, each once, fields equal
//	    cancel:     Receive and Completion return ctx's error, take nothing
//
// The suite tests only what the Queue contract says. Where backends
// differ within it (Done with a stale receipt: MemQueue answers
// ErrStaleDelivery, SQS may delete or not), it does not test.
package queuetest
