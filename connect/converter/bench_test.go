package converter_test

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tributary-streams/tributary/connect/converter"
	"github.com/tributary-streams/tributary/connect/data"
)

// genSchema is the data generator's struct value (value.schema=struct).
var genSchema = data.StructSchema("io.tributary.datagen.Record",
	data.NewField("task", data.Int32Schema),
	data.NewField("seq", data.Int64Schema),
	data.NewField("ts", data.TimestampSchema),
	data.NewField("payload", data.StringSchema),
)

// BenchmarkJSONFromConnectStruct writes a generator struct with a 100-byte
// payload as JSON, with schemas off (the connect benchmark's setting) and
// on.
func BenchmarkJSONFromConnectStruct(b *testing.B) {
	v := data.NewStruct(genSchema)
	for i, x := range []any{int32(1), int64(123456), time.UnixMilli(1700000000123).UTC(), "1-000000123456 " + strings.Repeat("x", 85)} {
		if err := v.PutAt(i, x); err != nil {
			b.Fatal(err)
		}
	}
	for _, schemas := range []bool{false, true} {
		name := "schemas.enable=false"
		if schemas {
			name = "schemas.enable=true"
		}
		b.Run(name, func(b *testing.B) {
			c := converter.NewJSONConverter(schemas)
			b.ReportAllocs()
			defer reportCPU(b)()
			for b.Loop() {
				if _, err := c.FromConnect("t", genSchema, v); err != nil {
					b.Fatal(err)
				}
			}
		})
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
