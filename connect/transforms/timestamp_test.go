package transforms_test

import (
	"testing"
	"time"

	"github.com/tributary-streams/tributary/connect"
	"github.com/tributary-streams/tributary/connect/data"
)

var (
	when    = time.UnixMilli(1700000000123).UTC() // 2023-11-14T22:13:20.123Z, a Tuesday
	midnite = time.Date(2023, 11, 14, 0, 0, 0, 0, time.UTC)
)

func TestTimestampConverterSchemaless(t *testing.T) {
	cases := []struct {
		config []string
		in     any
		want   any
	}{
		{[]string{"target.type", "string", "format", "yyyy-MM-dd"}, int64(1700000000123), "2023-11-14"},
		{[]string{"target.type", "string", "format", "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"}, when, "2023-11-14T22:13:20.123Z"},
		{[]string{"target.type", "unix", "format", "yyyy-MM-dd", "unix.precision", "seconds"}, "2023-11-14", int64(1699920000)},
		{[]string{"target.type", "Timestamp", "unix.precision", "microseconds"}, int64(1700000000123456), when},
		{[]string{"target.type", "unix", "unix.precision", "nanoseconds"}, when, int64(1700000000123000000)},
		{[]string{"target.type", "unix"}, when, int64(1700000000123)},
		{[]string{"target.type", "Date"}, when, midnite},
		{[]string{"target.type", "Time"}, when, time.UnixMilli(80000123).UTC()},
		{[]string{"target.type", "Timestamp", "format", "yyyy-MM-dd HH:mm:ssXXX"}, "2023-11-14 23:13:20+01:00", time.UnixMilli(1700000000000).UTC()},
		{[]string{"target.type", "string", "format", "yyyy"}, nil, nil},
	}
	for _, c := range cases {
		tr := configure(t, "TimestampConverter$Value", c.config...)
		out := apply(t, tr, valueRecord(nil, c.in))
		wantValue(t, "whole value with "+c.config[1], out.Value, c.want)
	}

	field := configure(t, "TimestampConverter$Value", "field", "at", "target.type", "string", "format", "yyyyMMdd")
	m := map[string]any{"at": int64(1700000000123), "n": 1}
	before := keep(m)
	wantValue(t, "field", apply(t, field, valueRecord(nil, m)).Value, map[string]any{"at": "20231114", "n": 1})
	before.check(t)
	wantValue(t, "missing field", apply(t, field, valueRecord(nil, map[string]any{"n": 1})).Value, map[string]any{"at": nil, "n": 1})
	applyErr(t, field, valueRecord(nil, map[string]any{"at": true}), `field "at"`, "not a timestamp", "time.Time, int64")
	parse := configure(t, "TimestampConverter$Value", "target.type", "unix", "format", "yyyy-MM-dd")
	applyErr(t, parse, valueRecord(nil, "14/11/2023"), `"14/11/2023" does not match pattern "yyyy-MM-dd"`)
	noFormat := configure(t, "TimestampConverter$Value", "target.type", "unix")
	applyErr(t, noFormat, valueRecord(nil, "2023"), "set format")
}

func TestTimestampConverterSchema(t *testing.T) {
	s := data.StructSchema("Event",
		data.NewField("at", data.Int64Schema),
		data.NewField("seen", data.Optional(data.TimestampSchema)),
		data.NewField("n", data.Int32Schema))
	in := newStruct(t, s, "at", int64(1700000000123), "n", int32(1))
	before := keep(in)
	tr := configure(t, "TimestampConverter$Value", "field", "at", "target.type", "Timestamp")
	out := apply(t, tr, valueRecord(s, in))
	want := data.StructSchema("Event",
		data.NewField("at", data.TimestampSchema),
		data.NewField("seen", data.Optional(data.TimestampSchema)),
		data.NewField("n", data.Int32Schema))
	wantSchema(t, "converted", out.ValueSchema, want)
	wantValue(t, "converted", out.Value, newStruct(t, want, "at", when, "n", int32(1)))
	before.check(t)

	opt := configure(t, "TimestampConverter$Value", "field", "seen", "target.type", "Date")
	got := apply(t, opt, valueRecord(s, in))
	wantSchema(t, "optional field", got.ValueSchema.Fields[1].Schema, data.Optional(data.DateSchema))
	wantValue(t, "null field", got.Value.(*data.Struct).Get("seen"), nil)

	whole := configure(t, "TimestampConverter$Key", "target.type", "string", "format", "yyyy-MM-dd")
	k := apply(t, whole, &connect.Record{KeySchema: data.Optional(data.DateSchema), Key: midnite})
	wantSchema(t, "whole key", k.KeySchema, data.OptionalStringSchema)
	wantValue(t, "whole key", k.Key, "2023-11-14")
	fromString := configure(t, "TimestampConverter$Value", "target.type", "Timestamp", "format", "yyyy-MM-dd HH:mm:ss.SSS")
	wantValue(t, "from string", apply(t, fromString, valueRecord(data.StringSchema, "2023-11-14 22:13:20.123")).Value, when)

	bad := data.StructSchema("", data.NewField("at", data.BooleanSchema))
	applyErr(t, tr, valueRecord(bad, newStruct(t, bad, "at", true)), `field "at"`, "is not a timestamp")
	tomb := apply(t, tr, valueRecord(s, nil))
	wantSchema(t, "tombstone", tomb.ValueSchema, want)
}

func TestTimestampConverterConfigErrors(t *testing.T) {
	wantConfigError(t, configError(t, "TimestampConverter$Value"), "target.type", "missing required")
	wantConfigError(t, configError(t, "TimestampConverter$Value", "target.type", "date"), "target.type", "Date", "case matters")
	wantConfigError(t, configError(t, "TimestampConverter$Value", "target.type", "string"), "format", "requires the format")
	wantConfigError(t, configError(t, "TimestampConverter$Value", "target.type", "unix", "unix.precision", "millis"), "unix.precision", "milliseconds")
	wantConfigError(t, configError(t, "TimestampConverter$Value", "target.type", "string", "format", "yyyy-ww"), "format", "ww is not supported")
}

func TestTimestampRouter(t *testing.T) {
	def := configure(t, "org.apache.kafka.connect.transforms.TimestampRouter")
	r := valueRecord(nil, "v")
	if got := apply(t, def, r).Topic; got != "orders-20231114" {
		t.Errorf("default: topic %q, want orders-20231114", got)
	}
	custom := configure(t, "TimestampRouter", "topic.format", "${topic}_${timestamp}_${topic}", "timestamp.format", "yyyy-MM")
	if got := apply(t, custom, valueRecord(nil, "v")).Topic; got != "orders_2023-11_orders" {
		t.Errorf("custom: topic %q", got)
	}
	applyErr(t, def, &connect.Record{Topic: "t"}, "timestamp missing")
	wantConfigError(t, configError(t, "TimestampRouter", "timestamp.format", "yyyy-MM-dd'T"), "timestamp.format", "unterminated quote")
}
