package streams

import (
	"fmt"
	"time"

	"github.com/tributary-streams/tributary/streams/internal/topology"
	"github.com/tributary-streams/tributary/streams/state"
)

// Processor is a step of your own (Kafka Streams' Processor API): it gets
// records one at a time, may read and write the stores connected to it,
// forwards any number of records, and may schedule punctuators. One
// instance runs per task; its methods are never called concurrently.
type Processor[KIn, VIn, KOut, VOut any] interface {
	// Init is called once before the first record.
	Init(ctx ProcessorContext[KOut, VOut]) error
	// Process handles one record; an error stops the task.
	Process(r Record[KIn, VIn]) error
	// Close is called when the task closes.
	Close() error
}

// Context is what a processor knows about the task it runs in.
type Context interface {
	// TaskID is the task, "<sub-topology>_<partition>".
	TaskID() string
	// Partition is the task's partition.
	Partition() int32
	// StreamTime is the largest timestamp the task has processed, or -1.
	StreamTime() int64
	// WallClock is the wall-clock time in milliseconds.
	WallClock() int64
	// RecordMetadata is where the record being processed came from; ok is
	// false while punctuating.
	RecordMetadata() (topic string, partition int32, offset int64, ok bool)
	// Schedule calls fn every interval of stream time (StreamTime: fired
	// by records, once even when stream time jumps several intervals) or
	// of wall-clock time (WallClockTime: checked between records).
	Schedule(interval time.Duration, typ PunctuationType, fn func(ts int64) error) (Cancellable, error)

	build() *topology.Build
}

// ProcessorContext is a processor's context: where it forwards records.
type ProcessorContext[K, V any] interface {
	Context
	// Forward sends a record to the next steps; it runs them before it
	// returns.
	Forward(r Record[K, V]) error
}

// PunctuationType is the clock a punctuator follows.
type PunctuationType int

const (
	StreamTime PunctuationType = iota
	WallClockTime
)

// Cancellable stops a punctuator.
type Cancellable interface{ Cancel() }

type processorContext[K, V any] struct {
	bd   *topology.Build
	next forward[K, V]
}

func (c *processorContext[K, V]) TaskID() string               { return c.bd.Ctx.Task.String() }
func (c *processorContext[K, V]) Partition() int32             { return c.bd.Ctx.Task.Partition }
func (c *processorContext[K, V]) StreamTime() int64            { return c.bd.Ctx.StreamTime() }
func (c *processorContext[K, V]) WallClock() int64             { return c.bd.Ctx.Env.Now() }
func (c *processorContext[K, V]) build() *topology.Build       { return c.bd }
func (c *processorContext[K, V]) Forward(r Record[K, V]) error { return c.next.send(r) }

func (c *processorContext[K, V]) RecordMetadata() (string, int32, int64, bool) {
	in := c.bd.Ctx.Input
	if in == nil {
		return "", 0, 0, false
	}
	return in.Topic, in.Partition, in.Offset, true
}

func (c *processorContext[K, V]) Schedule(interval time.Duration, typ PunctuationType, fn func(ts int64) error) (Cancellable, error) {
	if fn == nil {
		return nil, fmt.Errorf("schedule: nil punctuator")
	}
	t := topology.StreamTime
	switch typ {
	case StreamTime:
	case WallClockTime:
		t = topology.WallClockTime
	default:
		return nil, fmt.Errorf("schedule: punctuation type %d: want StreamTime or WallClockTime", typ)
	}
	return c.bd.Ctx.Schedule(interval, t, fn)
}

// Process adds a processor of your own; supplier makes one per task. opts
// take Named and WithStores, which connects the stores the processor
// uses. A stateful step downstream repartitions, as the processor may
// change keys.
func Process[K, V, KO, VO any](s KStream[K, V], supplier func() Processor[K, V, KO, VO], opts ...StepOption) KStream[KO, VO] {
	b := s.b
	c := b.configure("KSTREAM-PROCESSOR", opts, optStores)
	name := b.stepName(c, "KSTREAM-PROCESSOR")
	if supplier == nil {
		b.g.Errorf("step %s: nil processor supplier", name)
	}
	node := processor(b, name, c.stores, []*topology.Node{s.node}, func(bd *topology.Build, next forward[KO, VO]) (any, error) {
		p := supplier()
		if p == nil {
			return nil, fmt.Errorf("the supplier made a nil processor")
		}
		if err := p.Init(&processorContext[KO, VO]{bd: bd, next: next}); err != nil {
			return nil, fmt.Errorf("init: %w", err)
		}
		bd.OnClose(p.Close)
		return receiveFunc[K, V](p.Process), nil
	})
	return KStream[KO, VO]{b: b, node: node, keys: defaultSerde[KO](), values: defaultSerde[VO](), rekeyed: true}
}

// KeyValueStore is a typed key-value store for processors. Values are
// kept as they are (no timestamp).
type KeyValueStore[K, V any] interface {
	Get(k K) (V, bool, error)
	Put(k K, v V) error
	Delete(k K) error
	// All calls fn for each entry in key-byte order until it returns
	// false or an error.
	All(fn func(K, V) (bool, error)) error
}

// KeyValueStoreRef names a key-value store declared on the builder.
type KeyValueStoreRef[K, V any] struct {
	name   string
	keys   Serde[K]
	values Serde[V]
}

// AddKeyValueStore declares a key-value store for processors (connect it
// with WithStores); opts take WithLogging (default on: changelogged to
// <application.id>-<name>-changelog).
func AddKeyValueStore[K, V any](b *Builder, name string, keys Serde[K], values Serde[V], opts ...StepOption) KeyValueStoreRef[K, V] {
	c := b.configure("store "+name, opts, optLogging)
	if keys == nil || values == nil {
		b.g.Errorf("store %s: a store needs a key serde and a value serde", name)
	}
	b.g.AddStore(&topology.Store{Name: name, Kind: topology.KeyValueStore, Logged: c.logging, Plain: true, Query: plainQuery(keys, values)}, "store "+name)
	return KeyValueStoreRef[K, V]{name: name, keys: keys, values: values}
}

// Name is the store's name.
func (r KeyValueStoreRef[K, V]) Name() string { return r.name }

// Open returns the task's view of the store, in Init.
func (r KeyValueStoreRef[K, V]) Open(ctx Context) (KeyValueStore[K, V], error) {
	raw, err := ctx.build().Store(r.name)
	if err != nil {
		return nil, err
	}
	kv, ok := raw.(state.KeyValueStore)
	if !ok {
		return nil, fmt.Errorf("store %s is not a key-value store", r.name)
	}
	return &plainKV[K, V]{raw: kv, keys: newCodec(r.keys), values: newCodec(r.values), name: r.name}, nil
}

type plainKV[K, V any] struct {
	raw    state.KeyValueStore
	keys   codec[K]
	values codec[V]
	name   string
	kbuf   []byte
	vbuf   []byte
}

func (s *plainKV[K, V]) key(k K) ([]byte, error) {
	kb, err := s.keys.enc(s.kbuf[:0], k)
	if err != nil {
		return nil, fmt.Errorf("store %s: encode key: %w", s.name, err)
	}
	s.kbuf = kb
	return kb, nil
}

func (s *plainKV[K, V]) Get(k K) (V, bool, error) {
	var zero V
	kb, err := s.key(k)
	if err != nil {
		return zero, false, err
	}
	b, ok, err := s.raw.Get(kb)
	if err != nil || !ok {
		return zero, false, err
	}
	v, err := s.values.dec(b)
	if err != nil {
		return zero, false, fmt.Errorf("store %s: decode value: %w", s.name, err)
	}
	return v, true, nil
}

func (s *plainKV[K, V]) Put(k K, v V) error {
	kb, err := s.key(k)
	if err != nil {
		return err
	}
	if s.vbuf, err = s.values.enc(s.vbuf[:0], v); err != nil {
		return fmt.Errorf("store %s: encode value: %w", s.name, err)
	}
	return s.raw.Put(kb, s.vbuf)
}

func (s *plainKV[K, V]) Delete(k K) error {
	kb, err := s.key(k)
	if err != nil {
		return err
	}
	return s.raw.Delete(kb)
}

func (s *plainKV[K, V]) All(fn func(K, V) (bool, error)) error {
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
		v, err := s.values.dec(it.Value())
		if err != nil {
			return fmt.Errorf("store %s: decode value: %w", s.name, err)
		}
		more, err := fn(k, v)
		if err != nil || !more {
			return err
		}
	}
	return it.Close()
}

// WindowStore is a typed window store for processors.
type WindowStore[K, V any] interface {
	Put(k K, start int64, v V) error
	// Fetch calls fn for each window of k starting in [from, to], oldest
	// first, until it returns false or an error.
	Fetch(k K, from, to int64, fn func(start int64, v V) (bool, error)) error
}

// WindowStoreRef names a window store declared on the builder.
type WindowStoreRef[K, V any] struct {
	name   string
	keys   Serde[K]
	values Serde[V]
}

// AddWindowStore declares a window store for processors that keeps
// windows for retention behind its latest window start; with duplicates,
// every Put is kept. opts take WithLogging.
func AddWindowStore[K, V any](b *Builder, name string, keys Serde[K], values Serde[V], retention time.Duration, duplicates bool, opts ...StepOption) WindowStoreRef[K, V] {
	c := b.configure("store "+name, opts, optLogging)
	if keys == nil || values == nil {
		b.g.Errorf("store %s: a store needs a key serde and a value serde", name)
	}
	if retention <= 0 {
		b.g.Errorf("store %s: retention %s: want more than 0", name, retention)
	}
	b.g.AddStore(&topology.Store{Name: name, Kind: topology.WindowStore, Logged: c.logging, Plain: true,
		Window: state.WindowOptions{Retention: retention, RetainDuplicates: duplicates}, ChangelogRetention: retention + 24*time.Hour}, "store "+name)
	return WindowStoreRef[K, V]{name: name, keys: keys, values: values}
}

// Name is the store's name.
func (r WindowStoreRef[K, V]) Name() string { return r.name }

// Open returns the task's view of the store, in Init.
func (r WindowStoreRef[K, V]) Open(ctx Context) (WindowStore[K, V], error) {
	raw, err := ctx.build().Store(r.name)
	if err != nil {
		return nil, err
	}
	ws, ok := raw.(state.WindowStore)
	if !ok {
		return nil, fmt.Errorf("store %s is not a window store", r.name)
	}
	return &plainWindow[K, V]{raw: ws, keys: newCodec(r.keys), values: newCodec(r.values), name: r.name}, nil
}

type plainWindow[K, V any] struct {
	raw    state.WindowStore
	keys   codec[K]
	values codec[V]
	name   string
	kbuf   []byte
	vbuf   []byte
}

func (s *plainWindow[K, V]) Put(k K, start int64, v V) error {
	kb, err := s.keys.enc(s.kbuf[:0], k)
	if err != nil {
		return fmt.Errorf("store %s: encode key: %w", s.name, err)
	}
	s.kbuf = kb
	if s.vbuf, err = s.values.enc(s.vbuf[:0], v); err != nil {
		return fmt.Errorf("store %s: encode value: %w", s.name, err)
	}
	return s.raw.Put(kb, start, s.vbuf)
}

func (s *plainWindow[K, V]) Fetch(k K, from, to int64, fn func(int64, V) (bool, error)) error {
	kb, err := s.keys.enc(s.kbuf[:0], k)
	if err != nil {
		return fmt.Errorf("store %s: encode key: %w", s.name, err)
	}
	s.kbuf = kb
	it, err := s.raw.Fetch(kb, from, to)
	if err != nil {
		return err
	}
	defer it.Close()
	for it.Next() {
		v, err := s.values.dec(it.Value())
		if err != nil {
			return fmt.Errorf("store %s: decode value: %w", s.name, err)
		}
		more, err := fn(it.Start(), v)
		if err != nil || !more {
			return err
		}
	}
	return it.Close()
}
