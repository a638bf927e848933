package broker_test

// kill -9 and restart on the same data dir and address: committed group
// offsets come back exactly; idempotent producer state comes back (a retry
// of an acknowledged batch is deduplicated, a gap is refused); producer ids
// handed out before the kill are never handed out again; a transaction left
// open is aborted once its timeout passes, and one committed before the kill
// stays committed.

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
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

// sortedOffsets lists a group's committed offsets, failing on any error.
func sortedOffsets(t *testing.T, adm *kadm.Client, group string) []kadm.Offset {
	t.Helper()
	offs, err := adm.FetchOffsets(ctxT(t), group)
	if err != nil {
		t.Fatalf("fetch offsets of %s: %v", group, err)
	}
	var out []kadm.Offset
	for _, o := range offs.Sorted() {
		if o.Err != nil {
			t.Fatalf("fetch offsets of %s: %s[%d]: %v", group, o.Topic, o.Partition, o.Err)
		}
		o.Offset.TopicID = kadm.TopicID{}
		out = append(out, o.Offset)
	}
	return out
}

func TestKill9KeepsCommittedOffsets(t *testing.T) {
	dir := t.TempDir()
	proc := testkit.StartBrokerProcess(t, dir, "")
	const topic = "committed"
	createTopic(t, proc.Addr, topic, 3, nil)
	produceN(t, proc.Addr, topic, "a", 60)

	// One group commits through a real member (autocommit, then the final
	// commit on leave), another with explicit offsets, epochs and metadata.
	seen := &seenSet{keys: map[string]int{}}
	gc := startGroupConsumer(t, proc.Addr, "member-group", topic, seen)
	testkit.Eventually(t, 30*time.Second, func() error {
		if n := seen.missing("a", 60); n > 0 {
			return fmt.Errorf("%d not consumed", n)
		}
		return nil
	})
	gc.close()
	adm := kadm.NewClient(testkit.Client(t, proc.Addr))
	var explicit kadm.Offsets
	explicit.Add(kadm.Offset{Topic: topic, Partition: 0, At: 3, LeaderEpoch: -1, Metadata: "first"})
	explicit.Add(kadm.Offset{Topic: topic, Partition: 1, At: 11, LeaderEpoch: 0, Metadata: ""})
	explicit.Add(kadm.Offset{Topic: topic, Partition: 2, At: 0, LeaderEpoch: -1, Metadata: "x"})
	if resp, err := adm.CommitOffsets(ctxT(t), "explicit-group", explicit); err != nil || resp.Error() != nil {
		t.Fatalf("commit: %v %v", err, resp.Error())
	}
	// A later commit replaces an earlier one.
	var again kadm.Offsets
	again.Add(kadm.Offset{Topic: topic, Partition: 2, At: 7, LeaderEpoch: -1, Metadata: "second"})
	if resp, err := adm.CommitOffsets(ctxT(t), "explicit-group", again); err != nil || resp.Error() != nil {
		t.Fatalf("commit: %v %v", err, resp.Error())
	}
	before := map[string][]kadm.Offset{}
	for _, g := range []string{"member-group", "explicit-group"} {
		before[g] = sortedOffsets(t, adm, g)
	}
	if got := committedTotal(t, adm, "member-group"); got != 60 {
		t.Fatalf("member committed %d of 60 before the kill", got)
	}
	if len(before["explicit-group"]) != 3 || before["explicit-group"][2].At != 7 || before["explicit-group"][2].Metadata != "second" {
		t.Fatalf("explicit commits before the kill: %+v", before["explicit-group"])
	}

	proc.Kill()
	proc = testkit.StartBrokerProcess(t, dir, proc.Addr)
	adm = kadm.NewClient(testkit.Client(t, proc.Addr))
	for g, want := range before {
		if got := sortedOffsets(t, adm, g); !slices.Equal(got, want) {
			t.Fatalf("%s after kill -9: %+v\nbefore: %+v", g, got, want)
		}
	}
	// A new member resumes where the old one committed.
	produceN(t, proc.Addr, topic, "b", 30)
	seen2 := &seenSet{keys: map[string]int{}}
	startGroupConsumer(t, proc.Addr, "member-group", topic, seen2)
	testkit.Eventually(t, 30*time.Second, func() error {
		if n := seen2.missing("b", 30); n > 0 {
			return fmt.Errorf("%d not consumed", n)
		}
		return nil
	})
	if n := 60 - seen2.missing("a", 60); n != 0 {
		t.Fatalf("%d records committed before the kill were consumed again", n)
	}
}

func TestKill9KeepsProducerState(t *testing.T) {
	dir := t.TempDir()
	proc := testkit.StartBrokerProcess(t, dir, "")
	const topic = "idem-kill"
	createTopic(t, proc.Addr, topic, 1, nil)

	// Every producer id handed out before the kill: raw idempotent ones,
	// a transactional one, and a franz-go idempotent producer's.
	var handedOut []int64
	pid, _ := initProducer(t, proc.Addr, "")
	handedOut = append(handedOut, pid)
	for i := 0; i < 3; i++ {
		id, _ := initProducer(t, proc.Addr, "")
		handedOut = append(handedOut, id)
	}
	txnPID, _ := initProducer(t, proc.Addr, "tx-before-kill")
	handedOut = append(handedOut, txnPID)
	franz := testkit.Client(t, proc.Addr, kgo.DefaultProduceTopic(topic))
	franzPID, _, err := franz.ProducerID(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	handedOut = append(handedOut, franzPID)

	first := producerBatch(t, pid, 0, 0, 3, false, "a")
	second := producerBatch(t, pid, 0, 3, 2, false, "b")
	expectProduce(t, "first batch", rawProduce(t, proc.Addr, topic, 0, "", first), nil, 0)
	expectProduce(t, "second batch", rawProduce(t, proc.Addr, topic, 0, "", second), nil, 3)

	proc.Kill()
	proc = testkit.StartBrokerProcess(t, dir, proc.Addr)
	cl := testkit.Client(t, proc.Addr)
	expectEnd(t, cl, topic, 0, 5)

	// Retries of acknowledged batches are answered with their offsets and
	// not appended again.
	expectProduce(t, "retry of the last batch after kill -9", rawProduce(t, proc.Addr, topic, 0, "", second), nil, 3)
	expectProduce(t, "retry of the first batch after kill -9", rawProduce(t, proc.Addr, topic, 0, "", first), nil, 0)
	expectEnd(t, cl, topic, 0, 5)
	// A gap is refused; the next sequence continues.
	expectProduce(t, "sequence gap after kill -9", rawProduce(t, proc.Addr, topic, 0, "", producerBatch(t, pid, 0, 9, 1, false, "gap")), kerr.OutOfOrderSequenceNumber, 0)
	expectProduce(t, "next sequence after kill -9", rawProduce(t, proc.Addr, topic, 0, "", producerBatch(t, pid, 0, 5, 1, false, "c")), nil, 5)
	if ap, ok := activeProducer(t, proc.Addr, topic, 0, pid); !ok || ap.LastSequence != 5 {
		t.Fatalf("DescribeProducers after kill -9: %+v (found %v), want last sequence 5", ap, ok)
	}

	// New ids, idempotent and transactional, were never handed out before.
	after := []int64{}
	for i := 0; i < 2; i++ {
		id, _ := initProducer(t, proc.Addr, "")
		after = append(after, id)
	}
	id, _ := initProducer(t, proc.Addr, "tx-after-kill")
	after = append(after, id)
	for _, id := range after {
		if slices.Contains(handedOut, id) || id <= slices.Max(handedOut) {
			t.Fatalf("producer id %d handed out after kill -9; before it: %v", id, handedOut)
		}
	}
	// The transactional id keeps its producer id, at a bumped epoch.
	if id, epoch := initProducer(t, proc.Addr, "tx-before-kill"); id != txnPID || epoch != 1 {
		t.Fatalf("tx-before-kill after kill -9: id %d epoch %d, want %d at epoch 1", id, epoch, txnPID)
	}

	var got []string
	for _, r := range consumeAll(t, proc.Addr, topic, 6) {
		got = append(got, string(r.Value))
	}
	if want := []string{"a-0", "a-1", "a-2", "b-0", "b-1", "c-0"}; !slices.Equal(got, want) {
		t.Fatalf("log after kill -9 and retries: %v, want %v", got, want)
	}
}

// ackDropper is a TCP proxy in front of the broker that can swallow the
// broker's responses, so a test can make a request succeed on the broker
// while its client never hears about it.
type ackDropper struct {
	ln      net.Listener
	backend string
	drop    atomic.Bool
	mu      sync.Mutex
	conns   []net.Conn
}

func startAckDropper(t *testing.T, backend string) *ackDropper {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &ackDropper{ln: ln, backend: backend}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go d.serve(c)
		}
	}()
	t.Cleanup(func() { ln.Close(); d.cut() })
	return d
}

func (d *ackDropper) serve(c net.Conn) {
	s, err := net.Dial("tcp", d.backend)
	if err != nil {
		c.Close()
		return
	}
	d.mu.Lock()
	d.conns = append(d.conns, c, s)
	d.mu.Unlock()
	go func() { io.Copy(s, c); s.Close() }()
	buf := make([]byte, 32<<10)
	for {
		n, err := s.Read(buf)
		if n > 0 && !d.drop.Load() {
			if _, werr := c.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	c.Close()
}

// cut closes every proxied connection.
func (d *ackDropper) cut() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range d.conns {
		c.Close()
	}
	d.conns = nil
}

// TestKill9IdempotentRetriesAreDeduplicated: a franz-go idempotent
// producer's batch is written by the broker but its acknowledgement is
// lost, then the broker is killed and restarted. The client retries the
// batch with the same producer id and sequence, and the rebuilt producer
// state recognises it: every record is in the log exactly once.
func TestKill9IdempotentRetriesAreDeduplicated(t *testing.T) {
	dir := t.TempDir()
	brokerAddr := testkit.FreePort(t)
	proxy := startAckDropper(t, brokerAddr)
	advertise := proxy.ln.Addr().String()
	proc := testkit.StartBrokerProcess(t, dir, brokerAddr, testkit.WithAdvertise(advertise))
	const topic = "idem-lost-ack"
	createTopic(t, advertise, topic, 1, nil)
	cl := testkit.Client(t, advertise, kgo.DefaultProduceTopic(topic), kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RecordRetries(100), kgo.RetryBackoffFn(func(int) time.Duration { return 50 * time.Millisecond }))
	ctx := ctxT(t)
	batch := func(prefix string) []*kgo.Record {
		var recs []*kgo.Record
		for i := 0; i < 20; i++ {
			recs = append(recs, &kgo.Record{Value: []byte(fmt.Sprintf("%s-%d", prefix, i))})
		}
		return recs
	}
	if err := cl.ProduceSync(ctx, batch("acked")...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	endOnBroker := func() int64 {
		req := kmsg.NewPtrListOffsetsRequest()
		req.Version = 4
		rt := kmsg.NewListOffsetsRequestTopic()
		rt.Topic = topic
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Timestamp = -1
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		return roundTrip(t, brokerAddr, req).(*kmsg.ListOffsetsResponse).Topics[0].Partitions[0].Offset
	}
	if end := endOnBroker(); end != 20 {
		t.Fatalf("end %d after the first batch", end)
	}

	// The next batch reaches the log, but its answer is dropped.
	proxy.drop.Store(true)
	results := make(chan kgo.ProduceResults, 1)
	go func() { results <- cl.ProduceSync(ctx, batch("lost-ack")...) }()
	testkit.Eventually(t, 10*time.Second, func() error {
		if end := endOnBroker(); end != 40 {
			return fmt.Errorf("end %d", end)
		}
		return nil
	})
	proc.Kill()
	proxy.cut()
	proxy.drop.Store(false)
	proc = testkit.StartBrokerProcess(t, dir, brokerAddr, testkit.WithAdvertise(advertise))

	res := <-results
	if err := res.FirstErr(); err != nil {
		t.Fatalf("retried batch: %v", err)
	}
	if res[0].Record.Offset != 20 {
		t.Fatalf("retried batch acknowledged at offset %d, want its original 20", res[0].Record.Offset)
	}
	if end := endOnBroker(); end != 40 {
		t.Fatalf("the retry was appended again: log end %d, want 40", end)
	}
	// The producer carries on after the deduplicated retry.
	if err := cl.ProduceSync(ctx, batch("after")...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range consumeAll(t, advertise, topic, 60) {
		got = append(got, string(r.Value))
	}
	if len(got) != 60 || got[20] != "lost-ack-0" || got[40] != "after-0" {
		t.Fatalf("log after the retry: %v", got)
	}
}

// TestKill9ProducerSnapshotCutByRecovery: a periodic producer state
// snapshot covers a batch that the crash then takes from the log (cut
// mid-batch, as a lost page cache would). After restart the retry of that
// batch must be appended again, not answered as a duplicate at an offset
// the log no longer holds.
func TestKill9ProducerSnapshotCutByRecovery(t *testing.T) {
	dir := t.TempDir()
	proc := testkit.StartBrokerProcess(t, dir, "", testkit.WithConfig("log.retention.check.interval.ms", "50"))
	const topic = "idem-cut"
	createTopic(t, proc.Addr, topic, 1, nil)
	snapshot := filepath.Join(dir, topic+"-0", "producer-state.snapshot")
	pidA, _ := initProducer(t, proc.Addr, "")
	pidB, _ := initProducer(t, proc.Addr, "")
	expectProduce(t, "A first batch", rawProduce(t, proc.Addr, topic, 0, "", producerBatch(t, pidA, 0, 0, 3, false, "a")), nil, 0)
	expectProduce(t, "A second batch", rawProduce(t, proc.Addr, topic, 0, "", producerBatch(t, pidA, 0, 3, 2, false, "b")), nil, 3)
	var first []byte
	testkit.Eventually(t, 10*time.Second, func() (err error) {
		first, err = os.ReadFile(snapshot)
		return err
	})
	// A snapshot written after B's batch covers it: the broker rewrites the
	// snapshot only when the log end moved, and B's batch is the last append.
	lastB := producerBatch(t, pidB, 0, 0, 2, false, "c")
	expectProduce(t, "B batch", rawProduce(t, proc.Addr, topic, 0, "", lastB), nil, 5)
	testkit.Eventually(t, 10*time.Second, func() error {
		now, err := os.ReadFile(snapshot)
		if err != nil || bytes.Equal(now, first) {
			return fmt.Errorf("snapshot not rewritten after the last append (%v)", err)
		}
		return nil
	})
	proc.Kill()
	segs, _ := filepath.Glob(filepath.Join(dir, topic+"-0", "*.log"))
	if len(segs) != 1 {
		t.Fatalf("segments: %v", segs)
	}
	st, err := os.Stat(segs[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(segs[0], st.Size()-5); err != nil {
		t.Fatal(err)
	}

	proc = testkit.StartBrokerProcess(t, dir, proc.Addr)
	cl := testkit.Client(t, proc.Addr)
	expectEnd(t, cl, topic, 0, 5)
	if _, ok := activeProducer(t, proc.Addr, topic, 0, pidB); ok {
		t.Fatalf("producer %d is known although its only batch was lost", pidB)
	}
	expectProduce(t, "retry of the lost batch", rawProduce(t, proc.Addr, topic, 0, "", lastB), nil, 5)
	expectEnd(t, cl, topic, 0, 7)
	// A's state, from before the cut, is intact.
	expectProduce(t, "retry of A's last batch", rawProduce(t, proc.Addr, topic, 0, "", producerBatch(t, pidA, 0, 3, 2, false, "b")), nil, 3)
	expectProduce(t, "A continues", rawProduce(t, proc.Addr, topic, 0, "", producerBatch(t, pidA, 0, 5, 1, false, "d")), nil, 7)
	var got []string
	for _, r := range consumeAll(t, proc.Addr, topic, 8) {
		got = append(got, string(r.Value))
	}
	if want := []string{"a-0", "a-1", "a-2", "b-0", "b-1", "c-0", "c-1", "d-0"}; !slices.Equal(got, want) {
		t.Fatalf("log after the cut and retries: %v, want %v", got, want)
	}
}

// txnCommitOffset stages a commit of offset for group on topic[0] in cl's
// open transaction: AddOffsetsToTxn v3, then TxnOffsetCommit v3 as a
// producer outside the group.
func txnCommitOffset(t *testing.T, addr string, cl *kgo.Client, txnID, group, topic string, offset int64) {
	t.Helper()
	pid, epoch, err := cl.ProducerID(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	add := kmsg.NewPtrAddOffsetsToTxnRequest()
	add.Version = 3
	add.TransactionalID, add.ProducerID, add.ProducerEpoch, add.Group = txnID, pid, epoch, group
	if code := roundTrip(t, addr, add).(*kmsg.AddOffsetsToTxnResponse).ErrorCode; code != 0 {
		t.Fatalf("AddOffsetsToTxn: %v", kerr.ErrorForCode(code))
	}
	commit := kmsg.NewPtrTxnOffsetCommitRequest()
	commit.Version = 3
	commit.TransactionalID, commit.Group, commit.ProducerID, commit.ProducerEpoch = txnID, group, pid, epoch
	commit.Generation, commit.MemberID = -1, ""
	ct := kmsg.NewTxnOffsetCommitRequestTopic()
	ct.Topic = topic
	cp := kmsg.NewTxnOffsetCommitRequestTopicPartition()
	cp.Offset, cp.LeaderEpoch = offset, -1
	ct.Partitions = append(ct.Partitions, cp)
	commit.Topics = append(commit.Topics, ct)
	if code := roundTrip(t, addr, commit).(*kmsg.TxnOffsetCommitResponse).Topics[0].Partitions[0].ErrorCode; code != 0 {
		t.Fatalf("TxnOffsetCommit: %v", kerr.ErrorForCode(code))
	}
}

func TestKill9OpenTransactionAbortedOnTimeout(t *testing.T) {
	dir := t.TempDir()
	// Before the kill the coordinator does not look for timed-out
	// transactions, so the open one is still open when the process dies.
	proc := testkit.StartBrokerProcess(t, dir, "", testkit.WithConfig("transaction.abort.timed.out.transaction.cleanup.interval.ms", "3600000"))
	const topic, source, group = "txn-kill", "txn-kill-source", "txn-kill-group"
	createTopic(t, proc.Addr, topic, 1, nil)
	createTopic(t, proc.Addr, source, 1, nil)
	ctx := ctxT(t)

	done := testkit.Client(t, proc.Addr, kgo.TransactionalID("tx-done"), kgo.DefaultProduceTopic(topic))
	if err := done.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if err := done.ProduceSync(ctx, &kgo.Record{Value: []byte(fmt.Sprintf("committed-%d", i))}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	txnCommitOffset(t, proc.Addr, done, "tx-done", group, source, 5)
	if err := done.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	// Offsets 0-2 committed, 3 the marker; the open transaction starts at 4.
	open, err := kgo.NewClient(kgo.SeedBrokers(proc.Addr), kgo.TransactionalID("tx-open"), kgo.DefaultProduceTopic(topic),
		kgo.TransactionTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if err := open.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := open.ProduceSync(ctx, &kgo.Record{Value: []byte(fmt.Sprintf("open-%d", i))}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	txnCommitOffset(t, proc.Addr, open, "tx-open", group, source, 9)
	adm := kadm.NewClient(testkit.Client(t, proc.Addr))
	lso := func() int64 {
		t.Helper()
		l, err := adm.ListCommittedOffsets(ctx, topic)
		if err != nil {
			t.Fatal(err)
		}
		o, _ := l.Lookup(topic, 0)
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		return o.Offset
	}
	if got := lso(); got != 4 {
		t.Fatalf("last stable offset %d with the transaction open, want 4", got)
	}

	proc.Kill()
	open.Close() // the producer dies with the broker; it never ends its transaction
	proc = testkit.StartBrokerProcess(t, dir, proc.Addr, testkit.WithConfig("transaction.abort.timed.out.transaction.cleanup.interval.ms", "100"))
	adm = kadm.NewClient(testkit.Client(t, proc.Addr))
	testkit.Eventually(t, 20*time.Second, func() error {
		desc, err := adm.DescribeTransactions(ctx, "tx-open", "tx-done")
		if err != nil {
			return err
		}
		if s := desc["tx-open"].State; s != "CompleteAbort" {
			return fmt.Errorf("tx-open is %s", s)
		}
		if s := desc["tx-done"].State; s != "CompleteCommit" {
			return fmt.Errorf("tx-done is %s", s)
		}
		return nil
	})
	// The abort marker at 6 closes the transaction: the LSO is the log end.
	cl := testkit.Client(t, proc.Addr)
	expectEnd(t, cl, topic, 0, 7)
	if got := lso(); got != 7 {
		t.Fatalf("last stable offset %d after the timeout abort, want 7", got)
	}
	if got := consumeN(t, proc.Addr, topic, true, 3); !slices.Equal(got, []string{"committed-0", "committed-1", "committed-2"}) {
		t.Fatalf("read_committed after kill -9 and timeout abort: %v", got)
	}
	if got := consumeN(t, proc.Addr, topic, false, 5); !slices.Equal(got, []string{"committed-0", "committed-1", "committed-2", "open-0", "open-1"}) {
		t.Fatalf("read_uncommitted after kill -9: %v", got)
	}
	// The committed transaction's offset stands; the aborted one's staged
	// offset was dropped.
	offs := sortedOffsets(t, adm, group)
	if len(offs) != 1 || offs[0].Topic != source || offs[0].At != 5 {
		t.Fatalf("group offsets after kill -9 and timeout abort: %+v, want %s[0] at 5", offs, source)
	}
	// The committed transaction's producer carries on.
	if err := done.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := done.ProduceSync(ctx, &kgo.Record{Value: []byte("committed-3")}).FirstErr(); err != nil {
		t.Fatalf("tx-done after the restart: %v", err)
	}
	if err := done.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatalf("tx-done commit after the restart: %v", err)
	}
	if got := consumeN(t, proc.Addr, topic, true, 4); got[3] != "committed-3" {
		t.Fatalf("read_committed after a new commit: %v", got)
	}
}

// TestKill9OpenTransactionFencedByNewInstance: a transaction is open when
// the broker is killed; after the restart a new instance of the producer
// (same transactional id) initialises, which aborts the old transaction at
// once, and then commits its own.
func TestKill9OpenTransactionFencedByNewInstance(t *testing.T) {
	dir := t.TempDir()
	proc := testkit.StartBrokerProcess(t, dir, "")
	const topic = "txn-fenced"
	createTopic(t, proc.Addr, topic, 2, nil)
	ctx := ctxT(t)
	old, err := kgo.NewClient(kgo.SeedBrokers(proc.Addr), kgo.TransactionalID("tx-restarted"), kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	if err := old.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	for p := int32(0); p < 2; p++ {
		r := &kgo.Record{Partition: p, Value: []byte(fmt.Sprintf("old-%d", p))}
		if err := old.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	oldPID, oldEpoch, err := old.ProducerID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	proc.Kill()
	old.Close()
	proc = testkit.StartBrokerProcess(t, dir, proc.Addr)

	fresh := testkit.Client(t, proc.Addr, kgo.TransactionalID("tx-restarted"), kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err := fresh.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := fresh.ProduceSync(ctx, &kgo.Record{Value: []byte("new")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	pid, epoch, err := fresh.ProducerID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if pid != oldPID || epoch <= oldEpoch {
		t.Fatalf("new instance got id %d epoch %d; the old one had %d epoch %d", pid, epoch, oldPID, oldEpoch)
	}
	if err := fresh.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	// The old transaction's records are aborted on both partitions, and
	// both partitions are stable again.
	adm := kadm.NewClient(testkit.Client(t, proc.Addr))
	lso, err := adm.ListCommittedOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	for p := int32(0); p < 2; p++ {
		l, _ := lso.Lookup(topic, p)
		e, _ := ends.Lookup(topic, p)
		if l.Err != nil || e.Err != nil || l.Offset != e.Offset {
			t.Fatalf("partition %d: last stable offset %d, end %d (%v %v)", p, l.Offset, e.Offset, l.Err, e.Err)
		}
	}
	for p := int32(0); p < 2; p++ {
		if e, _ := ends.Lookup(topic, p); e.Offset < 2 {
			t.Fatalf("partition %d ends at %d: the old transaction has no marker", p, e.Offset)
		}
	}
	if got := consumeN(t, proc.Addr, topic, true, 1); !slices.Equal(got, []string{"new"}) {
		t.Fatalf("read_committed after the new instance committed: %v", got)
	}
}
