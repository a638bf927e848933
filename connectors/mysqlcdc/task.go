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

	queue   chan []connect.SourceRecord
	cancel  context.CancelFunc
	done    chan struct{}
	failure error
	stopped sync.Once

	// buffered holds records not yet returned by Poll.
	buffered []connect.SourceRecord
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
	t.queue = make(chan []connect.SourceRecord, max(cfg.MaxQueueSize/64, 8))
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
	// catchUp is an interrupted snapshot's position: the binlog from there
	// to the new snapshot's is read before the new snapshot's rows.
	catchUp *position
}

// firstSnapshot returns the position of the first snapshot the history
// records, or nil.
func (t *Task) firstSnapshot(ctx context.Context) (*position, error) {
	records, err := t.history.load(ctx)
	if err != nil {
		return nil, err
	}
	for i := range records {
		if records[i].Reset {
			p, err := positionFromOffset(records[i].Position)
			if err != nil {
				return nil, fmt.Errorf("mysqlcdc: schema history: %w", err)
			}
			return &p, nil
		}
	}
	return nil, nil
}

// catchUpFrom returns the table definitions at an interrupted snapshot's
// position, or nil when there is nothing to catch up: no history was
// written (so no row was emitted either) or the binlog is gone (then rows
// deleted before the new snapshot keep their old snapshot record, as in
// Debezium).
func (t *Task) catchUpFrom(ctx context.Context, from position) (*ddl.Schemas, error) {
	if from.File == "" {
		return nil, nil
	}
	ok, err := t.server.available(ctx, from)
	if err != nil || !ok {
		if !ok {
			t.log.Warn("the interrupted snapshot's binlog position is gone: rows deleted since keep their old snapshot record", "file", from.File)
		}
		return nil, err
	}
	records, err := t.history.load(ctx)
	if err != nil {
		return nil, err
	}
	at := from
	at.Snapshot = false
	schemas, applied, err := replayHistory(records, at, t.server.flavor, t.server.charset)
	if err != nil || applied == 0 {
		return nil, err
	}
	return schemas, nil
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
		// No offset, but a history: earlier snapshots emitted rows before
		// any offset was committed. Catch up from the first one's position:
		// nothing since may have reached Kafka (records are acknowledged
		// asynchronously, history records synchronously), so a later
		// snapshot's position would skip changes that were lost.
		first, err := t.firstSnapshot(ctx)
		if err != nil {
			return p, err
		}
		if first != nil {
			if schemas, err := t.catchUpFrom(ctx, *first); err != nil {
				return p, err
			} else if schemas != nil {
				p.catchUp, p.schemas = first, schemas
				t.log.Info("an earlier snapshot wrote records before committing an offset; reading the binlog from its position, then snapshotting again", "file", first.File, "pos", first.Pos)
			}
		}
		return p, nil
	}
	from, err := positionFromOffset(committed)
	if err != nil {
		return p, fmt.Errorf("mysqlcdc: committed offset: %w", err)
	}
	if from.Snapshot {
		// The snapshot did not finish: take it again. Some of its rows are in
		// Kafka already, as of its position; the binlog from there to the new
		// snapshot's position is read first, so that rows deleted or changed
		// in between are not left as the old snapshot wrote them.
		p.snapshot, p.withData = true, mode != "no_data"
		catchUp, err := t.catchUpFrom(ctx, from)
		if err != nil {
			return p, err
		}
		if catchUp != nil {
			p.catchUp, p.schemas = &from, catchUp
			t.log.Info("the last snapshot did not complete; reading the binlog from its position, then snapshotting again", "file", from.File, "pos", from.Pos)
		} else {
			t.log.Info("the last snapshot did not complete; snapshotting again")
		}
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
	// Changes become records here, on the goroutines that read them
	// (several snapshot workers, then the binlog reader), so Poll only hands
	// them over. emitted is the position of the last change handed on.
	emitted := p.from
	send := func(ctx context.Context, mk *recordMaker, cs []change) error {
		recs, err := mk.make(ctx, cs)
		if err != nil {
			return err
		}
		select {
		case t.queue <- recs:
			emitted = cs[len(cs)-1].offset
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	stream := t.maker()
	emit := func(ctx context.Context, cs []change) error { return send(ctx, stream, cs) }
	if p.snapshot {
		s := &snapshotter{server: t.server, tables: t.tables, history: t.history, log: t.log,
			withData: p.withData, lockMode: t.cfg.SnapshotLocking, fetchSize: t.cfg.FetchSize,
			threads: t.cfg.SnapshotThreads, schemaChanges: t.cfg.IncludeSchemaChanges}
		if p.catchUp != nil {
			from := *p.catchUp
			s.catchUp = func(ctx context.Context, until position) error {
				// The catch-up's changes keep the interrupted snapshot's
				// offset: a crash now starts this all over.
				r := &binlogReader{server: t.server, serverID: t.cfg.ServerID, tables: t.tables, history: t.history,
					log: t.log, skipOps: t.cfg.skipped(), schemaChanges: t.cfg.IncludeSchemaChanges,
					skipBadDDL: t.cfg.SkipUnparseableDDL, until: &until,
					emit: func(ctx context.Context, cs []change) error {
						for i := range cs {
							cs[i].offset = from
							cs[i].source.snapshot = "true"
						}
						return emit(ctx, cs)
					}}
				start := from
				start.Snapshot = false
				return r.run(ctx, start)
			}
		}
		// Snapshot workers emit concurrently, each batch with its own
		// maker; sending (and emitted) are serialised.
		var mu sync.Mutex
		s.emit = func(ctx context.Context, cs []change) error {
			mk := t.maker()
			recs, err := mk.make(ctx, cs)
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			select {
			case t.queue <- recs:
				emitted = cs[len(cs)-1].offset
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
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

// Poll returns the records read so far, waiting up to poll.interval.ms
// for the first, at most max.batch.size (a change's records stay
// together).
func (t *Task) Poll(ctx context.Context) ([]connect.SourceRecord, error) {
	if len(t.buffered) == 0 {
		wait := time.NewTimer(t.cfg.PollInterval)
		defer wait.Stop()
		select {
		case recs := <-t.queue:
			t.buffered = recs
		case <-t.done:
			select {
			case recs := <-t.queue:
				t.buffered = recs
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
	for len(t.buffered) < t.cfg.MaxBatchSize {
		select {
		case recs := <-t.queue:
			t.buffered = append(t.buffered, recs...)
			continue
		default:
		}
		break
	}
	out := t.buffered
	t.buffered = nil
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
