// Segments: one .log file of whole batches plus its sparse offset index and
// time index, both also held in memory so reads never touch the index files.
//
// Index files (Kafka's layout, big-endian):
//
//	.index      8-byte entries: offset relative to the segment base (u32),
//	            file position (u32). The offset is the BASE offset of the
//	            batch at that position, so a lookup finds a batch starting at
//	            or before the wanted offset.
//	.timeindex  12-byte entries: largest timestamp so far (i64), relative
//	            base offset of the first batch that reached it (u32).
//
// An offset entry is added when more than IndexIntervalBytes were appended
// since the previous one; a time entry is added alongside it when the
// largest timestamp grew, and once more when the segment stops being active.

package log

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/tributary-streams/tributary/broker/internal/record"
)

const (
	logSuffix       = ".log"
	indexSuffix     = ".index"
	timeIndexSuffix = ".timeindex"
	cleanedSuffix   = ".cleaned"

	indexEntrySize = 8
	timeEntrySize  = 12
)

type indexEntry struct {
	rel uint32 // batch base offset - segment base
	pos uint32
}

type timeEntry struct {
	ts  int64
	rel uint32
}

func segmentName(base int64) string { return fmt.Sprintf("%020d", base) }

// parseSegmentName returns the base offset of a "<20 digits>.log" name.
func parseSegmentName(name string) (int64, bool) {
	stem, ok := strings.CutSuffix(name, logSuffix)
	if !ok || len(stem) != 20 {
		return 0, false
	}
	v, err := strconv.ParseInt(stem, 10, 64)
	if err != nil || v < 0 {
		return 0, false
	}
	return v, true
}

// segment is one .log file and its indexes.
//
// Lifetime: refs starts at 1, the reference held by the Log's segment list.
// Readers acquire a reference under Log.mu.RLock (so the segment is still
// listed) and release it when done; removal from the list drops the list's
// reference. Whoever drops the last reference closes the file. Files are
// unlinked by whoever removes the segment, after pinning the descriptor
// (files.go) so that readers still holding the segment keep reading it,
// which Linux (and every Unix) allows.
type segment struct {
	base int64
	path string       // .log path; index paths derive from it
	f    *segmentFile // opened on demand through the log's Files
	refs atomic.Int32

	synced atomic.Bool // .log and indexes fsynced since the segment was closed
	// indexBad is set when a lookup landed somewhere the index did not
	// promise (index.go): lookups then scan the segment from its start
	// until Tick or Close rebuilds the index.
	indexBad atomic.Bool

	// Written under Log.mu.Lock (by the appender, or single-threaded in
	// Open); readers copy them under Log.mu.RLock. Index slices only grow,
	// so a copied slice header stays valid.
	size     int64
	index    []indexEntry
	tindex   []timeEntry
	maxTs    int64 // largest batch MaxTimestamp, -1 if none
	maxTsOff int64 // base offset of the first batch reaching maxTs, -1 if none

	// Appender-only state (Log.appendMu, or Open), then the syncer's
	// (Log.syncMu) once the segment is closed.
	sinceIndex int64 // bytes appended since the last offset index entry
	rollAtMs   int64 // wall-clock ms used for segment.ms; 0 when empty
	idxOnDisk  int   // index entries already written to the .index file
	tidxOnDisk int   // time index entries already written
	// indexStale says the index files on disk do not match the in-memory
	// indexes (recovery rebuilt them): the next write rewrites them whole.
	indexStale bool
	pending    []byte
}

func (s *segment) indexPath() string { return strings.TrimSuffix(s.path, logSuffix) + indexSuffix }
func (s *segment) timeIndexPath() string {
	return strings.TrimSuffix(s.path, logSuffix) + timeIndexSuffix
}

func newSegment(files *Files, dir string, base int64, f *os.File) *segment {
	path := filepath.Join(dir, segmentName(base)+logSuffix)
	s := &segment{
		base:     base,
		path:     path,
		f:        files.newSegmentFile(path, f),
		maxTs:    -1,
		maxTsOff: -1,
	}
	s.refs.Store(1)
	return s
}

// createSegment makes a new empty segment. Its index files are created
// with their first entries.
func createSegment(files *Files, dir string, base int64) (*segment, error) {
	path := filepath.Join(dir, segmentName(base)+logSuffix)
	// O_EXCL: a segment file with this base already existing means the
	// log's bookkeeping is wrong; refuse rather than clobber data.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create segment: %w", err)
	}
	// Stale index files of an earlier segment with this base would be
	// taken for this one's.
	for _, p := range []string{strings.TrimSuffix(path, logSuffix) + indexSuffix, strings.TrimSuffix(path, logSuffix) + timeIndexSuffix} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			f.Close()
			os.Remove(path)
			return nil, fmt.Errorf("create segment: %w", err)
		}
	}
	return newSegment(files, dir, base, f), nil
}

// openSegment describes an existing .log file; its descriptor opens when
// it is first read.
func openSegment(files *Files, dir string, base int64) (*segment, error) {
	s := newSegment(files, dir, base, nil)
	st, err := os.Stat(s.path)
	if err != nil {
		return nil, fmt.Errorf("open segment: %w", err)
	}
	s.size = st.Size()
	return s, nil
}

func (s *segment) acquire() { s.refs.Add(1) }

func (s *segment) release() {
	if s.refs.Add(-1) == 0 {
		s.f.close()
	}
}

// removeFiles unlinks the segment's files. Open descriptors stay readable.
func (s *segment) removeFiles() error {
	var errs []error
	for _, p := range []string{s.path, s.indexPath(), s.timeIndexPath()} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// observe records a batch appended at pos in the in-memory indexes.
// Caller holds Log.mu.Lock or is single-threaded.
func (s *segment) observe(h record.Header, pos int64, interval int32) {
	if h.MaxTimestamp > s.maxTs {
		s.maxTs = h.MaxTimestamp
		s.maxTsOff = h.BaseOffset
	}
	// Kafka's rule: index the batch that starts after more than interval
	// bytes went by unindexed. The first batch is found from position 0.
	if s.sinceIndex > int64(interval) {
		s.index = append(s.index, indexEntry{rel: uint32(h.BaseOffset - s.base), pos: uint32(pos)})
		s.sinceIndex = 0
		s.addTimeEntry()
	}
	s.sinceIndex += int64(h.Size())
	s.size = pos + int64(h.Size())
}

// observeBatches observes every batch of r in [pos, lim), reading only
// their headers, and returns the offset after the last one (base if none).
// Caller holds Log.mu.Lock or is single-threaded, as for observe.
func (s *segment) observeBatches(r io.ReaderAt, pos, lim int64, interval int32) (next int64, err error) {
	br := batchReader{r: r, pos: pos, lim: lim, chunk: recoveryChunk}
	next = s.base
	for {
		h, err := br.header()
		if errors.Is(err, io.EOF) {
			return next, nil
		}
		if err != nil {
			return next, err
		}
		s.observe(h, br.pos, interval)
		next = h.LastOffset() + 1
		br.skip(h)
	}
}

// addTimeEntry appends (maxTs, maxTsOff) to the time index if it grew.
func (s *segment) addTimeEntry() bool {
	if s.maxTsOff < 0 {
		return false
	}
	if n := len(s.tindex); n > 0 && s.tindex[n-1].ts >= s.maxTs {
		return false
	}
	s.tindex = append(s.tindex, timeEntry{ts: s.maxTs, rel: uint32(s.maxTsOff - s.base)})
	return true
}

// writePendingIndex writes the in-memory index entries not yet in the
// files, in one write per file (the whole indexes when the files are
// stale). Entries are written in bulk rather than per append: the active
// segment's index is rebuilt by recovery after a crash anyway, and roll and
// Close write the rest before anyone trusts the files. The files are open
// only for the write. Appender only (the slices only grow under the
// appender), or the syncer once the segment is closed.
func (s *segment) writePendingIndex() error {
	if s.indexStale {
		return s.rewriteIndexFiles(false)
	}
	if n := len(s.index); n > s.idxOnDisk {
		buf := s.pending[:0]
		for _, e := range s.index[s.idxOnDisk:] {
			buf = binary.BigEndian.AppendUint32(buf, e.rel)
			buf = binary.BigEndian.AppendUint32(buf, e.pos)
		}
		s.pending = buf
		if err := writeIndexFile(s.indexPath(), buf, int64(s.idxOnDisk)*indexEntrySize, false, false); err != nil {
			return fmt.Errorf("write index %s: %w", s.indexPath(), err)
		}
		s.idxOnDisk = n
	}
	if n := len(s.tindex); n > s.tidxOnDisk {
		buf := s.pending[:0]
		for _, e := range s.tindex[s.tidxOnDisk:] {
			buf = binary.BigEndian.AppendUint64(buf, uint64(e.ts))
			buf = binary.BigEndian.AppendUint32(buf, e.rel)
		}
		s.pending = buf
		if err := writeIndexFile(s.timeIndexPath(), buf, int64(s.tidxOnDisk)*timeEntrySize, false, false); err != nil {
			return fmt.Errorf("write time index %s: %w", s.timeIndexPath(), err)
		}
		s.tidxOnDisk = n
	}
	return nil
}

// writeIndexFile writes buf at off in path (creating it; emptying it first
// if truncate), fsyncing it if sync.
func writeIndexFile(path string, buf []byte, off int64, truncate, sync bool) error {
	flags := os.O_RDWR | os.O_CREATE
	if truncate {
		flags |= os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, 0o644)
	if err != nil {
		return err
	}
	_, err = f.WriteAt(buf, off)
	if err == nil && sync {
		err = fsync(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// encodeIndexes serialises the in-memory indexes.
func (s *segment) encodeIndexes() (idx, tidx []byte) {
	idx = make([]byte, 0, len(s.index)*indexEntrySize)
	for _, e := range s.index {
		idx = binary.BigEndian.AppendUint32(idx, e.rel)
		idx = binary.BigEndian.AppendUint32(idx, e.pos)
	}
	tidx = make([]byte, 0, len(s.tindex)*timeEntrySize)
	for _, e := range s.tindex {
		tidx = binary.BigEndian.AppendUint64(tidx, uint64(e.ts))
		tidx = binary.BigEndian.AppendUint32(tidx, e.rel)
	}
	return idx, tidx
}

// rewriteIndexFiles replaces the index files with the in-memory indexes,
// fsyncing them if sync.
func (s *segment) rewriteIndexFiles(sync bool) error {
	idx, tidx := s.encodeIndexes()
	if err := writeIndexFile(s.indexPath(), idx, 0, true, sync); err != nil {
		return fmt.Errorf("write index %s: %w", s.indexPath(), err)
	}
	if err := writeIndexFile(s.timeIndexPath(), tidx, 0, true, sync); err != nil {
		return fmt.Errorf("write time index %s: %w", s.timeIndexPath(), err)
	}
	s.idxOnDisk, s.tidxOnDisk, s.indexStale = len(s.index), len(s.tindex), false
	return nil
}

// syncIndexFiles writes what is pending and fsyncs the index files.
func (s *segment) syncIndexFiles() error {
	if s.indexStale {
		return s.rewriteIndexFiles(true)
	}
	if err := s.writePendingIndex(); err != nil {
		return err
	}
	for _, p := range []string{s.indexPath(), s.timeIndexPath()} {
		f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return fmt.Errorf("fsync %s: %w", p, err)
		}
		err = fsync(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("fsync %s: %w", p, err)
		}
	}
	return nil
}

// loadIndexes reads the index files into memory and checks that they are
// plausible for a .log of s.size bytes, indexed every interval bytes, whose
// offsets lie below limit (the
// next segment's base): entries increasing, offsets within the segment,
// positions within the file. checkIndexes then checks the last entries
// against the log. An error means "rebuild by scanning".
func (s *segment) loadIndexes(limit int64, interval int32) error {
	// Index files are made with their first entries: a missing one is an
	// empty index for a segment too small to have an entry, and damage
	// for a larger one.
	small := s.size <= int64(interval)
	if small && s.size == 0 {
		return nil // nothing to index, nothing to read
	}
	ib, err := os.ReadFile(s.indexPath())
	if err != nil && !(small && errors.Is(err, os.ErrNotExist)) {
		return err
	}
	tb, err := os.ReadFile(s.timeIndexPath())
	if err != nil && !(small && errors.Is(err, os.ErrNotExist)) {
		return err
	}
	if len(ib)%indexEntrySize != 0 || len(tb)%timeEntrySize != 0 {
		return fmt.Errorf("index sizes %d and %d are not whole entries", len(ib), len(tb))
	}
	index := make([]indexEntry, len(ib)/indexEntrySize)
	for i := range index {
		e := indexEntry{
			rel: binary.BigEndian.Uint32(ib[i*indexEntrySize:]),
			pos: binary.BigEndian.Uint32(ib[i*indexEntrySize+4:]),
		}
		if int64(e.pos) >= s.size || s.base+int64(e.rel) >= limit || (i > 0 && (e.rel <= index[i-1].rel || e.pos <= index[i-1].pos)) {
			return fmt.Errorf("offset index entry %d (%d, %d) is out of order or past the end", i, e.rel, e.pos)
		}
		index[i] = e
	}
	tindex := make([]timeEntry, len(tb)/timeEntrySize)
	for i := range tindex {
		e := timeEntry{
			ts:  int64(binary.BigEndian.Uint64(tb[i*timeEntrySize:])),
			rel: binary.BigEndian.Uint32(tb[i*timeEntrySize+8:]),
		}
		if s.base+int64(e.rel) >= limit || (i > 0 && (e.ts <= tindex[i-1].ts || e.rel < tindex[i-1].rel)) {
			return fmt.Errorf("time index entry %d is out of order or past the end", i)
		}
		tindex[i] = e
	}
	s.index, s.tindex = index, tindex
	s.idxOnDisk, s.tidxOnDisk = len(index), len(tindex)
	if n := len(tindex); n > 0 {
		s.maxTs = tindex[n-1].ts
		s.maxTsOff = s.base + int64(tindex[n-1].rel)
	}
	return nil
}

// view is a reader's snapshot of a segment: the committed size and index at
// the time it was taken. The reader holds a reference until release.
type view struct {
	s      *segment
	size   int64
	index  []indexEntry
	tindex []timeEntry
	maxTs  int64
}

// takeView must be called under Log.mu (read or write).
func takeView(s *segment) view {
	s.acquire()
	return view{s: s, size: s.size, index: s.index, tindex: s.tindex, maxTs: s.maxTs}
}

func (v *view) release() { v.s.release() }

// entryAt returns the position and base offset of the last indexed batch
// whose base offset is <= off, or (0, segment base) when there is none or
// the index is known to be bad. The caller checks the batch found there
// (see index.go) before trusting it.
func (v *view) entryAt(off int64) (pos, base int64) {
	if off < v.s.base || v.s.indexBad.Load() {
		return 0, v.s.base
	}
	rel := off - v.s.base
	i := sort.Search(len(v.index), func(i int) bool { return int64(v.index[i].rel) > rel })
	if i == 0 {
		return 0, v.s.base
	}
	return int64(v.index[i-1].pos), v.s.base + int64(v.index[i-1].rel)
}

// indexPos is entryAt's position.
func (v *view) indexPos(off int64) int64 {
	pos, _ := v.entryAt(off)
	return pos
}

// boundBefore returns a file position at or before which every batch has a
// base offset < off: the position of the first indexed batch with base >=
// off, else the committed size. Readers still check each batch's offset;
// a bad index only makes a read shorter.
func (v *view) boundBefore(off int64) int64 {
	if v.s.indexBad.Load() {
		return v.size
	}
	rel := off - v.s.base
	i := sort.Search(len(v.index), func(i int) bool { return int64(v.index[i].rel) >= rel })
	if i < len(v.index) {
		return int64(v.index[i].pos)
	}
	return v.size
}

// timeEntryAt returns the last time index entry with timestamp <= ts, as
// (timestamp, base offset of its batch), or ok=false.
func (v *view) timeEntryAt(ts int64) (entryTs, base int64, ok bool) {
	if v.s.indexBad.Load() {
		return 0, 0, false
	}
	i := sort.Search(len(v.tindex), func(i int) bool { return v.tindex[i].ts > ts })
	if i == 0 {
		return 0, 0, false
	}
	return v.tindex[i-1].ts, v.s.base + int64(v.tindex[i-1].rel), true
}

// batchReader walks whole batches in [pos, lim) of a file, reading in
// chunks so small batches cost one read per chunk, not one per batch.
type batchReader struct {
	r      io.ReaderAt
	pos    int64
	lim    int64
	chunk  int
	buf    []byte
	bufPos int64
}

var errPartial = fmt.Errorf("%w: partial batch", record.ErrCorrupt)

// fill makes [pos, pos+n) available and returns it. The caller has checked
// pos+n <= lim.
func (br *batchReader) fill(n int) ([]byte, error) {
	if br.pos >= br.bufPos && br.pos+int64(n) <= br.bufPos+int64(len(br.buf)) {
		off := br.pos - br.bufPos
		return br.buf[off : off+int64(n)], nil
	}
	want := int(min(int64(max(n, br.chunk)), br.lim-br.pos))
	if cap(br.buf) < want {
		br.buf = make([]byte, want)
	}
	br.buf = br.buf[:want]
	got, err := br.r.ReadAt(br.buf, br.pos)
	if got < want {
		br.buf = br.buf[:0]
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("read at %d: %w", br.pos, err)
	}
	br.bufPos = br.pos
	return br.buf[:n], nil
}

// header parses the header of the batch at pos. It returns io.EOF at lim,
// and an error wrapping record.ErrCorrupt if the bytes there cannot be the
// start of a batch that fits before lim.
func (br *batchReader) header() (record.Header, error) {
	if br.pos >= br.lim {
		return record.Header{}, io.EOF
	}
	if left := br.lim - br.pos; left < record.HeaderSize {
		return record.Header{}, fmt.Errorf("%w: %d bytes left, less than a batch header", errPartial, left)
	}
	b, err := br.fill(record.HeaderSize)
	if err != nil {
		return record.Header{}, err
	}
	h, err := record.ParseHeader(b)
	if err != nil {
		return h, err
	}
	if left := br.lim - br.pos; int64(h.Size()) > left {
		return h, fmt.Errorf("%w: batch of %d bytes, %d bytes left", errPartial, h.Size(), left)
	}
	return h, nil
}

// batch returns the whole batch whose header was just read; it is valid
// until the next call.
func (br *batchReader) batch(h record.Header) ([]byte, error) { return br.fill(h.Size()) }

func (br *batchReader) skip(h record.Header) { br.pos += int64(h.Size()) }
