package data

import (
	"fmt"
	"reflect"
	"time"
)

// ValidationError says which value (by path from the root, e.g.
// "after.amount") does not fit its schema and why.
type ValidationError struct {
	Path   string
	Reason string
}

func (e *ValidationError) Error() string {
	if e.Path == "" {
		return "invalid value: " + e.Reason
	}
	return fmt.Sprintf("invalid value at %q: %s", e.Path, e.Reason)
}

// Validate checks that v is a value of schema s (see the package comment
// for the Go type of each schema type). A nil schema accepts anything.
// A nil value needs an optional schema or one with a default.
func Validate(s *Schema, v any) error { return validate("", s, v) }

func validate(path string, s *Schema, v any) error {
	if s == nil {
		return nil
	}
	bad := func(format string, args ...any) error {
		return &ValidationError{Path: path, Reason: fmt.Sprintf(format, args...)}
	}
	if v == nil {
		if s.Optional || s.Default != nil {
			return nil
		}
		return bad("null for a required %s", s)
	}
	switch s.Name {
	case DecimalName:
		d, ok := v.(Decimal)
		if !ok {
			return bad("want data.Decimal for %s, got %T", s.Name, v)
		}
		if d.Unscaled == nil {
			return bad("decimal has no unscaled value")
		}
		if scale, err := DecimalScale(s); err != nil {
			return bad("%v", err)
		} else if scale != d.Scale {
			return bad("decimal %s has scale %d, the schema says %d", d, d.Scale, scale)
		}
		return nil
	case DateName, TimeName, TimestampName:
		if _, ok := v.(time.Time); !ok {
			return bad("want time.Time for %s, got %T", s.Name, v)
		}
		return nil
	}
	ok := false
	switch s.Type {
	case TypeInt8:
		_, ok = v.(int8)
	case TypeInt16:
		_, ok = v.(int16)
	case TypeInt32:
		_, ok = v.(int32)
	case TypeInt64:
		_, ok = v.(int64)
	case TypeFloat32:
		_, ok = v.(float32)
	case TypeFloat64:
		_, ok = v.(float64)
	case TypeBoolean:
		_, ok = v.(bool)
	case TypeString:
		_, ok = v.(string)
	case TypeBytes:
		_, ok = v.([]byte)
	case TypeArray:
		arr, isArr := v.([]any)
		if !isArr {
			break
		}
		for i, e := range arr {
			if err := validate(fmt.Sprintf("%s[%d]", path, i), s.ValueSchema, e); err != nil {
				return err
			}
		}
		return nil
	case TypeMap:
		m, isMap := v.(map[any]any)
		if !isMap {
			break
		}
		for k, e := range m {
			kp := fmt.Sprintf("%s{%v}", path, k)
			if k == nil {
				return bad("map key is null")
			}
			if !ComparableKey(s.KeySchema) {
				return bad("map keys of type %s are not supported (keys must be comparable: a primitive other than bytes)", s.KeySchema.Type)
			}
			if err := validate(kp, s.KeySchema, k); err != nil {
				return err
			}
			if err := validate(kp, s.ValueSchema, e); err != nil {
				return err
			}
		}
		return nil
	case TypeStruct:
		st, isStruct := v.(*Struct)
		if !isStruct || st == nil {
			break
		}
		if !st.Fits(s) {
			return bad("struct has schema %s, want %s", st.schema, s)
		}
		for i, f := range s.Fields {
			fv := st.values[i]
			if fv == nil && (f.Schema.Optional || f.Schema.Default != nil) {
				continue
			}
			if err := validate(join(path, f.Name), f.Schema, fv); err != nil {
				return err
			}
		}
		return nil
	default:
		return bad("unknown schema type %q", s.Type)
	}
	if !ok {
		return bad("want %s (%s), got %T", s.Type, goType(s.Type), v)
	}
	return nil
}

// ComparableKey reports whether values of s can be keys of a map[any]any:
// primitives other than bytes.
func ComparableKey(s *Schema) bool {
	return s == nil || s.Type.IsPrimitive() && s.Type != TypeBytes
}

func goType(t Type) string {
	switch t {
	case TypeBytes:
		return "[]byte"
	case TypeBoolean:
		return "bool"
	case TypeArray:
		return "[]any"
	case TypeMap:
		return "map[any]any"
	case TypeStruct:
		return "*data.Struct"
	}
	return string(t)
}

// Equal reports whether two values are equal: bytes by content, decimals
// by number and scale, times by instant, structs field by field (and
// schema, as Fits compares it), arrays and maps element by element.
func Equal(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case []byte:
		y, ok := b.([]byte)
		return ok && string(x) == string(y)
	case Decimal:
		y, ok := b.(Decimal)
		return ok && x.Equal(y)
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.Equal(y)
	case *Struct:
		y, ok := b.(*Struct)
		if !ok || x == nil || y == nil {
			return ok && x == y
		}
		if !x.Fits(y.schema) {
			return false
		}
		for i := range x.values {
			if !Equal(x.values[i], y.values[i]) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !Equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[any]any:
		y, ok := b.(map[any]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !Equal(v, w) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !Equal(v, w) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}
