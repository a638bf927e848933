package worker

// runtime holds what the connectors and tasks running on this worker share
// (Kafka Connect's Worker): the worker config and identity, the offset and
// status stores, metrics, and helpers to build a task's converters and
// clients.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/connect"
)

type runtime struct {
	cfg      *Config
	workerID string
	log      *slog.Logger
	metrics  *metrics
	offsets  *offsetStore
	statuses *statusStore
	// generation is the workers' group generation (0 in standalone), put
	// on status records.
	generation atomic.Int64
	// exactlyOnce: source tasks run transactionally (distributed workers
	// with exactly.once.source.support=enabled).
	exactlyOnce bool
}

// reportTask records a task's state in the status store and metrics.
func (rt *runtime) reportTask(id taskID, m *taskMetrics, state string, cause error) {
	st := status{State: state, WorkerID: rt.workerID, Generation: rt.generation.Load()}
	if cause != nil {
		trace := cause.Error()
		st.Trace = &trace
	}
	if m != nil {
		m.setState(state)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := rt.statuses.putTask(ctx, id, st); err != nil {
		rt.log.Warn("could not record task status", "task", id.String(), "state", state, "err", err)
	}
}

// reportConnector records a connector's state.
func (rt *runtime) reportConnector(name, state string, cause error) {
	st := status{State: state, WorkerID: rt.workerID, Generation: rt.generation.Load()}
	if cause != nil {
		trace := cause.Error()
		st.Trace = &trace
	}
	rt.metrics.setConnectorState(name, state)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := rt.statuses.putConnector(ctx, name, st); err != nil {
		rt.log.Warn("could not record connector status", "connector", name, "state", state, "err", err)
	}
}

// converters are a task's key, value and header converters.
type converters struct {
	key, value                    connect.Converter
	header                        connect.HeaderConverter
	keyClass, valueClass, hdClass string
}

func newConverters(cc *connectorConfig) (*converters, error) {
	c := &converters{keyClass: cc.KeyConverter, valueClass: cc.ValueConverter, hdClass: cc.HeaderConverter}
	var err error
	if c.key, _, err = connect.NewConverter(cc.KeyConverter); err != nil {
		return nil, err
	}
	if err = c.key.Configure(cc.KeyConverterConfig, true); err != nil {
		return nil, fmt.Errorf("key.converter: %w", err)
	}
	if c.value, _, err = connect.NewConverter(cc.ValueConverter); err != nil {
		return nil, err
	}
	if err = c.value.Configure(cc.ValueConverterConfig, false); err != nil {
		return nil, fmt.Errorf("value.converter: %w", err)
	}
	if c.header, _, err = connect.NewHeaderConverter(cc.HeaderConverter); err != nil {
		return nil, err
	}
	if err = c.header.Configure(cc.HeaderConverterConfig); err != nil {
		return nil, fmt.Errorf("header.converter: %w", err)
	}
	return c, nil
}

// taskLogger is the logger of one task.
func (rt *runtime) taskLogger(id taskID) *slog.Logger {
	return rt.log.With("connector", id.Connector, "task", id.Task)
}

// transactionalID is the transactional id of an exactly-once source task,
// Kafka Connect's ${group.id}-${connector}-${task}.
func (rt *runtime) transactionalID(id taskID) string {
	return rt.cfg.GroupID + "-" + id.Connector + "-" + strconv.Itoa(id.Task)
}

// connectPartitioner honours a source record's explicit partition and
// otherwise partitions as Kafka's producer does (murmur2 of the key,
// sticky batches for null keys).
type connectPartitioner struct{ inner kgo.Partitioner }

func (p connectPartitioner) ForTopic(topic string) kgo.TopicPartitioner {
	return connectTopicPartitioner{p.inner.ForTopic(topic)}
}

type connectTopicPartitioner struct{ inner kgo.TopicPartitioner }

func (p connectTopicPartitioner) RequiresConsistency(r *kgo.Record) bool {
	return r.Partition >= 0 || p.inner.RequiresConsistency(r)
}

func (p connectTopicPartitioner) Partition(r *kgo.Record, n int) int {
	if r.Partition >= 0 {
		return int(r.Partition)
	}
	return p.inner.Partition(r, n)
}

func (p connectTopicPartitioner) OnNewBatch() {
	if nb, ok := p.inner.(kgo.TopicPartitionerOnNewBatch); ok {
		nb.OnNewBatch()
	}
}

// errTaskStopped ends a task loop on request.
var errTaskStopped = errors.New("task stopped")
