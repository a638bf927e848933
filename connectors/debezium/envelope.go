// Package debezium holds what Debezium's change events share across
// connectors: the envelope's field names and op codes, its schema, and the
// ExtractNewRecordState transform that flattens an envelope into the row
// it carries.
package debezium

import "github.com/tributary-streams/tributary/connect/data"

// Envelope field names.
const (
	FieldBefore      = "before"
	FieldAfter       = "after"
	FieldSource      = "source"
	FieldTransaction = "transaction"
	FieldOp          = "op"
	FieldTsMs        = "ts_ms"
)

// Op codes of the envelope's op field.
const (
	OpRead     = "r"
	OpCreate   = "c"
	OpUpdate   = "u"
	OpDelete   = "d"
	OpTruncate = "t"
)

// TransactionSchema is the envelope's optional transaction block
// (Debezium's event.block), null unless transaction metadata is on.
var TransactionSchema = func() *data.Schema {
	s := data.StructSchema("event.block",
		data.NewField("id", data.StringSchema),
		data.NewField("total_order", data.Int64Schema),
		data.NewField("data_collection_order", data.Int64Schema))
	s.Version = 1
	s.Optional = true
	return s
}()

// EnvelopeSchema returns the change event schema <name> (conventionally
// <topic>.Envelope) for a row schema, which must be optional, and a source
// block schema: {before, after, source, transaction, op, ts_ms}.
func EnvelopeSchema(name string, row, source *data.Schema) *data.Schema {
	s := data.StructSchema(name,
		data.NewField(FieldBefore, row),
		data.NewField(FieldAfter, row),
		data.NewField(FieldSource, source),
		data.NewField(FieldTransaction, TransactionSchema),
		data.NewField(FieldOp, data.StringSchema),
		data.NewField(FieldTsMs, data.OptionalInt64Schema))
	s.Version = 1
	return s
}

// Envelope field positions in EnvelopeSchema.
const (
	IndexBefore = iota
	IndexAfter
	IndexSource
	IndexTransaction
	IndexOp
	IndexTsMs
)
