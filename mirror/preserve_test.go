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
)

const preserveFlow = `
A->B.enabled = true
A->B.replication.mode = preserve-offsets
sync.group.offsets.enabled = true
`

func TestPreserveOffsetsKeepsEveryOffsetAndGroupPosition(t *testing.T) {
	a, b := testkit.StartBroker(t), testkit.StartBroker(t)
	createTopic(t, a.Addr, "ledger", 3)
	src := testkit.Produce(t, a.Addr, sourceRecords("ledger", 3, 40)...)
	at := map[int32]int64{0: 17, 1: 0, 2: 39}
	commitOn(t, a.Addr, "billing", "ledger", at)

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
	// A restart resumes at the target's end: nothing twice.
	more := testkit.Produce(t, a.Addr, sourceRecords("ledger", 3, 5)...)
	all := consumeN(t, b.Addr, "A.ledger", len(src)+len(more), 30*time.Second)
	if len(all) != len(src)+len(more) {
		t.Fatalf("%d records on B, want %d", len(all), len(src)+len(more))
	}
}

func TestPreserveOffsetsRefusesWhatItCannotKeep(t *testing.T) {
	a, b := testkit.StartBroker(t), testkit.StartBroker(t)
	// Retention removed the first records before the mirror ran.
	createTopic(t, a.Addr, "trimmed", 2)
	testkit.Produce(t, a.Addr, sourceRecords("trimmed", 2, 20)...)
	del := kadm.Offsets{}
	del.Add(kadm.Offset{Topic: "trimmed", Partition: 0, At: 5})
	if resp, err := admin(t, a.Addr).DeleteRecords(context.Background(), del); err != nil || resp.Error() != nil {
		t.Fatalf("delete records: %v %v", err, resp.Error())
	}
	// A transaction lands in the middle of a partition.
	createTopic(t, a.Addr, "txns", 1)
	testkit.Produce(t, a.Addr, sourceRecords("txns", 1, 10)...)
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
	// Partition 1 of trimmed is whole and is copied; partition 0 is not.
	got := consumeN(t, b.Addr, "A.trimmed", 20, 30*time.Second)
	for _, r := range got {
		if r.Partition != 1 {
			t.Fatalf("partition %d copied though its first offsets are gone", r.Partition)
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
			"trimmed": "partition 0: source offsets 0 to 4 were deleted",
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
