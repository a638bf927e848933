package transforms_test

import (
	"testing"
	"time"

	"github.com/tributary-streams/tributary/connect"
	"github.com/tributary-streams/tributary/connect/data"
)

var personSchema = data.StructSchema("Person",
	data.NewField("id", data.Int32Schema),
	data.NewField("name", data.StringSchema),
	data.NewField("email", &data.Schema{Type: data.TypeString, Optional: true, Default: "none"}),
	data.NewField("age", data.OptionalInt8Schema))

func person(t *testing.T) *data.Struct {
	return newStruct(t, personSchema, "id", int32(1), "name", "ann", "age", int8(30))
}

func TestReplaceField(t *testing.T) {
	cases := []struct {
		name   string
		config []string
		fields []string // output field names, in order
		values []any
		less   map[string]any // schemaless expectation
	}{
		{"exclude", []string{"exclude", "email,age"}, []string{"id", "name"}, []any{int32(1), "ann"},
			map[string]any{"id": int32(1), "name": "ann"}},
		{"include", []string{"include", "name,id"}, []string{"id", "name"}, []any{int32(1), "ann"},
			map[string]any{"id": int32(1), "name": "ann"}},
		{"exclude wins over include", []string{"include", "id,name", "exclude", "name"}, []string{"id"}, []any{int32(1)},
			map[string]any{"id": int32(1)}},
		{"renames", []string{"renames", "id:person_id,name:full_name"}, []string{"person_id", "full_name", "email", "age"},
			[]any{int32(1), "ann", "none", int8(30)},
			map[string]any{"person_id": int32(1), "full_name": "ann", "email": "none", "age": int8(30)}},
		{"deprecated whitelist and blacklist", []string{"whitelist", "id,name,age", "blacklist", "age"}, []string{"id", "name"},
			[]any{int32(1), "ann"}, map[string]any{"id": int32(1), "name": "ann"}},
		{"new name wins over deprecated", []string{"include", "id", "whitelist", "name"}, []string{"id"}, []any{int32(1)},
			map[string]any{"id": int32(1)}},
		{"null stays null without default replacement", []string{"include", "email", "replace.null.with.default", "false"},
			[]string{"email"}, []any{nil}, map[string]any{"email": "none"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr := configure(t, "ReplaceField$Value", c.config...)
			in := person(t)
			before := keep(in)
			out := apply(t, tr, valueRecord(personSchema, in))
			st := out.Value.(*data.Struct)
			var names []string
			for _, f := range out.ValueSchema.Fields {
				names = append(names, f.Name)
			}
			wantValue(t, "field names", toAny(names), toAny(c.fields))
			for i, want := range c.values {
				wantValue(t, "field "+c.fields[i], st.AtWithoutDefault(i), want)
			}
			if out.ValueSchema.Name != "Person" {
				t.Errorf("schema name %q, want Person kept", out.ValueSchema.Name)
			}
			before.check(t)

			m := map[string]any{"id": int32(1), "name": "ann", "email": "none", "age": int8(30)}
			less := apply(t, configure(t, "ReplaceField$Value", c.config...), valueRecord(nil, m))
			wantValue(t, "schemaless", less.Value, c.less)
		})
	}
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, x := range s {
		out[i] = x
	}
	return out
}

func TestReplaceFieldErrors(t *testing.T) {
	wantConfigError(t, configError(t, "ReplaceField$Value", "renames", "a:b,c"), "renames", `"c"`, "old:new")
	wantConfigError(t, configError(t, "ReplaceField$Value", "renames", "a:x,b:x"), "renames", "both renamed to")
	clash := configure(t, "ReplaceField$Key", "renames", "id:name")
	applyErr(t, clash, &connect.Record{KeySchema: personSchema, Key: person(t)}, "renaming field", "clashes")
	tr := configure(t, "ReplaceField$Value", "exclude", "a")
	if out := apply(t, tr, &connect.Record{Topic: "t"}); out.Value != nil {
		t.Error("tombstone changed")
	}
	applyErr(t, tr, valueRecord(nil, []any{1}), "field replacement", "map[string]any", "[]interface {}")
}

func TestMaskField(t *testing.T) {
	s := data.StructSchema("",
		data.NewField("b", data.BooleanSchema), data.NewField("i8", data.Int8Schema), data.NewField("i16", data.Int16Schema),
		data.NewField("i32", data.Int32Schema), data.NewField("i64", data.Int64Schema), data.NewField("f32", data.Float32Schema),
		data.NewField("f64", data.Float64Schema), data.NewField("s", data.StringSchema), data.NewField("dec", data.DecimalSchema(2)),
		data.NewField("ts", data.TimestampSchema), data.NewField("arr", data.ArraySchema(data.Int32Schema)),
		data.NewField("m", data.MapSchema(data.StringSchema, data.StringSchema)), data.NewField("keep", data.StringSchema),
		data.NewField("opt", data.OptionalStringSchema))
	in := newStruct(t, s, "b", true, "i8", int8(1), "i16", int16(2), "i32", int32(3), "i64", int64(4), "f32", float32(5.5),
		"f64", 6.5, "s", "secret", "dec", data.NewDecimal(12345, 2), "ts", time.UnixMilli(99).UTC(),
		"arr", []any{int32(1)}, "m", map[any]any{"k": "v"}, "keep", "visible")
	before := keep(in)
	tr := configure(t, "MaskField$Value", "fields", "b,i8,i16,i32,i64,f32,f64,s,dec,ts,arr,m,opt")
	out := apply(t, tr, valueRecord(s, in))
	wantValue(t, "masked", out.Value, newStruct(t, s, "b", false, "i8", int8(0), "i16", int16(0), "i32", int32(0),
		"i64", int64(0), "f32", float32(0), "f64", 0.0, "s", "", "dec", data.NewDecimal(0, 2), "ts", time.Unix(0, 0).UTC(),
		"arr", []any{}, "m", map[any]any{}, "keep", "visible"))
	if out.ValueSchema != s {
		t.Error("MaskField changed the schema")
	}
	before.check(t)

	// Replacements: numbers parsed to the field's type, strings as is.
	rep := configure(t, "MaskField$Value", "fields", "i32,f64,s,dec", "replacement", "12")
	got := apply(t, rep, valueRecord(s, in)).Value.(*data.Struct)
	wantValue(t, "i32", got.Get("i32"), int32(12))
	wantValue(t, "f64", got.Get("f64"), 12.0)
	wantValue(t, "s", got.Get("s"), "12")
	wantValue(t, "dec", got.Get("dec"), data.NewDecimal(1200, 2))

	// Schemaless, Kafka's documented example, plus a listed field that is
	// missing (added as null, as Kafka does).
	m := map[string]any{"id": int64(1), "ssn": "123-45-6789", "paid": true}
	less := apply(t, configure(t, "MaskField$Value", "fields", "ssn,paid,gone"), valueRecord(nil, m))
	wantValue(t, "schemaless", less.Value, map[string]any{"id": int64(1), "ssn": "", "paid": false, "gone": nil})
	lessRep := apply(t, configure(t, "MaskField$Value", "fields", "ssn", "replacement", "****"), valueRecord(nil, m))
	wantValue(t, "schemaless replaced", lessRep.Value, map[string]any{"id": int64(1), "ssn": "****", "paid": true})
}

func TestMaskFieldErrors(t *testing.T) {
	wantConfigError(t, configError(t, "MaskField$Value"), "fields", "missing required")
	wantConfigError(t, configError(t, "MaskField$Value", "fields", ""), "fields", "must not be empty")
	wantConfigError(t, configError(t, "MaskField$Value", "fields", "a", "replacement", ""), "replacement", "must not be empty")
	s := data.StructSchema("", data.NewField("raw", data.BytesSchema), data.NewField("n", data.Int8Schema), data.NewField("b", data.BooleanSchema))
	v := newStruct(t, s, "raw", []byte{1}, "n", int8(1), "b", true)
	applyErr(t, configure(t, "MaskField$Value", "fields", "raw"), valueRecord(s, v), `"raw"`, "cannot mask", "[]uint8")
	applyErr(t, configure(t, "MaskField$Value", "fields", "n", "replacement", "300"), valueRecord(s, v), "replacement", `"n"`, "8-bit integer")
	applyErr(t, configure(t, "MaskField$Value", "fields", "b", "replacement", "x"), valueRecord(s, v), "custom replacement", "numbers and strings")
}

func TestValueToKey(t *testing.T) {
	tr := configure(t, "ValueToKey", "fields", "name,id")
	in := person(t)
	out := apply(t, tr, valueRecord(personSchema, in))
	wantKey := data.StructSchema("", data.NewField("name", data.StringSchema), data.NewField("id", data.Int32Schema))
	wantSchema(t, "key", out.KeySchema, wantKey)
	wantValue(t, "key", out.Key, newStruct(t, wantKey, "name", "ann", "id", int32(1)))
	if out.Value != in || out.ValueSchema != personSchema {
		t.Error("ValueToKey changed the value")
	}

	less := apply(t, tr, valueRecord(nil, map[string]any{"id": int64(1), "name": "ann", "x": true}))
	wantValue(t, "schemaless key", less.Key, map[string]any{"id": int64(1), "name": "ann"})
	if less.KeySchema != nil {
		t.Error("schemaless key got a schema")
	}

	tomb := apply(t, tr, &connect.Record{Topic: "t", Key: "k"})
	if tomb.Key != "k" {
		t.Errorf("tombstone key changed to %v", tomb.Key)
	}
	applyErr(t, configure(t, "ValueToKey", "fields", "nope"), valueRecord(personSchema, in), `"nope"`, "does not exist")
	wantConfigError(t, configError(t, "ValueToKey", "fields", "a,b,a"), "fields", `"a" is listed twice`)
	wantConfigError(t, configError(t, "ValueToKey"), "fields", "missing required")
}

var envelopeSchema = data.StructSchema("Envelope",
	data.NewField("after", data.Optional(data.StructSchema("Row",
		data.NewField("id", data.Int64Schema),
		data.NewField("a.b", data.StringSchema)))),
	data.NewField("op", data.StringSchema))

func TestExtractField(t *testing.T) {
	row := newStruct(t, envelopeSchema.Fields[0].Schema, "id", int64(42), "a.b", "dotted")
	env := newStruct(t, envelopeSchema, "after", row, "op", "c")

	op := apply(t, configure(t, "ExtractField$Value", "field", "op"), valueRecord(envelopeSchema, env))
	wantSchema(t, "op", op.ValueSchema, data.StringSchema)
	wantValue(t, "op", op.Value, "c")

	// V1 takes the dotted name literally: no such top-level field.
	applyErr(t, configure(t, "ExtractField$Value", "field", "after.id"), valueRecord(envelopeSchema, env), "unknown field", "after.id")

	v2 := configure(t, "ExtractField$Value", "field", "after.id", "field.syntax.version", "V2")
	id := apply(t, v2, valueRecord(envelopeSchema, env))
	wantSchema(t, "after.id", id.ValueSchema, data.Int64Schema)
	wantValue(t, "after.id", id.Value, int64(42))

	quoted := apply(t, configure(t, "ExtractField$Value", "field", "after.`a.b`", "field.syntax.version", "v2"), valueRecord(envelopeSchema, env))
	wantValue(t, "after.`a.b`", quoted.Value, "dotted")

	// A null parent gives null; a null value keeps the field's schema.
	noAfter := apply(t, v2, valueRecord(envelopeSchema, newStruct(t, envelopeSchema, "op", "d")))
	wantValue(t, "null parent", noAfter.Value, nil)
	tomb := apply(t, v2, valueRecord(envelopeSchema, nil))
	wantSchema(t, "tombstone", tomb.ValueSchema, data.Int64Schema)

	// Schemaless, Kafka's documented example and a nested map.
	m := map[string]any{"id": int64(42), "name": "Bob", "after": map[string]any{"id": int64(7)}}
	wantValue(t, "schemaless", apply(t, configure(t, "ExtractField$Key", "field", "id"), &connect.Record{Key: m}).Key, int64(42))
	wantValue(t, "schemaless V2", apply(t, configure(t, "ExtractField$Value", "field", "after.id", "field.syntax.version", "V2"),
		valueRecord(nil, m)).Value, int64(7))
	wantValue(t, "schemaless missing", apply(t, configure(t, "ExtractField$Value", "field", "nope"), valueRecord(nil, m)).Value, nil)
	applyErr(t, configure(t, "ExtractField$Value", "field", "name.x", "field.syntax.version", "V2"), valueRecord(nil, m),
		"nested field access", `"name"`, "string")

	wantConfigError(t, configError(t, "ExtractField$Value", "field", "`a.b", "field.syntax.version", "V2"), "field", "incomplete backtick")
	wantConfigError(t, configError(t, "ExtractField$Value", "field", "a", "field.syntax.version", "V3"), "field.syntax.version", "V1, V2")
}

func TestHoistField(t *testing.T) {
	tr := configure(t, "HoistField$Value", "field", "line")
	out := apply(t, tr, valueRecord(data.Int32Schema, int32(42)))
	want := data.StructSchema("", data.NewField("line", data.Int32Schema))
	wantSchema(t, "hoisted", out.ValueSchema, want)
	wantValue(t, "hoisted", out.Value, newStruct(t, want, "line", int32(42)))
	less := apply(t, tr, valueRecord(nil, "hello"))
	wantValue(t, "schemaless", less.Value, map[string]any{"line": "hello"})
	nullOpt := apply(t, tr, valueRecord(data.OptionalStringSchema, nil))
	wantValue(t, "null, optional", nullOpt.Value.(*data.Struct).Get("line"), nil)
	applyErr(t, tr, valueRecord(data.StringSchema, nil), "hoisting", `"line"`)
	key := apply(t, configure(t, "HoistField$Key", "field", "k"), &connect.Record{Key: "x", Value: "v"})
	wantValue(t, "key", key.Key, map[string]any{"k": "x"})
	wantConfigError(t, configError(t, "HoistField$Value"), "field", "missing required")
}
