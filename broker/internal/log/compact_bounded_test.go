package log

// Compaction with bounded memory (a key map smaller than the number of
// keys, cleaned in several passes), merging of small cleaned segments and
// its crash handling, removal of transaction markers past their delete
// horizon, and the idle roll and retention of the active segment.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tributary-streams/tributary/broker/internal/record"
)

// fillVersions appends rounds of values for keys k0..k(n-1), one key per
// record, several records per batch, and returns the newest value per key.
func fillVersions(t *testing.T, l *Log, keys, rounds int) map[string]string {
	t.Helper()
	newest := map[string]string{}
	for r := range rounds {
		for i := 0; i < keys; i += 5 {
			var recs []rec
			for k := i; k < min(i+5, keys); k++ {
				key, val := fmt.Sprintf("k%04d", k), fmt.Sprintf("v%d-of-k%04d", r, k)
				recs = append(recs, rec{key: key, value: val})
				newest[key] = val
			}
			mustAppend(t, l, buildBatch(t, record.Header{ProducerID: -1, BaseTimestamp: 1}, recs, record.None))
		}
	}
	return newest
}

// checkNewestOnly reads the log and checks that the closed segments hold
// exactly one record per key, the newest, at the offset it was written.
func checkNewestOnly(t *testing.T, l *Log, newest map[string]string, offsets map[string]int64) {
	t.Helper()
	seen := map[string]bool{}
	for _, r := range readAll(t, l) {
		if r.off >= l.active.base {
			continue
		}
		if seen[r.key] {
			t.Fatalf("key %s kept twice (again at offset %d)", r.key, r.off)
		}
		seen[r.key] = true
		if r.value != newest[r.key] {
			t.Fatalf("key %s kept %q at %d, newest is %q", r.key, r.value, r.off, newest[r.key])
		}
		if want, ok := offsets[r.key]; ok && want != r.off {
			t.Fatalf("key %s moved from offset %d to %d", r.key, want, r.off)
		}
	}
	if len(seen) != len(newest) {
		t.Fatalf("%d keys left, want %d", len(seen), len(newest))
	}
}

func newestOffsets(t *testing.T, l *Log) map[string]int64 {
	offs := map[string]int64{}
	for _, r := range readAll(t, l) {
		offs[r.key] = r.off
	}
	return offs
}

func TestCompactKeyMapSmallerThanKeys(t *testing.T) {
	cfg := compactConfig()
	cfg.SegmentBytes = 2048
	cfg.MinCleanableDirtyRatio = 0 // clean whenever anything is dirty
	l := openT(t, t.TempDir(), cfg)
	const keys = 400
	newest := fillVersions(t, l, keys, 3)
	// Everything in closed segments: roll so the last round is closed too.
	l.appendMu.Lock()
	l.roll(l.EndOffset())
	l.appendMu.Unlock()
	offsets := newestOffsets(t, l)

	// Room for about 45 keys: a tenth of them.
	c := &Cleaner{DedupeBufferBytes: 50 * slotBytes}
	st, err := l.Compact(time.UnixMilli(1e6), c)
	if err != nil {
		t.Fatal(err)
	}
	if st.Passes < keys/50 {
		t.Fatalf("%d passes with a map of ~45 keys for %d keys", st.Passes, keys)
	}
	if l.cleanedUpTo != l.active.base {
		t.Fatalf("cleaned up to %d, want the whole closed log (%d)", l.cleanedUpTo, l.active.base)
	}
	checkNewestOnly(t, l, newest, offsets)

	// A later round over some keys is cleaned against the rest correctly,
	// after a restart (the cleaner offset is checkpointed).
	for i := 0; i < keys; i += 3 {
		key, val := fmt.Sprintf("k%04d", i), fmt.Sprintf("late-k%04d", i)
		off := mustAppend(t, l, buildBatch(t, record.Header{ProducerID: -1, BaseTimestamp: 1}, []rec{{key: key, value: val}}, record.None))
		newest[key], offsets[key] = val, off
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = openT(t, l.dir, cfg)
	l.appendMu.Lock()
	l.roll(l.EndOffset())
	l.appendMu.Unlock()
	if _, err := l.Compact(time.UnixMilli(1e6), c); err != nil {
		t.Fatal(err)
	}
	checkNewestOnly(t, l, newest, offsets)
}

func TestCompactMergesSmallSegments(t *testing.T) {
	cfg := compactConfig()
	cfg.SegmentBytes = 1500
	dir := t.TempDir()
	l := openT(t, dir, cfg)
	// 20 keys rewritten many times: after cleaning, each segment keeps a
	// few records and neighbours can share one segment.
	newest := fillVersions(t, l, 20, 30)
	l.appendMu.Lock()
	l.roll(l.EndOffset())
	l.appendMu.Unlock()
	offsets := newestOffsets(t, l)
	before := len(segmentFiles(t, dir))
	if _, err := l.Compact(time.UnixMilli(1e6), nil); err != nil {
		t.Fatal(err)
	}
	after := segmentFiles(t, dir)
	if len(after) >= before/2 {
		t.Fatalf("%d segments before cleaning, %d after: small cleaned segments were not merged", before, len(after))
	}
	for _, p := range after {
		if sz := fileSize(t, p); sz > cfg.SegmentBytes {
			t.Fatalf("merged segment %s is %d bytes, over segment.bytes %d", filepath.Base(p), sz, cfg.SegmentBytes)
		}
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*"+mergeSuffix)); len(m) > 0 {
		t.Fatalf("merge left %v behind", m)
	}
	checkNewestOnly(t, l, newest, offsets)
	// Offsets are found through the merged segments' indexes.
	for key, off := range offsets {
		b, err := l.Read(off, 1, l.EndOffset())
		if err != nil || len(b) == 0 {
			t.Fatalf("read %s at %d: %v", key, off, err)
		}
	}
	// And survive a restart that trusts the files.
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = openT(t, dir, cfg)
	checkNewestOnly(t, l, newest, offsets)
}

// A crash at each step of a merge leaves a log that opens with every
// record: the old segments before the commit point, the merged one after.
func TestOpenResolvesInterruptedMerge(t *testing.T) {
	for _, step := range []string{"marker written", "committed"} {
		t.Run(step, func(t *testing.T) {
			cfg := compactConfig()
			cfg.SegmentBytes = 1500
			dir := t.TempDir()
			l := openT(t, dir, cfg)
			newest := fillVersions(t, l, 20, 30)
			l.appendMu.Lock()
			l.roll(l.EndOffset())
			l.appendMu.Unlock()
			offsets := newestOffsets(t, l)

			stop := errors.New("crash here")
			mergeStep = func(s string) error {
				if s == step {
					return stop
				}
				return nil
			}
			t.Cleanup(func() { mergeStep = func(string) error { return nil } })
			if _, err := l.Compact(time.UnixMilli(1e6), nil); !errors.Is(err, stop) {
				t.Fatalf("Compact: %v, want the injected crash", err)
			}
			l.crash()
			mergeStep = func(string) error { return nil }

			l = openT(t, dir, cfg)
			if m, _ := filepath.Glob(filepath.Join(dir, "*"+mergeSuffix)); len(m) > 0 {
				t.Fatalf("Open left %v", m)
			}
			if m, _ := filepath.Glob(filepath.Join(dir, "*"+cleanedSuffix)); len(m) > 0 {
				t.Fatalf("Open left %v", m)
			}
			got := map[string]string{}
			for _, r := range readAll(t, l) {
				got[r.key] = r.value // the last one read is the newest
			}
			for k, v := range newest {
				if got[k] != v {
					t.Fatalf("after the crash key %s reads %q, want %q", k, got[k], v)
				}
			}
			// Cleaning again finishes the job.
			if _, err := l.Compact(time.UnixMilli(1e6), nil); err != nil {
				t.Fatal(err)
			}
			checkNewestOnly(t, l, newest, offsets)
		})
	}
}

func TestCompactRemovesMarkersPastHorizon(t *testing.T) {
	cfg := compactConfig()
	l := openT(t, t.TempDir(), cfg)
	commitData := mustAppend(t, l, txnBatch(t, 7, []rec{{key: "a", value: "in-txn"}}))
	commit := mustAppend(t, l, controlBatch(t, 7, controlCommit))
	abortData := mustAppend(t, l, txnBatch(t, 8, []rec{{key: "b", value: "aborted"}}))
	abort := mustAppend(t, l, controlBatch(t, 8, controlAbort))
	// Later writes by both producers (so the transactional batches are not
	// their producers' last) and a newer "a" superseding the committed one.
	mustAppend(t, l, buildBatch(t, record.Header{ProducerID: 7, BaseTimestamp: 1}, []rec{{key: "a", value: "newer"}}, record.None))
	mustAppend(t, l, buildBatch(t, record.Header{ProducerID: 8, BaseTimestamp: 1}, []rec{{key: "c", value: "c"}}, record.None))
	keepTxn := mustAppend(t, l, txnBatch(t, 9, []rec{{key: "d", value: "kept"}}))
	keepMarker := mustAppend(t, l, controlBatch(t, 9, controlCommit))
	l.appendMu.Lock()
	l.roll(l.EndOffset())
	l.appendMu.Unlock()

	batchesAt := func() map[int64]record.Header {
		m := map[int64]record.Header{}
		l.ForEachBatch(0, func(h record.Header, _ []byte) error { m[h.BaseOffset] = h; return nil })
		return m
	}
	t0 := time.UnixMilli(1e6)
	if _, err := l.Compact(t0, nil); err != nil {
		t.Fatal(err)
	}
	b := batchesAt()
	if _, ok := b[commitData]; ok {
		t.Error("superseded transactional batch kept")
	}
	if _, ok := b[abortData]; ok {
		t.Error("aborted batch kept")
	}
	for _, off := range []int64{commit, abort} {
		h, ok := b[off]
		if !ok || !h.HasDeleteHorizon() || h.BaseTimestamp != t0.UnixMilli()+cfg.DeleteRetentionMs {
			t.Fatalf("marker at %d with no data left: %+v (present %v), want kept with a delete horizon", off, h, ok)
		}
	}
	if h := b[keepMarker]; h.HasDeleteHorizon() {
		t.Error("marker of a transaction whose data remains got a delete horizon")
	}
	// Before the horizon nothing more goes; after it, the two markers do.
	if _, err := l.Compact(t0.Add(500*time.Millisecond), nil); err != nil {
		t.Fatal(err)
	}
	if _, ok := batchesAt()[commit]; !ok {
		t.Fatal("marker removed before its horizon")
	}
	l.cleanedUpTo = 0 // make the pass run regardless of the dirty ratio
	if _, err := l.Compact(t0.Add(time.Duration(cfg.DeleteRetentionMs+1)*time.Millisecond), nil); err != nil {
		t.Fatal(err)
	}
	b = batchesAt()
	for _, off := range []int64{commit, abort} {
		if _, ok := b[off]; ok {
			t.Errorf("marker at %d kept past its delete horizon", off)
		}
	}
	if _, ok := b[keepTxn]; !ok {
		t.Error("committed data still newest was removed")
	}
	if _, ok := b[keepMarker]; !ok {
		t.Error("marker of a transaction with data left was removed")
	}
}

func TestIdleActiveSegmentRollsAndExpires(t *testing.T) {
	cfg := smallConfig()
	cfg.SegmentMs = 60_000
	cfg.RetentionMs = 3_600_000
	l := openT(t, t.TempDir(), cfg)
	now := time.Now()
	l.now = func() time.Time { return now }
	mustAppend(t, l, batchOf(t, 3, now.UnixMilli(), "idle", 10))
	if err := l.Tick(now.Add(30 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if len(l.segs) != 1 {
		t.Fatalf("rolled before segment.ms: %d segments", len(l.segs))
	}
	if err := l.Tick(now.Add(61 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if len(l.segs) != 2 || l.active.size != 0 {
		t.Fatalf("idle segment not rolled after segment.ms: %d segments, active size %d", len(l.segs), l.active.size)
	}

	// Retention reaches data in the active segment too: a log whose only
	// data sits in the active segment, all expired, is emptied.
	l2 := openT(t, t.TempDir(), cfg)
	old := now.Add(-2 * time.Hour).UnixMilli()
	mustAppend(t, l2, batchOf(t, 5, old, "old", 10))
	n, err := l2.EnforceRetention(now)
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 || l2.StartOffset() != 5 || l2.EndOffset() != 5 {
		t.Fatalf("deleted %d segments, log [%d, %d): the expired active segment should be rolled and deleted", n, l2.StartOffset(), l2.EndOffset())
	}
	if _, err := os.Stat(filepath.Join(l2.dir, segmentName(0)+logSuffix)); !os.IsNotExist(err) {
		t.Fatalf("expired segment file still there: %v", err)
	}
	// Fresh data in the active segment stays.
	mustAppend(t, l2, batchOf(t, 2, now.UnixMilli(), "fresh", 10))
	if n, _ := l2.EnforceRetention(now); n != 0 || l2.StartOffset() != 5 {
		t.Fatalf("fresh data deleted: %d segments, start %d", n, l2.StartOffset())
	}
}
