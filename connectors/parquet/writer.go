package parquet

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	pq "github.com/xitongsys/parquet-go/parquet"

	"github.com/tributary-streams/tributary/connect"
	"github.com/tributary-streams/tributary/connect/data"
)

// partitionWriter writes the records of one Kafka partition: a batch of
// files, one per encoded partition, each named after the offset of its
// first record, committed together when the batch rotates (flush.size
// records, rotate.interval.ms of record time, a scheduled rotation or a
// schema change). Rotation points depend only on the records (except
// rotate.schedule.interval.ms), so after a crash the batch that was open
// is read again from the committed offset and written to the same names:
// files are exactly once.
type partitionWriter struct {
	tp    connect.TopicPartition
	cfg   *Config
	part  *partitioner
	codec pq.CompressionCodec

	schema   *data.Schema // the schema files are written with
	compiled *fileSchema
	files    map[string]*file
	order    []string // encoded partitions in the order their files opened

	first    int64 // offset of the batch's first record; -1 with no batch
	count    int
	baseTime int64     // record time of the batch's first record
	due      time.Time // when a scheduled rotation commits the batch
	next     int64     // offset after the last record seen; -1 before any
	// broken is a failed commit: the batch's records are not in any file,
	// so nothing after its first offset may be committed again.
	broken error
}

func newPartitionWriter(tp connect.TopicPartition, cfg *Config, part *partitioner) *partitionWriter {
	return &partitionWriter{tp: tp, cfg: cfg, part: part, codec: codecs[cfg.Codec], files: map[string]*file{}, first: -1, next: -1}
}

// write adds one record.
func (w *partitionWriter) write(r *connect.SinkRecord, now time.Time) error {
	if w.broken != nil {
		return w.broken
	}
	if r.Value == nil {
		if !w.cfg.IgnoreNulls {
			return connect.DataErrorf("parquet: record %s-%d@%d has a null value (a tombstone); set behavior.on.null.values=ignore to skip such records, or drop them with a transform",
				r.Original.Topic, r.Original.Partition, r.OriginalOffset)
		}
		w.skip(r)
		return nil
	}
	row, ok := r.Value.(*data.Struct)
	if !ok {
		return connect.DataErrorf("parquet: record %s-%d@%d has a %T value; Parquet rows are structs (use a converter with schemas, or ExtractNewRecordState for change events)",
			r.Original.Topic, r.Original.Partition, r.OriginalOffset, r.Value)
	}
	schema := r.ValueSchema
	if schema == nil {
		schema = row.Schema()
	}
	if w.schema == nil || !sameSchema(w.schema, schema) {
		projected, ok := w.project(row, schema)
		if ok {
			row = projected
		} else {
			// A new schema: the files so far are done.
			if err := w.rotate(); err != nil {
				return err
			}
			fs, err := compileSchema(schema)
			if err != nil {
				return connect.DataErrorf("parquet: record %s-%d@%d: %w", r.Original.Topic, r.Original.Partition, r.OriginalOffset, err)
			}
			w.schema, w.compiled = schema, fs
		}
	}
	var ts int64
	if w.cfg.RotateInterval > 0 || w.part.format != nil {
		var err error
		if ts, err = w.part.timestamp(r, now); err != nil {
			return err
		}
	}
	if w.count > 0 && w.cfg.RotateInterval > 0 && ts-w.baseTime >= w.cfg.RotateInterval.Milliseconds() {
		if err := w.rotate(); err != nil {
			return err
		}
	}
	enc, err := w.part.encode(r, ts)
	if err != nil {
		return err
	}
	f := w.files[enc]
	if f == nil {
		name := w.fileName(r.OriginalOffset)
		final := filepath.Join(w.cfg.Dir, w.cfg.TopicsDir, w.tp.Topic, filepath.FromSlash(enc), name)
		tmp := filepath.Join(w.tempDir(), filepath.FromSlash(enc), name+".tmp")
		if f, err = createFile(tmp, final, w.compiled, w.codec); err != nil {
			return err
		}
		w.files[enc] = f
		w.order = append(w.order, enc)
	}
	if err := f.write(row); err != nil {
		return connect.DataErrorf("parquet: record %s-%d@%d: %w", r.Original.Topic, r.Original.Partition, r.OriginalOffset, err)
	}
	if w.count == 0 {
		w.first, w.baseTime = r.OriginalOffset, ts
		if w.cfg.RotateSchedule > 0 {
			d := w.cfg.RotateSchedule
			w.due = now.Truncate(d).Add(d)
		}
	}
	w.count++
	w.next = r.OriginalOffset + 1
	if w.count >= w.cfg.FlushSize {
		return w.rotate()
	}
	return nil
}

// skip notes a record that is not written.
func (w *partitionWriter) skip(r *connect.SinkRecord) { w.next = r.OriginalOffset + 1 }

// tick commits the batch when its scheduled rotation is due.
func (w *partitionWriter) tick(now time.Time) error {
	if w.count > 0 && w.cfg.RotateSchedule > 0 && !now.Before(w.due) {
		return w.rotate()
	}
	return nil
}

// fileName is <topic>+<partition>+<start offset, zero padded>.parquet.
func (w *partitionWriter) fileName(offset int64) string {
	off := strconv.FormatInt(offset, 10)
	for len(off) < w.cfg.OffsetPad {
		off = "0" + off
	}
	d := w.cfg.FileDelim
	return w.tp.Topic + d + strconv.Itoa(int(w.tp.Partition)) + d + off + ".parquet"
}

// tempDir holds a topic's files being written: <topics.dir>/+tmp/<topic>
// (a Kafka topic cannot be called +tmp).
func (w *partitionWriter) tempDir() string {
	return filepath.Join(w.cfg.Dir, w.cfg.TopicsDir, "+tmp", w.tp.Topic)
}

// rotate commits every open file of the batch.
func (w *partitionWriter) rotate() error {
	for i, enc := range w.order {
		if err := w.files[enc].commit(); err != nil {
			for _, rest := range w.order[i+1:] {
				w.files[rest].abort()
			}
			// Keep first and count: committed() stays at the batch start.
			w.files, w.order, w.broken = map[string]*file{}, nil, err
			return err
		}
	}
	w.reset()
	return nil
}

func (w *partitionWriter) reset() {
	w.files = map[string]*file{}
	w.order = nil
	w.count, w.first = 0, -1
}

// committed is the offset to commit: the first record of the open batch,
// or the next offset when everything seen is in committed files.
func (w *partitionWriter) committed() (int64, bool) {
	if w.count > 0 {
		return w.first, true
	}
	return w.next, w.next >= 0
}

// abort drops the open batch (its records are read again).
func (w *partitionWriter) abort() {
	for _, enc := range w.order {
		w.files[enc].abort()
	}
	w.reset()
}

// removeStaleTemp deletes temporary files this partition left behind (a
// crash before their commit): their records were never committed and will
// be written again.
func (w *partitionWriter) removeStaleTemp() error {
	prefix := w.tp.Topic + w.cfg.FileDelim + strconv.Itoa(int(w.tp.Partition)) + w.cfg.FileDelim
	root := w.tempDir()
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return filepath.SkipDir
			}
			return err
		}
		if !d.IsDir() && strings.HasPrefix(d.Name(), prefix) && strings.HasSuffix(d.Name(), ".parquet.tmp") {
			return os.Remove(path)
		}
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("parquet: clean up %s: %w", root, err)
	}
	return nil
}

// sameSchema compares schemas cheaply when they are one value.
func sameSchema(a, b *data.Schema) bool { return a == b || a.Equal(b) }

// project rewrites a row of an older schema with the current one, for
// schema.compatibility=BACKWARD: every current field must be in the row's
// schema with the same schema, or be optional or have a default, and the
// row may have no field the current schema lacks.
func (w *partitionWriter) project(row *data.Struct, s *data.Schema) (*data.Struct, bool) {
	if w.cfg.Compatibility != "BACKWARD" || w.schema == nil || w.schema.Type != data.TypeStruct || s.Type != data.TypeStruct {
		return nil, false
	}
	for _, f := range s.Fields {
		cf, ok := w.schema.Field(f.Name)
		if !ok || !cf.Schema.Equal(f.Schema) {
			return nil, false
		}
	}
	out := data.NewStruct(w.schema)
	for _, cf := range w.schema.Fields {
		f, ok := s.Field(cf.Name)
		if !ok {
			if !cf.Schema.Optional && cf.Schema.Default == nil {
				return nil, false
			}
			continue
		}
		if err := out.PutAt(cf.Index, row.At(f.Index)); err != nil {
			return nil, false
		}
	}
	return out, true
}
