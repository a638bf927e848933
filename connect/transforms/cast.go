package transforms

import (
	"fmt"
	"maps"
	"strings"

	"github.com/tributary-streams/tributary/connect"
	"github.com/tributary-streams/tributary/connect/data"
)

// Cast$Key / Cast$Value: cast fields ("a:int32,b:string"), or the whole key
// or value ("int64"), to int8, int16, int32, int64, float32, float64,
// boolean or string. Inputs may be those types, bytes (to string only, as
// base64), decimals (as numbers, truncated toward zero for integers) and
// Date/Time/Timestamp (to string in ISO-8601 UTC, to numbers as their
// days/milliseconds). Numbers narrow as Java's casts do: integers wrap,
// floating-point saturates (NaN gives 0), and a number is true when its
// integer part is not zero; strings parse as Java parses them, and any
// string other than "true" (any case) is false. Schemaless, a listed field
// missing from the map is added as null, as Kafka does. A null key or
// value passes through unchanged.
//
// Casting the whole value keeps the schema's name and parameters, as Kafka
// does, except for a logical type's (a string is no longer a Timestamp).

const specKey = "spec"

var castConfig = connect.NewConfigDef().
	Define(connect.ConfigKey{Name: specKey, Type: connect.TypeList, Required: true, Importance: connect.ImportanceHigh,
		Validator: connect.ValidatorFunc("list of colon-delimited pairs, e.g. foo:bar,abc:xyz", func(v any) error {
			_, err := parseCastSpec(v.([]string))
			return err
		}),
		Documentation: "List of fields and the type to cast them to of the form field1:type,field2:type to cast fields of " +
			"Maps or Structs. A single type to cast the entire value. Valid types are int8, int16, int32, int64, " +
			"float32, float64, boolean, and string. Note that binary fields can only be cast to string."}).
	Define(replaceNullDef())

// castTargets are the types Cast casts to; castInputs those it casts from.
var (
	castTargets = []data.Type{data.TypeInt8, data.TypeInt16, data.TypeInt32, data.TypeInt64,
		data.TypeFloat32, data.TypeFloat64, data.TypeBoolean, data.TypeString}
	castInputs = append(castTargets[:len(castTargets):len(castTargets)], data.TypeBytes)
)

func typeNames(types []data.Type) string {
	s := make([]string, len(types))
	for i, t := range types {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

// castSpec is a parsed spec: a type per field, or one for the whole value.
type castSpec struct {
	fields map[string]data.Type
	whole  data.Type // "" unless the whole value is cast
}

func parseCastSpec(list []string) (castSpec, error) {
	spec := castSpec{fields: map[string]data.Type{}}
	if len(list) == 0 {
		return spec, fmt.Errorf("must specify at least one field to cast")
	}
	for _, item := range list {
		parts := strings.Split(item, ":")
		if len(parts) > 2 {
			return spec, fmt.Errorf("invalid cast %q: want field:type, or a single type to cast the whole value", item)
		}
		t, err := castTarget(parts[len(parts)-1])
		if err != nil {
			return spec, fmt.Errorf("invalid cast %q: %w", item, err)
		}
		if len(parts) == 1 {
			if len(list) > 1 {
				return spec, fmt.Errorf("a cast of the entire value (%q) must be the only cast in the spec", item)
			}
			spec.whole = t
			continue
		}
		field := strings.TrimSpace(parts[0])
		if field == "" {
			return spec, fmt.Errorf("invalid cast %q: the field name is empty", item)
		}
		if _, dup := spec.fields[field]; dup {
			return spec, fmt.Errorf("field %q is cast twice", field)
		}
		spec.fields[field] = t
	}
	return spec, nil
}

func castTarget(name string) (data.Type, error) {
	t := data.Type(strings.ToLower(strings.TrimSpace(name)))
	for _, c := range castTargets {
		if t == c {
			return t, nil
		}
	}
	if t.Valid() {
		return "", fmt.Errorf("casting to %s is not supported; supported types are %s", t, typeNames(castTargets))
	}
	return "", fmt.Errorf("unknown type %q; supported types are %s", strings.TrimSpace(name), typeNames(castTargets))
}

type cast struct {
	side        side
	spec        castSpec
	replaceNull bool
	cache       schemaCache[*data.Schema]
}

func (t *cast) Config() *connect.ConfigDef { return castConfig }

func (t *cast) Configure(config map[string]string) error {
	c, err := castConfig.Parse(config)
	if err != nil {
		return err
	}
	t.spec, _ = parseCastSpec(c.List(specKey))
	t.replaceNull = c.Bool(replaceNullKey)
	return nil
}

const castPurpose = "cast types"

func (t *cast) Apply(r *connect.Record) (*connect.Record, error) {
	schema, v := t.side.get(r)
	if v == nil {
		return r, nil
	}
	if schema == nil {
		if t.spec.whole != "" {
			out, err := castValue(nil, v, t.spec.whole)
			if err != nil {
				return nil, fmt.Errorf("record %s: %w", t.side, err)
			}
			t.side.set(r, nil, out)
			return r, nil
		}
		m, err := t.side.requireMap(v, castPurpose)
		if err != nil {
			return nil, err
		}
		out := maps.Clone(m)
		for f, to := range t.spec.fields {
			if out[f], err = castValue(nil, m[f], to); err != nil {
				return nil, fmt.Errorf("field %q: %w", f, err)
			}
		}
		t.side.set(r, nil, out)
		return r, nil
	}
	updated, err := t.cache.getOrBuild(schema, t.updatedSchema)
	if err != nil {
		return nil, err
	}
	if t.spec.whole != "" {
		out, err := castValue(schema, v, t.spec.whole)
		if err != nil {
			return nil, fmt.Errorf("record %s: %w", t.side, err)
		}
		t.side.set(r, updated, out)
		return r, nil
	}
	st, err := t.side.requireStruct(schema, v, castPurpose)
	if err != nil {
		return nil, err
	}
	out := data.NewStruct(updated)
	for i, f := range st.Schema().Fields {
		fv := fieldValue(st, i, t.replaceNull)
		if to, ok := t.spec.fields[f.Name]; ok {
			if fv, err = castValue(f.Schema, fv, to); err != nil {
				return nil, fmt.Errorf("field %q: %w", f.Name, err)
			}
		}
		if err := out.PutAt(i, fv); err != nil {
			return nil, fmt.Errorf("field %q: %w", f.Name, err)
		}
	}
	t.side.set(r, updated, out)
	return r, nil
}

func (t *cast) updatedSchema(in *data.Schema) (*data.Schema, error) {
	if t.spec.whole != "" {
		return castSchema(in, t.spec.whole, true)
	}
	if in.Type != data.TypeStruct {
		return nil, fmt.Errorf("%s: casting fields needs a struct %s schema, got %s", castPurpose, t.side, in)
	}
	fields := make([]data.Field, len(in.Fields))
	for i, f := range in.Fields {
		fields[i] = f
		if to, ok := t.spec.fields[f.Name]; ok {
			s, err := castSchema(f.Schema, to, false)
			if err != nil {
				return nil, fmt.Errorf("field %q: %w", f.Name, err)
			}
			fields[i].Schema = s
		}
	}
	out := structLike(in, fields)
	out.Optional = in.Optional // Kafka's Cast, unlike most, keeps it
	return out, nil
}

// castSchema is the schema of in's values cast to type to: in's
// optionality and default (cast), and with basics its name, version, doc
// and parameters unless in is a logical type.
func castSchema(in *data.Schema, to data.Type, basics bool) (*data.Schema, error) {
	out := &data.Schema{Type: to, Optional: in.Optional}
	if basics && !isLogical(in) {
		out = copyBasics(in, to)
		out.Optional = in.Optional
	}
	if in.Default != nil {
		d, err := castValue(in, in.Default, to)
		if err != nil {
			return nil, fmt.Errorf("default: %w", err)
		}
		out.Default = d
	}
	return out, nil
}

func isLogical(s *data.Schema) bool {
	switch s.Name {
	case data.DecimalName, data.DateName, data.TimeName, data.TimestampName:
		return true
	}
	return false
}

func (t *cast) Close() error { return nil }
