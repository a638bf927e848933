package mysqlcdc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/tributary-streams/tributary/connectors/mysqlcdc/internal/ddl"
)

// binlogReader streams the binary log from a position and turns it into
// changes, keeping the table definitions in step with the DDL it reads.
//
// One goroutine runs it: go-mysql's syncer reads and parses events on its
// own goroutine and hands them over a channel; everything below runs on
// the goroutine that calls run, in binlog order, so a rows event is always
// decoded with the definitions of the DDL that preceded it.
type binlogReader struct {
	server   *server
	serverID uint32 // database.server.id: the connector's replica id
	tables   *tableSet
	history  historyWriter
	// emit hands changes on; it blocks while the task is behind.
	emit func(ctx context.Context, cs []change) error
	log  *slog.Logger

	skipOps map[byte]bool
	// until, when set, ends run (with nil) once every transaction up to it
	// is read.
	until          *position
	schemaChanges  bool // include.schema.changes
	skipBadDDL     bool // schema.history.internal.skip.unparseable.ddl
	heartbeatEvery time.Duration

	// The position: file is the binlog file being read; executed the GTIDs
	// of committed transactions.
	file     string
	executed mysql.GTIDSet
	tx       txState
	// resume holds what to skip of the first transaction, from the offset.
	resume position
	// pending are the changes of the last rows event, held back until the
	// next event says whether it ended the transaction.
	pending []change
	// lastPos is the position after the last transaction, for heartbeats.
	lastPos position
}

// txState tracks the transaction being read.
type txState struct {
	active bool
	begun  bool // BEGIN seen (or MariaDB's GTID of a multi-statement transaction)
	start  position
	gtid   string
	events int // rows events read so far
	thread int64
	first  bool // this is the transaction the resume position points into
}

// historyWriter stores schema changes durably before anything that
// depends on them is emitted.
type historyWriter interface {
	record(ctx context.Context, pos position, sc *schemaChange) error
}

// run streams from p until ctx ends or an error. Errors from the server
// connection are returned wrapped in errConnection.
func (r *binlogReader) run(ctx context.Context, from position) error {
	cfg := replication.BinlogSyncerConfig{
		ServerID:                r.serverID,
		Flavor:                  r.server.flavor,
		Host:                    r.server.conn.host,
		Port:                    uint16(r.server.conn.port),
		User:                    r.server.conn.user,
		Password:                r.server.conn.password,
		Charset:                 "utf8mb4",
		TimestampStringLocation: time.UTC,
		HeartbeatPeriod:         10 * time.Second,
		ReadTimeout:             30 * time.Second,
		DisableRetrySync:        true,
		EventCacheCount:         4096,
		Logger:                  slog.New(quietHandler{r.log.Handler()}),
	}
	syncer := replication.NewBinlogSyncer(cfg)
	defer syncer.Close()

	r.file = from.File
	r.resume = from
	r.lastPos = from
	r.tx = txState{first: from.Event > 0 || from.Row > 0}
	var err error
	if r.executed, err = gtidSet(r.server.flavor, from.GTIDs); err != nil {
		return err
	}
	var streamer *replication.BinlogStreamer
	if from.GTIDs != "" && r.server.gtidMode {
		streamer, err = syncer.StartSyncGTID(r.executed.Clone())
	} else {
		streamer, err = syncer.StartSync(mysql.Position{Name: from.File, Pos: from.Pos})
	}
	if err != nil {
		return fmt.Errorf("%w: start binlog stream at %s:%d: %v", errConnection, from.File, from.Pos, err)
	}
	r.log.Info("streaming binlog", "file", from.File, "pos", from.Pos, "gtids", from.GTIDs, "skip_events", from.Event, "skip_rows", from.Row)

	lastBeat := time.Now()
	for {
		if r.until != nil && !r.tx.active && r.lastPos.covers(*r.until, r.server.flavor) {
			return nil
		}
		wait := ctx
		cancel := func() {}
		if r.heartbeatEvery > 0 {
			wait, cancel = context.WithTimeout(ctx, r.heartbeatEvery)
		}
		ev, err := streamer.GetEvent(wait)
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, context.DeadlineExceeded) {
			ev, err = nil, nil
		}
		if err != nil {
			return fmt.Errorf("%w: read binlog: %v", errConnection, err)
		}
		if ev != nil {
			if err := r.handle(ctx, ev); err != nil {
				return err
			}
		}
		if r.heartbeatEvery > 0 && time.Since(lastBeat) >= r.heartbeatEvery && !r.tx.active {
			lastBeat = time.Now()
			if err := r.emit(ctx, []change{{op: opHeartbeat, offset: r.lastPos,
				source: sourceInfo{tsMs: time.Now().UnixMilli(), serverID: r.server.serverID}}}); err != nil {
				return err
			}
		}
	}
}

// errConnection marks a lost or refused replication connection: the task
// may reconnect from its last position.
var errConnection = errors.New("mysqlcdc: replication connection")

// handle processes one event.
func (r *binlogReader) handle(ctx context.Context, ev *replication.BinlogEvent) error {
	h := ev.Header
	start := h.LogPos - h.EventSize
	if h.LogPos == 0 || h.LogPos < h.EventSize {
		start = 0
	}
	// The held-back changes of the last rows event go out before anything
	// else happens; XID and COMMIT hand them on themselves, with the
	// position after the transaction.
	switch ev.Event.(type) {
	case *replication.XIDEvent, *replication.QueryEvent:
	default:
		if err := r.flush(ctx, nil); err != nil {
			return err
		}
	}

	switch e := ev.Event.(type) {
	case *replication.RotateEvent:
		r.file = string(e.NextLogName)
		if !r.tx.active {
			r.lastPos = position{File: r.file, Pos: uint32(e.Position), GTIDs: r.executed.String()}
		}
	case *replication.GTIDEvent:
		g, err := mysqlGTID(e)
		if err != nil {
			return err
		}
		r.beginTx(start, g, false)
	case *replication.MariadbGTIDEvent:
		r.beginTx(start, e.GTID.String(), !e.IsStandalone())
	case *replication.QueryEvent:
		return r.query(ctx, h, start, e)
	case *replication.XIDEvent:
		return r.commit(ctx, h)
	case *replication.RowsEvent:
		return r.rows(ctx, h, start, e)
	case *replication.TransactionPayloadEvent:
		for _, inner := range e.Events {
			if err := r.handle(ctx, inner); err != nil {
				return err
			}
		}
	}
	return nil
}

func mysqlGTID(e *replication.GTIDEvent) (string, error) {
	if len(e.SID) != 16 {
		return "", fmt.Errorf("mysqlcdc: GTID event with a %d-byte source id", len(e.SID))
	}
	u := fmt.Sprintf("%x-%x-%x-%x-%x", e.SID[0:4], e.SID[4:6], e.SID[6:8], e.SID[8:10], e.SID[10:16])
	return fmt.Sprintf("%s:%d", u, e.GNO), nil
}

func (r *binlogReader) beginTx(start uint32, gtid string, begun bool) {
	first := r.tx.first
	r.tx = txState{active: true, begun: begun, gtid: gtid, first: first,
		start: position{File: r.file, Pos: start, GTIDs: r.executed.String()}}
}

// query handles BEGIN, COMMIT, ROLLBACK and DDL.
func (r *binlogReader) query(ctx context.Context, h *replication.EventHeader, start uint32, e *replication.QueryEvent) error {
	sql := strings.TrimSpace(string(e.Query))
	switch strings.ToUpper(sql) {
	case "BEGIN":
		if !r.tx.active {
			r.beginTx(start, "", true)
		}
		r.tx.begun = true
		r.tx.thread = int64(e.SlaveProxyID)
		return nil
	case "COMMIT", "ROLLBACK":
		return r.commit(ctx, h)
	}
	if err := r.flush(ctx, nil); err != nil {
		return err
	}
	if !r.tx.active {
		r.beginTx(start, "", false)
	}
	db := string(e.Schema)
	if isDML(sql) && r.tables.filters.databaseCaptured(db) {
		return fmt.Errorf("%w: a statement-based change (%q) in captured database %s at %s:%d: every session must write ROW events; do not SET binlog_format for sessions that change captured tables",
			ErrBinlogFormat, clip(sql), db, r.file, start)
	}
	changes, err := r.tables.schemas.Apply(db, sql)
	if err != nil {
		if r.skipBadDDL {
			r.log.Warn("skipping a statement the DDL parser cannot read", "db", db, "statement", clip(sql), "error", err)
			changes = nil
		} else {
			return fmt.Errorf("mysqlcdc: schema history: %w at %s:%d; fix the statement, or set schema.history.internal.skip.unparseable.ddl=true to skip it", err, r.file, start)
		}
	}
	if !r.tx.begun {
		// A statement on its own (DDL): it is its own transaction.
		r.endTx(h)
	}
	if len(changes) == 0 {
		return nil
	}
	sc := &schemaChange{db: db, ddl: sql, changes: changes}
	for _, c := range changes {
		r.tables.invalidate(c.ID)
	}
	if err := r.history.record(ctx, r.lastPos, sc); err != nil {
		return err
	}
	src := sourceInfo{tsMs: int64(h.Timestamp) * 1000, snapshot: "false", db: db, serverID: h.ServerID,
		gtid: r.tx.gtid, file: r.file, pos: start, thread: int64(e.SlaveProxyID)}
	var out []change
	if r.schemaChanges && r.touchesCaptured(sc) {
		out = append(out, change{op: opSchemaChange, ddl: sc, source: src, offset: r.lastPos})
	}
	for _, c := range changes {
		if c.Type != ddl.Truncate || r.skipOps[opTruncate] {
			continue
		}
		t, err := r.tables.get(c.ID)
		if err != nil {
			return err
		}
		if t != nil {
			s := src
			s.table = c.ID.Table
			s.db = c.ID.Database
			out = append(out, change{op: opTruncate, table: t, source: s, offset: r.lastPos})
		}
	}
	if len(out) == 0 {
		// Still hand the position on, so it gets committed.
		out = append(out, change{op: opHeartbeat, offset: r.lastPos})
	}
	return r.emit(ctx, out)
}

func (r *binlogReader) touchesCaptured(sc *schemaChange) bool {
	for _, c := range sc.changes {
		if r.tables.filters.captured(c.ID) {
			return true
		}
	}
	return false
}

// commit ends the transaction: the held-back changes go out, the last one
// carrying the position after the commit.
func (r *binlogReader) commit(ctx context.Context, h *replication.EventHeader) error {
	r.endTx(h)
	return r.flush(ctx, &r.lastPos)
}

func (r *binlogReader) endTx(h *replication.EventHeader) {
	if r.tx.gtid != "" {
		if err := r.executed.Update(r.tx.gtid); err != nil {
			r.log.Warn("cannot add a GTID to the executed set", "gtid", r.tx.gtid, "error", err)
		}
	}
	r.lastPos = position{File: r.file, Pos: h.LogPos, GTIDs: r.executed.String()}
	r.tx = txState{}
}

// flush hands on the held-back changes; with end, the last one carries the
// position after the transaction.
func (r *binlogReader) flush(ctx context.Context, end *position) error {
	if len(r.pending) == 0 {
		// A transaction with nothing captured moves the position too, but
		// only heartbeats hand that on.
		return nil
	}
	if end != nil {
		r.pending[len(r.pending)-1].offset = *end
	}
	out := r.pending
	r.pending = nil
	return r.emit(ctx, out)
}

// rows decodes a rows event of a captured table.
func (r *binlogReader) rows(ctx context.Context, h *replication.EventHeader, start uint32, e *replication.RowsEvent) error {
	if !r.tx.active {
		r.beginTx(start, "", true)
	}
	index := r.tx.events
	r.tx.events++
	skipRows := 0
	if r.tx.first {
		switch {
		case index < r.resume.Event:
			return nil
		case index == r.resume.Event:
			skipRows = r.resume.Row
		}
	}
	if e.Table == nil {
		return fmt.Errorf("mysqlcdc: rows event at %s:%d without a table map", r.file, start)
	}
	id := ddl.TableID{Database: string(e.Table.Schema), Table: string(e.Table.Table)}
	t, err := r.tables.get(id)
	if err != nil || t == nil {
		return err
	}
	if int(e.ColumnCount) != len(t.columns) {
		return fmt.Errorf("mysqlcdc: table %s has %d columns in the binlog at %s:%d but %d in the schema history: the history is out of step with the server (was DDL run with sql_log_bin=0?)",
			id, e.ColumnCount, r.file, start, len(t.columns))
	}
	var op byte
	step := 1
	switch e.Type() {
	case replication.EnumRowsEventTypeInsert:
		op = opCreate
	case replication.EnumRowsEventTypeUpdate:
		op, step = opUpdate, 2
	case replication.EnumRowsEventTypeDelete:
		op = opDelete
	default:
		return fmt.Errorf("mysqlcdc: unknown rows event type %v at %s:%d", h.EventType, r.file, start)
	}
	if r.skipOps[op] {
		return nil
	}
	for _, skipped := range e.SkippedColumns {
		if len(skipped) > 0 {
			return fmt.Errorf("%w: a rows event of %s at %s:%d lacks columns; set binlog_row_image=FULL", ErrBinlogImage, id, r.file, start)
		}
	}
	src := sourceInfo{tsMs: int64(h.Timestamp) * 1000, snapshot: "false", db: id.Database, table: id.Table,
		serverID: h.ServerID, gtid: r.tx.gtid, file: r.file, pos: start, thread: r.tx.thread}
	n := len(e.Rows) / step
	for i := skipRows; i < n; i++ {
		c := change{op: op, table: t, source: src,
			offset: position{File: r.tx.start.File, Pos: r.tx.start.Pos, GTIDs: r.tx.start.GTIDs, Event: index, Row: i + 1}}
		c.source.row = int32(i)
		var err error
		switch op {
		case opCreate:
			c.after, err = decodeRow(t, e.Rows[i])
		case opDelete:
			c.before, err = decodeRow(t, e.Rows[i])
		case opUpdate:
			if c.before, err = decodeRow(t, e.Rows[2*i]); err == nil {
				c.after, err = decodeRow(t, e.Rows[2*i+1])
			}
		}
		if err != nil {
			return fmt.Errorf("mysqlcdc: table %s at %s:%d row %d: %w", id, r.file, start, i, err)
		}
		r.pending = append(r.pending, c)
	}
	return nil
}

// decodeRow converts one binlog row image.
func decodeRow(t *capturedTable, row []any) ([]any, error) {
	out := make([]any, len(t.columns))
	for i, col := range t.columns {
		if col == nil {
			continue
		}
		v, err := col.fromBinlog(row[i])
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// isDML reports a data change logged as a statement.
func isDML(sql string) bool {
	word := sql
	if i := strings.IndexAny(word, " \t\n("); i > 0 {
		word = word[:i]
	}
	switch strings.ToUpper(word) {
	case "INSERT", "UPDATE", "DELETE", "REPLACE", "LOAD":
		return true
	}
	return false
}

func clip(s string) string {
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}

// quietHandler drops go-mysql's info chatter (one line per connection and
// rotation) to debug, keeping warnings and errors.
type quietHandler struct{ slog.Handler }

func (q quietHandler) Handle(ctx context.Context, rec slog.Record) error {
	if rec.Level < slog.LevelWarn {
		rec.Level = slog.LevelDebug
	}
	if !q.Handler.Enabled(ctx, rec.Level) {
		return nil
	}
	return q.Handler.Handle(ctx, rec)
}

func (q quietHandler) Enabled(ctx context.Context, l slog.Level) bool { return true }
