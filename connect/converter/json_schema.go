package converter

// Kafka Connect's JSON form of a schema, as JsonConverter writes it inside
// the {"schema": ..., "payload": ...} envelope:
//
//	{"type":"struct","fields":[{"type":"int64","optional":false,"field":"id"}],"optional":false,"name":"x","version":1}
//
// Keys appear in Kafka's order: type, then fields / items / keys+values,
// then optional, name, version, doc, parameters, default; a struct field's
// "field" name comes last. Float types are spelled "float" and "double".

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/tributary-streams/tributary/connect/data"
)

var jsonTypeNames = map[data.Type]string{
	data.TypeBoolean: "boolean", data.TypeInt8: "int8", data.TypeInt16: "int16", data.TypeInt32: "int32",
	data.TypeInt64: "int64", data.TypeFloat32: "float", data.TypeFloat64: "double", data.TypeBytes: "bytes",
	data.TypeString: "string", data.TypeArray: "array", data.TypeMap: "map", data.TypeStruct: "struct",
}

var typesByJSONName = func() map[string]data.Type {
	m := map[string]data.Type{}
	for t, n := range jsonTypeNames {
		m[n] = t
	}
	return m
}()

// appendSchema appends the JSON form of s (nil: null). field, when not
// empty, is the struct field name to append last.
func (c *JSONConverter) appendSchema(b []byte, s *data.Schema, field string) ([]byte, error) {
	if s == nil {
		return append(b, "null"...), nil
	}
	name, ok := jsonTypeNames[s.Type]
	if !ok {
		return nil, fmt.Errorf("schema type %q has no JSON form", s.Type)
	}
	b = append(b, `{"type":`...)
	b = appendString(b, name)
	var err error
	switch s.Type {
	case data.TypeArray:
		b = append(b, `,"items":`...)
		if b, err = c.appendSchema(b, s.ValueSchema, ""); err != nil {
			return nil, err
		}
	case data.TypeMap:
		b = append(b, `,"keys":`...)
		if b, err = c.appendSchema(b, s.KeySchema, ""); err != nil {
			return nil, err
		}
		b = append(b, `,"values":`...)
		if b, err = c.appendSchema(b, s.ValueSchema, ""); err != nil {
			return nil, err
		}
	case data.TypeStruct:
		b = append(b, `,"fields":[`...)
		for i, f := range s.Fields {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = c.appendSchema(b, f.Schema, f.Name); err != nil {
				return nil, err
			}
		}
		b = append(b, ']')
	}
	b = append(b, `,"optional":`...)
	b = strconv.AppendBool(b, s.Optional)
	if s.Name != "" {
		b = append(b, `,"name":`...)
		b = appendString(b, s.Name)
	}
	if s.Version != 0 {
		b = append(b, `,"version":`...)
		b = strconv.AppendInt(b, int64(s.Version), 10)
	}
	if s.Doc != "" {
		b = append(b, `,"doc":`...)
		b = appendString(b, s.Doc)
	}
	if s.Parameters != nil {
		b = append(b, `,"parameters":{`...)
		keys := make([]string, 0, len(s.Parameters))
		for k := range s.Parameters {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			b = appendString(b, s.Parameters[k])
		}
		b = append(b, '}')
	}
	if s.Default != nil {
		b = append(b, `,"default":`...)
		if b, err = c.appendValue(b, s, s.Default); err != nil {
			return nil, fmt.Errorf("schema default: %w", err)
		}
	}
	if field != "" {
		b = append(b, `,"field":`...)
		b = appendString(b, field)
	}
	return append(b, '}'), nil
}

// schemaFromJSON reads the JSON form of a schema, decoded with UseNumber.
// JSON null is no schema (schemaless).
func (c *JSONConverter) schemaFromJSON(n any) (*data.Schema, error) {
	if n == nil {
		return nil, nil
	}
	s, err := c.parseSchema(n)
	if err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	if err := s.Check(); err != nil {
		return nil, err
	}
	return s, nil
}

func (c *JSONConverter) parseSchema(n any) (*data.Schema, error) {
	obj, ok := n.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("a schema must be a JSON object, got %s", jsonKind(n))
	}
	tn, ok := obj["type"].(string)
	if !ok {
		return nil, fmt.Errorf(`schema must contain a "type" field naming one of boolean, int8, int16, int32, int64, float, double, bytes, string, array, map, struct`)
	}
	t, ok := typesByJSONName[tn]
	if !ok {
		return nil, fmt.Errorf("unknown schema type %q: accepted boolean, int8, int16, int32, int64, float, double, bytes, string, array, map, struct", tn)
	}
	s := &data.Schema{Type: t}
	sub := func(key, what string) (*data.Schema, error) {
		v, present := obj[key]
		if !present || v == nil {
			return nil, fmt.Errorf("%s schema did not specify the %s (%q)", tn, what, key)
		}
		inner, err := c.parseSchema(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		return inner, nil
	}
	var err error
	switch t {
	case data.TypeArray:
		if s.ValueSchema, err = sub("items", "element type"); err != nil {
			return nil, err
		}
	case data.TypeMap:
		if s.KeySchema, err = sub("keys", "key type"); err != nil {
			return nil, err
		}
		if s.ValueSchema, err = sub("values", "value type"); err != nil {
			return nil, err
		}
	case data.TypeStruct:
		fields, ok := obj["fields"].([]any)
		if !ok {
			return nil, fmt.Errorf(`struct schema's "fields" is not an array`)
		}
		for i, f := range fields {
			fo, _ := f.(map[string]any)
			name, ok := fo["field"].(string)
			if !ok {
				return nil, fmt.Errorf(`struct schema field %d has no "field" name`, i)
			}
			fs, err := c.parseSchema(f)
			if err != nil {
				return nil, fmt.Errorf("field %q: %w", name, err)
			}
			s.Fields = append(s.Fields, data.Field{Name: name, Index: i, Schema: fs})
		}
	}
	if opt, ok := obj["optional"].(bool); ok && opt {
		s.Optional = true
	}
	if name, ok := obj["name"].(string); ok {
		s.Name = name
	}
	if v, ok := obj["version"].(json.Number); ok {
		n, err := strconv.ParseInt(string(v), 10, 32)
		if err != nil {
			return nil, fmt.Errorf("schema version %s: want a 32-bit integer", v)
		}
		s.Version = int32(n)
	}
	if doc, ok := obj["doc"].(string); ok {
		s.Doc = doc
	}
	if p, present := obj["parameters"]; present && p != nil {
		po, ok := p.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("schema parameters must be a JSON object of strings")
		}
		s.Parameters = make(map[string]string, len(po))
		for k, v := range po {
			str, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("schema parameter %q must be a string, got %s", k, jsonKind(v))
			}
			s.Parameters[k] = str
		}
	}
	if d, present := obj["default"]; present && d != nil {
		if err := s.Check(); err != nil {
			return nil, err
		}
		v, err := c.valueFromJSON(s, d, "default")
		if err != nil {
			return nil, fmt.Errorf("schema default: %w", err)
		}
		s.Default = v
	}
	return s, nil
}

func jsonKind(n any) string {
	switch n.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	}
	return fmt.Sprintf("%T", n)
}
