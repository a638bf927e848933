package faults

// Corrupt indexes: a flipped bit in an .index entry's offset or position,
// or a lowered last .timeindex entry, must never make a fetch skip a
// record or fail, nor a timestamp lookup answer the wrong offset. The
// broker checks indexes on load, checks every lookup against the batch it
// lands on, falls back to scanning and rebuilds the index.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/tributary-streams/tributary/internal/testkit"
)

// fetchRecords fetches partition of topic at offset (Fetch v12: by topic
// name) and returns the values of the records in the response by offset.
// Batches must be uncompressed.
func fetchRecords(ctx context.Context, cl *kgo.Client, topic string, partition int32, offset int64) (map[int64]string, error) {
	req := kmsg.NewPtrFetchRequest()
	req.MaxWaitMillis = 0
	req.MaxBytes = 1 << 20
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.Partition = partition
	rp.FetchOffset = offset
	rp.PartitionMaxBytes = 64 << 10
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return nil, err
	}
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		return nil, fmt.Errorf("fetch at %d: response for %d topics", offset, len(resp.Topics))
	}
	p := resp.Topics[0].Partitions[0]
	if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
		return nil, err
	}
	out := map[int64]string{}
	raw := p.RecordBatches
	for len(raw) >= 12 {
		n := int(binary.BigEndian.Uint32(raw[8:])) + 12
		if n > len(raw) {
			break
		}
		var b kmsg.RecordBatch
		if err := b.ReadFrom(raw[:n]); err != nil {
			return nil, fmt.Errorf("fetch at %d: bad batch: %w", offset, err)
		}
		if b.Attributes&0x07 != 0 {
			return nil, fmt.Errorf("fetch at %d: compressed batch", offset)
		}
		recs := b.Records
		for i := int32(0); i < b.NumRecords; i++ {
			var r kmsg.Record
			l, used := binary.Varint(recs)
			if used <= 0 || l < 0 || int(l)+used > len(recs) {
				return nil, fmt.Errorf("fetch at %d: bad record", offset)
			}
			if err := r.ReadFrom(recs[:used+int(l)]); err != nil {
				return nil, fmt.Errorf("fetch at %d: bad record: %w", offset, err)
			}
			recs = recs[used+int(l):]
			out[b.FirstOffset+int64(r.OffsetDelta)] = string(r.Value)
		}
		raw = raw[n:]
	}
	return out, nil
}

// fetchAt fetches topic[0] at offset and returns the offsets of the
// records in the response.
func fetchAt(t testing.TB, cl *kgo.Client, topic string, offset int64) ([]int64, error) {
	t.Helper()
	got, err := fetchRecords(ctxT(t, 10*time.Second), cl, topic, 0, offset)
	if err != nil {
		var ke *kerr.Error
		if !errors.As(err, &ke) {
			t.Fatalf("fetch at %d: %v", offset, err)
		}
		return nil, err
	}
	var out []int64
	for o := range got {
		out = append(out, o)
	}
	slices.Sort(out)
	return out, nil
}

// checkEveryOffset fetches at every offset below n and fails unless each
// fetch answers with the record at that offset.
func checkEveryOffset(t *testing.T, addr, topic string, n int64) {
	t.Helper()
	cl := testkit.Client(t, addr, kgo.MaxVersions(kversion.V3_0_0())) // Fetch v12 names topics
	bad := 0
	for off := int64(0); off < n; off++ {
		got, err := fetchAt(t, cl, topic, off)
		found := false
		for _, o := range got {
			found = found || o == off
		}
		if err != nil || !found {
			if bad < 5 {
				t.Errorf("fetch at %d: %v (records from %v)", off, err, got[:min(len(got), 3)])
			}
			bad++
		}
	}
	if bad > 0 {
		t.Fatalf("%d of %d fetches did not return the record asked for", bad, n)
	}
}

// indexedTopic writes n records of 200 bytes in batches of 4 (an index
// entry every few batches, at index.interval.bytes' default), stops the
// broker cleanly, and returns it and the partition directory.
func indexedTopic(t *testing.T, n int) (b *testkit.Broker, partDir string) {
	b = testkit.StartBroker(t)
	testkit.CreateTopic(t, b.Addr, "indexed", 1)
	cl := testkit.Client(t, b.Addr, kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	for i := 0; i < n; i += 4 {
		var rs []*kgo.Record
		for j := i; j < i+4; j++ {
			rs = append(rs, &kgo.Record{Topic: "indexed", Value: []byte(fmt.Sprintf("v%d-%0200d", j, 0))})
		}
		if err := cl.ProduceSync(ctxT(t, 10*time.Second), rs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	cl.Close()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	return b, filepath.Join(b.DataDir, "indexed-0")
}

// flipIndexBit flips bit of field (0: offset, 1: position) of the first
// .index entry after the first whose field has that bit set, and returns
// the entry's offset before the flip.
func flipIndexBit(t *testing.T, partDir string, field int, bit uint) int64 {
	t.Helper()
	path := filepath.Join(partDir, "00000000000000000000.index")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for e := 1; (e+1)*8 <= len(raw); e++ {
		at := e*8 + field*4
		if v := binary.BigEndian.Uint32(raw[at:]); v&(1<<bit) != 0 {
			binary.BigEndian.PutUint32(raw[at:], v^(1<<bit))
			if err := os.WriteFile(path, raw, 0o644); err != nil {
				t.Fatal(err)
			}
			return int64(binary.BigEndian.Uint32(raw[e*8:]))
		}
	}
	t.Fatalf("%s: no entry with bit %d of field %d set", path, bit, field)
	return 0
}

func TestIndexOffsetBitFlip(t *testing.T) {
	b, dir := indexedTopic(t, 400)
	// An entry's offset drops by 4, still above the entry before: lookups
	// of the 4 offsets below it land a batch too late.
	whole := readIndex(t, dir)
	off := flipIndexBit(t, dir, 0, 2)
	t.Logf("entry for offset %d now says %d", off+4, off)
	b2 := testkit.StartBroker(t, testkit.WithDataDir(b.DataDir))
	checkEveryOffset(t, b2.Addr, "indexed", 400)
	b2.Restart()
	checkEveryOffset(t, b2.Addr, "indexed", 400)
	if got := readIndex(t, dir); string(got) != string(whole) {
		t.Fatal("the damaged index was not rebuilt")
	}
}

func readIndex(t *testing.T, partDir string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(partDir, "00000000000000000000.index"))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestIndexPositionBitFlip(t *testing.T) {
	b, dir := indexedTopic(t, 400)
	whole := readIndex(t, dir)
	flipIndexBit(t, dir, 1, 3)
	b2 := testkit.StartBroker(t, testkit.WithDataDir(b.DataDir))
	checkEveryOffset(t, b2.Addr, "indexed", 400)
	// The index is rebuilt (at the latest by a clean stop), so the restart
	// finds it whole.
	b2.Restart()
	if got := readIndex(t, dir); string(got) != string(whole) {
		t.Fatal("the damaged index was not rebuilt")
	}
	checkEveryOffset(t, b2.Addr, "indexed", 400)
}

// A lowered last .timeindex entry must not make ListOffsets skip the
// segment: asked for its last record's timestamp, it answers that record.
func TestTimeIndexLoweredLastEntry(t *testing.T) {
	b := testkit.StartBroker(t)
	testkit.CreateTopic(t, b.Addr, "timed", 1, "segment.bytes=2048", "index.interval.bytes=1")
	cl := testkit.Client(t, b.Addr, kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	base := time.UnixMilli(1_700_000_000_000)
	const n = 200
	for i := 0; i < n; i++ {
		r := &kgo.Record{Topic: "timed", Value: []byte(fmt.Sprintf("v%03d", i)), Timestamp: base.Add(time.Duration(i) * time.Second)}
		if err := cl.ProduceSync(ctxT(t, 10*time.Second), r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	cl.Close()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(b.DataDir, "timed-0")
	path := filepath.Join(dir, "00000000000000000000.timeindex")
	raw, err := os.ReadFile(path)
	if err != nil || len(raw) < 24 {
		t.Fatalf("time index of segment 0: %d bytes, %v", len(raw), err)
	}
	last := raw[len(raw)-12:]
	maxTs := int64(binary.BigEndian.Uint64(last))
	lastOff := int64(binary.BigEndian.Uint32(last[8:]))
	// Lower the largest timestamp by clearing one bit, keeping it above
	// the previous entry (records are a second apart).
	lowered := maxTs
	for bit := 3; lowered == maxTs; bit++ {
		lowered = maxTs &^ (1 << bit)
	}
	binary.BigEndian.PutUint64(last, uint64(lowered))
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	b2 := testkit.StartBroker(t, testkit.WithDataDir(b.DataDir))
	listed, err := testkit.Admin(t, b2.Addr).ListOffsetsAfterMilli(ctxT(t, 10*time.Second), maxTs, "timed")
	if err != nil {
		t.Fatal(err)
	}
	o, _ := listed.Lookup("timed", 0)
	if o.Err != nil || o.Offset != lastOff {
		t.Fatalf("ListOffsets(%d) = %d (%v), want %d, the record with that timestamp", maxTs, o.Offset, o.Err, lastOff)
	}
}
