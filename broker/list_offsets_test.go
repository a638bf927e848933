package broker_test

// ListOffsets: earliest, latest, by timestamp through the time index
// (exact offsets, across segments and inside batches), max timestamp, the v0
// old-style answer and bad partitions; LogAppendTime topics; and the
// message.timestamp.{before,after}.max.ms bounds on produce.

import (
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-streams/tributary/broker/internal/record"
	"github.com/tributary-streams/tributary/internal/testkit"
)

// timedBatch is a batch with one record per timestamp, in the given order.
func timedBatch(t *testing.T, timestamps ...int64) []byte {
	t.Helper()
	base := timestamps[0]
	var recs []record.Record
	for i, ts := range timestamps {
		recs = append(recs, record.Record{OffsetDelta: int32(i), TimestampDelta: ts - base, Key: []byte("k"),
			Value: []byte(fmt.Sprintf("at-%d", ts))})
	}
	b, err := record.Build(record.Header{Magic: 2, LastOffsetDelta: int32(len(recs) - 1), BaseTimestamp: base, MaxTimestamp: base,
		ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1, NumRecords: int32(len(recs))}, recs, record.None)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// listOffset asks for one partition's offset at timestamp ts with a raw
// ListOffsets of the given version.
func listOffset(t *testing.T, addr string, version int16, topic string, partition int32, ts int64) kmsg.ListOffsetsResponseTopicPartition {
	t.Helper()
	req := kmsg.NewPtrListOffsetsRequest()
	req.Version = version
	req.ReplicaID = -1
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewListOffsetsRequestTopicPartition()
	rp.Partition, rp.Timestamp, rp.MaxNumOffsets = partition, ts, 1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp := roundTrip(t, addr, req).(*kmsg.ListOffsetsResponse)
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		t.Fatalf("list offsets: %+v", resp.Topics)
	}
	return resp.Topics[0].Partitions[0]
}

func TestListOffsetsEarliestLatest(t *testing.T) {
	b := testkit.StartBroker(t)
	createTopic(t, b.Addr, "ends", 2, nil)
	for i := 0; i < 5; i++ {
		produceTo(t, b.Addr, "ends", 0, testBatch(t, 2, 10))
	}
	for _, v := range []int16{1, 4, 7, 11} {
		if got := listOffset(t, b.Addr, v, "ends", 0, -1); got.ErrorCode != 0 || got.Offset != 10 {
			t.Fatalf("v%d latest: %v %d, want 10", v, kerr.ErrorForCode(got.ErrorCode), got.Offset)
		}
		if got := listOffset(t, b.Addr, v, "ends", 0, -2); got.ErrorCode != 0 || got.Offset != 0 {
			t.Fatalf("v%d earliest: %v %d, want 0", v, kerr.ErrorForCode(got.ErrorCode), got.Offset)
		}
		if got := listOffset(t, b.Addr, v, "ends", 1, -1); got.ErrorCode != 0 || got.Offset != 0 {
			t.Fatalf("v%d latest of an empty partition: %v %d", v, kerr.ErrorForCode(got.ErrorCode), got.Offset)
		}
		if v >= 4 {
			if got := listOffset(t, b.Addr, v, "ends", 0, -1); got.LeaderEpoch != 0 {
				t.Fatalf("v%d leader epoch %d, want 0", v, got.LeaderEpoch)
			}
		}
	}
	// Earliest follows DeleteRecords.
	req := kmsg.NewPtrDeleteRecordsRequest()
	rt := kmsg.NewDeleteRecordsRequestTopic()
	rt.Topic = "ends"
	rp := kmsg.NewDeleteRecordsRequestTopicPartition()
	rp.Offset = 4
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	if got := roundTrip(t, b.Addr, req).(*kmsg.DeleteRecordsResponse).Topics[0].Partitions[0]; got.ErrorCode != 0 {
		t.Fatalf("delete records: %v", kerr.ErrorForCode(got.ErrorCode))
	}
	if got := listOffset(t, b.Addr, 7, "ends", 0, -2); got.Offset != 4 {
		t.Fatalf("earliest after DeleteRecords: %d, want 4", got.Offset)
	}
	// -4 (earliest local, v8+) is the log start; -5 (earliest pending
	// upload, v9+) is -1, as nothing is tiered.
	if got := listOffset(t, b.Addr, 8, "ends", 0, -4); got.ErrorCode != 0 || got.Offset != 4 {
		t.Fatalf("earliest local: %v %d, want 4", kerr.ErrorForCode(got.ErrorCode), got.Offset)
	}
	if got := listOffset(t, b.Addr, 9, "ends", 0, -5); got.ErrorCode != 0 || got.Offset != -1 {
		t.Fatalf("earliest pending upload: %v %d, want -1", kerr.ErrorForCode(got.ErrorCode), got.Offset)
	}

	t.Run("v0 old-style offsets", func(t *testing.T) {
		if got := listOffset(t, b.Addr, 0, "ends", 0, -1); got.ErrorCode != 0 || len(got.OldStyleOffsets) != 1 || got.OldStyleOffsets[0] != 10 {
			t.Fatalf("v0 latest: %v %v, want [10]", kerr.ErrorForCode(got.ErrorCode), got.OldStyleOffsets)
		}
		if got := listOffset(t, b.Addr, 0, "ends", 0, -2); got.ErrorCode != 0 || len(got.OldStyleOffsets) != 1 || got.OldStyleOffsets[0] != 4 {
			t.Fatalf("v0 earliest: %v %v, want [4]", kerr.ErrorForCode(got.ErrorCode), got.OldStyleOffsets)
		}
		req := kmsg.NewPtrListOffsetsRequest()
		req.Version = 0
		req.ReplicaID = -1
		rt := kmsg.NewListOffsetsRequestTopic()
		rt.Topic = "ends"
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Timestamp, rp.MaxNumOffsets = -1, 0
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		if got := roundTrip(t, b.Addr, req).(*kmsg.ListOffsetsResponse).Topics[0].Partitions[0]; got.ErrorCode != 0 || len(got.OldStyleOffsets) != 0 {
			t.Fatalf("v0 with max offsets 0: %v %v", kerr.ErrorForCode(got.ErrorCode), got.OldStyleOffsets)
		}
	})
	t.Run("bad input", func(t *testing.T) {
		for _, tc := range []struct {
			name      string
			version   int16
			topic     string
			partition int32
			want      *kerr.Error
		}{
			{"unknown topic", 7, "nope", 0, kerr.UnknownTopicOrPartition},
			{"unknown partition", 7, "ends", 2, kerr.UnknownTopicOrPartition},
			{"negative partition", 1, "ends", -1, kerr.UnknownTopicOrPartition},
			{"unknown partition v0", 0, "ends", 9, kerr.UnknownTopicOrPartition},
		} {
			if got := listOffset(t, b.Addr, tc.version, tc.topic, tc.partition, -1); got.ErrorCode != tc.want.Code || got.Offset != -1 {
				t.Fatalf("%s: %v offset %d, want %v", tc.name, kerr.ErrorForCode(got.ErrorCode), got.Offset, tc.want)
			}
		}
		// A current leader epoch newer than the broker's.
		req := kmsg.NewPtrListOffsetsRequest()
		req.Version = 7
		rt := kmsg.NewListOffsetsRequestTopic()
		rt.Topic = "ends"
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Timestamp, rp.CurrentLeaderEpoch = -1, 3
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		if got := roundTrip(t, b.Addr, req).(*kmsg.ListOffsetsResponse).Topics[0].Partitions[0]; got.ErrorCode != kerr.UnknownLeaderEpoch.Code {
			t.Fatalf("current leader epoch 3: %v", kerr.ErrorForCode(got.ErrorCode))
		}
	})
}

func TestListOffsetsByTimestamp(t *testing.T) {
	b := testkit.StartBroker(t)
	// Small segments and a dense index, so lookups cross segments and land
	// between index entries.
	createTopic(t, b.Addr, "times", 1, map[string]*string{"segment.bytes": kmsg.StringPtr("1024"), "index.interval.bytes": kmsg.StringPtr("150")})
	t0 := time.Now().Add(-time.Hour).UnixMilli()
	const batches = 30
	for i := int64(0); i < batches; i++ {
		at := t0 + i*100
		produceTo(t, b.Addr, "times", 0, timedBatch(t, at, at+10, at+20))
	}
	// A batch whose records are out of timestamp order.
	late := t0 + 5000
	produceTo(t, b.Addr, "times", 0, timedBatch(t, late, late+300, late+200))

	type lookup struct {
		ts         int64
		off, gotTs int64
	}
	var want []lookup
	for i := int64(0); i < batches; i++ {
		at := t0 + i*100
		want = append(want,
			lookup{at, 3 * i, at},
			lookup{at + 10, 3*i + 1, at + 10},
			lookup{at + 15, 3*i + 2, at + 20},
			lookup{at + 20, 3*i + 2, at + 20},
		)
		if i+1 < batches {
			want = append(want, lookup{at + 21, 3 * (i + 1), at + 100})
		}
	}
	want = append(want,
		lookup{t0 - 60000, 0, t0},
		lookup{t0 + (batches-1)*100 + 21, 90, late},
		lookup{late + 200, 91, late + 300},
		lookup{late + 250, 91, late + 300},
		lookup{late + 300, 91, late + 300},
		lookup{late + 301, -1, -1},
	)
	check := func() {
		t.Helper()
		for _, w := range want {
			got := listOffset(t, b.Addr, 7, "times", 0, w.ts)
			if got.ErrorCode != 0 || got.Offset != w.off || got.Timestamp != w.gotTs {
				t.Fatalf("timestamp t0%+d: %v offset %d at t0%+d, want offset %d at t0%+d",
					w.ts-t0, kerr.ErrorForCode(got.ErrorCode), got.Offset, got.Timestamp-t0, w.off, w.gotTs-t0)
			}
		}
		// -3 (v7+) is the record with the largest timestamp.
		if got := listOffset(t, b.Addr, 7, "times", 0, -3); got.ErrorCode != 0 || got.Offset != 91 || got.Timestamp != late+300 {
			t.Fatalf("max timestamp: %v offset %d at t0%+d, want 91 at t0%+d", kerr.ErrorForCode(got.ErrorCode), got.Offset, got.Timestamp-t0, late+300-t0)
		}
	}
	check()

	// franz-go's admin client agrees.
	adm := admin(t, b.Addr)
	listed, err := adm.ListOffsetsAfterMilli(ctxT(t), t0+205, "times")
	if err != nil {
		t.Fatal(err)
	}
	if lo, ok := listed.Lookup("times", 0); !ok || lo.Err != nil || lo.Offset != 7 {
		t.Fatalf("kadm ListOffsetsAfterMilli: %+v", lo)
	}
	maxTs, err := adm.ListMaxTimestampOffsets(ctxT(t), "times")
	if err != nil {
		t.Fatal(err)
	}
	if lo, ok := maxTs.Lookup("times", 0); !ok || lo.Err != nil || lo.Offset != 91 || lo.Timestamp != late+300 {
		t.Fatalf("kadm ListMaxTimestampOffsets: %+v", lo)
	}

	// The time index survives a clean restart, and lookups skip records
	// below the log start.
	b.Restart()
	check()
	req := kmsg.NewPtrDeleteRecordsRequest()
	rt := kmsg.NewDeleteRecordsRequestTopic()
	rt.Topic = "times"
	rp := kmsg.NewDeleteRecordsRequestTopicPartition()
	rp.Offset = 40
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	if got := roundTrip(t, b.Addr, req).(*kmsg.DeleteRecordsResponse).Topics[0].Partitions[0]; got.ErrorCode != 0 {
		t.Fatalf("delete records: %v", kerr.ErrorForCode(got.ErrorCode))
	}
	if got := listOffset(t, b.Addr, 7, "times", 0, t0); got.Offset != 40 || got.Timestamp != t0+1310 {
		t.Fatalf("timestamp t0 after deleting below 40: offset %d at t0%+d, want 40 at t0+1310", got.Offset, got.Timestamp-t0)
	}
}

func TestLogAppendTimeTopic(t *testing.T) {
	b := testkit.StartBroker(t)
	createTopic(t, b.Addr, "appendtime", 1, map[string]*string{
		"message.timestamp.type":          kmsg.StringPtr("LogAppendTime"),
		"message.timestamp.before.max.ms": kmsg.StringPtr("1000"),
	})
	createTopic(t, b.Addr, "createtime", 1, nil)
	old := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()

	before := time.Now().UnixMilli()
	// The old producer timestamp is not checked against the bounds: the
	// broker's time replaces it.
	got := produceRaw(t, b.Addr, "appendtime", -1, timedBatch(t, old, old+1))
	after := time.Now().UnixMilli()
	if got.ErrorCode != 0 || got.BaseOffset != 0 {
		t.Fatalf("produce: %v at %d", kerr.ErrorForCode(got.ErrorCode), got.BaseOffset)
	}
	appendTs := got.LogAppendTime
	if appendTs < before || appendTs > after {
		t.Fatalf("produce response LogAppendTime %d, want the broker's time in [%d, %d]", appendTs, before, after)
	}
	if got := produceRaw(t, b.Addr, "createtime", -1, timedBatch(t, old)); got.ErrorCode != 0 || got.LogAppendTime != -1 {
		t.Fatalf("CreateTime topic: %v, LogAppendTime %d (want -1)", kerr.ErrorForCode(got.ErrorCode), got.LogAppendTime)
	}

	// franz-go's producer sets its own old timestamp too.
	cl := testkit.Client(t, b.Addr)
	if err := cl.ProduceSync(ctxT(t), &kgo.Record{Topic: "appendtime", Value: []byte("v"), Timestamp: time.UnixMilli(old)}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	after = time.Now().UnixMilli()

	// A consumer (which checks the CRC) sees the broker's time on every
	// record, marked as log-append time.
	recs := consumeAll(t, b.Addr, "appendtime", 3)
	for _, r := range recs {
		ts := r.Timestamp.UnixMilli()
		if r.Attrs.TimestampType() != 1 || ts < appendTs || ts > after || (r.Offset < 2 && ts != appendTs) {
			t.Fatalf("record %d: timestamp %d type %d, want log-append time %d..%d", r.Offset, ts, r.Attrs.TimestampType(), appendTs, after)
		}
	}
	created := consumeAll(t, b.Addr, "createtime", 1)
	if created[0].Timestamp.UnixMilli() != old || created[0].Attrs.TimestampType() != 0 {
		t.Fatalf("CreateTime record: %d type %d", created[0].Timestamp.UnixMilli(), created[0].Attrs.TimestampType())
	}

	// Offsets by time use the broker's time too.
	maxTs, maxOff := recs[2].Timestamp.UnixMilli(), int64(2)
	if maxTs == appendTs {
		maxOff = 0 // the first record holding the largest timestamp
	}
	if got := listOffset(t, b.Addr, 7, "appendtime", 0, -3); got.Offset != maxOff || got.Timestamp != maxTs {
		t.Fatalf("max timestamp: offset %d at %d, want %d at %d", got.Offset, got.Timestamp, maxOff, maxTs)
	}
	if got := listOffset(t, b.Addr, 7, "appendtime", 0, old+1); got.Offset != 0 || got.Timestamp != appendTs {
		t.Fatalf("by timestamp: offset %d at %d, want 0 at %d", got.Offset, got.Timestamp, appendTs)
	}
	if got := listOffset(t, b.Addr, 7, "appendtime", 0, after+1); got.Offset != -1 {
		t.Fatalf("after the last append time: offset %d, want -1", got.Offset)
	}

}
