package broker_test

// Idempotent and transactional producers driven by raw requests, so each
// bad input is exactly the one under test: a retried batch is acknowledged
// with its original offset and not appended again; a sequence gap, a new
// producer starting past sequence 0 and an older epoch are refused; a
// transactional batch for a partition outside the transaction is
// INVALID_TXN_STATE; EndTxn with a wrong producer id or an old epoch gets
// the code each version expects; DescribeProducers, ListTransactions and
// DescribeTransactions report what happened.

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-streams/tributary/broker/internal/record"
	"github.com/tributary-streams/tributary/internal/testkit"
)

// producerBatch builds an n-record batch for producer id/epoch starting at
// sequence seq; values are prefix-0, prefix-1, ...
func producerBatch(t *testing.T, pid int64, epoch int16, seq int32, n int, transactional bool, prefix string) []byte {
	t.Helper()
	var recs []record.Record
	for i := 0; i < n; i++ {
		v := fmt.Sprintf("%s-%d", prefix, i)
		recs = append(recs, record.Record{OffsetDelta: int32(i), Key: []byte(v), Value: []byte(v)})
	}
	var attrs int16
	if transactional {
		attrs = record.AttrTransactional
	}
	now := time.Now().UnixMilli()
	b, err := record.Build(record.Header{Magic: 2, Attributes: attrs, LastOffsetDelta: int32(n - 1), BaseTimestamp: now, MaxTimestamp: now,
		ProducerID: pid, ProducerEpoch: epoch, BaseSequence: seq, NumRecords: int32(n)}, recs, record.None)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rawProduce sends one batch with Produce v9 (acks=all) to topic/partition,
// as part of transaction txnID when it is not empty.
func rawProduce(t *testing.T, addr, topic string, partition int32, txnID string, batch []byte) kmsg.ProduceResponseTopicPartition {
	t.Helper()
	req := kmsg.NewPtrProduceRequest()
	req.Version, req.Acks, req.TimeoutMillis = 9, -1, 5000
	if txnID != "" {
		req.TransactionID = kmsg.StringPtr(txnID)
	}
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Partition, rp.Records = partition, batch
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return roundTrip(t, addr, req).(*kmsg.ProduceResponse).Topics[0].Partitions[0]
}

// initProducer asks for a producer id with InitProducerId v4: an
// idempotent one when txnID is empty.
func initProducer(t *testing.T, addr, txnID string) (int64, int16) {
	t.Helper()
	req := kmsg.NewPtrInitProducerIDRequest()
	req.Version = 4
	req.TransactionTimeoutMillis = 60000
	if txnID != "" {
		req.TransactionalID = kmsg.StringPtr(txnID)
	}
	resp := roundTrip(t, addr, req).(*kmsg.InitProducerIDResponse)
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		t.Fatalf("InitProducerId(%q): %v", txnID, err)
	}
	return resp.ProducerID, resp.ProducerEpoch
}

// expectProduce checks a produce answer: its error, and on success its base
// offset.
func expectProduce(t *testing.T, what string, got kmsg.ProduceResponseTopicPartition, want *kerr.Error, base int64) {
	t.Helper()
	if want != nil {
		if got.ErrorCode != want.Code {
			t.Fatalf("%s: error %v, want %v", what, kerr.ErrorForCode(got.ErrorCode), want)
		}
		return
	}
	if got.ErrorCode != 0 || got.BaseOffset != base {
		t.Fatalf("%s: error %v base offset %d, want success at %d", what, kerr.ErrorForCode(got.ErrorCode), got.BaseOffset, base)
	}
}

func expectEnd(t *testing.T, cl *kgo.Client, topic string, partition int32, want int64) {
	t.Helper()
	if end := listEnds(t, cl, topic, partition+1)[partition]; end != want {
		t.Fatalf("%s[%d] ends at %d, want %d", topic, partition, end, want)
	}
}

// activeProducer returns DescribeProducers' entry for pid on topic[partition].
func activeProducer(t *testing.T, addr, topic string, partition int32, pid int64) (kmsg.DescribeProducersResponseTopicPartitionActiveProducer, bool) {
	t.Helper()
	req := kmsg.NewPtrDescribeProducersRequest()
	rt := kmsg.NewDescribeProducersRequestTopic()
	rt.Topic, rt.Partitions = topic, []int32{partition}
	req.Topics = append(req.Topics, rt)
	resp := roundTrip(t, addr, req).(*kmsg.DescribeProducersResponse)
	sp := resp.Topics[0].Partitions[0]
	if err := kerr.ErrorForCode(sp.ErrorCode); err != nil {
		t.Fatalf("DescribeProducers %s[%d]: %v", topic, partition, err)
	}
	for _, ap := range sp.ActiveProducers {
		if ap.ProducerID == pid {
			return ap, true
		}
	}
	return kmsg.DescribeProducersResponseTopicPartitionActiveProducer{}, false
}

func TestIdempotentProduceSequenceChecks(t *testing.T) {
	b := testkit.StartBroker(t)
	const topic = "idem"
	createTopic(t, b.Addr, topic, 1, nil)
	cl := testkit.Client(t, b.Addr)
	pid, epoch := initProducer(t, b.Addr, "")
	if epoch != 0 || pid < 0 {
		t.Fatalf("idempotent InitProducerId: id %d epoch %d", pid, epoch)
	}

	first := producerBatch(t, pid, 0, 0, 3, false, "a")
	expectProduce(t, "first batch", rawProduce(t, b.Addr, topic, 0, "", first), nil, 0)
	expectProduce(t, "retry of the first batch", rawProduce(t, b.Addr, topic, 0, "", first), nil, 0)
	expectEnd(t, cl, topic, 0, 3)
	expectProduce(t, "next batch", rawProduce(t, b.Addr, topic, 0, "", producerBatch(t, pid, 0, 3, 2, false, "b")), nil, 3)
	// An older batch still among the last five is a retry too.
	expectProduce(t, "late retry of the first batch", rawProduce(t, b.Addr, topic, 0, "", first), nil, 0)
	expectEnd(t, cl, topic, 0, 5)

	// Sequence 5 is next; 7 leaves a gap, and 4 overlaps what was written
	// without repeating a batch.
	expectProduce(t, "sequence gap", rawProduce(t, b.Addr, topic, 0, "", producerBatch(t, pid, 0, 7, 1, false, "gap")), kerr.OutOfOrderSequenceNumber, 0)
	expectProduce(t, "overlapping sequence", rawProduce(t, b.Addr, topic, 0, "", producerBatch(t, pid, 0, 4, 2, false, "overlap")), kerr.OutOfOrderSequenceNumber, 0)
	expectEnd(t, cl, topic, 0, 5)

	// A producer the partition has not seen must start at sequence 0.
	pid2, _ := initProducer(t, b.Addr, "")
	if pid2 == pid {
		t.Fatalf("InitProducerId handed out %d twice", pid)
	}
	expectProduce(t, "new producer at sequence 5", rawProduce(t, b.Addr, topic, 0, "", producerBatch(t, pid2, 0, 5, 1, false, "late")), kerr.OutOfOrderSequenceNumber, 0)
	expectEnd(t, cl, topic, 0, 5)
	if _, ok := activeProducer(t, b.Addr, topic, 0, pid2); ok {
		t.Fatalf("a refused first batch registered producer %d", pid2)
	}

	// DescribeProducers reports the last sequence written.
	ap, ok := activeProducer(t, b.Addr, topic, 0, pid)
	if !ok || ap.ProducerEpoch != 0 || ap.LastSequence != 4 || ap.CurrentTxnStartOffset != -1 {
		t.Fatalf("DescribeProducers for %d: %+v (found %v), want epoch 0, last sequence 4, no transaction", pid, ap, ok)
	}

	// A newer epoch restarts the sequence at 0; after it the old epoch is
	// fenced, retries of its batches included.
	expectProduce(t, "epoch 1 from sequence 0", rawProduce(t, b.Addr, topic, 0, "", producerBatch(t, pid, 1, 0, 2, false, "c")), nil, 5)
	expectProduce(t, "epoch 0 after epoch 1", rawProduce(t, b.Addr, topic, 0, "", producerBatch(t, pid, 0, 5, 1, false, "old")), kerr.InvalidProducerEpoch, 0)
	expectProduce(t, "epoch 0 retry after epoch 1", rawProduce(t, b.Addr, topic, 0, "", first), kerr.InvalidProducerEpoch, 0)
	expectEnd(t, cl, topic, 0, 7)
	ap, _ = activeProducer(t, b.Addr, topic, 0, pid)
	if ap.ProducerEpoch != 1 || ap.LastSequence != 1 {
		t.Fatalf("DescribeProducers after the epoch bump: %+v, want epoch 1, last sequence 1", ap)
	}

	// What is in the log is each accepted batch exactly once.
	var got []string
	for _, r := range consumeAll(t, b.Addr, topic, 7) {
		got = append(got, string(r.Value))
	}
	if want := []string{"a-0", "a-1", "a-2", "b-0", "b-1", "c-0", "c-1"}; !slices.Equal(got, want) {
		t.Fatalf("log holds %v, want %v", got, want)
	}
}

// addPartitions sends AddPartitionsToTxn v3 and returns the first error code.
func addPartitions(t *testing.T, addr, txnID string, pid int64, epoch int16, topic string, partitions ...int32) int16 {
	t.Helper()
	req := kmsg.NewPtrAddPartitionsToTxnRequest()
	req.Version = 3
	req.TransactionalID, req.ProducerID, req.ProducerEpoch = txnID, pid, epoch
	rt := kmsg.NewAddPartitionsToTxnRequestTopic()
	rt.Topic, rt.Partitions = topic, partitions
	req.Topics = append(req.Topics, rt)
	resp := roundTrip(t, addr, req).(*kmsg.AddPartitionsToTxnResponse)
	for _, p := range resp.Topics[0].Partitions {
		if p.ErrorCode != 0 {
			return p.ErrorCode
		}
	}
	return 0
}

func endTxn(t *testing.T, addr string, version int16, txnID string, pid int64, epoch int16, commit bool) int16 {
	t.Helper()
	req := kmsg.NewPtrEndTxnRequest()
	req.Version = version
	req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Commit = txnID, pid, epoch, commit
	return roundTrip(t, addr, req).(*kmsg.EndTxnResponse).ErrorCode
}

func describeTxn(t *testing.T, addr, txnID string) kmsg.DescribeTransactionsResponseTransactionState {
	t.Helper()
	req := kmsg.NewPtrDescribeTransactionsRequest()
	req.TransactionalIDs = []string{txnID}
	return roundTrip(t, addr, req).(*kmsg.DescribeTransactionsResponse).TransactionStates[0]
}

// listTxnStates returns ListTransactions' state for each transactional id,
// filtered by states when given.
func listTxnStates(t *testing.T, addr string, states ...string) map[string]string {
	t.Helper()
	req := kmsg.NewPtrListTransactionsRequest()
	req.StateFilters = states
	resp := roundTrip(t, addr, req).(*kmsg.ListTransactionsResponse)
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		t.Fatalf("ListTransactions: %v", err)
	}
	out := map[string]string{}
	for _, s := range resp.TransactionStates {
		out[s.TransactionalID] = s.TransactionState
	}
	return out
}

func TestTransactionalProduceAndEndTxnErrors(t *testing.T) {
	b := testkit.StartBroker(t)
	const topic, txnID = "txn-raw", "tx-raw"
	createTopic(t, b.Addr, topic, 2, nil)
	cl := testkit.Client(t, b.Addr)

	pid, epoch0 := initProducer(t, b.Addr, txnID)
	pidAgain, epoch := initProducer(t, b.Addr, txnID) // a new instance: epoch bumped
	if pidAgain != pid || epoch0 != 0 || epoch != 1 {
		t.Fatalf("InitProducerId twice: (%d, %d) then (%d, %d), want the same id at epochs 0 and 1", pid, epoch0, pidAgain, epoch)
	}
	if d := describeTxn(t, b.Addr, txnID); d.ErrorCode != 0 || d.State != "Empty" || d.ProducerID != pid || d.ProducerEpoch != epoch {
		t.Fatalf("DescribeTransactions before any partition: %+v", d)
	}
	if d := describeTxn(t, b.Addr, "never-seen"); d.ErrorCode != kerr.TransactionalIDNotFound.Code {
		t.Fatalf("DescribeTransactions of an unknown id: %v", kerr.ErrorForCode(d.ErrorCode))
	}

	// Before AddPartitionsToTxn no partition belongs to the transaction.
	expectProduce(t, "transactional batch before AddPartitionsToTxn",
		rawProduce(t, b.Addr, topic, 0, txnID, producerBatch(t, pid, epoch, 0, 1, true, "early")), kerr.InvalidTxnState, 0)
	if code := addPartitions(t, b.Addr, txnID, pid, epoch, topic, 0); code != 0 {
		t.Fatalf("AddPartitionsToTxn: %v", kerr.ErrorForCode(code))
	}
	expectProduce(t, "transactional batch for a partition not in the transaction",
		rawProduce(t, b.Addr, topic, 1, txnID, producerBatch(t, pid, epoch, 0, 1, true, "stray")), kerr.InvalidTxnState, 0)
	expectProduce(t, "transactional batch with the fenced epoch",
		rawProduce(t, b.Addr, topic, 0, txnID, producerBatch(t, pid, epoch0, 0, 1, true, "fenced")), kerr.InvalidProducerEpoch, 0)
	expectProduce(t, "transactional batch in the transaction",
		rawProduce(t, b.Addr, topic, 0, txnID, producerBatch(t, pid, epoch, 0, 3, true, "t1")), nil, 0)
	expectEnd(t, cl, topic, 1, 0)

	d := describeTxn(t, b.Addr, txnID)
	if d.State != "Ongoing" || len(d.Topics) != 1 || d.Topics[0].Topic != topic || !slices.Equal(d.Topics[0].Partitions, []int32{0}) || d.StartTimestamp <= 0 {
		t.Fatalf("DescribeTransactions of the open transaction: %+v", d)
	}
	if s := listTxnStates(t, b.Addr, "Ongoing"); s[txnID] != "Ongoing" {
		t.Fatalf("ListTransactions(Ongoing): %v", s)
	}
	if ap, ok := activeProducer(t, b.Addr, topic, 0, pid); !ok || ap.CurrentTxnStartOffset != 0 || ap.LastSequence != 2 || ap.ProducerEpoch != int32(epoch) {
		t.Fatalf("DescribeProducers during the transaction: %+v (found %v)", ap, ok)
	}

	// EndTxn with a producer id that is not the transactional id's, and
	// with the fenced epoch, in every version.
	for v := int16(0); v <= 4; v++ {
		if code := endTxn(t, b.Addr, v, txnID, pid+1, epoch, true); code != kerr.InvalidProducerIDMapping.Code {
			t.Fatalf("EndTxn v%d with a wrong producer id: %v, want INVALID_PRODUCER_ID_MAPPING", v, kerr.ErrorForCode(code))
		}
		want := kerr.ProducerFenced
		if v < 2 {
			want = kerr.InvalidProducerEpoch
		}
		if code := endTxn(t, b.Addr, v, txnID, pid, epoch0, true); code != want.Code {
			t.Fatalf("EndTxn v%d with the old epoch: %v, want %v", v, kerr.ErrorForCode(code), want)
		}
	}
	if code := endTxn(t, b.Addr, 3, "never-seen", pid, epoch, true); code != kerr.InvalidProducerIDMapping.Code {
		t.Fatalf("EndTxn for an unknown transactional id: %v", kerr.ErrorForCode(code))
	}
	if d := describeTxn(t, b.Addr, txnID); d.State != "Ongoing" {
		t.Fatalf("refused EndTxn requests changed the state to %s", d.State)
	}

	// Commit; a retry asking for the same outcome succeeds, the opposite
	// outcome is INVALID_TXN_STATE.
	if code := endTxn(t, b.Addr, 3, txnID, pid, epoch, true); code != 0 {
		t.Fatalf("EndTxn commit: %v", kerr.ErrorForCode(code))
	}
	if code := endTxn(t, b.Addr, 3, txnID, pid, epoch, true); code != 0 {
		t.Fatalf("EndTxn commit retry: %v", kerr.ErrorForCode(code))
	}
	if code := endTxn(t, b.Addr, 3, txnID, pid, epoch, false); code != kerr.InvalidTxnState.Code {
		t.Fatalf("EndTxn abort after commit: %v, want INVALID_TXN_STATE", kerr.ErrorForCode(code))
	}
	if d := describeTxn(t, b.Addr, txnID); d.State != "CompleteCommit" || d.StartTimestamp != -1 {
		t.Fatalf("DescribeTransactions after commit: %+v", d)
	}
	if s := listTxnStates(t, b.Addr, "CompleteCommit"); s[txnID] != "CompleteCommit" {
		t.Fatalf("ListTransactions(CompleteCommit): %v", s)
	}
	if s := listTxnStates(t, b.Addr, "Ongoing"); len(s) != 0 {
		t.Fatalf("ListTransactions(Ongoing) after commit: %v", s)
	}
	if ap, _ := activeProducer(t, b.Addr, topic, 0, pid); ap.CurrentTxnStartOffset != -1 {
		t.Fatalf("DescribeProducers after commit: transaction still open at %d", ap.CurrentTxnStartOffset)
	}

	// A second transaction on the same partition is aborted.
	if code := addPartitions(t, b.Addr, txnID, pid, epoch, topic, 0); code != 0 {
		t.Fatalf("AddPartitionsToTxn: %v", kerr.ErrorForCode(code))
	}
	expectProduce(t, "second transaction", rawProduce(t, b.Addr, topic, 0, txnID, producerBatch(t, pid, epoch, 3, 2, true, "t2")), nil, 4)
	if code := endTxn(t, b.Addr, 3, txnID, pid, epoch, false); code != 0 {
		t.Fatalf("EndTxn abort: %v", kerr.ErrorForCode(code))
	}
	if s := listTxnStates(t, b.Addr); s[txnID] != "CompleteAbort" {
		t.Fatalf("ListTransactions after abort: %v", s)
	}
	// Commit marker at 3, the aborted batch at 4-5, its abort marker at 6:
	// read_committed sees only the committed records.
	expectEnd(t, cl, topic, 0, 7)
	if got := consumeN(t, b.Addr, topic, true, 3); !slices.Equal(got, []string{"t1-0", "t1-1", "t1-2"}) {
		t.Fatalf("read_committed sees %v", got)
	}
}
