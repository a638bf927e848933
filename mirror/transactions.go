package mirror

// Exactly-once: each poll's records and the task's new source positions
// are produced in one transaction on the target, so a position is
// committed exactly when the records it covers are. A task's transactional
// ID is fixed ("tributary-mirror.<flow>.<task>"); a new owner of the task
// fences the previous one (aborting its open transaction) before reading
// positions, so what it reads is final. Consumers of the target read with
// read_committed.

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (f *flow) transactionalID(task int) string {
	return "tributary-mirror." + f.cfg.Name() + "." + strconv.Itoa(task)
}

// fence makes this task the only writer with its transactional ID: the
// coordinator bumps the epoch and aborts whatever transaction a previous
// owner left open, so its records and positions are never committed.
func (c *copier) fence(ctx context.Context) error {
	id := c.f.transactionalID(c.task)
	ctx, cancel := context.WithTimeout(ctx, c.f.cfg.AdminTimeout)
	defer cancel()
	backoff := 50 * time.Millisecond
	for {
		req := kmsg.NewPtrInitProducerIDRequest()
		req.TransactionalID = &id
		req.TransactionTimeoutMillis = 60_000
		req.ProducerID, req.ProducerEpoch = -1, -1
		resp, err := req.RequestWith(ctx, c.producer)
		if err == nil {
			err = kerr.ErrorForCode(resp.ErrorCode)
		}
		if err == nil {
			return nil
		}
		var ke *kerr.Error
		if ctx.Err() != nil || (errors.As(err, &ke) && !ke.Retriable && !errors.Is(err, kerr.ConcurrentTransactions)) {
			return fmt.Errorf("fence earlier owners of transactional ID %s on cluster %s: %w", id, c.f.cfg.Target, err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, time.Second)
	}
}

// copiedRecord is a record acknowledged inside the open transaction.
type copiedRecord struct {
	p            *partition
	src, dst, sz int64
	ts           time.Time
}

// copyInTransaction copies one poll's records and positions in one
// transaction. Any failure aborts it and fails the task, which restarts
// from the committed positions.
func (c *copier) copyInTransaction(ctx context.Context, fetches kgo.Fetches) error {
	if err := c.producer.BeginTransaction(); err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	var (
		mu       sync.Mutex // promises run on kgo's goroutines
		acked    []copiedRecord
		firstErr error
	)
	record := func(cr copiedRecord, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			return
		}
		acked = append(acked, cr)
	}
	last := map[*partition]int64{}
	now := time.Now()
	fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
		c.mu.Lock()
		p := c.parts[topicPartition{fp.Topic, fp.Partition}]
		c.mu.Unlock()
		if p == nil {
			return
		}
		recs := c.accepted(p, fp.Records)
		slab := c.newSlab(recs)
		for _, r := range recs {
			cr := copiedRecord{p: p, src: r.Offset, sz: int64(len(r.Key) + len(r.Value)), ts: r.Timestamp}
			p.m.recordAge.Observe(now.Sub(r.Timestamp).Seconds())
			c.producer.Produce(ctx, slab.build(p, r), func(out *kgo.Record, err error) {
				cr.dst = out.Offset
				record(cr, err)
			})
			last[p] = r.Offset
		}
	})
	for p, off := range last {
		c.producer.Produce(ctx, c.f.positionRecord(c.task, p.tp, off), func(_ *kgo.Record, err error) {
			if err != nil {
				record(copiedRecord{}, fmt.Errorf("position: %w", err))
			}
		})
	}
	flushErr := c.producer.Flush(ctx)
	mu.Lock()
	produceErr := firstErr
	mu.Unlock()
	commit := kgo.TryCommit
	if flushErr != nil || produceErr != nil {
		commit = kgo.TryAbort
	}
	endCtx, cancel := context.WithTimeout(context.Background(), c.f.cfg.AdminTimeout)
	defer cancel()
	if err := c.producer.EndTransaction(endCtx, commit); err != nil {
		return fmt.Errorf("end transaction: %w", err)
	}
	if flushErr != nil {
		return fmt.Errorf("transaction aborted: %w", flushErr)
	}
	if produceErr != nil {
		return fmt.Errorf("transaction aborted: %w", produceErr)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, cr := range acked {
		p := cr.p
		p.acked, p.written = cr.src, cr.src
		p.m.records.Inc()
		p.m.bytes.Add(float64(cr.sz))
		p.m.latency.Observe(time.Since(cr.ts).Seconds())
		c.noteSync(p, cr.src, cr.dst)
	}
	return nil
}
