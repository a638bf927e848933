package broker_test

// Idempotent producer state across a clean restart, which loads the
// producer state snapshot instead of scanning the log.

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-streams/tributary/broker/internal/record"
	"github.com/tributary-streams/tributary/internal/testkit"
)

func idempotentBatch(t *testing.T, pid int64, epoch int16, seq int32, n int) []byte {
	t.Helper()
	var recs []record.Record
	for i := 0; i < n; i++ {
		recs = append(recs, record.Record{OffsetDelta: int32(i), Key: []byte("k"), Value: []byte("v")})
	}
	now := time.Now().UnixMilli()
	b, err := record.Build(record.Header{Magic: 2, LastOffsetDelta: int32(n - 1), BaseTimestamp: now, MaxTimestamp: now,
		ProducerID: pid, ProducerEpoch: epoch, BaseSequence: seq, NumRecords: int32(n)}, recs, record.None)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func initProducerID(t *testing.T, addr string) int64 {
	t.Helper()
	req := kmsg.NewPtrInitProducerIDRequest()
	req.Version = 4
	req.ProducerID, req.ProducerEpoch = -1, -1
	resp := roundTrip(t, addr, req).(*kmsg.InitProducerIDResponse)
	if resp.ErrorCode != 0 {
		t.Fatalf("InitProducerId: %v", kerr.ErrorForCode(resp.ErrorCode))
	}
	return resp.ProducerID
}

func TestIdempotentStateSurvivesCleanRestart(t *testing.T) {
	b := testkit.StartBroker(t)
	createTopic(t, b.Addr, "idem", 1, nil)
	pid := initProducerID(t, b.Addr)
	first := produceRaw(t, b.Addr, "idem", -1, idempotentBatch(t, pid, 0, 0, 3))
	second := produceRaw(t, b.Addr, "idem", -1, idempotentBatch(t, pid, 0, 3, 2))
	if first.ErrorCode != 0 || second.ErrorCode != 0 || second.BaseOffset != 3 {
		t.Fatalf("produce: %v %v at %d", kerr.ErrorForCode(first.ErrorCode), kerr.ErrorForCode(second.ErrorCode), second.BaseOffset)
	}
	b.Restart()
	if _, err := os.Stat(filepath.Join(b.DataDir, "idem-0", "producer-state.snapshot")); err != nil {
		t.Fatalf("no producer state snapshot after a clean stop: %v", err)
	}
	// A retry of the last batch is recognised as a duplicate...
	dup := produceRaw(t, b.Addr, "idem", -1, idempotentBatch(t, pid, 0, 3, 2))
	if dup.ErrorCode != 0 || dup.BaseOffset != 3 {
		t.Fatalf("duplicate after restart: %v at %d, want offset 3", kerr.ErrorForCode(dup.ErrorCode), dup.BaseOffset)
	}
	// ...a gap is refused, and the next sequence continues the log.
	gap := produceRaw(t, b.Addr, "idem", -1, idempotentBatch(t, pid, 0, 9, 1))
	if gap.ErrorCode != kerr.OutOfOrderSequenceNumber.Code {
		t.Fatalf("gap after restart: %v", kerr.ErrorForCode(gap.ErrorCode))
	}
	next := produceRaw(t, b.Addr, "idem", -1, idempotentBatch(t, pid, 0, 5, 1))
	if next.ErrorCode != 0 || next.BaseOffset != 5 {
		t.Fatalf("next after restart: %v at %d", kerr.ErrorForCode(next.ErrorCode), next.BaseOffset)
	}
	if pid2 := initProducerID(t, b.Addr); pid2 <= pid {
		t.Fatalf("producer id %d reused after restart (had %d)", pid2, pid)
	}
}
