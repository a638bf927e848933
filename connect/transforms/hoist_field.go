package transforms

import (
	"fmt"

	"github.com/tributary-streams/tributary/connect"
	"github.com/tributary-streams/tributary/connect/data"
)

// HoistField$Key / HoistField$Value: wrap the key or value in a struct
// with one field (schema'd) or a map with one key (schemaless). A null is
// wrapped too, as in Kafka: it needs an optional schema.

var hoistFieldConfig = connect.NewConfigDef().
	Define(connect.ConfigKey{Name: fieldKey, Required: true,
		Documentation: "Field name for the single field that will be created in the resulting Struct or Map."})

type hoistField struct {
	side  side
	field string
	cache schemaCache[*data.Schema]
}

func (t *hoistField) Config() *connect.ConfigDef { return hoistFieldConfig }

func (t *hoistField) Configure(config map[string]string) error {
	c, err := hoistFieldConfig.Parse(config)
	if err != nil {
		return err
	}
	t.field = c.String(fieldKey)
	return nil
}

func (t *hoistField) Apply(r *connect.Record) (*connect.Record, error) {
	schema, v := t.side.get(r)
	if schema == nil {
		t.side.set(r, nil, map[string]any{t.field: v})
		return r, nil
	}
	updated, err := t.cache.getOrBuild(schema, func(s *data.Schema) (*data.Schema, error) {
		return data.StructSchema("", data.NewField(t.field, s)), nil
	})
	if err != nil {
		return nil, err
	}
	out := data.NewStruct(updated)
	if err := out.PutAt(0, v); err != nil {
		return nil, fmt.Errorf("hoisting the record %s into field %q: %w", t.side, t.field, err)
	}
	t.side.set(r, updated, out)
	return r, nil
}

func (t *hoistField) Close() error { return nil }
