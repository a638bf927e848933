// Package datagen is a data generator source for demos, tests and
// benchmarks: each task writes numbered records to a topic, as fast as it
// can or at a set interval, and resumes after its last committed number.
//
// Registered as io.tributary.connect.datagen.DatagenConnector (aliases
// DatagenConnector, Datagen, datagen). Keys:
//
//	topic          the topic to write (required)
//	iterations     records per task; -1 (default) for no end
//	max.interval   milliseconds between records; 0 (default) for as fast as possible
//	batch.size     records per poll when max.interval is 0 (default 1000)
//	value.size     bytes of each string value (default 100)
//	value.schema   string (default): a text value "<task>-<seq> xxx..." padded to value.size;
//	               struct: {task: int32, seq: int64, ts: Timestamp, payload: string}
//
// Task t's records are numbered 0, 1, 2, ...: source partition {"task": t},
// offset {"seq": n} on the last record of each poll. The text value starts with "<t>-<n>" (n zero-padded to
// 12 digits), so a consumer can tell exactly which records arrived.
package datagen

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tributary-streams/tributary/connect"
	"github.com/tributary-streams/tributary/connect/data"
)

// Class is the connector's class name.
const Class = "io.tributary.connect.datagen.DatagenConnector"

// Config keys.
const (
	TopicKey       = "topic"
	IterationsKey  = "iterations"
	IntervalKey    = "max.interval"
	BatchSizeKey   = "batch.size"
	ValueSizeKey   = "value.size"
	ValueSchemaKey = "value.schema"
	taskKey        = "task.id"
)

// Source partition and offset fields.
const (
	TaskField = "task"
	SeqField  = "seq"
)

func init() {
	connect.RegisterSource(connect.PluginInfo{Class: Class, Aliases: []string{"datagen"},
		Doc: "Generates numbered records for demos, tests and benchmarks."},
		func() connect.SourceConnector { return &Connector{} })
}

// ValueSchema is the struct value schema (value.schema=struct).
var ValueSchema = data.StructSchema("io.tributary.datagen.Record",
	data.NewField("task", data.Int32Schema),
	data.NewField("seq", data.Int64Schema),
	data.NewField("ts", data.TimestampSchema),
	data.NewField("payload", data.StringSchema),
)

// Connector is the generator connector.
type Connector struct {
	config map[string]string
}

func configDef() *connect.ConfigDef {
	return connect.NewConfigDef().
		Define(connect.ConfigKey{Name: TopicKey, Required: true, Importance: connect.ImportanceHigh, Validator: connect.NonEmpty(),
			Documentation: "The topic to write records to."}).
		Define(connect.ConfigKey{Name: IterationsKey, Type: connect.TypeLong, Default: "-1", Importance: connect.ImportanceMedium, Validator: connect.AtLeast(-1),
			Documentation: "Records per task; -1 for no end."}).
		Define(connect.ConfigKey{Name: IntervalKey, Type: connect.TypeLong, Default: "0", Importance: connect.ImportanceMedium, Validator: connect.AtLeast(0),
			Documentation: "Milliseconds between records; 0 for as fast as possible."}).
		Define(connect.ConfigKey{Name: BatchSizeKey, Type: connect.TypeInt, Default: "1000", Importance: connect.ImportanceLow, Validator: connect.Between(1, 1_000_000),
			Documentation: "Records per poll when max.interval is 0."}).
		Define(connect.ConfigKey{Name: ValueSizeKey, Type: connect.TypeInt, Default: "100", Importance: connect.ImportanceMedium, Validator: connect.Between(20, 16<<20),
			Documentation: "Bytes of each string value (at least 20: room for the task and sequence number)."}).
		Define(connect.ConfigKey{Name: ValueSchemaKey, Default: "string", Importance: connect.ImportanceMedium, Validator: connect.OneOf("string", "struct"),
			Documentation: "string: text values; struct: {task, seq, ts, payload} structs."})
}

// Config defines the keys.
func (c *Connector) Config() *connect.ConfigDef { return configDef() }

// Validate checks the config.
func (c *Connector) Validate(config map[string]string) error { return configDef().Validate(config) }

// Start keeps the config.
func (c *Connector) Start(_ connect.ConnectorContext, config map[string]string) error {
	c.config = config
	return nil
}

// TaskConfigs returns maxTasks tasks, each numbering its own records.
func (c *Connector) TaskConfigs(maxTasks int) ([]map[string]string, error) {
	out := make([]map[string]string, maxTasks)
	for i := range out {
		m := map[string]string{}
		for _, k := range []string{TopicKey, IterationsKey, IntervalKey, BatchSizeKey, ValueSizeKey, ValueSchemaKey} {
			if v, ok := c.config[k]; ok {
				m[k] = v
			}
		}
		m[taskKey] = strconv.Itoa(i)
		out[i] = m
	}
	return out, nil
}

// Stop does nothing.
func (c *Connector) Stop() error { return nil }

// NewTask returns a generator task.
func (c *Connector) NewTask() connect.SourceTask { return &Task{} }

// Task generates one task's records.
type Task struct {
	topic      string
	task       int
	iterations int64
	interval   time.Duration
	batch      int
	size       int
	structs    bool
	next       int64
	partition  map[string]any
	pad        string
	lastAt     time.Time
	ends       []int // see texts
}

// Start reads the config and resumes after the committed sequence number.
func (t *Task) Start(ctx connect.SourceTaskContext, config map[string]string) error {
	c, err := configDef().Parse(config)
	if err != nil {
		return err
	}
	t.topic, t.iterations, t.interval = c.String(TopicKey), c.Long(IterationsKey), c.Millis(IntervalKey)
	t.batch, t.size, t.structs = c.Int(BatchSizeKey), c.Int(ValueSizeKey), c.String(ValueSchemaKey) == "struct"
	if t.task, err = strconv.Atoi(config[taskKey]); err != nil {
		return fmt.Errorf("task config %s=%q: want the task number", taskKey, config[taskKey])
	}
	t.partition = map[string]any{TaskField: int64(t.task)}
	offset, err := ctx.Offset(t.partition)
	if err != nil {
		return connect.Retriable(err)
	}
	if seq, ok := offset[SeqField].(int64); ok {
		t.next = seq + 1
	}
	t.pad = strings.Repeat("x", t.size)
	return nil
}

// Poll returns the next records.
func (t *Task) Poll(ctx context.Context) ([]connect.SourceRecord, error) {
	n := t.batch
	if t.interval > 0 {
		n = 1
		if wait := time.Until(t.lastAt.Add(t.interval)); wait > 0 {
			tm := time.NewTimer(min(wait, time.Second))
			defer tm.Stop()
			select {
			case <-tm.C:
			case <-ctx.Done():
				return nil, nil
			}
			if time.Until(t.lastAt.Add(t.interval)) > 0 {
				return nil, nil
			}
		}
		t.lastAt = time.Now()
	}
	if t.iterations >= 0 {
		n = int(min(int64(n), t.iterations-t.next))
		if n <= 0 {
			tm := time.NewTimer(500 * time.Millisecond)
			defer tm.Stop()
			select {
			case <-tm.C:
			case <-ctx.Done():
			}
			return nil, nil
		}
	}
	out := make([]connect.SourceRecord, n)
	now := time.Now().UTC().Truncate(time.Millisecond)
	var nowValue any = now // the ts field of every struct of the poll, boxed once
	// The values are cut from chunks of about valueChunk bytes, one
	// allocation each rather than one per value.
	per := max(1, valueChunk/t.size)
	for start := 0; start < n; start += per {
		end := min(n, start+per)
		chunk := t.texts(end - start)
		for i := start; i < end; i++ {
			seq := t.next
			t.next++
			text := chunk[t.ends[i-start]:t.ends[i-start+1]]
			r := &out[i]
			r.Topic, r.Partition, r.Timestamp, r.SourcePartition = t.topic, connect.AnyPartition, now, t.partition
			if t.structs {
				v := data.NewStruct(ValueSchema)
				v.PutAt(0, int32(t.task))
				v.PutAt(1, seq)
				v.PutAt(2, nowValue)
				v.PutAt(3, text)
				r.ValueSchema, r.Value = ValueSchema, v
			} else {
				r.ValueSchema, r.Value = data.StringSchema, text
			}
		}
	}
	// Only the batch's last record carries an offset: the runtime commits
	// it once every record before it is in Kafka, and a restart resumes
	// after it (or repeats the batch), so per-record offsets would buy
	// nothing but an allocation each.
	out[n-1].SourceOffset = map[string]any{SeqField: t.next - 1}
	return out, nil
}

// valueChunk is the size of the strings that a poll's values are cut from.
const valueChunk = 64 << 10

// texts writes the text values of the next n records (from t.next on)
// into one string and sets t.ends to where each begins and ends: value i
// is chunk[t.ends[i]:t.ends[i+1]].
func (t *Task) texts(n int) string {
	var b strings.Builder
	b.Grow(n * t.size)
	t.ends = append(t.ends[:0], 0)
	// The first head "<task>-<seq>" is formatted, the next ones counted
	// up in place (a decimal increment); a carry past the first digit (a
	// 13th digit) formats again.
	var head [48]byte
	h := appendText(head[:0], t.task, t.next)
	digits := bytes.IndexByte(h, '-') + 1 // where the sequence number starts
	for i := range n {
		if i > 0 && !increment(h[digits:]) {
			h = appendText(head[:0], t.task, t.next+int64(i))
		}
		b.Write(h)
		if len(h) < t.size {
			b.WriteByte(' ')
			b.WriteString(t.pad[:t.size-len(h)-1])
		}
		t.ends = append(t.ends, b.Len())
	}
	return b.String()
}

// increment adds one to the decimal number in d, in place; false when it
// overflows (d was all nines and is now all zeros).
func increment(d []byte) bool {
	for i := len(d) - 1; i >= 0; i-- {
		if d[i] < '9' {
			d[i]++
			return true
		}
		d[i] = '0'
	}
	return false
}

// Text is the identifying prefix of task's record seq: "<task>-<seq>".
func Text(task int, seq int64) string {
	return string(appendText(make([]byte, 0, 24), task, seq))
}

func appendText(b []byte, task int, seq int64) []byte {
	b = strconv.AppendInt(b, int64(task), 10)
	b = append(b, '-')
	var digits [20]byte
	d := strconv.AppendInt(digits[:0], seq, 10)
	for i := len(d); i < 12; i++ {
		b = append(b, '0')
	}
	return append(b, d...)
}

// Parse reads back the task and sequence number of a value written with
// value.schema=string.
func Parse(value string) (task int, seq int64, ok bool) {
	head, _, _ := strings.Cut(value, " ")
	ts, ss, found := strings.Cut(head, "-")
	if !found {
		return 0, 0, false
	}
	t, err1 := strconv.Atoi(ts)
	s, err2 := strconv.ParseInt(ss, 10, 64)
	return t, s, err1 == nil && err2 == nil
}

// Commit does nothing.
func (t *Task) Commit(context.Context, []connect.Position) error { return nil }

// Stop does nothing.
func (t *Task) Stop() error { return nil }
