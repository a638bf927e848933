package group

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestOffsetsSurviveCloseAndReopen(t *testing.T) {
	e := newEnv(t)
	allCodes(t, e.commit("g1", "", -1, commitPart{"t1", 0, 11, "meta"}, commitPart{"t1", 2, 12, ""}), 0)
	allCodes(t, e.commit("g2", "", -1, commitPart{"t2", 1, 21, "x"}), 0)
	allCodes(t, e.commit("g1", "", -1, commitPart{"t1", 0, 13, "newer"}), 0)

	// A classic group at generation 2 comes back Empty with its generation.
	id1, ch1 := e.joinNew("cl")
	wait(t, ch1)
	e.c.SyncGroup(ctxT(t), syncReq("cl", id1, 1, nil))
	id2, ch2 := e.joinNew("cl")
	ch1 = e.joinAsync(joinReq("cl", id1))
	wait(t, ch1)
	wait(t, ch2)
	sc2 := e.syncAsync(syncReq("cl", id2, 2, nil))
	e.c.SyncGroup(ctxT(t), syncReq("cl", id1, 2, map[string][]byte{id1: []byte("a"), id2: []byte("b")}))
	wait(t, sc2)
	allCodes(t, e.commit("cl", id2, 2, commitPart{"t1", 1, 99, ""}), 0)

	e.reopen()
	_, offs := e.fetch("g1", false, nil)
	want := map[tp]fetched{{"t1", 0}: {13, 7, "newer", 0}, {"t1", 2}: {12, 7, "", 0}}
	if !reflect.DeepEqual(offs, want) {
		t.Fatalf("g1 after reopen: %+v", offs)
	}
	if _, offs := e.fetch("g2", false, nil); offs[tp{"t2", 1}] != (fetched{21, 7, "x", 0}) {
		t.Fatalf("g2 after reopen: %+v", offs)
	}
	if _, offs := e.fetch("cl", false, nil); offs[tp{"t1", 1}].offset != 99 {
		t.Fatalf("cl after reopen: %+v", offs)
	}
	d := e.describe("cl")
	if d.State != "Empty" || d.ProtocolType != "consumer" || len(d.Members) != 0 {
		t.Fatalf("cl after reopen: %+v", d)
	}
	// Old members must rejoin; generations keep increasing.
	wantCode(t, "old member heartbeat", e.heartbeat("cl", id1, 2), kerr.UnknownMemberID)
	allCodes(t, e.commit("cl", id1, 2, commitPart{"t1", 1, 5, ""}), kerr.UnknownMemberID.Code)
	_, ch := e.joinNew("cl")
	if r := wait(t, ch); r.Generation != 3 {
		t.Fatalf("generation after restart: %d", r.Generation)
	}
}

// TestOffsetsSurviveUncleanStop simulates kill -9: the coordinator is never
// closed, and the last write is torn in the middle of a record.
func TestOffsetsSurviveUncleanStop(t *testing.T) {
	e := newEnv(t)
	allCodes(t, e.commit("g", "", -1, commitPart{"t1", 0, 1, "first"}), 0)
	allCodes(t, e.commit("g", "", -1, commitPart{"t1", 1, 2, "second"}), 0)
	src := filepath.Join(e.dir, stateFileName)
	good, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	allCodes(t, e.commit("g", "", -1, commitPart{"t1", 2, 3, "torn"}), 0)
	full, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	// The crash leaves half of the last frame on disk.
	torn := full[:len(good)+(len(full)-len(good))/2]

	for name, data := range map[string][]byte{
		"complete": full,
		"torn":     torn,
		"garbage":  append(append([]byte{}, good...), bytes.Repeat([]byte{0xab}, 100)...),
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, stateFileName), data, 0o644); err != nil {
				t.Fatal(err)
			}
			cfg := testConfig(dir)
			c, err := New(cfg, e.topics, nil)
			if err != nil {
				t.Fatal(err)
			}
			e2 := &testEnv{t: t, dir: dir, topics: e.topics, c: c}
			t.Cleanup(func() { e2.c.Close() })
			_, offs := e2.fetch("g", false, nil)
			if offs[tp{"t1", 0}].offset != 1 || offs[tp{"t1", 1}].offset != 2 {
				t.Fatalf("acknowledged offsets lost: %+v", offs)
			}
			if _, ok := offs[tp{"t1", 2}]; ok != (name == "complete") {
				t.Fatalf("torn offset present=%v: %+v", ok, offs)
			}
			if name != "complete" {
				st, _ := os.Stat(filepath.Join(dir, stateFileName))
				if st.Size() != int64(len(good)) {
					t.Fatalf("file not truncated to the last good frame: %d != %d", st.Size(), len(good))
				}
			}
			// Writing after recovery works and survives another restart.
			allCodes(t, e2.commit("g", "", -1, commitPart{"t2", 0, 42, ""}), 0)
			e2.reopen()
			if _, offs := e2.fetch("g", false, nil); offs[tp{"t2", 0}].offset != 42 || offs[tp{"t1", 0}].offset != 1 {
				t.Fatalf("after second restart: %+v", offs)
			}
		})
	}
}

func TestStateFileTornHeader(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, stateFileName), []byte(stateHeader[:3]), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := New(testConfig(dir), newTopics(defaultTestTopics), nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if err := os.WriteFile(filepath.Join(dir, stateFileName), []byte("not a group file at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := New(testConfig(dir), newTopics(defaultTestTopics), nil); err == nil {
		t.Fatal("opened a foreign file")
	}
}

func TestStateFileCompaction(t *testing.T) {
	e := newEnv(t)
	e.c.store.mu.Lock()
	e.c.store.compactMin = 1024
	e.c.store.mu.Unlock()
	for i := range 200 {
		allCodes(t, e.commit("g", "", -1, commitPart{"t1", 0, int64(i), "some metadata to grow the file"}), 0)
	}
	allCodes(t, e.commit("g2", "", -1, commitPart{"t2", 1, 5, ""}), 0)
	// The coordinator snapshots in the background once the file passes
	// compactMin; about 12 KiB were written.
	path := filepath.Join(e.dir, stateFileName)
	e.c.maybeCompact()
	if st, _ := os.Stat(path); st.Size() > 2048 {
		t.Fatalf("file not compacted: %d bytes", st.Size())
	}
	// Appends after the snapshot land in the new file.
	allCodes(t, e.commit("g", "", -1, commitPart{"t1", 1, 500, ""}), 0)
	e.reopen()
	_, offs := e.fetch("g", false, nil)
	if offs[tp{"t1", 0}].offset != 199 || offs[tp{"t1", 1}].offset != 500 {
		t.Fatalf("after compaction and reopen: %+v", offs)
	}
	if _, offs := e.fetch("g2", false, nil); offs[tp{"t2", 1}].offset != 5 {
		t.Fatalf("g2 after compaction: %+v", offs)
	}
}

func TestRecordRoundTrip(t *testing.T) {
	inst := "i"
	recs := []record{
		offsetRecord(offsetKey{"g", "t", 3}, offsetValue{Offset: 9, LeaderEpoch: 2, Metadata: "m", CommitMs: 5, ExpireMs: -1}),
		pendingRecord(pendingKey{"g", 77, "t", 1}, pendingValue{ProducerEpoch: 3, offsetValue: offsetValue{Offset: 4, LeaderEpoch: -1}}),
		groupRecord("g", groupMeta{Kind: kindClassic, ProtocolType: "consumer", Protocol: "range", Generation: 4, Leader: "a",
			Members: []memberMeta{{MemberID: "a", InstanceID: &inst, Metadata: []byte{1}, Assignment: []byte{}}}}),
		offsetTombstone(offsetKey{"g", "t", 4}),
	}
	var got []record
	data := encodeFrames(nil, recs)
	if n := scanFrames(data, func(r []record) { got = append(got, r...) }); n != len(data) {
		t.Fatalf("scanned %d of %d", n, len(data))
	}
	if !reflect.DeepEqual(got, recs) {
		t.Fatalf("round trip:\n%+v\n%+v", got, recs)
	}
	m, err := decodeGroupMeta(got[2].value)
	if err != nil || m.Generation != 4 || *m.Members[0].InstanceID != "i" {
		t.Fatalf("group meta: %+v %v", m, err)
	}
}

// FuzzReplay feeds arbitrary bytes to the state-file decoder and the state
// loader: they must never panic, must report a valid prefix, and what they
// accept must re-encode to an equivalent file.
func FuzzReplay(f *testing.F) {
	seed := encodeFrames(nil, []record{
		offsetRecord(offsetKey{"g", "t", 0}, offsetValue{Offset: 1, Metadata: "x"}),
		pendingRecord(pendingKey{"g", 1, "t", 0}, pendingValue{ProducerEpoch: 1}),
		groupRecord("g", groupMeta{Kind: kindConsumer, Generation: 3}),
		groupTombstone("h"),
	})
	f.Add(seed)
	f.Add(seed[:len(seed)-3])
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0, 5, 0, 0, 0, 0, 1, 2, 3, 4, 5})
	f.Add(seed[frameOverhead:]) // a payload: the fuzz body frames it
	f.Fuzz(func(t *testing.T, data []byte) {
		var recs []record
		n := scanFrames(data, func(r []record) { recs = append(recs, r...) })
		if n < 0 || n > len(data) {
			t.Fatalf("valid prefix %d of %d", n, len(data))
		}
		// Random bytes rarely pass the CRC; also try them as the payload
		// of an intact frame, to exercise the record decoders.
		if len(data) > 0 && len(data) < maxFrame {
			framed := make([]byte, frameOverhead, frameOverhead+len(data))
			binary.BigEndian.PutUint32(framed, uint32(len(data)))
			binary.BigEndian.PutUint32(framed[4:], crc32.Checksum(data, crcTable))
			framed = append(framed, data...)
			scanFrames(framed, func(r []record) { recs = append(recs, r...) })
		}
		c := &Coordinator{
			cfg:    DefaultConfig(),
			topics: newTopics(nil),
			log:    discardLogger(),
			groups: make(map[string]*group),
			txnIdx: make(map[int64]map[string]struct{}),
			closed: make(chan struct{}),
		}
		for _, r := range recs {
			_ = c.loadRecord(r)
		}
		var again []record
		re := encodeFrames(nil, recs)
		if m := scanFrames(re, func(r []record) { again = append(again, r...) }); m != len(re) || len(again) != len(recs) {
			t.Fatalf("re-encoded records do not scan back: %d/%d, %d/%d", m, len(re), len(again), len(recs))
		}
	})
}

func TestTxnOffsets(t *testing.T) {
	e := newEnv(t)
	txn := func(group string, pid int64, parts ...commitPart) map[tp]int16 {
		r := kmsg.NewPtrTxnOffsetCommitRequest()
		r.Version = 3
		r.TransactionalID = "tx"
		r.Group = group
		r.ProducerID = pid
		r.ProducerEpoch = 1
		for _, p := range parts {
			tt := kmsg.NewTxnOffsetCommitRequestTopic()
			tt.Topic = p.topic
			pp := kmsg.NewTxnOffsetCommitRequestTopicPartition()
			pp.Partition, pp.Offset, pp.Metadata = p.partition, p.offset, kmsg.StringPtr(p.metadata)
			tt.Partitions = append(tt.Partitions, pp)
			r.Topics = append(r.Topics, tt)
		}
		out := make(map[tp]int16)
		for _, tt := range e.c.TxnOffsetCommit(ctxT(t), r).Topics {
			for _, p := range tt.Partitions {
				out[tp{tt.Topic, p.Partition}] = p.ErrorCode
			}
		}
		return out
	}
	allCodes(t, e.commit("g", "", -1, commitPart{"t1", 0, 5, ""}), 0)
	allCodes(t, txn("g", 100, commitPart{"t1", 0, 10, "txn"}, commitPart{"t1", 1, 11, ""}), 0)
	allCodes(t, txn("g", 200, commitPart{"t2", 0, 20, ""}), 0)
	if codes := txn("g", 100, commitPart{"nope", 0, 1, ""}); codes[tp{"nope", 0}] != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("unknown topic: %v", codes)
	}
	if codes := txn("", 100, commitPart{"t1", 0, 1, ""}); codes[tp{"t1", 0}] != kerr.InvalidGroupID.Code {
		t.Fatalf("empty group: %v", codes)
	}
	if !e.c.HasPendingTxnOffsets("g") || e.c.HasPendingTxnOffsets("other") {
		t.Fatal("HasPendingTxnOffsets")
	}

	// Staged offsets are invisible; RequireStable reports them unstable.
	_, offs := e.fetch("g", false, map[string][]int32{"t1": {0, 1}})
	if offs[tp{"t1", 0}].offset != 5 || offs[tp{"t1", 1}].offset != -1 {
		t.Fatalf("pending offsets visible: %+v", offs)
	}
	_, offs = e.fetch("g", true, map[string][]int32{"t1": {0, 1}, "t2": {1}})
	if offs[tp{"t1", 0}].err != kerr.UnstableOffsetCommit.Code || offs[tp{"t1", 0}].offset != -1 || offs[tp{"t2", 1}].err != 0 {
		t.Fatalf("require stable: %+v", offs)
	}
	_, offs = e.fetch("g", true, nil)
	if offs[tp{"t2", 0}].err != kerr.UnstableOffsetCommit.Code {
		t.Fatalf("require stable, all topics: %+v", offs)
	}

	// Staged offsets survive a restart.
	e.reopen()
	if !e.c.HasPendingTxnOffsets("g") {
		t.Fatal("pending offsets lost in restart")
	}
	if err := e.c.CompleteTxn(100, 1, true); err != nil {
		t.Fatal(err)
	}
	if err := e.c.CompleteTxn(200, 1, false); err != nil {
		t.Fatal(err)
	}
	if err := e.c.CompleteTxn(300, 1, true); err != nil { // unknown producer: nothing to do
		t.Fatal(err)
	}
	if e.c.HasPendingTxnOffsets("g") {
		t.Fatal("still pending after completion")
	}
	check := func() {
		t.Helper()
		_, offs := e.fetch("g", true, nil)
		want := map[tp]fetched{{"t1", 0}: {10, -1, "txn", 0}, {"t1", 1}: {11, -1, "", 0}}
		if !reflect.DeepEqual(offs, want) {
			t.Fatalf("after commit/abort: %+v", offs)
		}
	}
	check()
	e.reopen()
	check()

	// A plain commit made after the staging wins over the transaction.
	allCodes(t, txn("g", 400, commitPart{"t1", 0, 50, ""}), 0)
	allCodes(t, e.commit("g", "", -1, commitPart{"t1", 0, 60, ""}), 0)
	if err := e.c.CompleteTxn(400, 1, true); err != nil {
		t.Fatal(err)
	}
	if _, offs := e.fetch("g", false, nil); offs[tp{"t1", 0}].offset != 60 {
		t.Fatalf("later plain commit lost: %+v", offs)
	}
}

func TestTxnOffsetCommitValidatesMember(t *testing.T) {
	e := newEnv(t)
	id1, ch1 := e.joinNew("g")
	wait(t, ch1)
	mk := func(member string, gen int32) int16 {
		r := kmsg.NewPtrTxnOffsetCommitRequest()
		r.Version = 3
		r.Group, r.ProducerID, r.MemberID, r.Generation = "g", 1, member, gen
		tt := kmsg.NewTxnOffsetCommitRequestTopic()
		tt.Topic = "t1"
		tt.Partitions = []kmsg.TxnOffsetCommitRequestTopicPartition{kmsg.NewTxnOffsetCommitRequestTopicPartition()}
		r.Topics = []kmsg.TxnOffsetCommitRequestTopic{tt}
		return e.c.TxnOffsetCommit(ctxT(t), r).Topics[0].Partitions[0].ErrorCode
	}
	// Transactional commits are allowed while completing a rebalance.
	mustOK(t, "member commit", mk(id1, 1))
	wantCode(t, "stale generation", mk(id1, 0), kerr.IllegalGeneration)
	wantCode(t, "unknown member", mk("ghost", 1), kerr.UnknownMemberID)
	mustOK(t, "no member info (v0-2 style)", mk("", -1))
}

func TestTopicDeletedRemovesOffsets(t *testing.T) {
	e := newEnv(t)
	allCodes(t, e.commit("g1", "", -1, commitPart{"t1", 0, 1, ""}, commitPart{"t2", 0, 2, ""}), 0)
	allCodes(t, e.commit("g2", "", -1, commitPart{"t1", 1, 3, ""}), 0)
	if err := e.c.TopicDeleted("t1"); err != nil {
		t.Fatal(err)
	}
	e.reopen()
	if _, offs := e.fetch("g1", false, nil); len(offs) != 1 || offs[tp{"t2", 0}].offset != 2 {
		t.Fatalf("g1: %+v", offs)
	}
	if _, offs := e.fetch("g2", false, nil); len(offs) != 0 {
		t.Fatalf("g2: %+v", offs)
	}
}
