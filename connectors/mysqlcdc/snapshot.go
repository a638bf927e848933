package mysqlcdc

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	driver "github.com/go-sql-driver/mysql"

	"github.com/tributary-streams/tributary/connectors/mysqlcdc/internal/ddl"
)

// snapshotter takes a consistent snapshot: the schema and rows of every
// captured table as of one binlog position, from which streaming goes on.
//
// Consistency: one connection takes the global read lock (FLUSH TABLES
// WITH READ LOCK, or LOCK TABLES ... READ without the RELOAD privilege);
// while it is held, each worker connection starts a REPEATABLE READ
// transaction WITH CONSISTENT SNAPSHOT, and the lock holder reads the
// binlog position and the table definitions; then the lock is released.
// Every worker therefore reads the database as of that position, and
// writers wait only for those few statements, not for the copy.
type snapshotter struct {
	server  *server
	tables  *tableSet
	history historyWriter
	emit    func(ctx context.Context, cs []change) error
	log     *slog.Logger

	withData      bool   // false for snapshot.mode=no_data
	lockMode      string // snapshot.locking.mode: minimal or none
	fetchSize     int    // rows per chunk
	threads       int    // snapshot.max.threads
	schemaChanges bool   // include.schema.changes
	// catchUp, when set, reads the binlog up to the snapshot's position
	// once it is known, before the snapshot's history and rows.
	catchUp func(ctx context.Context, until position) error
}

// run snapshots and returns the binlog position to stream from.
func (s *snapshotter) run(ctx context.Context) (position, error) {
	started := time.Now()
	ids, err := s.capturedTables(ctx)
	if err != nil {
		return position{}, err
	}
	threads := min(s.threads, max(len(ids), 1))
	if !s.withData {
		threads = 0
	}
	lock, err := s.server.db.Conn(ctx)
	if err != nil {
		return position{}, s.server.explain(fmt.Errorf("mysqlcdc: snapshot connection: %w", err))
	}
	defer lock.Close()
	workers := make([]*sql.Conn, threads)
	defer func() {
		for _, w := range workers {
			if w != nil {
				w.ExecContext(context.Background(), "ROLLBACK")
				w.Close()
			}
		}
	}()
	for i := range workers {
		if workers[i], err = s.server.db.Conn(ctx); err != nil {
			return position{}, s.server.explain(fmt.Errorf("mysqlcdc: snapshot connection: %w", err))
		}
	}

	// The locked phase.
	locked, err := s.lock(ctx, lock, ids)
	if err != nil {
		return position{}, err
	}
	unlock := func() {
		if locked {
			lock.ExecContext(context.Background(), "UNLOCK TABLES")
			locked = false
		}
	}
	defer unlock()
	lockedAt := time.Now()
	for _, w := range workers {
		if _, err := w.ExecContext(ctx, "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ"); err != nil {
			return position{}, s.server.explain(err)
		}
		if _, err := w.ExecContext(ctx, "START TRANSACTION WITH CONSISTENT SNAPSHOT"); err != nil {
			return position{}, s.server.explain(fmt.Errorf("mysqlcdc: start snapshot transaction: %w", err))
		}
	}
	pos, err := s.server.position(ctx, lock)
	if err != nil {
		return position{}, err
	}
	defs, charsets, err := s.readDefinitions(ctx, lock, ids)
	if err != nil {
		return position{}, err
	}
	unlock()
	s.log.Info("snapshot position read", "file", pos.File, "pos", pos.Pos, "gtids", pos.GTIDs,
		"tables", len(ids), "lock_held", time.Since(lockedAt).Round(time.Millisecond))
	if s.catchUp != nil {
		if err := s.catchUp(ctx, pos); err != nil {
			return position{}, err
		}
	}

	// The schema as of the position: start the history afresh.
	schemas := ddl.NewSchemas(s.server.charset)
	for db, cs := range charsets {
		schemas.SetDatabaseCharset(db, cs)
	}
	var captured []*capturedTable
	var history []*schemaChange
	for _, id := range ids {
		changes, err := schemas.Apply(id.Database, defs[id])
		if err != nil {
			return position{}, fmt.Errorf("mysqlcdc: definition of %s: %w", id, err)
		}
		history = append(history, &schemaChange{db: id.Database, ddl: defs[id], changes: changes})
	}
	s.tables.schemas = schemas
	s.tables.cache = map[ddl.TableID]*capturedTable{}
	for _, id := range ids {
		t, err := s.tables.get(id)
		if err != nil {
			return position{}, err
		}
		captured = append(captured, t)
	}
	snapPos := pos
	snapPos.Snapshot = true
	reset := &schemaChange{reset: true}
	dbs := make([]string, 0, len(charsets))
	for db := range charsets {
		dbs = append(dbs, db)
	}
	sort.Strings(dbs)
	for _, db := range dbs {
		if s.tables.filters.databaseCaptured(db) {
			reset.changes = append(reset.changes, ddl.Change{Type: ddl.Database, ID: ddl.TableID{Database: db}, Charset: charsets[db]})
		}
	}
	if err := s.history.record(ctx, pos, reset); err != nil {
		return position{}, err
	}
	for _, sc := range history {
		if err := s.history.record(ctx, pos, sc); err != nil {
			return position{}, err
		}
	}
	if s.schemaChanges {
		var out []change
		for _, sc := range history {
			out = append(out, change{op: opSchemaChange, ddl: sc, offset: snapPos,
				source: sourceInfo{tsMs: time.Now().UnixMilli(), snapshot: "true", db: sc.db, serverID: s.server.serverID, file: pos.File, pos: pos.Pos}})
		}
		if err := s.emit(ctx, out); err != nil {
			return position{}, err
		}
	}

	rows := 0
	if s.withData {
		if rows, err = s.copy(ctx, workers, captured, pos); err != nil {
			return position{}, err
		}
	}
	// The snapshot is complete: the position goes out at once (on a
	// heartbeat record), so a restart streams instead of snapshotting.
	done := pos
	done.Snapshot = false
	if err := s.emit(ctx, []change{{op: opHeartbeat, offset: done,
		source: sourceInfo{tsMs: time.Now().UnixMilli(), snapshot: "last", serverID: s.server.serverID}}}); err != nil {
		return position{}, err
	}
	s.log.Info("snapshot complete", "tables", len(captured), "rows", rows, "took", time.Since(started).Round(time.Millisecond))
	return done, nil
}

// capturedTables lists the base tables the filters capture, sorted.
func (s *snapshotter) capturedTables(ctx context.Context) ([]ddl.TableID, error) {
	rows, err := s.server.db.QueryContext(ctx,
		"SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE'")
	if err != nil {
		return nil, s.server.explain(fmt.Errorf("mysqlcdc: list tables: %w", err))
	}
	defer rows.Close()
	var ids []ddl.TableID
	for rows.Next() {
		var id ddl.TableID
		if err := rows.Scan(&id.Database, &id.Table); err != nil {
			return nil, err
		}
		if s.tables.filters.captured(id) {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i].String() < ids[j].String() })
	return ids, rows.Err()
}

// lock takes the global read lock, or per-table read locks without the
// RELOAD privilege. It reports whether a lock is held.
func (s *snapshotter) lock(ctx context.Context, c *sql.Conn, ids []ddl.TableID) (bool, error) {
	if s.lockMode == "none" {
		return false, nil
	}
	_, err := c.ExecContext(ctx, "FLUSH TABLES WITH READ LOCK")
	if err == nil {
		return true, nil
	}
	var me *driver.MySQLError
	if !errors.As(err, &me) || me.Number != 1227 || len(ids) == 0 {
		return false, s.server.explain(fmt.Errorf("mysqlcdc: FLUSH TABLES WITH READ LOCK: %w", err))
	}
	s.log.Info("no RELOAD privilege for the global read lock: locking the captured tables instead")
	names := make([]string, len(ids))
	for i, id := range ids {
		names[i] = quoteID(id) + " READ"
	}
	if _, err := c.ExecContext(ctx, "LOCK TABLES "+strings.Join(names, ", ")); err != nil {
		return false, s.server.explain(fmt.Errorf("mysqlcdc: LOCK TABLES: %w", err))
	}
	return true, nil
}

// readDefinitions reads SHOW CREATE TABLE of each table and the default
// character set of each database.
func (s *snapshotter) readDefinitions(ctx context.Context, c *sql.Conn, ids []ddl.TableID) (map[ddl.TableID]string, map[string]string, error) {
	defs := map[ddl.TableID]string{}
	for _, id := range ids {
		var name, def string
		if err := c.QueryRowContext(ctx, "SHOW CREATE TABLE "+quoteID(id)).Scan(&name, &def); err != nil {
			return nil, nil, s.server.explain(fmt.Errorf("mysqlcdc: SHOW CREATE TABLE %s: %w", id, err))
		}
		defs[id] = def
	}
	charsets := map[string]string{}
	rows, err := c.QueryContext(ctx, "SELECT SCHEMA_NAME, DEFAULT_CHARACTER_SET_NAME FROM information_schema.SCHEMATA")
	if err != nil {
		return nil, nil, s.server.explain(err)
	}
	defer rows.Close()
	for rows.Next() {
		var db, cs string
		if err := rows.Scan(&db, &cs); err != nil {
			return nil, nil, err
		}
		charsets[db] = cs
	}
	return defs, charsets, rows.Err()
}

// copy reads every table's rows on the worker connections, tables
// spread over the workers, each in primary-key order and chunks of
// fetchSize rows.
func (s *snapshotter) copy(ctx context.Context, workers []*sql.Conn, tables []*capturedTable, pos position) (int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	queue := make(chan *capturedTable, len(tables))
	for _, t := range tables {
		queue <- t
	}
	close(queue)
	var (
		mu    sync.Mutex
		total int
		first error
		wg    sync.WaitGroup
	)
	// Each worker owns its connection; the queue hands each table to one
	// worker, and the emit function is safe for concurrent use.
	for _, w := range workers {
		wg.Add(1)
		go func(w *sql.Conn) {
			defer wg.Done()
			for t := range queue {
				n, err := s.copyTable(ctx, w, t, pos)
				mu.Lock()
				total += n
				if err != nil && first == nil {
					first = err
					cancel()
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}(w)
	}
	wg.Wait()
	return total, first
}

func (s *snapshotter) copyTable(ctx context.Context, c *sql.Conn, t *capturedTable, pos position) (int, error) {
	var cols, keys []string
	var idx []int
	for i, col := range t.columns {
		if col != nil {
			cols = append(cols, quoteName(col.Name))
			idx = append(idx, i)
		}
	}
	// Chunks follow the primary key; a table keyed by message.key.columns
	// without a primary key is read in one pass.
	chunked := len(t.def.PrimaryKey) > 0
	var keyAt []int      // position of each key column in the select list
	var keyBinary []bool // whether a key column compares as bytes
	if chunked {
		for _, k := range t.def.PrimaryKey {
			_, ci := t.def.Column(k)
			keys = append(keys, quoteName(t.def.Columns[ci].Name))
			at := -1
			for j, i := range idx {
				if i == ci {
					at = j
				}
			}
			if at < 0 {
				// The key column is excluded from the record but needed to
				// page: select it too.
				cols = append(cols, quoteName(t.def.Columns[ci].Name))
				at = len(cols) - 1
			}
			keyAt = append(keyAt, at)
			keyBinary = append(keyBinary, t.def.Columns[ci].Charset == "binary")
		}
	}
	base := "SELECT " + strings.Join(cols, ", ") + " FROM " + quoteID(t.id)
	order := ""
	if chunked {
		order = " ORDER BY " + strings.Join(keys, ", ")
	}
	src := sourceInfo{snapshot: "true", db: t.id.Database, table: t.id.Table, serverID: s.server.serverID, file: pos.File, pos: pos.Pos}
	offset := pos
	offset.Snapshot = true
	total := 0
	var last []any
	for {
		query := base + order
		args := []any{}
		if chunked && last != nil {
			query = base + " WHERE " + keysetAfter(keys) + order
			args = keysetArgs(last)
		}
		if chunked {
			query += " LIMIT ?"
			args = append(args, s.fetchSize)
		} else {
			// A placeholder that is always true keeps the statement
			// prepared, so rows come in the binary protocol (exact FLOATs).
			query = base + " WHERE ? = 1"
			args = append(args, 1)
		}
		rows, err := c.QueryContext(ctx, query, args...)
		if err != nil {
			return total, s.server.explain(fmt.Errorf("mysqlcdc: snapshot %s: %w", t.id, err))
		}
		batch := make([]change, 0, min(s.fetchSize, 4096))
		n := 0
		raw := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range raw {
			ptrs[i] = &raw[i]
		}
		src.tsMs = time.Now().UnixMilli()
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return total, fmt.Errorf("mysqlcdc: snapshot %s: %w", t.id, err)
			}
			after := make([]any, len(t.columns))
			for j, i := range idx {
				v, err := t.columns[i].fromSnapshot(raw[j])
				if err != nil {
					rows.Close()
					return total, fmt.Errorf("mysqlcdc: snapshot %s: %w", t.id, err)
				}
				after[i] = v
			}
			if chunked {
				last = make([]any, len(keyAt))
				for k, at := range keyAt {
					// Text keys go back as strings, so the server compares
					// them in the column's collation, as ORDER BY sorts.
					if b, ok := raw[at].([]byte); ok && !keyBinary[k] {
						last[k] = string(b)
					} else {
						last[k] = raw[at]
					}
				}
			}
			batch = append(batch, change{op: opRead, table: t, after: after, source: src, offset: offset})
			n++
			if len(batch) == cap(batch) {
				if err := s.emit(ctx, batch); err != nil {
					rows.Close()
					return total, err
				}
				batch = make([]change, 0, cap(batch))
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return total, s.server.explain(fmt.Errorf("mysqlcdc: snapshot %s: %w", t.id, err))
		}
		if len(batch) > 0 {
			if err := s.emit(ctx, batch); err != nil {
				return total, err
			}
		}
		total += n
		if !chunked || n < s.fetchSize {
			return total, nil
		}
	}
}

// keysetAfter is the condition for rows after a key: (a > ?) OR (a = ? AND
// b > ?) ..., which both MySQL and MariaDB turn into an index range.
func keysetAfter(keys []string) string {
	var ors []string
	for i := range keys {
		var ands []string
		for j := 0; j < i; j++ {
			ands = append(ands, keys[j]+" = ?")
		}
		ands = append(ands, keys[i]+" > ?")
		ors = append(ors, "("+strings.Join(ands, " AND ")+")")
	}
	return "(" + strings.Join(ors, " OR ") + ")"
}

// keysetArgs are the arguments keysetAfter's condition takes.
func keysetArgs(last []any) []any {
	var args []any
	for i := range last {
		args = append(args, last[:i+1]...)
	}
	return args
}
