// Package record parses, validates and builds Kafka v2 record batches.
//
// The broker stores batches as the wire bytes a producer sent, so most of
// this package works on raw []byte without decoding records: ParseHeader and
// Validate look at the 61-byte header and the framing, Split walks a
// concatenation of batches, and the Set* helpers patch the header fields the
// broker owns (base offset, leader epoch, log-append time). Records and Build
// are the slow path that decodes and encodes the records themselves; they are
// used by compaction, control markers, timestamp lookups and tests.
//
// Only magic 2 (Kafka 0.11+) is supported. Nothing in this package panics on
// malformed input: every problem comes back as an error wrapping ErrCorrupt.
package record

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// HeaderSize is the size of a v2 batch header, up to and including the
// record count. Records start at this offset.
const HeaderSize = 61

// Byte offsets of the header fields. Exported offsets would invite callers to
// poke at bytes directly; keep them here and offer setters instead.
const (
	offBaseOffset      = 0
	offLength          = 8
	offLeaderEpoch     = 12
	offMagic           = 16
	offCRC             = 17
	offAttributes      = 21
	offLastOffsetDelta = 23
	offBaseTimestamp   = 27
	offMaxTimestamp    = 35
	offProducerID      = 43
	offProducerEpoch   = 51
	offBaseSequence    = 53
	offNumRecords      = 57

	// lengthFieldEnd is where batchLength starts counting: a batch is
	// lengthFieldEnd + Length bytes long.
	lengthFieldEnd = 12
	// crcStart is where the CRC-32C coverage begins (the attributes).
	crcStart = offAttributes
)

// Attribute bits.
const (
	AttrCodecMask     int16 = 0x07
	AttrLogAppendTime int16 = 0x08
	AttrTransactional int16 = 0x10
	AttrControl       int16 = 0x20
	AttrDeleteHorizon int16 = 0x40
)

// ErrCorrupt is wrapped by every error this package returns for bytes that
// are not a well-formed v2 batch.
var ErrCorrupt = errors.New("corrupt record batch")

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Codec is the compression codec in attribute bits 0-2.
type Codec int8

// Codecs Kafka defines. Values 5-7 are invalid.
const (
	None   Codec = 0
	Gzip   Codec = 1
	Snappy Codec = 2
	LZ4    Codec = 3
	Zstd   Codec = 4
)

func (c Codec) String() string {
	switch c {
	case None:
		return "none"
	case Gzip:
		return "gzip"
	case Snappy:
		return "snappy"
	case LZ4:
		return "lz4"
	case Zstd:
		return "zstd"
	}
	return fmt.Sprintf("codec(%d)", int8(c))
}

// Valid reports whether c is one of the codecs Kafka defines.
func (c Codec) Valid() bool { return c >= None && c <= Zstd }

// Header is the decoded fixed-size part of a v2 batch.
type Header struct {
	BaseOffset      int64
	Length          int32 // bytes after the Length field
	LeaderEpoch     int32
	Magic           int8
	CRC             uint32
	Attributes      int16
	LastOffsetDelta int32
	BaseTimestamp   int64
	MaxTimestamp    int64
	ProducerID      int64
	ProducerEpoch   int16
	BaseSequence    int32
	NumRecords      int32
}

// Size is the total size of the batch in bytes.
func (h Header) Size() int { return lengthFieldEnd + int(h.Length) }

// LastOffset is the offset of the last record the batch covers (records may
// have been removed by compaction, but the batch still spans this offset).
func (h Header) LastOffset() int64 { return h.BaseOffset + int64(h.LastOffsetDelta) }

// Codec returns the compression codec.
func (h Header) Codec() Codec { return Codec(h.Attributes & AttrCodecMask) }

// IsTransactional reports attribute bit 4.
func (h Header) IsTransactional() bool { return h.Attributes&AttrTransactional != 0 }

// IsControl reports attribute bit 5 (transaction markers).
func (h Header) IsControl() bool { return h.Attributes&AttrControl != 0 }

// LogAppendTime reports attribute bit 3: every record's timestamp is
// MaxTimestamp.
func (h Header) LogAppendTime() bool { return h.Attributes&AttrLogAppendTime != 0 }

// HasDeleteHorizon reports attribute bit 6: BaseTimestamp holds the time after
// which the cleaner may drop this batch's tombstones (KIP-534).
func (h Header) HasDeleteHorizon() bool { return h.Attributes&AttrDeleteHorizon != 0 }

// RecordTimestamp returns the timestamp of r as a consumer sees it.
func (h Header) RecordTimestamp(r Record) int64 {
	if h.LogAppendTime() {
		return h.MaxTimestamp
	}
	return h.BaseTimestamp + r.TimestampDelta
}

// ParseHeader decodes the header at the start of b. It checks only what can
// be checked from the header alone: magic 2 and a Length large enough to
// hold the rest of the header. It does not check that b holds the whole
// batch.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderSize {
		return Header{}, corrupt("need %d header bytes, have %d", HeaderSize, len(b))
	}
	h := Header{
		BaseOffset:      int64(binary.BigEndian.Uint64(b[offBaseOffset:])),
		Length:          int32(binary.BigEndian.Uint32(b[offLength:])),
		LeaderEpoch:     int32(binary.BigEndian.Uint32(b[offLeaderEpoch:])),
		Magic:           int8(b[offMagic]),
		CRC:             binary.BigEndian.Uint32(b[offCRC:]),
		Attributes:      int16(binary.BigEndian.Uint16(b[offAttributes:])),
		LastOffsetDelta: int32(binary.BigEndian.Uint32(b[offLastOffsetDelta:])),
		BaseTimestamp:   int64(binary.BigEndian.Uint64(b[offBaseTimestamp:])),
		MaxTimestamp:    int64(binary.BigEndian.Uint64(b[offMaxTimestamp:])),
		ProducerID:      int64(binary.BigEndian.Uint64(b[offProducerID:])),
		ProducerEpoch:   int16(binary.BigEndian.Uint16(b[offProducerEpoch:])),
		BaseSequence:    int32(binary.BigEndian.Uint32(b[offBaseSequence:])),
		NumRecords:      int32(binary.BigEndian.Uint32(b[offNumRecords:])),
	}
	if h.Magic != 2 {
		return h, corrupt("magic %d, only 2 is supported", h.Magic)
	}
	if h.Length < HeaderSize-lengthFieldEnd {
		return h, corrupt("batch length %d is below the minimum %d", h.Length, HeaderSize-lengthFieldEnd)
	}
	return h, nil
}

// Validate checks that b is exactly one whole, intact batch: framing, magic,
// CRC, counts and codec. For uncompressed batches it also walks the records
// region and checks that it holds exactly NumRecords well-formed records with
// increasing offset deltas within LastOffsetDelta; it allocates nothing while
// doing so. Compressed payloads are not decompressed here (see Records).
func Validate(b []byte) (Header, error) {
	h, err := ParseHeader(b)
	if err != nil {
		return h, err
	}
	if len(b) != h.Size() {
		return h, corrupt("batch length field says %d bytes, have %d", h.Size(), len(b))
	}
	if got := crc32.Checksum(b[crcStart:], castagnoli); got != h.CRC {
		return h, corrupt("crc mismatch: stored 0x%08x computed 0x%08x", h.CRC, got)
	}
	if err := checkCounts(h); err != nil {
		return h, err
	}
	if h.Codec() == None {
		if err := walkRecords(b[HeaderSize:], h, nil); err != nil {
			return h, err
		}
	}
	return h, nil
}

// ValidateProduce is Validate plus the rules Kafka's broker applies to
// batches arriving in a Produce request, where compaction gaps cannot exist
// yet: at least one record, and NumRecords == LastOffsetDelta+1.
func ValidateProduce(b []byte) (Header, error) {
	h, err := Validate(b)
	if err != nil {
		return h, err
	}
	if h.NumRecords <= 0 {
		return h, corrupt("produced batch has %d records", h.NumRecords)
	}
	if int64(h.NumRecords) != int64(h.LastOffsetDelta)+1 {
		return h, corrupt("produced batch has %d records but spans %d offsets", h.NumRecords, int64(h.LastOffsetDelta)+1)
	}
	return h, nil
}

// checkCounts holds the header-only consistency rules shared by Validate
// and Records.
func checkCounts(h Header) error {
	if !h.Codec().Valid() {
		return corrupt("unknown compression codec %d", int8(h.Codec()))
	}
	if h.NumRecords < 0 {
		return corrupt("negative record count %d", h.NumRecords)
	}
	if h.LastOffsetDelta < 0 {
		return corrupt("negative last offset delta %d", h.LastOffsetDelta)
	}
	// Compaction may leave fewer records than the span, never more.
	if int64(h.NumRecords) > int64(h.LastOffsetDelta)+1 {
		return corrupt("%d records cannot fit in offset span %d", h.NumRecords, int64(h.LastOffsetDelta)+1)
	}
	// BaseOffset is not checked: producers' values are overwritten anyway.
	return nil
}

// Split calls fn for each batch in the concatenation b, after validating it.
// It stops at the first error: a batch that fails Validate, a trailing
// partial batch, or an error returned by fn (returned unchanged). Corruption
// errors name the byte position of the offending batch.
func Split(b []byte, fn func(batch []byte, h Header) error) error {
	return split(b, Validate, fn)
}

// SplitProduce is Split with ValidateProduce's rules, for the batches of a
// Produce request.
func SplitProduce(b []byte, fn func(batch []byte, h Header) error) error {
	return split(b, ValidateProduce, fn)
}

func split(b []byte, validate func([]byte) (Header, error), fn func(batch []byte, h Header) error) error {
	pos := 0
	for pos < len(b) {
		rest := b[pos:]
		if len(rest) < HeaderSize {
			return fmt.Errorf("batch at byte %d: %w", pos, corrupt("trailing %d bytes are shorter than a batch header", len(rest)))
		}
		h, err := ParseHeader(rest)
		if err != nil {
			return fmt.Errorf("batch at byte %d: %w", pos, err)
		}
		size := h.Size()
		if size > len(rest) {
			return fmt.Errorf("batch at byte %d: %w", pos, corrupt("batch needs %d bytes, only %d remain", size, len(rest)))
		}
		batch := rest[:size:size]
		if _, err := validate(batch); err != nil {
			return fmt.Errorf("batch at byte %d: %w", pos, err)
		}
		if err := fn(batch, h); err != nil {
			return err
		}
		pos += size
	}
	return nil
}

// SetBaseOffset overwrites the base offset. The CRC does not cover it.
// b must hold at least a header.
func SetBaseOffset(b []byte, off int64) {
	binary.BigEndian.PutUint64(b[offBaseOffset:], uint64(off))
}

// SetLeaderEpoch overwrites the partition leader epoch. The CRC does not
// cover it.
func SetLeaderEpoch(b []byte, epoch int32) {
	binary.BigEndian.PutUint32(b[offLeaderEpoch:], uint32(epoch))
}

// SetLogAppendTime marks the batch as using log-append time, stores ts as
// its MaxTimestamp (which is then every record's timestamp) and recomputes
// the CRC, as Kafka's broker does. BaseTimestamp is left alone.
// b must be one whole batch.
func SetLogAppendTime(b []byte, ts int64) {
	attrs := int16(binary.BigEndian.Uint16(b[offAttributes:]))
	binary.BigEndian.PutUint16(b[offAttributes:], uint16(attrs|AttrLogAppendTime))
	binary.BigEndian.PutUint64(b[offMaxTimestamp:], uint64(ts))
	binary.BigEndian.PutUint32(b[offCRC:], ComputeCRC(b))
}

// ComputeCRC returns the CRC-32C of b's attributes-to-end region, the value
// that belongs in the header's crc field. b must hold at least a header.
func ComputeCRC(b []byte) uint32 {
	return crc32.Checksum(b[crcStart:], castagnoli)
}
