package mirror

// Source positions: the last source offset each task copied, stored on the
// target in Kafka Connect's offsets-topic layout (mm2-offsets.<source>.internal,
// as MirrorMaker 2 in dedicated mode keeps them), so they survive with the
// data they describe. Task i writes to partition i.

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/mirror/internal/mm2"
)

// topicPartition names a source partition.
type topicPartition struct {
	topic     string
	partition int32
}

// loadPositions reads the positions topic to its end (the last stable
// offset: what committed transactions wrote) and returns the last copied
// offset of every source partition of the flow. A source partition may
// have positions in several partitions of the topic, if tasks.max
// changed; the highest wins, as each is a point up to which records were
// copied.
func (f *flow) loadPositions(ctx context.Context, tgtAdm *kadm.Client) (map[topicPartition]int64, error) {
	out := map[topicPartition]int64{}
	err := f.readToEnd(ctx, f.tgt, tgtAdm, f.positionsTopic, true, func(r *kgo.Record) {
		pos, err := mm2.DecodePosition(r.Key, r.Value)
		if err != nil || pos.Cluster != f.cfg.Source {
			return // another connector's record, or another cluster's
		}
		tp := topicPartition{pos.Topic, pos.Partition}
		if cur, ok := out[tp]; !ok || pos.Offset > cur {
			out[tp] = pos.Offset
		}
	})
	if err != nil {
		return nil, fmt.Errorf("load positions: %w", err)
	}
	return out, nil
}

// positionRecord is the record that stores pos for task.
func (f *flow) positionRecord(task int, tp topicPartition, last int64) *kgo.Record {
	pos := mm2.Position{Cluster: f.cfg.Source, Topic: tp.topic, Partition: tp.partition, Offset: last}
	return &kgo.Record{Topic: f.positionsTopic, Partition: int32(task), Key: pos.Key(), Value: pos.Value()}
}

// syncWriter writes offset syncs, asynchronously: they are advice for
// checkpoints, so a failed one is logged and a later one takes its place.
type syncWriter struct {
	cl    *kgo.Client
	topic string
	f     *flow

	failures int // only touched from produce promises, which kgo serializes per partition
}

func (w *syncWriter) send(s mm2.OffsetSync) {
	w.cl.Produce(context.Background(), &kgo.Record{Topic: w.topic, Partition: 0, Key: s.Key(), Value: s.Value()}, func(_ *kgo.Record, err error) {
		if err != nil {
			if w.failures++; w.failures == 1 || w.failures%1000 == 0 {
				w.f.log.Warn("offset sync not written", "topic", w.topic, "failures", w.failures, "err", err)
			}
		}
	})
}
