package mysqlcdc

import (
	"context"
	"fmt"
	"time"

	"github.com/tributary-streams/tributary/connect"
	"github.com/tributary-streams/tributary/connect/data"
	"github.com/tributary-streams/tributary/connectors/debezium"
)

// recordMaker turns changes into source records. Each goroutine that
// emits changes (a snapshot worker, the binlog reader) uses its own maker:
// its caches are not shared; the topics it creates are (topics locks).
type recordMaker struct {
	source            *data.Schema
	schemaChangeValue *data.Schema
	topics            *topics
	partition         map[string]any
	serverID          uint32
	flavor            string
	prefix            string
	heartbeatTopic    string
	tombstones        bool

	// Consecutive changes often share their source block and offset (a
	// snapshot chunk, a DDL's records): the last ones built are reused.
	// Records and their values are read-only once handed on, so sharing is
	// safe.
	lastSource    sourceInfo
	lastSourceVal *data.Struct
	lastOffsetPos position
	lastOffsetTs  int64
	lastOffsetVal map[string]any
}

// maker returns a new recordMaker for one emitting goroutine.
func (t *Task) maker() *recordMaker {
	return &recordMaker{source: t.source, schemaChangeValue: t.schemaChangeValue, topics: t.topics,
		partition: t.partition, serverID: t.server.serverID, flavor: t.server.flavor, prefix: t.cfg.TopicPrefix,
		heartbeatTopic: t.cfg.HeartbeatTopicsPrefix + "." + t.cfg.TopicPrefix, tombstones: t.cfg.Tombstones}
}

// make converts a batch of changes.
func (mk *recordMaker) make(ctx context.Context, cs []change) ([]connect.SourceRecord, error) {
	out := make([]connect.SourceRecord, 0, len(cs)+len(cs)/8)
	var err error
	for _, c := range cs {
		if out, err = mk.records(ctx, c, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// records turns one change into its records.
func (mk *recordMaker) records(ctx context.Context, c change, out []connect.SourceRecord) ([]connect.SourceRecord, error) {
	tsSec := c.source.tsMs / 1000
	if mk.lastOffsetVal == nil || c.offset != mk.lastOffsetPos || tsSec != mk.lastOffsetTs {
		mk.lastOffsetPos, mk.lastOffsetTs = c.offset, tsSec
		mk.lastOffsetVal = c.offset.offset(mk.serverID, tsSec)
	}
	offset := mk.lastOffsetVal
	rec := func(topic string, partition int32, keySchema *data.Schema, key any, valueSchema *data.Schema, value any) connect.SourceRecord {
		return connect.SourceRecord{
			Record: connect.Record{Topic: topic, Partition: partition, KeySchema: keySchema, Key: key,
				ValueSchema: valueSchema, Value: value},
			SourcePartition: mk.partition, SourceOffset: offset,
		}
	}
	now := time.Now().UnixMilli()
	switch c.op {
	case opHeartbeat:
		topic := mk.heartbeatTopic
		if _, err := mk.topics.count(ctx, topic, 1); err != nil {
			return out, err
		}
		key := data.NewStruct(heartbeatKeySchema)
		key.PutAt(0, mk.prefix)
		val := data.NewStruct(heartbeatValueSchema)
		val.PutAt(0, now)
		return append(out, rec(topic, 0, heartbeatKeySchema, key, heartbeatValueSchema, val)), nil
	case opSchemaChange:
		topic := mk.prefix
		if _, err := mk.topics.count(ctx, topic, 1); err != nil {
			return out, err
		}
		key := data.NewStruct(schemaChangeKeySchema)
		key.PutAt(0, c.ddl.db)
		val := data.NewStruct(mk.schemaChangeValue)
		val.PutAt(0, mk.sourceBlock(c.source))
		val.PutAt(1, now)
		if c.ddl.db != "" {
			val.PutAt(2, c.ddl.db)
		}
		val.PutAt(4, c.ddl.ddl)
		val.PutAt(5, tableChangesValue(c.ddl.changes))
		return append(out, rec(topic, 0, schemaChangeKeySchema, key, mk.schemaChangeValue, val)), nil
	}

	tbl := c.table
	ts := tbl.recordSchemas(mk.source)
	n, err := mk.topics.count(ctx, tbl.topic, 0)
	if err != nil {
		return out, err
	}
	env := data.NewStruct(ts.envelope)
	env.PutAt(debezium.IndexSource, mk.sourceBlock(c.source))
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
			if mk.tombstones {
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
	if c.op == opDelete && mk.tombstones {
		// A tombstone has neither value nor value schema, so converters
		// write a null value.
		out = append(out, rec(tbl.topic, part, ts.key, key, nil, nil))
	}
	return out, nil
}

// sourceBlock returns the source struct of si, reusing the last one when
// it is the same.
func (mk *recordMaker) sourceBlock(si sourceInfo) *data.Struct {
	if mk.lastSourceVal == nil || si != mk.lastSource {
		mk.lastSource = si
		mk.lastSourceVal = sourceStruct(mk.source, mk.flavor, mk.prefix, si)
	}
	return mk.lastSourceVal
}
