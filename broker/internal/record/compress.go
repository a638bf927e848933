// Compression codecs for batch payloads, with a hard cap on decompressed
// size so a small hostile batch (a "zip bomb") cannot exhaust memory.
//
// Snappy comes in two shapes on the wire: a raw snappy block (franz-go,
// librdkafka, sarama) and the xerial framing the Java client's
// snappy-java writes ("\x82SNAPPY\x00", two int32 versions, then
// int32-length-prefixed raw blocks). Both are accepted; Build writes raw
// blocks. LZ4 is the standard LZ4 frame format (magic 2 fixed Kafka's old
// broken framing). Gzip and zstd are standard.

package record

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/golang/snappy"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

var errTooLarge = errors.New("decompressed size exceeds the limit")

func decompress(codec Codec, src []byte, limit int) ([]byte, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("decompression limit %d must be positive", limit)
	}
	switch codec {
	case Gzip:
		return gunzip(src, limit)
	case Snappy:
		return unsnappy(src, limit)
	case LZ4:
		return unlz4(src, limit)
	case Zstd:
		return unzstd(src, limit)
	}
	return nil, fmt.Errorf("unknown codec %d", int8(codec))
}

// readLimited reads r to EOF, failing once more than limit bytes appear.
// sizeHint pre-sizes the buffer (compressed size times a typical ratio).
func readLimited(r io.Reader, limit, sizeHint int) ([]byte, error) {
	buf := bytes.NewBuffer(make([]byte, 0, min(max(sizeHint, 512), limit)))
	n, err := buf.ReadFrom(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return nil, err
	}
	if n > int64(limit) {
		return nil, errTooLarge
	}
	return buf.Bytes(), nil
}

var gzipReaders sync.Pool // *gzip.Reader

func gunzip(src []byte, limit int) ([]byte, error) {
	br := bytes.NewReader(src)
	var zr *gzip.Reader
	if v := gzipReaders.Get(); v != nil {
		zr = v.(*gzip.Reader)
		if err := zr.Reset(br); err != nil {
			return nil, err
		}
	} else {
		var err error
		if zr, err = gzip.NewReader(br); err != nil {
			return nil, err
		}
	}
	out, err := readLimited(zr, limit, len(src)*4)
	if err == nil {
		gzipReaders.Put(zr)
	}
	return out, err
}

var xerialMagic = []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0}

// xerialHeaderSize is the magic plus the two int32 version fields.
const xerialHeaderSize = 16

func unsnappy(src []byte, limit int) ([]byte, error) {
	if !bytes.HasPrefix(src, xerialMagic) {
		return unsnappyBlock(nil, src, limit)
	}
	if len(src) < xerialHeaderSize {
		return nil, fmt.Errorf("xerial snappy header truncated at %d bytes", len(src))
	}
	rest := src[xerialHeaderSize:]
	var out []byte
	for len(rest) > 0 {
		if len(rest) < 4 {
			return nil, fmt.Errorf("xerial snappy chunk length truncated")
		}
		n := binary.BigEndian.Uint32(rest)
		rest = rest[4:]
		if uint64(n) > uint64(len(rest)) {
			return nil, fmt.Errorf("xerial snappy chunk of %d bytes, only %d remain", n, len(rest))
		}
		var err error
		if out, err = unsnappyBlock(out, rest[:n], limit); err != nil {
			return nil, err
		}
		rest = rest[n:]
	}
	if out == nil {
		out = []byte{}
	}
	return out, nil
}

// unsnappyBlock appends the decoding of one raw snappy block to out.
func unsnappyBlock(out, block []byte, limit int) ([]byte, error) {
	n, err := snappy.DecodedLen(block)
	if err != nil {
		return nil, err
	}
	if n > limit-len(out) {
		return nil, errTooLarge
	}
	start := len(out)
	if cap(out)-start < n {
		grown := make([]byte, start, start+n)
		copy(grown, out)
		out = grown
	}
	dec, err := snappy.Decode(out[start:start+n], block)
	if err != nil {
		return nil, err
	}
	if len(dec) != n {
		return nil, fmt.Errorf("snappy block decoded to %d bytes, header said %d", len(dec), n)
	}
	return out[:start+n], nil
}

var lz4Readers sync.Pool // *lz4.Reader

func unlz4(src []byte, limit int) ([]byte, error) {
	zr, _ := lz4Readers.Get().(*lz4.Reader)
	if zr == nil {
		zr = lz4.NewReader(nil)
	}
	zr.Reset(bytes.NewReader(src))
	out, err := readLimited(zr, limit, len(src)*4)
	if err == nil {
		lz4Readers.Put(zr)
	}
	return out, err
}

// zstd decoders carry their size cap as an option, so keep one per limit
// (in practice only the default). DecodeAll is safe for concurrent use.
var zstdDecoders sync.Map // int -> *zstd.Decoder

func zstdDecoder(limit int) (*zstd.Decoder, error) {
	if d, ok := zstdDecoders.Load(limit); ok {
		return d.(*zstd.Decoder), nil
	}
	d, err := zstd.NewReader(nil,
		zstd.WithDecoderConcurrency(0),
		zstd.WithDecoderMaxMemory(uint64(limit)),
		// Real producers use windows of a few MiB; a larger one is a
		// memory attack, not a batch.
		zstd.WithDecoderMaxWindow(min(uint64(limit), 64<<20)),
	)
	if err != nil {
		return nil, err
	}
	actual, loaded := zstdDecoders.LoadOrStore(limit, d)
	if loaded {
		d.Close()
	}
	return actual.(*zstd.Decoder), nil
}

func unzstd(src []byte, limit int) ([]byte, error) {
	d, err := zstdDecoder(max(limit, zstd.MinWindowSize))
	if err != nil {
		return nil, err
	}
	out, err := d.DecodeAll(src, nil)
	if err != nil {
		return nil, err
	}
	if len(out) > limit {
		return nil, errTooLarge
	}
	if out == nil {
		out = []byte{}
	}
	return out, nil
}

var (
	gzipWriters sync.Pool // *gzip.Writer
	lz4Writers  sync.Pool // *lz4.Writer

	zstdEncOnce sync.Once
	zstdEnc     *zstd.Encoder
	zstdEncErr  error
)

func compress(codec Codec, raw []byte) ([]byte, error) {
	switch codec {
	case Gzip:
		// Writers carry large tables; reuse them.
		var buf bytes.Buffer
		zw, _ := gzipWriters.Get().(*gzip.Writer)
		if zw == nil {
			zw = gzip.NewWriter(&buf)
		} else {
			zw.Reset(&buf)
		}
		if _, err := zw.Write(raw); err != nil {
			return nil, err
		}
		if err := zw.Close(); err != nil {
			return nil, err
		}
		gzipWriters.Put(zw)
		return buf.Bytes(), nil
	case Snappy:
		return snappy.Encode(nil, raw), nil
	case LZ4:
		var buf bytes.Buffer
		zw, _ := lz4Writers.Get().(*lz4.Writer)
		if zw == nil {
			zw = lz4.NewWriter(&buf)
		} else {
			zw.Reset(&buf)
		}
		defer lz4Writers.Put(zw)
		if _, err := zw.Write(raw); err != nil {
			return nil, err
		}
		if err := zw.Close(); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	case Zstd:
		zstdEncOnce.Do(func() {
			zstdEnc, zstdEncErr = zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
		})
		if zstdEncErr != nil {
			return nil, zstdEncErr
		}
		return zstdEnc.EncodeAll(raw, nil), nil
	}
	return nil, fmt.Errorf("unknown codec %d", int8(codec))
}
