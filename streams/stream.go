package streams

import (
	"fmt"

	"github.com/tributary-streams/tributary/streams/internal/topology"
)

// KStream is a stream of records: every record is an event on its own.
// Steps that keep the types are methods; steps that change them are
// functions (Map, FlatMap, ...), as Go methods cannot add type parameters.
type KStream[K, V any] struct {
	b      *Builder
	node   *topology.Node
	keys   Serde[K]
	values Serde[V]
	// rekeyed: the key may have changed since the records were last
	// partitioned, so a stateful step downstream repartitions first.
	rekeyed bool
}

// Stream reads topic as a stream. keys and values decode its records;
// opts take Named and WithTimestampExtractor.
func Stream[K, V any](b *Builder, topic string, keys Serde[K], values Serde[V], opts ...StepOption) KStream[K, V] {
	_, src := addSource(b, topic, keys, values, opts)
	return KStream[K, V]{b: b, node: src, keys: keys, values: values}
}

// addSource adds a stream source: decoded records go to its children.
func addSource[K, V any](b *Builder, topic string, keys Serde[K], values Serde[V], opts []StepOption) (string, *topology.Node) {
	return addSourceWith(b, topic, keys, values, opts, func(bd *topology.Build) (func(Record[K, V], bool) error, error) {
		next, err := childrenOf[K, V](bd)
		if err != nil {
			return nil, err
		}
		return func(r Record[K, V], _ bool) error { return next.send(r) }, nil
	})
}

// addSourceWith adds a source node for topic that decodes records and
// hands them, with whether they had a value, to what deliver makes from
// the node's children.
func addSourceWith[K, V any](b *Builder, topic string, keys Serde[K], values Serde[V], opts []StepOption,
	deliver func(bd *topology.Build) (func(Record[K, V], bool) error, error)) (string, *topology.Node) {
	name := b.g.NextName("KSTREAM-SOURCE")
	c := b.configure(name, opts, optTimestamps)
	if c.name != "" {
		name = c.name
	}
	if topic == "" {
		b.g.Errorf("step %s: the source topic is empty", name)
	}
	if keys == nil {
		b.g.Errorf("step %s: source %s has no key serde (%s)", name, topic, typeName[K]())
	}
	if values == nil {
		b.g.Errorf("step %s: source %s has no value serde (%s)", name, topic, typeName[V]())
	}
	var extract func(Record[K, V], int64) int64
	if c.extractor != nil {
		fn, ok := c.extractor.(func(Record[K, V], int64) int64)
		if !ok {
			b.g.Errorf("step %s: the timestamp extractor takes %T, but the source's records are %s", name, c.extractor, recordType[K, V]())
		}
		extract = fn
	}
	node := b.g.Add(&topology.Node{Name: name, Kind: topology.SourceNode, Topics: []string{topic},
		Build: func(bd *topology.Build) (any, error) {
			d, err := deliver(bd)
			if err != nil {
				return nil, err
			}
			return &source[K, V]{name: name, keys: newCodec(keys), values: newCodec(values), extract: extract, deliver: d}, nil
		}})
	return name, node
}

// source decodes records, applies the timestamp extractor and moves
// stream time.
type source[K, V any] struct {
	name    string
	keys    codec[K]
	values  codec[V]
	extract func(Record[K, V], int64) int64
	deliver func(r Record[K, V], hasValue bool) error
}

func (s *source[K, V]) Process(ctx *topology.Context, in *topology.Input) error {
	k, err := s.keys.dec(in.Key)
	if err != nil {
		return ctx.DeserializationError(in, fmt.Errorf("source %s: decode key: %w", s.name, err))
	}
	v, err := s.values.dec(in.Value)
	if err != nil {
		return ctx.DeserializationError(in, fmt.Errorf("source %s: decode value: %w", s.name, err))
	}
	r := Record[K, V]{Key: k, Value: v, Timestamp: in.Timestamp, Headers: in.Headers}
	if s.extract != nil {
		r.Timestamp = s.extract(r, ctx.StreamTime())
	}
	if r.Timestamp < 0 {
		ctx.Stats.Skipped.Add(1)
		ctx.Logger().Warn("skipping a record with a negative timestamp", "source", s.name, "topic", in.Topic,
			"partition", in.Partition, "offset", in.Offset, "timestamp", r.Timestamp)
		return nil
	}
	ctx.Observe(r.Timestamp)
	return s.deliver(r, in.Value != nil)
}

// with derives a stream of the same types under a new node.
func (s KStream[K, V]) with(node *topology.Node) KStream[K, V] {
	return KStream[K, V]{b: s.b, node: node, keys: s.keys, values: s.values, rekeyed: s.rekeyed}
}

// Filter keeps the records for which pred is true.
func (s KStream[K, V]) Filter(pred func(K, V) bool, opts ...StepOption) KStream[K, V] {
	return s.filter("KSTREAM-FILTER", pred, true, opts)
}

// FilterNot drops the records for which pred is true.
func (s KStream[K, V]) FilterNot(pred func(K, V) bool, opts ...StepOption) KStream[K, V] {
	return s.filter("KSTREAM-FILTER", pred, false, opts)
}

func (s KStream[K, V]) filter(prefix string, pred func(K, V) bool, keep bool, opts []StepOption) KStream[K, V] {
	c := s.b.configure(prefix, opts)
	name := s.b.stepName(c, prefix)
	return s.with(processor(s.b, name, nil, []*topology.Node{s.node}, func(_ *topology.Build, next forward[K, V]) (any, error) {
		return receiveFunc[K, V](func(r Record[K, V]) error {
			if pred(r.Key, r.Value) == keep {
				return next.send(r)
			}
			return nil
		}), nil
	}))
}

// Map turns each record into another key and value; a stateful step
// downstream repartitions by the new key.
func Map[K, V, KO, VO any](s KStream[K, V], fn func(K, V) (KO, VO), opts ...StepOption) KStream[KO, VO] {
	c := s.b.configure("KSTREAM-MAP", opts)
	name := s.b.stepName(c, "KSTREAM-MAP")
	node := processor(s.b, name, nil, []*topology.Node{s.node}, func(_ *topology.Build, next forward[KO, VO]) (any, error) {
		return receiveFunc[K, V](func(r Record[K, V]) error {
			k, v := fn(r.Key, r.Value)
			return next.send(Record[KO, VO]{Key: k, Value: v, Timestamp: r.Timestamp, Headers: r.Headers})
		}), nil
	})
	return KStream[KO, VO]{b: s.b, node: node, keys: defaultSerde[KO](), values: defaultSerde[VO](), rekeyed: true}
}

// MapValues turns each value into another; the key stays, so no
// repartitioning follows.
func MapValues[K, V, VO any](s KStream[K, V], fn func(V) VO, opts ...StepOption) KStream[K, VO] {
	return MapValuesWithKey(s, func(_ K, v V) VO { return fn(v) }, opts...)
}

// MapValuesWithKey is MapValues with the key at hand (read-only).
func MapValuesWithKey[K, V, VO any](s KStream[K, V], fn func(K, V) VO, opts ...StepOption) KStream[K, VO] {
	c := s.b.configure("KSTREAM-MAPVALUES", opts)
	name := s.b.stepName(c, "KSTREAM-MAPVALUES")
	node := processor(s.b, name, nil, []*topology.Node{s.node}, func(_ *topology.Build, next forward[K, VO]) (any, error) {
		return receiveFunc[K, V](func(r Record[K, V]) error {
			return next.send(Record[K, VO]{Key: r.Key, Value: fn(r.Key, r.Value), Timestamp: r.Timestamp, Headers: r.Headers})
		}), nil
	})
	return KStream[K, VO]{b: s.b, node: node, keys: s.keys, values: defaultSerde[VO](), rekeyed: s.rekeyed}
}

// emitter collects what a flat-map function emits and forwards it,
// keeping the first downstream error.
type emitter[K, V any] struct {
	next forward[K, V]
	ts   int64
	hdrs []Header
	err  error
}

func (e *emitter[K, V]) emit(k K, v V) {
	if e.err == nil {
		e.err = e.next.send(Record[K, V]{Key: k, Value: v, Timestamp: e.ts, Headers: e.hdrs})
	}
}

// FlatMap turns each record into any number of records, which fn passes
// to emit; a stateful step downstream repartitions by the new keys.
func FlatMap[K, V, KO, VO any](s KStream[K, V], fn func(k K, v V, emit func(KO, VO)), opts ...StepOption) KStream[KO, VO] {
	c := s.b.configure("KSTREAM-FLATMAP", opts)
	name := s.b.stepName(c, "KSTREAM-FLATMAP")
	node := processor(s.b, name, nil, []*topology.Node{s.node}, func(_ *topology.Build, next forward[KO, VO]) (any, error) {
		e := &emitter[KO, VO]{next: next}
		emit := e.emit
		return receiveFunc[K, V](func(r Record[K, V]) error {
			e.ts, e.hdrs, e.err = r.Timestamp, r.Headers, nil
			fn(r.Key, r.Value, emit)
			return e.err
		}), nil
	})
	return KStream[KO, VO]{b: s.b, node: node, keys: defaultSerde[KO](), values: defaultSerde[VO](), rekeyed: true}
}

// FlatMapValues turns each value into any number of values under the same
// key, which fn passes to emit.
func FlatMapValues[K, V, VO any](s KStream[K, V], fn func(v V, emit func(VO)), opts ...StepOption) KStream[K, VO] {
	c := s.b.configure("KSTREAM-FLATMAPVALUES", opts)
	name := s.b.stepName(c, "KSTREAM-FLATMAPVALUES")
	node := processor(s.b, name, nil, []*topology.Node{s.node}, func(_ *topology.Build, next forward[K, VO]) (any, error) {
		e := &emitter[K, VO]{next: next}
		var key K
		emit := func(v VO) { e.emit(key, v) }
		return receiveFunc[K, V](func(r Record[K, V]) error {
			key, e.ts, e.hdrs, e.err = r.Key, r.Timestamp, r.Headers, nil
			fn(r.Value, emit)
			return e.err
		}), nil
	})
	return KStream[K, VO]{b: s.b, node: node, keys: s.keys, values: defaultSerde[VO](), rekeyed: s.rekeyed}
}

// SelectKey gives each record a new key from fn; a stateful step
// downstream repartitions by it.
func SelectKey[K, V, KO any](s KStream[K, V], fn func(K, V) KO, opts ...StepOption) KStream[KO, V] {
	c := s.b.configure("KSTREAM-KEY-SELECT", opts)
	name := s.b.stepName(c, "KSTREAM-KEY-SELECT")
	node := processor(s.b, name, nil, []*topology.Node{s.node}, func(_ *topology.Build, next forward[KO, V]) (any, error) {
		return receiveFunc[K, V](func(r Record[K, V]) error {
			return next.send(Record[KO, V]{Key: fn(r.Key, r.Value), Value: r.Value, Timestamp: r.Timestamp, Headers: r.Headers})
		}), nil
	})
	return KStream[KO, V]{b: s.b, node: node, keys: defaultSerde[KO](), values: s.values, rekeyed: true}
}

// Peek calls fn on each record and passes it on unchanged.
func (s KStream[K, V]) Peek(fn func(K, V), opts ...StepOption) KStream[K, V] {
	c := s.b.configure("KSTREAM-PEEK", opts)
	name := s.b.stepName(c, "KSTREAM-PEEK")
	return s.with(processor(s.b, name, nil, []*topology.Node{s.node}, func(_ *topology.Build, next forward[K, V]) (any, error) {
		return receiveFunc[K, V](func(r Record[K, V]) error {
			fn(r.Key, r.Value)
			return next.send(r)
		}), nil
	}))
}

// Foreach calls fn on each record; the stream ends here.
func (s KStream[K, V]) Foreach(fn func(K, V), opts ...StepOption) {
	c := s.b.configure("KSTREAM-FOREACH", opts)
	name := s.b.stepName(c, "KSTREAM-FOREACH")
	processor(s.b, name, nil, []*topology.Node{s.node}, func(_ *topology.Build, _ forward[K, V]) (any, error) {
		return receiveFunc[K, V](func(r Record[K, V]) error {
			fn(r.Key, r.Value)
			return nil
		}), nil
	})
}

// Split sends each record to the first branch whose predicate is true,
// and the rest to a default branch: it returns len(preds)+1 streams, the
// last being the default.
func (s KStream[K, V]) Split(preds []func(K, V) bool, opts ...StepOption) []KStream[K, V] {
	c := s.b.configure("KSTREAM-BRANCH", opts)
	name := s.b.stepName(c, "KSTREAM-BRANCH")
	for i, p := range preds {
		if p == nil {
			s.b.g.Errorf("step %s: branch %d has a nil predicate", name, i)
		}
	}
	n := len(preds) + 1
	// One node decides and hands each record to the branch node it chose:
	// its children, in the order they are added below. The branch nodes
	// only pass records on, so that Describe shows the branches.
	split := processor(s.b, name, nil, []*topology.Node{s.node}, func(_ *topology.Build, next forward[K, V]) (any, error) {
		if len(next) != n {
			return nil, fmt.Errorf("split has %d branches, want %d", len(next), n)
		}
		return receiveFunc[K, V](func(r Record[K, V]) error {
			for i, p := range preds {
				if p(r.Key, r.Value) {
					return next[i].receive(r)
				}
			}
			return next[n-1].receive(r)
		}), nil
	})
	out := make([]KStream[K, V], n)
	for i := range n {
		label := fmt.Sprintf("%s-%d", name, i)
		if i == n-1 {
			label = name + "-default"
		}
		out[i] = s.with(processor(s.b, label, nil, []*topology.Node{split}, func(_ *topology.Build, next forward[K, V]) (any, error) {
			return receiveFunc[K, V](next.send), nil
		}))
	}
	return out
}

// Merge interleaves two streams of the same types.
func (s KStream[K, V]) Merge(other KStream[K, V], opts ...StepOption) KStream[K, V] {
	c := s.b.configure("KSTREAM-MERGE", opts)
	name := s.b.stepName(c, "KSTREAM-MERGE")
	m := s.with(processor(s.b, name, nil, []*topology.Node{s.node, other.node}, func(_ *topology.Build, next forward[K, V]) (any, error) {
		return receiveFunc[K, V](next.send), nil
	}))
	m.rekeyed = s.rekeyed || other.rekeyed
	if m.keys == nil {
		m.keys = other.keys
	}
	if m.values == nil {
		m.values = other.values
	}
	return m
}

// To writes the stream to topic; opts take WithKeySerde and
// WithValueSerde (default: the stream's serdes).
func (s KStream[K, V]) To(topic string, opts ...StepOption) {
	if topic == "" {
		s.b.g.Errorf("step To: the topic is empty")
	}
	s.sink(topic, nil, opts)
}

// ToDynamic writes each record to the topic fn names for it.
func (s KStream[K, V]) ToDynamic(fn func(K, V) string, opts ...StepOption) {
	s.sink("", fn, opts)
}

func (s KStream[K, V]) sink(topic string, choose func(K, V) string, opts []StepOption) *topology.Node {
	c := s.b.configure("KSTREAM-SINK", opts, optKeySerde, optValueSerde)
	name := s.b.stepName(c, "KSTREAM-SINK")
	keys := serdeOption(s.b, name, "key", c.keySerde, s.keys)
	values := serdeOption(s.b, name, "value", c.valueSerde, s.values)
	needSerde(s.b, name, "key", "writing to a topic", keys)
	needSerde(s.b, name, "value", "writing to a topic", values)
	return s.b.g.Add(&topology.Node{Name: name, Kind: topology.SinkNode, SinkTopic: topic,
		Build: func(bd *topology.Build) (any, error) {
			kc, vc := newCodec(keys), newCodec(values)
			physical := ""
			if topic != "" {
				physical = bd.Topic(topic)
			}
			ctx := bd.Ctx
			return receiveFunc[K, V](func(r Record[K, V]) error {
				t := physical
				if choose != nil {
					t = choose(r.Key, r.Value)
					if t == "" {
						return fmt.Errorf("step %s: the topic chosen for a record is empty", name)
					}
				}
				kb, err := kc.owned(r.Key)
				if err != nil {
					return fmt.Errorf("step %s: encode key: %w", name, err)
				}
				vb, err := vc.owned(r.Value)
				if err != nil {
					return fmt.Errorf("step %s: encode value: %w", name, err)
				}
				ctx.Send(t, -1, kb, vb, r.Timestamp, r.Headers)
				return nil
			}), nil
		}}, s.node)
}

// Repartition writes the stream through the internal topic
// <application.id>-<name>-repartition, partitioned by key, and reads it
// back: what follows runs in a new sub-topology. opts take Named,
// WithKeySerde, WithValueSerde and WithPartitions (default: the
// partitions of the upstream sub-topology's input).
func (s KStream[K, V]) Repartition(opts ...StepOption) KStream[K, V] {
	c := s.b.configure("KSTREAM-REPARTITION", opts, optKeySerde, optValueSerde, optPartitions)
	name := s.b.stepName(c, "KSTREAM-REPARTITION")
	s.keys = serdeOption(s.b, name, "key", c.keySerde, s.keys)
	s.values = serdeOption(s.b, name, "value", c.valueSerde, s.values)
	return s.repartition(name, c.partitions)
}

// repartition routes the stream through <base>-repartition.
func (s KStream[K, V]) repartition(base string, partitions int) KStream[K, V] {
	topic := base + "-repartition"
	s.b.g.AddInternal(&topology.InternalTopic{Name: topic, Partitions: partitions})
	needSerde(s.b, base, "key", "the repartition topic "+topic, s.keys)
	needSerde(s.b, base, "value", "the repartition topic "+topic, s.values)
	keys, values := s.keys, s.values
	if keys == nil || values == nil {
		return s
	}
	sink := s.b.g.Add(&topology.Node{Name: base + "-repartition-sink", Kind: topology.SinkNode, SinkTopic: topic,
		Build: func(bd *topology.Build) (any, error) {
			kc, vc := newCodec(keys), newCodec(values)
			physical := bd.Topic(topic)
			ctx := bd.Ctx
			return receiveFunc[K, V](func(r Record[K, V]) error {
				kb, err := kc.owned(r.Key)
				if err != nil {
					return fmt.Errorf("step %s: encode key: %w", base, err)
				}
				vb, err := vc.owned(r.Value)
				if err != nil {
					return fmt.Errorf("step %s: encode value: %w", base, err)
				}
				ctx.Send(physical, -1, kb, vb, r.Timestamp, r.Headers)
				return nil
			}), nil
		}}, s.node)
	_ = sink
	_, src := addSource(s.b, topic, keys, values, []StepOption{Named(base + "-repartition-source")})
	return KStream[K, V]{b: s.b, node: src, keys: keys, values: values}
}

// partitioned returns the stream, repartitioned first if its key may have
// changed: what a stateful step calls.
func (s KStream[K, V]) partitioned(base string) KStream[K, V] {
	if !s.rekeyed {
		return s
	}
	return s.repartition(base, 0)
}
