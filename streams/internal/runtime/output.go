package runtime

import (
	"context"
	"fmt"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/streams/internal/topology"
)

// producer is how tasks write: outputs, repartition records and
// changelog records, through one client (the transactional one under
// exactly-once). It remembers the offset of the last acknowledged
// changelog record per partition, which becomes the shard's checkpoint,
// and the first produce error, which fails the next commit.
//
// Order of events: Send and Append run on the processing goroutine;
// promise runs on franz-go's goroutines, so offsets and err are behind mu.
// A commit reads them after Flush returns, when every promise of the
// records sent before it has run.
type producer struct {
	produce func(ctx context.Context, r *kgo.Record, promise func(*kgo.Record, error))
	ctx     context.Context

	mu      sync.Mutex
	err     error
	offsets map[topicPartition]int64
	// changelogs are the topics records go to by explicit partition.
	changelogs map[string]bool
	promise    func(*kgo.Record, error)
}

type topicPartition struct {
	topic     string
	partition int32
}

func newProducer(ctx context.Context, changelogs map[string]bool, produce func(ctx context.Context, r *kgo.Record, promise func(*kgo.Record, error))) *producer {
	p := &producer{produce: produce, ctx: ctx, offsets: map[topicPartition]int64{}, changelogs: changelogs}
	p.promise = p.done
	return p
}

func (p *producer) done(r *kgo.Record, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		if p.err == nil {
			p.err = fmt.Errorf("produce to %s: %w", r.Topic, err)
		}
		return
	}
	if p.changelogs[r.Topic] {
		tp := topicPartition{r.Topic, r.Partition}
		if r.Offset >= p.offsets[tp] {
			p.offsets[tp] = r.Offset
		}
	}
}

// firstErr returns (and clears) the first produce error since the last
// call.
func (p *producer) firstErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	err := p.err
	p.err = nil
	return err
}

// lastOffset is the offset of the last acknowledged record of a changelog
// partition, or -1.
func (p *producer) lastOffset(topic string, partition int32) int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	off, ok := p.offsets[topicPartition{topic, partition}]
	if !ok {
		return -1
	}
	return off
}

func toKgoHeaders(hs []topology.Header) []kgo.RecordHeader {
	if len(hs) == 0 {
		return nil
	}
	out := make([]kgo.RecordHeader, len(hs))
	for i, h := range hs {
		out[i] = kgo.RecordHeader{Key: h.Key, Value: h.Value}
	}
	return out
}

// Send implements topology.Output.
func (p *producer) Send(topic string, partition int32, key, value []byte, ts int64, headers []topology.Header) {
	r := &kgo.Record{Topic: topic, Key: key, Value: value, Headers: toKgoHeaders(headers)}
	if ts >= 0 {
		r.Timestamp = timeOf(ts)
	}
	if partition >= 0 {
		r.Partition = partition
	}
	p.produce(p.ctx, r, p.promise)
}

// changelog writes one store's changes of one task to its changelog
// partition.
type changelog struct {
	p         *producer
	topic     string
	partition int32
	now       func() int64
}

// Append implements state.Changelog: the key and value are copied, as
// the stores reuse their buffers.
func (c *changelog) Append(key, value []byte) {
	r := &kgo.Record{Topic: c.topic, Partition: c.partition, Key: append([]byte(nil), key...), Timestamp: timeOf(c.now())}
	if value != nil {
		r.Value = append([]byte(nil), value...)
	}
	c.p.produce(c.p.ctx, r, c.p.promise)
}

// partitioner sends changelog records to the partition they name and
// every other record by key, as Kafka's default partitioner does (murmur2;
// records without a key spread sticky).
type partitioner struct {
	manual map[string]bool
}

func (p partitioner) ForTopic(topic string) kgo.TopicPartitioner {
	if p.manual[topic] {
		return kgo.ManualPartitioner().ForTopic(topic)
	}
	return kgo.StickyKeyPartitioner(nil).ForTopic(topic)
}
