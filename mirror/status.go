package mirror

import (
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sort"
	"sync"
)

// FlowStatus is what one flow is doing in this process.
type FlowStatus struct {
	// Flow is "source->target".
	Flow string
	// Err is why the flow is not running, nil while it runs: an invalid
	// setting, or a cluster it cannot reach (it retries with backoff).
	Err error
	// Tasks are the flow's task numbers this process runs.
	Tasks []int
	// Topics are the source topics the flow copies, sorted by name.
	Topics []TopicStatus
}

// TopicStatus is one source topic of a flow.
type TopicStatus struct {
	// Source and Remote name the topic on the source and the target.
	Source, Remote string
	// Partitions is how many of the source's partitions are copied.
	Partitions int32
	// Err is why the topic, or some of its partitions, is not copied (a
	// target topic with fewer partitions that may not be grown, a gap
	// preserve-offsets cannot keep); nil when it all is.
	Err error
}

// statusBox holds a flow's status; the flow's goroutines write it, Status
// reads it, under mu.
type statusBox struct {
	mu     sync.Mutex
	log    *slog.Logger
	status FlowStatus
	topics map[string]*TopicStatus
	parts  map[string]map[int32]error // partition errors by source topic
	tasks  map[int]bool
}

func newStatusBox(flow string, log *slog.Logger) *statusBox {
	return &statusBox{log: log, status: FlowStatus{Flow: flow}, topics: map[string]*TopicStatus{},
		parts: map[string]map[int32]error{}, tasks: map[int]bool{}}
}

// setErr records the flow's error, logging it when it changes.
func (b *statusBox) setErr(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	prev := b.status.Err
	b.status.Err = err
	switch {
	case err != nil && (prev == nil || prev.Error() != err.Error()):
		b.log.Error("flow not running; retrying", "err", err)
	case err == nil && prev != nil:
		b.log.Info("flow running again")
	}
}

// setTopics replaces the topic list with the one discovery found.
func (b *statusBox) setTopics(topics []TopicStatus) {
	b.mu.Lock()
	defer b.mu.Unlock()
	next := map[string]*TopicStatus{}
	for _, t := range topics {
		old := b.topics[t.Source]
		if t.Err != nil && (old == nil || old.Err == nil || old.Err.Error() != t.Err.Error()) {
			b.log.Error("topic not copied", "topic", t.Source, "err", t.Err)
		}
		next[t.Source] = &t
	}
	b.topics = next
}

// setPartitionErr records why one partition stopped (nil clears it).
func (b *statusBox) setPartitionErr(topic string, partition int32, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err == nil {
		delete(b.parts[topic], partition)
		return
	}
	if b.parts[topic] == nil {
		b.parts[topic] = map[int32]error{}
	}
	if prev := b.parts[topic][partition]; prev == nil || prev.Error() != err.Error() {
		b.log.Error("partition not copied", "topic", topic, "partition", partition, "err", err)
	}
	b.parts[topic][partition] = err
}

func (b *statusBox) setTask(task int, running bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if running {
		b.tasks[task] = true
	} else {
		delete(b.tasks, task)
	}
}

func (b *statusBox) get() FlowStatus {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.status
	s.Tasks = slices.Sorted(maps.Keys(b.tasks))
	for _, t := range b.topics {
		ts := *t
		if perr := b.parts[t.Source]; len(perr) > 0 && ts.Err == nil {
			ps := slices.Sorted(maps.Keys(perr))
			ts.Err = fmt.Errorf("partition %d: %w", ps[0], perr[ps[0]])
			if len(ps) > 1 {
				ts.Err = fmt.Errorf("%w (and %d more partitions)", ts.Err, len(ps)-1)
			}
		}
		s.Topics = append(s.Topics, ts)
	}
	sort.Slice(s.Topics, func(i, j int) bool { return s.Topics[i].Source < s.Topics[j].Source })
	return s
}
