// Benchmarks for the hot paths: appending ~1 KB records and fetching.
//
//	go test ./broker/log -run='^$' -bench=. -benchmem

package log

import (
	"fmt"
	"math"
	"math/rand"
	"sync"
	"testing"

	"github.com/tributary-streams/tributary/broker/internal/record"
)

func oneKBBatch(b *testing.B) []byte {
	return batchOf(b, 1, 1_700_000_000_000, "bench", 1000)
}

// BenchmarkAppend1KB appends single-record batches of a 1 KB value to one
// partition with the default (OS-buffered) flush policy.
func BenchmarkAppend1KB(b *testing.B) {
	l := openT(b, b.TempDir(), DefaultConfig())
	batch := oneKBBatch(b)
	b.SetBytes(int64(len(batch)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := l.Append(batch); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppend1KB6Partitions appends to six logs from six goroutines, the
// shape of the broker benchmark against kfake.
func BenchmarkAppend1KB6Partitions(b *testing.B) {
	logs := make([]*Log, 6)
	for i := range logs {
		logs[i] = openT(b, b.TempDir(), DefaultConfig())
	}
	batch := oneKBBatch(b)
	b.SetBytes(int64(len(batch)))
	b.ReportAllocs()
	var wg sync.WaitGroup
	per := b.N/len(logs) + 1
	b.ResetTimer()
	for i, l := range logs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			own := append([]byte(nil), batch...)
			for range per {
				if _, err := l.Append(own); err != nil {
					panic(fmt.Sprint("partition ", i, ": ", err))
				}
			}
		}()
	}
	wg.Wait()
}

// BenchmarkAppend1KBFsync measures --fsync=always.
func BenchmarkAppend1KBFsync(b *testing.B) {
	cfg := DefaultConfig()
	cfg.FsyncAlways = true
	l := openT(b, b.TempDir(), cfg)
	batch := oneKBBatch(b)
	b.SetBytes(int64(len(batch)))
	for b.Loop() {
		if _, err := l.Append(batch); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRead fetches up to 1 MiB from random offsets of a 64 MiB log
// (8 MiB segments), as consumers catching up do.
func BenchmarkRead(b *testing.B) {
	cfg := DefaultConfig()
	cfg.SegmentBytes = 8 << 20
	l := openT(b, b.TempDir(), cfg)
	batch := oneKBBatch(b)
	for l.Size() < 64<<20 {
		if _, err := l.Append(batch); err != nil {
			b.Fatal(err)
		}
	}
	end := l.EndOffset()
	rng := rand.New(rand.NewSource(1))
	var n int64
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out, err := l.Read(rng.Int63n(end), 1<<20, math.MaxInt64)
		if err != nil {
			b.Fatal(err)
		}
		n += int64(len(out))
	}
	b.SetBytes(n / int64(b.N))
}

// BenchmarkReadTail reads the newest batch, as caught-up consumers do.
func BenchmarkReadTail(b *testing.B) {
	l := openT(b, b.TempDir(), DefaultConfig())
	batch := oneKBBatch(b)
	for range 10000 {
		l.Append(batch)
	}
	end := l.EndOffset()
	b.SetBytes(int64(len(batch)))
	b.ReportAllocs()
	for b.Loop() {
		out, err := l.Read(end-1, 1<<20, math.MaxInt64)
		if err != nil || len(out) != len(batch) {
			b.Fatal(err, len(out))
		}
	}
	_ = record.HeaderSize
}
