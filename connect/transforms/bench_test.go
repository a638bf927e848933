package transforms_test

import (
	"testing"
	"time"

	"github.com/tributary-streams/tributary/connect"
	"github.com/tributary-streams/tributary/connect/data"
)

// chain3Config is the 3-transform chain whose per-record cost the connect
// benchmark reports: InsertField$Value (topic, partition, offset,
// timestamp), ReplaceField$Value (exclude one field, rename one),
// RegexRouter.
var chain3Config = map[string]string{
	"transforms":                        "insert,replace,route",
	"transforms.insert.type":            "org.apache.kafka.connect.transforms.InsertField$Value",
	"transforms.insert.topic.field":     "kafka_topic",
	"transforms.insert.partition.field": "kafka_partition",
	"transforms.insert.offset.field":    "kafka_offset",
	"transforms.insert.timestamp.field": "kafka_ts",
	"transforms.replace.type":           "org.apache.kafka.connect.transforms.ReplaceField$Value",
	"transforms.replace.exclude":        "internal_note",
	"transforms.replace.renames":        "customer_id:customer",
	"transforms.route.type":             "org.apache.kafka.connect.transforms.RegexRouter",
	"transforms.route.regex":            "shop\\.(.*)",
	"transforms.route.replacement":      "archive-$1",
}

var benchSchema = data.StructSchema("shop.Order",
	data.NewField("id", data.Int64Schema),
	data.NewField("customer_id", data.Int64Schema),
	data.NewField("item", data.StringSchema),
	data.NewField("quantity", data.Int32Schema),
	data.NewField("price", data.Float64Schema),
	data.NewField("internal_note", data.OptionalStringSchema))

// BenchmarkChain3 applies the 3-transform chain to a schema'd record with
// six fields: ns/op and allocs/op are the per-record overhead.
func BenchmarkChain3(b *testing.B) {
	chain, err := connect.NewChain(chain3Config)
	if err != nil {
		b.Fatal(err)
	}
	defer chain.Close()
	v := data.NewStruct(benchSchema)
	for i, x := range []any{int64(1), int64(77), "pen", int32(3), 2.5, "fragile"} {
		if err := v.PutAt(i, x); err != nil {
			b.Fatal(err)
		}
	}
	base := connect.Record{Topic: "shop.orders", Partition: 2, Offset: 1000, ValueSchema: benchSchema, Value: v,
		Timestamp: time.UnixMilli(1700000000123)}
	b.ReportAllocs()
	for b.Loop() {
		r := base
		out, err := chain.Apply(&r)
		if err != nil || out.Topic != "archive-orders" {
			b.Fatalf("%v %v", out, err)
		}
	}
}

// BenchmarkChain3Schemaless is the same chain on a map value.
func BenchmarkChain3Schemaless(b *testing.B) {
	chain, err := connect.NewChain(chain3Config)
	if err != nil {
		b.Fatal(err)
	}
	defer chain.Close()
	v := map[string]any{"id": int64(1), "customer_id": int64(77), "item": "pen", "quantity": int64(3), "price": 2.5, "internal_note": "fragile"}
	base := connect.Record{Topic: "shop.orders", Partition: 2, Offset: 1000, Value: v, Timestamp: time.UnixMilli(1700000000123)}
	b.ReportAllocs()
	for b.Loop() {
		r := base
		if _, err := chain.Apply(&r); err != nil {
			b.Fatal(err)
		}
	}
}
