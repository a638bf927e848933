// Package topology is the untyped machinery under the streams DSL: the
// graph of named nodes the DSL builds, its split into sub-topologies, its
// description, and the task that runs one sub-topology over one partition.
// The DSL gives every node a Build function that makes its typed processor;
// everything here only wires them.
package topology

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/tributary-streams/tributary/streams/state"
)

// NodeKind is what a node does.
type NodeKind int

const (
	SourceNode NodeKind = iota
	ProcessorNode
	SinkNode
)

// Node is one step of a topology.
type Node struct {
	Name string
	Kind NodeKind
	// Topics are a source's topics (names as the user wrote them, or the
	// logical names of internal topics).
	Topics []string
	// SinkTopic is a sink's topic; empty for a sink that picks the topic
	// per record.
	SinkTopic string
	// Stores are the stores the node reads or writes.
	Stores   []string
	Parents  []*Node
	Children []*Node
	// Build makes the node's processor for one task. Sources return a
	// Source; other nodes return what their parents forward to.
	Build func(b *Build) (any, error)

	order int
	sub   int
}

// StoreKind is the shape of a store.
type StoreKind int

const (
	KeyValueStore StoreKind = iota
	WindowStore
	SessionStore
)

func (k StoreKind) String() string {
	return [...]string{"key-value", "window", "session"}[k]
}

// Store is a state store of the topology.
type Store struct {
	Name    string
	Kind    StoreKind
	Window  state.WindowOptions
	Session state.SessionOptions
	// Logged stores are changelogged to <app>-<name>-changelog.
	Logged bool
	// Global stores are read by every task and fed from a topic by the
	// global task, whose source topic is their changelog.
	Global bool
	// Query turns stored bytes into JSON-able values and a query string
	// into a key, for interactive queries; nil for stores not queryable.
	Query *QueryCodec
	// Retention of the changelog topic of a window or session store.
	ChangelogRetention time.Duration
	// Plain stores keep values as they are; the DSL's stores keep each
	// value behind its timestamp (8 bytes), as Kafka Streams' timestamped
	// stores do.
	Plain bool
}

// QueryCodec is how interactive queries read a store.
type QueryCodec struct {
	// Key parses a key given as text (a query parameter) into store bytes.
	Key func(text string) ([]byte, error)
	// Decode turns a stored key and value into values encoding/json can
	// print.
	Decode func(key, value []byte) (k, v any, err error)
	// Partition picks the partition that owns a key, from its bytes and
	// the partition count.
	Partition func(key []byte, partitions int32) int32
	// Windowed stores hold windows of WindowSize milliseconds per key.
	Windowed   bool
	WindowSize int64
}

// InternalTopic is a topic the runtime creates: a repartition topic (or
// one of the foreign-key join's subscription topics).
type InternalTopic struct {
	// Name is the logical name; the topic is <app>-<Name>.
	Name string
	// Partitions is fixed by the user, or 0: derived from the sub-topology
	// that writes it.
	Partitions int
}

// CoPartition is a set of inputs that one step reads together, partition
// by partition: the source topics upstream of Nodes (in the step's
// sub-topology) must have the same partition count.
type CoPartition struct {
	Step  string
	Nodes []*Node
}

// SourceTopics are the logical topics of the sources upstream of n,
// within n's sub-topology.
func (g *Graph) SourceTopics(n *Node) []string {
	seen := map[*Node]bool{}
	var out []string
	var walk func(*Node)
	walk = func(n *Node) {
		if seen[n] {
			return
		}
		seen[n] = true
		if n.Kind == SourceNode {
			out = append(out, n.Topics...)
			return
		}
		for _, p := range n.Parents {
			walk(p)
		}
	}
	walk(n)
	slices.Sort(out)
	return slices.Compact(out)
}

// GlobalSource feeds a global store from a topic.
type GlobalSource struct {
	Topic string
	Store string
	// Build makes the Source that writes records into the store.
	Build func(b *Build) (Source, error)
}

// Graph is a topology under construction, then built.
type Graph struct {
	Nodes    []*Node
	Stores   map[string]*Store
	Internal map[string]*InternalTopic
	Globals  []*GlobalSource
	Copart   []CoPartition

	Subtopologies []*Subtopology

	seq   int
	names map[string]bool
	errs  []error
	built bool
}

// New returns an empty graph.
func New() *Graph {
	return &Graph{Stores: map[string]*Store{}, Internal: map[string]*InternalTopic{}, names: map[string]bool{}}
}

// NextName names a step the Kafka Streams way: PREFIX-0000000007.
func (g *Graph) NextName(prefix string) string {
	n := fmt.Sprintf("%s-%010d", prefix, g.seq)
	g.seq++
	return n
}

// Errorf records a build error; Build reports them all.
func (g *Graph) Errorf(format string, args ...any) {
	g.errs = append(g.errs, fmt.Errorf(format, args...))
}

// Add puts a node into the graph under parents.
func (g *Graph) Add(n *Node, parents ...*Node) *Node {
	if g.names[n.Name] {
		g.Errorf("step %s: the name is taken by another step; names must be unique", n.Name)
	}
	g.names[n.Name] = true
	n.order = len(g.Nodes)
	g.Nodes = append(g.Nodes, n)
	for _, p := range parents {
		n.Parents = append(n.Parents, p)
		p.Children = append(p.Children, n)
	}
	return n
}

// AddStore registers a store; a name used twice is an error.
func (g *Graph) AddStore(s *Store, step string) {
	if _, dup := g.Stores[s.Name]; dup {
		g.Errorf("step %s: store %s is already defined by another step", step, s.Name)
		return
	}
	if s.Name == "" || len(s.Name) > 200 {
		g.Errorf("step %s: store name %q: want 1 to 200 characters", step, s.Name)
		return
	}
	g.Stores[s.Name] = s
}

// AddInternal registers an internal topic.
func (g *Graph) AddInternal(t *InternalTopic) {
	if _, dup := g.Internal[t.Name]; dup {
		g.Errorf("internal topic %s is defined twice: name the steps apart", t.Name)
		return
	}
	g.Internal[t.Name] = t
}

// TopicName is the topic a logical name stands for in application app:
// internal topics are prefixed with the application id.
func (g *Graph) TopicName(app, logical string) string {
	if _, ok := g.Internal[logical]; ok {
		return app + "-" + logical
	}
	return logical
}

// ChangelogTopic is a logged store's changelog topic.
func ChangelogTopic(app, store string) string { return app + "-" + store + "-changelog" }

// Subtopology is a connected part of the graph: its nodes run together in
// one task per partition.
type Subtopology struct {
	ID      int
	Nodes   []*Node
	Sources []string // logical source topics, sorted
	Stores  []string // sorted
}

// Finish validates the graph and splits it into sub-topologies. It reports
// every error recorded while building, each naming its step.
func (g *Graph) Finish() error {
	if g.built {
		return errors.New("topology: already built")
	}
	g.built = true
	if len(g.Nodes) == 0 && len(g.Globals) == 0 {
		g.Errorf("the topology is empty: add a stream or table")
	}
	for _, n := range g.Nodes {
		for _, s := range n.Stores {
			if _, ok := g.Stores[s]; !ok {
				g.Errorf("step %s: uses store %s, which no step defines", n.Name, s)
			}
		}
		if n.Kind == SourceNode && len(n.Children) == 0 && len(g.errs) == 0 {
			// A dangling source still consumes: allowed, as in Kafka.
			continue
		}
	}
	g.checkCoPartitionAtBuild()
	if len(g.errs) > 0 {
		return errors.Join(g.errs...)
	}
	g.split()
	return nil
}

// checkCoPartitionAtBuild catches what can be known before the topics
// exist: internal topics whose partition counts the user fixed and that
// disagree within a co-partitioned group.
func (g *Graph) checkCoPartitionAtBuild() {
	for _, cp := range g.Copart {
		want, from := 0, ""
		var topics []string
		for _, n := range cp.Nodes {
			topics = append(topics, g.SourceTopics(n)...)
		}
		for _, t := range topics {
			it, ok := g.Internal[t]
			if !ok || it.Partitions == 0 {
				continue
			}
			if want == 0 {
				want, from = it.Partitions, t
				continue
			}
			if it.Partitions != want {
				g.Errorf("step %s: joins topics that are not co-partitioned: %s has %d partitions but %s has %d; "+
					"the inputs of a join must have the same number of partitions (repartition them to the same count)",
					cp.Step, from, want, t, it.Partitions)
			}
		}
	}
}

// split computes connected components: nodes joined by an edge or by a
// shared store run in the same task.
func (g *Graph) split() {
	parent := make([]int, len(g.Nodes))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	union := func(a, b int) {
		ra, rb := find(a), find(b)
		if ra == rb {
			return
		}
		if ra < rb {
			parent[rb] = ra
		} else {
			parent[ra] = rb
		}
	}
	storeOwner := map[string]int{}
	for _, n := range g.Nodes {
		for _, c := range n.Children {
			union(n.order, c.order)
		}
		for _, s := range n.Stores {
			if st := g.Stores[s]; st != nil && st.Global {
				continue
			}
			if o, ok := storeOwner[s]; ok {
				union(o, n.order)
			} else {
				storeOwner[s] = n.order
			}
		}
	}
	byRoot := map[int]*Subtopology{}
	var roots []int
	for _, n := range g.Nodes {
		r := find(n.order)
		st := byRoot[r]
		if st == nil {
			st = &Subtopology{}
			byRoot[r] = st
			roots = append(roots, r)
		}
		st.Nodes = append(st.Nodes, n)
	}
	sort.Ints(roots)
	for i, r := range roots {
		st := byRoot[r]
		st.ID = i
		stores := map[string]bool{}
		for _, n := range st.Nodes {
			n.sub = i
			if n.Kind == SourceNode {
				st.Sources = append(st.Sources, n.Topics...)
			}
			for _, s := range n.Stores {
				if !g.Stores[s].Global {
					stores[s] = true
				}
			}
		}
		slices.Sort(st.Sources)
		st.Sources = slices.Compact(st.Sources)
		for s := range stores {
			st.Stores = append(st.Stores, s)
		}
		slices.Sort(st.Stores)
		g.Subtopologies = append(g.Subtopologies, st)
	}
}

// SubtopologyOf returns the sub-topology that reads a logical topic.
func (g *Graph) SubtopologyOf(topic string) *Subtopology {
	for _, st := range g.Subtopologies {
		if slices.Contains(st.Sources, topic) {
			return st
		}
	}
	return nil
}

// Writers returns the sub-topologies with a sink to a logical topic.
func (g *Graph) Writers(topic string) []*Subtopology {
	var out []*Subtopology
	for _, st := range g.Subtopologies {
		for _, n := range st.Nodes {
			if n.Kind == SinkNode && n.SinkTopic == topic {
				out = append(out, st)
				break
			}
		}
	}
	return out
}

// Sub is the sub-topology number of a node.
func (n *Node) Sub() int { return n.sub }

// GraphOf unwraps a *streams.Topology; the streams package sets it, so
// that the runtime and the test driver reach the graph without a public
// accessor.
var GraphOf func(topology any) *Graph
