package transforms_test

import (
	"testing"

	"github.com/tributary-streams/tributary/connect"
	"github.com/tributary-streams/tributary/connect/data"
)

// Records a buggy connector or converter could hand over: every
// transformation returns a record or an error for each, and never panics.
func TestBadRecordsDoNotPanic(t *testing.T) {
	configs := [][]string{
		{"InsertField$Value", "topic.field", "t", "offset.field", "o", "timestamp.field", "ts"},
		{"ReplaceField$Value", "exclude", "id", "renames", "name:n"},
		{"MaskField$Value", "fields", "id,name,f"},
		{"MaskField$Value", "fields", "id,name,f", "replacement", "1"},
		{"ValueToKey", "fields", "id"},
		{"ExtractField$Value", "field", "a.b", "field.syntax.version", "V2"},
		{"HoistField$Value", "field", "h"},
		{"Cast$Value", "spec", "id:string,name:int8,f:boolean"},
		{"Cast$Value", "spec", "float64"},
		{"Flatten$Value"},
		{"TimestampConverter$Value", "field", "id", "target.type", "string", "format", "yyyy"},
		{"TimestampConverter$Value", "target.type", "Date"},
		{"HeaderFrom$Value", "fields", "id", "headers", "h", "operation", "move"},
		{"TimestampRouter"},
		{"RegexRouter", "regex", "(.*)", "replacement", "$1-x"},
		{"InsertHeader", "header", "h", "value.literal", "1"},
		{"DropHeaders", "headers", "h"},
	}
	other := data.StructSchema("Other", data.NewField("x", data.StringSchema))
	records := []connect.Record{
		{},
		{ValueSchema: personSchema, Value: newStruct(t, other, "x", "y")}, // struct of another schema
		{ValueSchema: personSchema, Value: "not a struct"},
		{ValueSchema: data.Int32Schema, Value: "not an int"},
		{ValueSchema: data.StringSchema, Value: int64(3)},
		{Value: map[string]any{"id": data.Decimal{}, "name": []byte{1}, "f": map[any]any{1: 2}, "a": map[string]any{"b": struct{}{}}}},
		{Value: map[string]any{"id": struct{}{}, "a": "not a map"}},
		{Value: data.Decimal{}},
		{Value: []any{1, "x"}},
		{Value: uint(7)},
		{ValueSchema: data.DecimalSchema(2), Value: data.Decimal{}},
		{Headers: connect.Headers{{Key: "h"}}, Value: map[string]any{}},
	}
	for _, c := range configs {
		tr := configure(t, c[0], c[1:]...)
		for i := range records {
			r := records[i]
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Errorf("%v on record %d panicked: %v", c, i, p)
					}
				}()
				tr.Apply(&r)
			}()
		}
	}
}
