package mirror_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-streams/tributary/internal/testkit"
	"github.com/tributary-streams/tributary/mirror/internal/mm2"
)

// gappySource fills topic on addr so that source and target offsets
// differ and the source has gaps: records 0..39 deleted, then an aborted
// transaction (its records and marker are skipped by the read_committed
// mirror), then committed records. It returns, per partition, the source
// offset of every record still readable with read_committed, by value.
func gappySource(t *testing.T, addr, topic string, partitions int32) map[int32]map[string]int64 {
	t.Helper()
	createTopic(t, addr, topic, partitions)
	offsets := map[int32]map[string]int64{}
	record := func(rs kgo.ProduceResults) {
		for _, r := range rs {
			if r.Err != nil {
				t.Fatalf("produce: %v", r.Err)
			}
			offsets[r.Record.Partition][string(r.Record.Value)] = r.Record.Offset
		}
	}
	plain := testkit.Client(t, addr, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	var first, second []*kgo.Record
	for p := int32(0); p < partitions; p++ {
		offsets[p] = map[string]int64{}
		for i := 0; i < 100; i++ {
			first = append(first, &kgo.Record{Topic: topic, Partition: p, Value: []byte(fmt.Sprintf("a-%d-%d", p, i))})
		}
		for i := 0; i < 400; i++ {
			second = append(second, &kgo.Record{Topic: topic, Partition: p, Value: []byte(fmt.Sprintf("b-%d-%d", p, i))})
		}
	}
	ctx := context.Background()
	record(plain.ProduceSync(ctx, first...))
	del := kadm.Offsets{}
	for p := int32(0); p < partitions; p++ {
		del.Add(kadm.Offset{Topic: topic, Partition: p, At: 40})
		for i := 0; i < 40; i++ {
			delete(offsets[p], fmt.Sprintf("a-%d-%d", p, i))
		}
	}
	if resp, err := admin(t, addr).DeleteRecords(ctx, del); err != nil || resp.Error() != nil {
		t.Fatalf("delete records: %v %v", err, resp.Error())
	}
	txn := testkit.Client(t, addr, kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.TransactionalID("gappy-"+topic))
	if err := txn.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	for p := int32(0); p < partitions; p++ {
		for i := 0; i < 10; i++ {
			txn.Produce(ctx, &kgo.Record{Topic: topic, Partition: p, Value: []byte("aborted")}, nil)
		}
	}
	if err := txn.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := txn.EndTransaction(ctx, kgo.TryAbort); err != nil {
		t.Fatal(err)
	}
	record(plain.ProduceSync(ctx, second...))
	return offsets
}

// commitOn commits offsets for group on a cluster, as a consumer that
// stopped would have.
func commitOn(t *testing.T, addr, group, topic string, at map[int32]int64) {
	t.Helper()
	os := kadm.Offsets{}
	for p, o := range at {
		os.Add(kadm.Offset{Topic: topic, Partition: p, At: o, LeaderEpoch: -1})
	}
	resp, err := admin(t, addr).CommitOffsets(context.Background(), group, os)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.Fatalf("commit %s: %v", group, err)
	}
}

// consumeAndCommit runs a consumer group member on topic that reads every
// partition up to (not including) the offsets in upTo, commits them as a
// consumer does, and leaves the group.
func consumeAndCommit(t *testing.T, addr, group, topic string, upTo map[int32]int64) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
		kgo.DisableAutoCommit(), kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.BlockRebalanceOnPoll())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	done := map[int32]bool{}
	deadline := time.Now().Add(30 * time.Second)
	for len(done) < len(upTo) {
		if time.Now().After(deadline) {
			t.Fatalf("group %s reached %v of %v", group, done, upTo)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		fs := cl.PollFetches(ctx)
		cancel()
		fs.EachRecord(func(r *kgo.Record) {
			if r.Offset >= upTo[r.Partition]-1 {
				done[r.Partition] = true
			}
		})
		cl.AllowRebalance()
	}
	offsets := map[string]map[int32]kgo.EpochOffset{topic: {}}
	for p, o := range upTo {
		offsets[topic][p] = kgo.EpochOffset{Epoch: -1, Offset: o}
	}
	var commitErr error
	cl.CommitOffsetsSync(context.Background(), offsets, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
		commitErr = err
		for _, tp := range resp.Topics {
			for _, p := range tp.Partitions {
				if e := kerr.ErrorForCode(p.ErrorCode); e != nil && commitErr == nil {
					commitErr = e
				}
			}
		}
	})
	if commitErr != nil {
		t.Fatalf("group %s commit: %v", group, commitErr)
	}
}

func committedOn(t *testing.T, addr, group, topic string, partitions int32) (map[int32]int64, bool) {
	t.Helper()
	resp, err := admin(t, addr).FetchOffsets(context.Background(), group)
	if err != nil {
		t.Fatalf("fetch offsets: %v", err)
	}
	out := map[int32]int64{}
	for p := int32(0); p < partitions; p++ {
		o, ok := resp.Lookup(topic, p)
		if !ok || o.Err != nil {
			return nil, false
		}
		out[p] = o.At
	}
	return out, true
}

// resumeOn joins group on the target, consumes everything from its
// committed offsets, and returns the source offset of each record read,
// per partition.
func resumeOn(t *testing.T, addr, group, topic string, partitions int32, sourceOf map[int32]map[string]int64, want int) map[int32][]int64 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic), kgo.DisableAutoCommit(),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close() // leaves the group
	got := map[int32][]int64{}
	n := 0
	deadline := time.Now().Add(30 * time.Second)
	for n < want {
		if time.Now().After(deadline) {
			t.Fatalf("resume: %d of %d records", n, want)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		fs := cl.PollFetches(ctx)
		cancel()
		fs.EachRecord(func(r *kgo.Record) {
			src, ok := sourceOf[r.Partition][string(r.Value)]
			if !ok {
				t.Fatalf("target record %q at %d has no source", r.Value, r.Offset)
			}
			got[r.Partition] = append(got[r.Partition], src)
			n++
		})
	}
	return got
}

func testFailover(t *testing.T, exact bool) {
	a, b := testkit.StartBroker(t), testkit.StartBroker(t)
	const partitions = 2
	sourceOf := gappySource(t, a.Addr, "orders", partitions)
	// An application's group consumes on A up to these offsets (inside
	// the committed run after the gap), commits and goes away.
	at := map[int32]int64{0: 300, 1: 251}
	consumeAndCommit(t, a.Addr, "app", "orders", at)
	// A group busy on B must be left alone.
	commitOn(t, a.Addr, "busy", "orders", at)
	busy := testkit.Client(t, b.Addr, kgo.ConsumerGroup("busy"), kgo.ConsumeTopics("A.orders"), kgo.DisableAutoCommit())

	startMirror(t, twoClusters(a.Addr, b.Addr)+fmt.Sprintf(`
A->B.enabled = true
A->B.topics = orders
offset.lag.max = 100
sync.group.offsets.enabled = true
source.offset.header.enabled = %v
`, exact))
	total := 0
	for p := range sourceOf {
		total += len(sourceOf[p])
	}
	consumeN(t, b.Addr, "A.orders", total, 30*time.Second, kgo.FetchIsolationLevel(kgo.ReadCommitted()))

	var translated map[int32]int64
	testkit.Eventually(t, 20*time.Second, func() error {
		var ok bool
		if translated, ok = committedOn(t, b.Addr, "app", "A.orders", partitions); !ok {
			return fmt.Errorf("group app has no offsets on B yet")
		}
		return nil
	})
	// Keep polling the busy member so it stays in the group.
	ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
	busy.PollFetches(ctx)
	cancel()
	if got, ok := committedOn(t, b.Addr, "busy", "A.orders", partitions); ok {
		t.Errorf("offsets %v written for group busy, which is active on B", got)
	}

	// Resume on B: no record at or after the committed source offset may
	// be missing, and at most offset.lag.max records before it re-read.
	var want int
	for p := range sourceOf {
		for _, off := range sourceOf[p] {
			if off >= at[p] {
				want++
			}
		}
	}
	got := resumeOn(t, b.Addr, "app", "A.orders", partitions, sourceOf, want)
	for p := int32(0); p < partitions; p++ {
		first := got[p][0]
		if first > at[p] {
			t.Errorf("partition %d: resumed at source offset %d, past the committed %d: records skipped", p, first, at[p])
		}
		reread := 0
		for _, src := range got[p] {
			if src < at[p] {
				reread++
			}
		}
		if exact && first != at[p] {
			t.Errorf("partition %d: exact translation resumed at source offset %d, want %d (target offset %d)", p, first, at[p], translated[p])
		}
		if reread > 100 {
			t.Errorf("partition %d: %d records re-read, more than offset.lag.max", p, reread)
		}
		t.Logf("partition %d: committed %d on A, resumed at source offset %d on B (target offset %d), %d re-read", p, at[p], first, translated[p], reread)
	}

	// Checkpoints are in MM2's format on B.
	var cps []mm2.Checkpoint
	for _, r := range consumeN(t, b.Addr, "A.checkpoints.internal", 1, 10*time.Second) {
		c, err := mm2.DecodeCheckpoint(r.Key, r.Value)
		if err != nil {
			t.Fatalf("checkpoint record: %v", err)
		}
		cps = append(cps, c)
	}
	found := false
	for _, c := range cps {
		if c.Group == "app" && c.Topic == "A.orders" && c.Upstream == at[c.Partition] && c.Downstream == translated[c.Partition] {
			found = true
		}
	}
	if !found {
		t.Errorf("no checkpoint for app matching the synced offsets %v in %+v", translated, cps)
	}

	// The group on B moves on; a rewind on A must not move B back. A
	// canary group committed after the rewind shows when a sync round has
	// seen it.
	moved := map[int32]int64{0: translated[0] + 50, 1: translated[1] + 50}
	commitOn(t, b.Addr, "app", "A.orders", moved)
	commitOn(t, a.Addr, "app", "orders", map[int32]int64{0: at[0] - 100, 1: at[1] - 100})
	commitOn(t, a.Addr, "canary", "orders", at)
	testkit.Eventually(t, 20*time.Second, func() error {
		if _, ok := committedOn(t, b.Addr, "canary", "A.orders", partitions); !ok {
			return fmt.Errorf("canary not synced yet")
		}
		return nil
	})
	rewound := false
	for _, r := range consumeN(t, b.Addr, "A.checkpoints.internal", 1, 10*time.Second) {
		if c, err := mm2.DecodeCheckpoint(r.Key, r.Value); err == nil && c.Group == "app" && c.Upstream == at[c.Partition]-100 {
			rewound = true
		}
	}
	if !rewound {
		t.Errorf("no checkpoint after the group rewound on A (MM2 emits one)")
	}
	if now, _ := committedOn(t, b.Addr, "app", "A.orders", partitions); now[0] != moved[0] || now[1] != moved[1] {
		t.Fatalf("group offsets on B moved back to %v from %v", now, moved)
	}
}

func TestFailoverResumesAtTranslatedOffsetMM2(t *testing.T) { testFailover(t, false) }

func TestFailoverResumesAtExactOffsetWithHeader(t *testing.T) { testFailover(t, true) }
