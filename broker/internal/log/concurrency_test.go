// Concurrency test: one appender, several readers, retention, DeleteRecords
// and compaction running at once. Meant for -race; it also checks every
// byte a reader gets is a valid batch covering the requested offset.

package log

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tributary-streams/tributary/broker/internal/record"
)

func TestConcurrentAppendReadRetentionCompaction(t *testing.T) {
	cfg := smallConfig()
	cfg.SegmentBytes = 2000
	cfg.CleanupPolicy = "compact,delete"
	cfg.RetentionBytes = 20_000
	cfg.RetentionMs = -1
	cfg.MinCleanableDirtyRatio = 0.1
	l := openT(t, t.TempDir(), cfg)

	const batches = 500
	var done atomic.Bool
	var wg sync.WaitGroup
	errc := make(chan error, 16)
	fail := func(err error) {
		select {
		case errc <- err:
		default:
		}
	}

	wg.Add(1)
	go func() { // appender
		defer wg.Done()
		defer done.Store(true)
		for i := range batches {
			recs := []rec{{key: fmt.Sprintf("k%d", i%50), value: fmt.Sprintf("value-%d", i), tsDelta: 0}}
			b := buildBatch(t, record.Header{BaseTimestamp: int64(i), ProducerID: -1}, recs, record.Codec(i%5))
			want := l.EndOffset()
			got, err := l.Append(b)
			if err != nil || got != want {
				fail(fmt.Errorf("append %d: got %d want %d: %v", i, got, want, err))
				return
			}
		}
	}()

	for r := range 4 {
		wg.Add(1)
		go func() { // readers
			defer wg.Done()
			rng := rand.New(rand.NewSource(int64(r)))
			for !done.Load() {
				// Leave CPU for the appender on small CI machines.
				time.Sleep(50 * time.Microsecond)
				start, end := l.StartOffset(), l.EndOffset()
				if end <= start {
					continue
				}
				off := start + rng.Int63n(end-start)
				b, err := l.Read(off, int32(rng.Intn(5000)), math.MaxInt64)
				if errors.Is(err, ErrOffsetOutOfRange) && off < l.StartOffset() {
					continue // retention moved past us
				}
				if err != nil {
					fail(fmt.Errorf("Read(%d): %v", off, err))
					return
				}
				first := true
				if err := record.Split(b, func(batch []byte, h record.Header) error {
					if first && h.LastOffset() < off {
						return fmt.Errorf("first batch ends at %d before %d", h.LastOffset(), off)
					}
					first = false
					_, err := record.Records(batch)
					return err
				}); err != nil {
					fail(fmt.Errorf("Read(%d): %v", off, err))
					return
				}
				l.OffsetForTimestamp(int64(rng.Intn(batches)))
				l.MaxTimestamp()
			}
		}()
	}

	wg.Add(1)
	go func() { // maintenance
		defer wg.Done()
		for !done.Load() {
			time.Sleep(time.Millisecond)
			if _, err := l.EnforceRetention(time.Now()); err != nil {
				fail(err)
				return
			}
			if _, err := l.Compact(time.Now(), nil); err != nil {
				fail(err)
				return
			}
			if end := l.EndOffset(); end > 100 {
				if _, err := l.DeleteRecords(end - 100 - int64(end%37)); err != nil && !errors.Is(err, ErrOffsetOutOfRange) {
					fail(err)
					return
				}
			}
			if err := l.Tick(time.Now()); err != nil {
				fail(err)
				return
			}
			l.ForEachBatch(l.StartOffset(), func(h record.Header, b []byte) error { return nil })
		}
	}()

	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	if l.EndOffset() != batches {
		t.Fatalf("end offset %d", l.EndOffset())
	}
	readAll(t, l)
}

// TestReadDuringSegmentDeletion holds sections (what a fetch sends from)
// while retention deletes their segments: the reader still gets the bytes
// through the open descriptors, and they are the bytes read before.
func TestReadDuringSegmentDeletion(t *testing.T) {
	// Also with a descriptor cache smaller than the sections held, so
	// that it closes idle descriptors and reopens them.
	for _, open := range []int{0, 2} {
		t.Run(fmt.Sprintf("open segment files %d", open), func(t *testing.T) { readDuringSegmentDeletion(t, open) })
	}
}

func readDuringSegmentDeletion(t *testing.T, openSegmentFiles int) {
	cfg := smallConfig()
	cfg.RetentionBytes = 0
	files := NewFiles(openSegmentFiles)
	l, err := Open(t.TempDir(), cfg, Options{Logger: testLogger(t), Files: files})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.crash() })
	appendMany(t, l, 40, 1)
	want, secs := readAndHold(t, l)
	if len(secs) < 2*openSegmentFiles || len(secs) < 2 {
		t.Fatalf("%d sections; want the read to span more segments than descriptors may be open", len(secs))
	}
	if _, err := l.EnforceRetention(time.Now()); err != nil {
		t.Fatal(err)
	}
	if l.StartOffset() == 0 {
		t.Fatal("retention deleted nothing")
	}
	out := readSections(t, secs)
	if !bytes.Equal(out, want) {
		t.Fatalf("sections read after deletion: %d bytes, differ from the %d read before", len(out), len(want))
	}
	if err := record.Split(out, func([]byte, record.Header) error { return nil }); err != nil {
		t.Fatalf("bytes from deleted segment: %v", err)
	}
}

// TestSectionsSurviveCompactionSwap holds sections while compaction
// replaces and merges their segments (renames over the .log files): the
// sections still read the bytes they named, from the old inodes.
func TestSectionsSurviveCompactionSwap(t *testing.T) {
	cfg := compactConfig()
	l := openT(t, t.TempDir(), cfg)
	for i := range 60 {
		mustAppend(t, l, buildBatch(t, record.Header{BaseTimestamp: int64(i), ProducerID: -1},
			[]rec{{key: fmt.Sprintf("key%d", i%5), value: fmt.Sprintf("val-%d", i)}}, record.None))
	}
	want, secs := readAndHold(t, l)
	st, err := l.Compact(time.UnixMilli(1e6), nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.SegmentsCleaned == 0 {
		t.Fatal("compaction cleaned nothing")
	}
	if now, _ := l.Read(0, 1<<20, math.MaxInt64); bytes.Equal(now, want) {
		t.Fatal("the log reads the same after compaction; nothing was swapped")
	}
	got := readSections(t, secs)
	if !bytes.Equal(got, want) {
		t.Fatalf("sections read after the swap: %d bytes, differ from the %d read before", len(got), len(want))
	}
}

// readAndHold reads the whole log into memory, and again as sections that
// the test holds until it ends.
func readAndHold(t *testing.T, l *Log) ([]byte, []Section) {
	t.Helper()
	want, err := l.Read(0, 1<<20, math.MaxInt64)
	if err != nil {
		t.Fatal(err)
	}
	secs, err := l.ReadSections(nil, 0, 1<<20, math.MaxInt64)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ReleaseAll(secs) })
	return want, secs
}

// readSections reads secs into memory, one after the other.
func readSections(t *testing.T, secs []Section) []byte {
	t.Helper()
	var out []byte
	for i := range secs {
		var err error
		if out, err = secs[i].AppendTo(out); err != nil {
			t.Fatalf("read section %d of %d: %v", i, len(secs), err)
		}
	}
	return out
}
