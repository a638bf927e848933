package transforms_test

import (
	"testing"

	"github.com/tributary-streams/tributary/connect"
	"github.com/tributary-streams/tributary/connect/data"
)

// spare returns headers with room for one more, and a sentinel in that
// room, to check that transforms do not write into the backing array.
func spare(h ...connect.Header) connect.Headers {
	out := make(connect.Headers, len(h), len(h)+1)
	copy(out, h)
	out[:len(h)+1][len(h)] = connect.Header{Key: "sentinel"}
	return out
}

func sentinelKept(t *testing.T, h connect.Headers) {
	t.Helper()
	if h[:len(h)+1][len(h)].Key != "sentinel" {
		t.Error("the input headers' backing array was written to")
	}
}

func TestInsertHeader(t *testing.T) {
	cases := []struct {
		literal string
		schema  *data.Schema
		value   any
	}{
		{"Kafka Connect framework", data.StringSchema, "Kafka Connect framework"},
		{"42", data.Int8Schema, int8(42)},
		{"70000", data.Int32Schema, int32(70000)},
		{"true", data.BooleanSchema, true},
		{"2.5", data.Float64Schema, 2.5},
		{"", data.StringSchema, ""},
	}
	for _, c := range cases {
		tr := configure(t, "org.apache.kafka.connect.transforms.InsertHeader", "header", "MessageSource", "value.literal", c.literal)
		in := spare(connect.Header{Key: "a", Value: "1"})
		r := &connect.Record{Topic: "t", Headers: in}
		out := apply(t, tr, r)
		if len(out.Headers) != 2 || out.Headers[0].Key != "a" {
			t.Fatalf("%q: headers %v", c.literal, out.Headers)
		}
		h := out.Headers[1]
		if h.Key != "MessageSource" || !h.Schema.Equal(c.schema) || !data.Equal(h.Value, c.value) {
			t.Errorf("%q: header %+v, want %s %v", c.literal, h, c.schema, c.value)
		}
		sentinelKept(t, in)
	}
	errs := configError(t, "InsertHeader")
	wantConfigError(t, errs, "header", "missing required")
	wantConfigError(t, errs, "value.literal", "missing required")
}

func TestDropHeaders(t *testing.T) {
	tr := configure(t, "DropHeaders", "headers", "a, b")
	in := spare(connect.Header{Key: "a"}, connect.Header{Key: "c", Value: "keep"}, connect.Header{Key: "b"}, connect.Header{Key: "a"})
	out := apply(t, tr, &connect.Record{Headers: in})
	if len(out.Headers) != 1 || out.Headers[0].Key != "c" {
		t.Errorf("headers %v, want only c", out.Headers)
	}
	if len(in) != 4 || in[0].Key != "a" {
		t.Error("the input headers changed")
	}
	sentinelKept(t, in)
	none := connect.Headers{{Key: "x"}}
	if got := apply(t, tr, &connect.Record{Headers: none}).Headers; len(got) != 1 {
		t.Errorf("headers without a listed name changed: %v", got)
	}
	wantConfigError(t, configError(t, "DropHeaders"), "headers", "missing required")
	wantConfigError(t, configError(t, "DropHeaders", "headers", " , "), "headers", "must not be empty")
}

func TestHeaderFrom(t *testing.T) {
	in := person(t)
	before := keep(in)
	cp := configure(t, "org.apache.kafka.connect.transforms.HeaderFrom$Value", "fields", "id,email", "headers", "person-id,mail", "operation", "copy")
	hdrs := spare(connect.Header{Key: "x"})
	out := apply(t, cp, &connect.Record{ValueSchema: personSchema, Value: in, Headers: hdrs})
	if out.Value != in || out.ValueSchema != personSchema {
		t.Error("copy changed the value")
	}
	want := connect.Headers{{Key: "x"}, {Key: "person-id", Schema: data.Int32Schema, Value: int32(1)},
		{Key: "mail", Schema: personSchema.Fields[2].Schema, Value: "none"}}
	wantHeaders(t, out.Headers, want)
	sentinelKept(t, hdrs)

	mv := configure(t, "HeaderFrom$Value", "fields", "id,email", "headers", "person-id,mail", "operation", "move")
	moved := apply(t, mv, &connect.Record{ValueSchema: personSchema, Value: in})
	rest := data.StructSchema("Person", data.NewField("name", data.StringSchema), data.NewField("age", data.OptionalInt8Schema))
	wantSchema(t, "moved", moved.ValueSchema, rest)
	wantValue(t, "moved", moved.Value, newStruct(t, rest, "name", "ann", "age", int8(30)))
	wantHeaders(t, moved.Headers, want[1:])
	before.check(t)

	m := map[string]any{"id": int64(7), "name": "ann"}
	mBefore := keep(m)
	key := configure(t, "HeaderFrom$Key", "fields", "id,gone", "headers", "id,gone", "operation", "move")
	lm := apply(t, key, &connect.Record{Key: m})
	wantValue(t, "schemaless key", lm.Key, map[string]any{"name": "ann"})
	wantHeaders(t, lm.Headers, connect.Headers{{Key: "id", Value: int64(7)}, {Key: "gone"}})
	mBefore.check(t)

	applyErr(t, cp, &connect.Record{ValueSchema: orderSchema, Value: newStruct(t, orderSchema, "id", int64(1))}, `"email" does not exist`)
	if tomb := apply(t, cp, &connect.Record{Key: "k"}); len(tomb.Headers) != 0 {
		t.Error("a tombstone got headers")
	}
	wantConfigError(t, configError(t, "HeaderFrom$Value", "fields", "a,b", "headers", "a", "operation", "copy"), "headers", "same number of elements")
	wantConfigError(t, configError(t, "HeaderFrom$Value", "fields", "a", "headers", "a", "operation", "Move"), "operation", "[move, copy]", "case matters")
}

func wantHeaders(t *testing.T, got, want connect.Headers) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("headers %v, want %v", got, want)
	}
	for i := range want {
		if got[i].Key != want[i].Key || !got[i].Schema.Equal(want[i].Schema) || !data.Equal(got[i].Value, want[i].Value) {
			t.Errorf("header %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}
