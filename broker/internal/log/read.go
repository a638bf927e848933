// Reads: fetching raw batches, scanning batches, and timestamp lookups.
//
// Every read takes a view of one segment at a time under Log.mu.RLock (a
// reference plus the committed size and index), releases the lock, and
// reads the file with pread. Appends past the viewed size are ignored;
// a segment deleted by retention meanwhile stays readable through the open
// descriptor until the view is released. Fetches read Sections: views of
// whole batches that the broker sends from the file to the socket.

package log

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"sync"

	"github.com/tributary-streams/tributary/broker/internal/record"
)

// locateChunk is the read size for header scans. An index entry is at most
// about IndexIntervalBytes before the wanted batch, so one chunk usually
// covers the scan.
const locateChunk = 8 << 10

var locateBufs = sync.Pool{New: func() any { b := make([]byte, locateChunk); return &b }}

// viewAtLocked returns a view of the segment that would hold offset: the
// last one whose base is <= offset (the first if none). Caller holds mu.
func (l *Log) viewAtLocked(offset int64) view {
	i := sort.Search(len(l.segs), func(i int) bool { return l.segs[i].base > offset }) - 1
	return takeView(l.segs[max(i, 0)])
}

// nextView returns a view of the segment after the one based at base, if
// any. Looking it up by base copes with segments removed or replaced since.
// (Views are values so a fetch does not allocate one.)
func (l *Log) nextView(base int64) (view, bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	i := sort.Search(len(l.segs), func(i int) bool { return l.segs[i].base > base })
	if i == len(l.segs) {
		return view{}, false
	}
	return takeView(l.segs[i]), true
}

// locate returns the position of the first batch in v whose last offset is
// >= offset, starting from the sparse index; found is false if no batch in
// the view reaches offset (compaction can leave gaps at a segment's end).
// The batch the index entry leads to must start at the offset the entry
// names; if not, the index is marked bad and the segment scanned from its
// start (index.go).
func (l *Log) locate(v *view, offset int64) (pos int64, found bool, err error) {
	bufp := locateBufs.Get().(*[]byte)
	defer locateBufs.Put(bufp)
	start, want := v.entryAt(offset)
	br := batchReader{r: v.s.f, pos: start, lim: v.size, chunk: locateChunk, buf: (*bufp)[:0]}
	check := start > 0
	for {
		h, err := br.header()
		if check {
			check = false
			if err != nil || h.BaseOffset != want {
				l.indexMismatch(v.s, want, start, headerOrErr(h, err))
				br = batchReader{r: v.s.f, pos: 0, lim: v.size, chunk: locateChunk, buf: (*bufp)[:0]}
				continue
			}
		}
		if errors.Is(err, io.EOF) {
			return 0, false, nil
		}
		if err != nil {
			return 0, false, fmt.Errorf("read %s: %w", v.s.path, err)
		}
		if h.LastOffset() >= offset {
			return br.pos, true, nil
		}
		br.skip(h)
	}
}

// Read returns whole batches, concatenated, starting with the batch that
// holds offset (it may start before offset, as in Kafka). It stops before a
// batch whose base offset is >= maxOffset and before a batch that would
// take the total past maxBytes, except that the first batch is always
// returned whole (KIP-74). It returns nil, nil at the end of the log and an
// error wrapping ErrOffsetOutOfRange outside [StartOffset, EndOffset].
// It is ReadSections read into memory.
func (l *Log) Read(offset int64, maxBytes int32, maxOffset int64) ([]byte, error) {
	secs, err := l.ReadSections(nil, offset, maxBytes, maxOffset)
	defer ReleaseAll(secs)
	if err != nil {
		return nil, err
	}
	var out []byte
	for i := range secs {
		if out, err = secs[i].AppendTo(out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Section is a run of whole batches in one segment file, bytes [pos,
// pos+size) of it, which a reader can send without reading them into
// memory. It holds a reference to its segment, so the file stays open and
// the bytes readable until Release, even if retention or compaction
// removes or replaces the segment meanwhile (they unlink or rename files,
// never rewrite committed bytes, and a segment's descriptor closes only
// with its last reference).
type Section struct {
	v       view
	pos     int64
	size    int64
	records int64
}

// Size is the section's length in bytes.
func (s *Section) Size() int64 { return s.size }

// Records is how many records the section's batches hold.
func (s *Section) Records() int64 { return s.records }

// WithFile calls fn with the segment file, open for the call (the
// descriptor cache, files.go, closes no file in use; it reopens one it
// closed while idle, and a file unlinked or replaced meanwhile was pinned
// open first), and the section's position in it. fn may only read it with positioned reads
// (pread, or sendfile given an offset): other readers share the
// descriptor, so its file offset must never move.
func (s *Section) WithFile(fn func(f *os.File, pos int64) error) error {
	f, err := s.v.s.f.acquire()
	if err != nil {
		return err
	}
	defer s.v.s.f.release()
	return fn(f, s.pos)
}

// AppendTo appends the section's bytes to dst, read with one pread.
func (s *Section) AppendTo(dst []byte) ([]byte, error) {
	n := len(dst)
	dst = slices.Grow(dst, int(s.size))[:n+int(s.size)]
	if err := readFull(s.v.s, dst[n:], s.pos); err != nil {
		return dst[:n], err
	}
	return dst, nil
}

// Release drops the section's reference to its segment. The section must
// not be used afterwards.
func (s *Section) Release() {
	if s.v.s != nil {
		s.v.release()
		s.v.s = nil
	}
}

// ReleaseAll releases every section of secs.
func ReleaseAll(secs []Section) {
	for i := range secs {
		secs[i].Release()
	}
}

// ReadSections is Read returning the batches as sections of the segment
// files, appended to dst, one per segment read: no record bytes are read
// into memory, only batch headers. The caller releases each section
// appended. On error or at the end of the log it returns dst.
func (l *Log) ReadSections(dst []Section, offset int64, maxBytes int32, maxOffset int64) ([]Section, error) {
	l.mu.RLock()
	if l.closed.Load() {
		l.mu.RUnlock()
		return dst, ErrClosed
	}
	start, end := l.start.Load(), l.end.Load()
	if offset < start || offset > end {
		l.mu.RUnlock()
		return dst, fmt.Errorf("%w: offset %d, log holds [%d, %d)", ErrOffsetOutOfRange, offset, start, end)
	}
	if offset == end || offset >= maxOffset {
		l.mu.RUnlock()
		return dst, nil
	}
	v := l.viewAtLocked(offset)
	l.mu.RUnlock()

	budget := max(int64(maxBytes), 0)
	out := dst
	for first := true; ; first = false {
		pos := int64(0)
		if first {
			p, found, err := l.locate(&v, offset)
			if err != nil {
				v.release()
				ReleaseAll(out[len(dst):])
				return dst, err
			}
			pos = p
			if !found {
				pos = v.size // a gap ends this segment: go on to the next
			}
		}
		sec, done, err := v.section(pos, budget, maxOffset, len(out) == len(dst))
		base := v.s.base
		if err != nil || sec.size == 0 {
			v.release()
		} else {
			out = append(out, sec) // the section keeps v's reference
		}
		if err != nil {
			ReleaseAll(out[len(dst):])
			return dst, err
		}
		budget -= sec.size
		if done || budget <= 0 {
			break
		}
		var ok bool
		if v, ok = l.nextView(base); !ok {
			break
		}
	}
	return out, nil
}

// Header walks read a header's worth (headerChunk) per batch while batches
// are large, and walkChunk at a time once they are small, so that a run of
// small batches costs a read per chunk rather than per batch.
const (
	walkChunk   = 64 << 10
	headerChunk = 512
)

var walkBufs = sync.Pool{New: func() any { b := make([]byte, walkChunk); return &b }}

// section returns the whole batches of v from pos on that fit in budget
// (the first batch of a read, first, always fits: KIP-74) and start below
// maxOffset, walking their headers. done reports that reading must stop
// (limit reached) rather than go on in the next segment. The section
// shares v's reference; the caller keeps or releases it.
func (v *view) section(pos, budget, maxOffset int64, first bool) (sec Section, done bool, err error) {
	sec = Section{v: *v, pos: pos}
	if pos >= v.size {
		return sec, false, nil
	}
	bufp := walkBufs.Get().(*[]byte)
	defer walkBufs.Put(bufp)
	br := batchReader{r: v.s.f, pos: pos, lim: v.size, chunk: headerChunk, buf: (*bufp)[:0]}
	for {
		h, err := br.header()
		if errors.Is(err, io.EOF) {
			return sec, false, nil
		}
		if err != nil {
			return sec, true, fmt.Errorf("read %s: %w", v.s.path, err)
		}
		size := int64(h.Size())
		if h.BaseOffset >= maxOffset || (sec.size+size > budget && !(first && sec.size == 0)) {
			return sec, true, nil
		}
		sec.size += size
		sec.records += int64(h.NumRecords)
		br.skip(h)
		if size >= walkChunk/4 {
			br.chunk = headerChunk
		} else {
			br.chunk = walkChunk
		}
	}
}

func readFull(s *segment, buf []byte, pos int64) error {
	n, err := s.f.ReadAt(buf, pos)
	if n < len(buf) {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("read %s at %d: %w", s.path, pos, err)
	}
	return nil
}

// ForEachBatch calls fn with each whole batch from the one holding from
// (clamped to StartOffset) up to the end offset at the time of the call.
// batch is only valid during fn. An error from fn stops the scan and is
// returned unchanged.
func (l *Log) ForEachBatch(from int64, fn func(h record.Header, batch []byte) error) error {
	l.mu.RLock()
	if l.closed.Load() {
		l.mu.RUnlock()
		return ErrClosed
	}
	from = max(from, l.start.Load())
	end := l.end.Load()
	if from >= end {
		l.mu.RUnlock()
		return nil
	}
	v := l.viewAtLocked(from)
	l.mu.RUnlock()

	first := true
	for {
		err := l.scanView(&v, first, from, end, fn)
		first = false
		base := v.s.base
		v.release()
		if err != nil {
			if errors.Is(err, errStopScan) {
				return nil
			}
			return err
		}
		var ok bool
		if v, ok = l.nextView(base); !ok {
			return nil
		}
	}
}

var errStopScan = errors.New("stop scan")

func (l *Log) scanView(v *view, first bool, from, end int64, fn func(record.Header, []byte) error) error {
	pos := int64(0)
	if first {
		p, found, err := l.locate(v, from)
		if err != nil || !found {
			return err
		}
		pos = p
	}
	br := batchReader{r: v.s.f, pos: pos, lim: v.size, chunk: recoveryChunk}
	for {
		h, err := br.header()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", v.s.path, err)
		}
		if h.BaseOffset >= end {
			return errStopScan
		}
		b, err := br.batch(h)
		if err != nil {
			return fmt.Errorf("read %s: %w", v.s.path, err)
		}
		if err := fn(h, b); err != nil {
			return err
		}
		br.skip(h)
	}
}

// OffsetForTimestamp finds the first record at or after StartOffset whose
// timestamp is >= ts, returning its offset and timestamp. The time index
// narrows the search to a segment and position; the batch is decoded to find
// the record. If decoding fails the batch's base offset and max timestamp
// are returned instead.
func (l *Log) OffsetForTimestamp(ts int64) (offset, timestamp int64, found bool) {
	l.mu.RLock()
	if l.closed.Load() {
		l.mu.RUnlock()
		return -1, -1, false
	}
	start := l.start.Load()
	v, more := l.firstViewWithMaxTs(ts, -1)
	l.mu.RUnlock()
	for more {
		off, t, ok := l.searchTimestamp(&v, ts, start)
		base := v.s.base
		v.release()
		if ok {
			return off, t, true
		}
		l.mu.RLock()
		v, more = l.firstViewWithMaxTs(ts, base)
		l.mu.RUnlock()
	}
	return -1, -1, false
}

// firstViewWithMaxTs views the first segment based after `after` whose
// largest timestamp is >= ts. Caller holds mu.
func (l *Log) firstViewWithMaxTs(ts, after int64) (view, bool) {
	for _, s := range l.segs {
		if s.base > after && s.maxTs >= ts && s.maxTsOff >= 0 {
			return takeView(s), true
		}
	}
	return view{}, false
}

func (l *Log) searchTimestamp(v *view, ts, start int64) (int64, int64, bool) {
	pos := max(l.timeSeek(v, ts), l.seek(v, start))
	br := batchReader{r: v.s.f, pos: pos, lim: v.size, chunk: locateChunk}
	for {
		h, err := br.header()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				l.logger.Warn("timestamp lookup read failed", "path", v.s.path, "err", err)
			}
			return -1, -1, false
		}
		if h.LastOffset() >= start && h.MaxTimestamp >= ts {
			b, err := br.batch(h)
			if err != nil {
				l.logger.Warn("timestamp lookup read failed", "path", v.s.path, "err", err)
				return -1, -1, false
			}
			recs, err := record.Records(b)
			if err != nil {
				return max(h.BaseOffset, start), h.MaxTimestamp, true
			}
			for _, r := range recs {
				off := h.BaseOffset + int64(r.OffsetDelta)
				if t := h.RecordTimestamp(r); off >= start && t >= ts {
					return off, t, true
				}
			}
		}
		br.skip(h)
	}
}

// MaxTimestamp returns the offset and timestamp of the record with the
// largest timestamp (the first such record), or -1, -1 if the log holds no
// timestamped records.
func (l *Log) MaxTimestamp() (offset, timestamp int64) {
	l.mu.RLock()
	if l.closed.Load() {
		l.mu.RUnlock()
		return -1, -1
	}
	var best *segment
	for _, s := range l.segs {
		if s.maxTsOff >= 0 && (best == nil || s.maxTs > best.maxTs) {
			best = s
		}
	}
	if best == nil {
		l.mu.RUnlock()
		return -1, -1
	}
	v := takeView(best)
	maxTs, maxOff := best.maxTs, best.maxTsOff
	l.mu.RUnlock()
	defer v.release()

	br := batchReader{r: v.s.f, pos: l.seek(&v, maxOff), lim: v.size, chunk: locateChunk}
	for {
		h, err := br.header()
		if err != nil {
			return maxOff, maxTs
		}
		if h.BaseOffset == maxOff {
			b, err := br.batch(h)
			if err != nil {
				return maxOff, maxTs
			}
			recs, err := record.Records(b)
			if err != nil {
				return maxOff, maxTs
			}
			for _, r := range recs {
				if h.RecordTimestamp(r) == maxTs {
					return h.BaseOffset + int64(r.OffsetDelta), maxTs
				}
			}
			return maxOff, maxTs
		}
		if h.BaseOffset > maxOff {
			return maxOff, maxTs
		}
		br.skip(h)
	}
}
