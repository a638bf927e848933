package mirror_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/internal/testkit"
	"github.com/tributary-streams/tributary/mirror"
)

const preserveFlow = `
A->B.enabled = true
A->B.replication.mode = preserve-offsets
sync.group.offsets.enabled = true
`

func TestPreserveOffsetsKeepsEveryOffsetAndGroupPosition(t *testing.T) {
	a, b := testkit.StartBroker(t), testkit.StartBroker(t)
	createTopic(t, a.Addr, "ledger", 3)
	src := produce(t, a.Addr, sourceRecords("ledger", 3, 40)...)
	at := map[int32]int64{0: 17, 1: 1, 2: 39}
	consumeAndCommit(t, a.Addr, "billing", "ledger", at)

	startMirror(t, twoClusters(a.Addr, b.Addr)+preserveFlow)
	got := consumeN(t, b.Addr, "A.ledger", len(src), 30*time.Second)
	want := map[string]int64{}
	for _, r := range src {
		want[fmt.Sprintf("%d/%s", r.Partition, r.Value)] = r.Offset
	}
	for _, r := range got {
		if off, ok := want[fmt.Sprintf("%d/%s", r.Partition, r.Value)]; !ok || off != r.Offset {
			t.Fatalf("record %s of partition %d at target offset %d, source offset %d", r.Value, r.Partition, r.Offset, off)
		}
		if _, has := header(r, "tributary.source.offset"); has {
			t.Fatalf("preserve-offsets added the source offset header; offsets already say it")
		}
	}
	// The group's offsets are copied unchanged.
	testkit.Eventually(t, 20*time.Second, func() error {
		now, ok := committedOn(t, b.Addr, "billing", "A.ledger", 3)
		if !ok {
			return fmt.Errorf("no offsets for billing on B")
		}
		for p, o := range at {
			if now[p] != o {
				return fmt.Errorf("partition %d at %d on B, %d on A", p, now[p], o)
			}
		}
		return nil
	})
	// The group, failed over to B, resumes at exactly those offsets.
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr), kgo.ConsumerGroup("billing"), kgo.ConsumeTopics("A.ledger"), kgo.DisableAutoCommit())
	if err != nil {
		t.Fatal(err)
	}
	first := map[int32]int64{}
	testkit.Eventually(t, 20*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			if _, seen := first[r.Partition]; !seen {
				first[r.Partition] = r.Offset
			}
		})
		if len(first) < 3 {
			return fmt.Errorf("first offsets read on B: %v", first)
		}
		return nil
	})
	cl.Close()
	for p, o := range at {
		if first[p] != o {
			t.Errorf("partition %d: resumed on B at %d, committed %d on A", p, first[p], o)
		}
	}

	// A restart resumes at the target's end: nothing twice.
	more := produce(t, a.Addr, sourceRecords("ledger", 3, 5)...)
	all := consumeN(t, b.Addr, "A.ledger", len(src)+len(more), 30*time.Second)
	if len(all) != len(src)+len(more) {
		t.Fatalf("%d records on B, want %d", len(all), len(src)+len(more))
	}
}

// A source whose first records were deleted before the mirror ran: the
// target starts at the same offset (placeholders filled and deleted).
func TestPreserveOffsetsStartsWhereATrimmedSourceStarts(t *testing.T) {
	a, b := testkit.StartBroker(t), testkit.StartBroker(t)
	createTopic(t, a.Addr, "trimmed", 2)
	src := produce(t, a.Addr, sourceRecords("trimmed", 2, 20)...)
	del := kadm.Offsets{}
	del.Add(kadm.Offset{Topic: "trimmed", Partition: 0, At: 5})
	if resp, err := admin(t, a.Addr).DeleteRecords(context.Background(), del); err != nil || resp.Error() != nil {
		t.Fatalf("delete records: %v %v", err, resp.Error())
	}
	commitOn(t, a.Addr, "billing", "trimmed", map[int32]int64{0: 7, 1: 3})
	startMirror(t, twoClusters(a.Addr, b.Addr)+preserveFlow)
	// Placeholders exist on the target until they are deleted; readers of
	// a target still being prepared can see them.
	waitLogStart(t, b.Addr, "A.trimmed", 0, 5)
	got := consumeN(t, b.Addr, "A.trimmed", 35, 30*time.Second)
	want := map[string]int64{}
	for _, r := range src {
		want[fmt.Sprintf("%d/%s", r.Partition, r.Value)] = r.Offset
	}
	for _, r := range got {
		if _, ph := header(r, mirror.PlaceholderHeaderKey); ph {
			t.Fatalf("placeholder visible at %d/%d", r.Partition, r.Offset)
		}
		if off, ok := want[fmt.Sprintf("%d/%s", r.Partition, r.Value)]; !ok || off != r.Offset {
			t.Fatalf("record %s of partition %d at target offset %d, source offset %d", r.Value, r.Partition, r.Offset, off)
		}
	}
	testkit.Eventually(t, 20*time.Second, func() error {
		now, ok := committedOn(t, b.Addr, "billing", "A.trimmed", 2)
		if !ok || now[0] != 7 || now[1] != 3 {
			return fmt.Errorf("billing on B: %v", now)
		}
		return nil
	})
}

func TestPreserveOffsetsRefusesWhatItCannotKeep(t *testing.T) {
	a, b := testkit.StartBroker(t), testkit.StartBroker(t)
	// The source lost its first records, and the target already holds
	// records of its own: no way to line them up.
	createTopic(t, a.Addr, "trimmed", 2)
	produce(t, a.Addr, sourceRecords("trimmed", 2, 20)...)
	del := kadm.Offsets{}
	del.Add(kadm.Offset{Topic: "trimmed", Partition: 0, At: 10})
	if resp, err := admin(t, a.Addr).DeleteRecords(context.Background(), del); err != nil || resp.Error() != nil {
		t.Fatalf("delete records: %v %v", err, resp.Error())
	}
	createTopic(t, b.Addr, "A.trimmed", 2)
	produce(t, b.Addr, sourceRecords("A.trimmed", 1, 3)...)
	// A transaction lands in the middle of a partition.
	createTopic(t, a.Addr, "txns", 1)
	produce(t, a.Addr, sourceRecords("txns", 1, 10)...)
	txn := testkit.Client(t, a.Addr, kgo.TransactionalID("preserve-test"), kgo.DefaultProduceTopic("txns"))
	if err := txn.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := txn.ProduceSync(context.Background(), &kgo.Record{Value: []byte("in a transaction")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if err := txn.EndTransaction(context.Background(), kgo.TryCommit); err != nil {
		t.Fatal(err)
	}

	m := startMirror(t, twoClusters(a.Addr, b.Addr)+preserveFlow)
	// Partition 1 of trimmed is whole and is copied into the empty target
	// partition; partition 0 is not.
	got := consumeN(t, b.Addr, "A.trimmed", 3+20, 30*time.Second)
	for _, r := range got {
		if r.Partition == 0 && r.Offset >= 3 {
			t.Fatalf("partition 0 copied at %d though the source lost offsets 0-9 and the target had its own", r.Offset)
		}
	}
	// The records before the transaction are copied at their offsets,
	// and copying stops there.
	before := consumeN(t, b.Addr, "A.txns", 10, 30*time.Second)
	for i, r := range before {
		if r.Offset != int64(i) {
			t.Fatalf("txns record %d at offset %d", i, r.Offset)
		}
	}
	testkit.Eventually(t, 20*time.Second, func() error {
		errs := map[string]string{}
		for _, ts := range flowStatus(m, "A->B").Topics {
			if ts.Err != nil {
				errs[ts.Source] = ts.Err.Error()
			}
		}
		for topic, want := range map[string]string{
			"trimmed": "partition 0: source offsets 3 to 9 were deleted",
			"txns":    "partition 0: transactional records from source offset 10",
		} {
			if !strings.Contains(errs[topic], want) {
				return fmt.Errorf("status of %s = %q, want %q", topic, errs[topic], want)
			}
		}
		return nil
	})
	if n := len(consumeN(t, b.Addr, "A.txns", 10, 5*time.Second)); n != 10 {
		t.Errorf("A.txns has %d records: copying went past the transaction", n)
	}
}

// A fill cut short (the mirror killed after some placeholders) is
// recognised and finished.
func TestPreserveOffsetsFinishesAnInterruptedFill(t *testing.T) {
	a, b := testkit.StartBroker(t), testkit.StartBroker(t)
	createTopic(t, a.Addr, "trimmed", 1)
	src := produce(t, a.Addr, sourceRecords("trimmed", 1, 30)...)
	del := kadm.Offsets{}
	del.Add(kadm.Offset{Topic: "trimmed", Partition: 0, At: 20})
	if resp, err := admin(t, a.Addr).DeleteRecords(context.Background(), del); err != nil || resp.Error() != nil {
		t.Fatalf("delete records: %v %v", err, resp.Error())
	}
	createTopic(t, b.Addr, "A.trimmed", 1)
	var placeholders []*kgo.Record
	for range 7 {
		placeholders = append(placeholders, &kgo.Record{Topic: "A.trimmed", Headers: []kgo.RecordHeader{{Key: mirror.PlaceholderHeaderKey, Value: []byte("1")}}})
	}
	produce(t, b.Addr, placeholders...)
	startMirror(t, twoClusters(a.Addr, b.Addr)+preserveFlow)
	waitLogStart(t, b.Addr, "A.trimmed", 0, 20)
	got := consumeN(t, b.Addr, "A.trimmed", 10, 30*time.Second)
	for i, r := range got {
		if r.Offset != src[20+i].Offset || string(r.Value) != string(src[20+i].Value) {
			t.Fatalf("target record %d at %d = %s, want %s at %d", i, r.Offset, r.Value, src[20+i].Value, src[20+i].Offset)
		}
	}
}

// waitLogStart waits until a partition's log starts at offset.
func waitLogStart(t *testing.T, addr, topic string, partition int32, offset int64) {
	t.Helper()
	testkit.Eventually(t, 20*time.Second, func() error {
		starts, err := admin(t, addr).ListStartOffsets(context.Background(), topic)
		if err != nil {
			return err
		}
		if o, _ := starts.Lookup(topic, partition); o.Offset != offset {
			return fmt.Errorf("%s/%d starts at %d, want %d", topic, partition, o.Offset, offset)
		}
		return nil
	})
}
