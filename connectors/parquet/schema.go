package parquet

import (
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strconv"
	"time"

	"github.com/xitongsys/parquet-go/common"
	"github.com/xitongsys/parquet-go/layout"
	pq "github.com/xitongsys/parquet-go/parquet"
	"github.com/xitongsys/parquet-go/schema"

	"github.com/tributary-streams/tributary/connect/data"
)

// A Parquet file's schema compiled from a record's Connect schema: the
// Parquet schema elements, and a tree that shreds each record into column
// values with their repetition and definition levels (Dremel), written
// straight into xitongsys/parquet-go's column tables.
//
// Mapping: int8/int16/int32 are INT32 (INT_8/INT_16 annotated), int64 is
// INT64, float32 FLOAT, float64 DOUBLE, boolean BOOLEAN, string a UTF8
// BYTE_ARRAY, bytes a BYTE_ARRAY; Connect Decimal a DECIMAL BYTE_ARRAY
// (precision from connect.decimal.precision, else 38), Date a DATE, Time
// a TIME_MILLIS, Timestamp a TIMESTAMP_MILLIS; Debezium's Date,
// Timestamp, MicroTimestamp and MicroTime likewise (DATE,
// TIMESTAMP_MILLIS, TIMESTAMP_MICROS, TIME_MICROS); a struct a group, an
// array a 3-level LIST, a map a MAP of key_value. Optional schemas are
// OPTIONAL fields, others REQUIRED.

// nodeKind is what a schema node is.
type nodeKind uint8

const (
	leafNode nodeKind = iota
	groupNode
	listNode
	mapNode
)

type node struct {
	name     string
	kind     nodeKind
	optional bool
	// def is the definition level when this node is present; rep the
	// repetition level its repeated children start at (lists, maps).
	def, rep int32
	// children: a group's fields; a list's element; a map's key and value.
	children []*node
	leaf     *column
	// leaves are every column under the node, for nulls.
	leaves []*column
}

// column is one leaf column.
type column struct {
	element *pq.SchemaElement
	index   int32 // element index in the schema
	leaf    int   // position among the leaves
	conv    func(v any) (any, error)
	path    string
}

// columns are the column tables a file is shredding rows into, one per
// leaf.
type columns []*layout.Table

func (cs columns) add(c *column, v any, rep, def int32) {
	t := cs[c.leaf]
	t.Values = append(t.Values, v)
	t.RepetitionLevels = append(t.RepetitionLevels, rep)
	t.DefinitionLevels = append(t.DefinitionLevels, def)
}

// fileSchema is a compiled schema.
type fileSchema struct {
	connect  *data.Schema
	root     *node
	elements []*pq.SchemaElement
	leaves   []*column
	// names are the elements' real names; the schema handler is built with
	// safe unique names (f0, f1, ...) so no two fields can collide in
	// xitongsys's Go-identifier paths, then renamed back.
	names []string
	// handler is xitongsys's view of the schema, shared by the files.
	handler *schema.SchemaHandler
}

// ErrSchema marks a record schema that cannot be written as Parquet.
var ErrSchema = errors.New("parquet: schema")

// compileSchema compiles a struct schema.
func compileSchema(s *data.Schema) (*fileSchema, error) {
	if s == nil || s.Type != data.TypeStruct {
		return nil, fmt.Errorf("%w: the value schema is %s; Parquet rows are structs (use a converter with schemas, e.g. JsonConverter with schemas.enable=true, or unwrap change events with ExtractNewRecordState)", ErrSchema, s)
	}
	fs := &fileSchema{connect: s}
	root := &pq.SchemaElement{Name: "schema", RepetitionType: pq.FieldRepetitionTypePtr(pq.FieldRepetitionType_REQUIRED)}
	fs.add(root, "schema")
	fs.root = &node{name: "schema", kind: groupNode}
	n := int32(len(s.Fields))
	root.NumChildren = &n
	for _, f := range s.Fields {
		child, err := fs.compile(f.Name, f.Schema, 0, 0, 0)
		if err != nil {
			return nil, err
		}
		fs.root.children = append(fs.root.children, child)
		fs.root.leaves = append(fs.root.leaves, child.leaves...)
	}
	fs.handler = fs.newHandler()
	return fs, nil
}

func (fs *fileSchema) add(e *pq.SchemaElement, name string) int32 {
	fs.elements = append(fs.elements, e)
	fs.names = append(fs.names, name)
	return int32(len(fs.elements) - 1)
}

func repetition(optional bool) *pq.FieldRepetitionType {
	if optional {
		return pq.FieldRepetitionTypePtr(pq.FieldRepetitionType_OPTIONAL)
	}
	return pq.FieldRepetitionTypePtr(pq.FieldRepetitionType_REQUIRED)
}

const maxDepth = 64

// compile adds the elements of one field; parentDef and parentRep are the
// levels of its parent, depth guards runaway recursion.
func (fs *fileSchema) compile(name string, s *data.Schema, parentDef, parentRep int32, depth int) (*node, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("%w: field %s nests more than %d levels", ErrSchema, name, maxDepth)
	}
	if s == nil {
		return nil, fmt.Errorf("%w: field %s has no schema", ErrSchema, name)
	}
	n := &node{name: name, optional: s.Optional, def: parentDef, rep: parentRep}
	if s.Optional {
		n.def++
	}
	switch s.Type {
	case data.TypeStruct:
		n.kind = groupNode
		e := &pq.SchemaElement{Name: name, RepetitionType: repetition(s.Optional)}
		count := int32(len(s.Fields))
		e.NumChildren = &count
		fs.add(e, name)
		if count == 0 {
			return nil, fmt.Errorf("%w: struct field %s has no fields; Parquet groups need at least one", ErrSchema, name)
		}
		for _, f := range s.Fields {
			c, err := fs.compile(f.Name, f.Schema, n.def, parentRep, depth+1)
			if err != nil {
				return nil, err
			}
			n.children = append(n.children, c)
			n.leaves = append(n.leaves, c.leaves...)
		}
	case data.TypeArray:
		// <name> (LIST) { repeated group list { element } }
		n.kind = listNode
		n.rep = parentRep + 1
		one := int32(1)
		e := &pq.SchemaElement{Name: name, RepetitionType: repetition(s.Optional), NumChildren: &one,
			ConvertedType: pq.ConvertedTypePtr(pq.ConvertedType_LIST), LogicalType: &pq.LogicalType{LIST: pq.NewListType()}}
		fs.add(e, name)
		fs.add(&pq.SchemaElement{Name: "list", RepetitionType: pq.FieldRepetitionTypePtr(pq.FieldRepetitionType_REPEATED), NumChildren: &one}, "list")
		c, err := fs.compile("element", s.ValueSchema, n.def+1, n.rep, depth+1)
		if err != nil {
			return nil, err
		}
		n.children = []*node{c}
		n.leaves = c.leaves
	case data.TypeMap:
		// <name> (MAP) { repeated group key_value { key; value } }
		n.kind = mapNode
		n.rep = parentRep + 1
		one, two := int32(1), int32(2)
		e := &pq.SchemaElement{Name: name, RepetitionType: repetition(s.Optional), NumChildren: &one,
			ConvertedType: pq.ConvertedTypePtr(pq.ConvertedType_MAP), LogicalType: &pq.LogicalType{MAP: pq.NewMapType()}}
		fs.add(e, name)
		fs.add(&pq.SchemaElement{Name: "key_value", RepetitionType: pq.FieldRepetitionTypePtr(pq.FieldRepetitionType_REPEATED), NumChildren: &two,
			ConvertedType: pq.ConvertedTypePtr(pq.ConvertedType_MAP_KEY_VALUE)}, "key_value")
		if s.KeySchema == nil || !s.KeySchema.Type.IsPrimitive() || s.KeySchema.Type == data.TypeBytes {
			return nil, fmt.Errorf("%w: map field %s has %s keys; Parquet map keys must be primitive", ErrSchema, name, s.KeySchema)
		}
		key := s.KeySchema
		if key.Optional {
			key = key.Clone()
			key.Optional = false // Parquet map keys are required
		}
		k, err := fs.compile("key", key, n.def+1, n.rep, depth+1)
		if err != nil {
			return nil, err
		}
		v, err := fs.compile("value", s.ValueSchema, n.def+1, n.rep, depth+1)
		if err != nil {
			return nil, err
		}
		n.children = []*node{k, v}
		n.leaves = append(append([]*column(nil), k.leaves...), v.leaves...)
	default:
		e, conv, err := leafElement(name, s)
		if err != nil {
			return nil, err
		}
		n.kind = leafNode
		col := &column{element: e, conv: conv, leaf: len(fs.leaves)}
		col.index = fs.add(e, name)
		n.leaf = col
		n.leaves = []*column{col}
		fs.leaves = append(fs.leaves, col)
	}
	return n, nil
}

// leafElement maps a primitive (or logical) schema to its Parquet element
// and the conversion of its values.
func leafElement(name string, s *data.Schema) (*pq.SchemaElement, func(any) (any, error), error) {
	e := &pq.SchemaElement{Name: name, RepetitionType: repetition(s.Optional)}
	typ := func(t pq.Type) { e.Type = pq.TypePtr(t) }
	wrong := func(v any) error { return fmt.Errorf("field %s: want %s, got %T", name, s.Type, v) }
	switch s.Name {
	case data.DecimalName:
		scale, err := data.DecimalScale(s)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: field %s: %v", ErrSchema, name, err)
		}
		precision := int32(38)
		if p, ok := s.Parameters["connect.decimal.precision"]; ok {
			n, err := strconv.Atoi(p)
			if err != nil || n < 1 {
				return nil, nil, fmt.Errorf("%w: field %s: connect.decimal.precision %q is not a positive integer", ErrSchema, name, p)
			}
			precision = int32(n)
		}
		if scale < 0 || scale > precision {
			return nil, nil, fmt.Errorf("%w: field %s: decimal scale %d outside 0..%d (its precision)", ErrSchema, name, scale, precision)
		}
		typ(pq.Type_BYTE_ARRAY)
		e.ConvertedType = pq.ConvertedTypePtr(pq.ConvertedType_DECIMAL)
		e.Scale, e.Precision = &scale, &precision
		e.LogicalType = &pq.LogicalType{DECIMAL: &pq.DecimalType{Scale: scale, Precision: precision}}
		limit := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(precision)), nil)
		return e, func(v any) (any, error) {
			d, ok := v.(data.Decimal)
			if !ok || d.Unscaled == nil {
				return nil, fmt.Errorf("field %s: want a decimal, got %T", name, v)
			}
			if d.Scale != scale {
				return nil, fmt.Errorf("field %s: decimal %s has scale %d, the schema %d", name, d, d.Scale, scale)
			}
			if new(big.Int).Abs(d.Unscaled).Cmp(limit) >= 0 {
				return nil, fmt.Errorf("field %s: decimal %s has more than %d digits", name, d, precision)
			}
			return string(data.DecimalBytes(d)), nil
		}, nil
	case data.DateName:
		typ(pq.Type_INT32)
		e.ConvertedType = pq.ConvertedTypePtr(pq.ConvertedType_DATE)
		e.LogicalType = &pq.LogicalType{DATE: pq.NewDateType()}
		return e, func(v any) (any, error) {
			p, err := data.FromLogical(s, v)
			if err != nil {
				return nil, fmt.Errorf("field %s: %v", name, err)
			}
			return p, nil
		}, nil
	case data.TimeName:
		typ(pq.Type_INT32)
		e.ConvertedType = pq.ConvertedTypePtr(pq.ConvertedType_TIME_MILLIS)
		e.LogicalType = &pq.LogicalType{TIME: &pq.TimeType{IsAdjustedToUTC: true, Unit: timeUnit(false)}}
		return e, func(v any) (any, error) {
			p, err := data.FromLogical(s, v)
			if err != nil {
				return nil, fmt.Errorf("field %s: %v", name, err)
			}
			return p, nil
		}, nil
	case data.TimestampName:
		typ(pq.Type_INT64)
		e.ConvertedType = pq.ConvertedTypePtr(pq.ConvertedType_TIMESTAMP_MILLIS)
		e.LogicalType = &pq.LogicalType{TIMESTAMP: &pq.TimestampType{IsAdjustedToUTC: true, Unit: timeUnit(false)}}
		return e, func(v any) (any, error) {
			t, ok := v.(time.Time)
			if !ok {
				return nil, fmt.Errorf("field %s: want time.Time, got %T", name, v)
			}
			return t.UnixMilli(), nil
		}, nil
	}
	switch s.Type {
	case data.TypeInt8:
		typ(pq.Type_INT32)
		e.ConvertedType = pq.ConvertedTypePtr(pq.ConvertedType_INT_8)
		e.LogicalType = &pq.LogicalType{INTEGER: &pq.IntType{BitWidth: 8, IsSigned: true}}
		return e, func(v any) (any, error) {
			if n, ok := v.(int8); ok {
				return int32(n), nil
			}
			return nil, wrong(v)
		}, nil
	case data.TypeInt16:
		typ(pq.Type_INT32)
		e.ConvertedType = pq.ConvertedTypePtr(pq.ConvertedType_INT_16)
		e.LogicalType = &pq.LogicalType{INTEGER: &pq.IntType{BitWidth: 16, IsSigned: true}}
		return e, func(v any) (any, error) {
			if n, ok := v.(int16); ok {
				return int32(n), nil
			}
			return nil, wrong(v)
		}, nil
	case data.TypeInt32:
		typ(pq.Type_INT32)
		if s.Name == "io.debezium.time.Date" {
			e.ConvertedType = pq.ConvertedTypePtr(pq.ConvertedType_DATE)
			e.LogicalType = &pq.LogicalType{DATE: pq.NewDateType()}
		}
		return e, same[int32](wrong), nil
	case data.TypeInt64:
		typ(pq.Type_INT64)
		switch s.Name {
		case "io.debezium.time.Timestamp":
			e.ConvertedType = pq.ConvertedTypePtr(pq.ConvertedType_TIMESTAMP_MILLIS)
			e.LogicalType = &pq.LogicalType{TIMESTAMP: &pq.TimestampType{IsAdjustedToUTC: true, Unit: timeUnit(false)}}
		case "io.debezium.time.MicroTimestamp":
			e.ConvertedType = pq.ConvertedTypePtr(pq.ConvertedType_TIMESTAMP_MICROS)
			e.LogicalType = &pq.LogicalType{TIMESTAMP: &pq.TimestampType{IsAdjustedToUTC: true, Unit: timeUnit(true)}}
		case "io.debezium.time.MicroTime":
			e.ConvertedType = pq.ConvertedTypePtr(pq.ConvertedType_TIME_MICROS)
			e.LogicalType = &pq.LogicalType{TIME: &pq.TimeType{IsAdjustedToUTC: true, Unit: timeUnit(true)}}
		}
		return e, same[int64](wrong), nil
	case data.TypeFloat32:
		typ(pq.Type_FLOAT)
		return e, same[float32](wrong), nil
	case data.TypeFloat64:
		typ(pq.Type_DOUBLE)
		return e, same[float64](wrong), nil
	case data.TypeBoolean:
		typ(pq.Type_BOOLEAN)
		return e, same[bool](wrong), nil
	case data.TypeString:
		typ(pq.Type_BYTE_ARRAY)
		e.ConvertedType = pq.ConvertedTypePtr(pq.ConvertedType_UTF8)
		e.LogicalType = &pq.LogicalType{STRING: pq.NewStringType()}
		return e, same[string](wrong), nil
	case data.TypeBytes:
		typ(pq.Type_BYTE_ARRAY)
		return e, func(v any) (any, error) {
			if b, ok := v.([]byte); ok {
				return string(b), nil
			}
			return nil, wrong(v)
		}, nil
	}
	return nil, nil, fmt.Errorf("%w: field %s has unknown type %q", ErrSchema, name, s.Type)
}

// same passes values of type T through.
func same[T any](wrong func(any) error) func(any) (any, error) {
	return func(v any) (any, error) {
		if _, ok := v.(T); ok {
			return v, nil
		}
		return nil, wrong(v)
	}
}

func timeUnit(micros bool) *pq.TimeUnit {
	u := pq.NewTimeUnit()
	if micros {
		u.MICROS = pq.NewMicroSeconds()
	} else {
		u.MILLIS = pq.NewMilliSeconds()
	}
	return u
}

// newHandler builds xitongsys's schema handler: unique safe internal
// names, the real names as external ones.
func (fs *fileSchema) newHandler() *schema.SchemaHandler {
	for i, e := range fs.elements {
		e.Name = "f" + strconv.Itoa(i)
	}
	sh := schema.NewSchemaHandlerFromSchemaList(fs.elements)
	for i, e := range fs.elements {
		sh.Infos[i].ExName = fs.names[i]
		e.Name = fs.names[i]
	}
	sh.CreateInExMap()
	for _, c := range fs.leaves {
		c.path = sh.IndexMap[c.index]
	}
	return sh
}

// newColumns returns empty column tables for n rows.
func (fs *fileSchema) newColumns(n int) columns {
	cs := make(columns, len(fs.leaves))
	for i, c := range fs.leaves {
		t := layout.NewEmptyTable()
		t.Path = common.StrToPath(c.path)
		t.MaxDefinitionLevel, _ = fs.handler.MaxDefinitionLevel(t.Path)
		t.MaxRepetitionLevel, _ = fs.handler.MaxRepetitionLevel(t.Path)
		t.RepetitionType = c.element.GetRepetitionType()
		t.Schema = c.element
		t.Info = fs.handler.Infos[c.index]
		t.Values = make([]any, 0, n)
		t.DefinitionLevels = make([]int32, 0, n)
		t.RepetitionLevels = make([]int32, 0, n)
		cs[i] = t
	}
	return cs
}

// shred appends one row to the column tables. On an error the tables are
// left as they were before the row.
func (fs *fileSchema) shred(cs columns, row *data.Struct) error {
	if len(row.Schema().Fields) != len(fs.root.children) {
		return fmt.Errorf("parquet: row has %d fields, the file's schema %d", len(row.Schema().Fields), len(fs.root.children))
	}
	marks := make([]int, len(cs))
	for i, t := range cs {
		marks[i] = len(t.Values)
	}
	for i, child := range fs.root.children {
		if err := child.write(cs, row.At(i), 0, 0); err != nil {
			for j, t := range cs {
				t.Values, t.DefinitionLevels, t.RepetitionLevels = t.Values[:marks[j]], t.DefinitionLevels[:marks[j]], t.RepetitionLevels[:marks[j]]
			}
			return err
		}
	}
	return nil
}

// write shreds one value of node n; rep is the repetition level of its
// first column value, parentDef the definition level of its parent.
func (n *node) write(cs columns, v any, rep, parentDef int32) error {
	if v == nil {
		if !n.optional {
			return fmt.Errorf("field %s is required but null", n.name)
		}
		for _, c := range n.leaves {
			cs.add(c, nil, rep, parentDef)
		}
		return nil
	}
	switch n.kind {
	case leafNode:
		pv, err := n.leaf.conv(v)
		if err != nil {
			return err
		}
		cs.add(n.leaf, pv, rep, n.def)
	case groupNode:
		st, ok := v.(*data.Struct)
		if !ok {
			return fmt.Errorf("field %s: want a struct, got %T", n.name, v)
		}
		if len(st.Schema().Fields) != len(n.children) {
			return fmt.Errorf("field %s: struct has %d fields, the schema %d", n.name, len(st.Schema().Fields), len(n.children))
		}
		for i, c := range n.children {
			if err := c.write(cs, st.At(i), rep, n.def); err != nil {
				return err
			}
		}
	case listNode:
		arr, ok := v.([]any)
		if !ok {
			return fmt.Errorf("field %s: want an array, got %T", n.name, v)
		}
		if len(arr) == 0 {
			for _, c := range n.leaves {
				cs.add(c, nil, rep, n.def)
			}
			return nil
		}
		for i, e := range arr {
			r := rep
			if i > 0 {
				r = n.rep
			}
			if err := n.children[0].write(cs, e, r, n.def+1); err != nil {
				return err
			}
		}
	case mapNode:
		m, ok := v.(map[any]any)
		if !ok {
			return fmt.Errorf("field %s: want a map, got %T", n.name, v)
		}
		if len(m) == 0 {
			for _, c := range n.leaves {
				cs.add(c, nil, rep, n.def)
			}
			return nil
		}
		// Sorted keys: the same records always make the same file.
		keys := make([]any, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return lessKey(keys[i], keys[j]) })
		for i, k := range keys {
			r := rep
			if i > 0 {
				r = n.rep
			}
			if err := n.children[0].write(cs, k, r, n.def+1); err != nil {
				return err
			}
			if err := n.children[1].write(cs, m[k], r, n.def+1); err != nil {
				return err
			}
		}
	}
	return nil
}

func lessKey(a, b any) bool {
	switch x := a.(type) {
	case string:
		if y, ok := b.(string); ok {
			return x < y
		}
	case int8:
		return less(x, b)
	case int16:
		return less(x, b)
	case int32:
		return less(x, b)
	case int64:
		return less(x, b)
	case float32:
		return less(x, b)
	case float64:
		return less(x, b)
	case bool:
		if y, ok := b.(bool); ok {
			return !x && y
		}
	}
	return fmt.Sprint(a) < fmt.Sprint(b)
}

func less[T int8 | int16 | int32 | int64 | float32 | float64](x T, b any) bool {
	if y, ok := b.(T); ok {
		return x < y
	}
	return fmt.Sprint(x) < fmt.Sprint(b)
}
