package topology

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sync/atomic"
	"time"

	"github.com/tributary-streams/tributary/streams/state"
)

// TaskID names a task: sub-topology and partition, printed "0_3" as in
// Kafka Streams.
type TaskID struct {
	Subtopology int
	Partition   int32
}

func (id TaskID) String() string { return fmt.Sprintf("%d_%d", id.Subtopology, id.Partition) }

// ParseTaskID reads "0_3".
func ParseTaskID(s string) (TaskID, error) {
	var id TaskID
	if _, err := fmt.Sscanf(s, "%d_%d", &id.Subtopology, &id.Partition); err != nil || id.Subtopology < 0 || id.Partition < 0 {
		return TaskID{}, fmt.Errorf("task id %q: want <sub-topology>_<partition>", s)
	}
	return id, nil
}

// Header is a record header.
type Header struct {
	Key   string
	Value []byte
}

// Input is one consumed record.
type Input struct {
	Topic     string
	Partition int32
	Offset    int64
	Key       []byte
	Value     []byte
	Timestamp int64
	Headers   []Header
}

// Output receives what a task produces. partition < 0 picks the partition
// from the key (murmur2, as Kafka's default partitioner), or any partition
// for a record without a key.
type Output interface {
	Send(topic string, partition int32, key, value []byte, timestamp int64, headers []Header)
}

// Env is what a task runs with, given by the runtime or the test driver.
type Env struct {
	App   string
	Shard *state.Shard
	// Global reads the global stores; nil when the topology has none.
	Global *state.Shard
	Output Output
	// Changelog returns the changelog of a logged store for this task;
	// nil means no logging (the test driver).
	Changelog func(store string) state.Changelog
	// CacheBytes bounds the record cache of this task's key-value stores;
	// 0 disables caching, so every update goes downstream at once.
	CacheBytes int
	// OnDeserializationError decides what an undecodable record does:
	// return nil to skip it, an error to stop the task.
	OnDeserializationError func(ctx *Context, in *Input, err error) error
	// Now is the wall clock in milliseconds.
	Now    func() int64
	Logger *slog.Logger
	// Stats are the counters the task adds to; the runtime passes the
	// same ones to every incarnation of a task (after a rollback, or when
	// it comes back to the instance), so they count per task id. nil:
	// new ones.
	Stats *Stats
}

// Stats are a task's counters, read by metrics from other goroutines.
type Stats struct {
	Processed atomic.Int64
	Late      atomic.Int64 // records dropped behind a window's grace period
	Skipped   atomic.Int64 // undecodable or invalid records skipped
	// DeserializationErrors counts records whose key or value did not
	// decode, whatever the handler then did with them.
	DeserializationErrors atomic.Int64
	PunctuateNanos        atomic.Int64
	Punctuations          atomic.Int64
	// ProcessNanos is the time spent in Process, which the runtime measures
	// over each batch of records rather than per record.
	ProcessNanos atomic.Int64
}

// Source is a source node's processor: it decodes a record and pushes it
// down the sub-topology.
type Source interface {
	Process(ctx *Context, in *Input) error
}

// PunctuationType is the clock a punctuator follows.
type PunctuationType int

const (
	StreamTime PunctuationType = iota
	WallClockTime
)

// Punctuation is a scheduled callback; Cancel stops it.
type Punctuation struct {
	typ       PunctuationType
	interval  int64
	next      int64
	fn        func(ts int64) error
	cancelled bool
}

// Cancel stops the punctuation.
func (p *Punctuation) Cancel() { p.cancelled = true }

// Context is the task as its processors see it: the record being
// processed, stream time, stores, and where records go.
type Context struct {
	Task TaskID
	Env  *Env
	// Input is the record being processed; nil while punctuating.
	Input *Input
	Stats *Stats

	streamTime int64
	punct      []*Punctuation
}

// StreamTime is the largest timestamp the task has processed, or -1.
func (c *Context) StreamTime() int64 { return c.streamTime }

// DeserializationError counts a record that did not decode and hands it
// to the deserialization handler, whose answer it returns.
func (c *Context) DeserializationError(in *Input, err error) error {
	c.Stats.DeserializationErrors.Add(1)
	return c.Env.OnDeserializationError(c, in, err)
}

// Observe moves stream time to ts if it is later.
func (c *Context) Observe(ts int64) {
	if ts > c.streamTime {
		c.streamTime = ts
	}
}

// Schedule adds a punctuator. Stream-time punctuators fire first on the
// first record processed after scheduling, then every interval of stream
// time (once, when stream time jumps several intervals). Wall-clock ones
// fire every interval of wall-clock time, checked between records.
func (c *Context) Schedule(interval time.Duration, typ PunctuationType, fn func(ts int64) error) (*Punctuation, error) {
	ms := interval.Milliseconds()
	if ms < 1 {
		return nil, fmt.Errorf("punctuation interval %s: want at least 1ms", interval)
	}
	p := &Punctuation{typ: typ, interval: ms, fn: fn, next: -1}
	if typ == WallClockTime {
		p.next = c.Env.Now() + ms
	}
	c.punct = append(c.punct, p)
	return p, nil
}

// Send forwards a record to a topic.
func (c *Context) Send(topic string, partition int32, key, value []byte, ts int64, headers []Header) {
	c.Env.Output.Send(topic, partition, key, value, ts, headers)
}

// Logger is the task's logger.
func (c *Context) Logger() *slog.Logger { return c.Env.Logger }

// Task runs one sub-topology over one partition.
type Task struct {
	ID    TaskID
	ctx   *Context
	graph *Graph
	sub   *Subtopology

	sources  map[string]Source // by physical topic
	flushers []func() error
	closers  []func() error
	stores   map[string]any
	logged   map[string]string // store -> changelog topic
	shared   map[string]any
}

// NewTask builds the processors of a sub-topology for one partition.
func NewTask(g *Graph, id TaskID, env *Env) (*Task, error) {
	if id.Subtopology < 0 || id.Subtopology >= len(g.Subtopologies) {
		return nil, fmt.Errorf("task %s: no such sub-topology", id)
	}
	if env.Now == nil {
		env.Now = func() int64 { return time.Now().UnixMilli() }
	}
	if env.Logger == nil {
		env.Logger = slog.New(slog.DiscardHandler)
	}
	sub := g.Subtopologies[id.Subtopology]
	t := &Task{ID: id, graph: g, sub: sub, sources: map[string]Source{}, stores: map[string]any{}, logged: map[string]string{}, shared: map[string]any{}}
	stats := env.Stats
	if stats == nil {
		stats = &Stats{}
	}
	t.ctx = &Context{Task: id, Env: env, Stats: stats, streamTime: -1}
	if err := t.openStores(); err != nil {
		return nil, err
	}
	built := map[*Node]any{}
	var build func(n *Node) (any, error)
	build = func(n *Node) (any, error) {
		if v, ok := built[n]; ok {
			return v, nil
		}
		b := &Build{Ctx: t.ctx, Node: n, task: t}
		for _, c := range n.Children {
			v, err := build(c)
			if err != nil {
				return nil, err
			}
			b.children = append(b.children, v)
		}
		v, err := n.Build(b)
		if err != nil {
			return nil, fmt.Errorf("task %s: build step %s: %w", id, n.Name, err)
		}
		built[n] = v
		t.flushers = append(t.flushers, b.flush...)
		t.closers = append(t.closers, b.close...)
		return v, nil
	}
	for _, n := range sub.Nodes {
		v, err := build(n)
		if err != nil {
			t.Close()
			return nil, err
		}
		if n.Kind == SourceNode {
			src, ok := v.(Source)
			if !ok {
				t.Close()
				return nil, fmt.Errorf("task %s: source %s built no Source", id, n.Name)
			}
			for _, topic := range n.Topics {
				t.sources[g.TopicName(env.App, topic)] = src
			}
		}
	}
	// Children were built (and registered their flushers) before their
	// parents; flush parents first, so that what they forward reaches the
	// children's caches before those flush.
	slices.Reverse(t.flushers)
	return t, nil
}

func (t *Task) openStores() error {
	env := t.ctx.Env
	stores, err := OpenStores(t.graph, t.ID.Subtopology, env.Shard, func(name string) state.Changelog {
		if env.Changelog == nil {
			return nil
		}
		t.logged[name] = ChangelogTopic(env.App, name)
		return env.Changelog(name)
	})
	if err != nil {
		return fmt.Errorf("task %s: %w", t.ID, err)
	}
	t.stores = stores
	return nil
}

// OpenStores opens the stores of a sub-topology in shard. log gives the
// changelog of each logged store (nil: none); the runtime opens them
// without one to restore them.
func OpenStores(g *Graph, sub int, shard *state.Shard, log func(store string) state.Changelog) (map[string]any, error) {
	out := map[string]any{}
	for _, name := range g.Subtopologies[sub].Stores {
		st := g.Stores[name]
		var cl state.Changelog
		if st.Logged && log != nil {
			cl = log(name)
		}
		var s any
		var err error
		switch st.Kind {
		case KeyValueStore:
			s, err = shard.KeyValue(name, cl)
		case WindowStore:
			s, err = shard.Window(name, st.Window, cl)
		case SessionStore:
			s, err = shard.Session(name, st.Session, cl)
		}
		if err != nil {
			return nil, fmt.Errorf("open store %s: %w", name, err)
		}
		out[name] = s
	}
	return out, nil
}

// Context is the task's processor context.
func (t *Task) Context() *Context { return t.ctx }

// Stats are the task's counters.
func (t *Task) Stats() *Stats { return t.ctx.Stats }

// Sources are the physical topics the task reads.
func (t *Task) Sources() []string {
	out := make([]string, 0, len(t.sources))
	for topic := range t.sources {
		out = append(out, topic)
	}
	slices.Sort(out)
	return out
}

// Changelogs maps each logged store of the task to its changelog topic.
func (t *Task) Changelogs() map[string]string { return t.logged }

// Store returns an open store of the task (a state.KeyValueStore,
// WindowStore or SessionStore).
func (t *Task) Store(name string) any { return t.stores[name] }

// SetStreamTime sets the task's stream time, when resuming it.
func (t *Task) SetStreamTime(ts int64) { t.ctx.streamTime = ts }

// StreamTime is the task's stream time.
func (t *Task) StreamTime() int64 { return t.ctx.streamTime }

// ErrNoSource reports a record from a topic the task does not read.
var ErrNoSource = errors.New("topology: record from a topic the task does not read")

// Process runs one record through the sub-topology, then the stream-time
// punctuators that are due.
func (t *Task) Process(in *Input) error {
	src := t.sources[in.Topic]
	if src == nil {
		return fmt.Errorf("task %s: %w: %s", t.ID, ErrNoSource, in.Topic)
	}
	t.ctx.Input = in
	err := src.Process(t.ctx, in)
	t.ctx.Input = nil
	t.ctx.Stats.Processed.Add(1)
	if err != nil {
		return err
	}
	return t.punctuate(StreamTime, t.ctx.streamTime)
}

// PunctuateWallClock runs the wall-clock punctuators due at now.
func (t *Task) PunctuateWallClock(now int64) error { return t.punctuate(WallClockTime, now) }

func (t *Task) punctuate(typ PunctuationType, now int64) error {
	if now < 0 {
		return nil
	}
	for i := 0; i < len(t.ctx.punct); i++ {
		p := t.ctx.punct[i]
		if p.cancelled {
			t.ctx.punct = slices.Delete(t.ctx.punct, i, i+1)
			i--
			continue
		}
		if p.typ != typ {
			continue
		}
		if p.next < 0 {
			p.next = now // stream time: the first record fires it
		}
		if now < p.next {
			continue
		}
		// Skip the intervals that passed without firing, keeping the
		// schedule's phase.
		if skipped := (now - p.next) / p.interval; skipped > 0 && skipped < math.MaxInt64/p.interval {
			p.next += skipped * p.interval
		}
		p.next += p.interval
		start := time.Now()
		err := p.fn(now)
		t.ctx.Stats.Punctuations.Add(1)
		t.ctx.Stats.PunctuateNanos.Add(int64(time.Since(start)))
		if err != nil {
			return fmt.Errorf("task %s: punctuate: %w", t.ID, err)
		}
	}
	return nil
}

// Flush empties the task's caches downstream: the first step of a commit.
func (t *Task) Flush() error {
	for _, f := range t.flushers {
		if err := f(); err != nil {
			return fmt.Errorf("task %s: flush: %w", t.ID, err)
		}
	}
	return nil
}

// Close closes the task's processors. Its shard stays with the caller.
func (t *Task) Close() error {
	var errs []error
	for _, c := range t.closers {
		if err := c(); err != nil {
			errs = append(errs, err)
		}
	}
	t.closers = nil
	return errors.Join(errs...)
}

// Build is what a node's Build function gets: the task context, the
// processors of its children, and registration of flush and close hooks.
type Build struct {
	Ctx      *Context
	Node     *Node
	task     *Task
	children []any
	flush    []func() error
	close    []func() error
}

// Children are the processors of the node's children, in order.
func (b *Build) Children() []any { return b.children }

// Store returns a store of the task by name.
func (b *Build) Store(name string) (any, error) {
	if s, ok := b.task.stores[name]; ok {
		return s, nil
	}
	st := b.task.graph.Stores[name]
	if st != nil && st.Global {
		if b.Ctx.Env.Global == nil {
			return nil, fmt.Errorf("global store %s: the runtime gave no global stores", name)
		}
		return b.Ctx.Env.Global.KeyValue(name, nil)
	}
	return nil, fmt.Errorf("store %s is not connected to step %s", name, b.Node.Name)
}

// Topic is the physical topic of a logical name.
func (b *Build) Topic(logical string) string { return b.task.graph.TopicName(b.Ctx.Env.App, logical) }

// OnFlush registers a hook run at each commit, before the producer flush.
func (b *Build) OnFlush(fn func() error) { b.flush = append(b.flush, fn) }

// OnClose registers a hook run when the task closes.
func (b *Build) OnClose(fn func() error) { b.close = append(b.close, fn) }

// Shared returns the task's one value for key, made by mk the first time:
// the steps that write and read one store share its typed view (and its
// cache) this way.
func (b *Build) Shared(key string, mk func() (any, error)) (any, error) {
	if v, ok := b.task.shared[key]; ok {
		return v, nil
	}
	v, err := mk()
	if err != nil {
		return nil, err
	}
	b.task.shared[key] = v
	return v, nil
}
