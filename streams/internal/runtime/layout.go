// Package runtime runs a topology against a Kafka-protocol cluster: tasks
// assigned through a consumer group, restored from changelogs off the poll
// loop, committed at-least-once or exactly-once.
package runtime

import (
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/tributary-streams/tributary/streams/internal/topology"
)

// layout is where a topology's topics are and how many partitions each
// has: the source topics per sub-topology, the internal topics to create,
// and the number of tasks of each sub-topology.
type layout struct {
	app        string
	partitions map[string]int32 // logical topic -> partitions
	tasks      []int32          // per sub-topology: number of tasks
	changelogs map[string]*changelogTopic
	// byTopic maps each physical source topic to its sub-topology.
	byTopic map[string]int
}

// changelogTopic is a store's changelog.
type changelogTopic struct {
	topic      string
	store      *topology.Store
	sub        int
	partitions int32
}

// ErrMissingSourceTopic reports a source topic that does not exist
// (Kafka Streams' MissingSourceTopicException).
var ErrMissingSourceTopic = errors.New("streams: missing source topic")

// resolveLayout derives every partition count from the user topics'
// (counts): a repartition topic gets the partitions of the sub-topology
// that writes it unless the user fixed them, the inputs of a join must
// agree (internal ones follow the user topics of their group), and a
// sub-topology has as many tasks as its largest input.
func resolveLayout(g *topology.Graph, app string, counts map[string]int32) (*layout, error) {
	l := &layout{app: app, partitions: map[string]int32{}, changelogs: map[string]*changelogTopic{}, byTopic: map[string]int{}}
	var missing []string
	for _, st := range g.Subtopologies {
		for _, t := range st.Sources {
			if _, internal := g.Internal[t]; internal {
				continue
			}
			n, ok := counts[t]
			if !ok || n <= 0 {
				missing = append(missing, t)
				continue
			}
			l.partitions[t] = n
		}
	}
	for _, t := range g.GlobalTopics() {
		if n, ok := counts[t]; !ok || n <= 0 {
			missing = append(missing, t)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return nil, fmt.Errorf("%w: %v; create the input topics before starting the application", ErrMissingSourceTopic, slices.Compact(missing))
	}
	fixed := map[string]bool{}
	for name, it := range g.Internal {
		if it.Partitions > 0 {
			l.partitions[name] = int32(it.Partitions)
			fixed[name] = true
		}
	}
	groups := make([][]string, len(g.Copart))
	inGroup := map[string]bool{}
	for i, cp := range g.Copart {
		for _, n := range cp.Nodes {
			groups[i] = append(groups[i], g.SourceTopics(n)...)
		}
		slices.Sort(groups[i])
		groups[i] = slices.Compact(groups[i])
		for _, t := range groups[i] {
			inGroup[t] = true
		}
	}
	subCount := func(st *topology.Subtopology) int32 {
		var n int32
		for _, t := range st.Sources {
			n = max(n, l.partitions[t])
		}
		return n
	}
	for range len(g.Internal) + 2 {
		changed := false
		for name := range g.Internal {
			if fixed[name] || inGroup[name] {
				continue
			}
			var n int32
			for _, w := range g.Writers(name) {
				n = max(n, subCount(w))
			}
			if n > l.partitions[name] {
				l.partitions[name] = n
				changed = true
			}
		}
		for i, cp := range g.Copart {
			target, from := int32(0), ""
			for _, t := range groups[i] {
				if _, internal := g.Internal[t]; internal && !fixed[t] {
					continue
				}
				n := l.partitions[t]
				if target == 0 {
					target, from = n, t
					continue
				}
				if n != target {
					return nil, fmt.Errorf("streams: step %s joins topics that are not co-partitioned: %s has %d partitions but %s has %d; "+
						"the inputs of a join must have the same number of partitions", cp.Step, from, target, t, n)
				}
			}
			if target == 0 {
				// Only derived internal topics: they follow their writers.
				for _, t := range groups[i] {
					for _, w := range g.Writers(t) {
						target = max(target, subCount(w))
					}
				}
			}
			for _, t := range groups[i] {
				if _, internal := g.Internal[t]; internal && !fixed[t] && target > 0 && l.partitions[t] != target {
					l.partitions[t] = target
					changed = true
				}
			}
		}
		if !changed {
			break
		}
	}
	for name := range g.Internal {
		if l.partitions[name] <= 0 {
			return nil, fmt.Errorf("streams: cannot derive the partition count of internal topic %s; fix it with WithPartitions", name)
		}
	}
	for _, st := range g.Subtopologies {
		n := subCount(st)
		l.tasks = append(l.tasks, n)
		for _, t := range st.Sources {
			l.byTopic[g.TopicName(app, t)] = st.ID
		}
		for _, s := range st.Stores {
			store := g.Stores[s]
			if !store.Logged {
				continue
			}
			topic := topology.ChangelogTopic(app, s)
			l.changelogs[topic] = &changelogTopic{topic: topic, store: store, sub: st.ID, partitions: n}
		}
	}
	return l, nil
}

// topicSpec is an internal topic to create.
type topicSpec struct {
	name       string
	partitions int32
	configs    map[string]*string
}

func strp(s string) *string { return &s }

// internalTopics lists the topics the runtime creates: repartition (and
// foreign-key subscription) topics, and compacted changelogs; window and
// session changelogs also delete by time, after the store's retention.
func (l *layout) internalTopics(g *topology.Graph) []topicSpec {
	var out []topicSpec
	for name := range g.Internal {
		out = append(out, topicSpec{name: g.TopicName(l.app, name), partitions: l.partitions[name],
			configs: map[string]*string{"cleanup.policy": strp("delete")}})
	}
	for _, c := range l.changelogs {
		cfg := map[string]*string{"cleanup.policy": strp("compact")}
		if c.store.Kind != topology.KeyValueStore {
			cfg["cleanup.policy"] = strp("compact,delete")
			cfg["retention.ms"] = strp(strconv.FormatInt(c.store.ChangelogRetention.Milliseconds(), 10))
		}
		out = append(out, topicSpec{name: c.topic, partitions: c.partitions, configs: cfg})
	}
	slices.SortFunc(out, func(a, b topicSpec) int {
		if a.name < b.name {
			return -1
		}
		if a.name > b.name {
			return 1
		}
		return 0
	})
	return out
}

// sourceTopics are the physical topics the group subscribes to.
func (l *layout) sourceTopics() []string {
	out := make([]string, 0, len(l.byTopic))
	for t := range l.byTopic {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// taskPartitions are the (topic, partition) pairs of a task: partition p
// of every source topic of its sub-topology that has one.
func (l *layout) taskPartitions(g *topology.Graph, id topology.TaskID) map[string][]int32 {
	out := map[string][]int32{}
	for _, t := range g.Subtopologies[id.Subtopology].Sources {
		if id.Partition < l.partitions[t] {
			phys := g.TopicName(l.app, t)
			out[phys] = append(out[phys], id.Partition)
		}
	}
	return out
}
