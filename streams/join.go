package streams

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/tributary-streams/tributary/streams/internal/topology"
	"github.com/tributary-streams/tributary/streams/state"
)

// joinKind is inner, left or outer.
type joinKind int

const (
	innerJoin joinKind = iota
	leftJoin
	outerJoin
)

var joinOptions = []optionKind{optKeySerde, optValueSerde, optOtherValueSerde}

// Join joins two streams: each pair of records with the same key whose
// timestamps are within w of each other gives joiner(left, right), stamped
// with the later of the two. Both sides are buffered in window stores
// (<name>-this-join-store, <name>-other-join-store) for the window plus
// its grace period; opts take Named, WithKeySerde, WithValueSerde (left
// values) and WithOtherValueSerde (right values).
func Join[K, VL, VR, VO any](l KStream[K, VL], r KStream[K, VR], w JoinWindows, joiner func(VL, VR) VO, opts ...StepOption) KStream[K, VO] {
	return joinStreams(l, r, w, innerJoin, func(lv *VL, rv *VR) VO { return joiner(*lv, *rv) }, opts)
}

// LeftJoin is Join that also emits joiner(left, nil) for a left record no
// right record joined, once its window has closed.
func LeftJoin[K, VL, VR, VO any](l KStream[K, VL], r KStream[K, VR], w JoinWindows, joiner func(VL, *VR) VO, opts ...StepOption) KStream[K, VO] {
	return joinStreams(l, r, w, leftJoin, func(lv *VL, rv *VR) VO { return joiner(*lv, rv) }, opts)
}

// OuterJoin is Join that also emits unjoined records of either side, with
// nil for the other, once their window has closed.
func OuterJoin[K, VL, VR, VO any](l KStream[K, VL], r KStream[K, VR], w JoinWindows, joiner func(*VL, *VR) VO, opts ...StepOption) KStream[K, VO] {
	return joinStreams(l, r, w, outerJoin, joiner, opts)
}

// Sides of a stream-stream join in the shared outer store.
const (
	leftSide  byte = 0
	rightSide byte = 1
)

func joinStreams[K, VL, VR, VO any](l KStream[K, VL], r KStream[K, VR], w JoinWindows, kind joinKind, joiner func(*VL, *VR) VO, opts []StepOption) KStream[K, VO] {
	b := l.b
	prefix := [...]string{"KSTREAM-JOIN", "KSTREAM-LEFTJOIN", "KSTREAM-OUTERJOIN"}[kind]
	c := b.configure(prefix, opts, joinOptions...)
	name := b.stepName(c, prefix)
	if err := w.validate(); err != nil {
		b.g.Errorf("step %s: %v", name, err)
	}
	l.keys = serdeOption(b, name, "key", c.keySerde, l.keys)
	r.keys = serdeOption(b, name, "key", c.keySerde, r.keys)
	l.values = serdeOption(b, name, "value", c.valueSerde, l.values)
	r.values = serdeOption(b, name, "other value", c.otherSerde, r.values)
	l = l.partitioned(name + "-left")
	r = r.partitioned(name + "-right")
	keys := l.keys
	if !needSerde(b, name, "key", "the join stores", keys) || !needSerde(b, name, "value", "the join's left store", l.values) ||
		!needSerde(b, name, "other value", "the join's right store", r.values) {
		return KStream[K, VO]{b: b, node: l.node, keys: keys}
	}
	before, after, grace := w.before.Milliseconds(), w.after.Milliseconds(), w.grace.Milliseconds()
	retention := w.before + w.after + w.grace + time.Millisecond
	thisStore, otherStore, outerStore := name+"-this-join-store", name+"-other-join-store", name+"-outer-shared-join-store"
	for _, s := range []string{thisStore, otherStore} {
		b.g.AddStore(&topology.Store{Name: s, Kind: topology.WindowStore, Logged: true,
			Window: state.WindowOptions{Retention: retention, RetainDuplicates: true}, ChangelogRetention: retention + 24*time.Hour}, name)
	}
	stores := []string{thisStore, otherStore}
	if kind != innerJoin {
		b.g.AddStore(&topology.Store{Name: outerStore, Kind: topology.KeyValueStore, Logged: true, Plain: true}, name)
		stores = append(stores, outerStore)
	}
	lv, rv := l.values, r.values
	thisName, otherName := b.g.NextName("KSTREAM-JOINTHIS"), b.g.NextName("KSTREAM-JOINOTHER")
	if c.name != "" {
		thisName, otherName = name+"-this", name+"-other"
	}
	var thisNode, otherNode *topology.Node
	// Each side's processor buffers its record, joins it with the other
	// side's buffer, and emits what the outer store holds whose window
	// closed.
	side := func(isLeft bool) func(bd *topology.Build, next forward[K, VO]) (any, error) {
		return func(bd *topology.Build, next forward[K, VO]) (any, error) {
			lstore, err := openWindowStore(bd, thisStore, keys, lv)
			if err != nil {
				return nil, err
			}
			rstore, err := openWindowStore(bd, otherStore, keys, rv)
			if err != nil {
				return nil, err
			}
			var outer *outerBuffer[K, VL, VR]
			if kind != innerJoin {
				if outer, err = openOuterBuffer(bd, outerStore, keys, lv, rv); err != nil {
					return nil, err
				}
			}
			ctx := bd.Ctx
			emitClosed := func() error {
				if outer == nil {
					return nil
				}
				return outer.emitClosed(ctx.StreamTime(), after+grace, before+grace, kind == outerJoin, func(k K, l *VL, r *VR, ts int64) error {
					return next.send(Record[K, VO]{Key: k, Value: joiner(l, r), Timestamp: ts})
				})
			}
			if isLeft {
				return receiveFunc[K, VL](func(rec Record[K, VL]) error {
					t := rec.Timestamp
					if t+after+grace < ctx.StreamTime() {
						ctx.Stats.Late.Add(1)
						return nil
					}
					if err := lstore.put(rec.Key, t, rec.Value, true, t); err != nil {
						return err
					}
					matched := false
					err := rstore.fetch(rec.Key, max(0, t-before), t+after, func(rt int64, v VR, _ int64) error {
						matched = true
						if kind == outerJoin {
							if err := outer.remove(rec.Key, rightSide, rt); err != nil {
								return err
							}
						}
						return next.send(Record[K, VO]{Key: rec.Key, Value: joiner(&rec.Value, &v), Timestamp: max(t, rt)})
					})
					if err != nil {
						return err
					}
					if !matched && outer != nil {
						if err := outer.add(rec.Key, leftSide, t, rec.Value, *new(VR)); err != nil {
							return err
						}
					}
					return emitClosed()
				}), nil
			}
			return receiveFunc[K, VR](func(rec Record[K, VR]) error {
				t := rec.Timestamp
				if t+before+grace < ctx.StreamTime() {
					ctx.Stats.Late.Add(1)
					return nil
				}
				if err := rstore.put(rec.Key, t, rec.Value, true, t); err != nil {
					return err
				}
				matched := false
				err := lstore.fetch(rec.Key, max(0, t-after), t+before, func(lt int64, v VL, _ int64) error {
					matched = true
					if outer != nil {
						if err := outer.remove(rec.Key, leftSide, lt); err != nil {
							return err
						}
					}
					return next.send(Record[K, VO]{Key: rec.Key, Value: joiner(&v, &rec.Value), Timestamp: max(t, lt)})
				})
				if err != nil {
					return err
				}
				if !matched && kind == outerJoin {
					if err := outer.add(rec.Key, rightSide, t, *new(VL), rec.Value); err != nil {
						return err
					}
				}
				return emitClosed()
			}), nil
		}
	}
	thisNode = processor(b, thisName, stores, []*topology.Node{l.node}, side(true))
	otherNode = processor(b, otherName, stores, []*topology.Node{r.node}, side(false))
	b.g.Copart = append(b.g.Copart, topology.CoPartition{Step: name, Nodes: []*topology.Node{thisNode, otherNode}})
	merge := processor(b, name+"-merge", nil, []*topology.Node{thisNode, otherNode}, func(_ *topology.Build, next forward[K, VO]) (any, error) {
		return receiveFunc[K, VO](next.send), nil
	})
	return KStream[K, VO]{b: b, node: merge, keys: keys, values: defaultSerde[VO]()}
}

// outerBuffer holds the records of a left or outer stream-stream join
// that nothing joined yet, keyed by time, side and key so that they come
// out in time order when their window closes. Records of one key, side
// and time share an entry (a list): they join with the same records.
type outerBuffer[K, VL, VR any] struct {
	raw   state.KeyValueStore
	keys  codec[K]
	lv    codec[VL]
	rv    codec[VR]
	kbuf  []byte
	vbuf  []byte
	limit []byte
	name  string
}

func openOuterBuffer[K, VL, VR any](bd *topology.Build, name string, keys Serde[K], lv Serde[VL], rv Serde[VR]) (*outerBuffer[K, VL, VR], error) {
	v, err := bd.Shared("outer:"+name, func() (any, error) {
		raw, err := bd.Store(name)
		if err != nil {
			return nil, err
		}
		kv, ok := raw.(state.KeyValueStore)
		if !ok {
			return nil, fmt.Errorf("store %s is not a key-value store", name)
		}
		return &outerBuffer[K, VL, VR]{raw: kv, keys: newCodec(keys), lv: newCodec(lv), rv: newCodec(rv), name: name}, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*outerBuffer[K, VL, VR]), nil
}

func (o *outerBuffer[K, VL, VR]) key(k K, side byte, ts int64) ([]byte, error) {
	b := binary.BigEndian.AppendUint64(o.kbuf[:0], uint64(ts))
	b = append(b, side)
	b, err := o.keys.enc(b, k)
	o.kbuf = b
	return b, err
}

func (o *outerBuffer[K, VL, VR]) add(k K, side byte, ts int64, l VL, r VR) error {
	kb, err := o.key(k, side, ts)
	if err != nil {
		return err
	}
	cur, _, err := o.raw.Get(kb)
	if err != nil {
		return err
	}
	var vb []byte
	if side == leftSide {
		vb, err = o.lv.enc(nil, l)
	} else {
		vb, err = o.rv.enc(nil, r)
	}
	if err != nil {
		return fmt.Errorf("store %s: encode value: %w", o.name, err)
	}
	o.vbuf = append(append(o.vbuf[:0], cur...), binary.AppendUvarint(nil, uint64(len(vb)))...)
	o.vbuf = append(o.vbuf, vb...)
	return o.raw.Put(kb, o.vbuf)
}

func (o *outerBuffer[K, VL, VR]) remove(k K, side byte, ts int64) error {
	kb, err := o.key(k, side, ts)
	if err != nil {
		return err
	}
	return o.raw.Delete(kb)
}

// emitClosed emits the buffered records whose window has closed at
// stream time now: a left record at t closes after t+leftClose, a right
// one after t+rightClose.
func (o *outerBuffer[K, VL, VR]) emitClosed(now, leftClose, rightClose int64, withRight bool, emit func(k K, l *VL, r *VR, ts int64) error) error {
	bound := now - min(leftClose, rightClose)
	if bound <= 0 {
		return nil
	}
	o.limit = binary.BigEndian.AppendUint64(o.limit[:0], uint64(bound))
	it, err := o.raw.Range(nil, o.limit)
	if err != nil {
		return err
	}
	defer it.Close()
	for it.Next() {
		key := it.Key()
		ts := int64(binary.BigEndian.Uint64(key))
		side := key[8]
		if (side == leftSide && ts+leftClose >= now) || (side == rightSide && ts+rightClose >= now) {
			continue
		}
		k, err := o.keys.dec(key[9:])
		if err != nil {
			return fmt.Errorf("store %s: decode key: %w", o.name, err)
		}
		list := append([]byte(nil), it.Value()...)
		if err := o.raw.Delete(key); err != nil {
			return err
		}
		for len(list) > 0 {
			n, w := binary.Uvarint(list)
			if w <= 0 || uint64(len(list)-w) < n {
				return fmt.Errorf("store %s: corrupt buffered value", o.name)
			}
			vb := list[w : w+int(n)]
			list = list[w+int(n):]
			if side == leftSide {
				v, err := o.lv.dec(vb)
				if err != nil {
					return err
				}
				if err := emit(k, &v, nil, ts); err != nil {
					return err
				}
			} else if withRight {
				v, err := o.rv.dec(vb)
				if err != nil {
					return err
				}
				if err := emit(k, nil, &v, ts); err != nil {
					return err
				}
			}
		}
	}
	return it.Close()
}

// JoinTable joins each stream record with the table's current value for
// its key; records whose key is not in the table are dropped. The stream
// is repartitioned first if its key changed, and the table must be
// co-partitioned with it.
func JoinTable[K, V, VT, VO any](s KStream[K, V], t KTable[K, VT], joiner func(V, VT) VO, opts ...StepOption) KStream[K, VO] {
	return joinTable(s, t, false, func(v V, tv *VT) VO { return joiner(v, *tv) }, opts)
}

// LeftJoinTable is JoinTable that also passes records whose key is not in
// the table, with nil for the table's value.
func LeftJoinTable[K, V, VT, VO any](s KStream[K, V], t KTable[K, VT], joiner func(V, *VT) VO, opts ...StepOption) KStream[K, VO] {
	return joinTable(s, t, true, joiner, opts)
}

func joinTable[K, V, VT, VO any](s KStream[K, V], t KTable[K, VT], left bool, joiner func(V, *VT) VO, opts []StepOption) KStream[K, VO] {
	b := s.b
	prefix := "KSTREAM-JOIN"
	if left {
		prefix = "KSTREAM-LEFTJOIN"
	}
	c := b.configure(prefix, opts, optKeySerde, optValueSerde)
	name := b.stepName(c, prefix)
	s.keys = serdeOption(b, name, "key", c.keySerde, s.keys)
	s.values = serdeOption(b, name, "value", c.valueSerde, s.values)
	s = s.partitioned(name)
	lookup := t.lookup
	node := processor(b, name, t.stores, []*topology.Node{s.node}, func(bd *topology.Build, next forward[K, VO]) (any, error) {
		get, err := lookup(bd)
		if err != nil {
			return nil, err
		}
		return receiveFunc[K, V](func(r Record[K, V]) error {
			tv, _, ok, err := get(r.Key)
			if err != nil {
				return err
			}
			if !ok {
				if !left {
					return nil
				}
				return next.send(Record[K, VO]{Key: r.Key, Value: joiner(r.Value, nil), Timestamp: r.Timestamp, Headers: r.Headers})
			}
			return next.send(Record[K, VO]{Key: r.Key, Value: joiner(r.Value, &tv), Timestamp: r.Timestamp, Headers: r.Headers})
		}), nil
	})
	b.g.Copart = append(b.g.Copart, topology.CoPartition{Step: name, Nodes: []*topology.Node{s.node, t.node}})
	return KStream[K, VO]{b: b, node: node, keys: s.keys, values: defaultSerde[VO]()}
}

// GlobalKTable is a table every instance holds in full, fed from all
// partitions of its topic; joins with it need no co-partitioning.
type GlobalKTable[K, V any] struct {
	b      *Builder
	store  string
	keys   Serde[K]
	values Serde[V]
}

// GlobalTable reads topic into a global table; opts take Materialized
// (the store name; default <topic>-GLOBAL-STORE).
func GlobalTable[K, V any](b *Builder, topic string, keys Serde[K], values Serde[V], opts ...StepOption) GlobalKTable[K, V] {
	c := b.configure("GLOBALKTABLE", opts, optStore)
	store := c.store
	if store == "" {
		store = topic + "-GLOBAL-STORE"
	}
	if topic == "" {
		b.g.Errorf("step GlobalTable: the topic is empty")
	}
	if keys == nil || values == nil {
		b.g.Errorf("step GlobalTable %s: a global table needs a key and a value serde", topic)
	}
	b.g.AddStore(&topology.Store{Name: store, Kind: topology.KeyValueStore, Global: true, Query: kvQuery(keys, values)}, "GlobalTable "+topic)
	b.g.Globals = append(b.g.Globals, &topology.GlobalSource{Topic: topic, Store: store,
		Build: func(bd *topology.Build) (topology.Source, error) {
			raw, err := bd.Store(store)
			if err != nil {
				return nil, err
			}
			return &globalSource{store: raw.(state.KeyValueStore)}, nil
		}})
	return GlobalKTable[K, V]{b: b, store: store, keys: keys, values: values}
}

// globalSource writes a global table's records into its store as they
// come: value behind its timestamp, a tombstone deleting the key. It does
// not decode them: the topic is the store's changelog.
type globalSource struct {
	store state.KeyValueStore
	buf   []byte
}

func (g *globalSource) Process(ctx *topology.Context, in *topology.Input) error {
	if in.Value == nil {
		return g.store.Delete(in.Key)
	}
	g.buf = binary.BigEndian.AppendUint64(g.buf[:0], uint64(in.Timestamp))
	g.buf = append(g.buf, in.Value...)
	return g.store.Put(in.Key, g.buf)
}

// JoinGlobal joins each stream record with the global table's value for
// the key keyFn picks; records with no match are dropped.
func JoinGlobal[K, V, GK, GV, VO any](s KStream[K, V], g GlobalKTable[GK, GV], keyFn func(K, V) GK, joiner func(V, GV) VO, opts ...StepOption) KStream[K, VO] {
	return joinGlobal(s, g, keyFn, false, func(v V, gv *GV) VO { return joiner(v, *gv) }, opts)
}

// LeftJoinGlobal is JoinGlobal that also passes records with no match,
// with nil for the table's value.
func LeftJoinGlobal[K, V, GK, GV, VO any](s KStream[K, V], g GlobalKTable[GK, GV], keyFn func(K, V) GK, joiner func(V, *GV) VO, opts ...StepOption) KStream[K, VO] {
	return joinGlobal(s, g, keyFn, true, joiner, opts)
}

func joinGlobal[K, V, GK, GV, VO any](s KStream[K, V], g GlobalKTable[GK, GV], keyFn func(K, V) GK, left bool, joiner func(V, *GV) VO, opts []StepOption) KStream[K, VO] {
	b := s.b
	prefix := "KSTREAM-JOIN"
	if left {
		prefix = "KSTREAM-LEFTJOIN"
	}
	c := b.configure(prefix, opts)
	name := b.stepName(c, prefix)
	store, keys, values := g.store, g.keys, g.values
	node := processor(b, name, []string{store}, []*topology.Node{s.node}, func(bd *topology.Build, next forward[K, VO]) (any, error) {
		ts, err := openTableStore(bd, store, keys, values, false)
		if err != nil {
			return nil, err
		}
		return receiveFunc[K, V](func(r Record[K, V]) error {
			gv, _, ok, err := ts.get(keyFn(r.Key, r.Value))
			if err != nil {
				return err
			}
			if !ok {
				if !left {
					return nil
				}
				return next.send(Record[K, VO]{Key: r.Key, Value: joiner(r.Value, nil), Timestamp: r.Timestamp, Headers: r.Headers})
			}
			return next.send(Record[K, VO]{Key: r.Key, Value: joiner(r.Value, &gv), Timestamp: r.Timestamp, Headers: r.Headers})
		}), nil
	})
	return KStream[K, VO]{b: b, node: node, keys: s.keys, values: defaultSerde[VO](), rekeyed: s.rekeyed}
}
