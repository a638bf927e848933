package streams

import (
	"encoding/binary"
	"fmt"

	"github.com/tributary-streams/tributary/streams/internal/topology"
	"github.com/tributary-streams/tributary/streams/state"
)

// Suppression says what Suppress holds back.
type Suppression struct {
	untilWindowCloses bool
}

// UntilWindowCloses holds each window's updates back until the window
// closes (stream time passes its end plus the grace period), then emits
// its final result once: Kafka Streams' Suppressed.untilWindowCloses with
// an unbounded buffer. The buffer is a store, changelogged like any other,
// so a restarted task emits what it held.
func UntilWindowCloses() Suppression { return Suppression{untilWindowCloses: true} }

// Suppress holds back a windowed table's updates as s says. Stream time
// is the task's: a window is emitted when a later record arrives (for any
// key) and moves stream time past its close. It is a function, not a
// method, because it needs the windowed key type.
func Suppress[K, V any](t KTable[Windowed[K], V], s Suppression, opts ...StepOption) KTable[Windowed[K], V] {
	b := t.b
	c := b.configure("KTABLE-SUPPRESS", opts, optStore, optLogging)
	name := b.stepName(c, "KTABLE-SUPPRESS")
	if !s.untilWindowCloses {
		b.g.Errorf("step %s: a Suppression must come from streams.UntilWindowCloses()", name)
	}
	if t.windowed == nil {
		b.g.Errorf("step %s: Suppress(UntilWindowCloses()) needs the result of a windowed aggregation", name)
		return t
	}
	store := c.store
	if store == "" {
		store = b.g.NextName("KTABLE-SUPPRESS-STATE-STORE")
	}
	keys, values := t.keys, t.values
	needSerde(b, name, "key", "the suppression buffer", keys)
	needSerde(b, name, "value", "the suppression buffer", values)
	b.g.AddStore(&topology.Store{Name: store, Kind: topology.KeyValueStore, Logged: c.logging}, name)
	spec := *t.windowed
	node := processor(b, name, []string{store}, []*topology.Node{t.node}, func(bd *topology.Build, next forward[Windowed[K], change[V]]) (any, error) {
		raw, err := bd.Store(store)
		if err != nil {
			return nil, err
		}
		buf, ok := raw.(state.KeyValueStore)
		if !ok {
			return nil, fmt.Errorf("store %s is not a key-value store", store)
		}
		kc, vc := newCodec(keys), newCodec(values)
		ctx := bd.Ctx
		var kb, vb, limit []byte
		evict := func() error {
			limit = binary.BigEndian.AppendUint64(limit[:0], uint64(ctx.StreamTime()+1))
			it, err := buf.Range(nil, limit)
			if err != nil {
				return err
			}
			defer it.Close()
			for it.Next() {
				k, err := kc.dec(it.Key()[8:])
				if err != nil {
					return fmt.Errorf("step %s: decode buffered key: %w", name, err)
				}
				val := it.Value()
				if len(val) < 8 {
					return fmt.Errorf("step %s: a buffered value of %d bytes has no timestamp", name, len(val))
				}
				v, err := vc.dec(val[8:])
				if err != nil {
					return fmt.Errorf("step %s: decode buffered value: %w", name, err)
				}
				ts := int64(binary.BigEndian.Uint64(val))
				if err := buf.Delete(it.Key()); err != nil {
					return err
				}
				if err := next.send(Record[Windowed[K], change[V]]{Key: k, Value: change[V]{New: v, HasNew: true}, Timestamp: ts}); err != nil {
					return err
				}
			}
			return it.Close()
		}
		return receiveFunc[Windowed[K], change[V]](func(r Record[Windowed[K], change[V]]) error {
			kb = binary.BigEndian.AppendUint64(kb[:0], uint64(spec.closesAt(r.Key.Window)))
			if kb, err = kc.enc(kb, r.Key); err != nil {
				return fmt.Errorf("step %s: encode key: %w", name, err)
			}
			if !r.Value.HasNew {
				// A window that went away (a merged session) is never final.
				if err := buf.Delete(kb); err != nil {
					return err
				}
			} else {
				vb = binary.BigEndian.AppendUint64(vb[:0], uint64(r.Timestamp))
				if vb, err = vc.enc(vb, r.Value.New); err != nil {
					return fmt.Errorf("step %s: encode value: %w", name, err)
				}
				if err := buf.Put(kb, vb); err != nil {
					return err
				}
			}
			return evict()
		}), nil
	})
	return t.with(node, t.lookup)
}
