package streams

import (
	"fmt"

	"github.com/tributary-streams/tributary/streams/internal/topology"
)

// KTable is a changelog stream read as a table: each record is the latest
// value of its key, and a record without a value deletes the key. Tables
// come from topics (Table), aggregations and joins.
type KTable[K, V any] struct {
	b      *Builder
	node   *topology.Node // forwards Record[K, change[V]]
	keys   Serde[K]
	values Serde[V]
	// lookup reads the table's current value of a key, in a task of the
	// sub-topology that holds its stores; stores are what it reads.
	lookup func(bd *topology.Build) (getter[K, V], error)
	stores []string
	// windowed is set for the result of a windowed aggregation.
	windowed *windowInfo
}

// getter reads a table by key: value, timestamp, found.
type getter[K, V any] func(k K) (V, int64, bool, error)

// tableReceiver takes a table's changes.
type tableReceiver[K, V any] = receiver[K, change[V]]

// Table reads topic as a table, materialized in a store (named by
// Materialized, or after the topic); opts take Named, Materialized,
// WithTimestampExtractor, WithLogging and WithCaching.
func Table[K, V any](b *Builder, topic string, keys Serde[K], values Serde[V], opts ...StepOption) KTable[K, V] {
	name := b.g.NextName("KTABLE-SOURCE")
	c := b.configure(name, opts, optStore, optTimestamps, optLogging, optCaching)
	if c.name != "" {
		name = c.name
	}
	store := c.store
	if store == "" {
		store = topic + "-STATE-STORE-" + name[len(name)-10:]
	}
	var srcOpts []StepOption
	if c.extractor != nil {
		srcOpts = append(srcOpts, given(optTimestamps, func(sc *stepConfig) { sc.extractor = c.extractor }))
	}
	_, src := addTableSource(b, topic, keys, values, srcOpts)
	b.g.AddStore(&topology.Store{Name: store, Kind: topology.KeyValueStore, Logged: c.logging, Query: kvQuery(keys, values)}, name)
	caching := c.caching
	node := processor(b, name, []string{store}, []*topology.Node{src}, func(bd *topology.Build, next forward[K, change[V]]) (any, error) {
		ts, err := openTableStore(bd, store, keys, values, caching)
		if err != nil {
			return nil, err
		}
		ts.emit = emitChange(next)
		bd.OnFlush(ts.flush)
		return tableInput[K, V](func(r Record[K, V], has bool) error {
			return ts.put(r.Key, r.Value, has, r.Timestamp)
		}), nil
	})
	return KTable[K, V]{b: b, node: node, keys: keys, values: values, stores: []string{store},
		lookup: storeLookup(store, keys, values)}
}

// tableInput is what a table source delivers to: a record, and whether
// it has a value (false: a tombstone).
type tableInput[K, V any] func(r Record[K, V], has bool) error

func addTableSource[K, V any](b *Builder, topic string, keys Serde[K], values Serde[V], opts []StepOption) (string, *topology.Node) {
	return addSourceWith(b, topic, keys, values, opts, func(bd *topology.Build) (func(Record[K, V], bool) error, error) {
		if len(bd.Children()) != 1 {
			return nil, fmt.Errorf("a table source has %d children, want 1", len(bd.Children()))
		}
		in, ok := bd.Children()[0].(tableInput[K, V])
		if !ok {
			return nil, fmt.Errorf("the child of table source %s does not take %s", bd.Node.Name, recordType[K, V]())
		}
		return in, nil
	})
}

// emitChange forwards a table's change as a record.
func emitChange[K, V any](next forward[K, change[V]]) func(k K, c change[V], ts int64) error {
	return func(k K, c change[V], ts int64) error {
		return next.send(Record[K, change[V]]{Key: k, Value: c, Timestamp: ts})
	}
}

// storeLookup reads a table from its key-value store.
func storeLookup[K, V any](store string, keys Serde[K], values Serde[V]) func(bd *topology.Build) (getter[K, V], error) {
	return func(bd *topology.Build) (getter[K, V], error) {
		ts, err := openTableStore(bd, store, keys, values, true)
		if err != nil {
			return nil, err
		}
		return ts.get, nil
	}
}

func (t KTable[K, V]) with(node *topology.Node, lookup func(bd *topology.Build) (getter[K, V], error)) KTable[K, V] {
	return KTable[K, V]{b: t.b, node: node, keys: t.keys, values: t.values, lookup: lookup, stores: t.stores, windowed: t.windowed}
}

// Filter keeps the rows for which pred is true: a row that stops matching
// is deleted downstream.
func (t KTable[K, V]) Filter(pred func(K, V) bool, opts ...StepOption) KTable[K, V] {
	return t.filter(pred, true, opts)
}

// FilterNot drops the rows for which pred is true.
func (t KTable[K, V]) FilterNot(pred func(K, V) bool, opts ...StepOption) KTable[K, V] {
	return t.filter(pred, false, opts)
}

func (t KTable[K, V]) filter(pred func(K, V) bool, keep bool, opts []StepOption) KTable[K, V] {
	c := t.b.configure("KTABLE-FILTER", opts)
	name := t.b.stepName(c, "KTABLE-FILTER")
	node := processor(t.b, name, t.stores, []*topology.Node{t.node}, func(_ *topology.Build, next forward[K, change[V]]) (any, error) {
		return receiveFunc[K, change[V]](func(r Record[K, change[V]]) error {
			c := r.Value
			c.HasNew = c.HasNew && pred(r.Key, c.New) == keep
			c.HasOld = c.HasOld && pred(r.Key, c.Old) == keep
			if !c.HasNew && !c.HasOld {
				return nil
			}
			r.Value = c
			return next.send(r)
		}), nil
	})
	up := t.lookup
	return t.with(node, func(bd *topology.Build) (getter[K, V], error) {
		get, err := up(bd)
		if err != nil {
			return nil, err
		}
		return func(k K) (V, int64, bool, error) {
			v, ts, ok, err := get(k)
			if err != nil || !ok || pred(k, v) != keep {
				var zero V
				return zero, 0, false, err
			}
			return v, ts, true, nil
		}, nil
	})
}

// MapValuesTable turns each row's value into another.
func MapValuesTable[K, V, VO any](t KTable[K, V], fn func(K, V) VO, opts ...StepOption) KTable[K, VO] {
	c := t.b.configure("KTABLE-MAPVALUES", opts, optValueSerde)
	name := t.b.stepName(c, "KTABLE-MAPVALUES")
	node := processor(t.b, name, t.stores, []*topology.Node{t.node}, func(_ *topology.Build, next forward[K, change[VO]]) (any, error) {
		return receiveFunc[K, change[V]](func(r Record[K, change[V]]) error {
			var out change[VO]
			if r.Value.HasNew {
				out.New, out.HasNew = fn(r.Key, r.Value.New), true
			}
			if r.Value.HasOld {
				out.Old, out.HasOld = fn(r.Key, r.Value.Old), true
			}
			return next.send(Record[K, change[VO]]{Key: r.Key, Value: out, Timestamp: r.Timestamp, Headers: r.Headers})
		}), nil
	})
	up := t.lookup
	return KTable[K, VO]{b: t.b, node: node, keys: t.keys, values: serdeOption(t.b, name, "value", c.valueSerde, defaultSerde[VO]()),
		stores: t.stores, windowed: t.windowed,
		lookup: func(bd *topology.Build) (getter[K, VO], error) {
			get, err := up(bd)
			if err != nil {
				return nil, err
			}
			return func(k K) (VO, int64, bool, error) {
				v, ts, ok, err := get(k)
				if err != nil || !ok {
					var zero VO
					return zero, 0, false, err
				}
				return fn(k, v), ts, true, nil
			}, nil
		}}
}

// ToStream turns the table's updates into a stream of their new values;
// deletions are not forwarded (a KStream has no absent values).
func (t KTable[K, V]) ToStream(opts ...StepOption) KStream[K, V] {
	c := t.b.configure("KTABLE-TOSTREAM", opts)
	name := t.b.stepName(c, "KTABLE-TOSTREAM")
	node := processor(t.b, name, nil, []*topology.Node{t.node}, func(_ *topology.Build, next forward[K, V]) (any, error) {
		return receiveFunc[K, change[V]](func(r Record[K, change[V]]) error {
			if !r.Value.HasNew {
				return nil
			}
			return next.send(Record[K, V]{Key: r.Key, Value: r.Value.New, Timestamp: r.Timestamp, Headers: r.Headers})
		}), nil
	})
	return KStream[K, V]{b: t.b, node: node, keys: t.keys, values: t.values}
}

// To writes the table's changelog to topic: updates as records,
// deletions as tombstones; opts take WithKeySerde and WithValueSerde.
func (t KTable[K, V]) To(topic string, opts ...StepOption) {
	c := t.b.configure("KTABLE-SINK", opts, optKeySerde, optValueSerde)
	name := t.b.stepName(c, "KTABLE-SINK")
	keys := serdeOption(t.b, name, "key", c.keySerde, t.keys)
	values := serdeOption(t.b, name, "value", c.valueSerde, t.values)
	if topic == "" {
		t.b.g.Errorf("step %s: the topic is empty", name)
	}
	if !needSerde(t.b, name, "key", "writing to a topic", keys) || !needSerde(t.b, name, "value", "writing to a topic", values) {
		return
	}
	t.b.g.Add(&topology.Node{Name: name, Kind: topology.SinkNode, SinkTopic: topic,
		Build: func(bd *topology.Build) (any, error) {
			kc, vc := newCodec(keys), newCodec(values)
			physical := bd.Topic(topic)
			ctx := bd.Ctx
			return receiveFunc[K, change[V]](func(r Record[K, change[V]]) error {
				kb, err := kc.owned(r.Key)
				if err != nil {
					return fmt.Errorf("step %s: encode key: %w", name, err)
				}
				var vb []byte
				if r.Value.HasNew {
					if vb, err = vc.owned(r.Value.New); err != nil {
						return fmt.Errorf("step %s: encode value: %w", name, err)
					}
				}
				ctx.Send(physical, -1, kb, vb, r.Timestamp, r.Headers)
				return nil
			}), nil
		}}, t.node)
}
