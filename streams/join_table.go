package streams

import (
	"github.com/tributary-streams/tributary/streams/internal/topology"
)

// JoinTables joins two tables on their key: a row is in the result while
// both sides have the key, with joiner(left, right) as its value. Each
// side's update looks the other side up; the tables must be
// co-partitioned.
func JoinTables[K, VL, VR, VO any](l KTable[K, VL], r KTable[K, VR], joiner func(VL, VR) VO, opts ...StepOption) KTable[K, VO] {
	return joinTables(l, r, innerJoin, func(lv *VL, rv *VR) (VO, bool) {
		if lv == nil || rv == nil {
			var zero VO
			return zero, false
		}
		return joiner(*lv, *rv), true
	}, opts)
}

// LeftJoinTables keeps every row of the left table, with nil for a
// missing right value.
func LeftJoinTables[K, VL, VR, VO any](l KTable[K, VL], r KTable[K, VR], joiner func(VL, *VR) VO, opts ...StepOption) KTable[K, VO] {
	return joinTables(l, r, leftJoin, func(lv *VL, rv *VR) (VO, bool) {
		if lv == nil {
			var zero VO
			return zero, false
		}
		return joiner(*lv, rv), true
	}, opts)
}

// OuterJoinTables keeps every key of either table, with nil for the side
// that lacks it.
func OuterJoinTables[K, VL, VR, VO any](l KTable[K, VL], r KTable[K, VR], joiner func(*VL, *VR) VO, opts ...StepOption) KTable[K, VO] {
	return joinTables(l, r, outerJoin, func(lv *VL, rv *VR) (VO, bool) {
		if lv == nil && rv == nil {
			var zero VO
			return zero, false
		}
		return joiner(lv, rv), true
	}, opts)
}

func ptr[V any](v V, ok bool) *V {
	if !ok {
		return nil
	}
	return &v
}

// joinTables wires both sides: an update on one side joins its new and
// old values with the other side's current value, and the two results
// are the change downstream.
func joinTables[K, VL, VR, VO any](l KTable[K, VL], r KTable[K, VR], kind joinKind, join func(*VL, *VR) (VO, bool), opts []StepOption) KTable[K, VO] {
	b := l.b
	prefix := [...]string{"KTABLE-JOIN", "KTABLE-LEFTJOIN", "KTABLE-OUTERJOIN"}[kind]
	c := b.configure(prefix, opts, optValueSerde)
	name := b.stepName(c, prefix)
	stores := append(append([]string(nil), l.stores...), r.stores...)
	lookupL, lookupR := l.lookup, r.lookup
	thisNode := processor(b, name+"-this", stores, []*topology.Node{l.node}, func(bd *topology.Build, next forward[K, change[VO]]) (any, error) {
		other, err := lookupR(bd)
		if err != nil {
			return nil, err
		}
		return receiveFunc[K, change[VL]](func(rec Record[K, change[VL]]) error {
			rv, rts, rok, err := other(rec.Key)
			if err != nil {
				return err
			}
			var out change[VO]
			out.New, out.HasNew = join(ptr(rec.Value.New, rec.Value.HasNew), ptr(rv, rok))
			out.Old, out.HasOld = join(ptr(rec.Value.Old, rec.Value.HasOld), ptr(rv, rok))
			if !out.HasNew && !out.HasOld {
				return nil
			}
			return next.send(Record[K, change[VO]]{Key: rec.Key, Value: out, Timestamp: max(rec.Timestamp, rts)})
		}), nil
	})
	otherNode := processor(b, name+"-other", stores, []*topology.Node{r.node}, func(bd *topology.Build, next forward[K, change[VO]]) (any, error) {
		this, err := lookupL(bd)
		if err != nil {
			return nil, err
		}
		return receiveFunc[K, change[VR]](func(rec Record[K, change[VR]]) error {
			lv, lts, lok, err := this(rec.Key)
			if err != nil {
				return err
			}
			var out change[VO]
			out.New, out.HasNew = join(ptr(lv, lok), ptr(rec.Value.New, rec.Value.HasNew))
			out.Old, out.HasOld = join(ptr(lv, lok), ptr(rec.Value.Old, rec.Value.HasOld))
			if !out.HasNew && !out.HasOld {
				return nil
			}
			return next.send(Record[K, change[VO]]{Key: rec.Key, Value: out, Timestamp: max(rec.Timestamp, lts)})
		}), nil
	})
	b.g.Copart = append(b.g.Copart, topology.CoPartition{Step: name, Nodes: []*topology.Node{l.node, r.node}})
	merge := processor(b, name+"-merge", nil, []*topology.Node{thisNode, otherNode}, func(_ *topology.Build, next forward[K, change[VO]]) (any, error) {
		return receiveFunc[K, change[VO]](next.send), nil
	})
	return KTable[K, VO]{b: b, node: merge, keys: l.keys, values: serdeOption(b, name, "value", c.valueSerde, defaultSerde[VO]()),
		stores: stores,
		lookup: func(bd *topology.Build) (getter[K, VO], error) {
			gl, err := lookupL(bd)
			if err != nil {
				return nil, err
			}
			gr, err := lookupR(bd)
			if err != nil {
				return nil, err
			}
			return func(k K) (VO, int64, bool, error) {
				lv, lts, lok, err := gl(k)
				if err != nil {
					var zero VO
					return zero, 0, false, err
				}
				rv, rts, rok, err := gr(k)
				if err != nil {
					var zero VO
					return zero, 0, false, err
				}
				v, ok := join(ptr(lv, lok), ptr(rv, rok))
				return v, max(lts, rts), ok, nil
			}, nil
		}}
}
