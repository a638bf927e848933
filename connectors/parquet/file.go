package parquet

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/xitongsys/parquet-go-source/writerfile"
	"github.com/xitongsys/parquet-go/layout"
	pq "github.com/xitongsys/parquet-go/parquet"
	"github.com/xitongsys/parquet-go/schema"
	"github.com/xitongsys/parquet-go/writer"

	"github.com/tributary-streams/tributary/connect/data"
)

// codecs are the parquet.codec values.
var codecs = map[string]pq.CompressionCodec{
	"snappy": pq.CompressionCodec_SNAPPY,
	"gzip":   pq.CompressionCodec_GZIP,
	"zstd":   pq.CompressionCodec_ZSTD,
	"lz4":    pq.CompressionCodec_LZ4_RAW,
	"none":   pq.CompressionCodec_UNCOMPRESSED,
}

// rowsPerFlush is how many rows are shredded into pages at a time.
const rowsPerFlush = 4096

// file is a Parquet file being written under a temporary name; commit
// finishes it and renames it into place.
type file struct {
	tmp, final string
	f          *os.File
	buf        *bufio.Writer
	pw         *writer.ParquetWriter
	schema     *fileSchema
	cols       columns // rows shredded since the last flush
	rows       int64
}

// createFile starts a file at tmp (its directory is created) that commit
// renames to final.
func createFile(tmp, final string, fs *fileSchema, codec pq.CompressionCodec) (*file, error) {
	if err := os.MkdirAll(filepath.Dir(tmp), 0o755); err != nil {
		return nil, fmt.Errorf("parquet: %w", err)
	}
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("parquet: %w", err)
	}
	buf := bufio.NewWriterSize(f, 1<<20)
	pw, err := writer.NewParquetWriter(writerfile.NewWriterFile(buf), nil, 1)
	if err != nil {
		f.Close()
		os.Remove(tmp)
		return nil, fmt.Errorf("parquet: start %s: %w", tmp, err)
	}
	w := &file{tmp: tmp, final: final, f: f, buf: buf, pw: pw, schema: fs, cols: fs.newColumns(rowsPerFlush)}
	pw.SchemaHandler = fs.handler
	pw.Footer.Schema = append(pw.Footer.Schema[:0], fs.handler.SchemaElements...)
	// Rows are shredded as they arrive (so a bad value fails its own
	// record); the writer's marshal step just takes the tables.
	pw.MarshalFunc = func([]any, *schema.SchemaHandler) (*map[string]*layout.Table, error) {
		tables := make(map[string]*layout.Table, len(w.cols))
		for i, c := range fs.leaves {
			tables[c.path] = w.cols[i]
		}
		w.cols = fs.newColumns(rowsPerFlush)
		return &tables, nil
	}
	pw.CompressionType = codec
	pw.PageSize = 256 << 10
	pw.RowGroupSize = 64 << 20
	return w, nil
}

// write appends one row; an error (a value the schema cannot hold) leaves
// the file as it was.
func (w *file) write(row *data.Struct) error {
	if err := w.schema.shred(w.cols, row); err != nil {
		return err
	}
	// The writer counts rows by its object list.
	w.pw.Objs = append(w.pw.Objs, nil)
	w.rows++
	if len(w.pw.Objs) >= rowsPerFlush {
		if err := w.pw.Flush(false); err != nil {
			return fmt.Errorf("parquet: write %s: %w", w.tmp, err)
		}
	}
	return nil
}

// commit writes the footer, syncs the file, renames it to its final name
// and syncs the directory: once it returns, the file is there, whole.
func (w *file) commit() error {
	err := w.pw.WriteStop()
	if err == nil {
		err = w.buf.Flush()
	}
	if err == nil {
		err = w.f.Sync()
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.MkdirAll(filepath.Dir(w.final), 0o755)
	}
	if err == nil {
		err = os.Rename(w.tmp, w.final)
	}
	if err == nil {
		err = syncDir(filepath.Dir(w.final))
	}
	if err != nil {
		os.Remove(w.tmp)
		return fmt.Errorf("parquet: commit %s: %w", w.final, err)
	}
	return nil
}

// abort drops the file.
func (w *file) abort() {
	w.f.Close()
	os.Remove(w.tmp)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, os.ErrInvalid) {
		return nil
	}
	return err
}
