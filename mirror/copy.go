package mirror

// Copying: a task fetches its source partitions and produces each record to
// the same partition of the remote topic, keeping key, value, headers and
// timestamp. Order per partition holds because one idempotent producer
// writes each target partition in fetch order. Produce is asynchronous and
// pipelined (up to five requests in flight per target broker); a partition
// with more than pauseBytes unacknowledged stops being fetched until it
// drains, so a partition the target is slow to take (its leader moving,
// say) cannot fill the producer's buffer and stall the others.
//
// Positions, in the default at-least-once mode, are written every
// offset.flush.interval.ms, and only up to the last record of each
// partition the target acknowledged: a restart copies again at most what
// came after, never skips. Exactly-once and preserve-offsets differ only
// in how a batch is committed and where positions come from (see
// transactions.go and preserve.go).

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/mirror/internal/mm2"
)

const (
	// pauseBytes of one partition unacknowledged pause its fetching,
	// until it drops below resumeBytes.
	pauseBytes  = 16 << 20
	resumeBytes = 4 << 20
	// pollWait bounds one poll, so topic changes are picked up.
	pollWait = 250 * time.Millisecond
	// maxBufferedBytes is a task's producer buffer unless buffer.memory
	// says otherwise.
	maxBufferedBytes = 128 << 20
)

// copier is one task's copy machinery.
type copier struct {
	f        *flow
	task     int
	consumer *kgo.Client
	producer *kgo.Client
	syncs    *syncWriter // nil: no offset syncs (preserve-offsets, or disabled)
	maxPoll  int

	// mu guards the partitions' acknowledgement state, written by produce
	// promises (kgo calls them in order per partition, from its own
	// goroutines) and read by the flusher and the poll loop.
	mu     sync.Mutex
	parts  map[topicPartition]*partition
	failed error // the first produce failure: the task stops and restarts from its positions
	// flushing is set while position writes are in flight, flushPending
	// of them.
	flushing     bool
	flushPending int
}

// partition is one source partition of a task.
type partition struct {
	tp     topicPartition
	remote string
	m      partitionMetrics

	// next is the source offset the next record should have; only the
	// poll loop touches it.
	next int64

	// Under copier.mu:
	acked    int64 // last source offset acknowledged by the target, -1 none
	written  int64 // last position written, -1 none
	inflight int64 // bytes produced, not acknowledged
	paused   bool
	stopped  bool // preserve-offsets: the partition hit what it cannot keep
	rule     mm2.SyncRule
	delayed  *mm2.OffsetSync // the latest sync the rule did not ask for yet
	queue    []inFlight      // produced, not acknowledged, in produce order

	promise func(*kgo.Record, error) // acknowledged, for this partition
}

// inFlight is a record handed to the producer.
type inFlight struct {
	rec  *kgo.Record
	src  int64 // its source offset
	size int64
	ts   time.Time
}

// copyTask runs one task until ctx ends or it fails.
func (f *flow) copyTask(ctx context.Context, ep *endpoints, watch *topicWatch, task int) error {
	c, err := f.newCopier(task)
	if err != nil {
		return err
	}
	defer c.close()
	var positions map[topicPartition]int64
	if f.cfg.ReplicationMode == ModeTranslate {
		if f.cfg.ExactlyOnce {
			if err := c.fence(ctx); err != nil {
				return err
			}
		}
		if positions, err = f.loadPositions(ctx, ep.tgtAdm); err != nil {
			return err
		}
	}
	f.log.Info("task started", "task", task, "exactly_once", f.cfg.ExactlyOnce, "mode", f.cfg.ReplicationMode)
	f.status.setErr(nil)
	lastFlush := time.Now()
	for ctx.Err() == nil {
		topics, changed := watch.get()
		if err := c.reconcile(ctx, ep, topics, positions); err != nil {
			return err
		}
		if err := c.copyUntil(ctx, changed, &lastFlush); err != nil {
			return err
		}
	}
	return c.stop()
}

// copyUntil polls and copies until the topics change or ctx ends.
func (c *copier) copyUntil(ctx context.Context, changed <-chan struct{}, lastFlush *time.Time) error {
	for {
		select {
		case <-changed:
			return nil
		case <-ctx.Done():
			return nil
		default:
		}
		if err := c.pollOnce(ctx); err != nil {
			return err
		}
		if time.Since(*lastFlush) >= c.f.cfg.OffsetFlushInterval {
			if err := c.flushPositions(ctx); err != nil {
				return err
			}
			*lastFlush = time.Now()
		}
	}
}

func (f *flow) newCopier(task int) (*copier, error) {
	c := &copier{f: f, task: task, parts: map[topicPartition]*partition{}}
	cs, err := f.src.settings(consumerClient)
	if err != nil {
		return nil, err
	}
	c.maxPoll = cs.MaxPollRecords
	consumerOpts := []kgo.Opt{kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{}),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}
	switch {
	case f.cfg.ReplicationMode == ModePreserveOffsets:
		// Every offset must be seen to be kept: aborted records and
		// commit markers too.
		consumerOpts = append(consumerOpts, kgo.FetchIsolationLevel(kgo.ReadUncommitted()), kgo.KeepControlRecords())
	case cs.IsolationLevel == "read_committed":
		consumerOpts = append(consumerOpts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	if c.consumer, err = f.newClient(f.src, consumerClient, consumerOpts...); err != nil {
		return nil, err
	}
	// The producer buffers at most maxBufferedBytes (or buffer.memory):
	// past that Produce waits, the backstop behind the per-partition
	// pause when many partitions are slow at once.
	producerOpts := []kgo.Opt{kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.MaxBufferedRecords(1 << 20),
		kgo.DefaultProduceTopic(f.positionsTopic)}
	if ps, _ := f.tgt.settings(producerClient); ps.BufferMemory == 0 {
		producerOpts = append(producerOpts, kgo.MaxBufferedBytes(maxBufferedBytes))
	}
	if f.cfg.ExactlyOnce {
		producerOpts = append(producerOpts, kgo.TransactionalID(f.transactionalID(task)))
	}
	if c.producer, err = f.newClient(f.tgt, producerClient, producerOpts...); err != nil {
		c.consumer.Close()
		return nil, err
	}
	if f.cfg.EmitOffsetSyncsEnabled && f.cfg.ReplicationMode == ModeTranslate {
		where := f.src
		if f.cfg.OffsetSyncsTopicLocation == "target" {
			where = f.tgt
		}
		cl, err := f.newClient(where, producerClient, kgo.RecordPartitioner(kgo.ManualPartitioner()))
		if err != nil {
			c.consumer.Close()
			c.producer.Close()
			return nil, err
		}
		c.syncs = &syncWriter{cl: cl, topic: f.offsetSyncsTopic, f: f}
	}
	return c, nil
}

func (c *copier) close() {
	c.consumer.Close()
	c.producer.Close()
	if c.syncs != nil {
		c.syncs.cl.Close()
	}
}

// reconcile makes the consumer fetch exactly the task's ready partitions.
func (c *copier) reconcile(ctx context.Context, ep *endpoints, topics map[string]copiedTopic, positions map[topicPartition]int64) error {
	want := map[topicPartition]copiedTopic{}
	for _, t := range topics {
		for p := int32(0); p < t.partitions; p++ {
			if taskOf(t.source, p, c.f.cfg.TasksMax) == c.task {
				want[topicPartition{t.source, p}] = t
			}
		}
	}
	remove := map[string][]int32{}
	c.mu.Lock()
	for tp, p := range c.parts {
		if _, ok := want[tp]; !ok {
			remove[tp.topic] = append(remove[tp.topic], tp.partition)
			delete(c.parts, tp)
			// Should it come back, it resumes from what was written,
			// not from where the task started.
			if positions != nil && p.written >= 0 {
				positions[tp] = p.written
			}
		}
	}
	c.mu.Unlock()
	if len(remove) > 0 {
		c.consumer.RemoveConsumePartitions(remove)
	}
	var added []topicPartition
	for tp := range want {
		c.mu.Lock()
		_, have := c.parts[tp]
		c.mu.Unlock()
		if !have {
			added = append(added, tp)
		}
	}
	if len(added) == 0 {
		return nil
	}
	slices.SortFunc(added, func(a, b topicPartition) int {
		return cmp.Or(cmp.Compare(a.topic, b.topic), cmp.Compare(a.partition, b.partition))
	})
	var starts map[topicPartition]int64
	if c.f.cfg.ReplicationMode == ModePreserveOffsets {
		var fills []prefixFill
		var err error
		if starts, fills, err = c.f.preserveStarts(ctx, ep, added, want); err != nil {
			return err
		}
		for _, fl := range fills {
			ok, err := c.fill(ctx, ep, fl)
			if err != nil {
				return err
			}
			if !ok {
				delete(starts, fl.tp)
			}
		}
	}
	add := map[string]map[int32]kgo.Offset{}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, tp := range added {
		p := &partition{tp: tp, remote: want[tp].remote, acked: -1, written: -1, next: -1,
			rule: mm2.SyncRule{MaxLag: c.f.cfg.OffsetLagMax},
			m:    c.f.metrics.partition(c.f.cfg.Source, c.f.cfg.Target, tp.topic, tp.partition)}
		p.promise = func(out *kgo.Record, err error) { c.acknowledged(p, out, err) }
		offset := kgo.NewOffset().AtStart()
		switch c.f.cfg.ReplicationMode {
		case ModePreserveOffsets:
			start, ok := starts[tp]
			if !ok {
				continue // refused; preserveStarts recorded why
			}
			p.next, p.acked, p.written = start, start-1, start-1
			offset = kgo.NewOffset().At(start)
		default:
			if last, ok := positions[tp]; ok {
				p.acked, p.written = last, last
				offset = kgo.NewOffset().At(last + 1)
			}
		}
		c.parts[tp] = p
		c.f.status.setPartitionErr(tp.topic, tp.partition, nil)
		if add[tp.topic] == nil {
			add[tp.topic] = map[int32]kgo.Offset{}
		}
		add[tp.topic][tp.partition] = offset
	}
	if len(add) > 0 {
		c.consumer.AddConsumePartitions(add)
	}
	return nil
}

// pollOnce fetches what is ready and hands it to the producer.
func (c *copier) pollOnce(ctx context.Context) error {
	pctx, cancel := context.WithTimeout(ctx, pollWait)
	fetches := c.consumer.PollRecords(pctx, c.maxPoll)
	cancel()
	if err := c.firstFailure(); err != nil {
		return err
	}
	for _, fe := range fetches.Errors() {
		if errors.Is(fe.Err, context.DeadlineExceeded) || errors.Is(fe.Err, context.Canceled) {
			continue
		}
		c.f.log.Warn("fetch error", "topic", fe.Topic, "partition", fe.Partition, "err", fe.Err)
	}
	if fetches.NumRecords() == 0 {
		return nil
	}
	if c.f.cfg.ExactlyOnce {
		return c.copyInTransaction(ctx, fetches)
	}
	var pause map[string][]int32
	fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
		c.mu.Lock()
		p := c.parts[topicPartition{fp.Topic, fp.Partition}]
		c.mu.Unlock()
		if p == nil {
			return // removed since the fetch
		}
		recs := c.accepted(p, fp.Records)
		if len(recs) == 0 {
			return
		}
		slab := c.newSlab(recs)
		out := make([]*kgo.Record, len(recs))
		now := time.Now()
		// The records enter the partition's queue before the producer
		// sees them, in the order it will acknowledge them.
		c.mu.Lock()
		var bytes int64
		for i, r := range recs {
			out[i] = slab.build(p, r)
			size := int64(len(r.Key) + len(r.Value))
			p.queue = append(p.queue, inFlight{rec: out[i], src: r.Offset, size: size, ts: r.Timestamp})
			bytes += size
			p.m.recordAge.Observe(now.Sub(r.Timestamp).Seconds())
		}
		p.inflight += bytes
		if p.inflight > pauseBytes && !p.paused {
			p.paused = true
			if pause == nil {
				pause = map[string][]int32{}
			}
			pause[fp.Topic] = append(pause[fp.Topic], fp.Partition)
		}
		c.mu.Unlock()
		for _, rec := range out {
			c.producer.Produce(context.Background(), rec, p.promise)
		}
	})
	if pause != nil {
		c.consumer.PauseFetchPartitions(pause)
	}
	return nil
}

// accepted returns the leading records that may be copied; in
// preserve-offsets mode it stops the partition at the first that cannot
// keep its offset.
func (c *copier) accepted(p *partition, recs []*kgo.Record) []*kgo.Record {
	for i, r := range recs {
		if c.f.cfg.ReplicationMode == ModePreserveOffsets {
			if err := c.checkPreservable(p, r); err != nil {
				c.stopPartition(p, err)
				return recs[:i]
			}
		}
		p.next = r.Offset + 1
	}
	return recs
}

// recordSlab holds the target records of one fetched batch, allocated
// together: the copy path makes a few allocations per batch, not several
// per record.
type recordSlab struct {
	c       *copier
	recs    []kgo.Record
	headers []kgo.RecordHeader
	digits  []byte // source offset header values
}

func (c *copier) newSlab(recs []*kgo.Record) *recordSlab {
	s := &recordSlab{c: c, recs: make([]kgo.Record, 0, len(recs))}
	if c.addsHeader() {
		n := len(recs)
		for _, r := range recs {
			n += len(r.Headers)
		}
		s.headers = make([]kgo.RecordHeader, 0, n)
		s.digits = make([]byte, 0, 20*len(recs))
	}
	return s
}

func (c *copier) addsHeader() bool {
	return c.f.cfg.SourceOffsetHeader && c.f.cfg.ReplicationMode == ModeTranslate
}

// build is the copy of r for the remote topic: same partition, key, value,
// headers (plus the source offset one, replacing one from an earlier hop)
// and timestamp.
func (s *recordSlab) build(p *partition, r *kgo.Record) *kgo.Record {
	headers := r.Headers
	if s.c.addsHeader() {
		from := len(s.headers)
		for _, h := range r.Headers {
			if h.Key != SourceOffsetHeaderKey {
				s.headers = append(s.headers, h)
			}
		}
		d := len(s.digits)
		s.digits = strconv.AppendInt(s.digits, r.Offset, 10)
		s.headers = append(s.headers, kgo.RecordHeader{Key: SourceOffsetHeaderKey, Value: s.digits[d:len(s.digits):len(s.digits)]})
		headers = s.headers[from:len(s.headers):len(s.headers)]
	}
	s.recs = append(s.recs, kgo.Record{Topic: p.remote, Partition: r.Partition, Key: r.Key, Value: r.Value, Headers: headers, Timestamp: r.Timestamp})
	return &s.recs[len(s.recs)-1]
}

// acknowledged is the produce promise of a partition's records: kgo calls
// it once per record, in produce order, so the record is the head of the
// partition's queue.
func (c *copier) acknowledged(p *partition, out *kgo.Record, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(p.queue) == 0 || p.queue[0].rec != out {
		if c.failed == nil {
			c.failed = fmt.Errorf("copy %s partition %d: acknowledgements out of produce order", p.tp.topic, p.tp.partition)
		}
		p.stopped = true
		return
	}
	e := p.queue[0]
	p.queue[0] = inFlight{}
	p.queue = p.queue[1:]
	p.inflight -= e.size
	if p.paused && p.inflight < resumeBytes {
		p.paused = false
		c.consumer.ResumeFetchPartitions(map[string][]int32{p.tp.topic: {p.tp.partition}})
	}
	if p.stopped {
		return
	}
	if err != nil {
		if c.failed == nil {
			c.failed = fmt.Errorf("copy %s partition %d offset %d to %s: %w", p.tp.topic, p.tp.partition, e.src, p.remote, err)
		}
		p.stopped = true // later acknowledgements must not move the position past the lost record
		return
	}
	if c.f.cfg.ReplicationMode == ModePreserveOffsets && out.Offset != e.src {
		c.stopPartitionLocked(p, fmt.Errorf("source offset %d landed at offset %d of %s: something else writes to the target topic; "+
			"preserve-offsets needs the mirror to be its only writer", e.src, out.Offset, p.remote))
		return
	}
	p.acked = e.src
	p.m.records.Inc()
	p.m.bytes.Add(float64(e.size))
	p.m.latency.Observe(time.Since(e.ts).Seconds())
	c.noteSync(p, e.src, out.Offset)
}

// noteSync applies the offset sync rule to an acknowledged record.
// c.mu is held.
func (c *copier) noteSync(p *partition, srcOffset, dstOffset int64) {
	if c.syncs == nil {
		return
	}
	s := mm2.OffsetSync{Topic: p.tp.topic, Partition: p.tp.partition, Upstream: srcOffset, Downstream: dstOffset}
	if p.rule.Update(srcOffset, dstOffset) {
		p.delayed = nil
		c.syncs.send(s)
	} else {
		p.delayed = &s
	}
}

func (c *copier) firstFailure() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.failed
}

// flushPositions writes the position of every partition acknowledged past
// its last written one, and the offset syncs the rule held back (MM2
// writes those at its offset commit too, so checkpoints do not lag when
// traffic stops). The writes are asynchronous, so copying does not wait
// for them; one flush is in flight at a time. Errors come back through
// firstFailure.
func (c *copier) flushPositions(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range c.parts {
		if p.delayed != nil && c.syncs != nil {
			c.syncs.send(*p.delayed)
			p.delayed = nil
		}
	}
	if c.flushing {
		return nil
	}
	for _, p := range c.parts {
		if p.acked <= p.written {
			continue
		}
		c.flushing = true
		c.flushPending++
		off := p.acked
		c.producer.Produce(ctx, c.f.positionRecord(c.task, p.tp, off), func(_ *kgo.Record, err error) {
			c.mu.Lock()
			defer c.mu.Unlock()
			if err != nil && c.failed == nil {
				c.failed = fmt.Errorf("write positions to %s: %w", c.f.positionsTopic, err)
			}
			if err == nil {
				p.written = max(p.written, off)
			}
			if c.flushPending--; c.flushPending == 0 {
				c.flushing = false
			}
		})
	}
	return nil
}

// stop finishes a task that is told to stop: what was produced is
// acknowledged (or given up after a timeout) and, in at-least-once mode,
// the final positions are written.
func (c *copier) stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if c.f.cfg.ExactlyOnce {
		return nil // every transaction is already committed or aborted
	}
	if err := c.producer.Flush(ctx); err != nil {
		return nil // positions stay where they were: the next owner copies again
	}
	if c.f.cfg.ReplicationMode == ModePreserveOffsets {
		return nil // positions are the target's end offsets
	}
	c.flushPositions(ctx)
	if err := c.producer.Flush(ctx); err != nil || c.firstFailure() != nil {
		c.f.log.Warn("final positions not written; the next owner of the task copies again from the previous ones",
			"task", c.task, "err", errors.Join(err, c.firstFailure()))
	}
	return nil
}

// stopPartition stops copying one partition and records why.
func (c *copier) stopPartition(p *partition, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopPartitionLocked(p, err)
}

func (c *copier) stopPartitionLocked(p *partition, err error) {
	if p.stopped {
		return
	}
	p.stopped = true
	c.f.status.setPartitionErr(p.tp.topic, p.tp.partition, err)
	// Removing from the consumer from inside a promise is safe: kgo's
	// consumer and producer do not share locks.
	c.consumer.RemoveConsumePartitions(map[string][]int32{p.tp.topic: {p.tp.partition}})
}
