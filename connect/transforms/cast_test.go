package transforms_test

import (
	"math"
	"testing"
	"time"

	"github.com/tributary-streams/tributary/connect"
	"github.com/tributary-streams/tributary/connect/data"
)

func TestCastField(t *testing.T) {
	ts := time.UnixMilli(1700000000123).UTC()
	date := time.Date(2023, 11, 14, 0, 0, 0, 0, time.UTC)
	tod := time.UnixMilli(3723004).UTC() // 01:02:03.004
	cases := []struct {
		from *data.Schema
		in   any
		to   string
		want any // an error substring when wantErr
		err  bool
	}{
		{data.Int64Schema, int64(5), "int32", int32(5), false},
		{data.Int64Schema, int64(1<<33 + 1), "int32", int32(1), false}, // wraps, as Java's (int)
		{data.Float64Schema, 300.7, "int8", int8(44), false},           // (byte)(int)300.7
		{data.Float64Schema, math.NaN(), "int32", int32(0), false},
		{data.Float64Schema, 1e20, "int32", int32(math.MaxInt32), false}, // saturates
		{data.Float64Schema, -1e20, "int64", int64(math.MinInt64), false},
		{data.Float64Schema, 2.5, "float32", float32(2.5), false},
		{data.BooleanSchema, true, "int32", int32(1), false},
		{data.BooleanSchema, false, "float64", 0.0, false},
		{data.Int32Schema, int32(0), "boolean", false, false},
		{data.Int32Schema, int32(-3), "boolean", true, false},
		{data.Float64Schema, 0.5, "boolean", false, false}, // longValue() != 0
		{data.StringSchema, "42", "int16", int16(42), false},
		{data.StringSchema, "+7", "int64", int64(7), false},
		{data.StringSchema, "1e3", "float64", 1000.0, false},
		{data.StringSchema, " 2.5f ", "float32", float32(2.5), false},
		{data.StringSchema, "1e400", "float64", math.Inf(1), false},
		{data.StringSchema, "TRUE", "boolean", true, false},
		{data.StringSchema, "yes", "boolean", false, false},
		{data.StringSchema, "abc", "int16", `"abc" is not a valid int16`, true},
		{data.StringSchema, "300", "int8", `"300" is not a valid int8`, true},
		{data.StringSchema, "inf", "float64", "not a valid float64", true},
		{data.Int32Schema, int32(5), "string", "5", false},
		{data.Float64Schema, 1.0, "string", "1.0", false},
		{data.Float64Schema, 1e10, "string", "1.0E10", false},
		{data.Float32Schema, float32(0.1), "string", "0.1", false},
		{data.BooleanSchema, true, "string", "true", false},
		{data.BytesSchema, []byte{1, 2}, "string", "AQI=", false},
		{data.BytesSchema, []byte{1, 2}, "int32", "bytes can only be cast to string", true},
		{data.DecimalSchema(2), data.NewDecimal(12345, 2), "int32", int32(123), false},
		{data.DecimalSchema(2), data.NewDecimal(-12345, 2), "int64", int64(-123), false},
		{data.DecimalSchema(2), data.NewDecimal(12345, 2), "float64", 123.45, false},
		{data.DecimalSchema(2), data.NewDecimal(12345, 2), "string", "123.45", false},
		{data.DecimalSchema(8), data.NewDecimal(1, 8), "string", "1E-8", false}, // BigDecimal.toString
		{data.DecimalSchema(-2), data.NewDecimal(12345, -2), "string", "1.2345E+6", false},
		{data.DecimalSchema(2), data.NewDecimal(5, 2), "boolean", false, false},
		{data.TimestampSchema, ts, "int64", int64(1700000000123), false},
		{data.TimestampSchema, ts, "string", "2023-11-14T22:13:20.123Z", false},
		{data.DateSchema, date, "int32", int32(19675), false},
		{data.DateSchema, date, "string", "2023-11-14", false},
		{data.TimeSchema, tod, "int32", int32(3723004), false},
		{data.TimeSchema, tod, "string", "01:02:03.004Z", false},
		{data.ArraySchema(data.Int32Schema), []any{int32(1)}, "string", "cannot cast from array", true},
	}
	for _, c := range cases {
		s := data.StructSchema("Row", data.NewField("f", c.from), data.NewField("other", data.OptionalStringSchema))
		tr := configure(t, "Cast$Value", "spec", "f:"+c.to)
		in := newStruct(t, s, "f", c.in, "other", "x")
		name := string(c.from.Type) + " " + c.from.Name + " to " + c.to
		if c.err {
			applyErr(t, tr, valueRecord(s, in), `field "f"`, c.want.(string))
			continue
		}
		out := apply(t, tr, valueRecord(s, in))
		want := data.StructSchema("Row", data.NewField("f", &data.Schema{Type: data.Type(c.to)}), data.NewField("other", data.OptionalStringSchema))
		wantSchema(t, name, out.ValueSchema, want)
		wantValue(t, name, out.Value, newStruct(t, want, "f", c.want, "other", "x"))
		if f, nan := c.in.(float64); !(nan && math.IsNaN(f)) && !data.Equal(in.Get("f"), c.in) {
			t.Errorf("%s: the input struct changed to %v", name, in)
		}
	}
}

func TestCastSchemaDetails(t *testing.T) {
	// Optionality and defaults are cast along.
	s := data.StructSchema("", data.NewField("n", &data.Schema{Type: data.TypeInt64, Optional: true, Default: int64(5)}))
	out := apply(t, configure(t, "Cast$Value", "spec", "n:string"), valueRecord(s, newStruct(t, s)))
	wantSchema(t, "field", out.ValueSchema.Fields[0].Schema, &data.Schema{Type: data.TypeString, Optional: true, Default: "5"})
	wantValue(t, "defaulted", out.Value.(*data.Struct).Get("n"), "5")

	// The whole value: the name is kept, except a logical type's.
	named := &data.Schema{Type: data.TypeInt64, Name: "shop.Id", Optional: true}
	whole := apply(t, configure(t, "Cast$Key", "spec", "int32"), &connect.Record{KeySchema: named, Key: int64(9)})
	wantSchema(t, "whole", whole.KeySchema, &data.Schema{Type: data.TypeInt32, Name: "shop.Id", Optional: true})
	wantValue(t, "whole", whole.Key, int32(9))
	toString := configure(t, "Cast$Value", "spec", "string")
	ts := apply(t, toString, valueRecord(data.TimestampSchema, time.Date(2023, 11, 14, 0, 0, 0, 0, time.UTC)))
	wantSchema(t, "timestamp to string", ts.ValueSchema, data.StringSchema)
	// Kafka's Values.dateFormatFor picks the format by value: a midnight
	// is a date, a time within the first day of the epoch a time of day.
	wantValue(t, "timestamp at midnight to string", ts.Value, "2023-11-14")
	epoch := apply(t, toString, valueRecord(data.TimestampSchema, time.UnixMilli(5).UTC()))
	wantValue(t, "timestamp in the epoch's first day to string", epoch.Value, "00:00:00.005Z")
	applyErr(t, configure(t, "Cast$Value", "spec", "a:int8"), valueRecord(data.Int32Schema, int32(1)), "casting fields needs a struct")
}

func TestCastSchemaless(t *testing.T) {
	m := map[string]any{"a": "7", "b": int64(3), "keep": 1.5}
	before := keep(m)
	out := apply(t, configure(t, "Cast$Value", "spec", "a:int64, b:STRING ,c:int8"), valueRecord(nil, m))
	wantValue(t, "fields", out.Value, map[string]any{"a": int64(7), "b": "3", "keep": 1.5, "c": nil})
	before.check(t)
	whole := apply(t, configure(t, "Cast$Value", "spec", "int32"), valueRecord(nil, "42"))
	wantValue(t, "whole", whole.Value, int32(42))
	tomb := apply(t, configure(t, "Cast$Value", "spec", "a:int8"), &connect.Record{})
	if tomb.Value != nil {
		t.Error("tombstone changed")
	}
	applyErr(t, configure(t, "Cast$Value", "spec", "a:int8"), valueRecord(nil, map[string]any{"a": map[string]any{}}), `field "a"`, "cannot cast")
}

func TestCastConfigErrors(t *testing.T) {
	for spec, want := range map[string]string{
		"a:int32:x":      "want field:type",
		"a:bytes":        "casting to bytes is not supported; supported types are int8",
		"a:foo":          `unknown type "foo"`,
		"int32,a:int8":   "must be the only cast",
		"a:int8,a:int16": `"a" is cast twice`,
		":int8":          "field name is empty",
		"":               "must not be empty",
	} {
		errs := configError(t, "Cast$Value", "spec", spec)
		if spec == "" {
			want = "at least one field"
		}
		wantConfigError(t, errs, "spec", want)
	}
	wantConfigError(t, configError(t, "Cast$Value"), "spec", "missing required")
}
