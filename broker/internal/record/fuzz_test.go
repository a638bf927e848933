// Fuzz targets for the decoders. Seeds are real batches: every codec via
// Build, plus one framed by franz-go's kmsg.
//
//	go test ./broker/record -run='^$' -fuzz=FuzzValidate -fuzztime=1m -fuzzminimizetime=5s
//	go test ./broker/record -run='^$' -fuzz=FuzzRecords -fuzztime=1m -fuzzminimizetime=5s

package record

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"reflect"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func seedBatches(f *testing.F) {
	for _, c := range allCodecs {
		f.Add(mustBuild(f, baseHeader(), sampleRecords(), c))
		h := baseHeader()
		h.Attributes = AttrTransactional | AttrControl
		h.ProducerID = 3
		f.Add(mustBuild(f, h, []Record{{Key: []byte{0, 0, 0, 1}, Value: []byte{0, 0, 0, 0, 0, 0}}}, c))
	}
	f.Add(mustBuild(f, baseHeader(), nil, None))
	payload := kmsgRecords(sampleRecords())
	kb := kmsg.RecordBatch{Magic: 2, LastOffsetDelta: 4, NumRecords: 5, ProducerID: -1, Records: payload}
	kb.Length = int32(HeaderSize - 12 + len(payload))
	b := kb.AppendTo(nil)
	kb.CRC = int32(crc32.Checksum(b[crcStart:], castagnoli))
	f.Add(kb.AppendTo(nil))
	two := append(mustBuild(f, baseHeader(), sampleRecords(), None), mustBuild(f, baseHeader(), sampleRecords(), Gzip)...)
	f.Add(two)
}

// reframe makes b's framing, magic and CRC right, so mutations reach the
// record walk and the decompressors instead of stopping at the CRC.
func reframe(b []byte) []byte {
	if len(b) < HeaderSize {
		return nil
	}
	c := bytes.Clone(b)
	binary.BigEndian.PutUint32(c[offLength:], uint32(len(c)-lengthFieldEnd))
	c[offMagic] = 2
	binary.BigEndian.PutUint32(c[offCRC:], ComputeCRC(c))
	return c
}

func FuzzValidate(f *testing.F) {
	seedBatches(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		if c := reframe(b); c != nil {
			if _, err := Validate(c); err != nil && !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error does not wrap ErrCorrupt: %v", err)
			}
		}
		h, err := Validate(b)
		_ = Split(b, func([]byte, Header) error { return nil })
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error does not wrap ErrCorrupt: %v", err)
			}
			return
		}
		if h.Size() != len(b) || h.Magic != 2 || h.NumRecords < 0 || int64(h.NumRecords) > int64(h.LastOffsetDelta)+1 {
			t.Fatalf("accepted inconsistent header %+v for %d bytes", h, len(b))
		}
		if err := Split(b, func(batch []byte, sh Header) error {
			if sh != h {
				t.Fatalf("Split header %+v != Validate header %+v", sh, h)
			}
			return nil
		}); err != nil {
			t.Fatalf("Split rejects what Validate accepts: %v", err)
		}
		// Broker-owned fields are outside the CRC.
		c := bytes.Clone(b)
		SetBaseOffset(c, 77)
		SetLeaderEpoch(c, 3)
		if _, err := Validate(c); err != nil {
			t.Fatalf("offset rewrite invalidated batch: %v", err)
		}
		SetLogAppendTime(c, 5)
		if _, err := Validate(c); err != nil {
			t.Fatalf("SetLogAppendTime invalidated batch: %v", err)
		}
	})
}

func FuzzRecords(f *testing.F) {
	seedBatches(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		if c := reframe(b); c != nil {
			checkRecords(t, c)
		}
		checkRecords(t, b)
	})
}

// checkRecords decodes b and, if that works, checks that re-encoding the
// records round-trips.
func checkRecords(t *testing.T, b []byte) {
	t.Helper()
	recs, err := RecordsWithLimit(b, 32<<20)
	if err != nil {
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("error does not wrap ErrCorrupt: %v", err)
		}
		return
	}
	h, _ := ParseHeader(b)
	if len(recs) != int(h.NumRecords) {
		t.Fatalf("%d records decoded, header says %d", len(recs), h.NumRecords)
	}
	// Re-encoding what we decoded must decode to the same records.
	nb, err := Build(h, recs, h.Codec())
	if err != nil {
		t.Fatalf("Build of decoded records: %v", err)
	}
	again, err := Records(nb)
	if err != nil {
		t.Fatalf("Records of rebuilt batch: %v", err)
	}
	if len(recs) == 0 {
		recs = []Record{}
	}
	if !reflect.DeepEqual(again, recs) {
		t.Fatalf("round trip changed records")
	}
}

// FuzzSkipRecord holds the produce path's fast record check to the full
// parse: skipRecord accepts exactly what parseRecord accepts, with the same
// offset delta and size.
func FuzzSkipRecord(f *testing.F) {
	for _, recs := range [][]Record{sampleRecords(), {{OffsetDelta: 300, TimestampDelta: -70000, Value: bytes.Repeat([]byte{1}, 5000)}}} {
		raw := kmsgRecords(recs)
		for len(raw) > 0 {
			f.Add(raw)
			_, n, err := parseRecord(raw)
			if err != nil {
				f.Fatal(err)
			}
			raw = raw[n:]
		}
	}
	f.Add([]byte{0x80})
	f.Add([]byte{0x0c, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, n, err := parseRecord(b)
		off, sn, ok := skipRecord(b)
		if ok != (err == nil) {
			t.Fatalf("skipRecord ok=%v, parseRecord error %v", ok, err)
		}
		if ok && (off != r.offDelta || sn != n) {
			t.Fatalf("skipRecord: offset delta %d, %d bytes; parseRecord: %d, %d bytes", off, sn, r.offDelta, n)
		}
	})
}
