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
	return &Struct{schema: s, values: make([]any, len(s.Fields))}
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
