// Tests for appends, reads, reopening, recovery, retention, timestamps,
// flushing and config validation, all on real files in t.TempDir().

package log

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tributary-streams/tributary/broker/internal/record"
)

// appendMany appends n batches of 1..3 records and returns each batch's
// base offset.
func appendMany(t testing.TB, l *Log, n int, ts int64) []int64 {
	t.Helper()
	var bases []int64
	for i := range n {
		b := batchOf(t, 1+i%3, ts+int64(i), fmt.Sprintf("b%d", i), 40+i%50)
		bases = append(bases, mustAppend(t, l, b))
	}
	return bases
}

func TestAppendReadAcrossSegments(t *testing.T) {
	dir := t.TempDir()
	cfg := smallConfig()
	cfg.SegmentBytes = 300 // a couple of batches per segment
	l := openT(t, dir, cfg)

	bases := appendMany(t, l, 120, 1000)
	want := int64(0)
	for i, b := range bases {
		if b != want {
			t.Fatalf("batch %d got base %d, want %d", i, b, want)
		}
		want += int64(1 + i%3)
	}
	if l.EndOffset() != want {
		t.Fatalf("EndOffset %d, want %d", l.EndOffset(), want)
	}
	if l.NumSegments() < 30 {
		t.Fatalf("only %d segments with segment.bytes=300", l.NumSegments())
	}
	var total int64
	for _, f := range segmentFiles(t, dir) {
		sz := fileSize(t, f)
		total += sz
	}
	if total != l.Size() {
		t.Fatalf("Size %d, files hold %d", l.Size(), total)
	}

	all := readAll(t, l)
	if int64(len(all)) != want {
		t.Fatalf("read %d records, want %d", len(all), want)
	}
	for i, r := range all {
		if r.off != int64(i) {
			t.Fatalf("record %d has offset %d", i, r.off)
		}
	}

	// Read at every offset and with many budgets: the first batch holds the
	// offset, the result is whole batches, and never more than maxBytes
	// unless it is a single batch.
	for off := int64(0); off < want; off++ {
		for _, maxBytes := range []int32{1, 100, 250, 1000, 1 << 20} {
			b, err := l.Read(off, maxBytes, math.MaxInt64)
			if err != nil {
				t.Fatalf("Read(%d, %d): %v", off, maxBytes, err)
			}
			n := 0
			err = record.Split(b, func(batch []byte, h record.Header) error {
				if n == 0 && (h.BaseOffset > off || h.LastOffset() < off) {
					t.Fatalf("Read(%d) starts with batch [%d, %d]", off, h.BaseOffset, h.LastOffset())
				}
				n++
				return nil
			})
			if err != nil {
				t.Fatalf("Read(%d, %d) not whole batches: %v", off, maxBytes, err)
			}
			if n > 1 && len(b) > int(maxBytes) {
				t.Fatalf("Read(%d, %d) returned %d bytes in %d batches", off, maxBytes, len(b), n)
			}
			if maxBytes == 1<<20 {
				// Everything to the end, across segments.
				var last record.Header
				record.Split(b, func(_ []byte, h record.Header) error { last = h; return nil })
				if last.LastOffset() != want-1 {
					t.Fatalf("Read(%d, 1MiB) stopped at %d, end is %d", off, last.LastOffset(), want)
				}
			}
		}
	}
}

func TestReadKIP74OversizedFirstBatch(t *testing.T) {
	l := openT(t, t.TempDir(), DefaultConfig())
	big := batchOf(t, 1, 1, "big", 5000)
	mustAppend(t, l, big)
	mustAppend(t, l, batchOf(t, 1, 2, "small", 10))

	for _, maxBytes := range []int32{0, 1, 61, 100, 4000} {
		b, err := l.Read(0, maxBytes, math.MaxInt64)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) != len(big) {
			t.Fatalf("maxBytes %d: got %d bytes, want exactly the first batch (%d)", maxBytes, len(b), len(big))
		}
		if _, err := record.Validate(b); err != nil {
			t.Fatal(err)
		}
	}
	b, _ := l.Read(0, int32(len(big)+10), math.MaxInt64)
	if len(b) != len(big) {
		t.Fatalf("second batch should not fit: got %d bytes", len(b))
	}
}

func TestReadEndAndOutOfRange(t *testing.T) {
	l := openT(t, t.TempDir(), DefaultConfig())
	if b, err := l.Read(0, 1000, math.MaxInt64); b != nil || err != nil {
		t.Fatalf("empty log Read(0) = %v, %v", b, err)
	}
	appendMany(t, l, 5, 1)
	end := l.EndOffset()
	if b, err := l.Read(end, 1000, math.MaxInt64); b != nil || err != nil {
		t.Fatalf("Read(end) = %d bytes, %v; want nil, nil", len(b), err)
	}
	for _, off := range []int64{end + 1, -1, math.MaxInt64} {
		if _, err := l.Read(off, 1000, math.MaxInt64); !errors.Is(err, ErrOffsetOutOfRange) {
			t.Fatalf("Read(%d) = %v, want ErrOffsetOutOfRange", off, err)
		}
	}
	if _, err := l.DeleteRecords(3); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Read(2, 1000, math.MaxInt64); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("Read below start = %v", err)
	}
	if b, err := l.Read(3, 1000, math.MaxInt64); err != nil || len(b) == 0 {
		t.Fatalf("Read(start) = %v", err)
	}
}

func TestReadMaxOffset(t *testing.T) {
	cfg := smallConfig()
	l := openT(t, t.TempDir(), cfg)
	bases := appendMany(t, l, 60, 1)
	for i := 1; i < len(bases); i += 7 {
		hw := bases[i]
		b, err := l.Read(0, 1<<20, hw)
		if err != nil {
			t.Fatal(err)
		}
		var last record.Header
		record.Split(b, func(_ []byte, h record.Header) error {
			if h.BaseOffset >= hw {
				t.Fatalf("batch at %d returned with maxOffset %d", h.BaseOffset, hw)
			}
			last = h
			return nil
		})
		if last.LastOffset()+1 != hw {
			t.Fatalf("maxOffset %d: stopped after %d", hw, last.LastOffset())
		}
	}
	if b, err := l.Read(bases[5], 1<<20, bases[5]); b != nil || err != nil {
		t.Fatalf("Read at maxOffset = %v, %v", b, err)
	}
}

func TestAppendWithOffset(t *testing.T) {
	l := openT(t, t.TempDir(), smallConfig())
	b := batchOf(t, 3, 1, "a", 10)
	record.SetBaseOffset(b, 100)
	if err := l.AppendWithOffset(b); err != nil {
		t.Fatal(err)
	}
	if l.EndOffset() != 103 {
		t.Fatalf("EndOffset %d", l.EndOffset())
	}
	b2 := batchOf(t, 1, 1, "b", 10)
	record.SetBaseOffset(b2, 50)
	if err := l.AppendWithOffset(b2); !errors.Is(err, ErrOffsetNotIncreasing) {
		t.Fatalf("backwards AppendWithOffset = %v", err)
	}
	// Far beyond the 32-bit relative range of the segment: forces a roll.
	record.SetBaseOffset(b2, 100+math.MaxUint32+10)
	if err := l.AppendWithOffset(b2); err != nil {
		t.Fatal(err)
	}
	if off := mustAppend(t, l, batchOf(t, 1, 1, "c", 10)); off != 100+math.MaxUint32+11 {
		t.Fatalf("Append after gap got %d", off)
	}
	got := readAll(t, l)
	if len(got) != 5 || got[3].off != 100+math.MaxUint32+10 {
		t.Fatalf("read back %+v", got)
	}
}

func TestAppendRejectsBadFraming(t *testing.T) {
	l := openT(t, t.TempDir(), DefaultConfig())
	b := batchOf(t, 2, 1, "a", 10)
	if _, err := l.Append(b[:len(b)-1]); !errors.Is(err, record.ErrCorrupt) {
		t.Fatalf("truncated batch: %v", err)
	}
	if _, err := l.Append(b[:20]); !errors.Is(err, record.ErrCorrupt) {
		t.Fatalf("short batch: %v", err)
	}
	if l.EndOffset() != 0 || l.Size() != 0 {
		t.Fatal("rejected batch changed the log")
	}
}

func TestAppendRewritesOffsetAndEpoch(t *testing.T) {
	l := openT(t, t.TempDir(), DefaultConfig())
	mustAppend(t, l, batchOf(t, 2, 1, "a", 10))
	b := batchOf(t, 1, 1, "b", 10)
	record.SetBaseOffset(b, 999)
	record.SetLeaderEpoch(b, 77)
	if off := mustAppend(t, l, b); off != 2 {
		t.Fatalf("base %d", off)
	}
	h, err := record.Validate(b)
	if err != nil || h.BaseOffset != 2 || h.LeaderEpoch != 0 {
		t.Fatalf("caller's slice not rewritten: %+v %v", h, err)
	}
	got, _ := l.Read(2, 1000, math.MaxInt64)
	if string(got) != string(b) {
		t.Fatal("stored bytes differ from the rewritten wire bytes")
	}
}

func TestReopenAfterClose(t *testing.T) {
	dir := t.TempDir()
	cfg := smallConfig()
	l := openT(t, dir, cfg)
	appendMany(t, l, 80, 1)
	before := readAll(t, l)
	var idx [][]indexEntry
	for _, s := range l.segs {
		idx = append(idx, s.index)
	}
	end, size, n := l.EndOffset(), l.Size(), l.NumSegments()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); !errors.Is(err, ErrClosed) {
		t.Fatalf("second Close = %v", err)
	}
	if _, err := l.Append(batchOf(t, 1, 1, "x", 1)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append after Close = %v", err)
	}
	if _, err := l.Read(0, 100, math.MaxInt64); !errors.Is(err, ErrClosed) {
		t.Fatalf("Read after Close = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, cleanShutdownFile)); err != nil {
		t.Fatalf("no clean-shutdown marker: %v", err)
	}

	// Opening a clean log writes nothing: the marker stays until the
	// first change (see TestMarkerRemovedBeforeFirstChange).
	l2 := openT(t, dir, cfg)
	if _, err := os.Stat(filepath.Join(dir, cleanShutdownFile)); err != nil {
		t.Fatalf("marker removed by a read-only open: %v", err)
	}
	if l2.EndOffset() != end || l2.Size() != size || l2.NumSegments() != n {
		t.Fatalf("reopened: end %d size %d segs %d, want %d %d %d", l2.EndOffset(), l2.Size(), l2.NumSegments(), end, size, n)
	}
	for i, s := range l2.segs {
		if !reflect.DeepEqual(s.index, idx[i]) && !(len(s.index) == 0 && len(idx[i]) == 0) {
			t.Fatalf("segment %d index differs after reopen", i)
		}
	}
	if after := readAll(t, l2); !reflect.DeepEqual(before, after) {
		t.Fatal("data differs after reopen")
	}
	if off := mustAppend(t, l2, batchOf(t, 1, 1, "more", 10)); off != end {
		t.Fatalf("append after reopen got %d, want %d", off, end)
	}
}

// setupUnclean writes batches and abandons the log without Close. It
// returns the directory, config and every record written.
func setupUnclean(t *testing.T) (string, Config, []readRec) {
	dir := t.TempDir()
	cfg := smallConfig()
	l := openT(t, dir, cfg)
	appendMany(t, l, 60, 1)
	all := readAll(t, l)
	l.crash()
	return dir, cfg, all
}

func lastSegment(t *testing.T, dir string) string {
	files := segmentFiles(t, dir)
	return files[len(files)-1]
}

// batchStarts lists the batch positions in a segment file.
func batchStarts(t *testing.T, path string) []int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var pos []int64
	p := int64(0)
	if err := record.Split(b, func(batch []byte, _ record.Header) error {
		pos = append(pos, p)
		p += int64(len(batch))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return pos
}

func checkRecovered(t *testing.T, dir string, cfg Config, all []readRec, keep int) {
	t.Helper()
	l := openT(t, dir, cfg)
	wantEnd := all[keep-1].off + 1
	if l.EndOffset() != wantEnd {
		t.Fatalf("EndOffset after recovery %d, want %d", l.EndOffset(), wantEnd)
	}
	got := readAll(t, l)
	if !reflect.DeepEqual(got, all[:keep]) {
		t.Fatalf("recovered %d records, want the first %d", len(got), keep)
	}
	// Every offset is readable through the rebuilt index.
	for off := l.StartOffset(); off < l.EndOffset(); off++ {
		b, err := l.Read(off, 1, math.MaxInt64)
		if err != nil || len(b) == 0 {
			t.Fatalf("Read(%d) after recovery: %v", off, err)
		}
		h, _ := record.ParseHeader(b)
		if h.BaseOffset > off || h.LastOffset() < off {
			t.Fatalf("Read(%d) gave batch [%d, %d]", off, h.BaseOffset, h.LastOffset())
		}
	}
	off := mustAppend(t, l, batchOf(t, 2, 1, "after", 10))
	if off != wantEnd || l.EndOffset() != wantEnd+2 {
		t.Fatalf("append after recovery at %d (end %d), want %d", off, l.EndOffset(), wantEnd)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l2 := openT(t, dir, cfg)
	if l2.EndOffset() != wantEnd+2 {
		t.Fatalf("after clean reopen end %d", l2.EndOffset())
	}
}

// recordsBefore counts records in all whole segments before path plus the
// first n batches of path.
func recordsBefore(t *testing.T, dir, path string, nBatches int) int {
	count := 0
	for _, f := range segmentFiles(t, dir) {
		b, _ := os.ReadFile(f)
		i := 0
		record.Split(b, func(_ []byte, h record.Header) error {
			if f < path || (f == path && i < nBatches) {
				count += int(h.NumRecords)
			}
			i++
			return nil
		})
	}
	return count
}

func TestRecoveryTruncatedMidBatch(t *testing.T) {
	dir, cfg, all := setupUnclean(t)
	path := lastSegment(t, dir)
	starts := batchStarts(t, path)
	if len(starts) < 2 {
		t.Fatalf("last segment has %d batches", len(starts))
	}
	cut := starts[len(starts)-1] + 30 // inside the last batch
	keep := recordsBefore(t, dir, path, len(starts)-1)
	if err := os.Truncate(path, cut); err != nil {
		t.Fatal(err)
	}
	checkRecovered(t, dir, cfg, all, keep)
	if sz := fileSize(t, path); sz < starts[len(starts)-1] {
		t.Fatalf("segment cut below the last whole batch: %d", sz)
	}
}

func TestRecoveryCorruptByte(t *testing.T) {
	dir, cfg, all := setupUnclean(t)
	path := lastSegment(t, dir)
	starts := batchStarts(t, path)
	victim := len(starts) / 2
	b, _ := os.ReadFile(path)
	b[starts[victim]+record.HeaderSize+3] ^= 0x40 // inside the records: CRC catches it
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	keep := recordsBefore(t, dir, path, victim)
	checkRecovered(t, dir, cfg, all, keep)
	if sz := fileSize(t, path); sz != starts[victim] {
		t.Fatalf("segment truncated to %d, want %d", sz, starts[victim])
	}
}

func TestRecoveryCorruptEarlierSegmentWithoutCheckpoint(t *testing.T) {
	dir, cfg, all := setupUnclean(t)
	// Without a recovery point every segment is rescanned; corruption in
	// the middle of the log cuts it there and drops the later segments.
	os.Remove(filepath.Join(dir, recoveryPointFile))
	files := segmentFiles(t, dir)
	path := files[len(files)/2]
	starts := batchStarts(t, path)
	b, _ := os.ReadFile(path)
	b[starts[0]+16] = 1 // magic
	os.WriteFile(path, b, 0o644)
	keep := recordsBefore(t, dir, path, 0)
	checkRecovered(t, dir, cfg, all, keep)
	if n := len(segmentFiles(t, dir)); n != len(files)/2+1 {
		t.Fatalf("%d segment files after recovery, want %d", n, len(files)/2+1)
	}
}

func TestRecoveryGarbageTail(t *testing.T) {
	dir, cfg, all := setupUnclean(t)
	path := lastSegment(t, dir)
	f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	f.Write([]byte(strings.Repeat("\x00", 100)))
	f.Close()
	checkRecovered(t, dir, cfg, all, len(all))
}

func TestRecoveryRebuildsIndex(t *testing.T) {
	dir := t.TempDir()
	cfg := smallConfig()
	cfg.SegmentBytes = 1 << 20 // one segment, many index entries
	l := openT(t, dir, cfg)
	appendMany(t, l, 100, 1)
	wantIdx := append([]indexEntry(nil), l.segs[0].index...)
	wantT := append([]timeEntry(nil), l.segs[0].tindex...)
	l.crash()
	// Destroy the index files entirely.
	os.WriteFile(filepath.Join(dir, segmentName(0)+indexSuffix), []byte("junk"), 0o644)
	os.Remove(filepath.Join(dir, segmentName(0)+timeIndexSuffix))

	l2 := openT(t, dir, cfg)
	if len(wantIdx) < 10 || !reflect.DeepEqual(l2.segs[0].index, wantIdx) {
		t.Fatalf("rebuilt index differs: %d entries vs %d", len(l2.segs[0].index), len(wantIdx))
	}
	if !reflect.DeepEqual(l2.segs[0].tindex, wantT) {
		t.Fatalf("rebuilt time index differs: %v vs %v", l2.segs[0].tindex, wantT)
	}
	// The rebuilt index files are written before they are trusted: by
	// Close at the latest.
	defer func() {
		if err := l2.Close(); err != nil {
			t.Fatal(err)
		}
		ib, _ := os.ReadFile(filepath.Join(dir, segmentName(0)+indexSuffix))
		if len(ib) != len(wantIdx)*indexEntrySize {
			t.Fatalf("index file has %d bytes", len(ib))
		}
	}()
	for off := int64(0); off < l2.EndOffset(); off++ {
		b, err := l2.Read(off, 1, math.MaxInt64)
		if err != nil {
			t.Fatal(err)
		}
		h, _ := record.ParseHeader(b)
		if h.BaseOffset > off || h.LastOffset() < off {
			t.Fatalf("Read(%d) gave [%d, %d]", off, h.BaseOffset, h.LastOffset())
		}
	}
}

func TestCleanOpenRebuildsBadIndex(t *testing.T) {
	dir := t.TempDir()
	cfg := smallConfig()
	l := openT(t, dir, cfg)
	appendMany(t, l, 60, 1)
	all := readAll(t, l)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	// A clean marker, but an index with an impossible entry.
	os.WriteFile(filepath.Join(dir, segmentName(0)+indexSuffix), []byte{0, 0, 0, 1, 0xff, 0xff, 0xff, 0}, 0o644)
	l2 := openT(t, dir, cfg)
	if got := readAll(t, l2); !reflect.DeepEqual(got, all) {
		t.Fatal("data differs")
	}
}

func TestRetentionByTime(t *testing.T) {
	dir := t.TempDir()
	cfg := smallConfig()
	cfg.SegmentBytes = 400
	cfg.RetentionMs = 1000
	l := openT(t, dir, cfg)
	// Timestamps 0..59 seconds, one batch per second.
	for i := range 60 {
		mustAppend(t, l, batchOf(t, 1, int64(i)*1000, "t", 100))
	}
	nseg := l.NumSegments()
	if nseg < 10 {
		t.Fatalf("%d segments", nseg)
	}
	// now = 30.5s: segments whose newest record is older than 29.5s go.
	deleted, err := l.EnforceRetention(time.UnixMilli(30_500))
	if err != nil {
		t.Fatal(err)
	}
	if deleted == 0 || l.NumSegments() != nseg-deleted {
		t.Fatalf("deleted %d of %d segments, %d left", deleted, nseg, l.NumSegments())
	}
	start := l.StartOffset()
	if start != l.segs[0].base || start < 20 || start > 30 {
		t.Fatalf("start offset %d, first segment %d", start, l.segs[0].base)
	}
	got := readAll(t, l)
	if got[0].off != start || got[0].ts < 29_500-1000*3 {
		t.Fatalf("first record %+v", got[0])
	}
	// Far future: everything closed goes, the active segment stays.
	if _, err := l.EnforceRetention(time.UnixMilli(1e12)); err != nil {
		t.Fatal(err)
	}
	if l.NumSegments() != 1 || l.segs[0] != l.active {
		t.Fatalf("%d segments left", l.NumSegments())
	}
	if l.StartOffset() != l.active.base || len(segmentFiles(t, dir)) != 1 {
		t.Fatalf("start %d, active base %d, files %v", l.StartOffset(), l.active.base, segmentFiles(t, dir))
	}
	// Start offset is persisted.
	start = l.StartOffset()
	l.crash()
	l2 := openT(t, dir, cfg)
	if l2.StartOffset() != start {
		t.Fatalf("start offset after reopen %d, want %d", l2.StartOffset(), start)
	}
}

func TestRetentionBySize(t *testing.T) {
	dir := t.TempDir()
	cfg := smallConfig()
	cfg.SegmentBytes = 500
	cfg.RetentionMs = -1
	cfg.RetentionBytes = 1500
	l := openT(t, dir, cfg)
	for i := range 50 {
		mustAppend(t, l, batchOf(t, 1, int64(i), "s", 150))
	}
	if _, err := l.EnforceRetention(time.Now()); err != nil {
		t.Fatal(err)
	}
	var sizes []int64
	for _, s := range l.segs {
		sizes = append(sizes, s.size)
	}
	if l.Size() < cfg.RetentionBytes {
		t.Fatalf("size %d fell below retention.bytes %d", l.Size(), cfg.RetentionBytes)
	}
	if l.Size()-sizes[0] >= cfg.RetentionBytes {
		t.Fatalf("oldest segment (%d bytes) should have gone: size %d", sizes[0], l.Size())
	}
	readAll(t, l)

	// retention.bytes=0 still keeps the active segment.
	cfg.RetentionBytes = 0
	if err := l.SetConfig(cfg); err != nil {
		t.Fatal(err)
	}
	l.EnforceRetention(time.Now())
	if l.NumSegments() != 1 {
		t.Fatalf("%d segments", l.NumSegments())
	}
}

func TestRetentionSkippedForCompactPolicy(t *testing.T) {
	cfg := smallConfig()
	cfg.CleanupPolicy = "compact"
	cfg.RetentionMs = 1
	l := openT(t, t.TempDir(), cfg)
	appendMany(t, l, 40, 1)
	n := l.NumSegments()
	if d, err := l.EnforceRetention(time.Now()); d != 0 || err != nil || l.NumSegments() != n {
		t.Fatalf("retention ran under cleanup.policy=compact: %d, %v", d, err)
	}
}

func TestDeleteRecords(t *testing.T) {
	dir := t.TempDir()
	cfg := smallConfig()
	l := openT(t, dir, cfg)
	appendMany(t, l, 60, 1)
	end := l.EndOffset()
	if _, err := l.DeleteRecords(end + 1); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("DeleteRecords past end = %v", err)
	}
	nseg := l.NumSegments()
	mid := end / 2
	got, err := l.DeleteRecords(mid)
	if err != nil || got != mid || l.StartOffset() != mid {
		t.Fatalf("DeleteRecords(%d) = %d, %v", mid, got, err)
	}
	if l.NumSegments() >= nseg || l.segs[0].base > mid {
		t.Fatalf("segments: %d -> %d, first base %d", nseg, l.NumSegments(), l.segs[0].base)
	}
	if len(l.segs) > 1 && l.segs[1].base <= mid {
		t.Fatal("a segment wholly below the start offset survived")
	}
	// Going backwards is a no-op.
	if got, _ := l.DeleteRecords(1); got != mid {
		t.Fatalf("DeleteRecords backwards moved start to %d", got)
	}
	recs := readAll(t, l)
	if recs[0].off != mid {
		t.Fatalf("first readable offset %d", recs[0].off)
	}
	// Delete everything; the active segment stays and the log continues.
	if got, err := l.DeleteRecords(end); err != nil || got != end {
		t.Fatalf("DeleteRecords(end) = %d, %v", got, err)
	}
	if b, err := l.Read(end, 100, math.MaxInt64); b != nil || err != nil {
		t.Fatalf("Read(end) = %v %v", b, err)
	}
	l.crash()
	l2 := openT(t, dir, cfg)
	if l2.StartOffset() != end || l2.EndOffset() != end {
		t.Fatalf("after reopen start %d end %d, want %d", l2.StartOffset(), l2.EndOffset(), end)
	}
	if off := mustAppend(t, l2, batchOf(t, 1, 1, "x", 1)); off != end {
		t.Fatalf("append at %d", off)
	}
}

func TestStartOffsetPastEndAfterCrash(t *testing.T) {
	dir := t.TempDir()
	cfg := smallConfig()
	l := openT(t, dir, cfg)
	appendMany(t, l, 10, 1)
	l.DeleteRecords(l.EndOffset())
	start := l.StartOffset()
	l.crash()
	// The tail holding the start offset is lost.
	os.Truncate(lastSegment(t, dir), 0)
	l2 := openT(t, dir, cfg)
	if l2.StartOffset() != start || l2.EndOffset() != start {
		t.Fatalf("start %d end %d, want both %d", l2.StartOffset(), l2.EndOffset(), start)
	}
}

func TestOffsetForTimestampAndMaxTimestamp(t *testing.T) {
	cfg := smallConfig()
	l := openT(t, t.TempDir(), cfg)
	if off, ts := l.MaxTimestamp(); off != -1 || ts != -1 {
		t.Fatalf("empty MaxTimestamp = %d, %d", off, ts)
	}
	if _, _, ok := l.OffsetForTimestamp(0); ok {
		t.Fatal("empty log found a timestamp")
	}
	// Batch i (3 records) has base timestamp 1000*i, records at +0, +10, +20,
	// except batch 20 which jumps ahead to 1e6 and is the maximum.
	for i := range 40 {
		ts := int64(1000 * i)
		if i == 20 {
			ts = 1_000_000
		}
		recs := []rec{{key: "a", value: "x", tsDelta: 0}, {key: "b", value: "y", tsDelta: 20}, {key: "c", value: "z", tsDelta: 10}}
		mustAppend(t, l, buildBatch(t, record.Header{BaseTimestamp: ts, ProducerID: -1}, recs, record.Gzip))
	}
	cases := []struct {
		ts      int64
		off     int64
		foundTs int64
	}{
		{-5, 0, 0},
		{0, 0, 0},
		{1, 1, 20},
		{15, 1, 20},
		{20, 1, 20},
		{21, 3, 1000},
		{5005, 16, 5020}, // offset order, not timestamp order
		{19_020, 58, 19_020},
		{19_021, 60, 1_000_000}, // batch 20 holds the next timestamp >= ts
		{39_020, 60, 1_000_000},
		{1_000_000, 60, 1_000_000},
	}
	for _, tc := range cases {
		off, ts, ok := l.OffsetForTimestamp(tc.ts)
		if !ok || off != tc.off || ts != tc.foundTs {
			t.Errorf("OffsetForTimestamp(%d) = %d, %d, %v; want %d, %d", tc.ts, off, ts, ok, tc.off, tc.foundTs)
		}
	}
	if _, _, ok := l.OffsetForTimestamp(1_000_021); ok {
		t.Error("found a timestamp past the max")
	}
	if off, ts := l.MaxTimestamp(); off != 61 || ts != 1_000_020 {
		t.Errorf("MaxTimestamp = %d, %d; want 61, 1000020", off, ts)
	}
	// Below the start offset nothing is found.
	l.DeleteRecords(30)
	if off, _, ok := l.OffsetForTimestamp(0); !ok || off != 30 {
		t.Errorf("after DeleteRecords(30): OffsetForTimestamp(0) = %d, %v", off, ok)
	}
	// Log-append-time batches: every record has MaxTimestamp.
	b := batchOf(t, 3, 5, "lat", 10)
	record.SetLogAppendTime(b, 2_000_000)
	base := mustAppend(t, l, b)
	if off, ts, ok := l.OffsetForTimestamp(1_500_000); !ok || off != base || ts != 2_000_000 {
		t.Errorf("log-append-time lookup = %d, %d, %v", off, ts, ok)
	}
	if off, ts := l.MaxTimestamp(); off != base || ts != 2_000_000 {
		t.Errorf("MaxTimestamp = %d, %d", off, ts)
	}
	// Survives reopen (time index reloaded, not rebuilt).
	dir := l.dir
	l.Close()
	l2 := openT(t, dir, cfg)
	if off, ts := l2.MaxTimestamp(); off != base || ts != 2_000_000 {
		t.Errorf("MaxTimestamp after reopen = %d, %d", off, ts)
	}
	if off, ts, ok := l2.OffsetForTimestamp(5005); !ok || off != 30 || ts != 10_000 {
		t.Errorf("after reopen OffsetForTimestamp(5005) = %d, %d, %v", off, ts, ok)
	}
}

func TestFlushPolicies(t *testing.T) {
	t.Run("fsync always", func(t *testing.T) {
		cfg := smallConfig()
		cfg.FsyncAlways = true
		l := openT(t, t.TempDir(), cfg)
		appendMany(t, l, 20, 1)
		if l.unflushed != 0 {
			t.Fatalf("%d unflushed messages with FsyncAlways", l.unflushed)
		}
		l.syncMu.Lock()
		rp := l.recoveryPoint
		l.syncMu.Unlock()
		if rp != l.EndOffset() {
			t.Fatalf("recovery point %d, end %d", rp, l.EndOffset())
		}
	})
	t.Run("flush.messages", func(t *testing.T) {
		cfg := DefaultConfig()
		cfg.FlushMessages = 5
		l := openT(t, t.TempDir(), cfg)
		for range 4 {
			mustAppend(t, l, batchOf(t, 1, 1, "a", 1))
		}
		if l.unflushed != 4 {
			t.Fatalf("unflushed %d", l.unflushed)
		}
		mustAppend(t, l, batchOf(t, 1, 1, "a", 1))
		if l.unflushed != 0 {
			t.Fatalf("not flushed after 5 messages: %d", l.unflushed)
		}
	})
	t.Run("flush.ms via Tick and append", func(t *testing.T) {
		cfg := DefaultConfig()
		cfg.FlushMs = 1000
		l := openT(t, t.TempDir(), cfg)
		clock := time.UnixMilli(1_000_000)
		l.now = func() time.Time { return clock }
		l.lastFlush = clock
		mustAppend(t, l, batchOf(t, 1, 1, "a", 1))
		if err := l.Tick(clock.Add(500 * time.Millisecond)); err != nil || l.unflushed != 1 {
			t.Fatalf("flushed too early: %v %d", err, l.unflushed)
		}
		if err := l.Tick(clock.Add(1500 * time.Millisecond)); err != nil || l.unflushed != 0 {
			t.Fatalf("Tick did not flush: %v %d", err, l.unflushed)
		}
		if v, ok, _ := readCheckpoint(l.dir, recoveryPointFile); !ok || v != 1 {
			t.Fatalf("recovery point checkpoint %d %v", v, ok)
		}
		clock = clock.Add(3 * time.Second)
		mustAppend(t, l, batchOf(t, 1, 1, "a", 1))
		if l.unflushed != 0 {
			t.Fatal("append past flush.ms did not flush")
		}
		if err := l.Flush(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestSegmentMsRoll(t *testing.T) {
	cfg := DefaultConfig()
	cfg.SegmentMs = 1000
	l := openT(t, t.TempDir(), cfg)
	clock := time.UnixMilli(5_000)
	l.now = func() time.Time { return clock }
	mustAppend(t, l, batchOf(t, 1, 1, "a", 1))
	clock = clock.Add(900 * time.Millisecond)
	mustAppend(t, l, batchOf(t, 1, 1, "a", 1))
	if l.NumSegments() != 1 {
		t.Fatal("rolled before segment.ms")
	}
	clock = clock.Add(200 * time.Millisecond)
	mustAppend(t, l, batchOf(t, 1, 1, "a", 1))
	if l.NumSegments() != 2 || l.active.base != 2 {
		t.Fatalf("no roll after segment.ms: %d segments", l.NumSegments())
	}
}

func TestRollSyncAdvancesRecoveryPoint(t *testing.T) {
	dir := t.TempDir()
	l := openT(t, dir, smallConfig())
	appendMany(t, l, 60, 1)
	l.bg.Wait()
	v, ok, err := readCheckpoint(dir, recoveryPointFile)
	if err != nil || !ok || v != l.active.base {
		t.Fatalf("recovery point %d %v %v, want active base %d", v, ok, err, l.active.base)
	}
	for _, s := range l.segs[:len(l.segs)-1] {
		if !s.synced.Load() {
			t.Fatalf("segment %d not synced/closed", s.base)
		}
	}
}

func TestDeleteRemovesDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "topic-0")
	l, err := Open(dir, DefaultConfig(), Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	appendMany(t, l, 3, 1)
	if err := l.Delete(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("dir still there: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	c := Config{
		SegmentBytes: 5, SegmentMs: 0, RetentionMs: -2, RetentionBytes: -5, IndexIntervalBytes: -1,
		FlushMessages: 0, FlushMs: -1, CleanupPolicy: "compact,shred", DeleteRetentionMs: -1,
		MinCompactionLagMs: -1, MinCleanableDirtyRatio: 1.5,
	}
	err := c.Validate()
	if err == nil {
		t.Fatal("bad config accepted")
	}
	for _, key := range []string{"segment.bytes=5", "segment.ms=0", "retention.ms=-2", "retention.bytes=-5",
		"index.interval.bytes=-1", "flush.messages=0", "flush.ms=-1", `cleanup.policy="compact,shred"`,
		"delete.retention.ms=-1", "min.compaction.lag.ms=-1", "min.cleanable.dirty.ratio=1.5"} {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("error does not name %s:\n%v", key, err)
		}
	}
	for _, p := range []string{"delete", "compact", "compact,delete", "delete, compact"} {
		c := DefaultConfig()
		c.CleanupPolicy = p
		if err := c.Validate(); err != nil {
			t.Errorf("policy %q rejected: %v", p, err)
		}
	}
	if _, err := Open(t.TempDir(), c, Options{}); err == nil {
		t.Fatal("Open accepted a bad config")
	}
	l := openT(t, t.TempDir(), DefaultConfig())
	if err := l.SetConfig(c); err == nil {
		t.Fatal("SetConfig accepted a bad config")
	}
	good := DefaultConfig()
	good.RetentionMs = 5
	if err := l.SetConfig(good); err != nil || l.Config().RetentionMs != 5 {
		t.Fatalf("SetConfig: %v", err)
	}
}

func TestForEachBatch(t *testing.T) {
	l := openT(t, t.TempDir(), smallConfig())
	bases := appendMany(t, l, 50, 1)
	var got []int64
	err := l.ForEachBatch(bases[10]+1, func(h record.Header, b []byte) error {
		if _, err := record.Validate(b); err != nil {
			return err
		}
		got = append(got, h.BaseOffset)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := bases[10:]
	if bases[10]+1 > bases[11]-1 { // offset +1 is already in batch 11
		want = bases[11:]
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ForEachBatch visited %v, want %v", got, want)
	}
	stop := errors.New("stop")
	if err := l.ForEachBatch(0, func(record.Header, []byte) error { return stop }); err != stop {
		t.Fatalf("callback error = %v", err)
	}
}

// After a full recovery scan and a clean reopen, every closed segment still
// knows its largest timestamp (retention and timestamp lookups need it).
func TestRecoveredSegmentsKeepMaxTimestamp(t *testing.T) {
	dir := t.TempDir()
	cfg := smallConfig()
	cfg.IndexIntervalBytes = 100000 // no index entries: only final time entries
	l := openT(t, dir, cfg)
	for i := range 40 {
		mustAppend(t, l, batchOf(t, 1, int64(i)*100, "ts", 100))
	}
	want := map[int64]int64{}
	for _, s := range l.segs {
		want[s.base] = s.maxTs
	}
	l.crash()
	os.Remove(filepath.Join(dir, recoveryPointFile))
	l2 := openT(t, dir, cfg)
	if err := l2.Close(); err != nil {
		t.Fatal(err)
	}
	l3 := openT(t, dir, cfg)
	if len(l3.segs) < 5 {
		t.Fatalf("%d segments", len(l3.segs))
	}
	for _, s := range l3.segs {
		if s.maxTs != want[s.base] {
			t.Errorf("segment %d max timestamp %d, want %d", s.base, s.maxTs, want[s.base])
		}
	}
}

func TestOpenRemovesOrphanIndexFiles(t *testing.T) {
	dir := t.TempDir()
	orphan := filepath.Join(dir, segmentName(500)+indexSuffix)
	os.WriteFile(orphan, []byte("12345678"), 0o644)
	os.WriteFile(filepath.Join(dir, "unrelated.txt"), []byte("keep"), 0o644)
	l := openT(t, dir, DefaultConfig())
	if _, err := os.Stat(orphan); !os.IsNotExist(err) {
		t.Fatalf("orphan index kept: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "unrelated.txt")); err != nil {
		t.Fatal("unrelated file removed")
	}
	if l.EndOffset() != 0 || l.NumSegments() != 1 {
		t.Fatalf("end %d segs %d", l.EndOffset(), l.NumSegments())
	}
}

// A clean reopen leaves the clean-shutdown marker in place; the first
// change removes it before touching anything, and a Close with no change
// writes nothing.
func TestMarkerRemovedBeforeFirstChange(t *testing.T) {
	dir := t.TempDir()
	cfg := smallConfig()
	l := openT(t, dir, cfg)
	appendMany(t, l, 30, 1)
	end := l.EndOffset()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(dir, cleanShutdownFile)
	mtimes := func() map[string]time.Time {
		out := map[string]time.Time{}
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			if fi, err := e.Info(); err == nil {
				out[e.Name()] = fi.ModTime()
			}
		}
		return out
	}
	before := mtimes()
	l2 := openT(t, dir, cfg)
	readAll(t, l2)
	if err := l2.Close(); err != nil {
		t.Fatal(err)
	}
	if after := mtimes(); !reflect.DeepEqual(before, after) {
		t.Fatalf("an idle open and close changed files:\nbefore %v\nafter  %v", before, after)
	}
	l3 := openT(t, dir, cfg)
	mustAppend(t, l3, batchOf(t, 1, 1, "x", 1))
	if _, err := os.Stat(marker); !os.IsNotExist(err) {
		t.Fatalf("marker still there after an append: %v", err)
	}
	l3.crash()
	l4 := openT(t, dir, cfg)
	if got := l4.EndOffset(); got != end+1 {
		t.Fatalf("end offset %d after crash, want %d", got, end+1)
	}
}
