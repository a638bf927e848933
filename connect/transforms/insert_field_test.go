package transforms_test

import (
	"testing"
	"time"

	"github.com/tributary-streams/tributary/connect"
	"github.com/tributary-streams/tributary/connect/data"
)

var orderSchema = data.StructSchema("shop.Order",
	data.NewField("id", data.Int64Schema),
	data.NewField("name", data.OptionalStringSchema))

func TestInsertFieldSchema(t *testing.T) {
	tr := configure(t, "org.apache.kafka.connect.transforms.InsertField$Value",
		"topic.field", "topic!", "partition.field", "part", "offset.field", "off?",
		"timestamp.field", "ts", "static.field", "src", "static.value", "orders-db")
	in := newStruct(t, orderSchema, "id", int64(7), "name", "pen")
	before := keep(in)
	out := apply(t, tr, valueRecord(orderSchema, in))
	want := data.StructSchema("shop.Order",
		data.NewField("id", data.Int64Schema),
		data.NewField("name", data.OptionalStringSchema),
		data.NewField("topic", data.StringSchema),
		data.NewField("part", data.OptionalInt32Schema),
		data.NewField("off", data.OptionalInt64Schema),
		data.NewField("ts", data.Optional(data.TimestampSchema)),
		data.NewField("src", data.OptionalStringSchema))
	wantSchema(t, "value", out.ValueSchema, want)
	wantValue(t, "value", out.Value, newStruct(t, want, "id", int64(7), "name", "pen", "topic", "orders",
		"part", int32(3), "off", int64(42), "ts", time.UnixMilli(1700000000123).UTC(), "src", "orders-db"))
	before.check(t)

	// The same input schema gives the same output schema (cached).
	again := apply(t, tr, valueRecord(orderSchema, newStruct(t, orderSchema, "id", int64(8))))
	if again.ValueSchema != out.ValueSchema {
		t.Error("a second record of the same schema got a new output schema")
	}
	// A structurally equal schema from elsewhere hits the cache too.
	copySchema := data.StructSchema("shop.Order", orderSchema.Fields...)
	third := apply(t, tr, valueRecord(copySchema, newStruct(t, copySchema, "id", int64(9))))
	if third.ValueSchema != out.ValueSchema {
		t.Error("an equal schema got a new output schema")
	}
}

func TestInsertFieldSchemaless(t *testing.T) {
	tr := configure(t, "InsertField$Value",
		"topic.field", "topic", "partition.field", "part", "offset.field", "off",
		"timestamp.field", "ts", "static.field", "src", "static.value", "orders-db")
	in := map[string]any{"author": "Philip K. Dick", "character": "Palmer Eldritch"}
	before := keep(in)
	out := apply(t, tr, valueRecord(nil, in))
	wantValue(t, "value", out.Value, map[string]any{"author": "Philip K. Dick", "character": "Palmer Eldritch",
		"topic": "orders", "part": int32(3), "off": int64(42), "ts": int64(1700000000123), "src": "orders-db"})
	if out.ValueSchema != nil {
		t.Errorf("schemaless record got schema %s", out.ValueSchema)
	}
	before.check(t)
}

// Kafka's documented example: a static field on a schemaless value.
func TestInsertFieldStaticDocExample(t *testing.T) {
	tr := configure(t, "InsertField$Value", "static.field", "MessageSource", "static.value", "Kafka Connect framework")
	out := apply(t, tr, valueRecord(nil, map[string]any{"author": "Philip K. Dick", "character": "Palmer Eldritch"}))
	wantValue(t, "value", out.Value, map[string]any{"author": "Philip K. Dick", "character": "Palmer Eldritch",
		"MessageSource": "Kafka Connect framework"})
}

func TestInsertFieldKeyAndSourceSide(t *testing.T) {
	tr := configure(t, "InsertField$Key", "partition.field", "p", "timestamp.field", "ts", "topic.field", "t")
	// Source side: no partition chosen, no timestamp yet.
	r := &connect.Record{Topic: "users", Partition: connect.AnyPartition, Offset: -1,
		KeySchema: orderSchema, Key: newStruct(t, orderSchema, "id", int64(1)), Value: "v"}
	out := apply(t, tr, r)
	st := out.Key.(*data.Struct)
	if st.Get("p") != nil || st.Get("ts") != nil || st.Get("t") != "users" {
		t.Errorf("source-side key: got %v, want no partition, no timestamp, topic users", st)
	}
	if out.Value != "v" {
		t.Errorf("value changed: %v", out.Value)
	}
	schemaless := apply(t, tr, &connect.Record{Topic: "users", Partition: connect.AnyPartition, Offset: -1, Key: map[string]any{}})
	wantValue(t, "schemaless key", schemaless.Key, map[string]any{"t": "users"})

	off := configure(t, "InsertField$Value", "offset.field", "off")
	applyErr(t, off, &connect.Record{Topic: "t", Offset: -1, Value: map[string]any{}}, "offset.field", "sink side")
}

func TestInsertFieldPassesAndRejects(t *testing.T) {
	tr := configure(t, "InsertField$Value", "topic.field", "topic")
	tomb := &connect.Record{Topic: "t", Key: "k"}
	if out := apply(t, tr, tomb); out.Value != nil || out.ValueSchema != nil {
		t.Errorf("tombstone changed: %+v", out)
	}
	applyErr(t, tr, valueRecord(data.Int32Schema, int32(5)), "field insertion", "struct", "int32")
	applyErr(t, tr, valueRecord(nil, "text"), "field insertion", "map[string]any", "string")

	clash := configure(t, "InsertField$Value", "topic.field", "name")
	applyErr(t, clash, valueRecord(orderSchema, newStruct(t, orderSchema, "id", int64(1))), "topic.field", `"name"`, "already has a field")
}

func TestInsertFieldConfigErrors(t *testing.T) {
	wantConfigError(t, configError(t, "InsertField$Value"), "topic.field", "no field insertion configured")
	wantConfigError(t, configError(t, "InsertField$Value", "static.field", "src"), "static.value", "no value", "src")
	wantConfigError(t, configError(t, "InsertField$Value", "topic.field", "a", "static.field", "a!", "static.value", "x"),
		"static.field", "also inserted by topic.field")
	wantConfigError(t, configError(t, "InsertField$Value", "topic.field", "a", "replace.null.with.default", "maybe"),
		"replace.null.with.default", "true or false")
}
