package parquet

import (
	"fmt"
	_ "unsafe" // go:linkname

	"github.com/pierrec/lz4/v4"
	"github.com/xitongsys/parquet-go/compress"
	pq "github.com/xitongsys/parquet-go/parquet"
)

// xitongsys/parquet-go v1.6.2 compresses its LZ4 codec as LZ4 frames under
// the deprecated LZ4 id, which other readers reject, and has no LZ4_RAW
// (raw LZ4 blocks, the codec the Parquet format specifies for LZ4). Its
// codecs live in an unexported table, so parquet.codec=lz4 registers an
// LZ4_RAW compressor there. TestReadBack reads lz4 files back with
// parquet-go/parquet-go, so a library upgrade that moves the table fails
// that test rather than writing unreadable files.
//
//go:linkname compressors github.com/xitongsys/parquet-go/compress.compressors
var compressors map[pq.CompressionCodec]*compress.Compressor

func init() {
	compressors[pq.CompressionCodec_LZ4_RAW] = &compress.Compressor{
		Compress: func(buf []byte) []byte {
			var c lz4.Compressor
			out := make([]byte, lz4.CompressBlockBound(len(buf)))
			n, err := c.CompressBlock(buf, out)
			if err != nil || n == 0 && len(buf) > 0 {
				// Cannot happen with a CompressBlockBound buffer.
				panic(fmt.Sprintf("parquet: lz4 block compression: n=%d err=%v", n, err))
			}
			return out[:n]
		},
		Uncompress: func(buf []byte) ([]byte, error) {
			// Pages say their size; grow until the block fits.
			size := max(4*len(buf), 64<<10)
			for size <= 1<<30 {
				out := make([]byte, size)
				n, err := lz4.UncompressBlock(buf, out)
				if err == nil {
					return out[:n], nil
				}
				size *= 2
			}
			return nil, fmt.Errorf("parquet: lz4 block does not decompress")
		},
	}
}
