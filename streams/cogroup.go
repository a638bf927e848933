package streams

import (
	"github.com/tributary-streams/tributary/streams/internal/topology"
)

// CogroupedKStream aggregates several grouped streams of one key type
// into one table, each with its own aggregator over a shared aggregate.
type CogroupedKStream[K, VA any] struct {
	b      *Builder
	keys   Serde[K]
	inputs []cogroupInput[K, VA]
}

// cogroupInput adds one grouped stream's processor (it knows the
// stream's value type) under the shared store, returning its node.
type cogroupInput[K, VA any] func(store string, keys Serde[K], values Serde[VA], caching bool, init func() VA) *topology.Node

// Cogroup starts a cogroup with one grouped stream and its aggregator.
func Cogroup[K, V, VA any](g KGroupedStream[K, V], agg func(k K, v V, agg VA) VA) CogroupedKStream[K, VA] {
	return CogroupWith(CogroupedKStream[K, VA]{b: g.s.b, keys: g.s.keys}, g, agg)
}

// CogroupWith adds a grouped stream, with its own value type and
// aggregator, to a cogroup.
func CogroupWith[K, V, VA any](c CogroupedKStream[K, VA], g KGroupedStream[K, V], agg func(k K, v V, agg VA) VA) CogroupedKStream[K, VA] {
	b := c.b
	in := func(store string, keys Serde[K], values Serde[VA], caching bool, init func() VA) *topology.Node {
		base := g.name
		if base == "" {
			base = store + "-" + g.s.node.Name
		}
		s := g.s.partitioned(base)
		name := b.g.NextName("COGROUPKSTREAM-AGGREGATE")
		return processor(b, name, []string{store}, []*topology.Node{s.node}, func(bd *topology.Build, _ forward[K, change[VA]]) (any, error) {
			ts, err := openTableStore(bd, store, keys, values, caching)
			if err != nil {
				return nil, err
			}
			return receiveFunc[K, V](func(r Record[K, V]) error {
				cur, curTs, has, err := ts.get(r.Key)
				if err != nil {
					return err
				}
				if !has {
					cur = init()
				}
				return ts.put(r.Key, agg(r.Key, r.Value, cur), true, max(r.Timestamp, curTs))
			}), nil
		})
	}
	if c.keys == nil {
		c.keys = g.s.keys
	}
	c.inputs = append(append([]cogroupInput[K, VA](nil), c.inputs...), in)
	return c
}

// Aggregate aggregates the cogrouped streams into one table; opts take
// Named, Materialized, WithKeySerde, WithValueSerde, WithLogging and
// WithCaching.
func (c CogroupedKStream[K, VA]) Aggregate(init func() VA, opts ...StepOption) KTable[K, VA] {
	b := c.b
	cfg := b.configure("COGROUPKSTREAM-MERGE", opts, aggregateOptions...)
	name := b.stepName(cfg, "COGROUPKSTREAM-MERGE")
	store := cfg.store
	if store == "" {
		store = b.g.NextName("COGROUPKSTREAM-AGGREGATE-STATE-STORE")
	}
	keys := serdeOption(b, name, "key", cfg.keySerde, c.keys)
	values := serdeOption(b, name, "value", cfg.valueSerde, defaultSerde[VA]())
	needSerde(b, name, "key", "the store "+store, keys)
	needSerde(b, name, "value", "the store "+store, values)
	b.g.AddStore(&topology.Store{Name: store, Kind: topology.KeyValueStore, Logged: cfg.logging, Query: kvQuery(keys, values)}, name)
	var parents []*topology.Node
	for _, in := range c.inputs {
		parents = append(parents, in(store, keys, values, cfg.caching, init))
	}
	if len(parents) > 1 {
		b.g.Copart = append(b.g.Copart, topology.CoPartition{Step: name, Nodes: parents})
	}
	// The inputs write the shared store; the store forwards its changes
	// through this node.
	caching := cfg.caching
	node := processor(b, name, []string{store}, parents, func(bd *topology.Build, next forward[K, change[VA]]) (any, error) {
		ts, err := openTableStore(bd, store, keys, values, caching)
		if err != nil {
			return nil, err
		}
		ts.emit = emitChange(next)
		bd.OnFlush(ts.flush)
		return receiveFunc[K, change[VA]](next.send), nil
	})
	return KTable[K, VA]{b: b, node: node, keys: keys, values: values, stores: []string{store},
		lookup: storeLookup(store, keys, values)}
}
