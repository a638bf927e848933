package streams_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/tributary-streams/tributary/streams"
)

// FuzzSerdes feeds any bytes to every built-in serde: an error is fine, a
// panic is not, and what decodes encodes back to bytes that decode to the
// same value.
func FuzzSerdes(f *testing.F) {
	for _, seed := range [][]byte{nil, {}, {0, 0, 0, 0, 0, 0, 0, 1}, []byte(`{"count":1}`), []byte("key\x00\x00\x00\x00\x00\x00\x00\x05"),
		make([]byte, 16), make([]byte, 17)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		roundTrip(t, streams.String(), b)
		if v, err := streams.Bytes().Deserialize(b); err != nil || string(v) != string(b) {
			t.Fatalf("Bytes: %x -> %x, %v", b, v, err)
		}
		roundTrip(t, streams.Int64(), b)
		roundTrip(t, streams.Float64(), b)
		roundTrip(t, streams.JSON[stats](), b)
		roundTrip(t, streams.TimeWindowedSerde(streams.String(), time.Minute), b)
		roundTrip(t, streams.SessionWindowedSerde(streams.Int64()), b)
	})
}

// roundTrip checks that a decoded value encodes, and that encoding is
// stable: decoding it and encoding again gives the same bytes (which also
// holds for NaN).
func roundTrip[T any](t *testing.T, s streams.Serde[T], b []byte) {
	v, err := s.Deserialize(b)
	if err != nil {
		return
	}
	once, err := s.Serialize(v)
	if err != nil {
		t.Fatalf("%T: %v decoded from %x does not encode: %v", s, v, b, err)
	}
	w, err := s.Deserialize(once)
	if err != nil {
		t.Fatalf("%T: %x (encoded from %v) does not decode: %v", s, once, v, err)
	}
	twice, err := s.Serialize(w)
	if err != nil || !bytes.Equal(once, twice) {
		t.Fatalf("%T: %v -> %x -> %v -> %x, %v", s, v, once, w, twice, err)
	}
}
