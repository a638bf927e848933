package mysqlcdc

import "github.com/tributary-streams/tributary/connectors/mysqlcdc/internal/ddl"

// Debezium's op codes, plus two the connector uses internally.
const (
	opRead     = 'r'
	opCreate   = 'c'
	opUpdate   = 'u'
	opDelete   = 'd'
	opTruncate = 't'
	// opSchemaChange is a DDL statement (a record on the schema change
	// topic when include.schema.changes is on).
	opSchemaChange = 's'
	// opHeartbeat is a heartbeat record, or (with no topic) just a position
	// to commit.
	opHeartbeat = 'h'
)

// change is one thing the readers (snapshot and binlog) hand to the task:
// a row change, a truncate, a schema change or a heartbeat, with the
// position to resume from once it is in Kafka.
type change struct {
	op     byte
	table  *capturedTable
	before []any // column values in table order (nil for excluded columns)
	after  []any
	source sourceInfo
	offset position
	ddl    *schemaChange
}

// sourceInfo is what goes into the envelope's source block.
type sourceInfo struct {
	tsMs     int64  // when the change was made (binlog event time)
	snapshot string // "true", "last", "false"
	db       string
	table    string
	serverID uint32
	gtid     string
	file     string
	pos      uint32
	row      int32
	thread   int64
	query    string
}

// schemaChange is one DDL statement and what it did. A reset starts the
// history afresh (a snapshot's definitions follow it).
type schemaChange struct {
	reset   bool
	db      string
	ddl     string
	changes []ddl.Change
}
