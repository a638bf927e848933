package transforms

import (
	"fmt"
	"maps"
	"strings"

	"github.com/tributary-streams/tributary/connect"
	"github.com/tributary-streams/tributary/connect/data"
)

// InsertField$Key / InsertField$Value: insert the record's topic,
// partition, offset (sink side only) or timestamp, or a static string, as
// fields. A field name ending in "!" makes the inserted field required, in
// "?" (or no suffix) optional. A record without a partition (source side,
// AnyPartition) or timestamp (zero) gets no such field, as in Kafka. A
// null key or value (tombstone) passes through unchanged.

const (
	topicFieldKey     = "topic.field"
	partitionFieldKey = "partition.field"
	offsetFieldKey    = "offset.field"
	timestampFieldKey = "timestamp.field"
	staticFieldKey    = "static.field"
	staticValueKey    = "static.value"
)

const optionalityDoc = " Suffix with ! to make this a required field, or ? to keep it optional (the default)."

var insertFieldConfig = connect.NewConfigDef().
	Define(connect.ConfigKey{Name: topicFieldKey, Documentation: "Field name for Kafka topic." + optionalityDoc}).
	Define(connect.ConfigKey{Name: partitionFieldKey, Documentation: "Field name for Kafka partition." + optionalityDoc}).
	Define(connect.ConfigKey{Name: offsetFieldKey, Documentation: "Field name for Kafka offset - only applicable to sink connectors." + optionalityDoc}).
	Define(connect.ConfigKey{Name: timestampFieldKey, Documentation: "Field name for record timestamp." + optionalityDoc}).
	Define(connect.ConfigKey{Name: staticFieldKey, Documentation: "Field name for static data field." + optionalityDoc}).
	Define(connect.ConfigKey{Name: staticValueKey, Documentation: "Static field value, if field name configured."}).
	Define(replaceNullDef())

var optionalTimestampSchema = data.Optional(data.TimestampSchema)

// insertion is one configured field to insert.
type insertion struct {
	key      string // the config key that named it
	name     string
	optional bool
}

func parseInsertion(key, spec string) *insertion {
	if spec == "" {
		return nil
	}
	if name, ok := strings.CutSuffix(spec, "!"); ok {
		return &insertion{key: key, name: name}
	}
	return &insertion{key: key, name: strings.TrimSuffix(spec, "?"), optional: true}
}

type insertField struct {
	side                                side
	topic, partition, offset, timestamp *insertion
	static                              *insertion
	all                                 []*insertion // the configured ones, in field order
	staticValue                         string
	staticBoxed                         any // staticValue as an interface value, boxed once
	replaceNull                         bool
	cache                               schemaCache[*data.Schema]
	// topicValue is the last topic as an interface value: a task sees few
	// topics, and boxing the string would allocate for every record.
	topicValue any
}

func (t *insertField) Config() *connect.ConfigDef { return insertFieldConfig }

func (t *insertField) Configure(config map[string]string) error {
	c, err := insertFieldConfig.Parse(config)
	if err != nil {
		return err
	}
	t.topic = parseInsertion(topicFieldKey, c.String(topicFieldKey))
	t.partition = parseInsertion(partitionFieldKey, c.String(partitionFieldKey))
	t.offset = parseInsertion(offsetFieldKey, c.String(offsetFieldKey))
	t.timestamp = parseInsertion(timestampFieldKey, c.String(timestampFieldKey))
	t.static = parseInsertion(staticFieldKey, c.String(staticFieldKey))
	t.staticValue = c.String(staticValueKey)
	t.staticBoxed = t.staticValue
	t.replaceNull = c.Bool(replaceNullKey)
	if t.topic == nil && t.partition == nil && t.offset == nil && t.timestamp == nil && t.static == nil {
		return connect.FieldError{Key: topicFieldKey, Message: "no field insertion configured: set at least one of " +
			"topic.field, partition.field, offset.field, timestamp.field or static.field"}
	}
	if t.static != nil && !c.Given(staticValueKey) {
		return connect.FieldError{Key: staticValueKey, Message: fmt.Sprintf("no value specified for static field %q", t.static.name)}
	}
	t.all = nil
	for _, in := range []*insertion{t.topic, t.partition, t.offset, t.timestamp, t.static} {
		if in != nil {
			t.all = append(t.all, in)
		}
	}
	seen := map[string]string{}
	for _, in := range t.all {
		if other, dup := seen[in.name]; dup {
			return connect.FieldError{Key: in.key, Message: fmt.Sprintf("field %q is also inserted by %s: each inserted field needs its own name", in.name, other)}
		}
		seen[in.name] = in.key
	}
	return nil
}

const insertPurpose = "field insertion"

func (t *insertField) Apply(r *connect.Record) (*connect.Record, error) {
	schema, v := t.side.get(r)
	if v == nil {
		return r, nil
	}
	if t.offset != nil && r.Offset < 0 {
		return nil, fmt.Errorf("%s %q: the Kafka offset is only known on the sink side; this record has none", offsetFieldKey, t.offset.name)
	}
	if schema == nil {
		m, err := t.side.requireMap(v, insertPurpose)
		if err != nil {
			return nil, err
		}
		out := make(map[string]any, len(m)+5)
		maps.Copy(out, m)
		if t.topic != nil {
			out[t.topic.name] = r.Topic
		}
		if t.partition != nil && r.Partition != connect.AnyPartition {
			out[t.partition.name] = r.Partition
		}
		if t.offset != nil {
			out[t.offset.name] = r.Offset
		}
		if t.timestamp != nil && !r.Timestamp.IsZero() {
			out[t.timestamp.name] = r.Timestamp.UnixMilli()
		}
		if t.static != nil {
			out[t.static.name] = t.staticBoxed
		}
		t.side.set(r, nil, out)
		return r, nil
	}
	st, err := t.side.requireStruct(schema, v, insertPurpose)
	if err != nil {
		return nil, err
	}
	updated, err := t.cache.getOrBuild(st.Schema(), t.updatedSchema)
	if err != nil {
		return nil, err
	}
	out := data.NewStruct(updated)
	n := len(st.Schema().Fields)
	for i := 0; i < n; i++ {
		if err := copyField(out, i, st, i, t.replaceNull); err != nil {
			return nil, err
		}
	}
	// The inserted fields follow the struct's own, in the order of
	// t.all; a field without a value (no partition, no timestamp)
	// stays null.
	i := n
	for _, in := range t.all {
		var v any
		switch in {
		case t.topic:
			if t.topicValue != r.Topic {
				t.topicValue = r.Topic
			}
			v = t.topicValue
		case t.partition:
			if r.Partition != connect.AnyPartition {
				v = r.Partition
			}
		case t.offset:
			v = r.Offset
		case t.timestamp:
			if !r.Timestamp.IsZero() {
				v = r.Timestamp.UTC()
			}
		case t.static:
			v = t.staticBoxed
		}
		if v != nil {
			if err := out.PutAt(i, v); err != nil {
				return nil, fmt.Errorf("%s %q: %w", in.key, in.name, err)
			}
		}
		i++
	}
	t.side.set(r, updated, out)
	return r, nil
}

// updatedSchema is the input struct schema plus the inserted fields.
func (t *insertField) updatedSchema(in *data.Schema) (*data.Schema, error) {
	fields := make([]data.Field, 0, len(in.Fields)+5)
	fields = append(fields, in.Fields...)
	add := func(ins *insertion, required, optional *data.Schema) error {
		if _, dup := in.Field(ins.name); dup {
			return fmt.Errorf("%s %q: the %s struct %s already has a field of that name", ins.key, ins.name, t.side, in)
		}
		s := required
		if ins.optional {
			s = optional
		}
		fields = append(fields, data.NewField(ins.name, s))
		return nil
	}
	for _, ins := range t.all {
		var err error
		switch ins {
		case t.topic, t.static:
			err = add(ins, data.StringSchema, data.OptionalStringSchema)
		case t.partition:
			err = add(ins, data.Int32Schema, data.OptionalInt32Schema)
		case t.offset:
			err = add(ins, data.Int64Schema, data.OptionalInt64Schema)
		case t.timestamp:
			err = add(ins, data.TimestampSchema, optionalTimestampSchema)
		}
		if err != nil {
			return nil, err
		}
	}
	return structLike(in, fields), nil
}

func (t *insertField) Close() error { return nil }
