package broker_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-streams/tributary/internal/testkit"
)

// rebalanceLog counts a member's revocations, losses and completed
// heartbeats, and keeps what it holds.
type rebalanceLog struct {
	mu         sync.Mutex
	held       map[int32]bool
	revoked    int
	lost       int
	heartbeats atomic.Int64
}

// OnBrokerRead counts heartbeat responses (kgo.HookBrokerRead).
func (l *rebalanceLog) OnBrokerRead(_ kgo.BrokerMetadata, key int16, _ int, _, _ time.Duration, err error) {
	if key == int16(kmsg.Heartbeat) && err == nil {
		l.heartbeats.Add(1)
	}
}

func (l *rebalanceLog) opts(topic string) []kgo.Opt {
	return []kgo.Opt{
		kgo.WithHooks(l),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, a map[string][]int32) {
			l.mu.Lock()
			defer l.mu.Unlock()
			for _, p := range a[topic] {
				l.held[p] = true
			}
		}),
		kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, r map[string][]int32) {
			l.mu.Lock()
			defer l.mu.Unlock()
			if len(r[topic]) > 0 {
				l.revoked++
			}
			for _, p := range r[topic] {
				delete(l.held, p)
			}
		}),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, r map[string][]int32) {
			l.mu.Lock()
			defer l.mu.Unlock()
			if len(r[topic]) > 0 {
				l.lost++
			}
			for _, p := range r[topic] {
				delete(l.held, p)
			}
		}),
	}
}

func (l *rebalanceLog) holding() []int32 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var ps []int32
	for p := range l.held {
		ps = append(ps, p)
	}
	slices.Sort(ps)
	return ps
}

func (l *rebalanceLog) changes() (revoked, lost int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.revoked, l.lost
}

// Static members keep their member ids, generation and partitions across a
// broker restart, as across a Kafka coordinator failover; a static member
// whose process restarts gets its partitions back without a rebalance.
func TestStaticMembersKeptAcrossRestart(t *testing.T) {
	b := testkit.StartBroker(t)
	const topic, group = "static-restart", "static-restart-group"
	createTopic(t, b.Addr, topic, 4, nil)
	seen := &seenSet{keys: map[string]int{}}
	logs := map[string]*rebalanceLog{"s1": {held: map[int32]bool{}}, "s2": {held: map[int32]bool{}}}
	members := map[string]*groupConsumer{}
	for _, id := range []string{"s1", "s2"} {
		opts := append(logs[id].opts(topic), kgo.InstanceID(id), kgo.HeartbeatInterval(4*time.Second))
		members[id] = startGroupConsumer(t, b.Addr, group, topic, seen, opts...)
	}
	testkit.Eventually(t, 30*time.Second, func() error {
		if h1, h2 := logs["s1"].holding(), logs["s2"].holding(); len(h1) != 2 || len(h2) != 2 {
			return fmt.Errorf("members hold %v and %v, want 2 partitions each", h1, h2)
		}
		return nil
	})
	produceN(t, b.Addr, topic, "before", 20)
	testkit.Eventually(t, 30*time.Second, func() error {
		if n := seen.missing("before", 20); n > 0 {
			return fmt.Errorf("%d records not consumed", n)
		}
		return nil
	})
	ids := map[string]string{}
	var generation int32
	for id, m := range members {
		ids[id], generation = m.cl.GroupMetadata()
	}
	held := map[string][]int32{"s1": logs["s1"].holding(), "s2": logs["s2"].holding()}
	revokedBefore, lostBefore := 0, 0
	for _, l := range logs {
		r, lo := l.changes()
		revokedBefore += r
		lostBefore += lo
	}

	// Restart just after a heartbeat of each member, so that the restart
	// (well under the heartbeat interval) does not swallow one: a member
	// whose heartbeat fails to reach the broker rejoins, and a leader's
	// rejoin rebalances, with Kafka as here. Both members' sessions began
	// at the same SyncGroup, so their heartbeats come together.
	beats := map[string]int64{}
	for id, l := range logs {
		beats[id] = l.heartbeats.Load()
	}
	testkit.Eventually(t, 30*time.Second, func() error {
		for id, l := range logs {
			if l.heartbeats.Load() == beats[id] {
				return fmt.Errorf("no heartbeat from %s yet", id)
			}
		}
		return nil
	})
	for id, l := range logs {
		beats[id] = l.heartbeats.Load()
	}
	b.Restart()

	// The members go on as they were: their next heartbeats succeed,
	// records produced now are consumed, with the same member ids and
	// generation and no revocation.
	produceN(t, b.Addr, topic, "after", 20)
	testkit.Eventually(t, 30*time.Second, func() error {
		if n := seen.missing("after", 20); n > 0 {
			return fmt.Errorf("%d records not consumed after the restart", n)
		}
		for id, l := range logs {
			if l.heartbeats.Load() == beats[id] {
				return fmt.Errorf("no heartbeat from %s since the restart", id)
			}
		}
		return nil
	})
	adm := admin(t, b.Addr)
	described, err := adm.DescribeGroups(ctxT(t), group)
	if err != nil {
		t.Fatal(err)
	}
	d := described[group]
	var describedIDs []string
	for _, m := range d.Members {
		describedIDs = append(describedIDs, m.MemberID)
	}
	slices.Sort(describedIDs)
	wantIDs := []string{ids["s1"], ids["s2"]}
	slices.Sort(wantIDs)
	if d.State != "Stable" || !slices.Equal(describedIDs, wantIDs) {
		t.Fatalf("after restart: %s with members %v; want Stable with %v", d.State, describedIDs, wantIDs)
	}
	for id, m := range members {
		if mid, gen := m.cl.GroupMetadata(); mid != ids[id] || gen != generation {
			t.Fatalf("%s after restart: member %s generation %d; was %s generation %d", id, mid, gen, ids[id], generation)
		}
	}
	revoked, lost := 0, 0
	for _, l := range logs {
		r, lo := l.changes()
		revoked += r
		lost += lo
	}
	if revoked != revokedBefore || lost != lostBefore {
		t.Fatalf("the restart revoked %d and lost %d assignments", revoked-revokedBefore, lost-lostBefore)
	}

	// s1's process restarts: a new client under the same instance id gets
	// s1's partitions, in the same generation, and s2 keeps its own.
	r2, l2 := logs["s2"].changes()
	members["s1"].close()
	again := &rebalanceLog{held: map[int32]bool{}}
	s1 := startGroupConsumer(t, b.Addr, group, topic, seen, append(again.opts(topic), kgo.InstanceID("s1"))...)
	testkit.Eventually(t, 30*time.Second, func() error {
		if h := again.holding(); !slices.Equal(h, held["s1"]) {
			return fmt.Errorf("the restarted s1 holds %v, s1 held %v", h, held["s1"])
		}
		return nil
	})
	if _, gen := s1.cl.GroupMetadata(); gen != generation {
		t.Fatalf("the restarted static member joined generation %d; %d means a rebalance", gen, generation)
	}
	if h := logs["s2"].holding(); !slices.Equal(h, held["s2"]) {
		t.Fatalf("s2 holds %v, held %v", h, held["s2"])
	}
	if r, lo := logs["s2"].changes(); r != r2 || lo != l2 {
		t.Fatalf("s2 saw %d revocations and %d losses when s1 came back", r-r2, lo-l2)
	}
}

// transactional.id.expiration.ms: an id without a transaction in progress
// expires; the next InitProducerId for it gets a new producer id. An open
// transaction never expires.
func TestTransactionalIDExpires(t *testing.T) {
	b := testkit.StartBroker(t,
		testkit.WithConfig("transactional.id.expiration.ms", "300"),
		testkit.WithConfig("transaction.remove.expired.transaction.cleanup.interval.ms", "50"))
	createTopic(t, b.Addr, "exp", 1, nil)
	ctx := ctxT(t)
	adm := admin(t, b.Addr)
	describe := func(id string) (kadm.DescribedTransaction, error) {
		d, err := adm.DescribeTransactions(ctx, id)
		if err != nil {
			return kadm.DescribedTransaction{}, err
		}
		return d[id], d[id].Err
	}

	done := testkit.Client(t, b.Addr, kgo.TransactionalID("exp-done"), kgo.DefaultProduceTopic("exp"))
	if err := done.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := done.ProduceSync(ctx, &kgo.Record{Value: []byte("v")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if err := done.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	first, err := describe("exp-done")
	if err != nil {
		t.Fatal(err)
	}
	done.Close()

	// exp-open keeps a transaction open past the expiration time.
	open := testkit.Client(t, b.Addr, kgo.TransactionalID("exp-open"), kgo.DefaultProduceTopic("exp"), kgo.TransactionTimeout(time.Minute))
	if err := open.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := open.ProduceSync(ctx, &kgo.Record{Value: []byte("open")}).FirstErr(); err != nil {
		t.Fatal(err)
	}

	testkit.Eventually(t, 10*time.Second, func() error {
		if _, err := describe("exp-done"); !errors.Is(err, kerr.TransactionalIDNotFound) {
			return fmt.Errorf("exp-done: %v, want TRANSACTIONAL_ID_NOT_FOUND", err)
		}
		return nil
	})
	listed, err := adm.ListTransactions(ctx, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := listed["exp-done"]; ok {
		t.Fatal("expired id still listed")
	}
	if d, err := describe("exp-open"); err != nil || d.State != "Ongoing" {
		t.Fatalf("open transaction: %+v %v; want it Ongoing, not expired", d, err)
	}

	// The expired id starts afresh.
	again := testkit.Client(t, b.Addr, kgo.TransactionalID("exp-done"), kgo.DefaultProduceTopic("exp"))
	if err := again.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := again.ProduceSync(ctx, &kgo.Record{Value: []byte("again")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	second, err := describe("exp-done")
	if err != nil {
		t.Fatal(err)
	}
	if second.ProducerID == first.ProducerID || second.ProducerEpoch != 0 {
		t.Fatalf("after expiry: producer %d epoch %d; want a new producer id (was %d) at epoch 0", second.ProducerID, second.ProducerEpoch, first.ProducerID)
	}
	if err := open.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatalf("the open transaction, never expired, commits: %v", err)
	}
}

// OffsetCommit and TxnOffsetCommit for a topic or partition the broker
// does not have are UNKNOWN_TOPIC_OR_PARTITION (by id: UNKNOWN_TOPIC_ID),
// as Kafka 3.x and 4.x answer them.
func TestOffsetCommitForUnknownTopic(t *testing.T) {
	b := testkit.StartBroker(t)
	createTopic(t, b.Addr, "known", 2, nil)
	adm := admin(t, b.Addr)
	offs := kadm.Offsets{}
	offs.Add(kadm.Offset{Topic: "known", Partition: 0, At: 5, LeaderEpoch: -1})
	offs.Add(kadm.Offset{Topic: "known", Partition: 7, At: 5, LeaderEpoch: -1})
	offs.Add(kadm.Offset{Topic: "never-created", Partition: 0, At: 5, LeaderEpoch: -1})
	resp, err := adm.CommitOffsets(ctxT(t), "unknown-topic-group", offs)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		topic     string
		partition int32
		want      error
	}{{"known", 0, nil}, {"known", 7, kerr.UnknownTopicOrPartition}, {"never-created", 0, kerr.UnknownTopicOrPartition}} {
		r, _ := resp.Lookup(c.topic, c.partition)
		if !errors.Is(r.Err, c.want) && !(c.want == nil && r.Err == nil) {
			t.Fatalf("commit %s-%d: %v, want %v", c.topic, c.partition, r.Err, c.want)
		}
	}
	fetched, err := adm.FetchOffsets(ctxT(t), "unknown-topic-group")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := fetched.Lookup("never-created", 0); ok {
		t.Fatal("an offset of an unknown topic was stored")
	}

	byID := kmsg.NewPtrOffsetCommitRequest()
	byID.Version = 10
	byID.Group = "unknown-topic-group"
	byID.Generation = -1
	rt := kmsg.NewOffsetCommitRequestTopic()
	rt.TopicID = [16]byte{1, 2, 3}
	rp := kmsg.NewOffsetCommitRequestTopicPartition()
	rp.Offset = 1
	rt.Partitions = []kmsg.OffsetCommitRequestTopicPartition{rp}
	byID.Topics = []kmsg.OffsetCommitRequestTopic{rt}
	if code := roundTrip(t, b.Addr, byID).(*kmsg.OffsetCommitResponse).Topics[0].Partitions[0].ErrorCode; code != kerr.UnknownTopicID.Code {
		t.Fatalf("commit v10 for an unknown topic id: %v", kerr.ErrorForCode(code))
	}

	txn := kmsg.NewPtrTxnOffsetCommitRequest()
	txn.Version = 3
	txn.Group, txn.TransactionalID, txn.ProducerID, txn.Generation = "unknown-topic-group", "none", 1, -1
	tt := kmsg.NewTxnOffsetCommitRequestTopic()
	tt.Topic = "never-created"
	tp := kmsg.NewTxnOffsetCommitRequestTopicPartition()
	tt.Partitions = []kmsg.TxnOffsetCommitRequestTopicPartition{tp}
	txn.Topics = []kmsg.TxnOffsetCommitRequestTopic{tt}
	if code := roundTrip(t, b.Addr, txn).(*kmsg.TxnOffsetCommitResponse).Topics[0].Partitions[0].ErrorCode; code != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("txn commit for an unknown topic: %v", kerr.ErrorForCode(code))
	}
}
