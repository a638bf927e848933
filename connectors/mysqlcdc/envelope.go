package mysqlcdc

import (
	"strconv"
	"strings"

	"github.com/tributary-streams/tributary/connect"
	"github.com/tributary-streams/tributary/connect/data"
	"github.com/tributary-streams/tributary/connectors/debezium"
)

// Debezium's semantic type names, carried as schema names.
const (
	nameDate           = "io.debezium.time.Date"
	nameMicroTime      = "io.debezium.time.MicroTime"
	nameTimestamp      = "io.debezium.time.Timestamp"
	nameMicroTimestamp = "io.debezium.time.MicroTimestamp"
	nameZonedTimestamp = "io.debezium.time.ZonedTimestamp"
	nameYear           = "io.debezium.time.Year"
	nameEnum           = "io.debezium.data.Enum"
	nameEnumSet        = "io.debezium.data.EnumSet"
	nameBits           = "io.debezium.data.Bits"
	nameJSON           = "io.debezium.data.Json"
	nameGeometry       = "io.debezium.data.geometry.Geometry"
	namePoint          = "io.debezium.data.geometry.Point"
)

// fieldSchema is a column's schema in row structs, as Debezium's MySQL
// connector defines it; optional when the column is nullable.
func fieldSchema(c *column) *data.Schema {
	named := func(t data.Type, name string, params map[string]string) *data.Schema {
		return &data.Schema{Type: t, Name: name, Version: 1, Parameters: params}
	}
	var s *data.Schema
	switch c.kind {
	case kindInt16:
		s = &data.Schema{Type: data.TypeInt16}
	case kindInt32:
		s = &data.Schema{Type: data.TypeInt32}
	case kindInt64:
		s = &data.Schema{Type: data.TypeInt64}
	case kindDecimal:
		precision := c.Length
		if c.Type == "BIGINT" {
			precision = 20
		}
		s = data.DecimalSchema(c.scale)
		s.Parameters["connect.decimal.precision"] = strconv.Itoa(precision)
	case kindDecimalDouble, kindFloat64:
		s = &data.Schema{Type: data.TypeFloat64}
	case kindDecimalString, kindString:
		s = &data.Schema{Type: data.TypeString}
	case kindFloat32:
		s = &data.Schema{Type: data.TypeFloat32}
	case kindBool:
		s = &data.Schema{Type: data.TypeBoolean}
	case kindBits:
		s = named(data.TypeBytes, nameBits, map[string]string{"length": strconv.Itoa(c.bits)})
	case kindBytes:
		s = &data.Schema{Type: data.TypeBytes}
		if c.binary != "bytes" && c.binary != "" {
			s = &data.Schema{Type: data.TypeString}
		}
	case kindDate:
		s = named(data.TypeInt32, nameDate, nil)
	case kindMicroTime:
		s = named(data.TypeInt64, nameMicroTime, nil)
	case kindTimestamp:
		s = named(data.TypeInt64, nameTimestamp, nil)
	case kindMicroTimestamp:
		s = named(data.TypeInt64, nameMicroTimestamp, nil)
	case kindZonedTimestamp:
		s = named(data.TypeString, nameZonedTimestamp, nil)
	case kindYear:
		s = named(data.TypeInt32, nameYear, nil)
	case kindEnum:
		s = named(data.TypeString, nameEnum, map[string]string{"allowed": strings.Join(c.Values, ",")})
	case kindSet:
		s = named(data.TypeString, nameEnumSet, map[string]string{"allowed": strings.Join(c.Values, ",")})
	case kindJSON:
		s = named(data.TypeString, nameJSON, nil)
	case kindGeometry:
		s = data.StructSchema(nameGeometry,
			data.NewField("wkb", data.BytesSchema),
			data.NewField("srid", data.OptionalInt32Schema))
		s.Version, s.Doc = 1, "Geometry"
	case kindPoint:
		s = data.StructSchema(namePoint,
			data.NewField("x", data.Float64Schema),
			data.NewField("y", data.Float64Schema),
			data.NewField("wkb", data.OptionalBytesSchema),
			data.NewField("srid", data.OptionalInt32Schema))
		s.Version, s.Doc = 1, "Geometry (POINT)"
	}
	s.Optional = c.optional
	return s
}

// tableSchemas are one table's record schemas: the key struct, the row
// struct (before/after) and the envelope.
type tableSchemas struct {
	key      *data.Schema
	row      *data.Schema // optional: before and after may be null
	envelope *data.Schema
	// rowColumns maps row fields to column indexes.
	rowColumns []int
}

// newTableSchemas names the schemas as Debezium does:
// <prefix>.<db>.<table>.Key / .Value / .Envelope.
func newTableSchemas(t *capturedTable, source *data.Schema) *tableSchemas {
	base := t.topic
	ts := &tableSchemas{}
	var keyFields, rowFields []data.Field
	for _, i := range t.key {
		keyFields = append(keyFields, data.NewField(t.columns[i].Name, t.columns[i].schema))
	}
	for i, c := range t.columns {
		if c == nil {
			continue
		}
		rowFields = append(rowFields, data.NewField(c.Name, c.schema))
		ts.rowColumns = append(ts.rowColumns, i)
	}
	ts.key = data.StructSchema(base+".Key", keyFields...)
	ts.row = data.StructSchema(base+".Value", rowFields...)
	ts.row.Optional = true
	ts.envelope = debezium.EnvelopeSchema(base+".Envelope", ts.row, source)
	return ts
}

// sourceSchema is the envelope's source block for the flavor:
// io.debezium.connector.mysql.Source or io.debezium.connector.mariadb.Source.
func sourceSchema(flavor string) *data.Schema {
	enum := &data.Schema{Type: data.TypeString, Name: nameEnum, Version: 1, Optional: true, Default: "false",
		Parameters: map[string]string{"allowed": "true,last,false,incremental"}}
	s := data.StructSchema("io.debezium.connector."+flavor+".Source",
		data.NewField("version", data.StringSchema),
		data.NewField("connector", data.StringSchema),
		data.NewField("name", data.StringSchema),
		data.NewField("ts_ms", data.Int64Schema),
		data.NewField("snapshot", enum),
		data.NewField("db", data.StringSchema),
		data.NewField("sequence", data.OptionalStringSchema),
		data.NewField("table", data.OptionalStringSchema),
		data.NewField("server_id", data.Int64Schema),
		data.NewField("gtid", data.OptionalStringSchema),
		data.NewField("file", data.StringSchema),
		data.NewField("pos", data.Int64Schema),
		data.NewField("row", data.Int32Schema),
		data.NewField("thread", data.OptionalInt64Schema),
		data.NewField("query", data.OptionalStringSchema),
	)
	return s
}

// sourceStruct fills a source block.
func sourceStruct(schema *data.Schema, flavor, name string, si sourceInfo) *data.Struct {
	s := data.NewStruct(schema)
	snapshot := si.snapshot
	if snapshot == "" {
		snapshot = "false"
	}
	s.PutAt(0, connect.Version)
	s.PutAt(1, flavor)
	s.PutAt(2, name)
	s.PutAt(3, si.tsMs)
	s.PutAt(4, snapshot)
	s.PutAt(5, si.db)
	if si.table != "" {
		s.PutAt(7, si.table)
	}
	s.PutAt(8, int64(si.serverID))
	if si.gtid != "" {
		s.PutAt(9, si.gtid)
	}
	s.PutAt(10, si.file)
	s.PutAt(11, int64(si.pos))
	s.PutAt(12, si.row)
	if si.thread != 0 {
		s.PutAt(13, si.thread)
	}
	if si.query != "" {
		s.PutAt(14, si.query)
	}
	return s
}

// rowStruct builds a before/after struct from column values.
func (ts *tableSchemas) rowStruct(vals []any) (*data.Struct, error) {
	if vals == nil {
		return nil, nil
	}
	s := data.NewStruct(ts.row)
	for f, i := range ts.rowColumns {
		if err := s.PutAt(f, vals[i]); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// keyStruct builds the key struct from the row's values.
func (ts *tableSchemas) keyStruct(t *capturedTable, vals []any) (*data.Struct, error) {
	s := data.NewStruct(ts.key)
	for f, i := range t.key {
		if err := s.PutAt(f, vals[i]); err != nil {
			return nil, err
		}
	}
	return s, nil
}
