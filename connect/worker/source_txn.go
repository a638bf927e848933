package worker

// Exactly-once source mode (KIP-618): a task's records and the offsets they
// carry are written in one Kafka transaction, under the transactional id
// ${group.id}-${connector}-${task}; a task that moves to another worker
// fences its previous producer when it starts there (InitProducerID bumps
// the epoch). Offsets become visible to readers (read_committed) only when
// the transaction commits, together with the records.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/connect"
)

type sourceTxn struct {
	// positions holds the latest offset of each source partition written
	// in the transaction.
	positions map[string]connect.Position
}

func (t *sourceTxn) add(p *submittedPartition, offset map[string]any) {
	if offset != nil {
		t.positions[p.key] = connect.Position{Partition: p.partition, Offset: offset}
	}
}

func (r *sourceRunner) beginTxn() error {
	if err := r.cl.BeginTransaction(); err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	r.txn = &sourceTxn{positions: map[string]connect.Position{}}
	return nil
}

// commitTxn writes the transaction's offsets into it and commits; any
// failure is fatal to the task (Kafka Connect fails the task too), and the
// aborted records are read again by the restarted task.
func (r *sourceRunner) commitTxn(ctx context.Context) error {
	txn := r.txn
	r.txn = nil
	positions := make([]connect.Position, 0, len(txn.positions))
	for _, p := range txn.positions {
		positions = append(positions, p)
	}
	recs, err := offsetRecords(r.id.Connector, positions)
	if err != nil {
		return errors.Join(err, r.endAbort(ctx))
	}
	for _, rec := range recs {
		r.cl.Produce(ctx, &kgo.Record{Topic: r.rt.cfg.OffsetStorageTopic, Key: rec.key, Value: rec.value, Partition: -1}, func(_ *kgo.Record, err error) {
			if err != nil {
				r.setFatal(fmt.Errorf("write offsets in the transaction: %w", err))
			}
		})
	}
	start := time.Now()
	if err := r.cl.Flush(ctx); err != nil {
		return errors.Join(fmt.Errorf("flush transaction: %w", err), r.endAbort(ctx))
	}
	if err := r.fatalErr(); err != nil {
		return errors.Join(err, r.endAbort(ctx))
	}
	if err := r.cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
		r.m.commitFail.Inc()
		return fmt.Errorf("commit transaction: %w", err)
	}
	r.m.commit.Observe(time.Since(start).Seconds())
	r.pending.committable() // every record is acknowledged: drop them
	if err := r.task.Commit(ctx, positions); err != nil {
		r.log.Warn("source task Commit failed", "err", err)
	}
	return nil
}

func (r *sourceRunner) abortTxn(ctx context.Context) error {
	r.txn = nil
	return r.endAbort(ctx)
}

func (r *sourceRunner) endAbort(ctx context.Context) error {
	if err := r.cl.AbortBufferedRecords(ctx); err != nil {
		return fmt.Errorf("abort buffered records: %w", err)
	}
	if err := r.cl.EndTransaction(ctx, kgo.TryAbort); err != nil {
		return fmt.Errorf("abort transaction: %w", err)
	}
	return nil
}
