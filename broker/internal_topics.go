package broker

// Kafka's internal topics, __consumer_offsets and __transaction_state.
//
// Both are listed by Metadata with is_internal=true (so regex subscriptions
// skip them, as clients do with Kafka's), are compacted, and are written by
// the broker alone:
//
//   - __consumer_offsets (offsets.topic.num.partitions partitions, default
//     50) is the group coordinator's state in Kafka's record format, a view
//     of its state file kept in step by the coordinator (see
//     internal/group/offsets_topic.go). It is created when the first group
//     record is written, or when a Metadata request asks for it with auto
//     creation allowed.
//   - __transaction_state (transaction.state.log.num.partitions, default
//     50) is listed but stays empty: the transaction coordinator keeps its
//     state in <data-dir>/__transactions only. The first transactional
//     InitProducerId creates it in the background (Kafka creates its
//     transaction log on first use too), or a Metadata request as above.
//
// Requests that would change them are refused with the errors Kafka gives:
//
//   - Produce and DeleteRecords: INVALID_TOPIC_EXCEPTION, as Kafka's
//     ReplicaManager answers for any client ("Cannot append to internal
//     topic", "Cannot delete records of internal topic").
//   - CreateTopics, DeleteTopics, CreatePartitions, AlterConfigs and
//     IncrementalAlterConfigs: TOPIC_AUTHORIZATION_FAILED, what Kafka
//     answers when an operation on a topic is not permitted (and what its
//     controller answers for CreateTopics of its own internal topic,
//     __cluster_metadata).
//
// Differences from Kafka: Kafka's brokers accept these admin operations on
// its internal topics from a principal the authorizer allows (its tools
// refuse them client-side: "is a kafka internal topic and is not allowed to
// be marked for deletion"); here the topics are views of coordinator state
// that such a change would corrupt, so nobody may make it. Kafka marks any
// topic it lists in Topic.isInternal as internal; so does this broker, and
// a topic merely starting with "__" is an ordinary topic, as in Kafka.

import (
	"errors"
	"fmt"
	"maps"
	"strconv"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/tributary-streams/tributary/broker/internal/group"
	"github.com/tributary-streams/tributary/broker/internal/record"
)

// transactionStateTopic is Kafka's transaction log topic.
const transactionStateTopic = "__transaction_state"

// isInternalTopic reports whether name is one of Kafka's internal topics.
func isInternalTopic(name string) bool {
	return name == group.OffsetsTopicName || name == transactionStateTopic
}

// internalTopicConfigs are the overrides Kafka creates its internal topics
// with: compacted, 100 MiB segments (offsets.topic.segment.bytes,
// transaction.state.log.segment.bytes).
func internalTopicConfigs() map[string]string {
	return map[string]string{"cleanup.policy": "compact", "segment.bytes": strconv.Itoa(100 << 20)}
}

// errInternalTopicWrite is INVALID_TOPIC_EXCEPTION for a write to an
// internal topic.
func errInternalTopicWrite(name, what string) error {
	return kerrWith(kerr.InvalidTopicException, fmt.Sprintf("cannot %s internal topic %s: it is written by the broker only", what, name))
}

// errInternalTopicChange is TOPIC_AUTHORIZATION_FAILED for an admin change
// to an internal topic.
func errInternalTopicChange(name, what string) error {
	return kerrWith(kerr.TopicAuthorizationFailed, fmt.Sprintf("cannot %s %s: it is an internal topic, kept by the broker", what, name))
}

// internalTopics creates the internal topics on demand.
type internalTopics struct {
	b  *Broker
	mu sync.Mutex // serialises creation
	// creating marks the topics ensureSoon is creating in the background.
	creating sync.Map
	// partitions is each internal topic's partition count: the existing
	// topic's, or the configured one (fixed at start: the group coordinator
	// places groups by it).
	partitions map[string]int32
}

func newInternalTopics(b *Broker) (*internalTopics, error) {
	it := &internalTopics{b: b, partitions: map[string]int32{
		group.OffsetsTopicName: b.cfg.OffsetsTopicNumPartitions,
		transactionStateTopic:  b.cfg.TransactionStateLogNumPartitions,
	}}
	for name, want := range it.partitions {
		t := b.topics.get(name)
		if t == nil {
			continue
		}
		if n := t.numPartitions(); n != want {
			b.logger.Warn("internal topic exists with another partition count; keeping it", "topic", name,
				"partitions", n, "configured", want)
			it.partitions[name] = n
		}
		// A data dir from before the internal topics were kept may hold
		// one auto-created as an ordinary topic: give it its configs, so
		// that it is compacted and never loses records to retention.
		if cfgs := b.topics.configsOf(t); !maps.Equal(cfgs, internalTopicConfigs()) {
			if err := b.topics.replaceConfigs(name, internalTopicConfigs(), false); err != nil {
				return nil, fmt.Errorf("internal topic %s: %w", name, err)
			}
			b.logger.Warn("internal topic had other configs; reset to the internal ones", "topic", name, "had", cfgs)
		}
	}
	return it, nil
}

// ensure returns internal topic name, creating it (with its partitions and
// configs, never as an ordinary topic) if it does not exist yet.
func (it *internalTopics) ensure(name string) (*topic, error) {
	if t := it.b.topics.get(name); t != nil {
		return t, nil
	}
	it.mu.Lock()
	defer it.mu.Unlock()
	if t := it.b.topics.get(name); t != nil {
		return t, nil
	}
	t, err := it.b.topics.create(createSpec{name: name, partitions: it.partitions[name], configs: internalTopicConfigs()})
	if errors.Is(err, errTopicExists) {
		return it.b.topics.get(name), nil
	}
	if err != nil {
		return nil, fmt.Errorf("create internal topic %s: %w", name, err)
	}
	return t, nil
}

// ensureSoon creates internal topic name in the background if it does not
// exist yet, so that the request that asks for it does not wait for its
// partitions. It must be called from a goroutine the broker's WaitGroup
// counts (a connection's), which Close waits for: the creation then ends
// before Close closes the logs.
func (it *internalTopics) ensureSoon(name string) {
	if it.b.topics.get(name) != nil {
		return
	}
	if _, busy := it.creating.LoadOrStore(name, true); busy {
		return
	}
	it.b.wg.Add(1)
	go func() {
		defer it.b.wg.Done()
		defer it.creating.Delete(name)
		if _, err := it.ensure(name); err != nil {
			it.b.logger.Warn("create internal topic", "topic", name, "err", err)
		}
	}()
}

// offsetsLog is __consumer_offsets as the group coordinator writes it
// (group.OffsetsLog).
type offsetsLog struct{ it *internalTopics }

// Append writes recs as one batch without a producer id, appended like a
// produced batch (so waiting fetches wake up), but not fsynced even with
// --fsync=always: the coordinator's state file is what is durable, and the
// coordinator rebuilds whatever the topic lost.
func (o offsetsLog) Append(partition int32, recs []group.OffsetsRecord) error {
	t, err := o.it.ensure(group.OffsetsTopicName)
	if err != nil {
		return err
	}
	p := t.partition(partition)
	if p == nil {
		return fmt.Errorf("%w: %s-%d", errTopicNotFound, group.OffsetsTopicName, partition)
	}
	batch, h, err := buildBatch(recs)
	if err != nil {
		return err
	}
	_, code, err := p.appendBatch(batch, h)
	if err != nil {
		return err
	}
	if code != 0 {
		return kerr.ErrorForCode(code)
	}
	return nil
}

// Scan reads every record of a partition of __consumer_offsets.
func (o offsetsLog) Scan(partition int32, fn func(key, value []byte)) error {
	p := o.it.b.topics.get(group.OffsetsTopicName).partition(partition)
	if p == nil {
		return nil
	}
	return p.log.ForEachBatch(p.log.StartOffset(), func(h record.Header, batch []byte) error {
		if h.IsControl() {
			return nil
		}
		recs, err := record.Records(batch)
		if err != nil {
			return fmt.Errorf("batch at offset %d: %w", h.BaseOffset, err)
		}
		for _, r := range recs {
			fn(r.Key, r.Value)
		}
		return nil
	})
}

// buildBatch encodes recs as one uncompressed record batch with no
// producer id, timestamps relative to the earliest.
func buildBatch(recs []group.OffsetsRecord) ([]byte, record.Header, error) {
	base := recs[0].TimestampMs
	for _, r := range recs {
		base = min(base, r.TimestampMs)
	}
	rs := make([]record.Record, len(recs))
	for i, r := range recs {
		rs[i] = record.Record{OffsetDelta: int32(i), TimestampDelta: r.TimestampMs - base, Key: r.Key, Value: r.Value}
	}
	batch, err := record.Build(record.Header{
		Magic: 2, BaseTimestamp: base, MaxTimestamp: base,
		ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1,
	}, rs, record.None)
	if err != nil {
		return nil, record.Header{}, err
	}
	h, err := record.ParseHeader(batch)
	return batch, h, err
}
