package streams

import (
	"fmt"
	"strings"
	"time"
)

// StepOption configures one DSL step: its name, the serdes it writes with,
// the store it materializes into. Each step says which options it takes; a
// step given an option it does not take fails the build, naming both.
type StepOption interface {
	applyStep(*stepConfig)
}

type stepOptionFunc func(*stepConfig)

func (f stepOptionFunc) applyStep(c *stepConfig) { f(c) }

// option kinds, for the check that a step takes what it was given.
type optionKind int

const (
	optName optionKind = iota
	optKeySerde
	optValueSerde
	optStore
	optPartitions
	optLogging
	optCaching
	optRetention
	optStores
	optTimestamps
	optOtherValueSerde
)

var optionNames = [...]string{
	optName: "Named", optKeySerde: "WithKeySerde", optValueSerde: "WithValueSerde", optStore: "Materialized",
	optPartitions: "WithPartitions", optLogging: "WithLogging", optCaching: "WithCaching",
	optRetention: "WithRetention", optStores: "WithStores", optTimestamps: "WithTimestampExtractor",
	optOtherValueSerde: "WithOtherValueSerde",
}

type stepConfig struct {
	given      []optionKind
	name       string
	keySerde   any
	valueSerde any
	otherSerde any
	store      string
	partitions int
	logging    bool
	caching    bool
	retention  time.Duration
	stores     []string
	extractor  any
}

func (c *stepConfig) has(k optionKind) bool {
	for _, g := range c.given {
		if g == k {
			return true
		}
	}
	return false
}

func given(k optionKind, f func(*stepConfig)) StepOption {
	return stepOptionFunc(func(c *stepConfig) {
		c.given = append(c.given, k)
		f(c)
	})
}

// Named names the step (and the topics and stores named after it), in
// place of a generated KSTREAM-...-0000000007 name.
func Named(name string) StepOption { return given(optName, func(c *stepConfig) { c.name = name }) }

// WithKeySerde gives the key serde a step writes with: to a topic, a
// repartition topic or a store.
func WithKeySerde[K any](s Serde[K]) StepOption {
	return given(optKeySerde, func(c *stepConfig) { c.keySerde = s })
}

// WithValueSerde gives the value serde a step writes with.
func WithValueSerde[V any](s Serde[V]) StepOption {
	return given(optValueSerde, func(c *stepConfig) { c.valueSerde = s })
}

// WithOtherValueSerde gives the serde of the other side's values in a
// stream-stream join, which buffers both sides.
func WithOtherValueSerde[V any](s Serde[V]) StepOption {
	return given(optOtherValueSerde, func(c *stepConfig) { c.otherSerde = s })
}

// Materialized names the store a stateful step keeps its result in; a
// named store can be queried (App.Query, the HTTP endpoint).
func Materialized(store string) StepOption {
	return given(optStore, func(c *stepConfig) { c.store = store })
}

// WithPartitions fixes the partition count of a repartition topic.
func WithPartitions(n int) StepOption {
	return given(optPartitions, func(c *stepConfig) { c.partitions = n })
}

// WithLogging turns the changelog of a step's store on (the default) or
// off. A store without a changelog is rebuilt from nothing on another
// instance.
func WithLogging(on bool) StepOption {
	return given(optLogging, func(c *stepConfig) { c.logging = on })
}

// WithCaching turns the record cache of a key-value aggregation on (the
// default) or off. With it, updates to a key between commits reach
// downstream and the changelog once; without it, every update does.
func WithCaching(on bool) StepOption {
	return given(optCaching, func(c *stepConfig) { c.caching = on })
}

// WithRetention keeps the windows of a windowed store for d behind stream
// time (default: window size plus grace period).
func WithRetention(d time.Duration) StepOption {
	return given(optRetention, func(c *stepConfig) { c.retention = d })
}

// WithStores connects stores (declared with AddKeyValueStore or
// AddWindowStore) to a Process step.
func WithStores(names ...string) StepOption {
	return given(optStores, func(c *stepConfig) { c.stores = append(c.stores, names...) })
}

// WithTimestampExtractor sets how a source reads a record's event time:
// fn gets the decoded record (with the timestamp it carries) and the
// partition's stream time, and returns milliseconds since the epoch. A
// negative result skips the record. Default: the record's own timestamp.
func WithTimestampExtractor[K, V any](fn func(r Record[K, V], streamTime int64) int64) StepOption {
	return given(optTimestamps, func(c *stepConfig) { c.extractor = fn })
}

// configure applies opts for a step that takes only the listed kinds (plus
// Named, which every step takes); anything else is a build error.
func (b *Builder) configure(step string, opts []StepOption, takes ...optionKind) stepConfig {
	c := stepConfig{logging: true, caching: true}
	for _, o := range opts {
		if o == nil {
			b.g.Errorf("step %s: a nil option", step)
			continue
		}
		o.applyStep(&c)
	}
	if c.name != "" {
		step = c.name
	}
	for _, k := range c.given {
		if k == optName {
			continue
		}
		ok := false
		for _, t := range takes {
			ok = ok || t == k
		}
		if !ok {
			var names []string
			for _, t := range takes {
				names = append(names, optionNames[t])
			}
			accepted := "only Named"
			if len(names) > 0 {
				accepted = "Named, " + strings.Join(names, ", ")
			}
			b.g.Errorf("step %s: option %s does not apply to this step; it takes %s", step, optionNames[k], accepted)
		}
	}
	if c.has(optPartitions) && c.partitions < 1 {
		b.g.Errorf("step %s: WithPartitions(%d): want at least 1", step, c.partitions)
	}
	if c.has(optName) && (c.name == "" || strings.ContainsAny(c.name, " /\\")) {
		b.g.Errorf("step %s: Named(%q): want a non-empty name without spaces or slashes", step, c.name)
	}
	return c
}

// stepName is the given name or a generated one.
func (b *Builder) stepName(c stepConfig, prefix string) string {
	if c.name != "" {
		return c.name
	}
	return b.g.NextName(prefix)
}

// serdeOption resolves a serde option against the type a step needs.
func serdeOption[T any](b *Builder, step, what string, given any, fallback Serde[T]) Serde[T] {
	if given == nil {
		return fallback
	}
	s, ok := given.(Serde[T])
	if !ok {
		b.g.Errorf("step %s: the %s serde given is a %T, but the step's %s type is %s", step, what, given, what, typeName[T]())
		return fallback
	}
	return s
}

// needSerde records a build error when a step needs a serde it has not got.
func needSerde[T any](b *Builder, step, what, purpose string, s Serde[T]) bool {
	if s != nil {
		return true
	}
	opt := "WithKeySerde"
	if what != "key" {
		opt = "WithValueSerde"
	}
	b.g.Errorf("step %s: no %s serde for %s, which %s needs; give one with streams.%s(...)",
		step, what, typeName[T](), purpose, opt)
	return false
}

func durationMs(what string, d time.Duration) (int64, error) {
	if d < 0 {
		return 0, fmt.Errorf("%s %s: want 0 or more", what, d)
	}
	return d.Milliseconds(), nil
}
