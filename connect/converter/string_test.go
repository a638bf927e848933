package converter_test

import (
	"strings"
	"testing"
	"time"

	"github.com/tributary-streams/tributary/connect"
	"github.com/tributary-streams/tributary/connect/data"
)

func TestStringConverter(t *testing.T) {
	c, _, err := connect.NewConverter("org.apache.kafka.connect.storage.StringConverter")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Configure(map[string]string{"converter.encoding": "UTF-16"}, false); err == nil || !strings.Contains(err.Error(), "UTF-8") {
		t.Fatalf("unsupported encoding: %v", err)
	}
	if err := c.Configure(nil, false); err != nil {
		t.Fatal(err)
	}
	st := data.StructSchema("", data.NewField("a", data.Int32Schema), data.NewField("b", data.OptionalStringSchema))
	sv := data.NewStruct(st)
	sv.Put("a", int32(1))
	for _, x := range []struct {
		s    *data.Schema
		v    any
		want string
	}{
		{data.StringSchema, "héllo", "héllo"},
		{data.Int64Schema, int64(-5), "-5"},
		{data.Float64Schema, 2.0, "2.0"},
		{data.BooleanSchema, true, "true"},
		{data.DecimalSchema(2), data.NewDecimal(-5, 2), "-0.05"},
		{data.TimestampSchema, time.UnixMilli(1700000000123).UTC(), "2023-11-14T22:13:20.123Z"},
		{st, sv, "Struct{a=1}"},
	} {
		b, err := c.FromConnect("t", x.s, x.v)
		if err != nil || string(b) != x.want {
			t.Errorf("%v: got %q, %v; want %q", x.v, b, err, x.want)
		}
	}
	s, v, err := c.ToConnect("t", []byte("line"))
	if err != nil || v != "line" || !s.Equal(data.OptionalStringSchema) {
		t.Fatalf("%v %v %v", s, v, err)
	}
	if b, _ := c.FromConnect("t", data.OptionalStringSchema, nil); b != nil {
		t.Fatal("nil must stay nil")
	}
	// The alias works too.
	if _, p, err := connect.NewConverter("StringConverter"); err != nil || p.Class != "org.apache.kafka.connect.storage.StringConverter" {
		t.Fatal(err)
	}
}

func TestByteArrayConverter(t *testing.T) {
	c, _, err := connect.NewConverter("org.apache.kafka.connect.converters.ByteArrayConverter")
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.FromConnect("t", data.BytesSchema, []byte{1, 2})
	if err != nil || string(b) != "\x01\x02" {
		t.Fatal(err)
	}
	if _, err := c.FromConnect("t", data.StringSchema, "x"); err == nil || !strings.Contains(err.Error(), "want bytes") {
		t.Fatalf("got %v", err)
	}
	if _, err := c.FromConnect("t", nil, "x"); err == nil || !strings.Contains(err.Error(), "want []byte") {
		t.Fatalf("got %v", err)
	}
	s, v, _ := c.ToConnect("t", []byte{9})
	if !s.Equal(data.OptionalBytesSchema) || !data.Equal(v, []byte{9}) {
		t.Fatal(s, v)
	}
}

func TestSimpleHeaderConverter(t *testing.T) {
	h, _, err := connect.NewHeaderConverter("org.apache.kafka.connect.storage.SimpleHeaderConverter")
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range []struct {
		s      *data.Schema
		v      any
		text   string
		back   any
		schema *data.Schema
	}{
		{data.StringSchema, "hello", "hello", "hello", data.StringSchema},
		{data.BooleanSchema, true, "true", true, data.BooleanSchema},
		{data.Int64Schema, int64(100), "100", int8(100), data.Int8Schema},
		{data.Int32Schema, int32(40000), "40000", int32(40000), data.Int32Schema},
		{data.Float64Schema, 1.5, "1.5", 1.5, data.Float64Schema},
		{data.StringSchema, " 12", " 12", " 12", data.StringSchema},
	} {
		b, err := h.FromConnectHeader("t", "k", x.s, x.v)
		if err != nil || string(b) != x.text {
			t.Errorf("%v: wrote %q, %v; want %q", x.v, b, err, x.text)
		}
		s, v, err := h.ToConnectHeader("t", "k", b)
		if err != nil || !data.Equal(v, x.back) || !s.Equal(x.schema) {
			t.Errorf("%q: read %v (%v), %v; want %v (%v)", b, v, s, err, x.back, x.schema)
		}
	}
	for _, name := range []string{"JsonConverter", "StringConverter", "ByteArrayConverter"} {
		if _, _, err := connect.NewHeaderConverter(name); err != nil {
			t.Errorf("%s as a header converter: %v", name, err)
		}
	}
}
