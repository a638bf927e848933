package transforms_test

import (
	"syscall"
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

// benchChainConfig is the chain of `go run ./internal/bench/connect`:
// InsertField$Value (a static field), ReplaceField$Value (a rename) and
// MaskField$Value, on the data generator's struct values.
var benchChainConfig = map[string]string{
	"transforms":                     "insert,rename,mask",
	"transforms.insert.type":         "org.apache.kafka.connect.transforms.InsertField$Value",
	"transforms.insert.static.field": "source",
	"transforms.insert.static.value": "bench",
	"transforms.rename.type":         "org.apache.kafka.connect.transforms.ReplaceField$Value",
	"transforms.rename.renames":      "payload:body",
	"transforms.mask.type":           "org.apache.kafka.connect.transforms.MaskField$Value",
	"transforms.mask.fields":         "seq",
}

var genSchema = data.StructSchema("io.tributary.datagen.Record",
	data.NewField("task", data.Int32Schema),
	data.NewField("seq", data.Int64Schema),
	data.NewField("ts", data.TimestampSchema),
	data.NewField("payload", data.StringSchema),
)

// BenchmarkChainGenerator applies the connect benchmark's chain to a
// generator record, copied into one reused record as the source runtime
// does: ns/op and allocs/op are the chain's own per-record cost.
func BenchmarkChainGenerator(b *testing.B) {
	chain, err := connect.NewChain(benchChainConfig)
	if err != nil {
		b.Fatal(err)
	}
	defer chain.Close()
	v := data.NewStruct(genSchema)
	for i, x := range []any{int32(0), int64(42), time.UnixMilli(1700000000123).UTC(), "0-000000000042 xxxxxxxxxx"} {
		if err := v.PutAt(i, x); err != nil {
			b.Fatal(err)
		}
	}
	base := connect.Record{Topic: "bench", Partition: connect.AnyPartition, Offset: -1, ValueSchema: genSchema, Value: v}
	r := new(connect.Record)
	b.ReportAllocs()
	defer reportCPU(b)()
	for b.Loop() {
		*r = base
		out, err := chain.Apply(r)
		if err != nil {
			b.Fatal(err)
		}
		if st := out.Value.(*data.Struct); st.Get("seq") != int64(0) || st.Get("source") != "bench" {
			b.Fatalf("%v", st)
		}
	}
}

// reportCPU, deferred with the call, reports the process's CPU time per op
// (GC included) as cpu-ns/op: on a shared machine steadier than ns/op.
func reportCPU(b *testing.B) func() {
	cpu := func() time.Duration {
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	start := cpu()
	return func() { b.ReportMetric(float64(cpu()-start)/float64(b.N), "cpu-ns/op") }
}
