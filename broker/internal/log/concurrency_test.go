// Concurrency test: one appender, several readers, retention, DeleteRecords
// and compaction running at once. Meant for -race; it also checks every
// byte a reader gets is a valid batch covering the requested offset.

package log

import (
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

// TestReadDuringSegmentDeletion holds a view while retention deletes the
// segment: the reader still gets the bytes through the open descriptor.
func TestReadDuringSegmentDeletion(t *testing.T) {
	cfg := smallConfig()
	cfg.RetentionBytes = 0
	l := openT(t, t.TempDir(), cfg)
	appendMany(t, l, 40, 1)
	l.mu.RLock()
	v := l.viewAtLocked(0)
	l.mu.RUnlock()
	if _, err := l.EnforceRetention(time.Now()); err != nil {
		t.Fatal(err)
	}
	if l.StartOffset() == 0 {
		t.Fatal("retention deleted nothing")
	}
	var out []byte
	if _, _, err := v.collect(&out, 0, 0, 1<<20, math.MaxInt64, math.MaxInt64); err != nil {
		t.Fatalf("read from deleted segment: %v", err)
	}
	v.release()
	if err := record.Split(out, func([]byte, record.Header) error { return nil }); err != nil || len(out) == 0 {
		t.Fatalf("bytes from deleted segment: %d, %v", len(out), err)
	}
}
