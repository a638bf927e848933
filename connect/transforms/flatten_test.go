package transforms_test

import (
	"testing"

	"github.com/tributary-streams/tributary/connect"
	"github.com/tributary-streams/tributary/connect/data"
)

// Kafka's documented example, schemaless.
func TestFlattenSchemaless(t *testing.T) {
	in := map[string]any{"content": map[string]any{"id": int64(42), "name": map[string]any{"first": "David", "middle": nil, "last": "Wong"}},
		"tags": []any{"a", "b"}}
	before := keep(in)
	out := apply(t, configure(t, "Flatten$Value"), valueRecord(nil, in))
	wantValue(t, "flat", out.Value, map[string]any{"content.id": int64(42), "content.name.first": "David",
		"content.name.middle": nil, "content.name.last": "Wong", "tags": []any{"a", "b"}})
	before.check(t)
	under := apply(t, configure(t, "Flatten$Key", "delimiter", "_"), &connect.Record{Key: map[string]any{"a": map[string]any{"b": true}}})
	wantValue(t, "delimiter", under.Key, map[string]any{"a_b": true})
	applyErr(t, configure(t, "Flatten$Value"), valueRecord(nil, map[string]any{"a.b": 1, "a": map[string]any{"b": 2}}), "two fields flatten to", `"a.b"`)
	applyErr(t, configure(t, "Flatten$Value"), valueRecord(nil, map[string]any{"s": data.NewStruct(orderSchema)}), `"s"`, "*data.Struct")
	if out := apply(t, configure(t, "Flatten$Value"), &connect.Record{}); out.Value != nil {
		t.Error("tombstone changed")
	}
}

func TestFlattenSchema(t *testing.T) {
	name := data.StructSchema("Name", data.NewField("first", data.StringSchema), data.NewField("last", data.StringSchema))
	defName := newStruct(t, name, "first", "Jane", "last", "Doe")
	optName := &data.Schema{Type: data.TypeStruct, Name: "Name", Optional: true, Default: defName, Fields: name.Fields}
	s := data.StructSchema("Person",
		data.NewField("id", data.Int64Schema),
		data.NewField("name", name),
		data.NewField("alias", optName),
		data.NewField("tags", data.ArraySchema(data.StringSchema)),
		data.NewField("attrs", data.MapSchema(data.StringSchema, data.Int32Schema)))
	in := newStruct(t, s, "id", int64(1), "name", newStruct(t, name, "first", "Ann", "last", "Lee"),
		"tags", []any{"x"}, "attrs", map[any]any{"k": int32(1)})
	before := keep(in)
	tr := configure(t, "Flatten$Value", "delimiter", "_")
	out := apply(t, tr, valueRecord(s, in))
	want := data.StructSchema("Person",
		data.NewField("id", data.Int64Schema),
		data.NewField("name_first", data.StringSchema),
		data.NewField("name_last", data.StringSchema),
		// Under an optional struct the fields become optional and take the
		// parent's default.
		data.NewField("alias_first", &data.Schema{Type: data.TypeString, Optional: true, Default: "Jane"}),
		data.NewField("alias_last", &data.Schema{Type: data.TypeString, Optional: true, Default: "Doe"}),
		data.NewField("tags", data.ArraySchema(data.StringSchema)),
		data.NewField("attrs", data.MapSchema(data.StringSchema, data.Int32Schema)))
	wantSchema(t, "flat", out.ValueSchema, want)
	wantValue(t, "flat", out.Value, newStruct(t, want, "id", int64(1), "name_first", "Ann", "name_last", "Lee",
		"alias_first", "Jane", "alias_last", "Doe", "tags", []any{"x"}, "attrs", map[any]any{"k": int32(1)}))
	before.check(t)

	// A null struct with a default reads as its default, as Kafka's
	// getStruct does.
	st := out.Value.(*data.Struct)
	if st.AtWithoutDefault(3) != "Jane" {
		t.Errorf("alias_first is %v, want Jane from the parent's default", st.AtWithoutDefault(3))
	}
	noDefault := data.StructSchema("", data.NewField("n", data.Optional(name)))
	nulls := apply(t, tr, valueRecord(noDefault, data.NewStruct(noDefault))).Value.(*data.Struct)
	if nulls.Get("n_first") != nil || nulls.Get("n_last") != nil {
		t.Errorf("a null struct gave %v, want null fields", nulls)
	}

	tomb := apply(t, tr, valueRecord(s, nil))
	wantSchema(t, "tombstone", tomb.ValueSchema, want)

	clash := data.StructSchema("", data.NewField("a_b", data.Int32Schema),
		data.NewField("a", data.StructSchema("", data.NewField("b", data.Int32Schema))))
	applyErr(t, tr, valueRecord(clash, data.NewStruct(clash)), "two fields", `"a_b"`)
	applyErr(t, tr, valueRecord(data.StringSchema, "x"), "flattening", "struct")
}
