// Records inside a batch: decoding (Records), encoding (Build) and the
// allocation-free structural walk that Validate uses for uncompressed batches.
//
// A record on the wire is:
//
//	length varint | attributes int8 | timestampDelta varlong | offsetDelta varint |
//	keyLength varint | key | valueLength varint | value |
//	headerCount varint | (headerKeyLength varint | headerKey | headerValueLength varint | headerValue)*
//
// All varints are zigzag-encoded (encoding/binary's Varint). A length of -1
// means null.

package record

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Record is one decoded record.
//
// Null and empty are told apart by nil: a nil Key or Value is null (a nil
// Value is a tombstone), a non-nil zero-length slice is empty. The same holds
// for RecordHeader.Value. Slices returned by Records alias the batch (or the
// decompressed buffer); copy them if the batch bytes are reused.
type Record struct {
	OffsetDelta    int32
	TimestampDelta int64
	Key            []byte
	Value          []byte
	Headers        []RecordHeader
}

// RecordHeader is a record header. Keys cannot be null on the wire.
type RecordHeader struct {
	Key   string
	Value []byte
}

// minRecordBody is the smallest body a record can have: one byte each for
// attributes, timestamp delta, offset delta, key length, value length and
// header count.
const minRecordBody = 6

// minRecordSize adds the one-byte length prefix.
const minRecordSize = minRecordBody + 1

// rawRecord is a record whose slices alias the batch; headers holds the raw
// header entries, already checked to be well-formed.
type rawRecord struct {
	tsDelta     int64
	offDelta    int32
	key, value  []byte
	headerCount int
	headers     []byte
}

// walkRecords checks that data holds exactly h.NumRecords records with
// strictly increasing offset deltas in [0, h.LastOffsetDelta]. fn, if not
// nil, is called with each record.
func walkRecords(data []byte, h Header, fn func(rawRecord)) error {
	pos := 0
	prev := int64(-1)
	for i := int32(0); i < h.NumRecords; i++ {
		off, n, ok := int32(0), 0, false
		if fn == nil {
			off, n, ok = skipRecord(data[pos:])
		}
		if !ok {
			// The full parse, which also says what is wrong.
			r, rn, err := parseRecord(data[pos:])
			if err != nil {
				return corrupt("record %d at records byte %d: %v", i, pos, err)
			}
			if fn != nil {
				fn(r)
			}
			off, n = r.offDelta, rn
		}
		if int64(off) <= prev || off > h.LastOffsetDelta {
			return corrupt("record %d has offset delta %d, want above %d and at most last offset delta %d", i, off, prev, h.LastOffsetDelta)
		}
		prev = int64(off)
		pos += n
	}
	if pos != len(data) {
		return corrupt("%d trailing bytes after %d records", len(data)-pos, h.NumRecords)
	}
	return nil
}

// skipRecord is parseRecord for validation alone: it reports the offset
// delta and size of the record at the start of b when parseRecord would
// accept it, without building the record or any error (ok is false
// otherwise, and parseRecord then says why). It is the produce path's
// per-record cost, so it works on indexes with the short varints inlined.
func skipRecord(b []byte) (offDelta int32, n int, ok bool) {
	length, p := varintAt(b, 0)
	if p < 0 || length < minRecordBody || length > int64(len(b)-p) {
		return 0, 0, false
	}
	end := p + int(length)
	b = b[:end]
	// The attributes byte, then the timestamp delta.
	if _, p = varintAt(b, p+1); p < 0 {
		return 0, 0, false
	}
	off, p := varintAt(b, p)
	if p < 0 || off < math.MinInt32 || off > math.MaxInt32 {
		return 0, 0, false
	}
	if p = skipBytes(b, p, true); p < 0 { // key
		return 0, 0, false
	}
	if p = skipBytes(b, p, true); p < 0 { // value
		return 0, 0, false
	}
	count, p := varintAt(b, p)
	if p < 0 || count < 0 || count > math.MaxInt32 {
		return 0, 0, false
	}
	for ; count > 0 && p >= 0; count-- {
		if p = skipBytes(b, p, false); p >= 0 {
			p = skipBytes(b, p, true)
		}
	}
	if p != end {
		return 0, 0, false
	}
	return int32(off), end, true
}

// skipBytes skips the length-prefixed byte string at b[p:] as cursor.bytes
// reads it, returning the index after it, or -1 where cursor.bytes fails.
func skipBytes(b []byte, p int, nullable bool) int {
	n, p := varintAt(b, p)
	switch {
	case p < 0 || n < math.MinInt32 || n > math.MaxInt32:
		return -1
	case n < 0:
		if n == -1 && nullable {
			return p
		}
		return -1
	case n > int64(len(b)-p):
		return -1
	}
	return p + int(n)
}

// varintAt decodes the zigzag varint at b[p:] as binary.Varint does,
// returning it and the index after it, or a negative index where
// binary.Varint fails. One- and two-byte varints, the common ones inside
// records, are decoded inline.
func varintAt(b []byte, p int) (int64, int) {
	if p < len(b) {
		if x := uint64(b[p]); x < 0x80 {
			return int64(x>>1) ^ -int64(x&1), p + 1
		} else if p+1 < len(b) && b[p+1] < 0x80 {
			x = x&0x7f | uint64(b[p+1])<<7
			return int64(x>>1) ^ -int64(x&1), p + 2
		}
	}
	if p > len(b) {
		return 0, -1
	}
	v, n := binary.Varint(b[p:])
	if n <= 0 {
		return 0, -1
	}
	return v, p + n
}

// cursor reads varints and byte strings from a record body.
type cursor struct {
	b   []byte
	pos int
	err error
}

// The what/suffix pairs name the field in errors; they are joined only
// when there is an error, so the per-record hot path builds no strings.

func (c *cursor) varlong(what, suffix string) int64 {
	if c.err != nil {
		return 0
	}
	v, next := varintAt(c.b, c.pos)
	if next < 0 {
		c.err = fmt.Errorf("bad varint for %s%s", what, suffix)
		return 0
	}
	c.pos = next
	return v
}

func (c *cursor) varint(what, suffix string) int32 {
	v := c.varlong(what, suffix)
	if c.err == nil && (v < math.MinInt32 || v > math.MaxInt32) {
		c.err = fmt.Errorf("%s%s %d overflows int32", what, suffix, v)
		return 0
	}
	return int32(v)
}

// bytes reads a length-prefixed byte string; -1 means nil if nullable.
func (c *cursor) bytes(what string, nullable bool) []byte {
	n := c.varint(what, " length")
	if c.err != nil {
		return nil
	}
	if n < 0 {
		if n == -1 && nullable {
			return nil
		}
		c.err = fmt.Errorf("%s length %d is invalid", what, n)
		return nil
	}
	if int(n) > len(c.b)-c.pos {
		c.err = fmt.Errorf("%s length %d exceeds the %d bytes left in the record", what, n, len(c.b)-c.pos)
		return nil
	}
	end := c.pos + int(n)
	// Cap the slice so an append by the caller cannot clobber what follows.
	s := c.b[c.pos:end:end]
	c.pos = end
	return s
}

// parseRecord parses one length-prefixed record from the start of b and
// returns it with the number of bytes consumed.
func parseRecord(b []byte) (rawRecord, int, error) {
	var r rawRecord
	length, n := varintAt(b, 0)
	if n <= 0 {
		return r, 0, fmt.Errorf("bad record length varint")
	}
	if length < minRecordBody || length > int64(len(b)-n) {
		return r, 0, fmt.Errorf("record length %d outside [%d, %d]", length, minRecordBody, len(b)-n)
	}
	body := b[n : n+int(length)]
	c := cursor{b: body, pos: 1} // body[0] is the unused attributes byte
	r.tsDelta = c.varlong("timestamp delta", "")
	r.offDelta = c.varint("offset delta", "")
	r.key = c.bytes("key", true)
	r.value = c.bytes("value", true)
	count := c.varint("header count", "")
	if c.err == nil && count < 0 {
		c.err = fmt.Errorf("header count %d is negative", count)
	}
	hstart := c.pos
	for i := int32(0); c.err == nil && i < count; i++ {
		c.bytes("header key", false)
		c.bytes("header value", true)
	}
	if c.err != nil {
		return r, 0, c.err
	}
	if c.pos != len(body) {
		return r, 0, fmt.Errorf("%d trailing bytes inside record", len(body)-c.pos)
	}
	r.headerCount = int(count)
	r.headers = body[hstart:]
	return r, n + int(length), nil
}

// DefaultMaxDecompressedSize caps how large a compressed batch may inflate to
// in Records, so a small hostile batch cannot exhaust memory.
const DefaultMaxDecompressedSize = 1 << 30

// Records validates b (one whole batch, see Validate), decompresses it and
// decodes all its records. Decompressed output is capped at
// DefaultMaxDecompressedSize.
func Records(b []byte) ([]Record, error) {
	return RecordsWithLimit(b, DefaultMaxDecompressedSize)
}

// RecordsWithLimit is Records with an explicit cap on the decompressed size.
func RecordsWithLimit(b []byte, maxDecompressed int) ([]Record, error) {
	h, err := Validate(b)
	if err != nil {
		return nil, err
	}
	data := b[HeaderSize:]
	if h.NumRecords == 0 && len(data) == 0 {
		return []Record{}, nil
	}
	if h.Codec() != None {
		data, err = decompress(h.Codec(), data, maxDecompressed)
		if err != nil {
			return nil, corrupt("%s payload: %v", h.Codec(), err)
		}
	}
	// Bound the allocation by what the bytes can hold, not by the claim.
	if int64(h.NumRecords) > int64(len(data)/minRecordSize) {
		return nil, corrupt("%d records cannot fit in %d bytes of records", h.NumRecords, len(data))
	}
	recs := make([]Record, 0, h.NumRecords)
	err = walkRecords(data, h, func(r rawRecord) {
		rec := Record{
			OffsetDelta:    r.offDelta,
			TimestampDelta: r.tsDelta,
			Key:            r.key,
			Value:          r.value,
		}
		if r.headerCount > 0 {
			rec.Headers = make([]RecordHeader, 0, r.headerCount)
			c := cursor{b: r.headers}
			for range r.headerCount {
				k := c.bytes("header key", false)
				v := c.bytes("header value", true)
				rec.Headers = append(rec.Headers, RecordHeader{Key: string(k), Value: v})
			}
		}
		recs = append(recs, rec)
	})
	if err != nil {
		return nil, err
	}
	return recs, nil
}

// Build encodes a batch from h and records, compressing with codec, and
// returns the new bytes with Length and CRC computed. From h it takes
// BaseOffset, LeaderEpoch, the attribute bits other than the codec,
// BaseTimestamp, ProducerID, ProducerEpoch and BaseSequence as given. It sets
// Magic 2 and NumRecords = len(records), and derives:
//
//   - LastOffsetDelta: the larger of h.LastOffsetDelta and the last record's
//     OffsetDelta (so compaction can keep a batch's original span);
//   - MaxTimestamp: for log-append-time batches h.MaxTimestamp; otherwise the
//     larger of h.MaxTimestamp and the largest record timestamp.
//
// Records must have strictly increasing, non-negative OffsetDeltas. Header
// keys are written as given (never null). With no records the payload is
// empty and the codec bits are cleared, as Kafka writes empty batches.
func Build(h Header, records []Record, codec Codec) ([]byte, error) {
	if !codec.Valid() {
		return nil, fmt.Errorf("build batch: unknown codec %d", int8(codec))
	}
	if len(records) > math.MaxInt32 {
		return nil, fmt.Errorf("build batch: %d records is too many", len(records))
	}
	lastDelta := h.LastOffsetDelta
	if lastDelta < 0 {
		return nil, fmt.Errorf("build batch: negative last offset delta %d", lastDelta)
	}
	maxTs := h.MaxTimestamp
	prev := int64(-1)
	for i, r := range records {
		if int64(r.OffsetDelta) <= prev {
			return nil, fmt.Errorf("build batch: record %d offset delta %d does not increase past %d", i, r.OffsetDelta, prev)
		}
		prev = int64(r.OffsetDelta)
		if ts := h.BaseTimestamp + r.TimestampDelta; ts > maxTs && h.Attributes&AttrLogAppendTime == 0 {
			maxTs = ts
		}
	}
	if prev > int64(lastDelta) {
		lastDelta = int32(prev)
	}

	if len(records) == 0 {
		// Kafka writes empty batches (kept by compaction to preserve
		// producer state) with no payload at all, hence no codec.
		codec = None
	}
	out := make([]byte, HeaderSize, HeaderSize+estimateSize(records))
	var payload []byte
	if codec == None {
		out = appendRecords(out, records)
	} else {
		raw := appendRecords(nil, records)
		var err error
		payload, err = compress(codec, raw)
		if err != nil {
			return nil, fmt.Errorf("build batch: %s: %w", codec, err)
		}
		out = append(out, payload...)
	}
	if len(out)-lengthFieldEnd > math.MaxInt32 {
		return nil, fmt.Errorf("build batch: %d bytes is too large", len(out))
	}

	be := binary.BigEndian
	be.PutUint64(out[offBaseOffset:], uint64(h.BaseOffset))
	be.PutUint32(out[offLength:], uint32(len(out)-lengthFieldEnd))
	be.PutUint32(out[offLeaderEpoch:], uint32(h.LeaderEpoch))
	out[offMagic] = 2
	be.PutUint16(out[offAttributes:], uint16((h.Attributes&^AttrCodecMask)|int16(codec)))
	be.PutUint32(out[offLastOffsetDelta:], uint32(lastDelta))
	be.PutUint64(out[offBaseTimestamp:], uint64(h.BaseTimestamp))
	be.PutUint64(out[offMaxTimestamp:], uint64(maxTs))
	be.PutUint64(out[offProducerID:], uint64(h.ProducerID))
	be.PutUint16(out[offProducerEpoch:], uint16(h.ProducerEpoch))
	be.PutUint32(out[offBaseSequence:], uint32(h.BaseSequence))
	be.PutUint32(out[offNumRecords:], uint32(len(records)))
	be.PutUint32(out[offCRC:], ComputeCRC(out))
	return out, nil
}

func estimateSize(records []Record) int {
	n := 0
	for _, r := range records {
		n += 32 + len(r.Key) + len(r.Value)
		for _, h := range r.Headers {
			n += 10 + len(h.Key) + len(h.Value)
		}
	}
	return n
}

func appendNullable(b, v []byte) []byte {
	if v == nil {
		return binary.AppendVarint(b, -1)
	}
	b = binary.AppendVarint(b, int64(len(v)))
	return append(b, v...)
}

// appendRecords encodes records. Each record's length prefix is only known
// after the body is encoded, so the body goes to a scratch buffer first.
func appendRecords(b []byte, records []Record) []byte {
	var body []byte
	for _, r := range records {
		body = body[:0]
		body = append(body, 0) // attributes: unused
		body = binary.AppendVarint(body, r.TimestampDelta)
		body = binary.AppendVarint(body, int64(r.OffsetDelta))
		body = appendNullable(body, r.Key)
		body = appendNullable(body, r.Value)
		body = binary.AppendVarint(body, int64(len(r.Headers)))
		for _, h := range r.Headers {
			body = binary.AppendVarint(body, int64(len(h.Key)))
			body = append(body, h.Key...)
			body = appendNullable(body, h.Value)
		}
		b = binary.AppendVarint(b, int64(len(body)))
		b = append(b, body...)
	}
	return b
}
