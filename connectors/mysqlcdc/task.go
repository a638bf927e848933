package mysqlcdc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/tributary-streams/tributary/connect"
	"github.com/tributary-streams/tributary/connect/data"
	"github.com/tributary-streams/tributary/connectors/debezium"
	"github.com/tributary-streams/tributary/connectors/mysqlcdc/internal/ddl"
)

// Task captures the changes of one server: a snapshot when there is no
// position yet (snapshot.mode), then the binlog from the snapshot's
// position or the committed offset.
//
// Two goroutines meet here. The reader goroutine (snapshot, then binlog)
// owns the server connections, the table definitions and the schema
// history, and sends batches of changes on t.queue; it is the only writer
// of t.failure, which it sets once, before closing t.done. Poll, on the
// runtime's goroutine, receives from t.queue, turns changes into records
// and reads t.failure only after t.done is closed.
type Task struct {
	cfg               Config
	log               *slog.Logger
	server            *server
	history           *kafkaHistory
	topics            *topics
	tables            *tableSet
	source            *data.Schema
	schemaChangeValue *data.Schema
	// partition is the source partition of every offset: {"server": prefix}.
	partition map[string]any

	queue   chan []change
	cancel  context.CancelFunc
	done    chan struct{}
	failure error
	stopped sync.Once

	// buffered holds converted changes not yet returned by Poll.
	buffered []change
}

// NewTask returns an unstarted task.
func NewTask() *Task { return &Task{} }

var _ connect.SourceTask = (*Task)(nil)

// Start connects, checks the server, reads the committed offset and
// starts the reader goroutine.
func (t *Task) Start(ctx connect.SourceTaskContext, config map[string]string) error {
	cfg, err := ParseConfig(config)
	if err != nil {
		return err
	}
	t.cfg = cfg
	t.log = ctx.Logger()
	t.partition = map[string]any{"server": cfg.TopicPrefix}

	startCtx, cancel := context.WithTimeout(context.Background(), cfg.ConnectTimeout+10*time.Second)
	defer cancel()
	t.server, err = openServer(startCtx, cfg.conn(), cfg.Flavor)
	if err != nil {
		return err
	}
	if err := t.server.checkBinlog(startCtx); err != nil {
		return err
	}
	f, err := cfg.filters()
	if err != nil {
		return err
	}
	t.source = sourceSchema(t.server.flavor)
	t.schemaChangeValue = schemaChangeValueSchema(t.source)

	t.history, err = openKafkaHistory(cfg.HistoryBootstrap, cfg.HistorySecurity, cfg.HistoryTopic, cfg.TopicPrefix, t.log)
	if err != nil {
		return err
	}
	if err := t.history.ensure(startCtx); err != nil {
		return err
	}
	t.topics = &topics{admin: kadm.NewClient(t.history.client), partitions: cfg.TopicPartitions,
		replication: cfg.TopicReplication, counts: map[string]int32{}}

	committed, err := ctx.Offset(t.partition)
	if err != nil {
		return fmt.Errorf("mysqlcdc: read the committed offset: %w", err)
	}
	plan, err := t.plan(startCtx, committed)
	if err != nil {
		return err
	}
	t.tables = newTableSet(plan.schemas, f, cfg.types(t.server.flavor), cfg.TopicPrefix)
	t.log.Info("mysqlcdc starting", "server", t.server.conn.addr(), "flavor", t.server.flavor, "version", t.server.version,
		"gtid", t.server.gtidMode, "snapshot", plan.snapshot, "data", plan.withData, "from_file", plan.from.File, "from_pos", plan.from.Pos)

	runCtx, runCancel := context.WithCancel(context.Background())
	t.cancel = runCancel
	t.queue = make(chan []change, max(cfg.MaxQueueSize/64, 8))
	t.done = make(chan struct{})
	go t.run(runCtx, plan)
	return nil
}

// plan is what the reader goroutine does: snapshot (with or without
// rows) and/or stream from a position.
type plan struct {
	snapshot bool
	withData bool
	stream   bool
	from     position
	schemas  *ddl.Schemas
}

// plan decides from snapshot.mode and the committed offset.
func (t *Task) plan(ctx context.Context, committed map[string]any) (plan, error) {
	mode := t.cfg.SnapshotMode
	p := plan{stream: mode != "initial_only", schemas: ddl.NewSchemas(t.server.charset)}
	if committed == nil {
		switch mode {
		case "never":
			files, err := t.server.binlogFiles(ctx)
			if err != nil {
				return p, err
			}
			if len(files) == 0 {
				return p, fmt.Errorf("%w: the server lists no binlog files", ErrBinlogOff)
			}
			p.from = position{File: files[0], Pos: 4}
			return p, nil
		case "no_data":
			p.snapshot = true
		default:
			p.snapshot, p.withData = true, true
		}
		return p, nil
	}
	from, err := positionFromOffset(committed)
	if err != nil {
		return p, fmt.Errorf("mysqlcdc: committed offset: %w", err)
	}
	if from.Snapshot {
		// The snapshot did not finish: take it again.
		t.log.Info("the last snapshot did not complete; snapshotting again")
		p.snapshot, p.withData = true, mode != "no_data"
		return p, nil
	}
	if mode == "initial_only" {
		p.stream = false
		return p, nil
	}
	ok, err := t.server.available(ctx, from)
	if err != nil {
		return p, err
	}
	if !ok {
		if mode == "when_needed" {
			t.log.Warn("the committed binlog position is no longer on the server; snapshotting again", "file", from.File, "pos", from.Pos)
			p.snapshot, p.withData = true, true
			return p, nil
		}
		return p, fmt.Errorf("%w: %s:%d (gtids %q) was purged; set snapshot.mode=when_needed to snapshot again", ErrBinlogMissing, from.File, from.Pos, from.GTIDs)
	}
	records, err := t.history.load(ctx)
	if err != nil {
		return p, err
	}
	schemas, applied, err := replayHistory(records, from, t.server.flavor, t.server.charset)
	if err != nil {
		return p, err
	}
	if applied == 0 && mode != "never" {
		return p, fmt.Errorf("%w: topic %s holds no records for %s up to the committed offset (was it deleted?); the connector cannot decode rows without it: use a new topic.prefix, or delete the connector's offsets to snapshot again",
			ErrHistory, t.cfg.HistoryTopic, t.cfg.TopicPrefix)
	}
	t.log.Info("schema history replayed", "records", applied, "tables", len(schemas.Tables()))
	p.from, p.schemas = from, schemas
	return p, nil
}

// run is the reader goroutine.
func (t *Task) run(ctx context.Context, p plan) {
	defer close(t.done)
	err := t.read(ctx, p)
	if err != nil && ctx.Err() == nil {
		t.failure = err
	}
}

func (t *Task) read(ctx context.Context, p plan) error {
	emitted := p.from
	emit := func(ctx context.Context, cs []change) error {
		select {
		case t.queue <- cs:
			emitted = cs[len(cs)-1].offset
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if p.snapshot {
		s := &snapshotter{server: t.server, tables: t.tables, history: t.history, log: t.log,
			withData: p.withData, lockMode: t.cfg.SnapshotLocking, fetchSize: t.cfg.FetchSize,
			threads: t.cfg.SnapshotThreads, schemaChanges: t.cfg.IncludeSchemaChanges}
		// Snapshot workers emit concurrently.
		var mu sync.Mutex
		s.emit = func(ctx context.Context, cs []change) error {
			mu.Lock()
			defer mu.Unlock()
			return emit(ctx, cs)
		}
		pos, err := s.run(ctx)
		if err != nil {
			return err
		}
		p.from, emitted = pos, pos
	}
	if !p.stream {
		t.log.Info("snapshot.mode=initial_only: not streaming")
		<-ctx.Done()
		return nil
	}
	backoff := time.Second
	for {
		r := &binlogReader{server: t.server, serverID: t.cfg.ServerID, tables: t.tables, history: t.history,
			emit: emit, log: t.log, skipOps: t.cfg.skipped(), schemaChanges: t.cfg.IncludeSchemaChanges,
			skipBadDDL: t.cfg.SkipUnparseableDDL, heartbeatEvery: t.cfg.Heartbeat}
		err := r.run(ctx, emitted)
		if ctx.Err() != nil || !errors.Is(err, errConnection) {
			return err
		}
		// The connection broke: reconnect from the last change handed on.
		t.log.Warn("binlog connection lost; reconnecting", "error", err, "in", backoff)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return nil
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

// Poll returns the records of the changes read so far, waiting up to
// poll.interval.ms for the first.
func (t *Task) Poll(ctx context.Context) ([]connect.SourceRecord, error) {
	if len(t.buffered) == 0 {
		wait := time.NewTimer(t.cfg.PollInterval)
		defer wait.Stop()
		select {
		case cs := <-t.queue:
			t.buffered = cs
		case <-t.done:
			select {
			case cs := <-t.queue:
				t.buffered = cs
			default:
				if t.failure != nil {
					return nil, t.failure
				}
				return nil, nil
			}
		case <-wait.C:
			return nil, nil
		case <-ctx.Done():
			return nil, nil
		}
	}
	// Take more that are ready, up to max.batch.size changes.
	for len(t.buffered) < t.cfg.MaxBatchSize {
		select {
		case cs := <-t.queue:
			t.buffered = append(t.buffered, cs...)
			continue
		default:
		}
		break
	}
	n := min(len(t.buffered), t.cfg.MaxBatchSize)
	out := make([]connect.SourceRecord, 0, n+n/8)
	var err error
	for _, c := range t.buffered[:n] {
		if out, err = t.records(ctx, c, out); err != nil {
			return nil, err
		}
	}
	t.buffered = t.buffered[n:]
	return out, nil
}

// records turns one change into its records.
func (t *Task) records(ctx context.Context, c change, out []connect.SourceRecord) ([]connect.SourceRecord, error) {
	offset := c.offset.offset(t.server.serverID, c.source.tsMs/1000)
	rec := func(topic string, partition int32, keySchema *data.Schema, key any, valueSchema *data.Schema, value any) connect.SourceRecord {
		return connect.SourceRecord{
			Record: connect.Record{Topic: topic, Partition: partition, KeySchema: keySchema, Key: key,
				ValueSchema: valueSchema, Value: value},
			SourcePartition: t.partition, SourceOffset: offset,
		}
	}
	now := time.Now().UnixMilli()
	switch c.op {
	case opHeartbeat:
		topic := t.cfg.HeartbeatTopicsPrefix + "." + t.cfg.TopicPrefix
		if _, err := t.topics.count(ctx, topic, 1); err != nil {
			return out, err
		}
		key := data.NewStruct(heartbeatKeySchema)
		key.PutAt(0, t.cfg.TopicPrefix)
		val := data.NewStruct(heartbeatValueSchema)
		val.PutAt(0, now)
		return append(out, rec(topic, 0, heartbeatKeySchema, key, heartbeatValueSchema, val)), nil
	case opSchemaChange:
		topic := t.cfg.TopicPrefix
		if _, err := t.topics.count(ctx, topic, 1); err != nil {
			return out, err
		}
		key := data.NewStruct(schemaChangeKeySchema)
		key.PutAt(0, c.ddl.db)
		val := data.NewStruct(t.schemaChangeValue)
		val.PutAt(0, sourceStruct(t.source, t.server.flavor, t.cfg.TopicPrefix, c.source))
		val.PutAt(1, now)
		if c.ddl.db != "" {
			val.PutAt(2, c.ddl.db)
		}
		val.PutAt(4, c.ddl.ddl)
		val.PutAt(5, tableChangesValue(c.ddl.changes))
		return append(out, rec(topic, 0, schemaChangeKeySchema, key, t.schemaChangeValue, val)), nil
	}

	tbl := c.table
	if tbl.schemas == nil {
		tbl.schemas = newTableSchemas(tbl, t.source)
	}
	ts := tbl.schemas
	n, err := t.topics.count(ctx, tbl.topic, 0)
	if err != nil {
		return out, err
	}
	env := data.NewStruct(ts.envelope)
	env.PutAt(debezium.IndexSource, sourceStruct(t.source, t.server.flavor, t.cfg.TopicPrefix, c.source))
	env.PutAt(debezium.IndexOp, string(c.op))
	env.PutAt(debezium.IndexTsMs, now)
	if c.op == opTruncate {
		// A truncate concerns every row: one copy per partition keeps it in
		// order with the rows of each.
		for p := int32(0); p < n; p++ {
			out = append(out, rec(tbl.topic, p, ts.key, nil, ts.envelope, env))
		}
		return out, nil
	}
	before, err := ts.rowStruct(c.before)
	if err != nil {
		return out, fmt.Errorf("mysqlcdc: %s: %w", tbl.id, err)
	}
	after, err := ts.rowStruct(c.after)
	if err != nil {
		return out, fmt.Errorf("mysqlcdc: %s: %w", tbl.id, err)
	}
	if before != nil {
		env.PutAt(debezium.IndexBefore, before)
	}
	if after != nil {
		env.PutAt(debezium.IndexAfter, after)
	}
	keyRow := c.after
	if keyRow == nil {
		keyRow = c.before
	}
	key, err := ts.keyStruct(tbl, keyRow)
	if err != nil {
		return out, fmt.Errorf("mysqlcdc: %s key: %w", tbl.id, err)
	}
	part := keyPartition(key, n)
	if c.op == opUpdate {
		// A key change is a delete of the old key and a create of the new,
		// as Debezium sends it, each in its key's partition.
		oldKey, err := ts.keyStruct(tbl, c.before)
		if err != nil {
			return out, fmt.Errorf("mysqlcdc: %s key: %w", tbl.id, err)
		}
		if !data.Equal(oldKey, key) {
			del := data.NewStruct(ts.envelope)
			del.PutAt(debezium.IndexBefore, before)
			del.PutAt(debezium.IndexSource, env.At(debezium.IndexSource))
			del.PutAt(debezium.IndexOp, debezium.OpDelete)
			del.PutAt(debezium.IndexTsMs, now)
			oldPart := keyPartition(oldKey, n)
			out = append(out, rec(tbl.topic, oldPart, ts.key, oldKey, ts.envelope, del))
			if t.cfg.Tombstones {
				out = append(out, rec(tbl.topic, oldPart, ts.key, oldKey, nil, nil))
			}
			create := data.NewStruct(ts.envelope)
			create.PutAt(debezium.IndexAfter, after)
			create.PutAt(debezium.IndexSource, env.At(debezium.IndexSource))
			create.PutAt(debezium.IndexOp, debezium.OpCreate)
			create.PutAt(debezium.IndexTsMs, now)
			return append(out, rec(tbl.topic, part, ts.key, key, ts.envelope, create)), nil
		}
	}
	out = append(out, rec(tbl.topic, part, ts.key, key, ts.envelope, env))
	if c.op == opDelete && t.cfg.Tombstones {
		// A tombstone has neither value nor value schema, so converters
		// write a null value.
		out = append(out, rec(tbl.topic, part, ts.key, key, nil, nil))
	}
	return out, nil
}

// Commit has nothing to acknowledge upstream: the binlog position lives in
// the offsets.
func (t *Task) Commit(context.Context, []connect.Position) error { return nil }

// Stop ends the reader goroutine and closes the connections.
func (t *Task) Stop() error {
	t.stopped.Do(func() {
		if t.cancel != nil {
			t.cancel()
			select {
			case <-t.done:
			case <-time.After(10 * time.Second):
				t.log.Warn("mysqlcdc reader did not stop within 10s")
			}
		}
		if t.history != nil {
			t.history.close()
		}
		if t.server != nil {
			t.server.close()
		}
	})
	return nil
}
