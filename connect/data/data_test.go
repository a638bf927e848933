package data_test

import (
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/tributary-streams/tributary/connect/data"
)

var order = data.StructSchema("shop.Order",
	data.NewField("id", data.Int64Schema),
	data.NewField("note", data.OptionalStringSchema),
	data.NewField("qty", &data.Schema{Type: data.TypeInt32, Default: int32(1)}),
	data.NewField("amount", data.DecimalSchema(2)),
	data.NewField("tags", data.ArraySchema(data.StringSchema)),
	data.NewField("attrs", data.Optional(data.MapSchema(data.StringSchema, data.Int32Schema))),
	data.NewField("at", data.TimestampSchema),
)

func TestSchemaCheck(t *testing.T) {
	if err := order.Check(); err != nil {
		t.Fatal(err)
	}
	bad := []struct {
		s    *data.Schema
		want string
	}{
		{&data.Schema{Type: "int128"}, `unknown type "int128"`},
		{&data.Schema{Type: data.TypeArray}, "schema []: missing"},
		{data.StructSchema("", data.NewField("a", data.Int8Schema), data.NewField("a", data.Int8Schema)), `field "a" appears twice`},
		{&data.Schema{Type: data.TypeInt32, Name: data.DecimalName}, "is stored as bytes"},
		{&data.Schema{Type: data.TypeBytes, Name: data.DecimalName}, `no "scale" parameter`},
		{&data.Schema{Type: data.TypeInt32, Default: "x"}, "default"},
		{&data.Schema{Type: data.TypeString, ValueSchema: data.Int8Schema}, "has no value schema"},
	}
	for _, b := range bad {
		err := b.s.Check()
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%v: got %v, want %q", b.s, err, b.want)
		}
	}
}

func TestStructValidate(t *testing.T) {
	s := data.NewStruct(order)
	if err := s.Validate(); err == nil || !strings.Contains(err.Error(), `"id"`) {
		t.Fatalf("empty required field: %v", err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.Put("id", int64(7)))
	must(s.Put("amount", data.NewDecimal(1234, 2)))
	must(s.Put("tags", []any{"a", "b"}))
	must(s.Put("at", time.UnixMilli(1700000000000).UTC()))
	must(s.Validate())
	if s.Get("qty") != int32(1) || s.Get("note") != nil {
		t.Errorf("defaults: qty=%v note=%v", s.Get("qty"), s.Get("note"))
	}
	for _, c := range []struct {
		field string
		v     any
		want  string
	}{
		{"id", int32(7), "want int64 (int64), got int32"},
		{"amount", data.NewDecimal(1, 3), "scale 3, the schema says 2"},
		{"tags", []any{"a", 1}, `"tags[1]"`},
		{"attrs", map[any]any{"k": "v"}, `"attrs{k}"`},
		{"at", int64(5), "want time.Time"},
		{"nope", 1, `no field "nope"`},
	} {
		err := s.Put(c.field, c.v)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Put(%s, %v): got %v, want %q", c.field, c.v, err, c.want)
		}
	}
}

func TestDecimal(t *testing.T) {
	for _, c := range []struct {
		in    string
		str   string
		scale int32
	}{
		{"12.340", "12.340", 3}, {"-0.05", "-0.05", 2}, {"1e-2", "0.01", 2}, {"15e2", "1500", 0}, {"0", "0", 0}, {"-128", "-128", 0},
	} {
		d, err := data.ParseDecimal(c.in)
		if err != nil || d.String() != c.str || d.Scale != c.scale {
			t.Errorf("ParseDecimal(%q) = %v (scale %d), %v; want %s scale %d", c.in, d, d.Scale, err, c.str, c.scale)
		}
		back := data.DecimalFromBytes(data.DecimalBytes(d), d.Scale)
		if !back.Equal(d) {
			t.Errorf("%s: bytes round trip gave %s", c.in, back)
		}
	}
	// Java's BigInteger.toByteArray for known values.
	for v, want := range map[int64][]byte{0: {0}, 127: {0x7f}, 128: {0, 0x80}, -1: {0xff}, -128: {0x80}, -129: {0xff, 0x7f}, 256: {1, 0}} {
		got := data.DecimalBytes(data.Decimal{Unscaled: big.NewInt(v)})
		if string(got) != string(want) {
			t.Errorf("DecimalBytes(%d) = %x, want %x", v, got, want)
		}
	}
	for _, bad := range []string{"", "1.2.3", "abc", "1e", "--1", "1e999999"} {
		if _, err := data.ParseDecimal(bad); err == nil {
			t.Errorf("ParseDecimal(%q) accepted", bad)
		}
	}
}

func TestLogicalRoundTrip(t *testing.T) {
	day := time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)
	tod := time.UnixMilli(13*3600*1000 + 5).UTC()
	ts := time.UnixMilli(1700000000123).UTC()
	for _, c := range []struct {
		s        *data.Schema
		logical  any
		physical any
	}{
		{data.DateSchema, day, int32(19782)},
		{data.TimeSchema, tod, int32(13*3600*1000 + 5)},
		{data.TimestampSchema, ts, int64(1700000000123)},
		{data.DecimalSchema(1), data.NewDecimal(-5, 1), []byte{0xfb}},
	} {
		p, err := data.FromLogical(c.s, c.logical)
		if err != nil || !data.Equal(p, c.physical) {
			t.Errorf("%s FromLogical: %v %v, want %v", c.s.Name, p, err, c.physical)
		}
		l, err := data.ToLogical(c.s, c.physical)
		if err != nil || !data.Equal(l, c.logical) {
			t.Errorf("%s ToLogical: %v %v, want %v", c.s.Name, l, err, c.logical)
		}
	}
	if _, err := data.FromLogical(data.DateSchema, day.Add(time.Hour)); err == nil {
		t.Error("a date that is not midnight was accepted")
	}
}

func TestEqual(t *testing.T) {
	a := data.NewStruct(data.StructSchema("", data.NewField("b", data.BytesSchema)))
	b := data.NewStruct(data.StructSchema("", data.NewField("b", data.BytesSchema)))
	a.Put("b", []byte("x"))
	b.Put("b", []byte("x"))
	if !data.Equal(a, b) || !data.Equal([]any{map[any]any{"k": []byte("v")}}, []any{map[any]any{"k": []byte("v")}}) {
		t.Error("equal values differ")
	}
	b.Put("b", []byte("y"))
	if data.Equal(a, b) || data.Equal(int32(1), int64(1)) || data.Equal(map[string]int{"a": 1}, 1) {
		t.Error("different values equal")
	}
}
