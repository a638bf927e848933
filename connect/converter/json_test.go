package converter_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/tributary-streams/tributary/connect"
	"github.com/tributary-streams/tributary/connect/converter"
	"github.com/tributary-streams/tributary/connect/data"
)

func jsonConverter(t testing.TB, config map[string]string) connect.Converter {
	t.Helper()
	c, p, err := connect.NewConverter("org.apache.kafka.connect.json.JsonConverter")
	if err != nil || p.Class != converter.JSONConverterClass {
		t.Fatal(err)
	}
	if err := c.Configure(config, false); err != nil {
		t.Fatal(err)
	}
	return c
}

// Golden envelopes: the bytes Kafka's JsonConverter writes for the same
// schema and value.
func TestJSONEnvelopeMatchesKafka(t *testing.T) {
	c := jsonConverter(t, nil)
	st := data.StructSchema("",
		data.NewField("field1", data.BooleanSchema),
		data.NewField("field2", data.StringSchema),
		data.NewField("field3", data.OptionalStringSchema),
	)
	v := data.NewStruct(st)
	v.Put("field1", true)
	v.Put("field2", "string2")
	for _, c2 := range []struct {
		schema *data.Schema
		value  any
		want   string
	}{
		{data.BooleanSchema, true, `{"schema":{"type":"boolean","optional":false},"payload":true}`},
		{data.Int8Schema, int8(12), `{"schema":{"type":"int8","optional":false},"payload":12}`},
		{data.Float32Schema, float32(12.34), `{"schema":{"type":"float","optional":false},"payload":12.34}`},
		{data.Float64Schema, float64(1e10), `{"schema":{"type":"double","optional":false},"payload":1.0E10}`},
		{data.Float64Schema, float64(100), `{"schema":{"type":"double","optional":false},"payload":100.0}`},
		{data.BytesSchema, []byte("test-string"), `{"schema":{"type":"bytes","optional":false},"payload":"dGVzdC1zdHJpbmc="}`},
		{data.OptionalStringSchema, nil, `{"schema":{"type":"string","optional":true},"payload":null}`},
		{nil, map[string]any{"b": int64(1), "a": "x"}, `{"schema":null,"payload":{"a":"x","b":1}}`},
		{data.ArraySchema(data.Int32Schema), []any{int32(1), int32(2)}, `{"schema":{"type":"array","items":{"type":"int32","optional":false},"optional":false},"payload":[1,2]}`},
		{data.MapSchema(data.StringSchema, data.Int32Schema), map[any]any{"key1": int32(12), "key2": int32(15)},
			`{"schema":{"type":"map","keys":{"type":"string","optional":false},"values":{"type":"int32","optional":false},"optional":false},"payload":{"key1":12,"key2":15}}`},
		{data.MapSchema(data.Int32Schema, data.Int32Schema), map[any]any{int32(1): int32(12), int32(2): int32(15)},
			`{"schema":{"type":"map","keys":{"type":"int32","optional":false},"values":{"type":"int32","optional":false},"optional":false},"payload":[[1,12],[2,15]]}`},
		{st, v, `{"schema":{"type":"struct","fields":[{"type":"boolean","optional":false,"field":"field1"},{"type":"string","optional":false,"field":"field2"},{"type":"string","optional":true,"field":"field3"}],"optional":false},"payload":{"field1":true,"field2":"string2","field3":null}}`},
		{data.DecimalSchema(2), data.NewDecimal(156, 2), `{"schema":{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"}},"payload":"AJw="}`},
		{data.DateSchema, time.Date(1970, 1, 2, 0, 0, 0, 0, time.UTC), `{"schema":{"type":"int32","optional":false,"name":"org.apache.kafka.connect.data.Date","version":1},"payload":1}`},
		{data.TimeSchema, time.UnixMilli(14400000).UTC(), `{"schema":{"type":"int32","optional":false,"name":"org.apache.kafka.connect.data.Time","version":1},"payload":14400000}`},
		{data.TimestampSchema, time.UnixMilli(4000000000).UTC(), `{"schema":{"type":"int64","optional":false,"name":"org.apache.kafka.connect.data.Timestamp","version":1},"payload":4000000000}`},
		{&data.Schema{Type: data.TypeString, Optional: true, Default: "dflt", Name: "n", Version: 2, Doc: "d"}, nil,
			`{"schema":{"type":"string","optional":true,"name":"n","version":2,"doc":"d","default":"dflt"},"payload":"dflt"}`},
	} {
		got, err := c.FromConnect("t", c2.schema, c2.value)
		if err != nil {
			t.Fatalf("%s: %v", c2.want, err)
		}
		if string(got) != c2.want {
			t.Errorf("got  %s\nwant %s", got, c2.want)
		}
	}
}

func TestJSONDecimalNumeric(t *testing.T) {
	c := jsonConverter(t, map[string]string{"decimal.format": "NUMERIC"})
	b, err := c.FromConnect("t", data.DecimalSchema(2), data.NewDecimal(-156, 2))
	if err != nil || !strings.HasSuffix(string(b), `"payload":-1.56}`) {
		t.Fatalf("%s %v", b, err)
	}
	s, v, err := c.ToConnect("t", b)
	if err != nil || !data.Equal(v, data.NewDecimal(-156, 2)) || s.Name != data.DecimalName {
		t.Fatalf("%v %v %v", s, v, err)
	}
	// A number with fewer digits is rescaled; one needing rounding is refused.
	_, v, err = c.ToConnect("t", []byte(`{"schema":{"type":"bytes","name":"org.apache.kafka.connect.data.Decimal","parameters":{"scale":"2"}},"payload":3}`))
	if err != nil || !data.Equal(v, data.NewDecimal(300, 2)) {
		t.Fatalf("%v %v", v, err)
	}
	_, _, err = c.ToConnect("t", []byte(`{"schema":{"type":"bytes","name":"org.apache.kafka.connect.data.Decimal","parameters":{"scale":"2"}},"payload":3.333}`))
	if err == nil || !strings.Contains(err.Error(), "without rounding") {
		t.Fatalf("got %v", err)
	}
}

func allTypes() (*data.Schema, *data.Struct) {
	inner := data.StructSchema("inner", data.NewField("x", data.OptionalInt64Schema))
	s := data.StructSchema("com.example.All",
		data.NewField("i8", data.Int8Schema),
		data.NewField("i16", data.Int16Schema),
		data.NewField("i32", data.Int32Schema),
		data.NewField("i64", data.Int64Schema),
		data.NewField("f32", data.Float32Schema),
		data.NewField("f64", data.Float64Schema),
		data.NewField("bool", data.BooleanSchema),
		data.NewField("str", data.StringSchema),
		data.NewField("bytes", data.BytesSchema),
		data.NewField("arr", data.ArraySchema(data.OptionalStringSchema)),
		data.NewField("smap", data.MapSchema(data.StringSchema, inner)),
		data.NewField("imap", data.MapSchema(data.Int64Schema, data.BooleanSchema)),
		data.NewField("dec", data.DecimalSchema(3)),
		data.NewField("date", data.DateSchema),
		data.NewField("time", data.TimeSchema),
		data.NewField("ts", data.TimestampSchema),
		data.NewField("opt", data.OptionalFloat64Schema),
		data.NewField("dflt", &data.Schema{Type: data.TypeInt32, Default: int32(42)}),
		data.NewField("nested", data.Optional(inner)),
	)
	in := data.NewStruct(inner)
	in.Put("x", int64(-1))
	v := data.NewStruct(s)
	for name, val := range map[string]any{
		"i8": int8(-8), "i16": int16(1600), "i32": int32(-32000000), "i64": int64(math.MaxInt64),
		"f32": float32(3.25), "f64": math.SmallestNonzeroFloat64, "bool": true, "str": "héllo \"q\"\n\x01",
		"bytes": []byte{0, 1, 255}, "arr": []any{"a", nil}, "smap": map[any]any{"k": in}, "imap": map[any]any{int64(-5): false},
		"dec": data.NewDecimal(-123456, 3), "date": time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC),
		"time": time.UnixMilli(86399999).UTC(), "ts": time.UnixMilli(-1000).UTC(), "nested": in,
	} {
		if err := v.Put(name, val); err != nil {
			panic(err)
		}
	}
	return s, v
}

func TestJSONRoundTripEveryType(t *testing.T) {
	c := jsonConverter(t, nil)
	s, v := allTypes()
	b, err := c.FromConnect("t", s, v)
	if err != nil {
		t.Fatal(err)
	}
	gs, gv, err := c.ToConnect("t", b)
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if !gs.Equal(s) {
		t.Fatalf("schema:\ngot  %s\nwant %s", gs, s)
	}
	// The decoded struct holds the default where the original was unset
	// (replace.null.with.default); compare field by field.
	gst := gv.(*data.Struct)
	for _, f := range s.Fields {
		if !data.Equal(gst.Get(f.Name), v.Get(f.Name)) {
			t.Errorf("field %s: got %#v, want %#v", f.Name, gst.Get(f.Name), v.Get(f.Name))
		}
	}
	// A second converter (cold caches) reads the same bytes the same way.
	_, gv2, err := jsonConverter(t, nil).ToConnect("t", b)
	if err != nil || !data.Equal(gv, gv2) {
		t.Fatalf("second read differs: %v", err)
	}
}

func TestJSONSchemaless(t *testing.T) {
	c := jsonConverter(t, map[string]string{"schemas.enable": "false"})
	b, err := c.FromConnect("t", nil, map[string]any{"n": int64(3), "f": 1.5, "l": []any{"x", true, nil}})
	if err != nil || string(b) != `{"f":1.5,"l":["x",true,null],"n":3}` {
		t.Fatalf("%s %v", b, err)
	}
	s, v, err := c.ToConnect("t", b)
	if err != nil || s != nil {
		t.Fatal(err, s)
	}
	want := map[string]any{"n": int64(3), "f": 1.5, "l": []any{"x", true, nil}}
	if !data.Equal(v, want) {
		t.Fatalf("got %#v", v)
	}
	// With a schema and schemas.enable=false only the payload is written.
	b, _ = c.FromConnect("t", data.Int32Schema, int32(7))
	if string(b) != "7" {
		t.Fatalf("got %s", b)
	}
	if b, _ := c.FromConnect("t", nil, nil); b != nil {
		t.Fatal("a null value without a schema must be null bytes (a tombstone)")
	}
}

func TestJSONBadInput(t *testing.T) {
	c := jsonConverter(t, nil)
	for in, want := range map[string]string{
		`{"payload":1}`:                     `requires "schema" and "payload"`,
		`{"schema":null,"payload":1,"x":2}`: `requires "schema" and "payload"`,
		`[1]`:                               `requires "schema" and "payload"`,
		`{"schema":{"type":"int8"},"payload":300}`:                                                "out of range for a 8-bit integer",
		`{"schema":{"type":"int32"},"payload":1.5}`:                                               "not an integer",
		`{"schema":{"type":"struct"},"payload":{}}`:                                               `"fields" is not an array`,
		`{"schema":{"type":"uint8"},"payload":1}`:                                                 `unknown schema type "uint8"`,
		`{"schema":{},"payload":1}`:                                                               `"type" field`,
		`{"schema":{"type":"string"},"payload":null}`:                                             "null for a required string",
		`{"schema":{"type":"bytes"},"payload":"%%%"}`:                                             "bytes:",
		`{"schema":{"type":"map","keys":{"type":"bytes"},"values":{"type":"int8"}},"payload":[]}`: "map keys of type bytes",
		`{"schema":{"type":"array"},"payload":[]}`:                                                `element type ("items")`,
		`{"schema":{"type":"struct","fields":[{"type":"int8","field":"a"}]},"payload":{"a":"x"}}`: "a: want a number for int8",
		`{"schema":null,"payload":1} x`:                                                           "not valid JSON",
		`{"schema":{"type":"int8","default":"x"},"payload":1}`:                                    "schema default",
	} {
		_, _, err := c.ToConnect("t", []byte(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", in, err, want)
		}
		var de *connect.DataError
		if err != nil && !asDataError(err, &de) {
			t.Errorf("%s: error is not a DataError: %T", in, err)
		}
	}
	if _, err := c.FromConnect("t", data.Int32Schema, "x"); err == nil || !strings.Contains(err.Error(), "invalid Go type for int32: string") {
		t.Errorf("wrong Go type: %v", err)
	}
	if _, err := c.FromConnect("t", data.Int32Schema, nil); err == nil || !strings.Contains(err.Error(), "required") {
		t.Errorf("null for required: %v", err)
	}
}

func TestJSONConfig(t *testing.T) {
	c, _, _ := connect.NewConverter("JsonConverter")
	err := c.Configure(map[string]string{"schemas.enable": "maybe", "decimal.format": "HEX"}, false)
	if err == nil || !strings.Contains(err.Error(), "schemas.enable") || !strings.Contains(err.Error(), "decimal.format") {
		t.Fatalf("got %v", err)
	}
}
