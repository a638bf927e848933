package runtime

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/tributary-streams/tributary/streams/internal/topology"
)

// instanceMetrics are the instance's counters; every field is read by
// other goroutines (Metrics, the Prometheus collector), so all are atomic.
type instanceMetrics struct {
	processed   atomic.Int64
	sent        atomic.Int64
	commits     atomic.Int64
	aborts      atomic.Int64
	commitNanos atomic.Int64
	// restoreBegan and restoreEnded bound the finished restorations
	// (unix nanoseconds).
	restoreBegan, restoreEnded atomic.Int64
}

// taskCounters are one task's counters on this instance, kept for as long
// as the instance runs: every incarnation of the task (after a rollback,
// or when it comes back after a rebalance) adds to the same ones, so they
// only grow, as Prometheus counters must.
type taskCounters struct {
	topology.Stats
	// restored counts changelog records applied while restoring the task
	// to run it, updated those applied while keeping it as a standby;
	// restoredBytes their keys' and values' bytes, both kinds.
	restored, updated, restoredBytes atomic.Int64
}

// taskCounterSet holds the counters of every task the instance has had.
type taskCounterSet struct {
	mu    sync.Mutex
	tasks map[topology.TaskID]*taskCounters
}

// of returns a task's counters, made on first use.
func (s *taskCounterSet) of(id topology.TaskID) *taskCounters {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tasks == nil {
		s.tasks = map[topology.TaskID]*taskCounters{}
	}
	c := s.tasks[id]
	if c == nil {
		c = &taskCounters{}
		s.tasks[id] = c
	}
	return c
}

// each calls fn for every task's counters.
func (s *taskCounterSet) each(fn func(topology.TaskID, *taskCounters)) {
	s.mu.Lock()
	all := make(map[topology.TaskID]*taskCounters, len(s.tasks))
	for id, c := range s.tasks {
		all[id] = c
	}
	s.mu.Unlock()
	for id, c := range all {
		fn(id, c)
	}
}

// Metrics is a snapshot of an instance's metrics.
type Metrics struct {
	// RecordsProcessed counts input records run through tasks.
	RecordsProcessed int64
	// RecordsSent counts records written to topics (outputs and
	// repartition topics; changelogs not included).
	RecordsSent int64
	Commits     int64
	// Aborts counts aborted transactions (exactly-once).
	Aborts         int64
	CommitLatency  time.Duration // mean
	LateDropped    int64
	Skipped        int64
	ProcessLatency time.Duration // mean per record
	Punctuations   int64
	PunctuateTime  time.Duration // mean per punctuation
	// RestoredRecords and RestoredBytes count changelog records applied
	// by restorations (standbys included).
	RestoredRecords int64
	RestoredBytes   int64
	// RestoreTime spans the finished restorations, from the first start to
	// the last end: RestoredBytes over it is the restore rate.
	RestoreTime time.Duration
	Tasks       []TaskMetrics
}

// TaskMetrics describe one task of this instance.
type TaskMetrics struct {
	ID    string
	State string // running, restoring, standby
	// Restored and ToRestore give a restoration's progress in records
	// and offsets.
	Restored, ToRestore int64
	// Lag is how many records of its input partitions are not yet
	// processed (running tasks), or how many changelog records its state
	// is behind (restoring and standby tasks).
	Lag int64
	// StoreBytes estimates the size of the task's state on disk.
	StoreBytes int64
}

// Metrics returns a snapshot.
func (in *Instance) Metrics() Metrics {
	m := Metrics{
		RecordsProcessed: in.metrics.processed.Load(),
		RecordsSent:      in.metrics.sent.Load(),
		Commits:          in.metrics.commits.Load(),
		Aborts:           in.metrics.aborts.Load(),
	}
	if b, e := in.metrics.restoreBegan.Load(), in.metrics.restoreEnded.Load(); b > 0 && e > b {
		m.RestoreTime = time.Duration(e - b)
	}
	if m.Commits > 0 {
		m.CommitLatency = time.Duration(in.metrics.commitNanos.Load() / m.Commits)
	}
	var procNanos, punctNanos int64
	in.counters.each(func(_ topology.TaskID, c *taskCounters) {
		m.LateDropped += c.Late.Load()
		m.Skipped += c.Skipped.Load()
		m.Punctuations += c.Punctuations.Load()
		procNanos += c.ProcessNanos.Load()
		punctNanos += c.PunctuateNanos.Load()
		m.RestoredRecords += c.restored.Load() + c.updated.Load()
		m.RestoredBytes += c.restoredBytes.Load()
	})
	if m.RecordsProcessed > 0 {
		m.ProcessLatency = time.Duration(procNanos / m.RecordsProcessed)
	}
	if m.Punctuations > 0 {
		m.PunctuateTime = time.Duration(punctNanos / m.Punctuations)
	}
	o := in.owned.Load()
	if o == nil {
		return m
	}
	for _, id := range o.active {
		tm := TaskMetrics{ID: id.String(), State: "running", Lag: in.lag(id)}
		tm.StoreBytes = in.shardSize(id.String())
		m.Tasks = append(m.Tasks, tm)
	}
	for id, r := range o.restored {
		tm := TaskMetrics{ID: id, State: r.state(), Restored: r.restored.Load(), ToRestore: r.total.Load(), Lag: r.lag.Load()}
		tm.StoreBytes = in.shardSize(id)
		m.Tasks = append(m.Tasks, tm)
	}
	return m
}

// state is the state of a restoration's task, as metrics name it.
func (r *restoration) state() string {
	if r.standby {
		return "standby"
	}
	return "restoring"
}

// stateEngine guards the state engine's size estimates, which metrics
// read from other goroutines, against its closing at the end of Run.
type stateEngine struct {
	sync.RWMutex
	closed bool
}

// shardSize estimates a shard's bytes, 0 when unknown or closed.
func (in *Instance) shardSize(shard string) int64 {
	in.engineMu.RLock()
	defer in.engineMu.RUnlock()
	if in.engine == nil || in.engineMu.closed {
		return 0
	}
	n, _ := in.engine.Size(shard)
	return n
}

// storeSize estimates one store's bytes in a shard, and whether it is
// known.
func (in *Instance) storeSize(shard, store string) (int64, bool) {
	in.engineMu.RLock()
	defer in.engineMu.RUnlock()
	if in.engine == nil || in.engineMu.closed {
		return 0, false
	}
	n, err := in.engine.StoreSize(shard, store)
	return n, err == nil
}

// closeEngine closes the state engine once no size estimate uses it.
func (in *Instance) closeEngine() error {
	in.engineMu.Lock()
	defer in.engineMu.Unlock()
	in.engineMu.closed = true
	return in.engine.Close()
}
