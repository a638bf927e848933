package runtime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/internal/fsutil"
	"github.com/tributary-streams/tributary/internal/kgolog"
	"github.com/tributary-streams/tributary/streams/internal/topology"
	"github.com/tributary-streams/tributary/streams/state"
)

// Config is what the streams package resolved from its options.
type Config struct {
	App            string
	Bootstrap      []string
	StateDir       string // the application's own: <state.dir>/<application.id>
	ExactlyOnce    bool
	CommitInterval time.Duration
	// RepartitionPurgeInterval is repartition.purge.interval.ms.
	RepartitionPurgeInterval time.Duration
	Standbys                 int
	QueryListen              string
	MetricsListen            string
	MemoryBudget             int64
	CacheBytes               int64
	Logger                   *slog.Logger
	OnDeserializationError   func(ctx *topology.Context, in *topology.Input, err error) error
	ClientOpts               []kgo.Opt
	SessionTimeout           time.Duration
	TxnTimeout               time.Duration
	MaxPollRecords           int
	Replication              int
	Now                      func() int64
	// OnRunning is called once the instance has joined the group and
	// runs (for tests and the App's state).
	OnRunning func()
}

// Instance is one running member of a streams application.
type Instance struct {
	cfg       Config
	g         *topology.Graph
	log       *slog.Logger
	ctx       context.Context
	processID string

	admin   *kadm.Client
	adminCl *kgo.Client
	engine  *state.Pebble
	layout  *layout
	bal     *balancer
	cl      *kgo.Client
	sess    *kgo.GroupTransactSession
	prod    *producer
	global  *globalFeed
	query   *queryServer
	purge   *purger

	// mu guards the tasks. The poll loop holds it while it processes and
	// commits; the rebalance callbacks take it, and with
	// BlockRebalanceOnPoll they run only while the loop waits in a poll or
	// between AllowRebalance and the next poll, so they never wait long.
	mu         sync.Mutex
	active     map[topology.TaskID]*activeTask
	standbys   map[topology.TaskID]*restoration
	rebalanced bool // exactly-once: the session saw a revocation since the last End
	inTxn      bool // exactly-once: a transaction is open
	closing    bool // shutdown began: assignments are not taken any more
	fatal      error

	owned    atomic.Pointer[ownership]
	metrics  instanceMetrics
	counters taskCounterSet // every task's counters, closed ones too
	prom     *promMetrics
	engineMu stateEngine
	// lagMu guards the positions and ends of the running tasks' input
	// partitions as of their last fetch: the high watermarks, or the last
	// stable offsets under exactly-once (read_committed).
	lagMu sync.Mutex
	hwm   map[topicPartition]int64
	pos   map[topicPartition]int64
}

// activeTask is a task assigned to this instance: restoring, then running.
type activeTask struct {
	id      topology.TaskID
	shard   *state.Shard
	task    *topology.Task // nil while restoring
	restore *restoration
	parts   map[string][]int32
}

// ownership is what this instance owns, published for queries and
// metrics (which read it from other goroutines).
type ownership struct {
	active   []topology.TaskID
	standby  []topology.TaskID
	owners   map[string]string
	restored map[string]*restoration
}

// streamTimeKey is the checkpoint key under which a task's stream time is
// kept: not a topic name (topics cannot contain NUL), so it never clashes.
const streamTimeKey = "\x00stream-time"

// New checks what it can before Run.
func New(g *topology.Graph, cfg Config) (*Instance, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = func() int64 { return time.Now().UnixMilli() }
	}
	in := &Instance{cfg: cfg, g: g, log: cfg.Logger.With("application_id", cfg.App),
		active: map[topology.TaskID]*activeTask{}, standbys: map[topology.TaskID]*restoration{},
		hwm: map[topicPartition]int64{}, pos: map[topicPartition]int64{}}
	in.prom = newPromMetrics(in)
	return in, nil
}

func timeOf(ms int64) time.Time { return time.UnixMilli(ms) }

func (in *Instance) clientOpts() []kgo.Opt {
	opts := []kgo.Opt{kgo.SeedBrokers(in.cfg.Bootstrap...), kgo.WithLogger(kgolog.New(in.log.With("component", "kgo")))}
	return append(opts, in.cfg.ClientOpts...)
}

// loadProcessID is this state directory's instance id, kept across restarts:
// it names the transactional id, so that a restarted instance fences the
// transactions of its previous life.
func loadProcessID(dir string) (string, error) {
	path := filepath.Join(dir, "process-id")
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) == 32 {
		return strings.TrimSpace(string(b)), nil
	}
	var raw [16]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	id := hex.EncodeToString(raw[:])
	if err := fsutil.WriteFileAtomic(path, []byte(id+"\n")); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return id, nil
}

// Run runs the instance until ctx ends or it fails; then it commits what
// it processed, closes its tasks and leaves the group.
func (in *Instance) Run(ctx context.Context) (err error) {
	in.ctx = ctx
	if err := os.MkdirAll(in.cfg.StateDir, 0o755); err != nil {
		return fmt.Errorf("streams: state dir: %w", err)
	}
	if in.processID, err = loadProcessID(in.cfg.StateDir); err != nil {
		return fmt.Errorf("streams: process id: %w", err)
	}
	engine, err := state.OpenPebble(filepath.Join(in.cfg.StateDir, "state"), state.PebbleOptions{MemoryBudget: in.cfg.MemoryBudget, Logger: in.log})
	if err != nil {
		return fmt.Errorf("streams: %w", err)
	}
	in.engineMu.Lock()
	in.engine = engine
	in.engineMu.Unlock()
	defer func() {
		if cerr := in.closeEngine(); cerr != nil && err == nil {
			err = fmt.Errorf("streams: close state: %w", cerr)
		}
	}()
	if in.cfg.MetricsListen != "" {
		srv, err := in.startMetricsServer()
		if err != nil {
			return err
		}
		defer shutdown(srv)
	}
	if in.adminCl, err = kgo.NewClient(in.clientOpts()...); err != nil {
		return fmt.Errorf("streams: admin client: %w", err)
	}
	defer in.adminCl.Close()
	in.admin = kadm.NewClient(in.adminCl)
	if err := in.prepareTopics(ctx); err != nil {
		return err
	}
	if len(in.g.Globals) > 0 {
		if in.global, err = in.startGlobal(ctx); err != nil {
			return err
		}
		defer in.global.stop()
	}
	if in.cfg.QueryListen != "" {
		if in.query, err = in.startQueryServer(); err != nil {
			return err
		}
		defer in.query.close()
	}
	if err := in.join(); err != nil {
		return err
	}
	in.log.Info("streams instance started", "process", in.processID, "guarantee", map[bool]string{false: "at_least_once", true: "exactly_once_v2"}[in.cfg.ExactlyOnce],
		"subtopologies", len(in.g.Subtopologies), "sources", in.layout.sourceTopics())
	if in.cfg.OnRunning != nil {
		in.cfg.OnRunning()
	}
	runErr := in.loop(ctx)
	closeErr := in.shutdown()
	in.purge.wait()
	if runErr != nil {
		return runErr
	}
	return closeErr
}

// prepareTopics resolves the layout and creates the internal topics.
func (in *Instance) prepareTopics(ctx context.Context) error {
	var user []string
	for _, st := range in.g.Subtopologies {
		for _, t := range st.Sources {
			if _, internal := in.g.Internal[t]; !internal {
				user = append(user, t)
			}
		}
	}
	user = append(user, in.g.GlobalTopics()...)
	slices.Sort(user)
	user = slices.Compact(user)
	counts := map[string]int32{}
	if len(user) > 0 {
		details, err := in.admin.ListTopics(ctx, user...)
		if err != nil {
			return fmt.Errorf("streams: describe source topics: %w", err)
		}
		for _, d := range details {
			if d.Err == nil {
				counts[d.Topic] = int32(len(d.Partitions))
			}
		}
	}
	l, err := resolveLayout(in.g, in.cfg.App, counts)
	if err != nil {
		return err
	}
	in.layout = l
	in.purge = newPurger(in)
	specs := l.internalTopics(in.g)
	for _, s := range specs {
		resp, err := in.admin.CreateTopic(ctx, s.partitions, int16(in.cfg.Replication), s.configs, s.name)
		if err == nil {
			err = resp.Err
		}
		if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("streams: create internal topic %s: %w", s.name, err)
		}
	}
	if len(specs) == 0 {
		return nil
	}
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = s.name
	}
	details, err := in.admin.ListTopics(ctx, names...)
	if err != nil {
		return fmt.Errorf("streams: describe internal topics: %w", err)
	}
	for _, s := range specs {
		d, ok := details[s.name]
		if !ok || d.Err != nil {
			return fmt.Errorf("streams: internal topic %s is missing after creating it", s.name)
		}
		if int32(len(d.Partitions)) != s.partitions {
			return fmt.Errorf("streams: internal topic %s has %d partitions, but the topology needs %d; "+
				"delete it (and reset the application) or fix the input topics", s.name, len(d.Partitions), s.partitions)
		}
	}
	return nil
}

// join creates the group client (the transactional session under
// exactly-once).
func (in *Instance) join() error {
	changelogs := map[string]bool{}
	for t := range in.layout.changelogs {
		changelogs[t] = true
	}
	in.bal = &balancer{layout: in.layout, g: in.g, standbys: in.cfg.Standbys, local: in.memberInfo}
	opts := append(in.clientOpts(),
		kgo.ConsumerGroup(in.cfg.App),
		kgo.ConsumeTopics(in.layout.sourceTopics()...),
		kgo.Balancers(in.bal),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.SessionTimeout(in.cfg.SessionTimeout),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), // auto.offset.reset=earliest, as Kafka Streams
		kgo.RecordPartitioner(partitioner{manual: changelogs}),
		kgo.OnPartitionsAssigned(in.onAssigned),
		kgo.OnPartitionsRevoked(in.onRevoked),
		kgo.OnPartitionsLost(in.onLost),
		kgo.FetchMaxWait(100*time.Millisecond),
	)
	var err error
	if in.cfg.ExactlyOnce {
		opts = append(opts,
			kgo.TransactionalID(in.cfg.App+"-"+in.processID),
			kgo.TransactionTimeout(in.cfg.TxnTimeout),
			kgo.FetchIsolationLevel(kgo.ReadCommitted()),
			kgo.RequireStableFetchOffsets(),
		)
		in.sess, err = kgo.NewGroupTransactSession(opts...)
		if err == nil {
			in.cl = in.sess.Client()
		}
	} else {
		in.cl, err = kgo.NewClient(opts...)
	}
	if err != nil {
		return fmt.Errorf("streams: group client: %w", err)
	}
	produce := in.cl.Produce
	if in.sess != nil {
		produce = in.sess.Produce
	}
	in.prod = newProducer(context.Background(), changelogs, func(ctx context.Context, r *kgo.Record, promise func(*kgo.Record, error)) {
		if err := in.begin(); err != nil {
			promise(r, err)
			return
		}
		produce(ctx, r, promise)
	})
	return nil
}

// memberInfo is what this instance tells the group leader.
func (in *Instance) memberInfo() memberInfo {
	info := memberInfo{Process: in.processID}
	if in.query != nil {
		info.Endpoint = in.query.addr
	}
	cps, err := in.engine.Checkpoints()
	if err == nil {
		for shard := range cps {
			if _, err := topology.ParseTaskID(shard); err == nil {
				info.Local = append(info.Local, shard)
			}
		}
	}
	return info
}

// loop polls, processes and commits until ctx ends.
func (in *Instance) loop(ctx context.Context) error {
	lastCommit := time.Now()
	dirty := false
	var sent int64
	for {
		if ctx.Err() != nil {
			return nil
		}
		// Poll until the next commit is due (or a while, for wall-clock
		// punctuators), not forever: work waits in caches for it.
		wait := pollWait
		if dirty {
			wait = min(wait, max(time.Millisecond, in.cfg.CommitInterval-time.Since(lastCommit)))
		}
		pctx, cancel := context.WithTimeout(ctx, wait)
		var fs kgo.Fetches
		if in.sess != nil {
			fs = in.sess.PollRecords(pctx, in.cfg.MaxPollRecords)
		} else {
			fs = in.cl.PollRecords(pctx, in.cfg.MaxPollRecords)
		}
		cancel()
		if fs.IsClientClosed() {
			return nil
		}
		// Records a poll returned are processed even when ctx ended
		// meanwhile: the poll counted them as consumed, and the final
		// commit would commit their offsets.
		var ferr error
		fs.EachError(func(t string, p int32, err error) {
			if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) && ferr == nil {
				ferr = fmt.Errorf("streams: fetch %s/%d: %w", t, p, err)
			}
		})
		if ferr != nil {
			in.log.Warn("fetch error", "error", ferr)
		}
		in.mu.Lock()
		if in.fatal != nil {
			err := in.fatal
			in.mu.Unlock()
			return err
		}
		if in.sess != nil && in.rebalanced && ctx.Err() == nil {
			// The session aborts a transaction that saw a revocation (or a
			// loss). End it now, which resets the positions to the committed
			// offsets, roll the tasks back to their last commit, and fetch
			// again.
			in.rebalanced = false
			if _, err := in.sess.End(ctx, kgo.TryAbort); err != nil {
				in.mu.Unlock()
				return fmt.Errorf("streams: reset transaction after a rebalance: %w", err)
			}
			if in.inTxn {
				in.inTxn = false
				in.metrics.aborts.Add(1)
				if err := in.rollback(); err != nil {
					in.mu.Unlock()
					return err
				}
				dirty = false
			}
			in.prod.firstErr() // errors of the aborted records
			in.mu.Unlock()
			in.sess.AllowRebalance()
			continue
		}
		if err := in.activateRestored(); err != nil {
			in.mu.Unlock()
			return err
		}
		if !fs.Empty() {
			// Consumed offsets commit in a transaction, even when nothing
			// is produced.
			if err := in.begin(); err != nil {
				in.mu.Unlock()
				return err
			}
		}
		n, err := in.process(fs)
		if err == nil {
			err = in.punctuateWallClock()
		}
		if err != nil {
			in.mu.Unlock()
			return err
		}
		if s := in.metrics.sent.Load(); n > 0 || s != sent {
			dirty, sent = true, s
		}
		// Under exactly-once, what is to commit is the open transaction.
		pending := dirty
		if in.sess != nil {
			pending = in.inTxn
		}
		if pending && (time.Since(lastCommit) >= in.cfg.CommitInterval || in.stagedTooMuch()) {
			// A commit runs to its end even when Run's context ends
			// meanwhile: shutdown commits next anyway.
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), commitTimeout)
			if in.sess != nil {
				err = in.commitTransaction(cctx)
			} else {
				err = in.commitAll(cctx)
			}
			cancel()
			if err != nil {
				in.mu.Unlock()
				return err
			}
			// What the commit's flush sent was committed with it.
			dirty, sent = false, in.metrics.sent.Load()
			lastCommit = time.Now()
		}
		in.maybePurge()
		inTxn := in.inTxn
		in.mu.Unlock()
		if in.sess != nil {
			if !inTxn {
				in.sess.AllowRebalance()
			}
		} else {
			in.cl.AllowRebalance()
		}
	}
}

// commitTimeout bounds one commit.
const commitTimeout = time.Minute

// pollWait is the longest a poll waits for records: how often wall-clock
// punctuators and finished restorations are looked at when no records
// come.
const pollWait = 100 * time.Millisecond

// stagedTooMuch asks for an early commit when a task's staged writes grow
// past a quarter of the memory budget.
func (in *Instance) stagedTooMuch() bool {
	limit := in.cfg.MemoryBudget / 4
	if limit <= 0 {
		limit = 16 << 20
	}
	for _, at := range in.active {
		if at.task != nil && int64(at.shard.Staged()) > limit {
			return true
		}
	}
	return false
}

// begin opens a transaction under exactly-once if none is open: before
// processing polled records, and before anything is produced (a
// wall-clock punctuator may produce between polls). The caller holds mu.
func (in *Instance) begin() error {
	if in.sess == nil || in.inTxn {
		return nil
	}
	if err := in.sess.Begin(); err != nil {
		return fmt.Errorf("streams: begin transaction: %w", err)
	}
	in.inTxn = true
	return nil
}

// process runs a poll's records through their tasks. A task with several
// input partitions takes their records in timestamp order, as Kafka
// Streams does with what it has buffered.
func (in *Instance) process(fs kgo.Fetches) (int, error) {
	type queue struct{ recs []*kgo.Record }
	byTask := map[topology.TaskID][]*queue{}
	var rewind map[string]map[int32]kgo.EpochOffset
	fs.EachPartition(func(p kgo.FetchTopicPartition) {
		if len(p.Records) == 0 {
			return
		}
		id := topology.TaskID{Subtopology: in.layout.byTopic[p.Topic], Partition: p.Partition}
		at := in.active[id]
		if at == nil || at.task == nil {
			// Not ours to process yet (restoring) or any more: fetch it
			// again from here when it is.
			if rewind == nil {
				rewind = map[string]map[int32]kgo.EpochOffset{}
			}
			if rewind[p.Topic] == nil {
				rewind[p.Topic] = map[int32]kgo.EpochOffset{}
			}
			rewind[p.Topic][p.Partition] = kgo.EpochOffset{Epoch: -1, Offset: p.Records[0].Offset}
			return
		}
		byTask[id] = append(byTask[id], &queue{recs: p.Records})
		tp := topicPartition{p.Topic, p.Partition}
		end := p.HighWatermark
		if in.sess != nil && p.LastStableOffset >= 0 {
			end = p.LastStableOffset // read_committed reads up to here
		}
		in.lagMu.Lock()
		in.hwm[tp], in.pos[tp] = end, p.Records[len(p.Records)-1].Offset+1
		in.lagMu.Unlock()
	})
	if rewind != nil {
		in.cl.SetOffsets(rewind)
	}
	n := 0
	var in0 topology.Input
	for id, queues := range byTask {
		t := in.active[id].task
		start := time.Now()
		for {
			var q *queue
			for _, c := range queues {
				if len(c.recs) > 0 && (q == nil || c.recs[0].Timestamp.Before(q.recs[0].Timestamp)) {
					q = c
				}
			}
			if q == nil {
				break
			}
			r := q.recs[0]
			q.recs = q.recs[1:]
			in0 = topology.Input{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Key: r.Key, Value: r.Value,
				Timestamp: r.Timestamp.UnixMilli()}
			if len(r.Headers) > 0 {
				in0.Headers = make([]topology.Header, len(r.Headers))
				for i, h := range r.Headers {
					in0.Headers[i] = topology.Header{Key: h.Key, Value: h.Value}
				}
			}
			if err := t.Process(&in0); err != nil {
				return n, fmt.Errorf("streams: task %s: %w", id, err)
			}
			n++
		}
		t.Stats().ProcessNanos.Add(int64(time.Since(start)))
	}
	in.metrics.processed.Add(int64(n))
	return n, nil
}

func (in *Instance) punctuateWallClock() error {
	now := in.cfg.Now()
	for id, at := range in.active {
		if at.task == nil {
			continue
		}
		if err := at.task.PunctuateWallClock(now); err != nil {
			return fmt.Errorf("streams: task %s: %w", id, err)
		}
	}
	return nil
}

// flushTasks empties every running task's caches downstream.
func (in *Instance) flushTasks() error {
	for _, at := range in.active {
		if at.task != nil {
			if err := at.task.Flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkpoints are a task's changelog offsets after its records were
// acknowledged: for each logged store, one past its last changelog
// record; and its stream time.
func (in *Instance) checkpoints(at *activeTask) map[string]int64 {
	cps := map[string]int64{streamTimeKey: at.task.StreamTime()}
	for _, topic := range at.task.Changelogs() {
		if off := in.prod.lastOffset(topic, at.id.Partition); off >= 0 {
			cps[topic] = off + 1
		}
	}
	return cps
}

// commitShards makes each running task's state durable with the changelog
// offsets it covers.
func (in *Instance) commitShards() error {
	for id, at := range in.active {
		if at.task == nil {
			continue
		}
		if err := at.shard.Commit(in.checkpoints(at)); err != nil {
			return fmt.Errorf("streams: task %s: %w", id, err)
		}
	}
	return nil
}

// commitAll is the at-least-once commit: caches flushed, every record
// acknowledged, state written with its changelog offsets, and only then
// the input offsets committed.
func (in *Instance) commitAll(ctx context.Context) error {
	start := time.Now()
	if err := in.flushTasks(); err != nil {
		return err
	}
	if err := in.cl.Flush(ctx); err != nil {
		return fmt.Errorf("streams: flush: %w", err)
	}
	if err := in.prod.firstErr(); err != nil {
		return fmt.Errorf("streams: produce: %w", err)
	}
	if err := in.commitShards(); err != nil {
		return err
	}
	if err := in.cl.CommitUncommittedOffsets(ctx); err != nil && ctx.Err() == nil {
		// The records are processed again by whoever owns them next:
		// at-least-once allows it.
		in.log.Warn("commit offsets", "error", err)
	}
	in.observeCommit(time.Since(start))
	return nil
}

// commitTransaction is the exactly-once commit: caches flushed into the
// transaction, which commits the outputs, changelog records and input
// offsets together; state is written after it commits. An aborted
// transaction rolls every task back to its last commit.
func (in *Instance) commitTransaction(ctx context.Context) error {
	start := time.Now()
	if err := in.flushTasks(); err != nil {
		return err
	}
	committed, err := in.sess.End(ctx, kgo.TryCommit)
	in.inTxn = false
	if err != nil {
		return fmt.Errorf("streams: end transaction: %w", err)
	}
	perr := in.prod.firstErr()
	if !committed || perr != nil {
		in.log.Info("transaction aborted; rolling tasks back to their last commit", "produce_error", perr)
		in.metrics.aborts.Add(1)
		return in.rollback()
	}
	if err := in.commitShards(); err != nil {
		return err
	}
	in.observeCommit(time.Since(start))
	return nil
}

func (in *Instance) observeCommit(d time.Duration) {
	in.metrics.commits.Add(1)
	in.metrics.commitNanos.Add(int64(d))
	in.prom.commitLatency.Observe(d.Seconds())
}

// rollback rebuilds every running task from its shard's last commit,
// dropping staged writes and caches.
func (in *Instance) rollback() error {
	for id, at := range in.active {
		if at.task == nil {
			continue
		}
		at.task.Close()
		at.shard.Abort()
		at.shard.ReleaseStores()
		t, err := in.newTask(id, at.shard)
		if err != nil {
			return err
		}
		at.task = t
	}
	return nil
}

// newTask builds a task's processors over its (restored) shard.
func (in *Instance) newTask(id topology.TaskID, shard *state.Shard) (*topology.Task, error) {
	env := &topology.Env{App: in.cfg.App, Shard: shard, Output: (*countingOutput)(in), CacheBytes: in.cacheShare(),
		OnDeserializationError: in.cfg.OnDeserializationError, Now: in.cfg.Now, Logger: in.log.With("task", id.String()),
		Stats: &in.counters.of(id).Stats,
		Changelog: func(store string) state.Changelog {
			return &changelog{p: in.prod, topic: topology.ChangelogTopic(in.cfg.App, store), partition: id.Partition, now: in.cfg.Now}
		}}
	if in.global != nil {
		view, err := in.engine.View("global")
		if err != nil {
			return nil, err
		}
		env.Global = view
	}
	t, err := topology.NewTask(in.g, id, env)
	if err != nil {
		return nil, err
	}
	if st, ok, err := shard.Checkpoint(streamTimeKey); err == nil && ok {
		t.SetStreamTime(st)
	}
	return t, nil
}

// lag is how far a task's processing is behind its partitions' ends, as
// of the last fetch.
func (in *Instance) lag(id topology.TaskID) int64 {
	var lag int64
	in.lagMu.Lock()
	defer in.lagMu.Unlock()
	for _, t := range in.g.Subtopologies[id.Subtopology].Sources {
		tp := topicPartition{in.g.TopicName(in.cfg.App, t), id.Partition}
		if h, ok := in.hwm[tp]; ok {
			lag += max(0, h-in.pos[tp])
		}
	}
	return lag
}

// countingOutput counts what tasks send, so the loop knows when there is
// something to commit.
type countingOutput Instance

func (c *countingOutput) Send(topic string, partition int32, key, value []byte, ts int64, headers []topology.Header) {
	in := (*Instance)(c)
	in.metrics.sent.Add(1)
	in.prod.Send(topic, partition, key, value, ts, headers)
}

// cacheShare splits the record cache between the tasks.
func (in *Instance) cacheShare() int {
	n := int64(len(in.active))
	if n < 1 {
		n = 1
	}
	return int(in.cfg.CacheBytes / n)
}

// tasksOf groups partitions into the tasks they belong to.
func (in *Instance) tasksOf(parts map[string][]int32) map[topology.TaskID]map[string][]int32 {
	out := map[topology.TaskID]map[string][]int32{}
	for topic, ps := range parts {
		sub, ok := in.layout.byTopic[topic]
		if !ok {
			continue
		}
		for _, p := range ps {
			id := topology.TaskID{Subtopology: sub, Partition: p}
			if out[id] == nil {
				out[id] = map[string][]int32{}
			}
			out[id][topic] = append(out[id][topic], p)
		}
	}
	return out
}

func (in *Instance) onAssigned(_ context.Context, cl *kgo.Client, assigned map[string][]int32) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.closing {
		// Leaving the group lets a pending rebalance finish: what it
		// assigns is not taken, as the instance is going away.
		return
	}
	for id, parts := range in.tasksOf(assigned) {
		if at := in.active[id]; at != nil {
			for t, ps := range parts {
				at.parts[t] = append(at.parts[t], ps...)
			}
			continue
		}
		if err := in.assign(cl, id, parts); err != nil {
			in.fail(err)
			return
		}
	}
	in.syncStandbys()
	in.publish()
}

// assign takes a task on: restore its state first when it has any.
func (in *Instance) assign(cl *kgo.Client, id topology.TaskID, parts map[string][]int32) error {
	if r := in.standbys[id]; r != nil {
		// Promotion: the standby's shard is warm; restore what is left.
		if err := r.stop(); err != nil {
			in.log.Warn("standby failed before promotion", "task", id.String(), "error", err)
		}
		r.shard.Close()
		delete(in.standbys, id)
	}
	shard, err := in.engine.Shard(id.String())
	if err != nil {
		return fmt.Errorf("streams: task %s: %w", id, err)
	}
	at := &activeTask{id: id, shard: shard, parts: parts}
	in.active[id] = at
	r, err := in.restoration(id, shard, false)
	if err != nil {
		return err
	}
	if r == nil {
		at.task, err = in.newTask(id, shard)
		return err
	}
	at.restore = r
	cl.PauseFetchPartitions(parts)
	in.startRestore(r)
	in.log.Info("restoring task", "task", id.String())
	return nil
}

// restoration prepares the restoration of a shard's logged stores, or
// returns nil when the task has none.
func (in *Instance) restoration(id topology.TaskID, shard *state.Shard, standby bool) (*restoration, error) {
	stores, err := topology.OpenStores(in.g, id.Subtopology, shard, nil)
	if err != nil {
		return nil, fmt.Errorf("streams: task %s: %w", id, err)
	}
	r := &restoration{shard: shard, partition: id.Partition, stores: map[string]restorable{}, standby: standby,
		counters: in.counters.of(id)}
	for name, s := range stores {
		if in.g.Stores[name].Logged {
			r.stores[topology.ChangelogTopic(in.cfg.App, name)] = s.(restorable)
		}
	}
	if len(r.stores) == 0 {
		shard.ReleaseStores()
		return nil, nil
	}
	return r, nil
}

// activateRestored turns tasks whose restoration finished into running
// tasks and resumes their partitions.
func (in *Instance) activateRestored() error {
	for id, at := range in.active {
		if at.restore == nil {
			continue
		}
		done, err := at.restore.finished()
		if !done {
			continue
		}
		if err != nil {
			return fmt.Errorf("streams: restore task %s: %w", id, err)
		}
		if b := at.restore.began.Load(); in.metrics.restoreBegan.Load() == 0 || b < in.metrics.restoreBegan.Load() {
			in.metrics.restoreBegan.Store(b)
		}
		in.metrics.restoreEnded.Store(max(in.metrics.restoreEnded.Load(), at.restore.ended.Load()))
		at.restore = nil
		at.shard.ReleaseStores()
		t, err := in.newTask(id, at.shard)
		if err != nil {
			return err
		}
		at.task = t
		in.cl.ResumeFetchPartitions(at.parts)
		in.log.Info("task restored and running", "task", id.String())
	}
	in.publish()
	return nil
}

// release closes a task that left this instance. Its shard's data stays:
// if the task comes back, it restores only what it missed.
func (in *Instance) release(cl *kgo.Client, id topology.TaskID) {
	at := in.active[id]
	if at == nil {
		return
	}
	delete(in.active, id)
	if at.restore != nil {
		if err := at.restore.stop(); err != nil {
			in.log.Warn("restore stopped", "task", id.String(), "error", err)
		}
	}
	if at.task != nil {
		at.task.Close()
	}
	at.shard.Close()
	cl.ResumeFetchPartitions(at.parts)
	in.lagMu.Lock()
	for t, ps := range at.parts {
		for _, p := range ps {
			delete(in.hwm, topicPartition{t, p})
			delete(in.pos, topicPartition{t, p})
		}
	}
	in.lagMu.Unlock()
	in.log.Info("task released", "task", id.String())
}

func (in *Instance) onRevoked(ctx context.Context, cl *kgo.Client, revoked map[string][]int32) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if len(revoked) == 0 {
		return
	}
	if in.sess != nil {
		in.rebalanced = true
	} else if err := in.commitAll(ctx); err != nil {
		in.fail(err)
	}
	for id := range in.tasksOf(revoked) {
		in.release(cl, id)
	}
	in.publish()
}

func (in *Instance) onLost(_ context.Context, cl *kgo.Client, lost map[string][]int32) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.rebalanced = true
	for id := range in.tasksOf(lost) {
		in.release(cl, id)
	}
	in.publish()
}

// fail records a fatal error for the loop to return; the caller holds mu.
func (in *Instance) fail(err error) {
	if in.fatal == nil {
		in.fatal = err
	}
}

// syncStandbys starts and stops standby restorations to match the latest
// assignment; the caller holds mu.
func (in *Instance) syncStandbys() {
	want := map[topology.TaskID]bool{}
	for _, s := range in.bal.lastAssignment().Standby {
		id, err := topology.ParseTaskID(s)
		if err != nil || id.Subtopology >= len(in.g.Subtopologies) || in.active[id] != nil {
			continue
		}
		want[id] = true
	}
	for id, r := range in.standbys {
		if !want[id] {
			r.stop()
			r.shard.Close()
			delete(in.standbys, id)
		}
	}
	for id := range want {
		if in.standbys[id] != nil {
			continue
		}
		shard, err := in.engine.Shard(id.String())
		if err != nil {
			in.log.Warn("standby", "task", id.String(), "error", err)
			continue
		}
		r, err := in.restoration(id, shard, true)
		if err != nil || r == nil {
			shard.Close()
			continue
		}
		in.standbys[id] = r
		in.startRestore(r)
	}
}

// publish records what this instance owns, for queries and metrics; the
// caller holds mu.
func (in *Instance) publish() {
	o := &ownership{owners: in.bal.lastAssignment().Owners, restored: map[string]*restoration{}}
	for id, at := range in.active {
		if at.task != nil {
			o.active = append(o.active, id)
		}
		if at.restore != nil {
			o.restored[id.String()] = at.restore
		}
	}
	for id, r := range in.standbys {
		o.standby = append(o.standby, id)
		o.restored[id.String()] = r
	}
	in.owned.Store(o)
}

// shutdown commits what was processed, closes the tasks and leaves the
// group.
func (in *Instance) shutdown() error {
	ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
	defer cancel()
	in.mu.Lock()
	in.closing = true
	var err error
	if in.fatal == nil {
		if in.sess != nil {
			if in.inTxn {
				err = in.commitTransaction(ctx)
			}
		} else {
			err = in.commitAll(ctx)
		}
	}
	for id := range in.active {
		in.release(in.cl, id)
	}
	for id, r := range in.standbys {
		r.stop()
		r.shard.Close()
		delete(in.standbys, id)
	}
	in.mu.Unlock()
	if in.sess != nil {
		in.sess.CloseAllowingRebalance()
	} else {
		in.cl.CloseAllowingRebalance()
	}
	// Closing the client ran its last callbacks: nothing is left to
	// release, but make sure no shard stays open.
	in.mu.Lock()
	for id := range in.active {
		in.release(in.cl, id)
	}
	in.mu.Unlock()
	if err != nil {
		return fmt.Errorf("streams: final commit: %w", err)
	}
	return nil
}
