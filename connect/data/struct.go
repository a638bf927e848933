package data

import (
	"fmt"
	"strings"
)

// Struct is a value of a struct schema: one value per field, by index.
// A Struct is not safe for concurrent modification; once handed on (in a
// record) treat it as read-only.
type Struct struct {
	schema *Schema
	values []any
}

// NewStruct returns an empty Struct of schema s, which must be a struct
// schema (NewStruct panics otherwise: that is a programming error).
func NewStruct(s *Schema) *Struct {
	if s == nil || s.Type != TypeStruct {
		panic(fmt.Sprintf("data.NewStruct: schema %s is not a struct", s))
	}
	// Up to 32 fields, the struct and its values are one allocation
	// (converters and transformations make structs per record), sized to
	// the field count up to 8 fields (the size classes of separate
	// allocations would round the same way).
	n := len(s.Fields)
	var st *Struct
	switch {
	case n == 0:
		st = &Struct{}
	case n == 1:
		st = structWith(func(a *[1]any) []any { return a[:] })
	case n == 2:
		st = structWith(func(a *[2]any) []any { return a[:] })
	case n == 3:
		st = structWith(func(a *[3]any) []any { return a[:] })
	case n == 4:
		st = structWith(func(a *[4]any) []any { return a[:] })
	case n == 5:
		st = structWith(func(a *[5]any) []any { return a[:] })
	case n == 6:
		st = structWith(func(a *[6]any) []any { return a[:] })
	case n == 7:
		st = structWith(func(a *[7]any) []any { return a[:] })
	case n == 8:
		st = structWith(func(a *[8]any) []any { return a[:] })
	case n <= 12:
		st = structWith(func(a *[12]any) []any { return a[:n:n] })
	case n <= 16:
		st = structWith(func(a *[16]any) []any { return a[:n:n] })
	case n <= 24:
		st = structWith(func(a *[24]any) []any { return a[:n:n] })
	case n <= 32:
		st = structWith(func(a *[32]any) []any { return a[:n:n] })
	default:
		st = &Struct{values: make([]any, n)}
	}
	st.schema = s
	return st
}

// structWith returns a Struct allocated together with the array A that
// holds its values (values slices it).
func structWith[A any](values func(*A) []any) *Struct {
	x := new(struct {
		st   Struct
		room A
	})
	x.st.values = values(&x.room)
	return &x.st
}

// Schema returns the struct's schema.
func (s *Struct) Schema() *Schema { return s.schema }

// Get returns the value of the named field, its schema default when it is
// unset, or nil. An unknown name also gives nil; use Lookup to tell.
func (s *Struct) Get(name string) any {
	v, _ := s.Lookup(name)
	return v
}

// Lookup returns the value of the named field (its default when unset) and
// whether the schema has such a field.
func (s *Struct) Lookup(name string) (any, bool) {
	f, ok := s.schema.Field(name)
	if !ok {
		return nil, false
	}
	return s.At(f.Index), true
}

// At returns the value of field i (its default when unset).
func (s *Struct) At(i int) any {
	v := s.values[i]
	if v == nil {
		return s.schema.Fields[i].Schema.Default
	}
	return v
}

// AtWithoutDefault returns the value of field i as set, nil when unset
// (Kafka's getWithoutDefault).
func (s *Struct) AtWithoutDefault(i int) any { return s.values[i] }

// Put sets the named field after checking the value against the field's
// schema.
func (s *Struct) Put(name string, v any) error {
	f, ok := s.schema.Field(name)
	if !ok {
		return fmt.Errorf("struct %s has no field %q", s.schema, name)
	}
	return s.PutAt(f.Index, v)
}

// PutAt sets field i after checking the value against the field's schema.
func (s *Struct) PutAt(i int, v any) error {
	f := s.schema.Fields[i]
	if v != nil || !f.Schema.Optional && f.Schema.Default == nil {
		if err := validate(f.Name, f.Schema, v); err != nil {
			return err
		}
	}
	s.values[i] = v
	return nil
}

// PutFrom sets field i to the value of src's field j as set (Put's
// check, without src's default: nil when unset). A value in a Struct was
// checked against its field's schema when it was put, so it is checked
// again only when field i's schema is not that same schema (the same
// pointer): copying fields between structs costs no second check.
func (s *Struct) PutFrom(i int, src *Struct, j int) error {
	v := src.values[j]
	if v == nil || s.schema.Fields[i].Schema != src.schema.Fields[j].Schema {
		return s.PutAt(i, v)
	}
	s.values[i] = v
	return nil
}

// Fits reports whether the struct is a value of schema o: its own schema
// equals o, optionality and default of the struct itself aside (a struct
// built with a required schema may fill an optional field of that type).
func (s *Struct) Fits(o *Schema) bool {
	if s.schema == o {
		return true
	}
	if o == nil || o.Optional == s.schema.Optional && Equal(o.Default, s.schema.Default) {
		return s.schema.Equal(o)
	}
	a, b := *s.schema, *o
	a.Optional, a.Default, b.Optional, b.Default = false, nil, false, nil
	return a.Equal(&b)
}

// Validate checks every field against its schema: a required field without
// a default must be set.
func (s *Struct) Validate() error { return validate("", s.schema, s) }

// String renders the struct for messages, e.g. "Struct{id=1,name=ann}".
func (s *Struct) String() string {
	var b strings.Builder
	b.WriteString("Struct{")
	first := true
	for i, f := range s.schema.Fields {
		if s.values[i] == nil {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		fmt.Fprintf(&b, "%s=%v", f.Name, s.values[i])
	}
	b.WriteByte('}')
	return b.String()
}
