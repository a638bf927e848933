package transforms

import (
	"fmt"
	"maps"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/tributary-streams/tributary/connect"
	"github.com/tributary-streams/tributary/connect/data"
)

// MaskField$Key / MaskField$Value: replace the listed fields with the
// zero value of their type (false, 0, "", a zero decimal at the field's
// scale, the epoch for dates and times, an empty array or map), or with
// the replacement, parsed for numeric fields. Bytes and structs cannot be
// masked, and booleans, dates, arrays and maps cannot take a replacement:
// such a record fails, as in Kafka. Schemaless, a listed field missing
// from the map is added as null, as Kafka does. A null key or value passes
// through unchanged.

const (
	fieldsKey      = "fields"
	replacementKey = "replacement"
)

var maskFieldConfig = connect.NewConfigDef().
	Define(connect.ConfigKey{Name: fieldsKey, Type: connect.TypeList, Required: true, Validator: connect.NonEmpty(),
		Importance: connect.ImportanceHigh, Documentation: "Names of fields to mask."}).
	Define(connect.ConfigKey{Name: replacementKey, Validator: connect.NonEmpty(), Importance: connect.ImportanceLow,
		Documentation: "Custom value replacement, that will be applied to all 'fields' values (numeric or non-empty string values only)."}).
	Define(replaceNullDef())

type maskField struct {
	side        side
	fields      map[string]bool
	replace     bool   // a replacement is configured
	replacement string // the replacement text
	replaceNull bool
	// masked says, per input schema, which fields (by index) are masked.
	masked schemaCache[[]bool]
}

func (t *maskField) Config() *connect.ConfigDef { return maskFieldConfig }

func (t *maskField) Configure(config map[string]string) error {
	c, err := maskFieldConfig.Parse(config)
	if err != nil {
		return err
	}
	t.fields = set(c.List(fieldsKey))
	t.replace = c.Given(replacementKey)
	t.replacement = c.String(replacementKey)
	t.replaceNull = c.Bool(replaceNullKey)
	return nil
}

const maskPurpose = "mask fields"

func (t *maskField) Apply(r *connect.Record) (*connect.Record, error) {
	schema, v := t.side.get(r)
	if v == nil {
		return r, nil
	}
	if schema == nil {
		m, err := t.side.requireMap(v, maskPurpose)
		if err != nil {
			return nil, err
		}
		out := maps.Clone(m)
		for name := range t.fields {
			masked, err := t.mask(name, m[name])
			if err != nil {
				return nil, err
			}
			out[name] = masked
		}
		t.side.set(r, nil, out)
		return r, nil
	}
	st, err := t.side.requireStruct(schema, v, maskPurpose)
	if err != nil {
		return nil, err
	}
	masked, _ := t.masked.getOrBuild(st.Schema(), t.maskedFields)
	out := data.NewStruct(st.Schema())
	for i, f := range st.Schema().Fields {
		if !masked[i] {
			if err := copyField(out, i, st, i, t.replaceNull); err != nil {
				return nil, fmt.Errorf("field %q: %w", f.Name, err)
			}
			continue
		}
		fv, err := t.mask(f.Name, fieldValue(st, i, t.replaceNull))
		if err != nil {
			return nil, err
		}
		if err := out.PutAt(i, fv); err != nil {
			return nil, fmt.Errorf("field %q: %w", f.Name, err)
		}
	}
	t.side.set(r, schema, out)
	return r, nil
}

// maskedFields marks the fields of a struct schema that are masked.
func (t *maskField) maskedFields(s *data.Schema) ([]bool, error) {
	out := make([]bool, len(s.Fields))
	for i, f := range s.Fields {
		out[i] = t.fields[f.Name]
	}
	return out, nil
}

var epoch = time.Unix(0, 0).UTC()

// mask returns the masked form of field name's value v.
func (t *maskField) mask(name string, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if t.replace {
		out, err := t.replaceWith(v)
		if err != nil {
			return nil, fmt.Errorf("%s: field %q: %w", replacementKey, name, err)
		}
		return out, nil
	}
	switch x := v.(type) {
	case bool:
		return false, nil
	case int:
		return 0, nil
	case int8:
		return int8(0), nil
	case int16:
		return int16(0), nil
	case int32:
		return int32(0), nil
	case int64:
		return int64(0), nil
	case float32:
		return float32(0), nil
	case float64:
		return float64(0), nil
	case string:
		return "", nil
	case data.Decimal:
		return data.Decimal{Unscaled: new(big.Int), Scale: x.Scale}, nil
	case time.Time:
		return epoch, nil
	case []any:
		return []any{}, nil
	case map[string]any:
		return map[string]any{}, nil
	case map[any]any:
		return map[any]any{}, nil
	}
	return nil, fmt.Errorf("field %q: cannot mask a value of type %s: maskable are booleans, numbers, decimals, strings, dates and times, arrays and maps",
		name, typeName(v))
}

// replaceWith parses the replacement as a value of v's type.
func (t *maskField) replaceWith(v any) (any, error) {
	rep := t.replacement
	integer := func(bits int) (int64, error) {
		n, err := strconv.ParseInt(strings.TrimSpace(rep), 10, bits)
		if err != nil {
			return 0, fmt.Errorf("cannot mask a %s with %q: want a %d-bit integer", typeName(v), rep, bits)
		}
		return n, nil
	}
	floating := func(bits int) (float64, error) {
		f, err := strconv.ParseFloat(strings.TrimSpace(rep), bits)
		if err != nil {
			return 0, fmt.Errorf("cannot mask a %s with %q: want a number", typeName(v), rep)
		}
		return f, nil
	}
	switch x := v.(type) {
	case string:
		return rep, nil
	case int:
		n, err := integer(strconv.IntSize)
		return int(n), err
	case int8:
		n, err := integer(8)
		return int8(n), err
	case int16:
		n, err := integer(16)
		return int16(n), err
	case int32:
		n, err := integer(32)
		return int32(n), err
	case int64:
		return integer(64)
	case float32:
		f, err := floating(32)
		return float32(f), err
	case float64:
		return floating(64)
	case data.Decimal:
		d, err := data.ParseDecimal(rep)
		if err != nil {
			return nil, fmt.Errorf("cannot mask a decimal with %q: want a decimal number", rep)
		}
		if d.Scale > x.Scale {
			return nil, fmt.Errorf("cannot mask a decimal of scale %d with %q: it has more digits after the point", x.Scale, rep)
		}
		p := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(x.Scale-d.Scale)), nil)
		return data.Decimal{Unscaled: p.Mul(p, d.Unscaled), Scale: x.Scale}, nil
	}
	return nil, fmt.Errorf("cannot mask a value of type %s with a custom replacement: replacements apply to numbers and strings", typeName(v))
}

func (t *maskField) Close() error { return nil }
