package debezium

import (
	"fmt"
	"strings"
	"sync"

	"github.com/tributary-streams/tributary/connect"
	"github.com/tributary-streams/tributary/connect/data"
)

func init() {
	connect.RegisterTransformation(connect.PluginInfo{
		Class: "io.debezium.transforms.ExtractNewRecordState",
		Doc:   "Replaces a Debezium change event by the row it carries (after, or before for a delete), optionally with envelope fields added.",
	}, func() connect.Transformation { return &ExtractNewRecordState{} })
}

// ExtractNewRecordState is Debezium's unwrap transform: a change event's
// value becomes its after row (a flat record), as sinks that know nothing
// of envelopes want it.
//
//   - Deletes are dropped (delete.handling.mode=drop, the default), kept as
//     a null value (none), or written as the before row with
//     __deleted=true, every other row carrying __deleted=false (rewrite).
//   - Tombstones are dropped unless drop.tombstones=false.
//   - add.fields=op,source.ts_ms adds __op and __source_ts_ms (a name
//     without "source." is taken from the envelope, else from source);
//     add.headers does the same as headers.
//   - delete.tombstone.handling.mode (drop, tombstone, rewrite,
//     rewrite-with-tombstone), when set, replaces both older keys.
//   - Truncate events, which carry no row, are dropped; records that are
//     not change events (schema changes, heartbeats) pass unchanged.
type ExtractNewRecordState struct {
	dropTombstones bool
	deleteMode     string // drop, none, rewrite
	fields         []addition
	headers        []addition

	mu      sync.Mutex
	schemas map[*data.Schema]*derived // by row schema
}

// addition is one add.fields / add.headers entry.
type addition struct {
	spec string // as configured: op, source.ts_ms, table
	name string // the field or header name: prefix + spec with . as _
}

// derived is a row schema with the added fields.
type derived struct {
	schema  *data.Schema
	deleted int // index of __deleted, -1 without
	added   []int
}

var unwrapConfig = connect.NewConfigDef().
	Define(connect.ConfigKey{Name: "drop.tombstones", Type: connect.TypeBoolean, Default: "true",
		Documentation: "Drop tombstones (null values)."}).
	Define(connect.ConfigKey{Name: "delete.handling.mode", Default: "drop", Validator: connect.OneOf("drop", "rewrite", "none"),
		Documentation: "Deletes: drop them, rewrite them as the before row with __deleted=true (other rows get __deleted=false), or keep them with a null value (none)."}).
	Define(connect.ConfigKey{Name: "delete.tombstone.handling.mode", Validator: connect.OneOf("", "drop", "tombstone", "rewrite", "rewrite-with-tombstone"),
		Documentation: "Replaces drop.tombstones and delete.handling.mode: drop (deletes and tombstones), tombstone (deletes become tombstones), rewrite (__deleted, tombstones dropped), rewrite-with-tombstone (__deleted, tombstones kept)."}).
	Define(connect.ConfigKey{Name: "add.fields", Type: connect.TypeList,
		Documentation: "Envelope or source fields to add to the row, e.g. op,source.ts_ms,table."}).
	Define(connect.ConfigKey{Name: "add.fields.prefix", Default: "__", Documentation: "Prefix of added field names."}).
	Define(connect.ConfigKey{Name: "add.headers", Type: connect.TypeList,
		Documentation: "Envelope or source fields to add as headers."}).
	Define(connect.ConfigKey{Name: "add.headers.prefix", Default: "__", Documentation: "Prefix of added header names."})

// Config defines the transform's keys.
func (x *ExtractNewRecordState) Config() *connect.ConfigDef { return unwrapConfig }

// Configure applies the config.
func (x *ExtractNewRecordState) Configure(config map[string]string) error {
	c, err := unwrapConfig.Parse(config)
	if err != nil {
		return err
	}
	x.dropTombstones = c.Bool("drop.tombstones")
	x.deleteMode = c.String("delete.handling.mode")
	switch c.String("delete.tombstone.handling.mode") {
	case "drop":
		x.dropTombstones, x.deleteMode = true, "drop"
	case "tombstone":
		x.dropTombstones, x.deleteMode = false, "none"
	case "rewrite":
		x.dropTombstones, x.deleteMode = true, "rewrite"
	case "rewrite-with-tombstone":
		x.dropTombstones, x.deleteMode = false, "rewrite"
	}
	mk := func(specs []string, prefix string) []addition {
		var out []addition
		for _, s := range specs {
			out = append(out, addition{spec: s, name: prefix + strings.ReplaceAll(s, ".", "_")})
		}
		return out
	}
	x.fields = mk(c.List("add.fields"), c.String("add.fields.prefix"))
	x.headers = mk(c.List("add.headers"), c.String("add.headers.prefix"))
	x.schemas = map[*data.Schema]*derived{}
	return nil
}

// Apply unwraps one record.
func (x *ExtractNewRecordState) Apply(r *connect.Record) (*connect.Record, error) {
	if r.Value == nil {
		if x.dropTombstones {
			return nil, nil
		}
		return r, nil
	}
	env, ok := r.Value.(*data.Struct)
	if !ok || !isEnvelope(env.Schema()) {
		return r, nil
	}
	op, _ := env.At(IndexOpOf(env.Schema())).(string)
	var row *data.Struct
	deleted := false
	switch op {
	case OpTruncate:
		return nil, nil
	case OpDelete:
		switch x.deleteMode {
		case "drop":
			return nil, nil
		case "none":
			out := *r
			out.ValueSchema, out.Value = nil, nil
			out.Headers = x.addHeaders(r.Headers, env)
			return &out, nil
		}
		row, _ = env.Get(FieldBefore).(*data.Struct)
		deleted = true
	default:
		row, _ = env.Get(FieldAfter).(*data.Struct)
	}
	if row == nil {
		return nil, connect.DataErrorf("debezium: a %q change event of %s has no row", op, r.Topic)
	}
	d, err := x.derive(row.Schema(), env.Schema())
	if err != nil {
		return nil, err
	}
	value := row
	if d.schema != row.Schema() {
		value = data.NewStruct(d.schema)
		for i := range row.Schema().Fields {
			value.PutAt(i, row.AtWithoutDefault(i))
		}
		if d.deleted >= 0 {
			value.PutAt(d.deleted, fmt.Sprint(deleted))
		}
		for i, a := range x.fields {
			if v, _ := lookup(env, a.spec); v != nil {
				if err := value.PutAt(d.added[i], v); err != nil {
					return nil, connect.DataErrorf("debezium: add.fields %s: %w", a.spec, err)
				}
			}
		}
	}
	out := *r
	out.ValueSchema, out.Value = d.schema, value
	out.Headers = x.addHeaders(r.Headers, env)
	return &out, nil
}

func (x *ExtractNewRecordState) addHeaders(h connect.Headers, env *data.Struct) connect.Headers {
	for _, a := range x.headers {
		v, s := lookup(env, a.spec)
		if s != nil {
			h = h.With(a.name, data.Optional(s), v)
		}
	}
	return h
}

// derive returns the row schema with __deleted and the added fields,
// built once per row schema.
func (x *ExtractNewRecordState) derive(row, env *data.Schema) (*derived, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if d, ok := x.schemas[row]; ok {
		return d, nil
	}
	if x.deleteMode != "rewrite" && len(x.fields) == 0 {
		d := &derived{schema: row, deleted: -1}
		x.schemas[row] = d
		return d, nil
	}
	fields := append([]data.Field(nil), row.Fields...)
	d := &derived{deleted: -1}
	if x.deleteMode == "rewrite" {
		d.deleted = len(fields)
		fields = append(fields, data.NewField("__deleted", data.OptionalStringSchema))
	}
	for _, a := range x.fields {
		s := fieldSchema(env, a.spec)
		if s == nil {
			return nil, fmt.Errorf("debezium: add.fields names %s, which change events of %s do not have", a.spec, env.Name)
		}
		d.added = append(d.added, len(fields))
		fields = append(fields, data.NewField(a.name, data.Optional(s)))
	}
	s := data.StructSchema(row.Name, fields...)
	s.Optional, s.Version, s.Doc = row.Optional, row.Version, row.Doc
	if err := s.Check(); err != nil {
		return nil, fmt.Errorf("debezium: unwrapped schema: %w", err)
	}
	d.schema = s
	x.schemas[row] = d
	return d, nil
}

// isEnvelope recognises a change event's schema by its op, after and
// source fields.
func isEnvelope(s *data.Schema) bool {
	if s == nil || s.Type != data.TypeStruct {
		return false
	}
	_, op := s.Field(FieldOp)
	_, after := s.Field(FieldAfter)
	_, src := s.Field(FieldSource)
	return op && after && src
}

// IndexOpOf is the op field's position in an envelope schema.
func IndexOpOf(s *data.Schema) int {
	f, _ := s.Field(FieldOp)
	return f.Index
}

// lookup finds an add.fields value: "source.x" in source, a plain name in
// the envelope, else in source.
func lookup(env *data.Struct, spec string) (any, *data.Schema) {
	if rest, ok := strings.CutPrefix(spec, FieldSource+"."); ok {
		src, _ := env.Get(FieldSource).(*data.Struct)
		if src == nil {
			return nil, fieldSchema(env.Schema(), spec)
		}
		v, _ := src.Lookup(rest)
		return v, fieldSchema(env.Schema(), spec)
	}
	if rest, ok := strings.CutPrefix(spec, FieldTransaction+"."); ok {
		tx, _ := env.Get(FieldTransaction).(*data.Struct)
		if tx == nil {
			return nil, fieldSchema(env.Schema(), spec)
		}
		v, _ := tx.Lookup(rest)
		return v, fieldSchema(env.Schema(), spec)
	}
	if v, ok := env.Lookup(spec); ok {
		return v, fieldSchema(env.Schema(), spec)
	}
	if src, _ := env.Get(FieldSource).(*data.Struct); src != nil {
		v, _ := src.Lookup(spec)
		return v, fieldSchema(env.Schema(), spec)
	}
	return nil, fieldSchema(env.Schema(), spec)
}

// fieldSchema is the schema of an add.fields entry in an envelope schema.
func fieldSchema(env *data.Schema, spec string) *data.Schema {
	sub := func(parent, name string) *data.Schema {
		p, ok := env.Field(parent)
		if !ok || p.Schema.Type != data.TypeStruct {
			return nil
		}
		f, ok := p.Schema.Field(name)
		if !ok {
			return nil
		}
		return f.Schema
	}
	if rest, ok := strings.CutPrefix(spec, FieldSource+"."); ok {
		return sub(FieldSource, rest)
	}
	if rest, ok := strings.CutPrefix(spec, FieldTransaction+"."); ok {
		return sub(FieldTransaction, rest)
	}
	if f, ok := env.Field(spec); ok {
		return f.Schema
	}
	return sub(FieldSource, spec)
}

// Close has nothing to release.
func (x *ExtractNewRecordState) Close() error { return nil }
