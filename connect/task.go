package connect

import (
	"context"
	"log/slog"
)

// SourceTask reads from an external system and returns records for the
// runtime to write to Kafka.
//
// Contract:
//   - Start, Poll, Commit and Stop are called from one goroutine, never
//     concurrently: Start once, then Poll repeatedly (with Commit calls in
//     between), then Stop once. Stop is called even if Start or Poll
//     failed. To interrupt a blocked Poll the runtime cancels Poll's
//     context; it then waits for Poll to return before calling Stop.
//   - Poll may block while there is nothing to read, but must return
//     within about a second with no records (nil, nil) even if nothing
//     arrives, and promptly when its context is cancelled, so the task can
//     be paused, stopped and committed on time.
//   - Records returned by Poll belong to the runtime: the task must not
//     modify them, or the values they refer to, afterwards.
//   - An error from Poll wrapped with Retriable means "nothing lost, try
//     again": the runtime logs it and calls Poll again after a back-off.
//     Any other error is fatal: the task is stopped and its status
//     becomes FAILED with the error; the runtime does not restart it (an
//     operator does, through the REST API). Records returned alongside an
//     error are dropped; the task re-reads them after a restart from its
//     committed offsets.
//   - Delivery is at least once: after a crash the task restarts from the
//     last committed offsets and re-reads what followed them. In
//     exactly-once mode (exactly.once.source.support=enabled) records and
//     offsets are committed together in a Kafka transaction.
type SourceTask interface {
	// Start prepares the task with one of its connector's task configs,
	// typically reading its resume position through ctx.Offset. An error
	// fails the task.
	Start(ctx SourceTaskContext, config map[string]string) error

	// Poll returns the next records, or none (nil, nil) when nothing is
	// available yet. See the type's contract for blocking and errors.
	Poll(ctx context.Context) ([]SourceRecord, error)

	// Commit tells the task that the offsets of positions are durably
	// committed: every record up to them is in Kafka and a restart resumes
	// after them. Tasks that acknowledge reads upstream (a queue, a
	// replication slot) do it here; others return nil. An error is logged
	// and otherwise ignored: the offsets stay committed.
	Commit(ctx context.Context, positions []Position) error

	// Stop releases what Start acquired. It must return within a few
	// seconds. Nothing is called after it.
	Stop() error
}

// SourceTaskContext is a source task's handle on the runtime, valid from
// Start until Stop returns; its methods are safe from any goroutine.
type SourceTaskContext interface {
	// Offset returns the last committed offset of a source partition, or
	// nil when none was committed. Integers come back as int64 and other
	// numbers as float64.
	Offset(partition map[string]any) (map[string]any, error)
	// Logger logs with the connector name and task id attached.
	Logger() *slog.Logger
}

// SinkTask writes records read from Kafka to an external system.
//
// Contract:
//   - Methods are called from one goroutine, never concurrently: Start,
//     then Open/Put/Flush/Close as partitions are assigned, records
//     arrive, offsets are committed and partitions are revoked, then Stop.
//   - Put may write synchronously or buffer; it may block while the
//     external system pushes back, but should return within the consumer's
//     poll budget (a few seconds) and promptly when its context is
//     cancelled. An error wrapped with Retriable means "nothing written
//     for this batch that matters, try again": the runtime calls Put again
//     with the same records after a back-off (from 100 ms, doubling up to
//     errors.retry.delay.max.ms), until it succeeds or the task is stopped,
//     as Kafka Connect redelivers a batch after a RetriableException. Any
//     other error fails the task at once (status FAILED); a restart
//     resumes from the last committed offsets.
//   - Records the task cannot write because of their content (not the
//     system) may be sent to the dead-letter queue through
//     SinkTaskContext.Report instead of failing the batch.
//   - Flush is where durability is decided: the runtime commits, through
//     the consumer group connect-<name>, only the offsets Flush returns.
//     An error commits nothing (they are retried at the next commit), and
//     a Retriable one is only logged; a non-retriable error fails the task.
//   - Delivery is at least once: records delivered to Put after the last
//     committed offset are delivered again after a restart or rebalance.
type SinkTask interface {
	// Start prepares the task with one of its connector's task configs.
	// An error fails the task.
	Start(ctx SinkTaskContext, config map[string]string) error

	// Open is called when partitions are assigned to the task, before any
	// of their records reach Put (e.g. to open a writer per partition).
	Open(partitions []TopicPartition) error

	// Put hands the task the next records (possibly none, so that time
	// based flushing can run). See the type's contract.
	Put(ctx context.Context, records []SinkRecord) error

	// Flush makes what Put received durable, as far as the task can, and
	// returns the offsets safe to commit: for each partition, the offset of
	// the next record to read after the last durable one. offsets holds, for
	// each assigned partition (by SinkRecord.Original), the offset after
	// the last record handed to Put; a synchronous sink flushes and returns
	// offsets as is, an asynchronous one may return smaller offsets or
	// leave partitions out (nothing committed for them).
	Flush(ctx context.Context, offsets map[TopicPartition]int64) (map[TopicPartition]int64, error)

	// Close is called when partitions are revoked from the task (and
	// before Stop), after a final Flush whose offsets were committed;
	// release per-partition resources here. Records of these partitions
	// not flushed are delivered again to whoever owns them next.
	Close(partitions []TopicPartition) error

	// Stop releases what Start acquired. It must return within a few
	// seconds. Nothing is called after it.
	Stop() error
}

// SinkTaskContext is a sink task's handle on the runtime, valid from Start
// until Stop returns. Methods other than Report take effect when the
// current Put or Flush returns; all are safe from any goroutine.
type SinkTaskContext interface {
	// Assignment returns the partitions currently assigned to the task.
	Assignment() []TopicPartition
	// Rewind makes the next records of each given partition start at the
	// given offset (Kafka's SinkTaskContext.offset), e.g. to resume from
	// offsets the sink stores itself.
	Rewind(offsets map[TopicPartition]int64)
	// Pause stops fetching the partitions until Resume; Put keeps being
	// called, with records of other partitions.
	Pause(partitions ...TopicPartition)
	// Resume undoes Pause.
	Resume(partitions ...TopicPartition)
	// RequestCommit asks for a Flush and offset commit soon, without
	// waiting for offset.flush.interval.ms.
	RequestCommit()
	// Report sends a record the task could not write, with the reason, to
	// the connector's error handling (Kafka's ErrantRecordReporter): logged
	// and sent to the dead-letter queue as configured. It returns nil once
	// the record is reported and may be skipped; it returns an error when
	// errors.tolerance=none (or the report itself failed), which the task
	// should return from Put to fail.
	Report(ctx context.Context, record SinkRecord, err error) error
	// Logger logs with the connector name and task id attached.
	Logger() *slog.Logger
}
