package converter

// Values to and from JSON, following Kafka's JsonConverter: numbers as
// numbers, bytes as base64 strings, structs as objects with every field,
// maps as objects when keys are strings and as arrays of [key, value] pairs
// otherwise, Decimal as base64 of the unscaled bytes (decimal.format=BASE64,
// Kafka's default) or as a number (NUMERIC), Date/Time/Timestamp as their
// int32/int64 physical values.

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tributary-streams/tributary/connect/data"
)

// appendValue appends v, described by s (nil: schemaless), as JSON.
func (c *JSONConverter) appendValue(b []byte, s *data.Schema, v any) ([]byte, error) {
	if v == nil {
		switch {
		case s == nil:
			return append(b, "null"...), nil
		case s.Default != nil && c.replaceNullWithDefault:
			return c.appendValue(b, s, s.Default)
		case s.Optional:
			return append(b, "null"...), nil
		}
		return nil, fmt.Errorf("null value for a required %s with no default", s)
	}
	if s == nil {
		return c.appendSchemaless(b, v)
	}
	if s.Name == data.DecimalName && c.decimalNumeric {
		d, ok := v.(data.Decimal)
		if !ok || d.Unscaled == nil {
			return nil, fmt.Errorf("decimal: want data.Decimal, got %T", v)
		}
		return append(b, d.String()...), nil
	}
	if t, ok := v.(time.Time); ok && s.Name == data.TimestampName && s.Type == data.TypeInt64 {
		// What FromLogical gives, without boxing the int64.
		return strconv.AppendInt(b, t.UnixMilli(), 10), nil
	}
	v, err := data.FromLogical(s, v)
	if err != nil {
		return nil, err
	}
	wrong := func() ([]byte, error) {
		return nil, fmt.Errorf("invalid Go type for %s: %T", s.Type, v)
	}
	switch s.Type {
	case data.TypeInt8:
		x, ok := v.(int8)
		if !ok {
			return wrong()
		}
		return strconv.AppendInt(b, int64(x), 10), nil
	case data.TypeInt16:
		x, ok := v.(int16)
		if !ok {
			return wrong()
		}
		return strconv.AppendInt(b, int64(x), 10), nil
	case data.TypeInt32:
		x, ok := v.(int32)
		if !ok {
			return wrong()
		}
		return strconv.AppendInt(b, int64(x), 10), nil
	case data.TypeInt64:
		x, ok := v.(int64)
		if !ok {
			return wrong()
		}
		return strconv.AppendInt(b, x, 10), nil
	case data.TypeFloat32:
		x, ok := v.(float32)
		if !ok {
			return wrong()
		}
		return appendFloat(b, float64(x), 32), nil
	case data.TypeFloat64:
		x, ok := v.(float64)
		if !ok {
			return wrong()
		}
		return appendFloat(b, x, 64), nil
	case data.TypeBoolean:
		x, ok := v.(bool)
		if !ok {
			return wrong()
		}
		return strconv.AppendBool(b, x), nil
	case data.TypeString:
		x, ok := v.(string)
		if !ok {
			return wrong()
		}
		return appendString(b, x), nil
	case data.TypeBytes:
		x, ok := v.([]byte)
		if !ok {
			return wrong()
		}
		return appendBase64(b, x), nil
	case data.TypeArray:
		x, ok := v.([]any)
		if !ok {
			return wrong()
		}
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = c.appendValue(b, s.ValueSchema, e); err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
		}
		return append(b, ']'), nil
	case data.TypeMap:
		x, ok := v.(map[any]any)
		if !ok {
			return wrong()
		}
		return c.appendMap(b, s.KeySchema, s.ValueSchema, x, s.KeySchema.Type == data.TypeString)
	case data.TypeStruct:
		x, ok := v.(*data.Struct)
		if !ok || x == nil {
			return wrong()
		}
		if !x.Fits(s) {
			return nil, fmt.Errorf("struct has schema %s, the record says %s", x.Schema(), s)
		}
		b = append(b, '{')
		for i, f := range s.Fields {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, f.Name)
			b = append(b, ':')
			if b, err = c.appendValue(b, f.Schema, x.AtWithoutDefault(i)); err != nil {
				return nil, fmt.Errorf("field %q: %w", f.Name, err)
			}
		}
		return append(b, '}'), nil
	}
	return nil, fmt.Errorf("schema type %q has no JSON form", s.Type)
}

// appendMap writes a map as an object (string keys) or as [key, value]
// pairs, in key order so that the output is deterministic.
func (c *JSONConverter) appendMap(b []byte, ks, vs *data.Schema, m map[any]any, object bool) ([]byte, error) {
	keys := make([]any, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b any) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
	open, close := byte('['), byte(']')
	if object {
		open, close = '{', '}'
	}
	b = append(b, open)
	var err error
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		if object {
			ksStr, ok := k.(string)
			if !ok {
				return nil, fmt.Errorf("map key %v: want a string, got %T", k, k)
			}
			b = appendString(b, ksStr)
			b = append(b, ':')
		} else {
			b = append(b, '[')
			if b, err = c.appendValue(b, ks, k); err != nil {
				return nil, fmt.Errorf("map key %v: %w", k, err)
			}
			b = append(b, ',')
		}
		if b, err = c.appendValue(b, vs, m[k]); err != nil {
			return nil, fmt.Errorf("map value of %v: %w", k, err)
		}
		if !object {
			b = append(b, ']')
		}
	}
	return append(b, close), nil
}

// appendSchemaless writes a value without a schema, by its Go type.
func (c *JSONConverter) appendSchemaless(b []byte, v any) ([]byte, error) {
	var err error
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int8:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int16:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int32:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case float32:
		return appendFloat(b, float64(x), 32), nil
	case float64:
		return appendFloat(b, x, 64), nil
	case string:
		return appendString(b, x), nil
	case []byte:
		return appendBase64(b, x), nil
	case json.Number:
		if _, err := strconv.ParseFloat(string(x), 64); err != nil {
			return nil, fmt.Errorf("invalid number %q", x)
		}
		return append(b, x...), nil
	case data.Decimal:
		if x.Unscaled == nil {
			return nil, fmt.Errorf("decimal has no unscaled value")
		}
		return append(b, x.String()...), nil
	case time.Time:
		return strconv.AppendInt(b, x.UnixMilli(), 10), nil
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = c.appendSchemaless(b, e); err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
		}
		return append(b, ']'), nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			if b, err = c.appendSchemaless(b, x[k]); err != nil {
				return nil, fmt.Errorf("%q: %w", k, err)
			}
		}
		return append(b, '}'), nil
	case map[any]any:
		object := true
		for k := range x {
			if _, ok := k.(string); !ok {
				object = false
				break
			}
		}
		return c.appendMap(b, nil, nil, x, object)
	case *data.Struct:
		if x == nil {
			return append(b, "null"...), nil
		}
		return c.appendValue(b, x.Schema(), x)
	}
	return nil, fmt.Errorf("Go type %T has no corresponding schema type", v)
}

func appendBase64(b []byte, x []byte) []byte {
	b = append(b, '"')
	b = base64.StdEncoding.AppendEncode(b, x)
	return append(b, '"')
}

// valueFromJSON converts a JSON value (decoded with UseNumber) to the value
// of s (nil: schemaless). path names the value in errors.
func (c *JSONConverter) valueFromJSON(s *data.Schema, n any, path string) (any, error) {
	bad := func(format string, args ...any) (any, error) {
		msg := fmt.Sprintf(format, args...)
		if path != "" {
			msg = path + ": " + msg
		}
		return nil, &jsonValueError{msg}
	}
	if s == nil {
		return schemalessFromJSON(n), nil
	}
	if n == nil {
		switch {
		case s.Default != nil && c.replaceNullWithDefault:
			return s.Default, nil
		case s.Optional:
			return nil, nil
		}
		return bad("null for a required %s", s)
	}
	switch s.Name {
	case data.DecimalName:
		scale, err := data.DecimalScale(s)
		if err != nil {
			return bad("%v", err)
		}
		switch x := n.(type) {
		case json.Number:
			d, err := data.ParseDecimal(string(x))
			if err != nil {
				return bad("%v", err)
			}
			if d, err = rescale(d, scale); err != nil {
				return bad("%v", err)
			}
			return d, nil
		case string:
			raw, err := decodeBase64(x)
			if err != nil {
				return bad("decimal: want base64 of the unscaled value or a number: %v", err)
			}
			return data.DecimalFromBytes(raw, scale), nil
		}
		return bad("decimal: want a base64 string or a number, got %s", jsonKind(n))
	}
	var v any
	switch s.Type {
	case data.TypeInt8, data.TypeInt16, data.TypeInt32, data.TypeInt64:
		num, ok := n.(json.Number)
		if !ok {
			return bad("want a number for %s, got %s", s.Type, jsonKind(n))
		}
		bits := map[data.Type]int{data.TypeInt8: 8, data.TypeInt16: 16, data.TypeInt32: 32, data.TypeInt64: 64}[s.Type]
		i, err := parseInteger(string(num), bits)
		if err != nil {
			return bad("%s: %v", s.Type, err)
		}
		switch s.Type {
		case data.TypeInt8:
			v = int8(i)
		case data.TypeInt16:
			v = int16(i)
		case data.TypeInt32:
			v = int32(i)
		default:
			v = i
		}
	case data.TypeFloat32, data.TypeFloat64:
		bits := 64
		if s.Type == data.TypeFloat32 {
			bits = 32
		}
		var f float64
		switch x := n.(type) {
		case json.Number:
			var err error
			if f, err = strconv.ParseFloat(string(x), bits); err != nil {
				return bad("%s: %q out of range", s.Type, x)
			}
		case string:
			switch x {
			case "NaN":
				f = math.NaN()
			case "Infinity":
				f = math.Inf(1)
			case "-Infinity":
				f = math.Inf(-1)
			default:
				return bad("want a number for %s, got a string", s.Type)
			}
		default:
			return bad("want a number for %s, got %s", s.Type, jsonKind(n))
		}
		if bits == 32 {
			v = float32(f)
		} else {
			v = f
		}
	case data.TypeBoolean:
		x, ok := n.(bool)
		if !ok {
			return bad("want true or false, got %s", jsonKind(n))
		}
		v = x
	case data.TypeString:
		x, ok := n.(string)
		if !ok {
			return bad("want a string, got %s", jsonKind(n))
		}
		v = x
	case data.TypeBytes:
		x, ok := n.(string)
		if !ok {
			return bad("want a base64 string for bytes, got %s", jsonKind(n))
		}
		raw, err := decodeBase64(x)
		if err != nil {
			return bad("bytes: %v", err)
		}
		v = raw
	case data.TypeArray:
		x, ok := n.([]any)
		if !ok {
			return bad("want an array, got %s", jsonKind(n))
		}
		out := make([]any, len(x))
		for i, e := range x {
			ev, err := c.valueFromJSON(s.ValueSchema, e, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			out[i] = ev
		}
		v = out
	case data.TypeMap:
		out := map[any]any{}
		if s.KeySchema.Type == data.TypeString {
			x, ok := n.(map[string]any)
			if !ok {
				return bad("want an object for a map with string keys, got %s", jsonKind(n))
			}
			for k, e := range x {
				ev, err := c.valueFromJSON(s.ValueSchema, e, path+"{"+k+"}")
				if err != nil {
					return nil, err
				}
				out[k] = ev
			}
		} else {
			x, ok := n.([]any)
			if !ok {
				return bad("want an array of [key, value] pairs for a map with %s keys, got %s", s.KeySchema.Type, jsonKind(n))
			}
			for i, e := range x {
				pair, ok := e.([]any)
				if !ok || len(pair) != 2 {
					return bad("map entry %d: want a [key, value] pair", i)
				}
				kv, err := c.valueFromJSON(s.KeySchema, pair[0], fmt.Sprintf("%s{%d}.key", path, i))
				if err != nil {
					return nil, err
				}
				if kv == nil {
					return bad("map entry %d: null key", i)
				}
				ev, err := c.valueFromJSON(s.ValueSchema, pair[1], fmt.Sprintf("%s{%v}", path, kv))
				if err != nil {
					return nil, err
				}
				out[kv] = ev
			}
		}
		v = out
	case data.TypeStruct:
		x, ok := n.(map[string]any)
		if !ok {
			return bad("structs are JSON objects, got %s", jsonKind(n))
		}
		st := data.NewStruct(s)
		for i, f := range s.Fields {
			fv, err := c.valueFromJSON(f.Schema, x[f.Name], joinPath(path, f.Name))
			if err != nil {
				return nil, err
			}
			if err := st.PutAt(i, fv); err != nil {
				return bad("%v", err)
			}
		}
		v = st
	default:
		return bad("schema type %q has no JSON form", s.Type)
	}
	lv, err := data.ToLogical(s, v)
	if err != nil {
		return bad("%v", err)
	}
	return lv, nil
}

type jsonValueError struct{ msg string }

func (e *jsonValueError) Error() string { return e.msg }

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// schemalessFromJSON maps JSON to Kafka's schemaless values: integral
// numbers to int64 (float64 beyond its range), others to float64, objects
// to map[string]any, arrays to []any.
func schemalessFromJSON(n any) any {
	switch x := n.(type) {
	case json.Number:
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return i
		}
		f, _ := strconv.ParseFloat(string(x), 64)
		return f
	case []any:
		for i, e := range x {
			x[i] = schemalessFromJSON(e)
		}
		return x
	case map[string]any:
		for k, e := range x {
			x[k] = schemalessFromJSON(e)
		}
		return x
	}
	return n
}

// parseInteger reads an integer of the given width; integral values
// written with a fraction or exponent ("3.0", "1e3") are accepted.
func parseInteger(s string, bits int) (int64, error) {
	if i, err := strconv.ParseInt(s, 10, bits); err == nil {
		return i, nil
	}
	f, ok := new(big.Float).SetString(s)
	if !ok || !f.IsInt() {
		return 0, fmt.Errorf("%s is not an integer", s)
	}
	i, acc := f.Int64()
	if acc != big.Exact || i < -(1<<(bits-1)) || i > 1<<(bits-1)-1 {
		return 0, fmt.Errorf("%s is out of range for a %d-bit integer", s, bits)
	}
	return i, nil
}

// rescale gives d the scale, if that loses no digits.
func rescale(d data.Decimal, scale int32) (data.Decimal, error) {
	if d.Scale == scale {
		return d, nil
	}
	if diff := int64(scale) - int64(d.Scale); diff > 2*data.MaxDecimalScale || diff < -2*data.MaxDecimalScale {
		return data.Decimal{}, fmt.Errorf("decimal %s: scale %d is too far from %d", d, d.Scale, scale)
	}
	ten := big.NewInt(10)
	if scale > d.Scale {
		p := new(big.Int).Exp(ten, big.NewInt(int64(scale-d.Scale)), nil)
		return data.Decimal{Unscaled: new(big.Int).Mul(d.Unscaled, p), Scale: scale}, nil
	}
	p := new(big.Int).Exp(ten, big.NewInt(int64(d.Scale-scale)), nil)
	q, r := new(big.Int).QuoRem(d.Unscaled, p, new(big.Int))
	if r.Sign() != 0 {
		return data.Decimal{}, fmt.Errorf("decimal %s does not fit scale %d without rounding", d, scale)
	}
	return data.Decimal{Unscaled: q, Scale: scale}, nil
}

func decodeBase64(s string) ([]byte, error) {
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
}
