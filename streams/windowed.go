package streams

import (
	"fmt"
	"time"

	"github.com/tributary-streams/tributary/streams/internal/topology"
	"github.com/tributary-streams/tributary/streams/state"
)

// TimeWindowedKStream is a grouped stream split into time or sliding
// windows, ready to aggregate per (key, window).
type TimeWindowedKStream[K, V any] struct {
	g KGroupedStream[K, V]
	w windowInfo
}

// WindowedBy splits a grouped stream into windows: TumblingWindows,
// HoppingWindows or SlidingWindowsOf. It is a function, not a method: its
// results are keyed by Windowed[K], a new key type.
func WindowedBy[K, V any](g KGroupedStream[K, V], w Windows) TimeWindowedKStream[K, V] {
	var info windowInfo
	if w == nil {
		info.err = fmt.Errorf("WindowedBy: nil windows")
	} else {
		info = w.windowSpec()
	}
	return TimeWindowedKStream[K, V]{g: g, w: info}
}

// Count counts the records of each key in each window; opts take Named,
// Materialized, WithKeySerde, WithLogging and WithRetention.
func (w TimeWindowedKStream[K, V]) Count(opts ...StepOption) KTable[Windowed[K], int64] {
	return aggregateWindows(w, func(_ K, _ V, n int64, _ bool) int64 { return n + 1 }, Int64(), opts)
}

// Reduce combines each key's values in each window.
func (w TimeWindowedKStream[K, V]) Reduce(fn func(agg, v V) V, opts ...StepOption) KTable[Windowed[K], V] {
	return aggregateWindows(w, func(_ K, v V, agg V, has bool) V {
		if !has {
			return v
		}
		return fn(agg, v)
	}, w.g.s.values, opts)
}

// AggregateWindows folds each key's values in each window into an
// aggregate that starts as init().
func AggregateWindows[K, V, VA any](w TimeWindowedKStream[K, V], init func() VA, agg func(k K, v V, agg VA) VA, opts ...StepOption) KTable[Windowed[K], VA] {
	return aggregateWindows(w, func(k K, v V, cur VA, has bool) VA {
		if !has {
			cur = init()
		}
		return agg(k, v, cur)
	}, defaultSerde[VA](), opts)
}

var windowedOptions = []optionKind{optStore, optKeySerde, optValueSerde, optLogging, optRetention}

// windowedStep is the common part of the windowed aggregations: names,
// serdes, store and repartitioning.
type windowedStep[K, VA any] struct {
	name, store string
	in          *topology.Node
	keys        Serde[K]
	values      Serde[VA]
	retention   time.Duration
}

func newWindowedStep[K, V, VA any](g KGroupedStream[K, V], w windowInfo, prefix string, values Serde[VA], opts []StepOption) windowedStep[K, VA] {
	b := g.s.b
	c := b.configure(prefix, opts, windowedOptions...)
	st := windowedStep[K, VA]{name: b.stepName(c, prefix)}
	if w.err != nil {
		b.g.Errorf("step %s: %v", st.name, w.err)
	}
	st.store = c.store
	if st.store == "" {
		st.store = b.g.NextName(prefix + "-STATE-STORE")
	}
	base := g.name
	if base == "" {
		base = st.store
	}
	s := g.s.partitioned(base)
	st.in = s.node
	st.keys = serdeOption(b, st.name, "key", c.keySerde, s.keys)
	st.values = serdeOption(b, st.name, "value", c.valueSerde, values)
	needSerde(b, st.name, "key", "the store "+st.store, st.keys)
	needSerde(b, st.name, "value", "the store "+st.store, st.values)
	// Kafka Streams' default: keep a window for its size plus the grace
	// period; a shorter retention would drop windows still open.
	least := time.Duration(w.size+w.grace) * time.Millisecond
	st.retention = c.retention
	if st.retention == 0 {
		st.retention = least
	} else if st.retention < least {
		b.g.Errorf("step %s: retention %s is shorter than the window size plus grace (%s)", st.name, st.retention, least)
	}
	st.retention = max(st.retention, time.Millisecond)
	b.g.AddStore(&topology.Store{Name: st.store, Kind: topology.WindowStore, Logged: c.logging,
		Window: state.WindowOptions{Retention: st.retention}, ChangelogRetention: st.retention + 24*time.Hour,
		Query: windowQuery(st.keys, st.values, w)}, st.name)
	return st
}

func aggregateWindows[K, V, VA any](w TimeWindowedKStream[K, V], fold aggregation[K, V, VA], values Serde[VA], opts []StepOption) KTable[Windowed[K], VA] {
	if w.w.kind == slidingWindowKind {
		return aggregateSliding(w, fold, values, opts)
	}
	b := w.g.s.b
	st := newWindowedStep(w.g, w.w, "KSTREAM-WINDOWED-AGGREGATE", values, opts)
	spec := w.w
	keys, vals, store, name := st.keys, st.values, st.store, st.name
	node := processor(b, name, []string{store}, []*topology.Node{st.in}, func(bd *topology.Build, next forward[Windowed[K], change[VA]]) (any, error) {
		ws, err := openWindowStore(bd, store, keys, vals)
		if err != nil {
			return nil, err
		}
		ctx := bd.Ctx
		return receiveFunc[K, V](func(r Record[K, V]) error {
			open := false
			err := spec.starts(r.Timestamp, func(start int64) error {
				win := Window{Start: start, End: start + spec.size}
				if ctx.StreamTime() >= spec.closesAt(win) {
					return nil // this window closed; the record may still be in time for a later one
				}
				open = true
				cur, curTs, has, err := ws.get(r.Key, start)
				if err != nil {
					return err
				}
				nv := fold(r.Key, r.Value, cur, has)
				ts := max(r.Timestamp, curTs)
				if err := ws.put(r.Key, start, nv, true, ts); err != nil {
					return err
				}
				return next.send(Record[Windowed[K], change[VA]]{Key: Windowed[K]{Key: r.Key, Window: win},
					Value: change[VA]{New: nv, HasNew: true, Old: cur, HasOld: has}, Timestamp: ts})
			})
			if err == nil && !open {
				ctx.Stats.Late.Add(1)
			}
			return err
		}), nil
	})
	return KTable[Windowed[K], VA]{b: b, node: node, keys: windowedSerde(keys, spec), values: vals, stores: []string{store},
		windowed: &spec, lookup: windowLookup(store, keys, vals)}
}

func windowedSerde[K any](keys Serde[K], w windowInfo) Serde[Windowed[K]] {
	if keys == nil {
		return nil
	}
	if w.kind == sessionWindowKind {
		return SessionWindowedSerde(keys)
	}
	return TimeWindowedSerde(keys, time.Duration(w.size)*time.Millisecond)
}

// windowLookup reads a windowed table by (key, window).
func windowLookup[K, V any](store string, keys Serde[K], values Serde[V]) func(bd *topology.Build) (getter[Windowed[K], V], error) {
	return func(bd *topology.Build) (getter[Windowed[K], V], error) {
		ws, err := openWindowStore(bd, store, keys, values)
		if err != nil {
			return nil, err
		}
		return func(k Windowed[K]) (V, int64, bool, error) { return ws.get(k.Key, k.Window.Start) }, nil
	}
}

// aggregateSliding aggregates over sliding windows. For a time difference
// D, the windows are [t-D, t] for every record time t (clamped at 0), and
// [t+1, t+1+D] for every t with a record in (t, t+1+D]: each distinct set
// of records within D of each other. A window's aggregate folds exactly
// the records it holds; the records are kept (for D plus grace) in a
// second store so that a window created late, by an out-of-order record,
// is folded from them.
func aggregateSliding[K, V, VA any](w TimeWindowedKStream[K, V], fold aggregation[K, V, VA], values Serde[VA], opts []StepOption) KTable[Windowed[K], VA] {
	b := w.g.s.b
	st := newWindowedStep(w.g, w.w, "KSTREAM-SLIDINGWINDOWED-AGGREGATE", values, opts)
	spec := w.w
	keys, vals, store, name := st.keys, st.values, st.store, st.name
	inValues := w.g.s.values
	needSerde(b, name, "value", "the record buffer of the sliding windows", inValues)
	buffer := store + "-records"
	b.g.AddStore(&topology.Store{Name: buffer, Kind: topology.WindowStore, Logged: true,
		Window:             state.WindowOptions{Retention: st.retention + time.Millisecond, RetainDuplicates: true},
		ChangelogRetention: st.retention + 24*time.Hour}, name)
	D := spec.size
	node := processor(b, name, []string{store, buffer}, []*topology.Node{st.in}, func(bd *topology.Build, next forward[Windowed[K], change[VA]]) (any, error) {
		ws, err := openWindowStore(bd, store, keys, vals)
		if err != nil {
			return nil, err
		}
		recs, err := openWindowStore(bd, buffer, keys, inValues)
		if err != nil {
			return nil, err
		}
		ctx := bd.Ctx
		closed := func(start int64) bool {
			return ctx.StreamTime() >= spec.closesAt(Window{Start: start, End: start + D})
		}
		emit := func(k K, start int64, nv VA, old VA, had bool, ts int64) error {
			return next.send(Record[Windowed[K], change[VA]]{Key: Windowed[K]{Key: k, Window: Window{Start: start, End: start + D}},
				Value: change[VA]{New: nv, HasNew: true, Old: old, HasOld: had}, Timestamp: ts})
		}
		// create folds the buffered records of window [start, start+D] into a
		// new window.
		create := func(k K, start int64) error {
			var agg VA
			has := false
			ts := int64(0)
			err := recs.fetch(k, start, start+D, func(_ int64, v V, rts int64) error {
				agg, has, ts = fold(k, v, agg, has), true, max(ts, rts)
				return nil
			})
			if err != nil || !has {
				return err
			}
			if err := ws.put(k, start, agg, true, ts); err != nil {
				return err
			}
			var zero VA
			return emit(k, start, agg, zero, false, ts)
		}
		return receiveFunc[K, V](func(r Record[K, V]) error {
			t := r.Timestamp
			left := max(0, t-D)
			if closed(left) && closed(t+1) {
				ctx.Stats.Late.Add(1)
				return nil
			}
			if err := recs.put(r.Key, t, r.Value, true, t); err != nil {
				return err
			}
			// Existing windows that hold t take the record.
			existing := map[int64]bool{}
			err := ws.fetch(r.Key, max(0, t-D), t, func(start int64, cur VA, curTs int64) error {
				existing[start] = true
				if closed(start) {
					return nil
				}
				nv := fold(r.Key, r.Value, cur, true)
				ts := max(t, curTs)
				if err := ws.put(r.Key, start, nv, true, ts); err != nil {
					return err
				}
				return emit(r.Key, start, nv, cur, true, ts)
			})
			if err != nil {
				return err
			}
			// The windows t brings about: its left window, the right windows
			// of the records up to D+1 before it (t is now in them), and its
			// own right window if records follow within D.
			var starts []int64
			starts = append(starts, left)
			err = recs.fetch(r.Key, max(0, t-D-1), t-1, func(x int64, _ V, _ int64) error {
				starts = append(starts, x+1)
				return nil
			})
			if err != nil {
				return err
			}
			later := false
			if err := recs.fetch(r.Key, t+1, t+1+D, func(int64, V, int64) error { later = true; return nil }); err != nil {
				return err
			}
			if later {
				starts = append(starts, t+1)
			}
			for _, s := range starts {
				if existing[s] || closed(s) {
					continue
				}
				existing[s] = true
				if err := create(r.Key, s); err != nil {
					return err
				}
			}
			return nil
		}), nil
	})
	return KTable[Windowed[K], VA]{b: b, node: node, keys: windowedSerde(keys, spec), values: vals, stores: []string{store},
		windowed: &spec, lookup: windowLookup(store, keys, vals)}
}

// SessionWindowedKStream is a grouped stream split into sessions.
type SessionWindowedKStream[K, V any] struct {
	g KGroupedStream[K, V]
	w windowInfo
}

// WindowedBySession splits a grouped stream into sessions of activity.
func WindowedBySession[K, V any](g KGroupedStream[K, V], w SessionWindows) SessionWindowedKStream[K, V] {
	return SessionWindowedKStream[K, V]{g: g, w: w.spec()}
}

// Count counts each key's records per session.
func (w SessionWindowedKStream[K, V]) Count(opts ...StepOption) KTable[Windowed[K], int64] {
	return aggregateSessions(w, func(_ K, _ V, n int64, _ bool) int64 { return n + 1 },
		func(_ K, a, b int64) int64 { return a + b }, func() int64 { return 0 }, Int64(), opts)
}

// Reduce combines each key's values per session; merging two sessions
// reduces their results.
func (w SessionWindowedKStream[K, V]) Reduce(fn func(agg, v V) V, opts ...StepOption) KTable[Windowed[K], V] {
	var zero V
	return aggregateSessions(w, func(_ K, v V, agg V, has bool) V {
		if !has {
			return v
		}
		return fn(agg, v)
	}, func(_ K, a, b V) V { return fn(a, b) }, func() V { return zero }, w.g.s.values, opts)
}

// AggregateSessions folds each key's values per session into an aggregate
// that starts as init(); merge combines the aggregates of two sessions a
// record bridges.
func AggregateSessions[K, V, VA any](w SessionWindowedKStream[K, V], init func() VA, agg func(k K, v V, agg VA) VA, merge func(k K, a, b VA) VA, opts ...StepOption) KTable[Windowed[K], VA] {
	return aggregateSessions(w, func(k K, v V, cur VA, has bool) VA {
		if !has {
			cur = init()
		}
		return agg(k, v, cur)
	}, merge, init, defaultSerde[VA](), opts)
}

func aggregateSessions[K, V, VA any](w SessionWindowedKStream[K, V], fold aggregation[K, V, VA], merge func(K, VA, VA) VA, init func() VA, values Serde[VA], opts []StepOption) KTable[Windowed[K], VA] {
	b := w.g.s.b
	spec := w.w
	prefix := "KSTREAM-SESSION-WINDOWED-AGGREGATE"
	c := b.configure(prefix, opts, windowedOptions...)
	name := b.stepName(c, prefix)
	if spec.err != nil {
		b.g.Errorf("step %s: %v", name, spec.err)
	}
	store := c.store
	if store == "" {
		store = b.g.NextName(prefix + "-STATE-STORE")
	}
	base := w.g.name
	if base == "" {
		base = store
	}
	s := w.g.s.partitioned(base)
	keys := serdeOption(b, name, "key", c.keySerde, s.keys)
	vals := serdeOption(b, name, "value", c.valueSerde, values)
	needSerde(b, name, "key", "the store "+store, keys)
	needSerde(b, name, "value", "the store "+store, vals)
	retention := c.retention
	least := time.Duration(spec.size+spec.grace) * time.Millisecond
	if retention == 0 {
		retention = least
	} else if retention < least {
		b.g.Errorf("step %s: retention %s is shorter than the gap plus grace (%s)", name, retention, least)
	}
	retention = max(retention, time.Millisecond)
	b.g.AddStore(&topology.Store{Name: store, Kind: topology.SessionStore, Logged: c.logging,
		Session: state.SessionOptions{Retention: retention}, ChangelogRetention: retention + 24*time.Hour}, name)
	gap := spec.size
	node := processor(b, name, []string{store}, []*topology.Node{s.node}, func(bd *topology.Build, next forward[Windowed[K], change[VA]]) (any, error) {
		ss, err := openSessionStore(bd, store, keys, vals)
		if err != nil {
			return nil, err
		}
		ctx := bd.Ctx
		return receiveFunc[K, V](func(r Record[K, V]) error {
			t := r.Timestamp
			found, err := ss.find(r.Key, t-gap, t+gap)
			if err != nil {
				return err
			}
			merged := Window{Start: t, End: t}
			agg := init()
			has := false
			ts := t
			for _, s := range found {
				merged.Start, merged.End = min(merged.Start, s.win.Start), max(merged.End, s.win.End)
				if has {
					agg = merge(r.Key, agg, s.v)
				} else {
					agg, has = s.v, true
				}
				ts = max(ts, s.ts)
			}
			if ctx.StreamTime() >= spec.closesAt(merged) {
				ctx.Stats.Late.Add(1)
				return nil
			}
			var old VA
			oldHas := false
			for _, s := range found {
				if s.win == merged {
					old, oldHas = s.v, true
					continue
				}
				if err := ss.put(r.Key, s.win, s.v, false, 0); err != nil {
					return err
				}
				if err := next.send(Record[Windowed[K], change[VA]]{Key: Windowed[K]{Key: r.Key, Window: s.win},
					Value: change[VA]{Old: s.v, HasOld: true}, Timestamp: s.ts}); err != nil {
					return err
				}
			}
			agg = fold(r.Key, r.Value, agg, has)
			if err := ss.put(r.Key, merged, agg, true, ts); err != nil {
				return err
			}
			return next.send(Record[Windowed[K], change[VA]]{Key: Windowed[K]{Key: r.Key, Window: merged},
				Value: change[VA]{New: agg, HasNew: true, Old: old, HasOld: oldHas}, Timestamp: ts})
		}), nil
	})
	return KTable[Windowed[K], VA]{b: b, node: node, keys: windowedSerde(keys, spec), values: vals, stores: []string{store},
		windowed: &spec, lookup: sessionLookup(store, keys, vals)}
}

func sessionLookup[K, V any](store string, keys Serde[K], values Serde[V]) func(bd *topology.Build) (getter[Windowed[K], V], error) {
	return func(bd *topology.Build) (getter[Windowed[K], V], error) {
		ss, err := openSessionStore(bd, store, keys, values)
		if err != nil {
			return nil, err
		}
		return func(k Windowed[K]) (V, int64, bool, error) {
			var zero V
			found, err := ss.find(k.Key, k.Window.End, k.Window.Start)
			if err != nil {
				return zero, 0, false, err
			}
			for _, s := range found {
				if s.win == k.Window {
					return s.v, s.ts, true, nil
				}
			}
			return zero, 0, false, nil
		}, nil
	}
}
