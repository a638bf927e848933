// FuzzRecover: arbitrary bytes as a segment (and index) file. Open must not
// panic; after an unclean open every batch it serves must validate.
//
//	go test ./broker/log -run='^$' -fuzz=FuzzRecover -fuzztime=1m -fuzzminimizetime=5s

package log

import (
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/tributary-streams/tributary/broker/internal/record"
)

func FuzzRecover(f *testing.F) {
	// Durability is not under test here; fsyncs would cut the exec rate
	// by two orders of magnitude.
	saved := fsync
	fsync = func(*os.File) error { return nil }
	f.Cleanup(func() { fsync = saved })
	var good []byte
	for i := range 6 {
		b := batchOf(f, 1+i%3, int64(i*10), "seed", 30)
		record.SetBaseOffset(b, int64(i*3))
		good = append(good, b...)
	}
	cz, _ := record.Build(record.Header{ProducerID: -1, BaseOffset: 20}, []record.Record{{Key: []byte("k"), Value: []byte("v")}}, record.Zstd)
	f.Add(good, []byte{}, false, false)
	f.Add(good[:len(good)-7], []byte{}, false, true)
	f.Add(append(append([]byte{}, good...), cz...), []byte{0, 0, 0, 3, 0, 0, 0, 100}, false, true)
	f.Add(good, []byte{0, 0, 0, 3, 0, 0, 0, 100}, true, false)
	f.Add(good, []byte{0, 0, 0, 3, 0xff, 0, 0, 100}, true, false)
	f.Add([]byte{}, []byte{}, true, false)
	f.Add([]byte("not a log at all"), []byte{}, false, false)

	f.Fuzz(func(t *testing.T, logData, indexData []byte, clean, fixCRCs bool) {
		if fixCRCs {
			// Let mutations of offsets and framing get past the CRC check.
			for pos := 0; pos+record.HeaderSize <= len(logData); {
				size := 12 + int(int32(binary.BigEndian.Uint32(logData[pos+8:])))
				if size < record.HeaderSize || pos+size > len(logData) {
					break
				}
				b := logData[pos : pos+size]
				b[16] = 2
				binary.BigEndian.PutUint32(b[17:], record.ComputeCRC(b))
				pos += size
			}
		}
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
		l, err := Open(dir, cfg, Options{Logger: testLogger(t)})
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
		l2, err := Open(dir, cfg, Options{Logger: testLogger(t)})
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		defer l2.crash()
		if l2.EndOffset() != end+2 {
			t.Fatalf("reopen end %d, want %d", l2.EndOffset(), end+2)
		}
	})
}
