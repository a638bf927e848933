package record

import (
	"fmt"
	"testing"
)

// BenchmarkValidateProduce is the produce path's check of one producer-sized
// (about 1 MB) uncompressed batch: framing, CRC-32C and the record walk.
func BenchmarkValidateProduce(b *testing.B) {
	for _, size := range []int{100, 1024} {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			n := (1 << 20) / (size + 10)
			recs := make([]Record, n)
			value := make([]byte, size)
			for i := range recs {
				recs[i] = Record{OffsetDelta: int32(i), TimestampDelta: int64(i % 7), Value: value}
			}
			batch, err := Build(Header{Magic: 2, ProducerID: 1, BaseSequence: 0, NumRecords: int32(n), LastOffsetDelta: int32(n - 1)}, recs, None)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(batch)))
			for b.Loop() {
				if _, err := ValidateProduce(batch); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
