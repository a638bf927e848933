package data_test

import (
	"fmt"
	"testing"

	"github.com/tributary-streams/tributary/connect/data"
)

// Structs of every size hold one value per field, independently of one
// another, whichever allocation NewStruct picks for them.
func TestNewStructSizes(t *testing.T) {
	for _, n := range []int{0, 1, 4, 5, 8, 9, 16, 17, 32, 33, 100} {
		fields := make([]data.Field, n)
		for i := range fields {
			fields[i] = data.NewField(fmt.Sprintf("f%d", i), data.Int64Schema)
		}
		s := data.StructSchema("s", fields...)
		a, b := data.NewStruct(s), data.NewStruct(s)
		for i := range n {
			if a.AtWithoutDefault(i) != nil {
				t.Fatalf("%d fields: field %d of a new struct is %v", n, i, a.AtWithoutDefault(i))
			}
			if err := a.PutAt(i, int64(i)); err != nil {
				t.Fatal(err)
			}
			if err := b.PutAt(i, int64(1000+i)); err != nil {
				t.Fatal(err)
			}
		}
		for i := range n {
			if a.At(i) != int64(i) || b.At(i) != int64(1000+i) {
				t.Fatalf("%d fields: field %d is %v and %v", n, i, a.At(i), b.At(i))
			}
		}
		if err := a.Validate(); err != nil {
			t.Fatalf("%d fields: %v", n, err)
		}
		if !a.Fits(s) || a.Schema() != s {
			t.Fatalf("%d fields: the struct lost its schema", n)
		}
		if n > 0 {
			func() {
				defer func() {
					if recover() == nil {
						t.Errorf("%d fields: PutAt past the last field did not panic", n)
					}
				}()
				a.PutAt(n, int64(0))
			}()
		}
	}
}

func TestPutFrom(t *testing.T) {
	id, note := data.Int64Schema, data.OptionalStringSchema
	src := data.NewStruct(data.StructSchema("src", data.NewField("id", id), data.NewField("note", note),
		data.NewField("required", data.StringSchema)))
	if err := src.PutAt(0, int64(7)); err != nil {
		t.Fatal(err)
	}
	// The same field schema: copied as is.
	same := data.NewStruct(data.StructSchema("same", data.NewField("note", note), data.NewField("key", id)))
	if err := same.PutFrom(1, src, 0); err != nil || same.At(1) != int64(7) {
		t.Fatalf("PutFrom = %v, field = %v", err, same.At(1))
	}
	// Unset, into an optional field: null.
	if err := same.PutFrom(0, src, 1); err != nil || same.AtWithoutDefault(0) != nil {
		t.Fatalf("PutFrom of an unset optional field = %v, field = %v", err, same.AtWithoutDefault(0))
	}
	// Another field schema: the value is checked against it.
	other := data.NewStruct(data.StructSchema("other", data.NewField("id", data.StringSchema), data.NewField("n", data.Int64Schema)))
	if err := other.PutFrom(0, src, 0); err == nil {
		t.Fatalf("an int64 went into a string field: %v", other)
	}
	if err := other.PutFrom(1, src, 0); err != nil || other.At(1) != int64(7) {
		t.Fatalf("PutFrom into an equal schema = %v, field = %v", err, other.At(1))
	}
	// Unset, into a required field: the same error as PutAt(nil).
	if err := other.PutFrom(1, src, 2); err == nil {
		t.Fatal("null went into a required field")
	}
}
