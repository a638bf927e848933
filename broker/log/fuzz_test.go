// FuzzRecover: arbitrary bytes as a segment (and index) file. Open must not
// panic; after an unclean open every batch it serves must validate.
//
//	go test ./broker/log -run='^$' -fuzz=FuzzRecover -fuzztime=1m -fuzzminimizetime=5s

package log

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/tributary-streams/tributary/broker/record"
)

func FuzzRecover(f *testing.F) {
	var good []byte
	for i := range 6 {
		b := batchOf(f, 1+i%3, int64(i*10), "seed", 30)
		record.SetBaseOffset(b, int64(i*3))
		good = append(good, b...)
	}
	cz, _ := record.Build(record.Header{ProducerID: -1, BaseOffset: 20}, []record.Record{{Key: []byte("k"), Value: []byte("v")}}, record.Zstd)
	f.Add(good, []byte{}, false)
	f.Add(good[:len(good)-7], []byte{}, false)
	f.Add(append(append([]byte{}, good...), cz...), []byte{0, 0, 0, 3, 0, 0, 0, 100}, false)
	f.Add(good, []byte{0, 0, 0, 3, 0, 0, 0, 100}, true)
	f.Add(good, []byte{0, 0, 0, 3, 0xff, 0, 0, 100}, true)
	f.Add([]byte{}, []byte{}, true)
	f.Add([]byte("not a log at all"), []byte{}, false)

	f.Fuzz(func(t *testing.T, logData, indexData []byte, clean bool) {
		dir := t.TempDir()
		base := filepath.Join(dir, segmentName(0))
		if err := os.WriteFile(base+logSuffix, logData, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(base+indexSuffix, indexData, 0o644); err != nil {
			t.Fatal(err)
		}
		if clean {
			// A clean marker vouches for the files; Open trusts them, so
			// only robustness (no panic) is checked for what it serves.
			if err := os.WriteFile(filepath.Join(dir, cleanShutdownFile), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		cfg := DefaultConfig()
		cfg.IndexIntervalBytes = 0
		l, err := Open(dir, cfg, testLogger(t))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		defer l.crash()

		off := l.StartOffset()
		for off < l.EndOffset() {
			b, err := l.Read(off, 1<<16, math.MaxInt64)
			if err != nil || len(b) == 0 {
				if clean {
					break
				}
				t.Fatalf("Read(%d) of [%d, %d): %d bytes, %v", off, l.StartOffset(), l.EndOffset(), len(b), err)
			}
			next, first := off, true
			err = record.Split(b, func(_ []byte, h record.Header) error {
				if h.LastOffset() < off || (!first && h.BaseOffset < next) {
					return errors.New("offsets out of order")
				}
				first = false
				next = h.LastOffset() + 1
				return nil
			})
			if err != nil {
				if clean {
					break
				}
				t.Fatalf("Read(%d) served bad bytes: %v", off, err)
			}
			off = next
		}
		l.OffsetForTimestamp(0)
		l.MaxTimestamp()

		end := l.EndOffset()
		got, err := l.Append(batchOf(t, 2, 1, "after", 5))
		if err != nil || got != end {
			t.Fatalf("Append after recovery = %d, %v; want %d", got, err, end)
		}
		if err := l.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		l2, err := Open(dir, cfg, testLogger(t))
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		defer l2.crash()
		if l2.EndOffset() != end+2 {
			t.Fatalf("reopen end %d, want %d", l2.EndOffset(), end+2)
		}
	})
}
