package transforms

import (
	"fmt"
	"maps"
	"slices"

	"github.com/tributary-streams/tributary/connect"
	"github.com/tributary-streams/tributary/connect/data"
)

// HeaderFrom$Key / HeaderFrom$Value: copy (operation=copy) or move
// (operation=move: also remove from the key or value) each listed field
// into the header named at the same position of headers; the header keeps
// the field's schema. A field missing from a struct schema fails the
// record (Kafka fails too); one missing from a map gives a null header. A
// null key or value passes through unchanged (Kafka fails on it).

const operationKey = "operation"

var headerFromConfig = connect.NewConfigDef().
	Define(connect.ConfigKey{Name: fieldsKey, Type: connect.TypeList, Required: true, Validator: connect.NonEmpty(), Importance: connect.ImportanceHigh,
		Documentation: "Field names in the record whose values are to be copied or moved to headers."}).
	Define(connect.ConfigKey{Name: headersKey, Type: connect.TypeList, Required: true, Validator: connect.NonEmpty(), Importance: connect.ImportanceHigh,
		Documentation: "Header names, in the same order as the field names listed in the fields configuration property."}).
	Define(connect.ConfigKey{Name: operationKey, Required: true, Validator: exactlyOneOf("move", "copy"), Importance: connect.ImportanceHigh,
		Documentation: "Either move if the fields are to be moved to the headers (removed from the key/value), " +
			"or copy if the fields are to be copied to the headers (retained in the key/value)."}).
	Define(replaceNullDef())

type headerFrom struct {
	side        side
	fields      []string
	headers     []string
	move        bool
	replaceNull bool
	cache       schemaCache[headerPlan]
}

// headerPlan is, for one input schema, the index of each listed field and
// with move the schema without them and the input index of each field left.
type headerPlan struct {
	index  []int
	schema *data.Schema
	from   []int
}

func (t *headerFrom) Config() *connect.ConfigDef { return headerFromConfig }

func (t *headerFrom) Configure(config map[string]string) error {
	c, err := headerFromConfig.Parse(config)
	if err != nil {
		return err
	}
	t.fields, t.headers = c.List(fieldsKey), c.List(headersKey)
	t.move = c.String(operationKey) == "move"
	t.replaceNull = c.Bool(replaceNullKey)
	if len(t.fields) != len(t.headers) {
		return connect.FieldError{Key: headersKey, Message: fmt.Sprintf("'%s' config must have the same number of elements as '%s' config (%d and %d)",
			fieldsKey, headersKey, len(t.fields), len(t.headers))}
	}
	return nil
}

func (t *headerFrom) Apply(r *connect.Record) (*connect.Record, error) {
	schema, v := t.side.get(r)
	if v == nil {
		return r, nil
	}
	purpose := "header " + map[bool]string{true: "move", false: "copy"}[t.move]
	headers := make(connect.Headers, len(r.Headers), len(r.Headers)+len(t.fields))
	copy(headers, r.Headers)
	if schema == nil {
		m, err := t.side.requireMap(v, purpose)
		if err != nil {
			return nil, err
		}
		out := m
		if t.move {
			out = maps.Clone(m)
		}
		for i, f := range t.fields {
			headers = append(headers, connect.Header{Key: t.headers[i], Value: m[f]})
			if t.move {
				delete(out, f)
			}
		}
		t.side.set(r, nil, out)
		r.Headers = headers
		return r, nil
	}
	st, err := t.side.requireStruct(schema, v, purpose)
	if err != nil {
		return nil, err
	}
	plan, err := t.cache.getOrBuild(st.Schema(), t.plan)
	if err != nil {
		return nil, err
	}
	fields := st.Schema().Fields
	for i, idx := range plan.index {
		headers = append(headers, connect.Header{Key: t.headers[i], Schema: fields[idx].Schema, Value: fieldValue(st, idx, t.replaceNull)})
	}
	if t.move {
		out := data.NewStruct(plan.schema)
		for i, from := range plan.from {
			if err := copyField(out, i, st, from, t.replaceNull); err != nil {
				return nil, fmt.Errorf("field %q: %w", fields[from].Name, err)
			}
		}
		t.side.set(r, plan.schema, out)
	}
	r.Headers = headers
	return r, nil
}

func (t *headerFrom) plan(in *data.Schema) (headerPlan, error) {
	var p headerPlan
	for _, name := range t.fields {
		f, ok := in.Field(name)
		if !ok {
			return p, fmt.Errorf("%s: field %q does not exist in the record %s schema %s", fieldsKey, name, t.side, in)
		}
		p.index = append(p.index, f.Index)
	}
	if t.move {
		var kept []data.Field
		for _, f := range in.Fields {
			if !slices.Contains(t.fields, f.Name) {
				kept = append(kept, data.NewField(f.Name, f.Schema))
				p.from = append(p.from, f.Index)
			}
		}
		p.schema = structLike(in, kept)
	}
	return p, nil
}

func (t *headerFrom) Close() error { return nil }
