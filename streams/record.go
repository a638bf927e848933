package streams

import (
	"fmt"

	"github.com/tributary-streams/tributary/streams/internal/topology"
)

// Record is one record flowing through a topology. Timestamp is its event
// time in milliseconds since the Unix epoch.
type Record[K, V any] struct {
	Key       K
	Value     V
	Timestamp int64
	Headers   []Header
}

// Header is a record header.
type Header = topology.Header

// KeyValue is a key and a value.
type KeyValue[K, V any] struct {
	Key   K
	Value V
}

// receiver is a processor that takes records of one type: what a step
// forwards to.
type receiver[K, V any] interface {
	receive(r Record[K, V]) error
}

// forward is a step's children.
type forward[K, V any] []receiver[K, V]

func (f forward[K, V]) send(r Record[K, V]) error {
	for _, c := range f {
		if err := c.receive(r); err != nil {
			return err
		}
	}
	return nil
}

// childrenOf casts a node's children to what the node forwards.
func childrenOf[K, V any](b *topology.Build) (forward[K, V], error) {
	out := make(forward[K, V], 0, len(b.Children()))
	for i, c := range b.Children() {
		r, ok := c.(receiver[K, V])
		if !ok {
			return nil, fmt.Errorf("child %s of step %s does not take %s records", b.Node.Children[i].Name, b.Node.Name, recordType[K, V]())
		}
		out = append(out, r)
	}
	return out, nil
}

func recordType[K, V any]() string { return "(" + typeName[K]() + ", " + typeName[V]() + ")" }

// receiveFunc adapts a function to a receiver.
type receiveFunc[K, V any] func(r Record[K, V]) error

func (f receiveFunc[K, V]) receive(r Record[K, V]) error { return f(r) }

// processor adds a processor node under parents whose Build makes a
// receiver of (KI, VI) from its children of (KO, VO).
func processor[KO, VO any](b *Builder, name string, stores []string, parents []*topology.Node,
	make func(bd *topology.Build, next forward[KO, VO]) (any, error)) *topology.Node {
	return b.g.Add(&topology.Node{
		Name: name, Kind: topology.ProcessorNode, Stores: stores,
		Build: func(bd *topology.Build) (any, error) {
			next, err := childrenOf[KO, VO](bd)
			if err != nil {
				return nil, err
			}
			return make(bd, next)
		},
	}, parents...)
}
