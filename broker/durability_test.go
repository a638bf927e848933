package broker_test

// Durability: kill -9 during an acks=all produce stream, restart on the
// same data dir, and every acknowledged record is at its offset; a last
// segment cut mid-batch recovers to the last whole batch. Retention deletes
// whole old segments and a consumer at a deleted offset gets
// OFFSET_OUT_OF_RANGE and can reset.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-streams/tributary/broker/internal/record"
	"github.com/tributary-streams/tributary/internal/testkit"
)

func TestKill9DuringAcksAllProduce(t *testing.T) {
	dir := t.TempDir()
	proc := testkit.StartBrokerProcess(t, dir, "")
	segBytes := "65536"
	createTopic(t, proc.Addr, "durable", 2, map[string]*string{"segment.bytes": &segBytes})

	// Produce until well past 3000 acknowledgements, then kill -9 while
	// records are still in flight.
	type ack struct {
		partition int32
		offset    int64
	}
	var mu sync.Mutex
	acked := map[string]ack{}
	cl, err := kgo.NewClient(kgo.SeedBrokers(proc.Addr), kgo.RequiredAcks(kgo.AllISRAcks()), kgo.DefaultProduceTopic("durable"),
		kgo.RecordRetries(3), kgo.ProduceRequestTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ctx.Err() == nil; i++ {
			v := "rec-" + strconv.Itoa(i)
			cl.Produce(ctx, &kgo.Record{Key: []byte(v), Value: []byte(v)}, func(r *kgo.Record, err error) {
				if err == nil {
					mu.Lock()
					acked[string(r.Value)] = ack{r.Partition, r.Offset}
					mu.Unlock()
				}
			})
		}
	}()
	testkit.Eventually(t, 60*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(acked) < 3000 {
			return fmt.Errorf("%d acknowledged", len(acked))
		}
		return nil
	})
	proc.Kill()
	cancel()
	wg.Wait()
	cl.Close() // fails the in-flight records; acked is final now
	mu.Lock()
	final := make(map[string]ack, len(acked))
	for k, v := range acked {
		final[k] = v
	}
	mu.Unlock()

	proc = testkit.StartBrokerProcess(t, dir, proc.Addr)
	byOffset := readPartitions(t, proc.Addr, "durable", 2)
	for v, a := range final {
		got, ok := byOffset[a.partition][a.offset]
		if !ok || got != v {
			t.Fatalf("acknowledged %q at %d/%d, after restart found %q (present=%v)", v, a.partition, a.offset, got, ok)
		}
	}
	t.Logf("%d acknowledged records all found after kill -9", len(final))
	proc.Kill()

	// Cut the last segment of partition 0 in the middle of its last batch:
	// recovery keeps every whole batch before it and appends continue at
	// the next offset. The batch cut may hold no acknowledged record (the
	// producer had it in flight at the kill), so the check is against the
	// batch boundaries in the file and every record read back above, not
	// against the acknowledged set alone.
	pdir := filepath.Join(dir, "durable-0")
	segs, _ := filepath.Glob(filepath.Join(pdir, "*.log"))
	sort.Strings(segs)
	last := segs[len(segs)-1]
	lastBase := lastBatchBase(t, last)
	var endBefore int64 = -1
	for off := range byOffset[0] {
		endBefore = max(endBefore, off+1)
	}
	st, err := os.Stat(last)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(last, st.Size()-7); err != nil {
		t.Fatal(err)
	}
	proc = testkit.StartBrokerProcess(t, dir, proc.Addr)
	after := readPartitions(t, proc.Addr, "durable", 1)[0]
	var maxOff int64 = -1
	for off := range after {
		maxOff = max(maxOff, off)
	}
	if maxOff+1 != lastBase {
		t.Fatalf("after cutting the batch at offset %d (log end was %d), recovery ends at %d, want %d", lastBase, endBefore, maxOff+1, lastBase)
	}
	for off := int64(0); off <= maxOff; off++ {
		got, ok := after[off]
		if !ok {
			t.Fatalf("offset %d missing below the recovered end %d", off, maxOff)
		}
		if got != byOffset[0][off] {
			t.Fatalf("record at %d changed from %q to %q after truncation recovery", off, byOffset[0][off], got)
		}
	}
	var lost int
	for _, a := range final {
		if a.partition == 0 && a.offset > maxOff {
			lost++
		}
	}
	t.Logf("cut the batch at %d..%d; %d of its records were acknowledged", lastBase, endBefore-1, lost)
	// New appends land right after the last whole batch.
	cl2 := testkit.Client(t, proc.Addr, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	res, err := cl2.ProduceSync(ctxT(t), &kgo.Record{Topic: "durable", Partition: 0, Value: []byte("after")}).First()
	if err != nil {
		t.Fatal(err)
	}
	if res.Offset != maxOff+1 {
		t.Fatalf("append after recovery at offset %d, want %d", res.Offset, maxOff+1)
	}
}

// lastBatchBase walks the record batches of a segment file by their
// framing (base offset, then length) and returns the last one's base offset.
func lastBatchBase(t *testing.T, path string) int64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	base := int64(-1)
	for pos := 0; pos < len(b); {
		h, err := record.ParseHeader(b[pos:])
		if err != nil || pos+h.Size() > len(b) {
			t.Fatalf("segment %s at position %d (size %d): not a whole batch: %v", path, pos, len(b), err)
		}
		base = h.BaseOffset
		pos += h.Size()
	}
	if base < 0 {
		t.Fatalf("segment %s holds no batch", path)
	}
	return base
}

// readPartitions reads partitions 0..n-1 to their high watermarks and
// returns value by offset.
func readPartitions(t *testing.T, addr, topic string, n int32) map[int32]map[int64]string {
	t.Helper()
	cl := testkit.Client(t, addr)
	offsets := map[string]map[int32]kgo.Offset{topic: {}}
	for p := int32(0); p < n; p++ {
		offsets[topic][p] = kgo.NewOffset().AtStart()
	}
	ends := listEnds(t, cl, topic, n)
	cl.AddConsumePartitions(offsets)
	out := map[int32]map[int64]string{}
	for p := int32(0); p < n; p++ {
		out[p] = map[int64]string{}
	}
	ctx := ctxT(t)
	done := func() bool {
		for p := int32(0); p < n; p++ {
			if int64(len(out[p])) < ends[p] {
				return false
			}
		}
		return true
	}
	for !done() {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("reading back: %v", ctx.Err())
		}
		fs.EachError(func(_ string, p int32, err error) { t.Fatalf("fetch partition %d: %v", p, err) })
		fs.EachRecord(func(r *kgo.Record) { out[r.Partition][r.Offset] = string(r.Value) })
	}
	return out
}

func listEnds(t *testing.T, cl *kgo.Client, topic string, n int32) map[int32]int64 {
	t.Helper()
	req := kmsg.NewPtrListOffsetsRequest()
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	for p := int32(0); p < n; p++ {
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Partition, rp.Timestamp = p, -1
		rt.Partitions = append(rt.Partitions, rp)
	}
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctxT(t), cl)
	if err != nil {
		t.Fatal(err)
	}
	ends := map[int32]int64{}
	for _, p := range resp.Topics[0].Partitions {
		if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
			t.Fatalf("list offsets: %v", err)
		}
		ends[p.Partition] = p.Offset
	}
	return ends
}

func TestRetentionDeletesSegmentsAndConsumerResets(t *testing.T) {
	b := testkit.StartBroker(t)
	seg, ret := "2048", "60000"
	createTopic(t, b.Addr, "retained", 1, map[string]*string{"segment.bytes": &seg, "retention.ms": &ret})
	cl := testkit.Client(t, b.Addr, kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerLinger(0))
	old := time.Now().Add(-time.Hour)
	// Old records fill several segments; the newest records are current.
	for i := 0; i < 100; i++ {
		ts := old
		if i >= 90 {
			ts = time.Now()
		}
		r := &kgo.Record{Topic: "retained", Value: []byte(fmt.Sprintf("%03d-%s", i, string(make([]byte, 200)))), Timestamp: ts}
		if err := cl.ProduceSync(ctxT(t), r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	b.RunMaintenance()
	start := listStart(t, cl, "retained")
	if start == 0 {
		t.Fatalf("retention deleted nothing: log start is still 0")
	}
	if start > 90 {
		t.Fatalf("retention deleted current records: log start %d", start)
	}

	// A fetch at a deleted offset is OFFSET_OUT_OF_RANGE...
	req := kmsg.NewPtrFetchRequest()
	req.MaxWaitMillis, req.MaxBytes, req.SessionEpoch = 0, 1<<20, -1
	req.ReplicaID = -1
	ft := kmsg.NewFetchRequestTopic()
	ft.Topic = "retained"
	ft.TopicID = topicID(t, cl, "retained")
	fp := kmsg.NewFetchRequestTopicPartition()
	fp.FetchOffset, fp.PartitionMaxBytes = 0, 1<<20
	ft.Partitions = append(ft.Partitions, fp)
	req.Topics = append(req.Topics, ft)
	resp, err := req.RequestWith(ctxT(t), cl)
	if err != nil {
		t.Fatal(err)
	}
	if code := resp.Topics[0].Partitions[0].ErrorCode; code != kerr.OffsetOutOfRange.Code {
		t.Fatalf("fetch at deleted offset 0: error %v, want OFFSET_OUT_OF_RANGE", kerr.ErrorForCode(code))
	}
	if ls := resp.Topics[0].Partitions[0].LogStartOffset; ls != start {
		t.Fatalf("fetch reports log start %d, ListOffsets %d", ls, start)
	}

	// ...and a consumer asked to start there resets to the earliest offset.
	cons := testkit.Client(t, b.Addr,
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"retained": {0: kgo.NewOffset().At(0)}}),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	fs := cons.PollFetches(ctxT(t))
	recs := fs.Records()
	if len(recs) == 0 || recs[0].Offset != start {
		t.Fatalf("after reset got %d records, first at %v; want start %d", len(recs), firstOffset(recs), start)
	}
}

func firstOffset(recs []*kgo.Record) int64 {
	if len(recs) == 0 {
		return -1
	}
	return recs[0].Offset
}

func listStart(t *testing.T, cl *kgo.Client, topic string) int64 {
	t.Helper()
	req := kmsg.NewPtrListOffsetsRequest()
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewListOffsetsRequestTopicPartition()
	rp.Timestamp = -2
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctxT(t), cl)
	if err != nil {
		t.Fatal(err)
	}
	return resp.Topics[0].Partitions[0].Offset
}

func topicID(t *testing.T, cl *kgo.Client, name string) [16]byte {
	t.Helper()
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = &name
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctxT(t), cl)
	if err != nil || len(resp.Topics) != 1 {
		t.Fatalf("metadata for %s: %v", name, err)
	}
	return resp.Topics[0].TopicID
}

// A topic that stops receiving writes does not keep its last segment
// forever: retention deletes expired data in the active segment (rolling
// it, as Kafka does), and the log start moves to the end.
func TestRetentionReachesTheActiveSegment(t *testing.T) {
	b := testkit.StartBroker(t)
	ret := "60000"
	createTopic(t, b.Addr, "idle", 1, map[string]*string{"retention.ms": &ret})
	cl := testkit.Client(t, b.Addr, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	old := time.Now().Add(-time.Hour)
	for i := range 10 {
		r := &kgo.Record{Topic: "idle", Value: []byte(fmt.Sprintf("old-%d", i)), Timestamp: old}
		if err := cl.ProduceSync(ctxT(t), r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	b.RunMaintenance()
	if start := listStart(t, cl, "idle"); start != 10 {
		t.Fatalf("log start %d after retention of an expired active segment, want 10 (everything expired)", start)
	}
	// Appends go on at the end offset.
	r := &kgo.Record{Topic: "idle", Value: []byte("new")}
	if err := cl.ProduceSync(ctxT(t), r).FirstErr(); err != nil || r.Offset != 10 {
		t.Fatalf("produce after retention: offset %d, err %v", r.Offset, err)
	}
}
