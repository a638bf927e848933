package streams

import (
	"encoding/binary"
	"fmt"

	"github.com/tributary-streams/tributary/streams/internal/topology"
	"github.com/tributary-streams/tributary/streams/state"
)

// change is what a table forwards: a key's new value and the one
// downstream saw before, either of which may be absent (an insert, a
// deletion).
type change[V any] struct {
	New, Old       V
	HasNew, HasOld bool
}

// tableStore is a typed key-value store of timestamped values: a table's
// materialization. Values are stored as Kafka Streams' timestamped stores
// keep them: the timestamp (8 bytes, big-endian), then the value.
//
// With caching on, it keeps decoded values and the updates since the last
// flush, so that a key updated many times between commits is written to
// the store, the changelog and downstream once, and reads skip decoding.
// flush runs at every commit (and when the cache is over its budget).
type tableStore[K, V any] struct {
	name   string
	raw    state.KeyValueStore
	keys   codec[K]
	values codec[V]
	// emit forwards a key's change downstream; nil for none.
	emit func(k K, c change[V], ts int64) error

	cache  map[string]*cacheEntry[K, V] // nil: caching off
	dirty  []*cacheEntry[K, V]
	budget int
	used   int
	kbuf   []byte
	vbuf   []byte
}

type cacheEntry[K, V any] struct {
	key K
	val V
	ts  int64
	has bool
	// prev is what downstream saw last: the value at the last flush.
	prev    V
	prevHas bool
	dirty   bool
}

// cacheEntryBytes is what an entry costs the cache budget beyond its key.
const cacheEntryBytes = 96

// openTableStore returns the task's typed view of a key-value store,
// shared by every step of the task that reads or writes it.
func openTableStore[K, V any](bd *topology.Build, name string, keys Serde[K], values Serde[V], caching bool) (*tableStore[K, V], error) {
	v, err := bd.Shared("table:"+name, func() (any, error) {
		raw, err := bd.Store(name)
		if err != nil {
			return nil, err
		}
		kv, ok := raw.(state.KeyValueStore)
		if !ok {
			return nil, fmt.Errorf("store %s is not a key-value store", name)
		}
		s := &tableStore[K, V]{name: name, raw: kv, keys: newCodec(keys), values: newCodec(values)}
		if caching && bd.Ctx.Env.CacheBytes > 0 {
			s.cache = map[string]*cacheEntry[K, V]{}
			s.budget = bd.Ctx.Env.CacheBytes
		}
		return s, nil
	})
	if err != nil {
		return nil, err
	}
	s, ok := v.(*tableStore[K, V])
	if !ok {
		return nil, fmt.Errorf("store %s is shared by steps of different types", name)
	}
	return s, nil
}

func (s *tableStore[K, V]) encodeKey(k K) ([]byte, error) {
	kb, err := s.keys.enc(s.kbuf[:0], k)
	if err != nil {
		return nil, fmt.Errorf("store %s: encode key: %w", s.name, err)
	}
	s.kbuf = kb
	return kb, nil
}

// load reads a key from the store itself.
func (s *tableStore[K, V]) load(kb []byte) (v V, ts int64, ok bool, err error) {
	raw, ok, err := s.raw.Get(kb)
	if err != nil || !ok {
		return v, 0, false, err
	}
	if len(raw) < 8 {
		return v, 0, false, fmt.Errorf("store %s: a value of %d bytes has no timestamp", s.name, len(raw))
	}
	v, err = s.values.dec(raw[8:])
	if err != nil {
		return v, 0, false, fmt.Errorf("store %s: decode value: %w", s.name, err)
	}
	return v, int64(binary.BigEndian.Uint64(raw)), true, nil
}

func (s *tableStore[K, V]) entry(k K, kb []byte) (*cacheEntry[K, V], error) {
	if e := s.cache[string(kb)]; e != nil {
		return e, nil
	}
	v, ts, ok, err := s.load(kb)
	if err != nil {
		return nil, err
	}
	e := &cacheEntry[K, V]{key: k, val: v, ts: ts, has: ok, prev: v, prevHas: ok}
	s.cache[string(kb)] = e
	s.used += len(kb) + cacheEntryBytes
	return e, nil
}

// get reads a key's value.
func (s *tableStore[K, V]) get(k K) (v V, ts int64, ok bool, err error) {
	kb, err := s.encodeKey(k)
	if err != nil {
		return v, 0, false, err
	}
	if s.cache == nil {
		return s.load(kb)
	}
	e, err := s.entry(k, kb)
	if err != nil {
		return v, 0, false, err
	}
	return e.val, e.ts, e.has, nil
}

// put sets a key's value (has) or deletes it (!has).
func (s *tableStore[K, V]) put(k K, v V, has bool, ts int64) error {
	kb, err := s.encodeKey(k)
	if err != nil {
		return err
	}
	if s.cache == nil {
		old, _, oldHas, err := s.load(kb)
		if err != nil {
			return err
		}
		if err := s.write(kb, v, has, ts); err != nil {
			return err
		}
		if s.emit != nil {
			return s.emit(k, change[V]{New: v, HasNew: has, Old: old, HasOld: oldHas}, ts)
		}
		return nil
	}
	e, err := s.entry(k, kb)
	if err != nil {
		return err
	}
	if !e.dirty {
		e.dirty = true
		s.dirty = append(s.dirty, e)
	}
	e.val, e.has, e.ts = v, has, ts
	if s.used > s.budget {
		return s.flush()
	}
	return nil
}

func (s *tableStore[K, V]) write(kb []byte, v V, has bool, ts int64) error {
	if !has {
		return s.raw.Delete(kb)
	}
	b := binary.BigEndian.AppendUint64(s.vbuf[:0], uint64(ts))
	b, err := s.values.enc(b, v)
	if err != nil {
		return fmt.Errorf("store %s: encode value: %w", s.name, err)
	}
	s.vbuf = b
	return s.raw.Put(kb, b)
}

// flush writes the updates since the last flush to the store (and so the
// changelog) and forwards them, in the order keys were first updated.
func (s *tableStore[K, V]) flush() error {
	for i, e := range s.dirty {
		e.dirty = false
		kb, err := s.encodeKey(e.key)
		if err != nil {
			return err
		}
		if err := s.write(kb, e.val, e.has, e.ts); err != nil {
			return err
		}
		c := change[V]{New: e.val, HasNew: e.has, Old: e.prev, HasOld: e.prevHas}
		e.prev, e.prevHas = e.val, e.has
		if s.emit != nil && (c.HasNew || c.HasOld) {
			if err := s.emit(e.key, c, e.ts); err != nil {
				s.dirty = s.dirty[i+1:]
				return err
			}
		}
	}
	clear(s.dirty)
	s.dirty = s.dirty[:0]
	if s.used > s.budget {
		clear(s.cache)
		s.used = 0
	}
	return nil
}

// reset drops the cache without writing it: after an aborted transaction
// the store is back at its last commit, and so must the cache be.
func (s *tableStore[K, V]) reset() {
	if s.cache != nil {
		clear(s.cache)
		s.dirty = s.dirty[:0]
		s.used = 0
	}
}

// each walks the store in key order, cache first flushed so that it is
// complete.
func (s *tableStore[K, V]) each(fn func(k K, v V, ts int64) (bool, error)) error {
	if err := s.flush(); err != nil {
		return err
	}
	it, err := s.raw.Range(nil, nil)
	if err != nil {
		return err
	}
	defer it.Close()
	for it.Next() {
		k, err := s.keys.dec(it.Key())
		if err != nil {
			return fmt.Errorf("store %s: decode key: %w", s.name, err)
		}
		raw := it.Value()
		v, err := s.values.dec(raw[8:])
		if err != nil {
			return fmt.Errorf("store %s: decode value: %w", s.name, err)
		}
		more, err := fn(k, v, int64(binary.BigEndian.Uint64(raw)))
		if err != nil || !more {
			return err
		}
	}
	return it.Close()
}
