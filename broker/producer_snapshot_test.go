package broker

import (
	"reflect"
	"testing"
)

func TestProducerSnapshotRoundTrip(t *testing.T) {
	s := newProducerState()
	s.producers[7] = &producerEntry{epoch: 3, txnFirstOffset: 40, lastTimestamp: 1700,
		batches: []cachedBatch{{0, 4, 10}, {5, 9, 15}}}
	s.producers[9] = &producerEntry{epoch: 0, txnFirstOffset: -1, lastTimestamp: 5}
	s.aborted = []abortedTxn{{producerID: 7, firstOffset: 1, lastOffset: 3}}
	raw := s.encodeSnapshot(55)
	got, end, err := decodeSnapshot(raw)
	if err != nil {
		t.Fatal(err)
	}
	if end != 55 || !reflect.DeepEqual(got.producers, s.producers) || !reflect.DeepEqual(got.aborted, s.aborted) {
		t.Fatalf("round trip: end %d, %+v %+v", end, got.producers, got.aborted)
	}
	// Any flipped byte is caught by the checksum.
	for i := range raw {
		bad := append([]byte(nil), raw...)
		bad[i] ^= 0x40
		if _, _, err := decodeSnapshot(bad); err == nil {
			t.Fatalf("flipping byte %d went unnoticed", i)
		}
	}
}

func FuzzProducerSnapshot(f *testing.F) {
	s := newProducerState()
	s.producers[1] = &producerEntry{epoch: 1, txnFirstOffset: -1, batches: []cachedBatch{{0, 1, 0}}}
	f.Add(s.encodeSnapshot(2))
	f.Add([]byte{0, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		decodeSnapshot(b) // must not panic
	})
}
