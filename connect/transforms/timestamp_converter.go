package transforms

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/tributary-streams/tributary/connect"
	"github.com/tributary-streams/tributary/connect/data"
)

// TimestampConverter$Key / TimestampConverter$Value: convert a timestamp
// field (or the whole key or value when field is empty) between a string
// in a SimpleDateFormat pattern (see date_format.go), a unix epoch number
// (int64, in unix.precision units), and Kafka Connect's Date, Time and
// Timestamp. The input type comes from the schema (Timestamp, Date, Time,
// string, int64) or, schemaless, from the value (time.Time, int64,
// string). Conversions go through a millisecond timestamp, as Kafka's
// java.util.Date: finer unix precisions are truncated. A Date keeps the
// day (UTC), a Time the time of day. A null passes through as null.

const (
	targetTypeKey    = "target.type"
	formatKey        = "format"
	unixPrecisionKey = "unix.precision"
)

// The target types, spelled (case included) as Kafka spells them.
const (
	tsString    = "string"
	tsUnix      = "unix"
	tsDate      = "Date"
	tsTime      = "Time"
	tsTimestamp = "Timestamp"
)

var (
	tsTypes        = []string{tsString, tsUnix, tsDate, tsTime, tsTimestamp}
	unixPrecisions = []string{"nanoseconds", "microseconds", "milliseconds", "seconds"}
)

// exactlyOneOf accepts one of values, case-sensitively (Kafka's
// ValidString.in).
func exactlyOneOf(values ...string) connect.Validator {
	doc := "[" + strings.Join(values, ", ") + "]"
	return connect.ValidatorFunc(doc, func(v any) error {
		s, _ := v.(string)
		for _, x := range values {
			if s == x {
				return nil
			}
		}
		return fmt.Errorf("want one of %s (case matters)", doc)
	})
}

var timestampConverterConfig = connect.NewConfigDef().
	Define(connect.ConfigKey{Name: fieldKey, Importance: connect.ImportanceHigh,
		Documentation: "The field containing the timestamp, or empty if the entire value is a timestamp"}).
	Define(connect.ConfigKey{Name: targetTypeKey, Required: true, Importance: connect.ImportanceHigh, Validator: exactlyOneOf(tsTypes...),
		Documentation: "The desired timestamp representation: string, unix, Date, Time, or Timestamp"}).
	Define(connect.ConfigKey{Name: formatKey,
		Validator: connect.ValidatorFunc("SimpleDateFormat pattern", func(v any) error {
			_, err := parseJavaDateFormat(v.(string))
			return err
		}),
		Documentation: "A SimpleDateFormat-compatible format for the timestamp. Used to generate the output when type=string " +
			"or used to parse the input if the input is a string."}).
	Define(connect.ConfigKey{Name: unixPrecisionKey, Default: "milliseconds", Importance: connect.ImportanceLow, Validator: exactlyOneOf(unixPrecisions...),
		Documentation: "The desired Unix precision for the timestamp: seconds, milliseconds, microseconds, or nanoseconds. " +
			"Used to generate the output when type=unix or used to parse the input if the input is a Long."}).
	Define(replaceNullDef())

type timestampConverter struct {
	side        side
	field       string
	target      string
	format      *javaDateFormat
	precision   string
	replaceNull bool
	cache       schemaCache[tsPlan]
}

// tsPlan is the output schema for one input schema and the input type of
// the converted field (or whole value).
type tsPlan struct {
	schema *data.Schema
	from   string
	index  int // the field's index; -1 when the struct has no such field
}

func (t *timestampConverter) Config() *connect.ConfigDef { return timestampConverterConfig }

func (t *timestampConverter) Configure(config map[string]string) error {
	c, err := timestampConverterConfig.Parse(config)
	if err != nil {
		return err
	}
	t.field = c.String(fieldKey)
	t.target = c.String(targetTypeKey)
	t.precision = c.String(unixPrecisionKey)
	t.replaceNull = c.Bool(replaceNullKey)
	t.format = nil
	if p := c.String(formatKey); p != "" {
		f, _ := parseJavaDateFormat(p)
		t.format = &f
	}
	if t.target == tsString && t.format == nil {
		return connect.FieldError{Key: formatKey, Message: "TimestampConverter requires the format option when target.type is string"}
	}
	return nil
}

// tsTypeOf returns the timestamp type a schema holds.
func tsTypeOf(s *data.Schema) (string, error) {
	switch s.Name {
	case data.TimestampName:
		return tsTimestamp, nil
	case data.DateName:
		return tsDate, nil
	case data.TimeName:
		return tsTime, nil
	}
	switch s.Type {
	case data.TypeString:
		return tsString, nil
	case data.TypeInt64:
		return tsUnix, nil
	}
	return "", fmt.Errorf("schema %s is not a timestamp: want a Timestamp, Date, Time, string or int64 schema", s)
}

// tsTypeOfValue returns the timestamp type of a schemaless value.
func tsTypeOfValue(v any) (string, error) {
	switch v.(type) {
	case time.Time:
		return tsTimestamp, nil
	case int64, int:
		return tsUnix, nil
	case string:
		return tsString, nil
	}
	return "", fmt.Errorf("a schemaless %s is not a timestamp: want time.Time, int64 (unix) or string", typeName(v))
}

func (t *timestampConverter) targetSchema(optional bool) *data.Schema {
	var s *data.Schema
	switch t.target {
	case tsString:
		s = data.StringSchema
	case tsUnix:
		s = data.Int64Schema
	case tsDate:
		s = data.DateSchema
	case tsTime:
		s = data.TimeSchema
	default:
		s = data.TimestampSchema
	}
	if optional {
		return data.Optional(s)
	}
	return s
}

// convert converts v, of timestamp type from, to the target type.
func (t *timestampConverter) convert(v any, from string) (any, error) {
	if v == nil {
		return nil, nil
	}
	raw, err := t.toRaw(v, from)
	if err != nil {
		return nil, err
	}
	return t.toTarget(raw), nil
}

func (t *timestampConverter) toRaw(v any, from string) (time.Time, error) {
	switch from {
	case tsString:
		s, ok := v.(string)
		if !ok {
			return time.Time{}, fmt.Errorf("expected a string timestamp, got %s", typeName(v))
		}
		if t.format == nil {
			return time.Time{}, fmt.Errorf("cannot parse the string timestamp %q: set %s to its SimpleDateFormat pattern", s, formatKey)
		}
		return t.format.parse(s)
	case tsUnix:
		var n int64
		switch x := v.(type) {
		case int64:
			n = x
		case int:
			n = int64(x)
		default:
			return time.Time{}, fmt.Errorf("expected a unix timestamp (int64), got %s", typeName(v))
		}
		var ms int64
		switch t.precision {
		case "seconds":
			ms = saturatingMul(n, 1000)
		case "microseconds":
			ms = n / 1000
		case "nanoseconds":
			ms = n / 1e6
		default:
			ms = n
		}
		return time.UnixMilli(ms).UTC(), nil
	}
	tm, ok := v.(time.Time)
	if !ok {
		return time.Time{}, fmt.Errorf("expected a %s (time.Time), got %s", from, typeName(v))
	}
	return time.UnixMilli(tm.UnixMilli()).UTC(), nil
}

func (t *timestampConverter) toTarget(raw time.Time) any {
	switch t.target {
	case tsString:
		return t.format.format(raw)
	case tsUnix:
		ms := raw.UnixMilli()
		switch t.precision {
		case "seconds":
			return ms / 1000
		case "microseconds":
			return saturatingMul(ms, 1000)
		case "nanoseconds":
			return saturatingMul(ms, 1e6)
		}
		return ms
	case tsDate:
		y, m, d := raw.Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	case tsTime:
		h, m, s := raw.Clock()
		return time.Date(1970, 1, 1, h, m, s, raw.Nanosecond(), time.UTC)
	}
	return raw
}

// saturatingMul is Java's TimeUnit conversion: n*m, clamped to int64.
func saturatingMul(n, m int64) int64 {
	if n > math.MaxInt64/m {
		return math.MaxInt64
	}
	if n < math.MinInt64/m {
		return math.MinInt64
	}
	return n * m
}

const timestampPurpose = "converting timestamp formats"

func (t *timestampConverter) Apply(r *connect.Record) (*connect.Record, error) {
	schema, v := t.side.get(r)
	if schema == nil {
		if v == nil {
			return r, nil
		}
		if t.field == "" {
			from, err := tsTypeOfValue(v)
			if err != nil {
				return nil, fmt.Errorf("record %s: %w", t.side, err)
			}
			out, err := t.convert(v, from)
			if err != nil {
				return nil, fmt.Errorf("record %s: %w", t.side, err)
			}
			t.side.set(r, nil, out)
			return r, nil
		}
		m, err := t.side.requireMap(v, timestampPurpose)
		if err != nil {
			return nil, err
		}
		out := make(map[string]any, len(m)+1)
		for k, e := range m {
			out[k] = e
		}
		var conv any
		if fv := m[t.field]; fv != nil {
			from, err := tsTypeOfValue(fv)
			if err == nil {
				conv, err = t.convert(fv, from)
			}
			if err != nil {
				return nil, fmt.Errorf("field %q: %w", t.field, err)
			}
		}
		out[t.field] = conv
		t.side.set(r, nil, out)
		return r, nil
	}
	plan, err := t.cache.getOrBuild(schema, t.plan)
	if err != nil {
		return nil, err
	}
	if t.field == "" {
		out, err := t.convert(v, plan.from)
		if err != nil {
			return nil, fmt.Errorf("record %s: %w", t.side, err)
		}
		t.side.set(r, plan.schema, out)
		return r, nil
	}
	if v == nil {
		t.side.set(r, plan.schema, nil)
		return r, nil
	}
	st, err := t.side.requireStruct(schema, v, timestampPurpose)
	if err != nil {
		return nil, err
	}
	out, err := t.convertStruct(st, plan, t.replaceNull)
	if err != nil {
		return nil, err
	}
	t.side.set(r, plan.schema, out)
	return r, nil
}

func (t *timestampConverter) convertStruct(st *data.Struct, plan tsPlan, withDefault bool) (*data.Struct, error) {
	out := data.NewStruct(plan.schema)
	for i := range st.Schema().Fields {
		fv := fieldValue(st, i, withDefault)
		if i == plan.index {
			var err error
			if fv, err = t.convert(fv, plan.from); err != nil {
				return nil, fmt.Errorf("field %q: %w", t.field, err)
			}
		}
		if err := out.PutAt(i, fv); err != nil {
			return nil, fmt.Errorf("field %q: %w", plan.schema.Fields[i].Name, err)
		}
	}
	return out, nil
}

func (t *timestampConverter) plan(in *data.Schema) (tsPlan, error) {
	if t.field == "" {
		from, err := tsTypeOf(in)
		if err != nil {
			return tsPlan{}, fmt.Errorf("record %s: %w", t.side, err)
		}
		return tsPlan{schema: t.targetSchema(in.Optional), from: from, index: -1}, nil
	}
	if in.Type != data.TypeStruct {
		return tsPlan{}, fmt.Errorf("%s: field %q needs a struct %s schema, got %s", timestampPurpose, t.field, t.side, in)
	}
	p := tsPlan{index: -1}
	fields := make([]data.Field, len(in.Fields))
	for i, f := range in.Fields {
		fields[i] = f
		if f.Name == t.field {
			from, err := tsTypeOf(f.Schema)
			if err != nil {
				return tsPlan{}, fmt.Errorf("field %q: %w", t.field, err)
			}
			p.from, p.index = from, i
			fields[i].Schema = t.targetSchema(f.Schema.Optional)
		}
	}
	p.schema = structLike(in, fields)
	p.schema.Optional = in.Optional
	if def, ok := in.Default.(*data.Struct); ok {
		d, err := t.convertStruct(def, p, true)
		if err != nil {
			return tsPlan{}, fmt.Errorf("default: %w", err)
		}
		p.schema.Default = d
	}
	return p, nil
}

func (t *timestampConverter) Close() error { return nil }
