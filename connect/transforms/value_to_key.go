package transforms

import (
	"fmt"

	"github.com/tributary-streams/tributary/connect"
	"github.com/tributary-streams/tributary/connect/data"
)

// ValueToKey: replace the key with a struct (schema'd) or map (schemaless)
// of the listed value fields, in the listed order. A tombstone (null
// value) passes through with its key unchanged, so it still deletes that
// key on a compacted topic (Kafka fails on it).

var valueToKeyConfig = connect.NewConfigDef().
	Define(connect.ConfigKey{Name: fieldsKey, Type: connect.TypeList, Required: true, Importance: connect.ImportanceHigh,
		Validator:     nonEmptyUniqueList(),
		Documentation: "Field names on the record value to extract as the record key."}).
	Define(replaceNullDef())

// nonEmptyUniqueList accepts a non-empty list without repeats (Kafka's
// ValidList.anyNonDuplicateValues(false, false)).
func nonEmptyUniqueList() connect.Validator {
	return connect.ValidatorFunc("non-empty list without duplicates", func(v any) error {
		list := v.([]string)
		if len(list) == 0 {
			return fmt.Errorf("must not be empty")
		}
		seen := map[string]bool{}
		for _, s := range list {
			if seen[s] {
				return fmt.Errorf("%q is listed twice", s)
			}
			seen[s] = true
		}
		return nil
	})
}

type valueToKey struct {
	fields      []string
	replaceNull bool
	cache       schemaCache[keyPlan]
}

// keyPlan is the key schema for one value schema and the value field
// index of each key field.
type keyPlan struct {
	schema *data.Schema
	from   []int
}

func (t *valueToKey) Config() *connect.ConfigDef { return valueToKeyConfig }

func (t *valueToKey) Configure(config map[string]string) error {
	c, err := valueToKeyConfig.Parse(config)
	if err != nil {
		return err
	}
	t.fields = c.List(fieldsKey)
	t.replaceNull = c.Bool(replaceNullKey)
	return nil
}

const valueToKeyPurpose = "copying fields from value to key"

func (t *valueToKey) Apply(r *connect.Record) (*connect.Record, error) {
	if r.Value == nil {
		return r, nil
	}
	if r.ValueSchema == nil {
		m, err := valueSide.requireMap(r.Value, valueToKeyPurpose)
		if err != nil {
			return nil, err
		}
		key := make(map[string]any, len(t.fields))
		for _, f := range t.fields {
			key[f] = m[f]
		}
		r.KeySchema, r.Key = nil, key
		return r, nil
	}
	st, err := valueSide.requireStruct(r.ValueSchema, r.Value, valueToKeyPurpose)
	if err != nil {
		return nil, err
	}
	plan, err := t.cache.getOrBuild(st.Schema(), t.plan)
	if err != nil {
		return nil, err
	}
	key := data.NewStruct(plan.schema)
	for i, from := range plan.from {
		if err := copyField(key, i, st, from, t.replaceNull); err != nil {
			return nil, fmt.Errorf("field %q: %w", t.fields[i], err)
		}
	}
	r.KeySchema, r.Key = plan.schema, key
	return r, nil
}

func (t *valueToKey) plan(in *data.Schema) (keyPlan, error) {
	var p keyPlan
	fields := make([]data.Field, len(t.fields))
	for i, name := range t.fields {
		f, ok := in.Field(name)
		if !ok {
			return p, fmt.Errorf("%s: field %q does not exist in the value schema %s", fieldsKey, name, in)
		}
		fields[i] = data.NewField(name, f.Schema)
		p.from = append(p.from, f.Index)
	}
	p.schema = data.StructSchema("", fields...)
	return p, nil
}

func (t *valueToKey) Close() error { return nil }
