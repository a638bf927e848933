package transforms

import (
	"fmt"
	"maps"

	"github.com/tributary-streams/tributary/connect"
	"github.com/tributary-streams/tributary/connect/data"
)

// side is the part of a record that a $Key or $Value transformation works
// on.
type side uint8

const (
	valueSide side = iota
	keySide
)

func (s side) String() string {
	if s == keySide {
		return "key"
	}
	return "value"
}

// suffix is the class-name suffix of the side's variant.
func (s side) suffix() string {
	if s == keySide {
		return "$Key"
	}
	return "$Value"
}

// get returns the side's schema and value.
func (s side) get(r *connect.Record) (*data.Schema, any) {
	if s == keySide {
		return r.KeySchema, r.Key
	}
	return r.ValueSchema, r.Value
}

// set replaces the side's schema and value. The Transformation contract
// allows changing the record's own fields.
func (s side) set(r *connect.Record, schema *data.Schema, v any) {
	if s == keySide {
		r.KeySchema, r.Key = schema, v
		return
	}
	r.ValueSchema, r.Value = schema, v
}

// requireMap returns a schemaless side's value as a map, or an error
// naming what the purpose needs (Kafka's Requirements.requireMap).
func (s side) requireMap(v any, purpose string) (map[string]any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: a record %s without a schema must be a map[string]any (a JSON object), got %s", purpose, s, typeName(v))
	}
	return m, nil
}

// requireStruct returns a schema'd side's value as a struct (Kafka's
// Requirements.requireStruct).
func (s side) requireStruct(schema *data.Schema, v any, purpose string) (*data.Struct, error) {
	st, ok := v.(*data.Struct)
	if !ok || st == nil || schema.Type != data.TypeStruct {
		return nil, fmt.Errorf("%s: a record %s with a schema must be a struct, got %s with schema %s", purpose, s, typeName(v), schema)
	}
	// Plans are built from the record's schema and index the struct's
	// fields: they must agree (pointer-equal in the usual case).
	if !st.Fits(schema) {
		return nil, fmt.Errorf("%s: the record %s is a struct of schema %s, but the record's %s schema is %s", purpose, s, st.Schema(), s, schema)
	}
	return st, nil
}

// typeName names a value's type in messages.
func typeName(v any) string {
	if v == nil {
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

// copyBasics returns a schema of type t with src's name, version, doc and
// parameters (Kafka's SchemaUtil.copySchemaBasics): not its optionality,
// default or fields.
func copyBasics(src *data.Schema, t data.Type) *data.Schema {
	return &data.Schema{Type: t, Name: src.Name, Version: src.Version, Doc: src.Doc, Parameters: maps.Clone(src.Parameters)}
}

// structLike returns a struct schema with src's basics and the given
// fields (indexes renumbered). Like Kafka's transformations it does not
// carry over optionality or the default.
func structLike(src *data.Schema, fields []data.Field) *data.Schema {
	s := copyBasics(src, data.TypeStruct)
	s.Fields = fields
	for i := range s.Fields {
		s.Fields[i].Index = i
	}
	return s
}

// fieldValue reads field i as Kafka's Struct.get (the schema default for an
// unset field) or, with replace.null.with.default=false, getWithoutDefault.
func fieldValue(st *data.Struct, i int, withDefault bool) any {
	if withDefault {
		return st.At(i)
	}
	return st.AtWithoutDefault(i)
}

// copyField sets out's field i to st's field j as fieldValue reads it.
// A value that st holds is copied without a second check when both fields
// share a schema (data.Struct.PutFrom); a default is put, and checked, as
// any value.
func copyField(out *data.Struct, i int, st *data.Struct, j int, withDefault bool) error {
	if withDefault && st.AtWithoutDefault(j) == nil {
		return out.PutAt(i, st.At(j))
	}
	return out.PutFrom(i, st, j)
}

// The replace.null.with.default key (KIP-1040), shared by the
// transformations that copy struct fields.
const replaceNullKey = "replace.null.with.default"

func replaceNullDef() connect.ConfigKey {
	return connect.ConfigKey{Name: replaceNullKey, Type: connect.TypeBoolean, Default: "true",
		Documentation: "Whether to replace fields that have a default value and that are null to the default value. " +
			"When set to true, the default value is used, otherwise null is used."}
}
