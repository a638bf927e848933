package worker

// Error handling for one task, Kafka Connect's RetryWithToleranceOperator:
// an operation on a record (conversion, transformation, produce, put) that
// fails with a retriable error is retried with back-off for up to
// errors.retry.timeout; a failure that remains is counted, logged
// (errors.log.enable), sent to the dead-letter queue (sinks with
// errors.deadletterqueue.topic.name), and then either skips the record
// (errors.tolerance=all) or fails the task (none).

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/connect"
)

// stage names the operation that failed, as Kafka's Stage enum does (and
// the __connect.errors.stage header says).
type stage string

const (
	stageKeyConverter    stage = "KEY_CONVERTER"
	stageValueConverter  stage = "VALUE_CONVERTER"
	stageHeaderConverter stage = "HEADER_CONVERTER"
	stageTransformation  stage = "TRANSFORMATION"
	stageTaskPut         stage = "TASK_PUT"
	stageTaskPoll        stage = "TASK_POLL"
	stageKafkaProduce    stage = "KAFKA_PRODUCE"
	stageKafkaConsume    stage = "KAFKA_CONSUME"
)

// errToleranceExceeded fails a task when errors.tolerance=none.
var errToleranceExceeded = errors.New("tolerance exceeded in error handler")

// failure is one failed operation on one record.
type failure struct {
	stage stage
	class string // the plugin class that failed
	err   error
	// consumed is the Kafka record a sink task was processing; source is
	// the record a source task produced.
	consumed *kgo.Record
	source   *connect.SourceRecord
}

// tolerance runs a task's record operations under its error config.
type tolerance struct {
	cfg     errorConfig
	id      taskID
	log     *slog.Logger
	metrics *taskMetrics
	dlq     *deadLetterQueue // nil unless a sink with a DLQ topic
	sleep   func(ctx context.Context, d time.Duration) error
}

func newTolerance(cfg errorConfig, id taskID, log *slog.Logger, m *taskMetrics) *tolerance {
	return &tolerance{cfg: cfg, id: id, log: log, metrics: m, sleep: sleepCtx}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// retry runs op, again after a back-off (300 ms doubling, at most
// errors.retry.delay.max.ms) while it fails with a retriable error and
// errors.retry.timeout allows.
func (t *tolerance) retry(ctx context.Context, op func() error) error {
	err := op()
	if err == nil || !connect.IsRetriable(err) || t.cfg.RetryTimeout == 0 {
		return err
	}
	deadline := time.Now().Add(t.cfg.RetryTimeout)
	delay := 300 * time.Millisecond
	for attempt := 1; ; attempt++ {
		wait := min(delay, t.cfg.RetryDelayMax)
		if t.cfg.RetryTimeout > 0 {
			left := time.Until(deadline)
			if left <= 0 {
				return err
			}
			wait = min(wait, left)
		}
		t.log.Debug("retrying a failed operation", "attempt", attempt, "err", err)
		if serr := t.sleep(ctx, wait); serr != nil {
			return err
		}
		if err = op(); err == nil || !connect.IsRetriable(err) {
			return err
		}
		delay *= 2
	}
}

// do runs op under the error config. It returns (true, nil) when op
// succeeded, (false, nil) when it failed and the record is to be skipped,
// and a non-nil error when the task must fail.
func (t *tolerance) do(ctx context.Context, f failure, op func() error) (bool, error) {
	err := t.retry(ctx, op)
	if err == nil {
		return true, nil
	}
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	f.err = err
	return false, t.report(ctx, f)
}

// report handles an operation that failed for good: count, log, dead-letter,
// then skip (nil) or fail (an error wrapping errToleranceExceeded).
func (t *tolerance) report(ctx context.Context, f failure) error {
	t.metrics.recordError(f.stage)
	if t.cfg.LogEnable {
		t.logFailure(f)
	}
	if t.dlq != nil && f.consumed != nil {
		if err := t.dlq.send(ctx, f); err != nil {
			return fmt.Errorf("write a failed record to the dead letter queue: %w", err)
		}
		t.metrics.dlq.Inc()
	}
	if !t.cfg.TolerateAll {
		return fmt.Errorf("%w: %s (%s) failed: %w", errToleranceExceeded, f.stage, f.class, f.err)
	}
	t.metrics.skipped.Inc()
	return nil
}

func (t *tolerance) logFailure(f failure) {
	attrs := []any{"stage", string(f.stage), "class", f.class, "err", f.err}
	switch {
	case f.consumed != nil:
		attrs = append(attrs, "topic", f.consumed.Topic, "partition", f.consumed.Partition, "offset", f.consumed.Offset)
		if t.cfg.LogIncludeMessages {
			attrs = append(attrs, "key", string(f.consumed.Key), "value", string(f.consumed.Value), "timestamp", f.consumed.Timestamp.UnixMilli())
		}
	case f.source != nil:
		attrs = append(attrs, "topic", f.source.Topic, "source_partition", f.source.SourcePartition, "source_offset", f.source.SourceOffset)
		if t.cfg.LogIncludeMessages {
			attrs = append(attrs, "key", f.source.Key, "value", f.source.Value)
		}
	}
	t.log.Error("error encountered in task", attrs...)
}
