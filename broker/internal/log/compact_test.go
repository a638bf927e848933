// Compaction tests: newest value per key, offsets preserved, tombstone
// horizons, transactions and control batches, lag, dirty ratio, and
// crash handling of segment swaps.

package log

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/tributary-streams/tributary/broker/internal/record"
)

func compactConfig() Config {
	c := smallConfig()
	c.SegmentBytes = 400
	c.CleanupPolicy = "compact"
	c.DeleteRetentionMs = 1000
	return c
}

// kv is the part of a record compaction must preserve exactly.
type kv struct {
	off        int64
	key, value string
	tombstone  bool
	ts         int64
}

func project(rs []readRec) []kv {
	out := make([]kv, len(rs))
	for i, r := range rs {
		out[i] = kv{r.off, r.key, r.value, r.tombstone, r.ts}
	}
	return out
}

// expectCompacted filters before as a cleaning of segments below
// cleanEnd should: the newest record per key survives, the rest go.
func expectCompacted(before []readRec, cleanEnd int64, dropTombstones bool) []kv {
	newest := map[string]int64{}
	for _, r := range before {
		newest[r.key] = r.off
	}
	var out []kv
	for _, r := range before {
		if r.off < cleanEnd && (newest[r.key] != r.off || (dropTombstones && r.tombstone)) {
			continue
		}
		out = append(out, kv{r.off, r.key, r.value, r.tombstone, r.ts})
	}
	return out
}

func TestCompactKeepsNewestPerKey(t *testing.T) {
	dir := t.TempDir()
	cfg := compactConfig()
	l := openT(t, dir, cfg)
	codecs := []record.Codec{record.None, record.Gzip, record.Snappy, record.LZ4, record.Zstd}
	for i := range 120 {
		// Mixed batches: sometimes 3 records with distinct keys, compressed.
		n := 1 + i%3
		recs := make([]rec, n)
		for j := range recs {
			recs[j] = rec{key: fmt.Sprintf("key%d", (i*3+j)%13), value: fmt.Sprintf("val-%d-%d", i, j), tsDelta: int64(j)}
		}
		mustAppend(t, l, buildBatch(t, record.Header{BaseTimestamp: int64(i) * 10, ProducerID: -1}, recs, codecs[i%5]))
	}
	before := readAll(t, l)
	end, nseg := l.EndOffset(), l.NumSegments()
	cleanEnd := l.active.base

	st, err := l.Compact(time.UnixMilli(1e6), nil)
	if err != nil {
		t.Fatal(err)
	}
	after := readAll(t, l)
	want := expectCompacted(before, cleanEnd, false)
	if !reflect.DeepEqual(project(after), want) {
		t.Fatalf("after compaction:\n got %v\nwant %v", project(after), want)
	}
	if st.SegmentsCleaned == 0 || st.RecordsRemoved != int64(len(before)-len(after)) || st.BytesAfter >= st.BytesBefore {
		t.Fatalf("stats %+v, removed %d", st, len(before)-len(after))
	}
	// Cleaned segments that fit together are merged (segment.bytes bounds
	// the merge); the end offset does not move.
	if l.EndOffset() != end || l.NumSegments() >= nseg {
		t.Fatalf("end %d segs %d, want end %d and fewer than %d segments", l.EndOffset(), l.NumSegments(), end, nseg)
	}
	var total int64
	for _, f := range segmentFiles(t, dir) {
		total += fileSize(t, f)
	}
	if total != l.Size() {
		t.Fatalf("Size %d, files %d", l.Size(), total)
	}
	// Every offset, including ones compacted away, reads from the next
	// surviving batch.
	for off := int64(0); off < end; off++ {
		b, err := l.Read(off, 1, math.MaxInt64)
		if err != nil || len(b) == 0 {
			t.Fatalf("Read(%d): %v", off, err)
		}
		h, _ := record.ParseHeader(b)
		if h.LastOffset() < off {
			t.Fatalf("Read(%d) returned batch ending at %d", off, h.LastOffset())
		}
	}
	// Appends continue; reopen (clean and unclean) sees the same log.
	mustAppend(t, l, batchOf(t, 1, 5000, "post", 10))
	after = readAll(t, l)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l2 := openT(t, dir, cfg)
	if got := readAll(t, l2); !reflect.DeepEqual(project(got), project(after)) {
		t.Fatal("data differs after reopen")
	}
	l2.crash()
	os.Remove(filepath.Join(dir, recoveryPointFile))
	l3 := openT(t, dir, cfg)
	if got := readAll(t, l3); !reflect.DeepEqual(project(got), project(after)) {
		t.Fatal("data differs after full recovery scan")
	}
	if v, ok, _ := readCheckpoint(dir, cleanerOffsetFile); !ok || v != cleanEnd {
		t.Fatalf("cleaner offset checkpoint %d %v, want %d", v, ok, cleanEnd)
	}
}

func TestCompactTombstonesExpire(t *testing.T) {
	dir := t.TempDir()
	cfg := compactConfig()
	l := openT(t, dir, cfg)
	hdr := record.Header{BaseTimestamp: 100, ProducerID: -1}
	mustAppend(t, l, buildBatch(t, hdr, []rec{{key: "a", value: "a1"}, {key: "b", value: "b1"}}, record.None))
	tomb := mustAppend(t, l, buildBatch(t, hdr, []rec{{key: "a", tombstone: true, tsDelta: 7}}, record.None))
	for i := range 20 {
		mustAppend(t, l, buildBatch(t, hdr, []rec{{key: fmt.Sprintf("f%d", i), value: "filler-filler-filler-filler"}}, record.None))
	}
	if l.active.base <= tomb {
		t.Fatal("tombstone not in a closed segment")
	}
	t0 := time.UnixMilli(1_000_000)
	if _, err := l.Compact(t0, nil); err != nil {
		t.Fatal(err)
	}
	got := readAll(t, l)
	if got[0].key != "b" || got[1].off != tomb || !got[1].tombstone || got[1].ts != 107 {
		t.Fatalf("after first pass: %+v", project(got[:2]))
	}
	if h := got[1].h; !h.HasDeleteHorizon() || h.BaseTimestamp != t0.UnixMilli()+cfg.DeleteRetentionMs {
		t.Fatalf("tombstone batch header %+v: want delete horizon %d", h, t0.UnixMilli()+cfg.DeleteRetentionMs)
	}

	// Before the horizon the tombstone stays (nothing dirty: no pass runs).
	if st, _ := l.Compact(t0.Add(500*time.Millisecond), nil); st.SegmentsCleaned != 0 {
		t.Fatalf("pass ran with nothing dirty and no horizon due: %+v", st)
	}
	if got := readAll(t, l); got[1].off != tomb {
		t.Fatal("tombstone removed before its horizon")
	}

	// Reopen so the horizon must be rediscovered from the files, then pass
	// the horizon: the tombstone goes.
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = openT(t, dir, cfg)
	st, err := l.Compact(t0.Add(1001*time.Millisecond), nil)
	if err != nil {
		t.Fatal(err)
	}
	got = readAll(t, l)
	for _, r := range got {
		if r.key == "a" {
			t.Fatalf("key a still present after the horizon: %+v", r)
		}
		if r.h.HasDeleteHorizon() {
			t.Fatalf("delete horizon bit left on %+v", r.h)
		}
	}
	if st.RecordsRemoved != 1 || got[0].key != "b" || got[0].ts != 100 {
		t.Fatalf("stats %+v, first record %+v", st, got[0])
	}
}

func controlBatch(t *testing.T, pid int64, typ byte) []byte {
	h := record.Header{Attributes: record.AttrTransactional | record.AttrControl, ProducerID: pid, BaseTimestamp: 1}
	b, err := record.Build(h, []record.Record{{Key: []byte{0, 0, 0, typ}, Value: []byte{0, 0, 0, 0, 0, 0}}}, record.None)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func txnBatch(t *testing.T, pid int64, recs []rec) []byte {
	return buildBatch(t, record.Header{Attributes: record.AttrTransactional, ProducerID: pid, BaseTimestamp: 1}, recs, record.None)
}

func TestCompactTransactions(t *testing.T) {
	cfg := compactConfig()
	l := openT(t, t.TempDir(), cfg)
	filler := func(n int) {
		for i := range n {
			mustAppend(t, l, buildBatch(t, record.Header{ProducerID: -1, BaseTimestamp: 1},
				[]rec{{key: fmt.Sprintf("f%d", i), value: "filler-filler-filler-filler-filler"}}, record.None))
		}
	}
	x1 := mustAppend(t, l, txnBatch(t, 7, []rec{{key: "x", value: "committed"}}))
	commit := mustAppend(t, l, controlBatch(t, 7, controlCommit))
	x2 := mustAppend(t, l, txnBatch(t, 8, []rec{{key: "x", value: "aborted"}, {key: "z", value: "aborted"}}))
	abort := mustAppend(t, l, controlBatch(t, 8, controlAbort))
	filler(12)
	yOld := mustAppend(t, l, buildBatch(t, record.Header{ProducerID: -1, BaseTimestamp: 1}, []rec{{key: "y", value: "old"}}, record.None))
	filler(8)
	// Force a roll so the open transaction starts a segment of its own.
	l.appendMu.Lock()
	l.roll(l.EndOffset())
	l.appendMu.Unlock()
	open := mustAppend(t, l, txnBatch(t, 9, []rec{{key: "y", value: "undecided"}}))
	shadowedFrom := l.EndOffset()
	filler(6) // superseded by the next run, but past the unstable offset
	shadowedTo := l.EndOffset()
	filler(6)
	filler(6)

	if _, err := l.Compact(time.UnixMilli(1e6), nil); err != nil {
		t.Fatal(err)
	}
	byOff := map[int64]readRec{}
	batches := map[int64]record.Header{}
	l.ForEachBatch(0, func(h record.Header, _ []byte) error { batches[h.BaseOffset] = h; return nil })
	for _, r := range readAll(t, l) {
		byOff[r.off] = r
	}
	if r, ok := byOff[x1]; !ok || r.value != "committed" {
		t.Errorf("committed x lost (aborted newer value must not shadow it): %+v", r)
	}
	if _, ok := byOff[x2]; ok {
		t.Error("aborted record kept")
	}
	if h, ok := batches[x2]; !ok || h.NumRecords != 0 || h.ProducerID != 8 {
		t.Errorf("last batch of producer 8 should remain as an empty batch: %+v %v", h, ok)
	}
	for _, off := range []int64{commit, abort} {
		if h, ok := batches[off]; !ok || !h.IsControl() {
			t.Errorf("control batch at %d removed", off)
		}
	}
	if r, ok := byOff[yOld]; !ok || r.value != "old" {
		t.Error("y=old removed although the newer y is in an undecided transaction")
	}
	if _, ok := byOff[open]; !ok {
		t.Error("undecided transaction touched")
	}
	// Segments from the undecided transaction on are not cleaned.
	if shadowedTo > l.active.base {
		t.Fatal("test setup: shadowed fillers not in closed segments")
	}
	for off := shadowedFrom; off < shadowedTo; off++ {
		if _, ok := byOff[off]; !ok {
			t.Errorf("record %d past the first unstable offset was cleaned", off)
		}
	}
	// Before it, superseded fillers are gone: the pass did run.
	if _, ok := byOff[abort+1]; ok {
		t.Error("superseded filler before the unstable offset kept")
	}
}

func TestCompactDropsNullKeys(t *testing.T) {
	l := openT(t, t.TempDir(), compactConfig())
	nk := mustAppend(t, l, buildBatch(t, record.Header{ProducerID: -1}, []rec{{key: "", value: "no key"}, {key: "k", value: "v"}}, record.None))
	for i := range 20 {
		mustAppend(t, l, batchOf(t, 1, 1, fmt.Sprint(i), 60))
	}
	if _, err := l.Compact(time.UnixMilli(1e6), nil); err != nil {
		t.Fatal(err)
	}
	got := readAll(t, l)
	if got[0].off != nk+1 || got[0].key != "k" {
		t.Fatalf("first record %+v", got[0])
	}
}

func TestCompactMinLag(t *testing.T) {
	cfg := compactConfig()
	cfg.MinCompactionLagMs = 3_600_000
	l := openT(t, t.TempDir(), cfg)
	now := time.UnixMilli(10_000_000)
	for i := range 40 {
		mustAppend(t, l, buildBatch(t, record.Header{ProducerID: -1, BaseTimestamp: now.UnixMilli() + int64(i)},
			[]rec{{key: fmt.Sprint(i % 3), value: "value-value-value-value"}}, record.None))
	}
	before := readAll(t, l)
	if st, err := l.Compact(now, nil); err != nil || st.SegmentsCleaned != 0 {
		t.Fatalf("records younger than the lag compacted: %+v %v", st, err)
	}
	if got := readAll(t, l); len(got) != len(before) {
		t.Fatal("records removed")
	}
	st, err := l.Compact(now.Add(2*time.Hour), nil)
	if err != nil || st.SegmentsCleaned == 0 {
		t.Fatalf("not compacted after the lag: %+v %v", st, err)
	}
}

func TestCompactDirtyRatio(t *testing.T) {
	dir := t.TempDir()
	cfg := compactConfig()
	cfg.MinCleanableDirtyRatio = 0.5
	l := openT(t, dir, cfg)
	write := func(n int, tag string) {
		for i := range n {
			mustAppend(t, l, buildBatch(t, record.Header{ProducerID: -1},
				[]rec{{key: fmt.Sprintf("u%s%d", tag, i), value: "unique-value-unique-value-unique"}}, record.None))
		}
	}
	write(40, "a") // unique keys: nothing to remove, but all dirty
	st, err := l.Compact(time.UnixMilli(1e6), nil)
	if err != nil || st.BytesBefore == 0 {
		t.Fatalf("first pass: %+v %v", st, err)
	}
	if st.SegmentsCleaned != 0 || st.RecordsRemoved != 0 {
		t.Fatalf("unique keys changed: %+v", st)
	}
	// Everything is now clean: no pass.
	if st, _ := l.Compact(time.UnixMilli(1e6), nil); st.BytesBefore != 0 {
		t.Fatalf("pass ran on a clean log: %+v", st)
	}
	// A little dirty data: below the ratio, no pass.
	write(4, "b")
	if st, _ := l.Compact(time.UnixMilli(1e6), nil); st.BytesBefore != 0 {
		t.Fatalf("pass ran below min.cleanable.dirty.ratio: %+v", st)
	}
	cfg.MinCleanableDirtyRatio = 0.01
	l.SetConfig(cfg)
	if st, _ := l.Compact(time.UnixMilli(1e6), nil); st.BytesBefore == 0 {
		t.Fatal("pass did not run above the ratio")
	}
}

func TestCompactPolicyDeleteIsNoop(t *testing.T) {
	l := openT(t, t.TempDir(), smallConfig())
	for range 30 {
		mustAppend(t, l, batchOf(t, 2, 1, "x", 60))
	}
	if st, err := l.Compact(time.Now(), nil); err != nil || st != (CompactStats{}) {
		t.Fatalf("Compact under cleanup.policy=delete: %+v %v", st, err)
	}
}

func TestOpenResolvesInterruptedSwap(t *testing.T) {
	dir := t.TempDir()
	cfg := compactConfig()
	l := openT(t, dir, cfg)
	for i := range 30 {
		mustAppend(t, l, batchOf(t, 1, 1, fmt.Sprint(i), 60))
	}
	all := readAll(t, l)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	base := filepath.Join(dir, segmentName(0))
	// Uncommitted swap: a .log.cleaned (garbage) must be discarded.
	os.WriteFile(base+logSuffix+cleanedSuffix, []byte("partial"), 0o644)
	os.WriteFile(base+indexSuffix+cleanedSuffix, []byte("partial!"), 0o644)
	l2 := openT(t, dir, cfg)
	if got := readAll(t, l2); !reflect.DeepEqual(got, all) {
		t.Fatal("uncommitted swap changed data")
	}
	for _, suffix := range []string{logSuffix, indexSuffix} {
		if _, err := os.Stat(base + suffix + cleanedSuffix); !os.IsNotExist(err) {
			t.Fatalf("%s%s left behind", base, suffix+cleanedSuffix)
		}
	}
	l2.Close()
	// Committed swap whose index renames did not happen: finish them.
	idx, _ := os.ReadFile(base + indexSuffix)
	os.Rename(base+indexSuffix, base+indexSuffix+cleanedSuffix)
	os.WriteFile(base+indexSuffix, []byte("stale"), 0o644)
	l3 := openT(t, dir, cfg)
	got, _ := os.ReadFile(base + indexSuffix)
	if string(got) != string(idx) {
		t.Fatal("index swap not completed")
	}
	if got := readAll(t, l3); !reflect.DeepEqual(got, all) {
		t.Fatal("data differs")
	}
}
