package topology

import (
	"fmt"
	"strings"
)

// Describe prints the topology in Kafka Streams' TopologyDescription
// format: each sub-topology with its nodes in order, each node with its
// topics or stores and its successors (-->) and predecessors (<--).
// Internal topics appear under their logical names, without the
// application id.
func (g *Graph) Describe() string {
	var b strings.Builder
	b.WriteString("Topologies:\n")
	for _, st := range g.Subtopologies {
		fmt.Fprintf(&b, "   Sub-topology: %d\n", st.ID)
		for _, n := range st.Nodes {
			switch n.Kind {
			case SourceNode:
				fmt.Fprintf(&b, "    Source: %s (topics: [%s])\n", n.Name, strings.Join(n.Topics, ", "))
			case SinkNode:
				topic := n.SinkTopic
				if topic == "" {
					topic = "<chosen per record>"
				}
				fmt.Fprintf(&b, "    Sink: %s (topic: %s)\n", n.Name, topic)
			default:
				fmt.Fprintf(&b, "    Processor: %s (stores: [%s])\n", n.Name, strings.Join(n.Stores, ", "))
			}
			if n.Kind != SinkNode {
				fmt.Fprintf(&b, "      --> %s\n", names(n.Children))
			}
			if n.Kind != SourceNode {
				fmt.Fprintf(&b, "      <-- %s\n", names(n.Parents))
			}
		}
	}
	for i, gs := range g.Globals {
		fmt.Fprintf(&b, "   Sub-topology: %d for global store (will not generate tasks)\n", len(g.Subtopologies)+i)
		fmt.Fprintf(&b, "    Source: %s (topics: [%s])\n", "GLOBAL-SOURCE-"+gs.Store, gs.Topic)
		fmt.Fprintf(&b, "      --> GLOBAL-STORE-%s\n", gs.Store)
		fmt.Fprintf(&b, "    Processor: GLOBAL-STORE-%s (stores: [%s])\n", gs.Store, gs.Store)
		fmt.Fprintf(&b, "      --> none\n      <-- GLOBAL-SOURCE-%s\n", gs.Store)
	}
	return b.String()
}

func names(ns []*Node) string {
	if len(ns) == 0 {
		return "none"
	}
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = n.Name
	}
	return strings.Join(s, ", ")
}
