// Tests for batch validation, splitting, header setters and the record
// codec, including interop with franz-go's kmsg encoding.

package record

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"reflect"
	"strings"
	"testing"

	"github.com/golang/snappy"
	"github.com/twmb/franz-go/pkg/kmsg"
)

var allCodecs = []Codec{None, Gzip, Snappy, LZ4, Zstd}

// baseHeader is a typical non-idempotent producer's header.
func baseHeader() Header {
	return Header{BaseTimestamp: 1_700_000_000_000, ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1}
}

func sampleRecords() []Record {
	return []Record{
		{OffsetDelta: 0, TimestampDelta: 0, Key: []byte("k1"), Value: []byte("v1")},
		{OffsetDelta: 1, TimestampDelta: 5, Key: nil, Value: []byte("no key")},
		{OffsetDelta: 2, TimestampDelta: 7, Key: []byte("k3"), Value: nil}, // tombstone
		{OffsetDelta: 3, TimestampDelta: 9, Key: []byte{}, Value: []byte{}},
		{OffsetDelta: 4, TimestampDelta: -3, Key: []byte("k5"), Value: bytes.Repeat([]byte("x"), 3000),
			Headers: []RecordHeader{{Key: "h1", Value: []byte("hv")}, {Key: "", Value: nil}, {Key: "h3", Value: []byte{}}}},
	}
}

func mustBuild(t testing.TB, h Header, recs []Record, c Codec) []byte {
	t.Helper()
	b, err := Build(h, recs, c)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return b
}

// fixCRC recomputes the CRC after a test mutates covered bytes.
func fixCRC(b []byte) []byte {
	binary.BigEndian.PutUint32(b[offCRC:], ComputeCRC(b))
	return b
}

func TestBuildRecordsRoundTrip(t *testing.T) {
	for _, c := range allCodecs {
		t.Run(c.String(), func(t *testing.T) {
			h := baseHeader()
			h.BaseOffset = 42
			h.LeaderEpoch = 7
			recs := sampleRecords()
			b := mustBuild(t, h, recs, c)

			got, err := Validate(b)
			if err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if got.Codec() != c || got.NumRecords != 5 || got.LastOffsetDelta != 4 || got.BaseOffset != 42 || got.LeaderEpoch != 7 {
				t.Fatalf("header = %+v", got)
			}
			if got.MaxTimestamp != h.BaseTimestamp+9 {
				t.Fatalf("MaxTimestamp = %d, want %d", got.MaxTimestamp, h.BaseTimestamp+9)
			}
			if got.Size() != len(b) || got.LastOffset() != 46 {
				t.Fatalf("Size %d LastOffset %d", got.Size(), got.LastOffset())
			}
			dec, err := Records(b)
			if err != nil {
				t.Fatalf("Records: %v", err)
			}
			if !reflect.DeepEqual(dec, recs) {
				t.Fatalf("records differ:\n got %#v\nwant %#v", dec, recs)
			}
			// nil vs empty must survive.
			if dec[1].Key != nil || dec[2].Value != nil || dec[3].Key == nil || dec[3].Value == nil {
				t.Fatal("null/empty distinction lost")
			}
		})
	}
}

func TestBuildEmptyBatch(t *testing.T) {
	h := baseHeader()
	h.LastOffsetDelta = 9
	h.ProducerID = 5
	b := mustBuild(t, h, nil, Zstd)
	got, err := Validate(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.NumRecords != 0 || got.LastOffsetDelta != 9 || got.Codec() != None || len(b) != HeaderSize {
		t.Fatalf("empty batch header %+v len %d", got, len(b))
	}
	recs, err := Records(b)
	if err != nil || len(recs) != 0 {
		t.Fatalf("Records = %v, %v", recs, err)
	}
}

func TestBuildRejects(t *testing.T) {
	h := baseHeader()
	if _, err := Build(h, []Record{{OffsetDelta: 1}, {OffsetDelta: 1}}, None); err == nil {
		t.Error("non-increasing offset deltas accepted")
	}
	if _, err := Build(h, []Record{{OffsetDelta: -1}}, None); err == nil {
		t.Error("negative offset delta accepted")
	}
	if _, err := Build(h, nil, Codec(6)); err == nil {
		t.Error("unknown codec accepted")
	}
}

func TestCodecString(t *testing.T) {
	want := []string{"none", "gzip", "snappy", "lz4", "zstd", "codec(5)"}
	for i, w := range want {
		if got := Codec(i).String(); got != w {
			t.Errorf("Codec(%d) = %q, want %q", i, got, w)
		}
	}
}

func TestValidateCorruptions(t *testing.T) {
	good := mustBuild(t, baseHeader(), sampleRecords(), None)
	goodGzip := mustBuild(t, baseHeader(), sampleRecords(), Gzip)
	gappyRecs := sampleRecords()
	gappyRecs[4].OffsetDelta = 9
	gappy := mustBuild(t, baseHeader(), gappyRecs, None)
	mut := func(src []byte, f func(b []byte) []byte) []byte {
		return f(append([]byte(nil), src...))
	}
	cases := []struct {
		name  string
		batch []byte
		want  string
	}{
		{"short header", good[:40], "header bytes"},
		{"bad magic", mut(good, func(b []byte) []byte { b[offMagic] = 1; return b }), "magic 1"},
		{"bad crc", mut(good, func(b []byte) []byte { b[len(b)-1] ^= 0xff; return b }), "crc mismatch"},
		{"truncated", good[:len(good)-10], "batch length field says"},
		{"trailing garbage", append(append([]byte(nil), good...), 1, 2, 3), "batch length field says"},
		{"length below header", mut(good, func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[offLength:], 10)
			return b
		}), "below the minimum"},
		{"length too large", mut(good, func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[offLength:], 1<<30)
			return b
		}), "batch length field says"},
		{"negative count", mut(good, func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[offNumRecords:], 0xffffffff)
			return fixCRC(b)
		}), "negative record count"},
		{"count above span", mut(good, func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[offNumRecords:], 6)
			return fixCRC(b)
		}), "cannot fit in offset span"},
		{"count below records", mut(good, func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[offNumRecords:], 4)
			return fixCRC(b)
		}), "trailing bytes after 4 records"},
		{"negative last offset delta", mut(good, func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[offLastOffsetDelta:], 0xfffffffe)
			return fixCRC(b)
		}), "negative last offset delta"},
		{"offset delta past span", mut(gappy, func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[offLastOffsetDelta:], 5)
			return fixCRC(b)
		}), "offset delta 9"},
		{"unknown codec", mut(goodGzip, func(b []byte) []byte {
			binary.BigEndian.PutUint16(b[offAttributes:], 6)
			return fixCRC(b)
		}), "unknown compression codec 6"},
		{"record length overruns", mut(good, func(b []byte) []byte {
			b[HeaderSize] = 0x7e // zigzag 63: longer than the first record
			return fixCRC(b)
		}), "record 0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Validate(tc.batch)
			if err == nil {
				t.Fatal("Validate accepted a corrupt batch")
			}
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not mention %q", err, tc.want)
			}
			if _, err := Records(tc.batch); err == nil {
				t.Fatal("Records accepted a corrupt batch")
			}
		})
	}
}

func TestValidateNonIncreasingOffsetDeltas(t *testing.T) {
	// Hand-encode two records both at offset delta 0.
	var recs []byte
	for range 2 {
		recs = appendRecords(recs, []Record{{OffsetDelta: 0, Key: []byte("a"), Value: []byte("b")}})
	}
	b := assemble(Header{LastOffsetDelta: 1, NumRecords: 2}, None, recs)
	if _, err := Validate(b); err == nil || !strings.Contains(err.Error(), "offset delta 0") {
		t.Fatalf("Validate = %v, want offset delta error", err)
	}
}

func TestValidateAcceptsCompactedGaps(t *testing.T) {
	h := baseHeader()
	h.LastOffsetDelta = 10
	b := mustBuild(t, h, []Record{{OffsetDelta: 2, Key: []byte("a")}, {OffsetDelta: 7, Key: []byte("b")}}, None)
	got, err := Validate(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.NumRecords != 2 || got.LastOffsetDelta != 10 {
		t.Fatalf("header %+v", got)
	}
}

// assemble frames an arbitrary payload as a batch with a correct CRC.
func assemble(h Header, c Codec, payload []byte) []byte {
	b := make([]byte, HeaderSize+len(payload))
	be := binary.BigEndian
	be.PutUint64(b[offBaseOffset:], uint64(h.BaseOffset))
	be.PutUint32(b[offLength:], uint32(len(b)-12))
	b[offMagic] = 2
	be.PutUint16(b[offAttributes:], uint16(h.Attributes|int16(c)))
	be.PutUint32(b[offLastOffsetDelta:], uint32(h.LastOffsetDelta))
	be.PutUint64(b[offBaseTimestamp:], uint64(h.BaseTimestamp))
	be.PutUint64(b[offMaxTimestamp:], uint64(h.MaxTimestamp))
	be.PutUint64(b[offProducerID:], uint64(h.ProducerID))
	be.PutUint32(b[offNumRecords:], uint32(h.NumRecords))
	copy(b[HeaderSize:], payload)
	return fixCRC(b)
}

func TestSplit(t *testing.T) {
	var all []byte
	for i := range 3 {
		h := baseHeader()
		h.BaseOffset = int64(i * 5)
		all = append(all, mustBuild(t, h, sampleRecords(), allCodecs[i])...)
	}
	var bases []int64
	err := Split(all, func(b []byte, h Header) error {
		if len(b) != h.Size() {
			t.Errorf("batch len %d, header size %d", len(b), h.Size())
		}
		bases = append(bases, h.BaseOffset)
		return nil
	})
	if err != nil || !reflect.DeepEqual(bases, []int64{0, 5, 10}) {
		t.Fatalf("Split: %v, bases %v", err, bases)
	}

	second := mustBuild(t, baseHeader(), sampleRecords(), None)
	firstLen := len(all)
	cases := []struct {
		name string
		b    []byte
		want string
	}{
		{"partial trailing batch", append(append([]byte(nil), all...), second[:100]...), fmt.Sprintf("batch at byte %d", firstLen)},
		{"trailing garbage", append(append([]byte(nil), all...), 9, 9, 9), fmt.Sprintf("batch at byte %d", firstLen)},
		{"corrupt middle", func() []byte {
			b := append([]byte(nil), all...)
			b[len(b)-1] ^= 1
			return b
		}(), "crc mismatch"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := Split(tc.b, func([]byte, Header) error { return nil })
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Split = %v, want ErrCorrupt mentioning %q", err, tc.want)
			}
		})
	}

	stop := errors.New("stop")
	if err := Split(all, func([]byte, Header) error { return stop }); err != stop {
		t.Fatalf("callback error not returned unchanged: %v", err)
	}
	if err := Split(nil, func([]byte, Header) error { t.Fatal("called"); return nil }); err != nil {
		t.Fatal(err)
	}
}

func TestSetters(t *testing.T) {
	b := mustBuild(t, baseHeader(), sampleRecords(), Snappy)
	SetBaseOffset(b, 1234)
	SetLeaderEpoch(b, 9)
	h, err := Validate(b)
	if err != nil {
		t.Fatalf("offset/epoch rewrite broke the batch: %v", err)
	}
	if h.BaseOffset != 1234 || h.LeaderEpoch != 9 {
		t.Fatalf("header %+v", h)
	}

	SetLogAppendTime(b, 999)
	h, err = Validate(b)
	if err != nil {
		t.Fatalf("SetLogAppendTime left a bad CRC: %v", err)
	}
	if !h.LogAppendTime() || h.MaxTimestamp != 999 || h.BaseTimestamp != baseHeader().BaseTimestamp || h.Codec() != Snappy {
		t.Fatalf("header %+v", h)
	}
	recs, err := Records(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if ts := h.RecordTimestamp(r); ts != 999 {
			t.Fatalf("record timestamp %d, want 999", ts)
		}
	}
}

func TestAttributeBits(t *testing.T) {
	h := Header{Attributes: AttrTransactional | AttrControl | AttrDeleteHorizon | int16(LZ4)}
	if !h.IsTransactional() || !h.IsControl() || !h.HasDeleteHorizon() || h.LogAppendTime() || h.Codec() != LZ4 {
		t.Fatalf("attribute accessors wrong for %#x", h.Attributes)
	}
}

func TestXerialSnappy(t *testing.T) {
	recs := sampleRecords()
	raw := appendRecords(nil, recs)
	// Java's snappy-java framing, split into two chunks.
	payload := append([]byte{}, xerialMagic...)
	payload = binary.BigEndian.AppendUint32(payload, 1)
	payload = binary.BigEndian.AppendUint32(payload, 1)
	for _, chunk := range [][]byte{raw[:100], raw[100:]} {
		enc := snappy.Encode(nil, chunk)
		payload = binary.BigEndian.AppendUint32(payload, uint32(len(enc)))
		payload = append(payload, enc...)
	}
	b := assemble(Header{LastOffsetDelta: 4, NumRecords: 5}, Snappy, payload)
	got, err := Records(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, recs) {
		t.Fatalf("xerial records differ")
	}

	// A chunk length past the end is an error, not a panic.
	bad := append([]byte{}, payload[:xerialHeaderSize]...)
	bad = binary.BigEndian.AppendUint32(bad, 1000)
	if _, err := Records(assemble(Header{LastOffsetDelta: 4, NumRecords: 5}, Snappy, bad)); err == nil {
		t.Fatal("bad xerial chunk accepted")
	}
}

func TestDecompressionLimit(t *testing.T) {
	// A 4 MiB value compresses to almost nothing with every codec.
	recs := []Record{{Key: []byte("k"), Value: make([]byte, 4<<20)}}
	for _, c := range allCodecs[1:] {
		t.Run(c.String(), func(t *testing.T) {
			b := mustBuild(t, baseHeader(), recs, c)
			if len(b) > 1<<20 {
				t.Fatalf("%s did not compress: %d bytes", c, len(b))
			}
			_, err := RecordsWithLimit(b, 1<<20)
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "limit") {
				t.Fatalf("RecordsWithLimit = %v, want a size-limit error", err)
			}
			got, err := RecordsWithLimit(b, 8<<20)
			if err != nil || len(got) != 1 || len(got[0].Value) != 4<<20 {
				t.Fatalf("within limit: %v", err)
			}
		})
	}
}

func TestCompressedGarbage(t *testing.T) {
	for _, c := range allCodecs[1:] {
		b := assemble(Header{NumRecords: 1}, c, []byte("definitely not compressed data"))
		if _, err := Validate(b); err != nil {
			t.Fatalf("%s: Validate should not decompress: %v", c, err)
		}
		if _, err := Records(b); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("%s: Records = %v, want ErrCorrupt", c, err)
		}
	}
}

// kmsgRecords encodes records with franz-go's kmsg, an independent encoder.
func kmsgRecords(recs []Record) []byte {
	var out []byte
	for _, r := range recs {
		kr := kmsg.Record{TimestampDelta64: r.TimestampDelta, OffsetDelta: r.OffsetDelta, Key: r.Key, Value: r.Value}
		for _, h := range r.Headers {
			kr.Headers = append(kr.Headers, kmsg.Header{Key: h.Key, Value: h.Value})
		}
		body := kr.AppendTo(nil) // Length 0 encodes as one byte
		kr.Length = int32(len(body) - 1)
		out = kr.AppendTo(out)
	}
	return out
}

func TestKmsgInterop(t *testing.T) {
	recs := sampleRecords()
	// kmsg-encoded records, framed by kmsg's RecordBatch, read by us.
	payload := kmsgRecords(recs)
	kb := kmsg.RecordBatch{
		FirstOffset: 0, Magic: 2, LastOffsetDelta: 4, FirstTimestamp: 100, MaxTimestamp: 109,
		ProducerID: -1, ProducerEpoch: -1, FirstSequence: -1, NumRecords: 5, Records: payload,
	}
	kb.Length = int32(HeaderSize - 12 + len(payload))
	b := kb.AppendTo(nil)
	kb.CRC = int32(crc32.Checksum(b[crcStart:], castagnoli))
	b = kb.AppendTo(nil)
	got, err := Records(b)
	if err != nil {
		t.Fatalf("Records on kmsg batch: %v", err)
	}
	if !reflect.DeepEqual(got, recs) {
		t.Fatalf("kmsg batch decoded differently")
	}

	// Our batch, read by kmsg.
	ours := mustBuild(t, baseHeader(), recs, None)
	if !bytes.Equal(ours[HeaderSize:], payload) {
		t.Fatal("record encoding differs from kmsg's")
	}
	var rb kmsg.RecordBatch
	if err := rb.ReadFrom(ours); err != nil {
		t.Fatal(err)
	}
	if rb.NumRecords != 5 || rb.LastOffsetDelta != 4 || uint32(rb.CRC) != ComputeCRC(ours) {
		t.Fatalf("kmsg sees %+v", rb)
	}
}

func TestValidateProduce(t *testing.T) {
	if _, err := ValidateProduce(mustBuild(t, baseHeader(), sampleRecords(), Gzip)); err != nil {
		t.Fatalf("normal batch rejected: %v", err)
	}
	if _, err := ValidateProduce(mustBuild(t, baseHeader(), nil, None)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("empty batch accepted: %v", err)
	}
	h := baseHeader()
	h.LastOffsetDelta = 10
	gappy := mustBuild(t, h, []Record{{OffsetDelta: 0}, {OffsetDelta: 10}}, None)
	if _, err := Validate(gappy); err != nil {
		t.Fatalf("Validate rejects a compacted batch: %v", err)
	}
	if _, err := ValidateProduce(gappy); err == nil || !strings.Contains(err.Error(), "spans 11 offsets") {
		t.Fatalf("gappy produce batch: %v", err)
	}
}
