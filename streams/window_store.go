package streams

import (
	"encoding/binary"
	"fmt"

	"github.com/tributary-streams/tributary/streams/internal/topology"
	"github.com/tributary-streams/tributary/streams/state"
)

// windowStore is a typed window store of timestamped values (timestamp,
// then value, as in tableStore).
type windowStore[K, V any] struct {
	name   string
	raw    state.WindowStore
	keys   codec[K]
	values codec[V]
	kbuf   []byte
	vbuf   []byte
}

func openWindowStore[K, V any](bd *topology.Build, name string, keys Serde[K], values Serde[V]) (*windowStore[K, V], error) {
	v, err := bd.Shared("window:"+name, func() (any, error) {
		raw, err := bd.Store(name)
		if err != nil {
			return nil, err
		}
		ws, ok := raw.(state.WindowStore)
		if !ok {
			return nil, fmt.Errorf("store %s is not a window store", name)
		}
		return &windowStore[K, V]{name: name, raw: ws, keys: newCodec(keys), values: newCodec(values)}, nil
	})
	if err != nil {
		return nil, err
	}
	s, ok := v.(*windowStore[K, V])
	if !ok {
		return nil, fmt.Errorf("store %s is shared by steps of different types", name)
	}
	return s, nil
}

func (s *windowStore[K, V]) key(k K) ([]byte, error) {
	kb, err := s.keys.enc(s.kbuf[:0], k)
	if err != nil {
		return nil, fmt.Errorf("store %s: encode key: %w", s.name, err)
	}
	s.kbuf = kb
	return kb, nil
}

func (s *windowStore[K, V]) decode(raw []byte) (V, int64, error) {
	var v V
	if len(raw) < 8 {
		return v, 0, fmt.Errorf("store %s: a value of %d bytes has no timestamp", s.name, len(raw))
	}
	v, err := s.values.dec(raw[8:])
	if err != nil {
		return v, 0, fmt.Errorf("store %s: decode value: %w", s.name, err)
	}
	return v, int64(binary.BigEndian.Uint64(raw)), nil
}

func (s *windowStore[K, V]) get(k K, start int64) (v V, ts int64, ok bool, err error) {
	kb, err := s.key(k)
	if err != nil {
		return v, 0, false, err
	}
	raw, ok, err := s.raw.Get(kb, start)
	if err != nil || !ok {
		return v, 0, false, err
	}
	v, ts, err = s.decode(raw)
	return v, ts, err == nil, err
}

func (s *windowStore[K, V]) put(k K, start int64, v V, has bool, ts int64) error {
	kb, err := s.key(k)
	if err != nil {
		return err
	}
	if !has {
		return s.raw.Put(kb, start, nil)
	}
	b := binary.BigEndian.AppendUint64(s.vbuf[:0], uint64(ts))
	if b, err = s.values.enc(b, v); err != nil {
		return fmt.Errorf("store %s: encode value: %w", s.name, err)
	}
	s.vbuf = b
	return s.raw.Put(kb, start, b)
}

// fetch calls fn for each window of k starting in [from, to], oldest
// first.
func (s *windowStore[K, V]) fetch(k K, from, to int64, fn func(start int64, v V, ts int64) error) error {
	kb, err := s.key(k)
	if err != nil {
		return err
	}
	it, err := s.raw.Fetch(kb, from, to)
	if err != nil {
		return err
	}
	defer it.Close()
	for it.Next() {
		v, ts, err := s.decode(it.Value())
		if err != nil {
			return err
		}
		if err := fn(it.Start(), v, ts); err != nil {
			return err
		}
	}
	return it.Close()
}

// sessionStore is a typed session store of timestamped values.
type sessionStore[K, V any] struct {
	windowStore[K, V] // for key and value coding only
	sraw              state.SessionStore
}

func openSessionStore[K, V any](bd *topology.Build, name string, keys Serde[K], values Serde[V]) (*sessionStore[K, V], error) {
	v, err := bd.Shared("session:"+name, func() (any, error) {
		raw, err := bd.Store(name)
		if err != nil {
			return nil, err
		}
		ss, ok := raw.(state.SessionStore)
		if !ok {
			return nil, fmt.Errorf("store %s is not a session store", name)
		}
		return &sessionStore[K, V]{windowStore: windowStore[K, V]{name: name, keys: newCodec(keys), values: newCodec(values)}, sraw: ss}, nil
	})
	if err != nil {
		return nil, err
	}
	s, ok := v.(*sessionStore[K, V])
	if !ok {
		return nil, fmt.Errorf("store %s is shared by steps of different types", name)
	}
	return s, nil
}

type session[V any] struct {
	win Window
	v   V
	ts  int64
}

// find returns the sessions of k that end at or after earliestEnd and
// start at or before latestStart.
func (s *sessionStore[K, V]) find(k K, earliestEnd, latestStart int64) ([]session[V], error) {
	kb, err := s.key(k)
	if err != nil {
		return nil, err
	}
	it, err := s.sraw.Find(kb, earliestEnd, latestStart)
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []session[V]
	for it.Next() {
		v, ts, err := s.decode(it.Value())
		if err != nil {
			return nil, err
		}
		out = append(out, session[V]{win: Window{Start: it.Start(), End: it.End()}, v: v, ts: ts})
	}
	return out, it.Close()
}

func (s *sessionStore[K, V]) put(k K, w Window, v V, has bool, ts int64) error {
	kb, err := s.key(k)
	if err != nil {
		return err
	}
	if !has {
		return s.sraw.Put(kb, w.Start, w.End, nil)
	}
	b := binary.BigEndian.AppendUint64(s.vbuf[:0], uint64(ts))
	if b, err = s.values.enc(b, v); err != nil {
		return fmt.Errorf("store %s: encode value: %w", s.name, err)
	}
	s.vbuf = b
	return s.sraw.Put(kb, w.Start, w.End, b)
}
