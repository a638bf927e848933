package streams

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"

	"github.com/tributary-streams/tributary/streams/internal/runtime"
)

// App runs a topology against a Kafka-protocol cluster. Instances with the
// same application id share the work: each input partition is a task of
// each sub-topology, and tasks are spread over the instances through a
// consumer group (sticky and cooperative: an instance joining or leaving
// moves only the tasks it must). A task restores its stores from their
// changelogs before it processes, off the poll loop.
type App struct {
	cfg     *config
	inst    *runtime.Instance
	running chan struct{}
	once    sync.Once
	ran     bool
}

// Metrics is a snapshot of an instance's metrics.
type Metrics = runtime.Metrics

// TaskMetrics describe one task of an instance.
type TaskMetrics = runtime.TaskMetrics

// New prepares an App; Run starts it. Options are checked here, all at
// once.
func New(t *Topology, opts ...Option) (*App, error) {
	if t == nil {
		return nil, errors.New("streams: nil topology")
	}
	c, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	if err := c.validate(true); err != nil {
		return nil, err
	}
	a := &App{cfg: c, running: make(chan struct{})}
	inst, err := runtime.New(t.g, runtime.Config{
		App: c.appID, Bootstrap: c.bootstrap, StateDir: filepath.Join(c.stateDir, c.appID),
		ExactlyOnce: c.guarantee == ExactlyOnce, CommitInterval: c.commitInterval, Standbys: c.standbys,
		RepartitionPurgeInterval: c.purgeInterval,
		QueryListen:              c.queryListen, MetricsListen: c.metricsListen, MemoryBudget: c.memoryBudget, CacheBytes: c.cacheBytes, Logger: c.logger,
		OnDeserializationError: c.deser.handle, ClientOpts: c.clientOpts, SessionTimeout: c.sessionTimeout,
		TxnTimeout: c.txnTimeout, MaxPollRecords: c.maxPollRecords, Replication: c.replication,
		Now:       func() int64 { return c.wallClock().UnixMilli() },
		OnRunning: func() { a.once.Do(func() { close(a.running) }) },
	})
	if err != nil {
		return nil, err
	}
	a.inst = inst
	return a, nil
}

// Run runs the instance until ctx is done (then it commits, closes its
// tasks and leaves the group, and returns nil) or it fails. An App runs
// once.
func (a *App) Run(ctx context.Context) error {
	if a.ran {
		return errors.New("streams: an App runs once; make a new one")
	}
	a.ran = true
	return a.inst.Run(ctx)
}

// Running is closed once the instance has created its topics and joined
// its group.
func (a *App) Running() <-chan struct{} { return a.running }

// Metrics returns this instance's metrics: the counters the Prometheus
// series on /metrics (WithQueryListen, WithMetricsListen) are read from.
func (a *App) Metrics() Metrics { return a.inst.Metrics() }

// KeyOwner tells which task holds a key of a store and where it runs:
// local, or the query endpoint (WithQueryListen) of the instance that
// owns it.
func KeyOwner[K any](a *App, store string, key K, keys Serde[K]) (task, endpoint string, local bool, err error) {
	kb, err := keys.Serialize(key)
	if err != nil {
		return "", "", false, fmt.Errorf("streams: encode key: %w", err)
	}
	return a.inst.Owner(store, kb)
}

// ErrNotLocal reports a query for a key whose task runs on another
// instance; errors.As with *NotLocalError tells which.
var ErrNotLocal = runtime.ErrNotLocal

// NotLocalError names the instance that owns a queried key.
type NotLocalError = runtime.NotLocalError

// QueryKeyValue reads a key of a key-value store (a materialized
// aggregation or table, or a processor's store) on this instance, as of
// its task's last commit. A key owned by another instance is a
// *NotLocalError.
func QueryKeyValue[K, V any](a *App, store string, key K, keys Serde[K]) (V, bool, error) {
	var zero V
	kb, err := keys.Serialize(key)
	if err != nil {
		return zero, false, fmt.Errorf("streams: encode key: %w", err)
	}
	entries, err := a.inst.Get(store, kb)
	if err != nil || len(entries) == 0 {
		return zero, false, err
	}
	switch v := entries[0].Value.(type) {
	case timestamped[V]:
		return v.Value, true, nil
	case V:
		return v, true, nil
	default:
		return zero, false, fmt.Errorf("streams: store %s holds %T, not %s", store, entries[0].Value, typeName[V]())
	}
}

// ErrMissingSourceTopic reports an input topic that does not exist when
// the App starts (Kafka Streams' MissingSourceTopicException).
var ErrMissingSourceTopic = runtime.ErrMissingSourceTopic
