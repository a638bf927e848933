package mysqlcdc

import (
	"strings"

	"github.com/tributary-streams/tributary/connect/data"
	"github.com/tributary-streams/tributary/connectors/mysqlcdc/internal/ddl"
)

// Schema change events (include.schema.changes) and heartbeats, in
// Debezium's schemas.

var (
	schemaChangeKeySchema = data.StructSchema("io.debezium.connector.mysql.SchemaChangeKey",
		data.NewField("databaseName", data.StringSchema))

	columnSchema = data.StructSchema("io.debezium.connector.schema.Column",
		data.NewField("name", data.StringSchema),
		data.NewField("jdbcType", data.Int32Schema),
		data.NewField("nativeType", data.OptionalInt32Schema),
		data.NewField("typeName", data.StringSchema),
		data.NewField("typeExpression", data.OptionalStringSchema),
		data.NewField("charsetName", data.OptionalStringSchema),
		data.NewField("length", data.OptionalInt32Schema),
		data.NewField("scale", data.OptionalInt32Schema),
		data.NewField("position", data.Int32Schema),
		data.NewField("optional", data.OptionalBooleanSchema),
		data.NewField("autoIncremented", data.OptionalBooleanSchema),
		data.NewField("generated", data.OptionalBooleanSchema),
		data.NewField("enumValues", data.Optional(data.ArraySchema(data.StringSchema))),
	)
	tableSchema = data.Optional(data.StructSchema("io.debezium.connector.schema.Table",
		data.NewField("defaultCharsetName", data.OptionalStringSchema),
		data.NewField("primaryKeyColumnNames", data.Optional(data.ArraySchema(data.StringSchema))),
		data.NewField("columns", data.ArraySchema(columnSchema)),
	))
	changeSchema = data.StructSchema("io.debezium.connector.schema.Change",
		data.NewField("type", data.StringSchema),
		data.NewField("id", data.StringSchema),
		data.NewField("table", tableSchema),
	)

	heartbeatKeySchema = data.StructSchema("io.debezium.connector.common.ServerNameKey",
		data.NewField("serverName", data.StringSchema))
	heartbeatValueSchema = data.StructSchema("io.debezium.connector.common.Heartbeat",
		data.NewField("ts_ms", data.Int64Schema))
)

func schemaChangeValueSchema(source *data.Schema) *data.Schema {
	return data.StructSchema("io.debezium.connector.mysql.SchemaChangeValue",
		data.NewField("source", source),
		data.NewField("ts_ms", data.Int64Schema),
		data.NewField("databaseName", data.OptionalStringSchema),
		data.NewField("schemaName", data.OptionalStringSchema),
		data.NewField("ddl", data.OptionalStringSchema),
		data.NewField("tableChanges", data.ArraySchema(changeSchema)),
	)
}

// jdbcTypes are java.sql.Types codes, which Debezium reports per column.
var jdbcTypes = map[string]int32{
	"TINYINT": -6, "SMALLINT": 5, "MEDIUMINT": 4, "INT": 4, "BIGINT": -5, "DECIMAL": 3, "FLOAT": 7, "DOUBLE": 8,
	"BIT": -7, "DATE": 91, "TIME": 92, "DATETIME": 93, "TIMESTAMP": 2014, "YEAR": 4,
	"CHAR": 1, "VARCHAR": 12, "TINYTEXT": 12, "TEXT": -1, "MEDIUMTEXT": -1, "LONGTEXT": -1, "JSON": 1111,
	"BINARY": -2, "VARBINARY": -3, "TINYBLOB": -3, "BLOB": 2004, "MEDIUMBLOB": 2004, "LONGBLOB": 2004,
	"ENUM": 1, "SET": 1,
}

// tableChangesValue renders ddl changes as Debezium's tableChanges array.
func tableChangesValue(changes []ddl.Change) []any {
	out := []any{}
	for _, c := range changes {
		if c.ID.Table == "" {
			continue // a database's charset
		}
		ch := data.NewStruct(changeSchema)
		ch.PutAt(0, c.Type)
		ch.PutAt(1, `"`+c.ID.Database+`"."`+c.ID.Table+`"`)
		if c.Table != nil {
			ch.PutAt(2, tableValue(c.Table))
		}
		out = append(out, ch)
	}
	return out
}

func tableValue(t *ddl.Table) *data.Struct {
	s := data.NewStruct(tableSchema)
	if t.Charset != "" {
		s.PutAt(0, t.Charset)
	}
	pk := []any{}
	for _, k := range t.PrimaryKey {
		pk = append(pk, k)
	}
	s.PutAt(1, pk)
	cols := []any{}
	for i, c := range t.Columns {
		col := data.NewStruct(columnSchema)
		col.PutAt(0, c.Name)
		jdbc, ok := jdbcTypes[c.Type]
		if !ok {
			jdbc = 1111 // OTHER: geometry and the rest
		}
		col.PutAt(1, jdbc)
		typeName := c.Type
		if c.Unsigned {
			typeName += " UNSIGNED"
		}
		col.PutAt(3, typeName)
		col.PutAt(4, strings.ToLower(c.Type))
		if c.Charset != "" {
			col.PutAt(5, c.Charset)
		}
		switch {
		case c.Length > 0:
			col.PutAt(6, int32(c.Length))
		case c.FSP > 0:
			col.PutAt(6, int32(c.FSP))
		}
		if c.Type == "DECIMAL" {
			col.PutAt(7, int32(c.Scale))
		}
		col.PutAt(8, int32(i+1))
		col.PutAt(9, c.Nullable)
		col.PutAt(10, c.AutoIncrement)
		col.PutAt(11, c.Generated)
		if len(c.Values) > 0 {
			vals := make([]any, len(c.Values))
			for j, v := range c.Values {
				vals[j] = v
			}
			col.PutAt(12, vals)
		}
		cols = append(cols, col)
	}
	s.PutAt(2, cols)
	return s
}
