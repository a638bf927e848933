package worker

// A sink task's loop: consume the connector's topics in the group
// connect-<name>, convert and transform, Put; every
// offset.flush.interval.ms (and before partitions are revoked, and at
// stop) Flush and commit through the group the offsets Flush returns.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-streams/tributary/connect"
)

type sinkRunner struct {
	*taskBase
	task  connect.SinkTask
	chain *connect.Chain
	conv  *converters
	cl    *kgo.Client
	tol   *tolerance
	// maxPoll is max.poll.records: the most records one Put receives.
	maxPoll int

	// mu is held by the loop while it calls the task and by the group's
	// rebalance callbacks, which kgo runs on its own goroutine. With
	// BlockRebalanceOnPoll a rebalance only proceeds after the loop called
	// AllowRebalance, that is, between batches; mu orders the rest.
	mu        sync.Mutex
	assigned  map[connect.TopicPartition]bool
	current   map[connect.TopicPartition]int64 // next offset after what Put received
	committed map[connect.TopicPartition]int64
	closed    bool
	paused    bool
	fatal     error

	// reqMu guards what the task asks for through its context, applied by
	// the loop after Put returns, and the current batch's records for
	// Report.
	reqMu         sync.Mutex
	rewinds       map[connect.TopicPartition]int64
	pauseReq      map[connect.TopicPartition]bool
	resumeReq     map[connect.TopicPartition]bool
	commitReq     bool
	batchConsumed map[connect.TopicPartition]map[int64]*kgo.Record
	// assignment is a copy of assigned for Assignment, which the task may
	// call from any goroutine (assigned itself needs mu).
	assignment []connect.TopicPartition
	regex      *regexp.Regexp
}

func startSinkTask(rt *runtime, id taskID, cc *connectorConfig, config map[string]string, target targetState) *sinkRunner {
	r := &sinkRunner{taskBase: newTaskBase(rt, id, cc, config, target),
		assigned: map[connect.TopicPartition]bool{}, current: map[connect.TopicPartition]int64{},
		committed: map[connect.TopicPartition]int64{}, rewinds: map[connect.TopicPartition]int64{},
		pauseReq: map[connect.TopicPartition]bool{}, resumeReq: map[connect.TopicPartition]bool{}}
	go r.run()
	return r
}

func (r *sinkRunner) run() {
	defer close(r.finished)
	err := r.execute()
	if err != nil && !errors.Is(err, errTaskStopped) {
		r.log.Error("sink task failed", "err", err)
		r.rt.reportTask(r.id, r.m, stateFailed, err)
		return
	}
	r.rt.reportTask(r.id, r.m, stateUnassigned, nil)
}

// groupID is the sink connector's consumer group, Kafka Connect's.
func groupID(connector string) string { return "connect-" + connector }

func (r *sinkRunner) execute() error {
	var err error
	if r.conv, err = newConverters(r.cc); err != nil {
		return err
	}
	if r.chain, err = connect.NewChain(r.cc.Raw); err != nil {
		return err
	}
	defer r.chain.Close()
	r.tol = newTolerance(r.cc.Errors, r.id, r.log, r.m)
	// The task starts before the consumer: the group may assign partitions
	// (and call Open) as soon as the client exists.
	r.task = r.cc.Plugin.New().(connect.SinkConnector).NewTask()
	startErr := r.task.Start(sinkTaskContext{r}, r.config)
	defer func() {
		if err := r.task.Stop(); err != nil {
			r.log.Warn("sink task Stop failed", "err", err)
		}
	}()
	if startErr != nil {
		return fmt.Errorf("start task: %w", startErr)
	}
	cs, err := r.rt.cfg.connectorClient(roleConsumer, r.cc.Raw)
	if err != nil {
		return err
	}
	r.maxPoll = cs.MaxPollRecords
	opts := append(cs.defaultClientID("connector-consumer-"+r.id.String()).opts(),
		kgo.ConsumerGroup(groupID(r.id.Connector)),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.OnPartitionsAssigned(r.onAssigned),
		kgo.OnPartitionsRevoked(r.onRevoked),
		kgo.OnPartitionsLost(r.onLost),
		kgo.AllowAutoTopicCreation(),
	)
	if r.cc.TopicsRegex != "" {
		r.regex = regexp.MustCompile(r.cc.TopicsRegex)
		opts = append(opts, kgo.ConsumeRegex(), kgo.ConsumeTopics(r.cc.TopicsRegex))
	} else {
		opts = append(opts, kgo.ConsumeTopics(r.cc.Topics...))
	}
	if r.cl, err = kgo.NewClient(opts...); err != nil {
		return fmt.Errorf("consumer: %w", err)
	}
	defer r.cl.Close()
	if r.cc.Errors.DLQTopic != "" {
		if r.tol.dlq, err = openDeadLetterQueue(r.ctx, r.rt.cfg, r.cc, r.id); err != nil {
			return err
		}
		defer r.tol.dlq.close()
	}
	loopErr := r.loop()
	return errors.Join(loopErr, r.finish(loopErr))
}

// finish flushes and commits what the task has (after a clean stop), closes
// its partitions and leaves the group.
func (r *sinkRunner) finish(loopErr error) error {
	ctx, cancel := context.WithTimeout(context.Background(), r.rt.cfg.TaskShutdownTimeout+r.rt.cfg.OffsetFlushTimeout)
	defer cancel()
	r.mu.Lock()
	defer r.mu.Unlock()
	var err error
	if loopErr == nil || errors.Is(loopErr, errTaskStopped) {
		err = r.flushCommit(ctx, nil)
	}
	parts := r.assignedList()
	if len(parts) > 0 {
		if cerr := r.task.Close(parts); cerr != nil {
			r.log.Warn("sink task Close failed", "err", cerr)
		}
	}
	clear(r.assigned)
	r.publishAssignment()
	r.closed = true // the group's revoke callback at leave has nothing to do
	return err
}

func (r *sinkRunner) loop() error {
	target := r.currentTarget()
	r.rt.reportTask(r.id, r.m, stateOf(target), nil)
	nextCommit := time.Now().Add(r.rt.cfg.OffsetFlushInterval)
	for {
		select {
		case <-r.targetCh:
			if t := r.currentTarget(); t != target {
				target = t
				r.setPaused(target != targetStarted)
				r.rt.reportTask(r.id, r.m, stateOf(target), nil)
			}
		default:
		}
		wait := min(time.Until(nextCommit), time.Second)
		pollCtx, cancel := context.WithTimeout(r.ctx, max(wait, time.Millisecond))
		fetches := r.cl.PollRecords(pollCtx, r.maxPoll)
		cancel()
		if r.ctx.Err() != nil || fetches.IsClientClosed() {
			r.cl.AllowRebalance()
			return errTaskStopped
		}
		fetches.EachError(func(t string, p int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
				r.log.Warn("fetch error", "topic", t, "partition", p, "err", err)
			}
		})
		err := r.handle(fetches.Records(), &nextCommit)
		r.cl.AllowRebalance()
		if err != nil {
			return err
		}
	}
}

// handle delivers one batch and commits when due. It runs with rebalances
// blocked.
func (r *sinkRunner) handle(records []*kgo.Record, nextCommit *time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fatal != nil {
		return r.fatal
	}
	batch := make([]connect.SinkRecord, 0, len(records))
	consumed := map[connect.TopicPartition]map[int64]*kgo.Record{}
	for _, kr := range records {
		r.m.read.Inc()
		tp := connect.TopicPartition{Topic: kr.Topic, Partition: kr.Partition}
		if !r.assigned[tp] {
			continue // revoked meanwhile: its new owner reads it
		}
		sr, ok, err := r.toConnect(kr)
		if err != nil {
			return err
		}
		if ok {
			batch = append(batch, sr)
			if consumed[tp] == nil {
				consumed[tp] = map[int64]*kgo.Record{}
			}
			consumed[tp][kr.Offset] = kr
		}
	}
	r.reqMu.Lock()
	r.batchConsumed = consumed
	r.reqMu.Unlock()
	if err := r.put(batch); err != nil {
		return err
	}
	for _, kr := range records {
		tp := connect.TopicPartition{Topic: kr.Topic, Partition: kr.Partition}
		if r.assigned[tp] {
			r.current[tp] = kr.Offset + 1
		}
	}
	commitNow := r.applyRequests()
	if commitNow || time.Now().After(*nextCommit) {
		ctx, cancel := context.WithTimeout(r.ctx, r.rt.cfg.OffsetFlushTimeout)
		err := r.flushCommit(ctx, nil)
		cancel()
		*nextCommit = time.Now().Add(r.rt.cfg.OffsetFlushInterval)
		if err != nil {
			return err
		}
	}
	return nil
}

// put calls Put, again after a back-off while it fails with a retriable
// error (until it succeeds or the task stops).
func (r *sinkRunner) put(batch []connect.SinkRecord) error {
	if len(batch) > 0 {
		r.m.batch.Observe(float64(len(batch)))
	}
	delay := 100 * time.Millisecond
	for {
		err := r.task.Put(r.ctx, batch)
		if err == nil {
			r.m.sent.Add(float64(len(batch)))
			return nil
		}
		if r.ctx.Err() != nil {
			return errTaskStopped
		}
		if !connect.IsRetriable(err) {
			return fmt.Errorf("put: %w", err)
		}
		r.log.Warn("retriable put error; delivering the batch again", "records", len(batch), "in", delay, "err", err)
		if sleepCtx(r.ctx, delay) != nil {
			return errTaskStopped
		}
		delay = min(2*delay, r.cc.Errors.RetryDelayMax)
	}
}

// toConnect converts and transforms one consumed record; ok is false when
// it was dropped or skipped.
func (r *sinkRunner) toConnect(kr *kgo.Record) (connect.SinkRecord, bool, error) {
	ctx := r.ctx
	sr := connect.SinkRecord{
		Record:         connect.Record{Topic: kr.Topic, Partition: kr.Partition, Timestamp: kr.Timestamp, Offset: kr.Offset},
		TimestampType:  connect.CreateTime,
		Original:       connect.TopicPartition{Topic: kr.Topic, Partition: kr.Partition},
		OriginalOffset: kr.Offset,
	}
	if kr.Attrs.TimestampType() == 1 {
		sr.TimestampType = connect.LogAppendTime
	}
	rec := &sr.Record
	steps := []struct {
		stage stage
		class string
		fn    func() error
	}{
		{stageKeyConverter, r.conv.keyClass, func() (e error) {
			rec.KeySchema, rec.Key, e = r.conv.key.ToConnect(kr.Topic, kr.Key)
			return e
		}},
		{stageValueConverter, r.conv.valueClass, func() (e error) {
			rec.ValueSchema, rec.Value, e = r.conv.value.ToConnect(kr.Topic, kr.Value)
			return e
		}},
		{stageHeaderConverter, r.conv.hdClass, func() error {
			if len(kr.Headers) == 0 {
				return nil
			}
			rec.Headers = make(connect.Headers, 0, len(kr.Headers))
			for _, h := range kr.Headers {
				s, v, e := r.conv.header.ToConnectHeader(kr.Topic, h.Key, h.Value)
				if e != nil {
					return e
				}
				rec.Headers = append(rec.Headers, connect.Header{Key: h.Key, Schema: s, Value: v})
			}
			return nil
		}},
	}
	if r.chain.Len() > 0 {
		steps = append(steps, struct {
			stage stage
			class string
			fn    func() error
		}{stageTransformation, "transforms", func() error {
			out, e := r.chain.Apply(rec)
			if e != nil {
				return e
			}
			if out == nil {
				rec = nil
				return nil
			}
			rec = out
			return nil
		}})
	}
	for _, s := range steps {
		ok, err := r.tol.do(ctx, failure{stage: s.stage, class: s.class, consumed: kr}, s.fn)
		if err != nil || !ok {
			return sr, false, err
		}
		if rec == nil {
			return sr, false, nil
		}
	}
	sr.Record = *rec
	return sr, true, nil
}

// flushCommit asks the task which offsets are durable and commits them
// through the group; only (nil: all assigned) partitions.
func (r *sinkRunner) flushCommit(ctx context.Context, only []connect.TopicPartition) error {
	offsets := map[connect.TopicPartition]int64{}
	for tp, off := range r.current {
		if r.assigned[tp] && (only == nil || slices.Contains(only, tp)) {
			offsets[tp] = off
		}
	}
	if len(offsets) == 0 {
		return nil
	}
	start := time.Now()
	durable, err := r.task.Flush(ctx, offsets)
	if err != nil {
		r.m.commitFail.Inc()
		if connect.IsRetriable(err) {
			r.log.Warn("flush failed; offsets are committed at the next attempt", "err", err)
			return nil
		}
		return fmt.Errorf("flush: %w", err)
	}
	commit := map[string]map[int32]kgo.EpochOffset{}
	for tp, off := range durable {
		if cur, ok := offsets[tp]; !ok || off > cur || off <= r.committed[tp] && r.committedKnown(tp) {
			continue // not ours, beyond what was delivered, or already committed
		}
		if commit[tp.Topic] == nil {
			commit[tp.Topic] = map[int32]kgo.EpochOffset{}
		}
		commit[tp.Topic][tp.Partition] = kgo.EpochOffset{Epoch: -1, Offset: off}
	}
	if len(commit) == 0 {
		return nil
	}
	var commitErr error
	r.cl.CommitOffsetsSync(ctx, commit, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
		commitErr = commitResponseErr(resp, err)
	})
	if commitErr != nil {
		// Not fatal: after a rebalance the records are delivered again.
		r.m.commitFail.Inc()
		r.log.Warn("offset commit failed", "err", commitErr)
		return nil
	}
	for t, ps := range commit {
		for p, eo := range ps {
			r.committed[connect.TopicPartition{Topic: t, Partition: p}] = eo.Offset
		}
	}
	r.m.commit.Observe(time.Since(start).Seconds())
	return nil
}

func (r *sinkRunner) committedKnown(tp connect.TopicPartition) bool {
	_, ok := r.committed[tp]
	return ok
}

func (r *sinkRunner) assignedList() []connect.TopicPartition {
	out := make([]connect.TopicPartition, 0, len(r.assigned))
	for tp := range r.assigned {
		out = append(out, tp)
	}
	slices.SortFunc(out, compareTP)
	return out
}

func compareTP(a, b connect.TopicPartition) int {
	if a.Topic != b.Topic {
		if a.Topic < b.Topic {
			return -1
		}
		return 1
	}
	return int(a.Partition - b.Partition)
}

func toTPs(m map[string][]int32) []connect.TopicPartition {
	var out []connect.TopicPartition
	for t, ps := range m {
		for _, p := range ps {
			out = append(out, connect.TopicPartition{Topic: t, Partition: p})
		}
	}
	slices.SortFunc(out, compareTP)
	return out
}

func fromTPs(tps []connect.TopicPartition) map[string][]int32 {
	out := map[string][]int32{}
	for _, tp := range tps {
		out[tp.Topic] = append(out[tp.Topic], tp.Partition)
	}
	return out
}

func (r *sinkRunner) onAssigned(_ context.Context, _ *kgo.Client, m map[string][]int32) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || r.fatal != nil {
		return
	}
	tps := toTPs(m)
	for _, tp := range tps {
		r.assigned[tp] = true
	}
	r.publishAssignment()
	if r.paused {
		r.cl.PauseFetchPartitions(m)
	}
	if err := r.task.Open(tps); err != nil {
		r.fatal = fmt.Errorf("open partitions: %w", err)
	}
}

func (r *sinkRunner) onRevoked(ctx context.Context, _ *kgo.Client, m map[string][]int32) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || r.fatal != nil {
		return
	}
	tps := toTPs(m)
	if err := r.flushCommit(ctx, tps); err != nil {
		r.fatal = err
	}
	if err := r.task.Close(tps); err != nil {
		r.log.Warn("sink task Close failed", "err", err)
	}
	r.forget(tps)
}

func (r *sinkRunner) onLost(_ context.Context, _ *kgo.Client, m map[string][]int32) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	tps := toTPs(m)
	if err := r.task.Close(tps); err != nil {
		r.log.Warn("sink task Close failed", "err", err)
	}
	r.forget(tps)
}

func (r *sinkRunner) forget(tps []connect.TopicPartition) {
	for _, tp := range tps {
		delete(r.assigned, tp)
		delete(r.current, tp)
		delete(r.committed, tp)
	}
	r.publishAssignment()
}

// publishAssignment copies assigned for Assignment; call with mu held.
func (r *sinkRunner) publishAssignment() {
	list := r.assignedList()
	r.reqMu.Lock()
	r.assignment = list
	r.reqMu.Unlock()
}

func (r *sinkRunner) setPaused(paused bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.paused = paused
	parts := fromTPs(r.assignedList())
	if paused {
		r.cl.PauseFetchPartitions(parts)
	} else {
		r.cl.ResumeFetchPartitions(parts)
	}
}

// applyRequests carries out what the task asked for during Put and
// reports whether it asked for a commit.
func (r *sinkRunner) applyRequests() bool {
	r.reqMu.Lock()
	rewinds, pauses, resumes, commit := r.rewinds, r.pauseReq, r.resumeReq, r.commitReq
	r.rewinds, r.pauseReq, r.resumeReq, r.commitReq = map[connect.TopicPartition]int64{}, map[connect.TopicPartition]bool{}, map[connect.TopicPartition]bool{}, false
	r.batchConsumed = nil
	r.reqMu.Unlock()
	if len(rewinds) > 0 {
		set := map[string]map[int32]kgo.EpochOffset{}
		for tp, off := range rewinds {
			if !r.assigned[tp] {
				continue
			}
			if set[tp.Topic] == nil {
				set[tp.Topic] = map[int32]kgo.EpochOffset{}
			}
			set[tp.Topic][tp.Partition] = kgo.EpochOffset{Epoch: -1, Offset: off}
			r.current[tp] = off
		}
		r.cl.SetOffsets(set)
	}
	var p, q []connect.TopicPartition
	for tp := range pauses {
		p = append(p, tp)
	}
	for tp := range resumes {
		q = append(q, tp)
	}
	if len(p) > 0 {
		r.cl.PauseFetchPartitions(fromTPs(p))
	}
	if len(q) > 0 && !r.paused {
		r.cl.ResumeFetchPartitions(fromTPs(q))
	}
	return commit
}

// sinkTaskContext is the task's connect.SinkTaskContext.
type sinkTaskContext struct{ r *sinkRunner }

func (c sinkTaskContext) Assignment() []connect.TopicPartition {
	c.r.reqMu.Lock()
	defer c.r.reqMu.Unlock()
	return slices.Clone(c.r.assignment)
}

func (c sinkTaskContext) Rewind(offsets map[connect.TopicPartition]int64) {
	c.r.reqMu.Lock()
	defer c.r.reqMu.Unlock()
	for tp, off := range offsets {
		c.r.rewinds[tp] = off
	}
}

func (c sinkTaskContext) Pause(partitions ...connect.TopicPartition) {
	c.r.reqMu.Lock()
	defer c.r.reqMu.Unlock()
	for _, tp := range partitions {
		c.r.pauseReq[tp] = true
		delete(c.r.resumeReq, tp)
	}
}

func (c sinkTaskContext) Resume(partitions ...connect.TopicPartition) {
	c.r.reqMu.Lock()
	defer c.r.reqMu.Unlock()
	for _, tp := range partitions {
		c.r.resumeReq[tp] = true
		delete(c.r.pauseReq, tp)
	}
}

func (c sinkTaskContext) RequestCommit() {
	c.r.reqMu.Lock()
	defer c.r.reqMu.Unlock()
	c.r.commitReq = true
}

func (c sinkTaskContext) Report(ctx context.Context, record connect.SinkRecord, cause error) error {
	c.r.reqMu.Lock()
	kr := c.r.batchConsumed[record.Original][record.OriginalOffset]
	c.r.reqMu.Unlock()
	if kr == nil {
		return fmt.Errorf("report: record %s/%d@%d is not in the batch being delivered", record.Original.Topic, record.Original.Partition, record.OriginalOffset)
	}
	return c.r.tol.report(ctx, failure{stage: stageTaskPut, class: c.r.cc.Plugin.Class, err: cause, consumed: kr})
}

func (c sinkTaskContext) Logger() *slog.Logger { return c.r.log }

// commitResponseErr is the first error of an offset commit.
func commitResponseErr(resp *kmsg.OffsetCommitResponse, err error) error {
	if err != nil {
		return err
	}
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
				return err
			}
		}
	}
	return nil
}
