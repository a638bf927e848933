package group

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-streams/tributary/broker/internal/statefile"
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

// TestStateFileFormat opens a groups.log written before the state file
// moved to broker/statefile: existing data dirs must keep working.
func TestStateFileFormat(t *testing.T) {
	golden, err := os.ReadFile(filepath.Join("testdata", "groups-TRBGRP01.log"))
	if err != nil {
		t.Fatal(err)
	}
	e := &testEnv{t: t, dir: t.TempDir(), topics: newTopics(defaultTestTopics)}
	if err := os.WriteFile(filepath.Join(e.dir, stateFileName), golden, 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := New(testConfig(e.dir), e.topics, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.c = c
	t.Cleanup(func() { e.c.Close() })
	if got, _ := os.ReadFile(filepath.Join(e.dir, stateFileName)); !bytes.Equal(got, golden) {
		t.Fatal("opening rewrote the file")
	}
	if _, offs := e.fetch("g1", false, nil); !reflect.DeepEqual(offs, map[tp]fetched{{"t1", 0}: {13, 7, "newer", 0}, {"t1", 2}: {12, 7, "", 0}}) {
		t.Fatalf("g1: %+v", offs)
	}
	if _, offs := e.fetch("g2", false, nil); !reflect.DeepEqual(offs, map[tp]fetched{{"t2", 1}: {21, 7, "x", 0}}) {
		t.Fatalf("g2 (t2/0 was deleted): %+v", offs)
	}
	if _, offs := e.fetch("cl", false, nil); offs[tp{"t1", 1}].offset != 99 {
		t.Fatalf("cl: %+v", offs)
	}
	if d := e.describe("cl"); d.State != "Empty" || d.ProtocolType != "consumer" {
		t.Fatalf("cl: %+v", d)
	}
	if _, ch := e.joinNew("cl"); wait(t, ch).Generation != 2 {
		t.Fatal("generation not restored")
	}
	if !e.c.HasPendingTxnOffsets("g1") {
		t.Fatal("staged offset lost")
	}
	if err := e.c.CompleteTxn(100, 1, true); err != nil {
		t.Fatal(err)
	}
	if _, offs := e.fetch("g1", true, nil); offs[tp{"t1", 1}] != (fetched{50, -1, "txn", 0}) {
		t.Fatalf("g1 after commit of the staged offset: %+v", offs)
	}

	// Another state file's header (the transaction coordinator's) is refused.
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, stateFileName), []byte("TRBTXN01"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := New(testConfig(other), e.topics, nil); err == nil || !strings.HasPrefix(err.Error(), "group state: ") {
		t.Fatalf("opened a foreign state file: %v", err)
	}
}

// TestOffsetsSurviveSnapshot lets the file grow past the snapshot threshold
// with overwritten offsets: the coordinator compacts it, and what was live
// (and what is written after) survives a restart.
func TestOffsetsSurviveSnapshot(t *testing.T) {
	big := func(c *Config) { c.OffsetMetadataMaxBytes = 1 << 20 }
	e := newEnv(t, big)
	meta := strings.Repeat("m", 100<<10)
	for i := range 50 { // about 5 MiB, past the 4 MiB threshold
		allCodes(t, e.commit("g", "", -1, commitPart{"t1", 0, int64(i), meta}), 0)
	}
	allCodes(t, e.commit("g2", "", -1, commitPart{"t2", 1, 5, ""}), 0)
	// The coordinator snapshots in the background once the file is large
	// and mostly overwritten (the commits after that grow it again, by
	// under 1 MiB); maybeCompact returns once any snapshot due is done.
	path := filepath.Join(e.dir, stateFileName)
	e.c.maybeCompact()
	if st, _ := os.Stat(path); st.Size() > 2<<20 {
		t.Fatalf("file not compacted: %d bytes", st.Size())
	}
	// Appends after the snapshot land in the new file.
	allCodes(t, e.commit("g", "", -1, commitPart{"t1", 1, 500, ""}), 0)
	e.reopen(big)
	_, offs := e.fetch("g", false, nil)
	if offs[tp{"t1", 0}].offset != 49 || offs[tp{"t1", 0}].metadata != meta || offs[tp{"t1", 1}].offset != 500 {
		t.Fatalf("after compaction and reopen: offsets %d, %d", offs[tp{"t1", 0}].offset, offs[tp{"t1", 1}].offset)
	}
	if _, offs := e.fetch("g2", false, nil); offs[tp{"t2", 1}].offset != 5 {
		t.Fatalf("g2 after compaction: %+v", offs)
	}
}

// TestRecordRoundTrip checks the group records' keys and values decode to
// what was encoded, and survive the state file.
func TestRecordRoundTrip(t *testing.T) {
	inst := "i"
	ok := offsetKey{"g", "t", 3}
	ov := offsetValue{Offset: 9, LeaderEpoch: 2, Metadata: "m", CommitMs: 5, ExpireMs: -1}
	pk := pendingKey{"g", 77, "t", 1}
	pv := pendingValue{ProducerEpoch: 3, offsetValue: offsetValue{Offset: 4, LeaderEpoch: -1}}
	gm := groupMeta{Kind: kindClassic, ProtocolType: "consumer", Protocol: "range", Generation: 4, Leader: "a", State: stateStable,
		Members: []memberMeta{{MemberID: "a", InstanceID: &inst, Metadata: []byte{1}, Assignment: []byte{2}}}}
	recs := []statefile.Record{offsetRecord(ok, ov), pendingRecord(pk, pv), groupRecord("g", gm)}

	if k, err := decodeOffsetKey(recs[0].Key); err != nil || k != ok {
		t.Fatalf("offset key: %+v %v", k, err)
	}
	if v, err := decodeOffsetRecordValue(recs[0].Value); err != nil || v != ov {
		t.Fatalf("offset value: %+v %v", v, err)
	}
	if k, err := decodePendingKey(recs[1].Key); err != nil || k != pk {
		t.Fatalf("pending key: %+v %v", k, err)
	}
	if v, err := decodePendingValue(recs[1].Value); err != nil || v != pv {
		t.Fatalf("pending value: %+v %v", v, err)
	}
	if id, err := decodeGroupKey(recs[2].Key); err != nil || id != "g" {
		t.Fatalf("group key: %q %v", id, err)
	}
	if m, err := decodeGroupMeta(recs[2].Value); err != nil || !reflect.DeepEqual(m, gm) {
		t.Fatalf("group meta: %+v %v", m, err)
	}
	// Trailing bytes are malformed.
	if _, err := decodeGroupMeta(append(recs[2].Value, 0)); err == nil {
		t.Fatal("group meta with trailing bytes decoded")
	}

	dir := t.TempDir()
	f, _, err := statefile.Open(dir, stateFileName, stateHeader, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Append(append(recs, offsetTombstone(offsetKey{"g", "t", 4}))...); err != nil {
		t.Fatal(err)
	}
	f.Close()
	f, got, err := statefile.Open(dir, stateFileName, stateHeader, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if !reflect.DeepEqual(got, recs) {
		t.Fatalf("through the state file:\n%+v\n%+v", got, recs)
	}
}

// FuzzLoadRecord hands arbitrary records to the state loader: it must
// never panic. (The frame decoder is fuzzed by statefile.FuzzReplay.)
func FuzzLoadRecord(f *testing.F) {
	for _, r := range []statefile.Record{
		offsetRecord(offsetKey{"g", "t", 0}, offsetValue{Offset: 1, Metadata: "x"}),
		pendingRecord(pendingKey{"g", 1, "t", 0}, pendingValue{ProducerEpoch: 1}),
		groupRecord("g", groupMeta{Kind: kindConsumer, Generation: 3}),
		groupRecord("g", groupMeta{Kind: kindClassic, Members: []memberMeta{{MemberID: "m"}}}),
		groupRecord("g", groupMeta{Kind: kindClassic, State: stateStable, Leader: "x",
			Members: []memberMeta{{MemberID: "m", InstanceID: kmsg.StringPtr("i")}, {MemberID: "m"}}}),
	} {
		f.Add(r.Kind, r.Key, r.Value)
	}
	f.Fuzz(func(t *testing.T, kind uint8, key, value []byte) {
		c := &Coordinator{
			cfg:    DefaultConfig(),
			topics: newTopics(nil),
			log:    discardLogger(),
			groups: make(map[string]*group),
			txnIdx: make(map[int64]map[string]struct{}),
			closed: make(chan struct{}),
		}
		r := statefile.Record{Kind: kind, Key: key, Value: value}
		_ = c.loadRecord(r)
		// Its __consumer_offsets form either fails or encodes.
		_, _, _, _ = viewRecord(r, 0)
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
