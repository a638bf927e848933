package broker_test

// Log compaction end to end through the broker's maintenance pass: the
// newest value per key survives at its original offset; tombstones stay
// for delete.retention.ms after the cleaning that first keeps them and go
// at a later cleaning; compact,delete also deletes old segments by
// retention; aborted transactional records are removed while markers and
// committed records stay.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-streams/tributary/broker/internal/record"
	"github.com/tributary-streams/tributary/internal/testkit"
)

// compactingBroker starts a broker whose own cleaner never runs during a
// test: compaction happens only when the test calls RunMaintenance.
func compactingBroker(t *testing.T) *testkit.Broker {
	return testkit.StartBroker(t, testkit.WithConfig("log.cleaner.backoff.ms", "3600000"))
}

func compactTopicConfig(policy string, extra ...string) map[string]*string {
	cfg := map[string]*string{}
	set := func(k, v string) { cfg[k] = &v }
	set("cleanup.policy", policy)
	set("segment.bytes", "1024")
	set("min.cleanable.dirty.ratio", "0.01")
	set("min.compaction.lag.ms", "0")
	for i := 0; i+1 < len(extra); i += 2 {
		set(extra[i], extra[i+1])
	}
	return cfg
}

// produceAll produces recs (grouped into batches as the client likes) and
// waits for all of them; each record's Offset is then set.
func produceAll(t *testing.T, cl *kgo.Client, recs ...*kgo.Record) {
	t.Helper()
	if err := cl.ProduceSync(ctxT(t), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// sentinelKey is the key of the large record each test produces last. It
// does not fit in the active segment (1024 bytes), even compressed, so it
// rolls the log: everything before it sits in closed segments, which
// compaction may clean.
const sentinelKey = "sentinel"

func sentinel(topic string) *kgo.Record {
	v := make([]byte, 1100)
	rand.NewChaCha8([32]byte{1}).Read(v) // incompressible
	return &kgo.Record{Topic: topic, Key: []byte(sentinelKey), Value: v}
}

// readToSentinel reads partition 0 of topic from its start until the
// sentinel record and returns every record before it.
func readToSentinel(t *testing.T, addr, topic string, opts ...kgo.Opt) []*kgo.Record {
	t.Helper()
	cl := testkit.Client(t, addr, append([]kgo.Opt{
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}),
		kgo.FetchMaxWait(100 * time.Millisecond),
	}, opts...)...)
	ctx := ctxT(t)
	var out []*kgo.Record
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("no sentinel in %s after %d records", topic, len(out))
		}
		fs.EachError(func(_ string, _ int32, err error) { t.Fatalf("fetch %s: %v", topic, err) })
		for _, r := range fs.Records() {
			if string(r.Key) == sentinelKey {
				return out
			}
			out = append(out, r)
		}
	}
}

// newestByKey is what compaction must leave of recs (all already produced,
// so with offsets): per key, the record with the highest offset.
func newestByKey(recs []*kgo.Record) map[int64]*kgo.Record {
	newest := map[string]*kgo.Record{}
	for _, r := range recs {
		if o, ok := newest[string(r.Key)]; !ok || r.Offset > o.Offset {
			newest[string(r.Key)] = r
		}
	}
	byOffset := map[int64]*kgo.Record{}
	for _, r := range newest {
		byOffset[r.Offset] = r
	}
	return byOffset
}

// checkSurvivors asserts that got is exactly want (by offset), in offset
// order, with the same keys and values (nil values stay nil).
func checkSurvivors(t *testing.T, got []*kgo.Record, want map[int64]*kgo.Record) {
	t.Helper()
	prev := int64(-1)
	for _, r := range got {
		w, ok := want[r.Offset]
		switch {
		case r.Offset <= prev:
			t.Fatalf("offset %d after %d", r.Offset, prev)
		case !ok:
			t.Fatalf("record %q=%q at offset %d should have been compacted away", r.Key, r.Value, r.Offset)
		case string(w.Key) != string(r.Key) || string(w.Value) != string(r.Value) || (w.Value == nil) != (r.Value == nil):
			t.Fatalf("offset %d holds %q=%q, was produced as %q=%q", r.Offset, r.Key, r.Value, w.Key, w.Value)
		}
		prev = r.Offset
	}
	if len(got) != len(want) {
		t.Fatalf("%d records survive compaction, want %d", len(got), len(want))
	}
}

func TestCompactionKeepsNewestPerKeyAtOriginalOffsets(t *testing.T) {
	b := compactingBroker(t)
	const topic = "compacted"
	createTopic(t, b.Addr, topic, 1, compactTopicConfig("compact", "delete.retention.ms", "1000"))
	cl := testkit.Client(t, b.Addr, kgo.DefaultProduceTopic(topic))

	// Ten rounds of updates to twenty keys: the first rounds in batches of
	// many records, the later ones a record per batch. Then tombstones for
	// five keys, one key revived after its tombstone, and the sentinel.
	var all []*kgo.Record
	for round := 0; round < 10; round++ {
		var recs []*kgo.Record
		for k := 0; k < 20; k++ {
			recs = append(recs, &kgo.Record{Topic: topic, Key: []byte(fmt.Sprintf("k%02d", k)), Value: []byte(fmt.Sprintf("k%02d-v%d", k, round))})
		}
		if round < 5 {
			produceAll(t, cl, recs...)
		} else {
			for _, r := range recs {
				produceAll(t, cl, r)
			}
		}
		all = append(all, recs...)
	}
	var tombstones []*kgo.Record
	for k := 0; k < 5; k++ {
		r := &kgo.Record{Topic: topic, Key: []byte(fmt.Sprintf("k%02d", k))}
		produceAll(t, cl, r)
		tombstones = append(tombstones, r)
	}
	revived := &kgo.Record{Topic: topic, Key: []byte("k04"), Value: []byte("k04-revived")}
	produceAll(t, cl, revived)
	all = append(append(all, tombstones...), revived)
	produceAll(t, cl, sentinel(topic))
	if got := readToSentinel(t, b.Addr, topic); len(got) != len(all) {
		t.Fatalf("before compaction the log holds %d records, want all %d", len(got), len(all))
	}
	want := newestByKey(all)
	if len(want) != 20 {
		t.Fatalf("test bug: %d keys", len(want))
	}

	// The first cleaning keeps the tombstones (k00-k03; k04 was revived).
	b.RunMaintenance()
	checkSurvivors(t, readToSentinel(t, b.Addr, topic), want)
	if n := countTombstones(want); n != 4 {
		t.Fatalf("test bug: %d tombstones expected", n)
	}

	// A restart in between keeps the cleaned log and the delete horizons
	// stored in it. Once delete.retention.ms has passed, a later cleaning
	// drops the tombstones; every other survivor stays where it was.
	b.Restart()
	checkSurvivors(t, readToSentinel(t, b.Addr, topic), want)
	for off, r := range want {
		if r.Value == nil {
			delete(want, off)
		}
	}
	testkit.Eventually(t, 20*time.Second, func() error {
		b.RunMaintenance()
		got := readToSentinel(t, b.Addr, topic)
		if n := countTombstones(newestByKey(got)); n > 0 {
			return fmt.Errorf("%d tombstones still present", n)
		}
		return nil
	})
	checkSurvivors(t, readToSentinel(t, b.Addr, topic), want)

	// Appends continue after the sentinel.
	cl = testkit.Client(t, b.Addr, kgo.DefaultProduceTopic(topic))
	next := &kgo.Record{Topic: topic, Key: []byte("k10"), Value: []byte("after restart")}
	produceAll(t, cl, next)
	if end := int64(len(all)) + 1; next.Offset != end {
		t.Fatalf("append after compaction at offset %d, want %d", next.Offset, end)
	}
}

func countTombstones(recs map[int64]*kgo.Record) int {
	n := 0
	for _, r := range recs {
		if r.Value == nil {
			n++
		}
	}
	return n
}

func TestCompactDeletePolicyAlsoAppliesRetention(t *testing.T) {
	b := compactingBroker(t)
	const topic, compactOnly = "compact-delete", "compact-only"
	createTopic(t, b.Addr, topic, 1, compactTopicConfig("compact,delete", "retention.ms", "60000"))
	createTopic(t, b.Addr, compactOnly, 1, compactTopicConfig("compact", "retention.ms", "60000"))
	cl := testkit.Client(t, b.Addr)

	// Old records with distinct keys fill several segments; compaction alone
	// would keep every one of them. Current records update five keys.
	old := time.Now().Add(-time.Hour)
	produced := map[string][]*kgo.Record{}
	for _, tp := range []string{topic, compactOnly} {
		for i := 0; i < 40; i++ {
			r := &kgo.Record{Topic: tp, Key: []byte(fmt.Sprintf("old-%02d", i)), Value: []byte(strings.Repeat("o", 60)), Timestamp: old}
			produceAll(t, cl, r)
			produced[tp] = append(produced[tp], r)
		}
		for round := 0; round < 4; round++ {
			for k := 0; k < 5; k++ {
				r := &kgo.Record{Topic: tp, Key: []byte(fmt.Sprintf("new-%d", k)), Value: []byte(fmt.Sprintf("new-%d-v%d", k, round))}
				produceAll(t, cl, r)
				produced[tp] = append(produced[tp], r)
			}
		}
		produceAll(t, cl, sentinel(tp))
	}
	b.RunMaintenance()

	// compact only: every old record stays, each new key once.
	checkSurvivors(t, readToSentinel(t, b.Addr, compactOnly), newestByKey(produced[compactOnly]))
	if start := listStart(t, cl, compactOnly); start != 0 {
		t.Fatalf("cleanup.policy=compact deleted segments: log start %d", start)
	}

	// compact,delete: whole segments of old records are gone, and what
	// remains is compacted.
	start := listStart(t, cl, topic)
	if start == 0 {
		t.Fatalf("cleanup.policy=compact,delete deleted no segment by retention")
	}
	want := newestByKey(produced[topic])
	for off := range want {
		if off < start {
			delete(want, off)
		}
	}
	got := readToSentinel(t, b.Addr, topic)
	checkSurvivors(t, got, want)
	if len(got) == 0 || got[0].Offset < start || strings.HasPrefix(string(got[len(got)-1].Key), "old-") {
		t.Fatalf("compact,delete survivors %d, log start %d", len(got), start)
	}
	oldLeft := 0
	for _, r := range got {
		if strings.HasPrefix(string(r.Key), "old-") {
			oldLeft++
		}
	}
	if oldLeft >= 40 {
		t.Fatalf("retention removed no old record: %d left", oldLeft)
	}
}

func TestCompactionOfTransactionalRecords(t *testing.T) {
	b := compactingBroker(t)
	const topic = "compact-txn"
	createTopic(t, b.Addr, topic, 1, compactTopicConfig("compact"))
	tx := testkit.Client(t, b.Addr, kgo.TransactionalID("compact-tx"), kgo.DefaultProduceTopic(topic))
	ctx := ctxT(t)
	var committed, aborted []*kgo.Record
	txn := func(prefix string, keys []string, commit bool) {
		t.Helper()
		if err := tx.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		var recs []*kgo.Record
		for _, k := range keys {
			recs = append(recs, &kgo.Record{Topic: topic, Key: []byte(k), Value: []byte(prefix + "-" + k)})
		}
		produceAll(t, tx, recs...)
		if err := tx.EndTransaction(ctx, kgo.TransactionEndTry(commit)); err != nil {
			t.Fatal(err)
		}
		if commit {
			committed = append(committed, recs...)
		} else {
			aborted = append(aborted, recs...)
		}
	}
	// Committed values for a-e, then an aborted transaction overwriting
	// them (newer offsets that must not win), a committed update of a and
	// b, and an aborted transaction with keys of its own.
	txn("c1", []string{"a", "b", "c", "d", "e"}, true)
	txn("x1", []string{"a", "b", "c", "d", "e"}, false)
	txn("c2", []string{"a", "b"}, true)
	txn("x2", []string{"f", "g"}, false)
	plain := testkit.Client(t, b.Addr)
	produceAll(t, plain, sentinel(topic))
	end := listEnds(t, plain, topic, 1)[0]
	dataOffsets := map[int64]bool{}
	for _, r := range append(append([]*kgo.Record{}, committed...), aborted...) {
		dataOffsets[r.Offset] = true
	}
	var markers []int64 // every offset before the sentinel without data
	for off := int64(0); off < end-1; off++ {
		if !dataOffsets[off] {
			markers = append(markers, off)
		}
	}
	if len(markers) != 4 {
		t.Fatalf("test bug: %d markers at %v", len(markers), markers)
	}

	b.RunMaintenance()
	want := newestByKey(committed)
	// Both isolation levels now see only the committed newest values: the
	// aborted records are gone from the log itself.
	checkSurvivors(t, readToSentinel(t, b.Addr, topic), want)
	checkSurvivors(t, readToSentinel(t, b.Addr, topic, kgo.FetchIsolationLevel(kgo.ReadCommitted())), want)

	// In the raw log every marker is still at its offset, and no aborted
	// record is left.
	control, data := rawBatches(t, plain, topic, end)
	for _, m := range markers {
		if !control[m] {
			t.Fatalf("marker at %d removed by compaction (control batches at %v)", m, control)
		}
	}
	if len(control) != len(markers) {
		t.Fatalf("control batches at %v, want %v", control, markers)
	}
	for _, r := range aborted {
		if data[r.Offset] {
			t.Fatalf("aborted record %q at %d kept by compaction", r.Key, r.Offset)
		}
	}
	for off := range want {
		if !data[off] {
			t.Fatalf("committed record at %d missing from the raw log", off)
		}
	}
}

// rawBatches fetches partition 0 of topic from offset 0 up to end with
// read_uncommitted and returns the offsets of control records and of data
// records found in the stored batches.
func rawBatches(t *testing.T, cl *kgo.Client, topic string, end int64) (control, data map[int64]bool) {
	t.Helper()
	control, data = map[int64]bool{}, map[int64]bool{}
	id := topicID(t, cl, topic)
	next := int64(0)
	for next < end {
		req := kmsg.NewPtrFetchRequest()
		req.Version = 13
		req.ReplicaID, req.MaxWaitMillis, req.MaxBytes, req.SessionEpoch = -1, 0, 1<<20, -1
		ft := kmsg.NewFetchRequestTopic()
		ft.Topic, ft.TopicID = topic, id
		fp := kmsg.NewFetchRequestTopicPartition()
		fp.FetchOffset, fp.PartitionMaxBytes, fp.LogStartOffset = next, 1<<20, -1
		ft.Partitions = append(ft.Partitions, fp)
		req.Topics = append(req.Topics, ft)
		ctx, cancel := context.WithTimeout(ctxT(t), 10*time.Second)
		resp, err := req.RequestWith(ctx, cl)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		p := resp.Topics[0].Partitions[0]
		if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
			t.Fatalf("fetch %s at %d: %v", topic, next, err)
		}
		before := next
		err = record.Split(p.RecordBatches, func(batch []byte, h record.Header) error {
			recs, err := record.Records(batch)
			if err != nil {
				return err
			}
			for _, r := range recs {
				off := h.BaseOffset + int64(r.OffsetDelta)
				if h.IsControl() {
					control[off] = true
				} else {
					data[off] = true
				}
			}
			next = max(next, h.LastOffset()+1)
			return nil
		})
		if err != nil {
			t.Fatalf("stored batches of %s: %v", topic, err)
		}
		if next == before {
			t.Fatalf("fetch at %d of %s returned no batch (end %d)", next, topic, end)
		}
	}
	return control, data
}

func TestCompactionWaitsForOpenTransaction(t *testing.T) {
	b := compactingBroker(t)
	const topic = "compact-open-txn"
	createTopic(t, b.Addr, topic, 1, compactTopicConfig("compact"))
	plain := testkit.Client(t, b.Addr)
	tx := testkit.Client(t, b.Addr, kgo.TransactionalID("compact-open"))
	ctx := ctxT(t)

	// Updates filling several segments, then a transaction that stays open
	// while more updates arrive after its first record.
	var all []*kgo.Record
	put := func(cl *kgo.Client, key, value string) *kgo.Record {
		r := &kgo.Record{Topic: topic, Key: []byte(key), Value: []byte(value)}
		produceAll(t, cl, r)
		all = append(all, r)
		return r
	}
	for i := 0; i < 100; i++ {
		put(plain, fmt.Sprintf("p%d", i%5), fmt.Sprintf("p%d-v%d", i%5, i/5))
	}
	put(plain, "a", "a-v0")
	if err := tx.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	open := put(tx, "a", "a-in-txn")
	for i := 0; i < 10; i++ {
		put(plain, "c", fmt.Sprintf("c-v%d", i))
	}
	produceAll(t, plain, sentinel(topic))

	// Compaction cleans only below the open transaction: everything from
	// its first offset on is untouched, older values of "a" included.
	b.RunMaintenance()
	got := readToSentinel(t, b.Addr, topic)
	if len(got) >= len(all) {
		t.Fatalf("nothing below the open transaction was compacted (%d of %d records left)", len(got), len(all))
	}
	var fromOpen []string
	for _, r := range got {
		if r.Offset >= open.Offset {
			fromOpen = append(fromOpen, string(r.Value))
		}
	}
	if len(fromOpen) != 11 || fromOpen[0] != "a-in-txn" {
		t.Fatalf("records from the open transaction on: %v", fromOpen)
	}
	if !slicesContainsValue(got, "a-v0") {
		t.Fatalf("a-v0 removed while the transaction overwriting it is undecided")
	}

	// Once committed, the transaction's value wins and the rest compacts.
	if err := tx.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	b.RunMaintenance()
	checkSurvivors(t, readToSentinel(t, b.Addr, topic), newestByKey(all))
}

func slicesContainsValue(recs []*kgo.Record, v string) bool {
	for _, r := range recs {
		if string(r.Value) == v {
			return true
		}
	}
	return false
}

// keyedBatch builds a one-record batch for producer pid (-1: none).
func keyedBatch(t *testing.T, pid int64, seq int32, key string, value []byte) []byte {
	t.Helper()
	epoch := int16(0)
	if pid < 0 {
		epoch, seq = -1, -1
	}
	now := time.Now().UnixMilli()
	b, err := record.Build(record.Header{Magic: 2, BaseTimestamp: now, MaxTimestamp: now,
		ProducerID: pid, ProducerEpoch: epoch, BaseSequence: seq, NumRecords: 1},
		[]record.Record{{Key: []byte(key), Value: value}}, record.None)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCompactionKeepsProducerStateAcrossKill9: compaction removes every
// record an idempotent producer wrote (a later write of the same key by
// someone else supersedes them), keeping its last batch as an empty one.
// After kill -9 the producer state is rebuilt from the compacted log, so a
// retry of that last batch is still recognised.
func TestCompactionKeepsProducerStateAcrossKill9(t *testing.T) {
	dir := t.TempDir()
	cleaner := testkit.WithConfig("log.cleaner.backoff.ms", "50")
	proc := testkit.StartBrokerProcess(t, dir, "", cleaner)
	const topic = "compact-idem"
	createTopic(t, proc.Addr, topic, 1, compactTopicConfig("compact"))
	pid, _ := initProducer(t, proc.Addr, "")
	for seq := int32(0); seq < 10; seq++ {
		expectProduce(t, "producer batch", rawProduce(t, proc.Addr, topic, 0, "", keyedBatch(t, pid, seq, "k", []byte(fmt.Sprintf("a-%d", seq)))), nil, int64(seq))
	}
	expectProduce(t, "plain overwrite", rawProduce(t, proc.Addr, topic, 0, "", keyedBatch(t, -1, 0, "k", []byte("plain"))), nil, 10)
	big := make([]byte, 1100)
	rand.NewChaCha8([32]byte{2}).Read(big)
	expectProduce(t, "sentinel", rawProduce(t, proc.Addr, topic, 0, "", keyedBatch(t, -1, 0, sentinelKey, big)), nil, 11)
	testkit.Eventually(t, 20*time.Second, func() error {
		if got := readToSentinel(t, proc.Addr, topic); len(got) != 1 || string(got[0].Value) != "plain" {
			return fmt.Errorf("not compacted yet: %d records", len(got))
		}
		return nil
	})

	proc.Kill()
	proc = testkit.StartBrokerProcess(t, dir, proc.Addr, cleaner)
	cl := testkit.Client(t, proc.Addr)
	if ap, ok := activeProducer(t, proc.Addr, topic, 0, pid); !ok || ap.LastSequence != 9 {
		t.Fatalf("DescribeProducers after compaction and kill -9: %+v (found %v), want last sequence 9", ap, ok)
	}
	expectProduce(t, "retry of the last batch", rawProduce(t, proc.Addr, topic, 0, "", keyedBatch(t, pid, 9, "k", []byte("a-9"))), nil, 9)
	expectEnd(t, cl, topic, 0, 12)
	expectProduce(t, "sequence gap", rawProduce(t, proc.Addr, topic, 0, "", keyedBatch(t, pid, 11, "k", []byte("gap"))), kerr.OutOfOrderSequenceNumber, 0)
	expectProduce(t, "next sequence", rawProduce(t, proc.Addr, topic, 0, "", keyedBatch(t, pid, 10, "k", []byte("a-10"))), nil, 12)
}

// With a key map (log.cleaner.dedupe.buffer.size) far smaller than the
// number of keys, cleaning takes several passes and still leaves exactly the
// newest value per key at its original offset.
func TestCompactionWithKeyMapSmallerThanKeys(t *testing.T) {
	// 1 KiB holds about 38 keys; the topic has 600.
	b := testkit.StartBroker(t, testkit.WithConfig("log.cleaner.backoff.ms", "3600000"),
		testkit.WithConfig("log.cleaner.dedupe.buffer.size", "1024"))
	const topic = "many-keys"
	createTopic(t, b.Addr, topic, 1, compactTopicConfig("compact"))
	cl := testkit.Client(t, b.Addr, kgo.DefaultProduceTopic(topic))
	var all []*kgo.Record
	for round := range 3 {
		var recs []*kgo.Record
		for k := range 600 {
			recs = append(recs, &kgo.Record{Topic: topic, Key: []byte(fmt.Sprintf("key-%03d", k)), Value: []byte(fmt.Sprintf("key-%03d-round-%d", k, round))})
		}
		produceAll(t, cl, recs...)
		all = append(all, recs...)
	}
	produceAll(t, cl, sentinel(topic))
	b.RunMaintenance()
	// The sentinel rolled the log, so every round is in closed segments.
	checkSurvivors(t, readToSentinel(t, b.Addr, topic), newestByKey(all))
}
