package transforms

import (
	"github.com/tributary-streams/tributary/connect"
	"github.com/tributary-streams/tributary/connect/data"
)

// ExtractField$Key / ExtractField$Value: replace the key or value with one
// of its fields (a nested one with field.syntax.version=V2); the schema
// becomes the field's schema. A null passes through as null; a missing
// field of a map gives null, of a struct schema an error.

const fieldKey = "field"

var extractFieldConfig = connect.NewConfigDef().
	Define(connect.ConfigKey{Name: fieldKey, Required: true, Documentation: "Field name to extract."}).
	Define(fieldSyntaxDef()).
	Define(replaceNullDef())

type extractField struct {
	side        side
	path        fieldPath
	replaceNull bool
	cache       schemaCache[extractPlan]
}

type extractPlan struct {
	idx    []int
	schema *data.Schema
}

func (t *extractField) Config() *connect.ConfigDef { return extractFieldConfig }

func (t *extractField) Configure(config map[string]string) error {
	c, err := extractFieldConfig.Parse(config)
	if err != nil {
		return err
	}
	if t.path, err = parseFieldPath(c.String(fieldKey), c.String(fieldSyntaxVersionKey)); err != nil {
		return connect.FieldError{Key: fieldKey, Message: err.Error()}
	}
	t.replaceNull = c.Bool(replaceNullKey)
	return nil
}

const extractPurpose = "field extraction"

func (t *extractField) Apply(r *connect.Record) (*connect.Record, error) {
	schema, v := t.side.get(r)
	if schema == nil {
		if v == nil {
			return r, nil
		}
		m, err := t.side.requireMap(v, extractPurpose)
		if err != nil {
			return nil, err
		}
		out, err := t.path.mapValue(m)
		if err != nil {
			return nil, err
		}
		t.side.set(r, nil, out)
		return r, nil
	}
	plan, err := t.cache.getOrBuild(schema, func(s *data.Schema) (extractPlan, error) {
		idx, fs, err := t.path.resolve(s)
		return extractPlan{idx: idx, schema: fs}, err
	})
	if err != nil {
		return nil, err
	}
	if v == nil {
		t.side.set(r, plan.schema, nil)
		return r, nil
	}
	st, err := t.side.requireStruct(schema, v, extractPurpose)
	if err != nil {
		return nil, err
	}
	out, err := structValue(st, plan.idx, t.replaceNull)
	if err != nil {
		return nil, err
	}
	t.side.set(r, plan.schema, out)
	return r, nil
}

func (t *extractField) Close() error { return nil }
