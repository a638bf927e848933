package broker_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-streams/tributary/broker"
	"github.com/tributary-streams/tributary/internal/testkit"
)

const (
	offsetsTopic = "__consumer_offsets"
	txnTopic     = "__transaction_state"
)

// startInternalTopics starts a broker on which both internal topics exist:
// a committed offset creates __consumer_offsets, a transactional producer
// __transaction_state.
func startInternalTopics(t *testing.T, opts ...testkit.BrokerOption) *testkit.Broker {
	t.Helper()
	b := testkit.StartBroker(t, opts...)
	createTopic(t, b.Addr, "orders", 3, nil)
	adm := admin(t, b.Addr)
	offs := kadm.Offsets{}
	offs.Add(kadm.Offset{Topic: "orders", Partition: 0, At: 1})
	if err := adm.CommitAllOffsets(ctxT(t), "internal-g", offs); err != nil {
		t.Fatal(err)
	}
	p := testkit.Client(t, b.Addr, kgo.TransactionalID("internal-tx"), kgo.DefaultProduceTopic("orders"))
	if err := p.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := p.ProduceSync(ctxT(t), &kgo.Record{Value: []byte("v")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if err := p.EndTransaction(ctxT(t), kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	// The group coordinator creates __consumer_offsets with its first
	// append, from a goroutine of its own.
	testkit.Eventually(t, 30*time.Second, func() error {
		for _, rt := range metadataRaw(t, b.Addr, 12, false, []string{offsetsTopic, txnTopic}).Topics {
			if rt.ErrorCode != 0 {
				return fmt.Errorf("%s: %v", *rt.Topic, kerr.ErrorForCode(rt.ErrorCode))
			}
		}
		return nil
	})
	return b
}

func TestInternalTopicsInMetadata(t *testing.T) {
	b := startInternalTopics(t, testkit.WithConfig("offsets.topic.num.partitions", "7"))
	// A name starting with "__" is not enough to be internal, as in Kafka.
	createTopic(t, b.Addr, "__mine", 1, nil)

	for _, v := range []int16{1, 6, 12} {
		resp := metadataRaw(t, b.Addr, v, false, nil)
		want := map[string]struct {
			internal   bool
			partitions int
		}{offsetsTopic: {true, 7}, txnTopic: {true, 5}, "orders": {false, 3}, "__mine": {false, 1}}
		for _, rt := range resp.Topics {
			w, ok := want[*rt.Topic]
			if !ok {
				t.Fatalf("v%d: unexpected topic %s", v, *rt.Topic)
			}
			if rt.IsInternal != w.internal || len(rt.Partitions) != w.partitions {
				t.Fatalf("v%d %s: internal %v with %d partitions, want %v with %d", v, *rt.Topic, rt.IsInternal, len(rt.Partitions), w.internal, w.partitions)
			}
			delete(want, *rt.Topic)
		}
		if len(want) != 0 {
			t.Fatalf("v%d: topics missing from Metadata: %v", v, want)
		}
	}

	// Both are compacted, as Kafka creates them.
	adm := admin(t, b.Addr)
	for _, name := range []string{offsetsTopic, txnTopic} {
		if c := topicConfig(t, adm, name, "cleanup.policy"); c.MaybeValue() != "compact" {
			t.Fatalf("%s cleanup.policy=%s, want compact", name, c.MaybeValue())
		}
	}
}

// A regex subscription skips internal topics, as with Kafka: franz-go
// leaves out topics Metadata marks internal.
func TestRegexConsumerSkipsInternalTopics(t *testing.T) {
	b := startInternalTopics(t)
	createTopic(t, b.Addr, "regex-a", 2, nil)
	var want []*kgo.Record
	for i := range 10 {
		want = append(want, &kgo.Record{Topic: []string{"orders", "regex-a"}[i%2], Value: fmt.Appendf(nil, "r%d", i)})
	}
	testkit.Produce(t, b.Addr, want...)

	var mu sync.Mutex
	assigned := map[string]bool{}
	cl := testkit.Client(t, b.Addr, kgo.ConsumeRegex(), kgo.ConsumeTopics(".*"), kgo.ConsumerGroup("regex-group"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, a map[string][]int32) {
			mu.Lock()
			defer mu.Unlock()
			for topic := range a {
				assigned[topic] = true
			}
		}))
	seen := 0
	testkit.Eventually(t, 30*time.Second, func() error {
		ctx, cancel := context.WithTimeout(ctxT(t), time.Second)
		defer cancel()
		fs := cl.PollFetches(ctx)
		fs.EachRecord(func(r *kgo.Record) {
			if r.Topic == offsetsTopic || r.Topic == txnTopic {
				t.Errorf("regex consumer got a record of %s", r.Topic)
			}
			seen++
		})
		// The transactional record in orders counts too.
		if seen < len(want)+1 {
			return fmt.Errorf("%d of %d records", seen, len(want)+1)
		}
		return nil
	})
	mu.Lock()
	defer mu.Unlock()
	if assigned[offsetsTopic] || assigned[txnTopic] || !assigned["orders"] || !assigned["regex-a"] {
		t.Fatalf("regex subscription assigned %v; want orders and regex-a, no internal topic", assigned)
	}
}

// Every request that would change an internal topic is refused, with the
// error Kafka gives (see internal_topics.go), and leaves it as it was.
func TestInternalTopicsRefuseChanges(t *testing.T) {
	b := startInternalTopics(t)
	ctx := ctxT(t)
	adm := admin(t, b.Addr)
	cl := testkit.Client(t, b.Addr, kgo.RecordRetries(1))
	before := endOffsets(t, adm, offsetsTopic)

	for _, topic := range []string{offsetsTopic, txnTopic} {
		// Produce: INVALID_TOPIC_EXCEPTION.
		err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Key: []byte("k"), Value: []byte("garbage")}).FirstErr()
		if !errors.Is(err, kerr.InvalidTopicException) {
			t.Fatalf("produce to %s: %v, want INVALID_TOPIC_EXCEPTION", topic, err)
		}
		// DeleteRecords: INVALID_TOPIC_EXCEPTION.
		dr, err := adm.DeleteRecords(ctx, kadm.Offsets{topic: {0: {Topic: topic, Partition: 0, At: -1}}})
		if err != nil {
			t.Fatal(err)
		}
		if e := dr[topic][0].Err; !errors.Is(e, kerr.InvalidTopicException) {
			t.Fatalf("delete records of %s: %v, want INVALID_TOPIC_EXCEPTION", topic, e)
		}
		// CreateTopics, also validate-only: TOPIC_AUTHORIZATION_FAILED.
		for _, validate := range []bool{false, true} {
			resp := createTopicsRaw(t, b.Addr, validate, newTopic(topic, 1, -1))
			if code := resp.Topics[0].ErrorCode; code != kerr.TopicAuthorizationFailed.Code {
				t.Fatalf("create %s (validate only %v): %v, want TOPIC_AUTHORIZATION_FAILED", topic, validate, kerr.ErrorForCode(code))
			}
		}
		// DeleteTopics, by name and by id.
		dt, err := adm.DeleteTopics(ctx, topic)
		if err != nil {
			t.Fatal(err)
		}
		if e := dt[topic].Err; !errors.Is(e, kerr.TopicAuthorizationFailed) {
			t.Fatalf("delete %s: %v, want TOPIC_AUTHORIZATION_FAILED", topic, e)
		}
		td, err := adm.ListTopics(ctx, topic)
		if err != nil {
			t.Fatal(err)
		}
		byID := kmsg.NewPtrDeleteTopicsRequest()
		byID.Version = 6
		byID.Topics = []kmsg.DeleteTopicsRequestTopic{{TopicID: td[topic].ID}}
		if code := roundTrip(t, b.Addr, byID).(*kmsg.DeleteTopicsResponse).Topics[0].ErrorCode; code != kerr.TopicAuthorizationFailed.Code {
			t.Fatalf("delete %s by id: %v, want TOPIC_AUTHORIZATION_FAILED", topic, kerr.ErrorForCode(code))
		}
		// CreatePartitions.
		cp, err := adm.UpdatePartitions(ctx, 60, topic)
		if err != nil {
			t.Fatal(err)
		}
		if e := cp[topic].Err; !errors.Is(e, kerr.TopicAuthorizationFailed) {
			t.Fatalf("create partitions of %s: %v, want TOPIC_AUTHORIZATION_FAILED", topic, e)
		}
		// IncrementalAlterConfigs and AlterConfigs.
		ia, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Name: "retention.ms", Value: kmsg.StringPtr("1")}}, topic)
		if err != nil {
			t.Fatal(err)
		}
		if e := ia[0].Err; !errors.Is(e, kerr.TopicAuthorizationFailed) {
			t.Fatalf("incremental alter configs of %s: %v, want TOPIC_AUTHORIZATION_FAILED", topic, e)
		}
		la, err := adm.AlterTopicConfigsState(ctx, []kadm.AlterConfig{{Name: "cleanup.policy", Value: kmsg.StringPtr("delete")}}, topic)
		if err != nil {
			t.Fatal(err)
		}
		if e := la[0].Err; !errors.Is(e, kerr.TopicAuthorizationFailed) {
			t.Fatalf("alter configs of %s: %v, want TOPIC_AUTHORIZATION_FAILED", topic, e)
		}
	}

	// Nothing changed.
	md := metadataRaw(t, b.Addr, 12, false, []string{offsetsTopic, txnTopic})
	for _, rt := range md.Topics {
		if rt.ErrorCode != 0 || len(rt.Partitions) != 5 || !rt.IsInternal {
			t.Fatalf("%s after the refusals: %v, %d partitions, internal %v", *rt.Topic, kerr.ErrorForCode(rt.ErrorCode), len(rt.Partitions), rt.IsInternal)
		}
	}
	if c := topicConfig(t, adm, offsetsTopic, "cleanup.policy"); c.MaybeValue() != "compact" {
		t.Fatalf("cleanup.policy changed to %s", c.MaybeValue())
	}
	if after := endOffsets(t, adm, offsetsTopic); !maps.Equal(before, after) {
		t.Fatalf("%s was written by the refused requests: end offsets %v, then %v", offsetsTopic, before, after)
	}
}

// A client asking for an internal topic that does not exist yet gets it
// created as the broker keeps it, never as an ordinary topic; with Kafka's
// default of 50 partitions for __consumer_offsets.
func TestInternalTopicsNotAutoCreatedAsOrdinary(t *testing.T) {
	br, err := broker.Start(ctxT(t), broker.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), NumPartitions: 3,
		TransactionStateLogNumPartitions: 4, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { br.Close() })
	b := struct{ Addr string }{br.Addr()}
	for _, name := range []string{offsetsTopic, txnTopic} {
		if rt := metadataRaw(t, b.Addr, 12, false, []string{name}).Topics[0]; rt.ErrorCode != kerr.UnknownTopicOrPartition.Code {
			t.Fatalf("%s before any use: %v, want UNKNOWN_TOPIC_OR_PARTITION", name, kerr.ErrorForCode(rt.ErrorCode))
		}
	}
	// kgo with auto creation on asks for the topics it produces to.
	cl := testkit.Client(t, b.Addr, kgo.AllowAutoTopicCreation(), kgo.RecordRetries(1))
	err = cl.ProduceSync(ctxT(t), &kgo.Record{Topic: txnTopic, Value: []byte("garbage")}).FirstErr()
	if !errors.Is(err, kerr.InvalidTopicException) {
		t.Fatalf("produce to %s with auto creation: %v, want INVALID_TOPIC_EXCEPTION", txnTopic, err)
	}
	rt := metadataRaw(t, b.Addr, 12, true, []string{offsetsTopic, txnTopic})
	for i, want := range []int{50, 4} {
		got := rt.Topics[i]
		if got.ErrorCode != 0 || !got.IsInternal || len(got.Partitions) != want {
			t.Fatalf("%s: %v, internal %v, %d partitions; want internal with %d (not num.partitions)", *got.Topic,
				kerr.ErrorForCode(got.ErrorCode), got.IsInternal, len(got.Partitions), want)
		}
	}
	adm := admin(t, b.Addr)
	if n := sum(endOffsets(t, adm, txnTopic)); n != 0 {
		t.Fatalf("%s holds %d records; the refused produce wrote some", txnTopic, n)
	}
}

func endOffsets(t *testing.T, adm *kadm.Client, topic string) map[int32]int64 {
	t.Helper()
	l, err := adm.ListEndOffsets(ctxT(t), topic)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int32]int64{}
	l.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			t.Fatalf("end offset of %s-%d: %v", topic, o.Partition, o.Err)
		}
		out[o.Partition] = o.Offset
	})
	return out
}

func sum(m map[int32]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}
