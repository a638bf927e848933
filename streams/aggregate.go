package streams

import (
	"github.com/tributary-streams/tributary/streams/internal/topology"
)

// KGroupedStream is a stream grouped by key, ready to aggregate. If the
// key may have changed upstream, the aggregation repartitions first,
// through <application.id>-<store>-repartition.
type KGroupedStream[K, V any] struct {
	s    KStream[K, V]
	name string // given to GroupByKey or GroupBy: names the repartition topic
}

// GroupByKey groups the stream by its key; opts take Named, WithKeySerde
// and WithValueSerde (the serdes of the repartition topic, if one is
// needed).
func (s KStream[K, V]) GroupByKey(opts ...StepOption) KGroupedStream[K, V] {
	c := s.b.configure("KSTREAM-GROUPBYKEY", opts, optKeySerde, optValueSerde)
	s.keys = serdeOption(s.b, "KSTREAM-GROUPBYKEY", "key", c.keySerde, s.keys)
	s.values = serdeOption(s.b, "KSTREAM-GROUPBYKEY", "value", c.valueSerde, s.values)
	return KGroupedStream[K, V]{s: s, name: c.name}
}

// GroupBy groups the stream by the key fn picks: SelectKey then
// GroupByKey.
func GroupBy[K, V, KO any](s KStream[K, V], fn func(K, V) KO, opts ...StepOption) KGroupedStream[KO, V] {
	c := s.b.configure("KSTREAM-GROUPBY", opts, optKeySerde, optValueSerde)
	sk := SelectKey(s, fn)
	sk.keys = serdeOption(s.b, sk.node.Name, "key", c.keySerde, sk.keys)
	sk.values = serdeOption(s.b, sk.node.Name, "value", c.valueSerde, sk.values)
	return KGroupedStream[KO, V]{s: sk, name: c.name}
}

// aggregation is what Count, Reduce and Aggregate share: fold a value into
// a key's current aggregate (has: there is one).
type aggregation[K, V, VA any] func(k K, v V, agg VA, has bool) VA

// aggregateOptions are what a key-value aggregation takes.
var aggregateOptions = []optionKind{optStore, optKeySerde, optValueSerde, optLogging, optCaching}

func aggregateStream[K, V, VA any](g KGroupedStream[K, V], fold aggregation[K, V, VA], values Serde[VA], opts []StepOption) KTable[K, VA] {
	b := g.s.b
	c := b.configure("KSTREAM-AGGREGATE", opts, aggregateOptions...)
	name := b.stepName(c, "KSTREAM-AGGREGATE")
	store := c.store
	if store == "" {
		store = b.g.NextName("KSTREAM-AGGREGATE-STATE-STORE")
	}
	base := g.name
	if base == "" {
		base = store
	}
	s := g.s.partitioned(base)
	keys := serdeOption(b, name, "key", c.keySerde, s.keys)
	values = serdeOption(b, name, "value", c.valueSerde, values)
	needSerde(b, name, "key", "the store "+store, keys)
	needSerde(b, name, "value", "the store "+store, values)
	b.g.AddStore(&topology.Store{Name: store, Kind: topology.KeyValueStore, Logged: c.logging, Query: kvQuery(keys, values)}, name)
	caching := c.caching
	node := processor(b, name, []string{store}, []*topology.Node{s.node}, func(bd *topology.Build, next forward[K, change[VA]]) (any, error) {
		ts, err := openTableStore(bd, store, keys, values, caching)
		if err != nil {
			return nil, err
		}
		ts.emit = emitChange(next)
		bd.OnFlush(ts.flush)
		return receiveFunc[K, V](func(r Record[K, V]) error {
			cur, curTs, has, err := ts.get(r.Key)
			if err != nil {
				return err
			}
			return ts.put(r.Key, fold(r.Key, r.Value, cur, has), true, max(r.Timestamp, curTs))
		}), nil
	})
	return KTable[K, VA]{b: b, node: node, keys: keys, values: values, stores: []string{store},
		lookup: storeLookup(store, keys, values)}
}

// Count counts the records of each key; opts take Named, Materialized,
// WithKeySerde, WithLogging and WithCaching.
func (g KGroupedStream[K, V]) Count(opts ...StepOption) KTable[K, int64] {
	return aggregateStream(g, func(_ K, _ V, n int64, _ bool) int64 { return n + 1 }, Int64(), opts)
}

// Reduce combines each key's values with fn, the first value standing as
// it is.
func (g KGroupedStream[K, V]) Reduce(fn func(agg, v V) V, opts ...StepOption) KTable[K, V] {
	return aggregateStream(g, func(_ K, v V, agg V, has bool) V {
		if !has {
			return v
		}
		return fn(agg, v)
	}, g.s.values, opts)
}

// Aggregate folds each key's values into an aggregate that starts as
// init(); opts take WithValueSerde for the aggregate's serde (required
// unless it is a string, []byte, int64 or float64).
func Aggregate[K, V, VA any](g KGroupedStream[K, V], init func() VA, agg func(k K, v V, agg VA) VA, opts ...StepOption) KTable[K, VA] {
	return aggregateStream(g, func(k K, v V, cur VA, has bool) VA {
		if !has {
			cur = init()
		}
		return agg(k, v, cur)
	}, defaultSerde[VA](), opts)
}

// KGroupedTable is a table regrouped by a new key: aggregations add each
// new row and subtract the row it replaced.
type KGroupedTable[K, V any] struct {
	b      *Builder
	node   *topology.Node // forwards Record[K, delta[V]]
	keys   Serde[K]
	values Serde[V]
}

// delta is a row entering (Add) or leaving a group.
type delta[V any] struct {
	Value V
	Add   bool
}

// GroupByTable regroups a table's rows under the key and value fn picks,
// through the repartition topic <application.id>-<name>-repartition; opts
// take Named, WithKeySerde and WithValueSerde.
func GroupByTable[K, V, KO, VO any](t KTable[K, V], fn func(K, V) (KO, VO), opts ...StepOption) KGroupedTable[KO, VO] {
	b := t.b
	c := b.configure("KTABLE-GROUPBY", opts, optKeySerde, optValueSerde)
	name := b.stepName(c, "KTABLE-GROUPBY")
	keys := serdeOption(b, name, "key", c.keySerde, defaultSerde[KO]())
	values := serdeOption(b, name, "value", c.valueSerde, defaultSerde[VO]())
	needSerde(b, name, "key", "the repartition topic", keys)
	needSerde(b, name, "value", "the repartition topic", values)
	sel := processor(b, name, nil, []*topology.Node{t.node}, func(_ *topology.Build, next forward[KO, delta[VO]]) (any, error) {
		return receiveFunc[K, change[V]](func(r Record[K, change[V]]) error {
			// The old row leaves its group before the new one joins its
			// own, as in Kafka Streams.
			if r.Value.HasOld {
				k, v := fn(r.Key, r.Value.Old)
				if err := next.send(Record[KO, delta[VO]]{Key: k, Value: delta[VO]{Value: v}, Timestamp: r.Timestamp}); err != nil {
					return err
				}
			}
			if r.Value.HasNew {
				k, v := fn(r.Key, r.Value.New)
				return next.send(Record[KO, delta[VO]]{Key: k, Value: delta[VO]{Value: v, Add: true}, Timestamp: r.Timestamp})
			}
			return nil
		}), nil
	})
	g := KGroupedTable[KO, VO]{b: b, keys: keys, values: values}
	if keys == nil || values == nil {
		g.node = sel
		return g
	}
	rs := KStream[KO, delta[VO]]{b: b, node: sel, keys: keys, values: deltaSerde[VO]{values: newCodec(values)}}
	g.node = rs.repartition(name, 0).node
	return g
}

// deltaSerde writes a delta as a flag byte (1: add, 0: subtract) and the
// value.
type deltaSerde[V any] struct{ values codec[V] }

func (s deltaSerde[V]) Serialize(d delta[V]) ([]byte, error) {
	flag := byte(0)
	if d.Add {
		flag = 1
	}
	return s.values.enc([]byte{flag}, d.Value)
}

func (s deltaSerde[V]) Deserialize(b []byte) (delta[V], error) {
	if len(b) < 1 {
		return delta[V]{}, errShortDelta
	}
	v, err := s.values.dec(b[1:])
	return delta[V]{Value: v, Add: b[0] == 1}, err
}

func aggregateTable[K, V, VA any](g KGroupedTable[K, V], init func() VA, add, sub func(k K, v V, agg VA) VA, values Serde[VA], opts []StepOption) KTable[K, VA] {
	b := g.b
	c := b.configure("KTABLE-AGGREGATE", opts, aggregateOptions...)
	name := b.stepName(c, "KTABLE-AGGREGATE")
	store := c.store
	if store == "" {
		store = b.g.NextName("KTABLE-AGGREGATE-STATE-STORE")
	}
	keys := serdeOption(b, name, "key", c.keySerde, g.keys)
	values = serdeOption(b, name, "value", c.valueSerde, values)
	needSerde(b, name, "key", "the store "+store, keys)
	needSerde(b, name, "value", "the store "+store, values)
	b.g.AddStore(&topology.Store{Name: store, Kind: topology.KeyValueStore, Logged: c.logging, Query: kvQuery(keys, values)}, name)
	caching := c.caching
	node := processor(b, name, []string{store}, []*topology.Node{g.node}, func(bd *topology.Build, next forward[K, change[VA]]) (any, error) {
		ts, err := openTableStore(bd, store, keys, values, caching)
		if err != nil {
			return nil, err
		}
		ts.emit = emitChange(next)
		bd.OnFlush(ts.flush)
		return receiveFunc[K, delta[V]](func(r Record[K, delta[V]]) error {
			cur, curTs, has, err := ts.get(r.Key)
			if err != nil {
				return err
			}
			if !has {
				cur = init()
			}
			if r.Value.Add {
				cur = add(r.Key, r.Value.Value, cur)
			} else {
				cur = sub(r.Key, r.Value.Value, cur)
			}
			return ts.put(r.Key, cur, true, max(r.Timestamp, curTs))
		}), nil
	})
	return KTable[K, VA]{b: b, node: node, keys: keys, values: values, stores: []string{store},
		lookup: storeLookup(store, keys, values)}
}

// Count counts the rows in each group.
func (g KGroupedTable[K, V]) Count(opts ...StepOption) KTable[K, int64] {
	return aggregateTable(g, func() int64 { return 0 },
		func(_ K, _ V, n int64) int64 { return n + 1 },
		func(_ K, _ V, n int64) int64 { return n - 1 }, Int64(), opts)
}

// Reduce combines each group's rows: add folds a joining row in, sub takes
// a leaving row out.
func (g KGroupedTable[K, V]) Reduce(add, sub func(agg, v V) V, opts ...StepOption) KTable[K, V] {
	var zero V
	return aggregateTable(g, func() V { return zero },
		func(_ K, v V, agg V) V { return add(agg, v) },
		func(_ K, v V, agg V) V { return sub(agg, v) }, g.values, opts)
}

// AggregateTable folds each group's rows into an aggregate that starts as
// init(): add folds a joining row in, sub takes a leaving row out.
func AggregateTable[K, V, VA any](g KGroupedTable[K, V], init func() VA, add, sub func(k K, v V, agg VA) VA, opts ...StepOption) KTable[K, VA] {
	return aggregateTable(g, init, add, sub, defaultSerde[VA](), opts)
}
