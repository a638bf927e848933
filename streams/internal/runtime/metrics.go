package runtime

import (
	"sync/atomic"
	"time"
)

// instanceMetrics are the instance's counters; every field is read by
// other goroutines (Metrics), so all are atomic.
type instanceMetrics struct {
	processed       atomic.Int64
	sent            atomic.Int64
	commits         atomic.Int64
	aborts          atomic.Int64
	commitNanos     atomic.Int64
	restoredRecords atomic.Int64
	restoredBytes   atomic.Int64
	// restoreBegan and restoreEnded bound the finished restorations
	// (unix nanoseconds).
	restoreBegan, restoreEnded atomic.Int64
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
	// by finished and running restorations (standbys included).
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
		RestoredRecords:  in.metrics.restoredRecords.Load(),
		RestoredBytes:    in.metrics.restoredBytes.Load(),
	}
	if b, e := in.metrics.restoreBegan.Load(), in.metrics.restoreEnded.Load(); b > 0 && e > b {
		m.RestoreTime = time.Duration(e - b)
	}
	if m.Commits > 0 {
		m.CommitLatency = time.Duration(in.metrics.commitNanos.Load() / m.Commits)
	}
	o := in.owned.Load()
	if o == nil {
		return m
	}
	for _, r := range o.restored {
		m.RestoredRecords += r.restored.Load()
		m.RestoredBytes += r.bytes.Load()
	}
	stats := in.taskStats.Load()
	var procNanos, punctNanos int64
	if stats != nil {
		for _, s := range *stats {
			m.LateDropped += s.Late.Load()
			m.Skipped += s.Skipped.Load()
			m.Punctuations += s.Punctuations.Load()
			procNanos += s.ProcessNanos.Load()
			punctNanos += s.PunctuateNanos.Load()
		}
	}
	if m.RecordsProcessed > 0 {
		m.ProcessLatency = time.Duration(procNanos / m.RecordsProcessed)
	}
	if m.Punctuations > 0 {
		m.PunctuateTime = time.Duration(punctNanos / m.Punctuations)
	}
	for _, id := range o.active {
		tm := TaskMetrics{ID: id.String(), State: "running", Lag: in.lag(id)}
		tm.StoreBytes, _ = in.engine.Size(id.String())
		m.Tasks = append(m.Tasks, tm)
	}
	for id, r := range o.restored {
		state := "restoring"
		if r.standby {
			state = "standby"
		}
		tm := TaskMetrics{ID: id, State: state, Restored: r.restored.Load(), ToRestore: r.total.Load(), Lag: r.lag.Load()}
		tm.StoreBytes, _ = in.engine.Size(id)
		m.Tasks = append(m.Tasks, tm)
	}
	return m
}
