package debezium

import (
	"testing"

	"github.com/tributary-streams/tributary/connect"
	"github.com/tributary-streams/tributary/connect/data"
)

var (
	rowSchema = func() *data.Schema {
		s := data.StructSchema("srv.shop.items.Value", data.NewField("id", data.Int32Schema), data.NewField("name", data.OptionalStringSchema))
		s.Optional = true
		return s
	}()
	srcSchema = data.StructSchema("io.debezium.connector.mysql.Source",
		data.NewField("ts_ms", data.Int64Schema), data.NewField("db", data.StringSchema), data.NewField("table", data.OptionalStringSchema))
	envSchema = EnvelopeSchema("srv.shop.items.Envelope", rowSchema, srcSchema)
)

func change(op string, before, after *data.Struct) *connect.Record {
	src := data.NewStruct(srcSchema)
	src.Put("ts_ms", int64(1700000000000))
	src.Put("db", "shop")
	src.Put("table", "items")
	env := data.NewStruct(envSchema)
	if before != nil {
		env.Put(FieldBefore, before)
	}
	if after != nil {
		env.Put(FieldAfter, after)
	}
	env.Put(FieldSource, src)
	env.Put(FieldOp, op)
	env.Put(FieldTsMs, int64(1700000000123))
	return &connect.Record{Topic: "srv.shop.items", ValueSchema: envSchema, Value: env}
}

func row(id int32, name string) *data.Struct {
	s := data.NewStruct(rowSchema)
	s.Put("id", id)
	s.Put("name", name)
	return s
}

func unwrap(t *testing.T, config map[string]string) connect.Transformation {
	t.Helper()
	p, err := connect.FindPlugin("io.debezium.transforms.ExtractNewRecordState", connect.PluginTransformation)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := connect.FindPlugin("ExtractNewRecordState", connect.PluginTransformation); err != nil {
		t.Fatal(err)
	}
	x := p.New().(connect.Transformation)
	if err := x.Configure(config); err != nil {
		t.Fatal(err)
	}
	return x
}

func TestUnwrapDefaults(t *testing.T) {
	x := unwrap(t, map[string]string{})
	out, err := x.Apply(change(OpUpdate, row(1, "a"), row(1, "b")))
	if err != nil || out == nil {
		t.Fatal(out, err)
	}
	v := out.Value.(*data.Struct)
	if out.ValueSchema != rowSchema || v.Get("name") != "b" {
		t.Errorf("update: %v %v", out.ValueSchema, v)
	}
	for name, r := range map[string]*connect.Record{
		"delete":    change(OpDelete, row(1, "b"), nil),
		"tombstone": {Topic: "srv.shop.items"},
		"truncate":  change(OpTruncate, nil, nil),
	} {
		if out, err := x.Apply(r); out != nil || err != nil {
			t.Errorf("%s: %v %v, want dropped", name, out, err)
		}
	}
	other := &connect.Record{Topic: "srv", ValueSchema: data.StringSchema, Value: "CREATE TABLE ..."}
	if out, _ := x.Apply(other); out != other {
		t.Errorf("a record that is not a change event was changed: %v", out)
	}
}

func TestUnwrapRewriteAddFields(t *testing.T) {
	x := unwrap(t, map[string]string{"delete.handling.mode": "rewrite", "add.fields": "op,source.ts_ms,table",
		"add.headers": "db", "drop.tombstones": "false"})
	create, err := x.Apply(change(OpCreate, nil, row(2, "new")))
	if err != nil {
		t.Fatal(err)
	}
	del, err := x.Apply(change(OpDelete, row(2, "new"), nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		r       *connect.Record
		deleted string
		op      string
	}{{create, "false", "c"}, {del, "true", "d"}} {
		v := tc.r.Value.(*data.Struct)
		if v.Get("id") != int32(2) || v.Get("__deleted") != tc.deleted || v.Get("__op") != tc.op ||
			v.Get("__source_ts_ms") != int64(1700000000000) || v.Get("__table") != "items" {
			t.Errorf("%s: %v", tc.op, v)
		}
		if h, ok := tc.r.Headers.Last("__db"); !ok || h.Value != "shop" {
			t.Errorf("%s: header __db %v", tc.op, tc.r.Headers)
		}
		if err := v.Validate(); err != nil {
			t.Errorf("%s: %v", tc.op, err)
		}
	}
	if create.ValueSchema != del.ValueSchema {
		t.Error("the unwrapped schema is rebuilt per record")
	}
	tomb := &connect.Record{Topic: "srv.shop.items"}
	if out, _ := x.Apply(tomb); out != tomb {
		t.Error("drop.tombstones=false dropped a tombstone")
	}
	// The newer key replaces both.
	y := unwrap(t, map[string]string{"delete.tombstone.handling.mode": "tombstone"})
	if out, _ := y.Apply(change(OpDelete, row(3, "x"), nil)); out == nil || out.Value != nil {
		t.Errorf("tombstone mode: %v", out)
	}
	if err := (&ExtractNewRecordState{}).Configure(map[string]string{"delete.handling.mode": "explode"}); err == nil {
		t.Error("bad delete.handling.mode accepted")
	}
	z := unwrap(t, map[string]string{"add.fields": "nope"})
	if _, err := z.Apply(change(OpCreate, nil, row(1, "a"))); err == nil {
		t.Error("add.fields of a missing field: no error")
	}
}
