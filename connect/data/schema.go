// Package data is the schema and value model that connectors, converters,
// transformations and sinks share: Kafka Connect's
// org.apache.kafka.connect.data, in Go.
//
// A Schema describes a value: a primitive (int8 .. int64, float32, float64,
// boolean, string, bytes), an array, a map or a struct, optionally with a
// name, version, doc, parameters and a default. Logical types (Decimal,
// Date, Time, Timestamp) are named schemas over a primitive, as in Kafka.
//
// Values are plain Go values, one Go type per schema type:
//
//	int8, int16, int32, int64     int8, int16, int32, int64
//	float32, float64              float32, float64
//	boolean                       bool
//	string                        string
//	bytes                         []byte
//	array                         []any
//	map                           map[any]any (keys must be comparable: primitives other than bytes)
//	struct                        *Struct
//	Decimal (bytes)               Decimal
//	Date, Time, Timestamp         time.Time (UTC)
//	null (optional schemas)       nil
//
// Schemaless values (a nil *Schema, as Kafka's JsonConverter produces with
// schemas.enable=false) use nil, bool, int64, float64, string, []byte,
// []any and map[string]any.
//
// Schemas are immutable once built and safe to share between goroutines;
// the predefined schemas (Int32Schema, OptionalStringSchema, ...) must never
// be modified. Validate checks a value against a schema.
package data

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Type is a schema type, spelled as Kafka Connect's JSON schema spells it.
type Type string

// The schema types.
const (
	TypeInt8    Type = "int8"
	TypeInt16   Type = "int16"
	TypeInt32   Type = "int32"
	TypeInt64   Type = "int64"
	TypeFloat32 Type = "float32"
	TypeFloat64 Type = "float64"
	TypeBoolean Type = "boolean"
	TypeString  Type = "string"
	TypeBytes   Type = "bytes"
	TypeArray   Type = "array"
	TypeMap     Type = "map"
	TypeStruct  Type = "struct"
)

// Types lists every schema type.
var Types = []Type{TypeInt8, TypeInt16, TypeInt32, TypeInt64, TypeFloat32, TypeFloat64, TypeBoolean, TypeString, TypeBytes, TypeArray, TypeMap, TypeStruct}

// IsPrimitive reports whether t is neither array, map nor struct.
func (t Type) IsPrimitive() bool {
	switch t {
	case TypeArray, TypeMap, TypeStruct:
		return false
	}
	return t.Valid()
}

// Valid reports whether t is one of Types.
func (t Type) Valid() bool { return slices.Contains(Types, t) }

// Schema describes a value. Build one with a literal or the constructors
// below (StructSchema, ArraySchema, MapSchema, Optional, ...); treat it as
// immutable once it is in use.
type Schema struct {
	// Type is the value's type. Required.
	Type Type
	// Optional allows a nil value.
	Optional bool
	// Default is used in place of a nil value when set (nil: no default).
	// It must itself be valid for the schema.
	Default any
	// Name names the schema: a logical type (DecimalName, ...) or a user
	// type such as a Debezium envelope. "" for none.
	Name string
	// Version of a named schema; 0 for none.
	Version int32
	// Doc describes the schema; "" for none.
	Doc string
	// Parameters hold extra schema properties (Decimal's "scale", ...).
	Parameters map[string]string
	// Fields are a struct's fields, in order.
	Fields []Field
	// KeySchema is a map's key schema.
	KeySchema *Schema
	// ValueSchema is a map's value schema or an array's element schema.
	ValueSchema *Schema
}

// Field is one field of a struct schema.
type Field struct {
	// Name is unique within the struct.
	Name string
	// Index is the field's position in Schema.Fields.
	Index int
	// Schema describes the field's value.
	Schema *Schema
}

// The primitive schemas, required and optional. Never modify them.
var (
	Int8Schema    = &Schema{Type: TypeInt8}
	Int16Schema   = &Schema{Type: TypeInt16}
	Int32Schema   = &Schema{Type: TypeInt32}
	Int64Schema   = &Schema{Type: TypeInt64}
	Float32Schema = &Schema{Type: TypeFloat32}
	Float64Schema = &Schema{Type: TypeFloat64}
	BooleanSchema = &Schema{Type: TypeBoolean}
	StringSchema  = &Schema{Type: TypeString}
	BytesSchema   = &Schema{Type: TypeBytes}

	OptionalInt8Schema    = &Schema{Type: TypeInt8, Optional: true}
	OptionalInt16Schema   = &Schema{Type: TypeInt16, Optional: true}
	OptionalInt32Schema   = &Schema{Type: TypeInt32, Optional: true}
	OptionalInt64Schema   = &Schema{Type: TypeInt64, Optional: true}
	OptionalFloat32Schema = &Schema{Type: TypeFloat32, Optional: true}
	OptionalFloat64Schema = &Schema{Type: TypeFloat64, Optional: true}
	OptionalBooleanSchema = &Schema{Type: TypeBoolean, Optional: true}
	OptionalStringSchema  = &Schema{Type: TypeString, Optional: true}
	OptionalBytesSchema   = &Schema{Type: TypeBytes, Optional: true}
)

// NewField is a struct field for StructSchema (Index is set there).
func NewField(name string, schema *Schema) Field { return Field{Name: name, Schema: schema} }

// StructSchema returns a required struct schema named name ("" for
// anonymous) with the given fields, numbering their Index in order.
func StructSchema(name string, fields ...Field) *Schema {
	fs := make([]Field, len(fields))
	for i, f := range fields {
		f.Index = i
		fs[i] = f
	}
	return &Schema{Type: TypeStruct, Name: name, Fields: fs}
}

// ArraySchema returns a required array schema of elem.
func ArraySchema(elem *Schema) *Schema { return &Schema{Type: TypeArray, ValueSchema: elem} }

// MapSchema returns a required map schema from key to value.
func MapSchema(key, value *Schema) *Schema {
	return &Schema{Type: TypeMap, KeySchema: key, ValueSchema: value}
}

// Optional returns a copy of s that allows nil.
func Optional(s *Schema) *Schema {
	if s.Optional {
		return s
	}
	c := s.Clone()
	c.Optional = true
	return c
}

// Clone returns a shallow copy of s whose Parameters and Fields may be
// changed without touching s (nested schemas are shared).
func (s *Schema) Clone() *Schema {
	c := *s
	c.Parameters = maps.Clone(s.Parameters)
	c.Fields = slices.Clone(s.Fields)
	return &c
}

// Field returns the struct field called name.
func (s *Schema) Field(name string) (Field, bool) {
	for _, f := range s.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// Check reports whether s is well formed: a known type, the sub-schemas
// its type needs (and only those), unique field names with matching
// indexes, logical-type parameters, and a valid default.
func (s *Schema) Check() error { return s.check("") }

func (s *Schema) check(path string) error {
	at := func(format string, args ...any) error {
		msg := fmt.Sprintf(format, args...)
		if path == "" {
			return fmt.Errorf("schema: %s", msg)
		}
		return fmt.Errorf("schema %s: %s", path, msg)
	}
	if s == nil {
		return at("missing")
	}
	if !s.Type.Valid() {
		return at("unknown type %q: accepted %s", s.Type, typeList())
	}
	switch s.Type {
	case TypeStruct:
		seen := make(map[string]bool, len(s.Fields))
		for i, f := range s.Fields {
			if f.Name == "" {
				return at("field %d has no name", i)
			}
			if seen[f.Name] {
				return at("field %q appears twice", f.Name)
			}
			seen[f.Name] = true
			if f.Index != i {
				return at("field %q has index %d, want %d (its position)", f.Name, f.Index, i)
			}
			if err := f.Schema.check(join(path, f.Name)); err != nil {
				return err
			}
		}
	case TypeArray:
		if err := s.ValueSchema.check(join(path, "[]")); err != nil {
			return err
		}
	case TypeMap:
		if err := s.KeySchema.check(join(path, "{key}")); err != nil {
			return err
		}
		if !ComparableKey(s.KeySchema) {
			return at("map keys of type %s are not supported: keys must be a primitive other than bytes", s.KeySchema.Type)
		}
		if err := s.ValueSchema.check(join(path, "{value}")); err != nil {
			return err
		}
	}
	if s.Type != TypeStruct && len(s.Fields) > 0 {
		return at("a %s schema has no fields", s.Type)
	}
	if s.Type != TypeMap && s.KeySchema != nil {
		return at("a %s schema has no key schema", s.Type)
	}
	if s.Type != TypeMap && s.Type != TypeArray && s.ValueSchema != nil {
		return at("a %s schema has no value schema", s.Type)
	}
	if err := checkLogical(s); err != nil {
		return at("%v", err)
	}
	if s.Default != nil {
		if err := Validate(s, s.Default); err != nil {
			return at("default: %v", err)
		}
	}
	return nil
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func typeList() string {
	names := make([]string, len(Types))
	for i, t := range Types {
		names[i] = string(t)
	}
	return strings.Join(names, ", ")
}

// Equal reports whether two schemas describe the same thing: type,
// optionality, name, version, doc, parameters, default and sub-schemas.
func (s *Schema) Equal(o *Schema) bool {
	if s == o {
		return true
	}
	if s == nil || o == nil {
		return false
	}
	if s.Type != o.Type || s.Optional != o.Optional || s.Name != o.Name || s.Version != o.Version ||
		s.Doc != o.Doc || !maps.Equal(s.Parameters, o.Parameters) || !Equal(s.Default, o.Default) {
		return false
	}
	if len(s.Fields) != len(o.Fields) {
		return false
	}
	for i := range s.Fields {
		if s.Fields[i].Name != o.Fields[i].Name || s.Fields[i].Index != o.Fields[i].Index ||
			!s.Fields[i].Schema.Equal(o.Fields[i].Schema) {
			return false
		}
	}
	return s.KeySchema.Equal(o.KeySchema) && s.ValueSchema.Equal(o.ValueSchema)
}

// String renders the schema compactly for messages, e.g.
// "struct{id:int64,name:string?}".
func (s *Schema) String() string {
	if s == nil {
		return "schemaless"
	}
	var b strings.Builder
	s.write(&b)
	return b.String()
}

func (s *Schema) write(b *strings.Builder) {
	if s == nil {
		b.WriteString("<missing>")
		return
	}
	if s.Name != "" {
		b.WriteString(s.Name)
		b.WriteByte(':')
	}
	switch s.Type {
	case TypeStruct:
		b.WriteString("struct{")
		for i, f := range s.Fields {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(f.Name)
			b.WriteByte(':')
			f.Schema.write(b)
		}
		b.WriteByte('}')
	case TypeArray:
		b.WriteString("array<")
		s.ValueSchema.write(b)
		b.WriteByte('>')
	case TypeMap:
		b.WriteString("map<")
		s.KeySchema.write(b)
		b.WriteByte(',')
		s.ValueSchema.write(b)
		b.WriteByte('>')
	default:
		b.WriteString(string(s.Type))
	}
	if s.Optional {
		b.WriteByte('?')
	}
}
