package worker

// A source task's loop: Poll, transform, convert, produce; commit the
// offsets of records the broker has acknowledged every
// offset.flush.interval.ms and when stopping. In exactly-once mode the
// records of a batch (transaction.boundary=poll) or interval and their
// offsets go in one Kafka transaction instead.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
	"unsafe"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/connect"
)

type sourceRunner struct {
	*taskBase
	task    connect.SourceTask
	chain   *connect.Chain
	conv    *converters
	cl      *kgo.Client
	tol     *tolerance
	pending *submittedRecords
	topics  map[string]bool
	// lastTopic is the topic last written, known to be in topics.
	lastTopic string
	// scratch is the copy of a record that the chain transforms (used by
	// toKafka only; nothing keeps it past a call).
	scratch connect.Record

	// uncommitted holds positions whose commit failed, retried with the
	// next commit (a later position of a partition replaces an earlier).
	uncommitted map[string]connect.Position

	// fatalMu guards fatal: the first produce error that fails the task,
	// set from the producer's callback goroutine.
	fatalMu sync.Mutex
	fatal   error

	// txn is the open transaction of an exactly-once task.
	txn *sourceTxn
	// onAck is acked as a method value, made once.
	onAck func(*kgo.Record, error)
	// logSource: produce failures are tolerated and logged, with the
	// record as polled.
	logSource bool
}

func startSourceTask(rt *runtime, id taskID, cc *connectorConfig, config map[string]string, target targetState) *sourceRunner {
	r := &sourceRunner{taskBase: newTaskBase(rt, id, cc, config, target), pending: newSubmittedRecords(),
		topics: map[string]bool{}, uncommitted: map[string]connect.Position{}}
	r.onAck = r.acked
	r.logSource = !rt.exactlyOnce && cc.Errors.TolerateAll && cc.Errors.LogEnable
	go r.run()
	return r
}

func (r *sourceRunner) run() {
	defer close(r.finished)
	err := r.execute()
	if err != nil && !errors.Is(err, errTaskStopped) {
		r.log.Error("source task failed", "err", err)
		r.rt.reportTask(r.id, r.m, stateFailed, err)
		return
	}
	r.rt.reportTask(r.id, r.m, stateUnassigned, nil)
}

// sourceTaskContext is the task's connect.SourceTaskContext.
type sourceTaskContext struct{ r *sourceRunner }

func (c sourceTaskContext) Offset(partition map[string]any) (map[string]any, error) {
	return c.r.rt.offsets.get(c.r.id.Connector, partition)
}

func (c sourceTaskContext) Logger() *slog.Logger { return c.r.log }

func (r *sourceRunner) execute() error {
	var err error
	if r.conv, err = newConverters(r.cc); err != nil {
		return err
	}
	if r.chain, err = connect.NewChain(r.cc.Raw); err != nil {
		return err
	}
	defer r.chain.Close()
	r.tol = newTolerance(r.cc.Errors, r.id, r.log, r.m)
	cs, err := r.rt.cfg.connectorClient(roleProducer, r.cc.Raw)
	if err != nil {
		return err
	}
	opts := append(cs.defaultClientID("connector-producer-"+r.id.String()).opts(),
		kgo.AllowAutoTopicCreation(),
		kgo.RecordPartitioner(connectPartitioner{kgo.StickyKeyPartitioner(nil)}),
		kgo.MaxBufferedRecords(100_000),
	)
	if r.rt.exactlyOnce {
		opts = append(opts, kgo.TransactionalID(r.rt.transactionalID(r.id)))
	}
	if r.cl, err = kgo.NewClient(opts...); err != nil {
		return fmt.Errorf("producer: %w", err)
	}
	defer r.cl.Close()
	// Read every offset committed so far (a task that moved here must see
	// what its previous owner committed).
	if err := r.rt.offsets.log.readToEnd(r.ctx); err != nil {
		return err
	}
	r.task = r.cc.Plugin.New().(connect.SourceConnector).NewTask()
	startErr := r.task.Start(sourceTaskContext{r}, r.config)
	defer func() {
		if err := r.task.Stop(); err != nil {
			r.log.Warn("source task Stop failed", "err", err)
		}
	}()
	if startErr != nil {
		return fmt.Errorf("start task: %w", startErr)
	}
	loopErr := r.loop()
	return errors.Join(loopErr, r.finish(loopErr))
}

// finish waits (up to task.shutdown.graceful.timeout.ms) for records in
// flight and commits what they cover.
func (r *sourceRunner) finish(loopErr error) error {
	ctx, cancel := context.WithTimeout(context.Background(), r.rt.cfg.TaskShutdownTimeout+r.rt.cfg.OffsetFlushTimeout)
	defer cancel()
	if r.txn != nil {
		if loopErr == nil || errors.Is(loopErr, errTaskStopped) {
			return r.commitTxn(ctx)
		}
		return r.abortTxn(ctx)
	}
	flushCtx, cancelFlush := context.WithTimeout(ctx, r.rt.cfg.TaskShutdownTimeout)
	if err := r.cl.Flush(flushCtx); err != nil {
		r.log.Warn("records still in flight at stop; their offsets are not committed", "pending", r.pending.pending())
	}
	cancelFlush()
	return r.commit(ctx)
}

func (r *sourceRunner) loop() error {
	target := r.currentTarget()
	r.rt.reportTask(r.id, r.m, stateOf(target), nil)
	interval := r.rt.cfg.OffsetFlushInterval
	if r.rt.exactlyOnce && r.cc.TransactionBoundary == txnBoundaryInterval && r.cc.TransactionInterval > 0 {
		interval = r.cc.TransactionInterval
	}
	nextCommit := time.Now().Add(interval)
	backoff := 50 * time.Millisecond
	for {
		if r.ctx.Err() != nil {
			return errTaskStopped
		}
		if err := r.fatalErr(); err != nil {
			return err
		}
		select {
		case <-r.targetCh:
			if t := r.currentTarget(); t != target {
				target = t
				r.rt.reportTask(r.id, r.m, stateOf(target), nil)
			}
		default:
		}
		if time.Now().After(nextCommit) {
			if err := r.commitDue(); err != nil {
				return err
			}
			nextCommit = time.Now().Add(interval)
		}
		if target != targetStarted {
			// Paused: no polling; offsets still commit on time.
			select {
			case <-r.ctx.Done():
			case <-r.targetCh:
				r.targetCh <- struct{}{}
			case <-time.After(time.Until(nextCommit)):
			}
			continue
		}
		recs, err := r.task.Poll(r.ctx)
		if err != nil {
			if r.ctx.Err() != nil {
				return errTaskStopped
			}
			if !connect.IsRetriable(err) {
				return fmt.Errorf("poll: %w", err)
			}
			r.log.Warn("retriable poll error", "err", err)
			if sleepCtx(r.ctx, backoff) != nil {
				return errTaskStopped
			}
			backoff = min(2*backoff, 5*time.Second)
			continue
		}
		backoff = 50 * time.Millisecond
		if len(recs) == 0 {
			continue
		}
		r.m.polled.Add(float64(len(recs)))
		r.m.batch.Observe(float64(len(recs)))
		if err := r.sendAll(recs); err != nil {
			return err
		}
		if r.txn != nil && r.cc.TransactionBoundary != txnBoundaryInterval {
			if err := r.commitDue(); err != nil {
				return err
			}
		}
	}
}

func stateOf(t targetState) string {
	if t == targetStarted {
		return stateRunning
	}
	return statePaused
}

func (r *sourceRunner) fatalErr() error {
	r.fatalMu.Lock()
	defer r.fatalMu.Unlock()
	return r.fatal
}

func (r *sourceRunner) setFatal(err error) {
	r.fatalMu.Lock()
	defer r.fatalMu.Unlock()
	if r.fatal == nil {
		r.fatal = err
	}
}

// commitDue commits offsets (or the open transaction) with
// offset.flush.timeout.ms.
func (r *sourceRunner) commitDue() error {
	ctx, cancel := context.WithTimeout(r.ctx, r.rt.cfg.OffsetFlushTimeout)
	defer cancel()
	if r.rt.exactlyOnce {
		if r.txn == nil {
			return nil
		}
		return r.commitTxn(ctx)
	}
	if err := r.commit(ctx); err != nil && r.ctx.Err() == nil {
		// Not fatal: the positions are kept and committed next time.
		r.log.Warn("offset commit failed; retrying at the next interval", "err", err)
	}
	return nil
}

// sendAll transforms, converts and produces a batch.
func (r *sourceRunner) sendAll(recs []connect.SourceRecord) error {
	if r.rt.exactlyOnce && r.txn == nil {
		if err := r.beginTxn(); err != nil {
			return err
		}
	}
	// Sealed even when the batch stops early: the records submitted so
	// far can then complete their groups and be committed.
	defer r.pending.seal()
	// The records in flight are allocated inFlightChunk at a time: records
	// submitted together are acknowledged at about the same time, so a
	// chunk lives little longer than separate allocations would, and a
	// chunk is small enough to be still in cache from its zeroing when it
	// is filled.
	var fs []inFlight
	for i := range recs {
		if len(fs) == 0 {
			fs = make([]inFlight, min(inFlightChunk, len(recs)-i))
		}
		if err := r.send(&recs[i], &fs[0]); err != nil {
			return err
		}
		fs = fs[1:]
	}
	return nil
}

// inFlightChunk is how many in-flight records one allocation holds.
const inFlightChunk = 128

// inFlight is a record handed to the producer with what its
// acknowledgement needs: the producer's callback gets &f.rec back, the
// first field, and finds f from it.
type inFlight struct {
	rec kgo.Record
	g   *submittedGroup
	// src is the record as polled, kept only when a failed produce logs
	// it (logSource); otherwise nothing holds a poll's records once they
	// are converted, and the collector need not trace them while they are
	// in flight.
	src *connect.SourceRecord
}

// send handles one record into f: it is either produced (tracked until
// acknowledged) or done at once (dropped or skipped).
func (r *sourceRunner) send(src *connect.SourceRecord, f *inFlight) error {
	if r.logSource {
		f.src = src
	}
	ok, err := r.toKafka(src, &f.rec)
	if err != nil {
		return err
	}
	f.g = r.pending.add(src)
	if r.txn != nil {
		r.txn.add(f.g.part, src.SourceOffset)
	}
	if !ok {
		r.pending.ack(f.g)
		return nil
	}
	if f.rec.Topic != r.lastTopic {
		if !r.topics[f.rec.Topic] {
			r.topics[f.rec.Topic] = true
			if err := r.rt.statuses.putTopic(r.ctx, r.id.Connector, f.rec.Topic, r.id.Task); err != nil {
				r.log.Warn("could not record the connector's topic", "topic", f.rec.Topic, "err", err)
			}
		}
		r.lastTopic = f.rec.Topic
	}
	r.cl.Produce(context.Background(), &f.rec, r.onAck)
	return nil
}

// acked is the producer's callback (bound once as onAck). It runs on the
// producer's goroutine and touches only the record's group (an atomic
// counter), fatal (locked) and metrics (atomic).
func (r *sourceRunner) acked(kr *kgo.Record, err error) {
	f := (*inFlight)(unsafe.Pointer(kr))
	if err == nil {
		r.m.written.Inc()
		r.pending.ack(f.g)
		return
	}
	if r.txn == nil && r.cc.Errors.TolerateAll {
		// KAFKA_PRODUCE failures are skipped under errors.tolerance=all.
		r.m.recordError(stageKafkaProduce)
		r.m.skipped.Inc()
		if r.cc.Errors.LogEnable {
			r.tol.logFailure(failure{stage: stageKafkaProduce, class: "kgo.Client", err: err, source: f.src})
		}
		r.pending.ack(f.g)
		return
	}
	r.setFatal(fmt.Errorf("produce to %s: %w", kr.Topic, err))
}

// toKafka applies the chain and the converters into kr; false means the
// record was dropped or skipped. Each step runs once directly; only a step
// that fails goes through the error handling (retries, tolerance).
func (r *sourceRunner) toKafka(src *connect.SourceRecord, kr *kgo.Record) (bool, error) {
	// Without a chain the record is only read; with one, the chain works
	// on a copy, so that a retry starts again from the record as polled.
	out := &src.Record
	ctx := r.ctx
	if r.chain.Len() > 0 {
		rec := &r.scratch
		*rec = src.Record
		rec.Offset = -1
		o, err := r.chain.Apply(rec)
		if err != nil {
			ok, terr := r.tol.do(ctx, failure{stage: stageTransformation, class: "transforms", source: src}, func() error {
				var e error
				*rec = src.Record
				rec.Offset = -1
				o, e = r.chain.Apply(rec)
				return e
			})
			if terr != nil || !ok {
				return false, terr
			}
		}
		if o == nil {
			return false, nil
		}
		out = o
	}
	kr.Topic, kr.Partition, kr.Timestamp = out.Topic, out.Partition, out.Timestamp
	if out.Partition < 0 {
		kr.Partition = -1
	}
	var err error
	if kr.Key, err = r.conv.key.FromConnect(out.Topic, out.KeySchema, out.Key); err != nil {
		if ok, terr := r.tol.do(ctx, failure{stage: stageKeyConverter, class: r.conv.keyClass, source: src}, func() error {
			var e error
			kr.Key, e = r.conv.key.FromConnect(out.Topic, out.KeySchema, out.Key)
			return e
		}); terr != nil || !ok {
			return false, terr
		}
	}
	if kr.Value, err = r.conv.value.FromConnect(out.Topic, out.ValueSchema, out.Value); err != nil {
		if ok, terr := r.tol.do(ctx, failure{stage: stageValueConverter, class: r.conv.valueClass, source: src}, func() error {
			var e error
			kr.Value, e = r.conv.value.FromConnect(out.Topic, out.ValueSchema, out.Value)
			return e
		}); terr != nil || !ok {
			return false, terr
		}
	}
	if len(out.Headers) > 0 {
		convert := func() error {
			kr.Headers = make([]kgo.RecordHeader, 0, len(out.Headers))
			for _, h := range out.Headers {
				v, e := r.conv.header.FromConnectHeader(out.Topic, h.Key, h.Schema, h.Value)
				if e != nil {
					return e
				}
				kr.Headers = append(kr.Headers, kgo.RecordHeader{Key: h.Key, Value: v})
			}
			return nil
		}
		if ok, terr := r.tol.do(ctx, failure{stage: stageHeaderConverter, class: r.conv.hdClass, source: src}, convert); terr != nil || !ok {
			return false, terr
		}
	}
	return true, nil
}

// commit writes the offsets of every acknowledged prefix, then tells the
// task.
func (r *sourceRunner) commit(ctx context.Context) error {
	for _, p := range r.pending.committable() {
		key, _ := encodeOffsetKey("", p.Partition)
		r.uncommitted[string(key)] = p
	}
	if len(r.uncommitted) == 0 {
		return nil
	}
	positions := make([]connect.Position, 0, len(r.uncommitted))
	for _, p := range r.uncommitted {
		positions = append(positions, p)
	}
	start := time.Now()
	if err := r.rt.offsets.put(ctx, r.id.Connector, positions); err != nil {
		r.m.commitFail.Inc()
		return err
	}
	r.m.commit.Observe(time.Since(start).Seconds())
	clear(r.uncommitted)
	if err := r.task.Commit(ctx, positions); err != nil {
		r.log.Warn("source task Commit failed", "err", err)
	}
	return nil
}
