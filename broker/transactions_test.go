package broker_test

// Transactions end to end with franz-go: aborted and committed
// transactions, read_committed vs read_uncommitted, a consume-transform-
// produce loop with GroupTransactSession, and the coordinator aborting a
// transaction whose producer went quiet past its timeout.

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-streams/tributary/internal/testkit"
)

func TestTransactionsCommittedAndAborted(t *testing.T) {
	b := testkit.StartBroker(t)
	createTopic(t, b.Addr, "txn-out", 1, nil)
	cl := testkit.Client(t, b.Addr, kgo.TransactionalID("tx-basic"), kgo.DefaultProduceTopic("txn-out"))
	ctx := ctxT(t)
	produce := func(prefix string, n int, commit kgo.TransactionEndTry) {
		t.Helper()
		if err := cl.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < n; i++ {
			if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte(prefix + strconv.Itoa(i))}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
		if err := cl.EndTransaction(ctx, commit); err != nil {
			t.Fatalf("end transaction: %v", err)
		}
	}
	produce("aborted-", 5, kgo.TryAbort)
	produce("committed-", 5, kgo.TryCommit)
	produce("aborted2-", 3, kgo.TryAbort)
	produce("committed2-", 2, kgo.TryCommit)

	got := consumeN(t, b.Addr, "txn-out", true, 7)
	want := []string{"committed-0", "committed-1", "committed-2", "committed-3", "committed-4", "committed2-0", "committed2-1"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("read_committed saw %v, want %v", got, want)
	}
	all := consumeN(t, b.Addr, "txn-out", false, 15)
	if len(all) != 15 || all[0] != "aborted-0" {
		t.Fatalf("read_uncommitted saw %v", all)
	}
}

// consumeN reads exactly n records of topic from the start and then checks
// that no more arrive for a short while.
func consumeN(t *testing.T, addr, topic string, committed bool, n int) []string {
	t.Helper()
	opts := []kgo.Opt{kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100 * time.Millisecond)}
	if committed {
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	cl := testkit.Client(t, addr, opts...)
	ctx := ctxT(t)
	var out []string
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d from %s: %v", len(out), n, topic, out)
		}
		fs.EachRecord(func(r *kgo.Record) { out = append(out, string(r.Value)) })
	}
	extra, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	cl.PollFetches(extra).EachRecord(func(r *kgo.Record) { out = append(out, string(r.Value)) })
	return out
}

func TestGroupTransactSessionExactlyOnce(t *testing.T) {
	b := testkit.StartBroker(t)
	createTopic(t, b.Addr, "eos-in", 3, nil)
	createTopic(t, b.Addr, "eos-out", 3, nil)
	in := testkit.Client(t, b.Addr, kgo.DefaultProduceTopic("eos-in"))
	const n = 300
	for i := 0; i < n; i++ {
		in.Produce(context.Background(), &kgo.Record{Key: []byte(strconv.Itoa(i)), Value: []byte(strconv.Itoa(i))}, nil)
	}
	if err := in.Flush(ctxT(t)); err != nil {
		t.Fatal(err)
	}

	sess, err := kgo.NewGroupTransactSession(kgo.SeedBrokers(b.Addr), kgo.TransactionalID("eos-tx"),
		kgo.ConsumerGroup("eos-group"), kgo.ConsumeTopics("eos-in"), kgo.DefaultProduceTopic("eos-out"),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	ctx := ctxT(t)
	processed, round, aborted := 0, 0, 0
	for processed < n {
		fs := sess.PollRecords(ctx, 40)
		if ctx.Err() != nil {
			t.Fatalf("processed %d of %d", processed, n)
		}
		recs := fs.Records()
		if len(recs) == 0 {
			continue
		}
		if err := sess.Begin(); err != nil {
			t.Fatal(err)
		}
		round++
		abort := round%3 == 0 // every third transaction is aborted and redone
		for _, r := range recs {
			sess.Produce(ctx, &kgo.Record{Key: r.Key, Value: []byte("out-" + string(r.Value))}, nil)
		}
		committed, err := sess.End(ctx, kgo.TransactionEndTry(!abort))
		if err != nil {
			t.Fatalf("end: %v", err)
		}
		if committed {
			processed += len(recs)
		} else {
			aborted++
		}
	}
	if aborted == 0 {
		t.Fatalf("no transaction was aborted; the test must exercise aborts")
	}
	out := consumeN(t, b.Addr, "eos-out", true, n)
	if len(out) != n {
		t.Fatalf("read_committed output has %d records, want exactly %d", len(out), n)
	}
	seen := map[string]bool{}
	for _, v := range out {
		if seen[v] {
			t.Fatalf("%s appears twice in the committed output", v)
		}
		seen[v] = true
	}
	for i := 0; i < n; i++ {
		if !seen["out-"+strconv.Itoa(i)] {
			t.Fatalf("out-%d missing from the committed output", i)
		}
	}
	// The group's committed offsets cover exactly the input.
	adm := kadm.NewClient(testkit.Client(t, b.Addr))
	offs, err := adm.FetchOffsets(ctx, "eos-group")
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	offs.Each(func(o kadm.OffsetResponse) { total += o.At })
	if total != n {
		t.Fatalf("group committed offsets sum to %d, want %d", total, n)
	}
}

func TestTransactionTimeoutAbortsAndFences(t *testing.T) {
	b := testkit.StartBroker(t, testkit.WithConfig("transaction.abort.timed.out.transaction.cleanup.interval.ms", "100"))
	createTopic(t, b.Addr, "txn-timeout", 1, nil)
	cl := testkit.Client(t, b.Addr, kgo.TransactionalID("tx-slow"), kgo.DefaultProduceTopic("txn-timeout"),
		kgo.TransactionTimeout(time.Second))
	ctx := ctxT(t)
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte("never committed")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	// The open transaction holds back read_committed readers...
	adm := kadm.NewClient(testkit.Client(t, b.Addr))
	testkit.Eventually(t, 20*time.Second, func() error {
		desc, err := adm.DescribeTransactions(ctx, "tx-slow")
		if err != nil {
			return err
		}
		if s := desc["tx-slow"].State; s != "CompleteAbort" {
			return fmt.Errorf("state %s", s)
		}
		return nil
	})
	// ...until the coordinator aborts it; the late commit is fenced.
	err := cl.EndTransaction(ctx, kgo.TryCommit)
	if err == nil {
		t.Fatal("commit after the timeout abort succeeded")
	}
	if !errors.Is(err, kerr.ProducerFenced) && !errors.Is(err, kerr.InvalidProducerEpoch) && !errors.Is(err, kerr.InvalidTxnState) {
		t.Fatalf("commit after timeout: %v, want a fencing error", err)
	}
	lso, err := adm.ListCommittedOffsets(ctx, "txn-timeout")
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := lso.Lookup("txn-timeout", 0); o.Offset != 2 {
		t.Fatalf("last stable offset %d after the abort marker, want 2", o.Offset)
	}
	if got := consumeN(t, b.Addr, "txn-timeout", true, 0); len(got) != 0 {
		t.Fatalf("read_committed saw aborted records: %v", got)
	}
}
