package streamstest

import (
	"fmt"

	"github.com/tributary-streams/tributary/streams"
	"github.com/tributary-streams/tributary/streams/internal/topology"
	"github.com/tributary-streams/tributary/streams/state"
)

// TestInputTopic pipes typed records into a topic the topology reads.
type TestInputTopic[K, V any] struct {
	d      *Driver
	topic  string
	keys   streams.Serde[K]
	values streams.Serde[V]
}

// InputTopic returns a typed input topic.
func InputTopic[K, V any](d *Driver, topic string, keys streams.Serde[K], values streams.Serde[V]) *TestInputTopic[K, V] {
	return &TestInputTopic[K, V]{d: d, topic: topic, keys: keys, values: values}
}

// Pipe sends a record stamped with the driver's wall clock.
func (t *TestInputTopic[K, V]) Pipe(k K, v V) error { return t.PipeAt(k, v, t.d.now) }

// PipeAt sends a record with event time ts (milliseconds).
func (t *TestInputTopic[K, V]) PipeAt(k K, v V, ts int64) error {
	return t.PipeRecord(streams.Record[K, V]{Key: k, Value: v, Timestamp: ts})
}

// PipeRecord sends a record with its headers.
func (t *TestInputTopic[K, V]) PipeRecord(r streams.Record[K, V]) error {
	kb, err := t.keys.Serialize(r.Key)
	if err != nil {
		return fmt.Errorf("streamstest: encode key: %w", err)
	}
	vb, err := t.values.Serialize(r.Value)
	if err != nil {
		return fmt.Errorf("streamstest: encode value: %w", err)
	}
	return t.d.pipe(t.topic, kb, vb, r.Timestamp, r.Headers)
}

// PipeTombstone sends a record without a value: a deletion for a table.
func (t *TestInputTopic[K, V]) PipeTombstone(k K, ts int64) error {
	kb, err := t.keys.Serialize(k)
	if err != nil {
		return fmt.Errorf("streamstest: encode key: %w", err)
	}
	return t.d.pipe(t.topic, kb, nil, ts, nil)
}

// PipeRaw sends bytes as they are, such as a record that does not decode.
func (d *Driver) PipeRaw(topic string, key, value []byte, ts int64) error {
	return d.pipe(topic, key, value, ts, nil)
}

// Record is a record read from an output topic; Tombstone marks one
// without a value (a table's deletion).
type Record[K, V any] struct {
	Key       K
	Value     V
	Timestamp int64
	Headers   []streams.Header
	Tombstone bool
}

// TestOutputTopic reads typed records from a topic the topology writes.
type TestOutputTopic[K, V any] struct {
	d      *Driver
	topic  string
	keys   streams.Serde[K]
	values streams.Serde[V]
}

// OutputTopic returns a typed output topic.
func OutputTopic[K, V any](d *Driver, topic string, keys streams.Serde[K], values streams.Serde[V]) *TestOutputTopic[K, V] {
	return &TestOutputTopic[K, V]{d: d, topic: topic, keys: keys, values: values}
}

// ReadRecords returns the records written since the last read.
func (t *TestOutputTopic[K, V]) ReadRecords() ([]Record[K, V], error) {
	raw := t.d.output[t.topic][t.d.read[t.topic]:]
	t.d.read[t.topic] += len(raw)
	out := make([]Record[K, V], 0, len(raw))
	for _, r := range raw {
		k, err := t.keys.Deserialize(r.Key)
		if err != nil {
			return nil, fmt.Errorf("streamstest: %s offset %d: decode key: %w", t.topic, r.Offset, err)
		}
		rec := Record[K, V]{Key: k, Timestamp: r.Timestamp, Headers: r.Headers, Tombstone: r.Value == nil}
		if r.Value != nil {
			if rec.Value, err = t.values.Deserialize(r.Value); err != nil {
				return nil, fmt.Errorf("streamstest: %s offset %d: decode value: %w", t.topic, r.Offset, err)
			}
		}
		out = append(out, rec)
	}
	return out, nil
}

// ReadKeyValues returns the keys and values written since the last read.
func (t *TestOutputTopic[K, V]) ReadKeyValues() ([]streams.KeyValue[K, V], error) {
	recs, err := t.ReadRecords()
	if err != nil {
		return nil, err
	}
	out := make([]streams.KeyValue[K, V], len(recs))
	for i, r := range recs {
		out[i] = streams.KeyValue[K, V]{Key: r.Key, Value: r.Value}
	}
	return out, nil
}

// IsEmpty reports whether every record written has been read.
func (t *TestOutputTopic[K, V]) IsEmpty() bool {
	return t.d.read[t.topic] >= len(t.d.output[t.topic])
}

// StoreReader reads a key-value store of the topology.
type StoreReader[K, V any] struct {
	d      *Driver
	name   string
	keys   streams.Serde[K]
	values streams.Serde[V]
}

// KeyValueStore returns a reader of a key-value store.
func KeyValueStore[K, V any](d *Driver, name string, keys streams.Serde[K], values streams.Serde[V]) *StoreReader[K, V] {
	return &StoreReader[K, V]{d: d, name: name, keys: keys, values: values}
}

func (s *StoreReader[K, V]) open() (state.KeyValueStore, *topology.Store, error) {
	raw, st, err := s.d.store(s.name)
	if err != nil {
		return nil, nil, err
	}
	kv, ok := raw.(state.KeyValueStore)
	if !ok {
		return nil, nil, fmt.Errorf("streamstest: store %s is a %s store", s.name, st.Kind)
	}
	return kv, st, nil
}

func decodeValue[V any](st *topology.Store, values streams.Serde[V], b []byte) (V, error) {
	if !st.Plain {
		if len(b) < 8 {
			var zero V
			return zero, fmt.Errorf("streamstest: store %s: a value of %d bytes has no timestamp", st.Name, len(b))
		}
		b = b[8:]
	}
	return values.Deserialize(b)
}

// Get reads one key.
func (s *StoreReader[K, V]) Get(k K) (V, bool, error) {
	var zero V
	kv, st, err := s.open()
	if err != nil {
		return zero, false, err
	}
	kb, err := s.keys.Serialize(k)
	if err != nil {
		return zero, false, err
	}
	b, ok, err := kv.Get(kb)
	if err != nil || !ok {
		return zero, false, err
	}
	v, err := decodeValue(st, s.values, b)
	return v, err == nil, err
}

// All reads every entry, in key-byte order.
func (s *StoreReader[K, V]) All() ([]streams.KeyValue[K, V], error) {
	kv, st, err := s.open()
	if err != nil {
		return nil, err
	}
	it, err := kv.Range(nil, nil)
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []streams.KeyValue[K, V]
	for it.Next() {
		k, err := s.keys.Deserialize(it.Key())
		if err != nil {
			return nil, err
		}
		v, err := decodeValue(st, s.values, it.Value())
		if err != nil {
			return nil, err
		}
		out = append(out, streams.KeyValue[K, V]{Key: k, Value: v})
	}
	return out, it.Close()
}

// WindowValue is one window of a window store.
type WindowValue[V any] struct {
	Start int64
	Value V
}

// FetchWindows reads the windows of key k starting in [from, to] from a
// window store.
func FetchWindows[K, V any](d *Driver, store string, keys streams.Serde[K], values streams.Serde[V], k K, from, to int64) ([]WindowValue[V], error) {
	raw, st, err := d.store(store)
	if err != nil {
		return nil, err
	}
	ws, ok := raw.(state.WindowStore)
	if !ok {
		return nil, fmt.Errorf("streamstest: store %s is a %s store", store, st.Kind)
	}
	kb, err := keys.Serialize(k)
	if err != nil {
		return nil, err
	}
	it, err := ws.Fetch(kb, from, to)
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []WindowValue[V]
	for it.Next() {
		v, err := decodeValue(st, values, it.Value())
		if err != nil {
			return nil, err
		}
		out = append(out, WindowValue[V]{Start: it.Start(), Value: v})
	}
	return out, it.Close()
}
