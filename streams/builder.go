package streams

import (
	"errors"
	"fmt"

	"github.com/tributary-streams/tributary/streams/internal/topology"
)

// Builder collects the steps of a topology. Steps record their mistakes
// (a missing serde, an option that does not apply, joined inputs that
// cannot be co-partitioned) and Build reports them all, each naming its
// step.
type Builder struct {
	g *topology.Graph
}

// NewBuilder returns an empty builder.
func NewBuilder() *Builder { return &Builder{g: topology.New()} }

// Topology is a built, validated topology, ready to run (New) or to test
// (streamstest.NewDriver).
type Topology struct {
	g *topology.Graph
}

// ErrInvalidTopology wraps every build error.
var ErrInvalidTopology = errors.New("streams: invalid topology")

// Build validates the topology and splits it into sub-topologies. A
// builder builds once.
func (b *Builder) Build() (*Topology, error) {
	if err := b.g.Finish(); err != nil {
		return nil, fmt.Errorf("%w:\n%w", ErrInvalidTopology, err)
	}
	return &Topology{g: b.g}, nil
}

// Describe prints the topology in Kafka Streams' format: sub-topologies,
// their sources, processors and sinks, with topics and stores.
func (t *Topology) Describe() string { return t.g.Describe() }

// Graph is for this module's runtime and test driver.
func graphOf(t *Topology) *topology.Graph { return t.g }

func init() { topology.GraphOf = func(t any) *topology.Graph { return graphOf(t.(*Topology)) } }
