package transforms

import (
	"fmt"
	"time"

	"github.com/tributary-streams/tributary/connect"
	"github.com/tributary-streams/tributary/connect/data"
)

// Flatten$Key / Flatten$Value: lift the fields of nested structs (or, for
// schemaless records, nested maps) to the top level, naming each by the
// path of field names joined with the delimiter ("after.id"). Arrays and
// maps in a struct, and arrays in a map, are kept as they are. A field
// under an optional struct becomes optional, and takes its default from
// the parent's default, as in Kafka. Two fields flattening to one name
// fail the record (Kafka: the schema build fails, or schemaless the later
// value wins). A null struct gives null fields; a null key or value stays
// null (schema'd, with the flattened schema).

const delimiterKey = "delimiter"

var flattenConfig = connect.NewConfigDef().
	Define(connect.ConfigKey{Name: delimiterKey, Default: ".",
		Documentation: "Delimiter to insert between field names from the input record when generating field names for the output record"})

type flatten struct {
	side      side
	delimiter string
	cache     schemaCache[flattenPlan]
}

// flattenPlan is the flat schema for one input schema and, per flat field,
// the field indexes leading to it in the input.
type flattenPlan struct {
	schema *data.Schema
	paths  [][]int
}

func (t *flatten) Config() *connect.ConfigDef { return flattenConfig }

func (t *flatten) Configure(config map[string]string) error {
	c, err := flattenConfig.Parse(config)
	if err != nil {
		return err
	}
	t.delimiter = c.String(delimiterKey)
	return nil
}

func (t *flatten) name(prefix, field string) string {
	if prefix == "" {
		return field
	}
	return prefix + t.delimiter + field
}

const flattenPurpose = "flattening"

func (t *flatten) Apply(r *connect.Record) (*connect.Record, error) {
	schema, v := t.side.get(r)
	if schema == nil {
		if v == nil {
			return r, nil
		}
		m, err := t.side.requireMap(v, flattenPurpose)
		if err != nil {
			return nil, err
		}
		out := make(map[string]any, len(m))
		if err := t.flattenMap(m, "", out); err != nil {
			return nil, err
		}
		t.side.set(r, nil, out)
		return r, nil
	}
	if schema.Type != data.TypeStruct {
		return nil, fmt.Errorf("%s: a record %s with a schema must be a struct, got schema %s", flattenPurpose, t.side, schema)
	}
	plan, err := t.cache.getOrBuild(schema, t.plan)
	if err != nil {
		return nil, err
	}
	if v == nil {
		t.side.set(r, plan.schema, nil)
		return r, nil
	}
	st, err := t.side.requireStruct(schema, v, flattenPurpose)
	if err != nil {
		return nil, err
	}
	out := data.NewStruct(plan.schema)
	for k, path := range plan.paths {
		fv, err := structValue(st, path, true)
		if err != nil {
			return nil, err
		}
		if fv == nil {
			continue
		}
		if err := out.PutAt(k, fv); err != nil {
			return nil, fmt.Errorf("field %q: %w", plan.schema.Fields[k].Name, err)
		}
	}
	t.side.set(r, plan.schema, out)
	return r, nil
}

func (t *flatten) flattenMap(m map[string]any, prefix string, out map[string]any) error {
	for k, v := range m {
		name := t.name(prefix, k)
		switch x := v.(type) {
		case map[string]any:
			if err := t.flattenMap(x, name, out); err != nil {
				return err
			}
			continue
		case nil, bool, int, int8, int16, int32, int64, float32, float64, string, []byte, []any, data.Decimal, time.Time:
		default:
			return fmt.Errorf("%s: field %q holds a %T, which schemaless records cannot hold (want primitives, []byte, []any or map[string]any)",
				flattenPurpose, name, v)
		}
		if _, dup := out[name]; dup {
			return fmt.Errorf("%s: two fields flatten to %q; change the delimiter", flattenPurpose, name)
		}
		out[name] = v
	}
	return nil
}

func (t *flatten) plan(in *data.Schema) (flattenPlan, error) {
	var p flattenPlan
	var fields []data.Field
	seen := map[string]bool{}
	var walk func(s *data.Schema, prefix string, path []int, optional bool, parentDefault *data.Struct) error
	walk = func(s *data.Schema, prefix string, path []int, optional bool, parentDefault *data.Struct) error {
		for _, f := range s.Fields {
			name := t.name(prefix, f.Name)
			fpath := append(path[:len(path):len(path)], f.Index)
			opt := optional || f.Schema.Optional
			def := f.Schema.Default
			if def == nil && parentDefault != nil {
				def = parentDefault.At(f.Index)
			}
			if f.Schema.Type == data.TypeStruct {
				sub, _ := def.(*data.Struct)
				if err := walk(f.Schema, name, fpath, opt, sub); err != nil {
					return err
				}
				continue
			}
			if seen[name] {
				return fmt.Errorf("%s: two fields of %s flatten to %q; change the delimiter", flattenPurpose, in, name)
			}
			seen[name] = true
			fs := f.Schema
			if opt != fs.Optional || !data.Equal(def, fs.Default) {
				fs = fs.Clone()
				fs.Optional, fs.Default = opt, def
			}
			fields = append(fields, data.NewField(name, fs))
			p.paths = append(p.paths, fpath)
		}
		return nil
	}
	def, _ := in.Default.(*data.Struct)
	if err := walk(in, "", nil, in.Optional, def); err != nil {
		return p, err
	}
	p.schema = structLike(in, fields)
	return p, nil
}

func (t *flatten) Close() error { return nil }
