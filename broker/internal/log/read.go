// Reads: fetching raw batches, scanning batches, and timestamp lookups.
//
// Every read takes a view of one segment at a time under Log.mu.RLock (a
// reference plus the committed size and index), releases the lock, and
// reads the file with pread. Appends past the viewed size are ignored;
// a segment deleted by retention meanwhile stays readable through the open
// descriptor until the view is released.

package log

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
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
func (l *Log) Read(offset int64, maxBytes int32, maxOffset int64) ([]byte, error) {
	out, err := l.ReadAppend(nil, offset, maxBytes, maxOffset)
	if len(out) == 0 {
		return nil, err
	}
	return out, err
}

// ReadAppend is Read appending to dst, so a caller can read many
// partitions into one reusable buffer. The batches read are
// out[len(dst):]; on error or at the end of the log, out is dst.
func (l *Log) ReadAppend(dst []byte, offset int64, maxBytes int32, maxOffset int64) ([]byte, error) {
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
	first := true // still in the segment holding offset
	for {
		pos := int64(0)
		if first {
			p, found, err := l.locate(&v, offset)
			if err != nil {
				v.release()
				return dst, err
			}
			pos = p
			if !found {
				pos = v.size // a gap ends this segment: go on to the next
			}
		}
		first = false
		n, done, err := v.collect(&out, len(dst), pos, budget, maxOffset, end)
		v.release()
		if err != nil {
			return dst, err
		}
		budget -= n
		if done || budget <= 0 {
			break
		}
		var ok bool
		if v, ok = l.nextView(v.s.base); !ok {
			break
		}
	}
	return out, nil
}

// collect appends to *out the batches from pos that fit in budget (the
// first batch read, the one at (*out)[outStart:], always fits) and start
// below maxOffset, with one pread. done reports that reading must stop
// (limit reached) rather than continue in the next segment.
func (v *view) collect(out *[]byte, outStart int, pos, budget, maxOffset, end int64) (n int64, done bool, err error) {
	lim := v.size
	if maxOffset < end {
		lim = min(lim, v.boundBefore(maxOffset))
	}
	if pos >= lim {
		return 0, lim < v.size, nil
	}
	want := min(lim-pos, budget)
	firstBatch := len(*out) == outStart
	if firstBatch {
		want = max(want, min(record.HeaderSize, lim-pos))
	}
	buf := grow(out, want)
	if err := readFull(v.s, buf, pos); err != nil {
		return 0, true, err
	}
	p := int64(0)
	for p+12 <= int64(len(buf)) {
		base := int64(binary.BigEndian.Uint64(buf[p:]))
		length := int64(int32(binary.BigEndian.Uint32(buf[p+8:])))
		if length < record.HeaderSize-12 {
			return 0, true, fmt.Errorf("%w: %s at %d: batch length %d", record.ErrCorrupt, v.s.path, pos+p, length)
		}
		if base >= maxOffset {
			done = true
			break
		}
		size := 12 + length
		if p+size > int64(len(buf)) {
			if firstBatch && p == 0 && pos+size <= v.size {
				// KIP-74: the first batch goes out whole even past maxBytes.
				*out = (*out)[:len(*out)-len(buf)]
				buf = grow(out, size)
				if err := readFull(v.s, buf, pos); err != nil {
					return 0, true, err
				}
				p = size
			}
			done = true
			break
		}
		p += size
	}
	*out = (*out)[:len(*out)-len(buf)+int(p)]
	if pos+p < v.size {
		done = true // stopped by budget or maxOffset inside this segment
	}
	return p, done, nil
}

// grow extends *out by n bytes and returns the new tail.
func grow(out *[]byte, n int64) []byte {
	b := *out
	if int64(cap(b)-len(b)) < n {
		// Amortised growth: ReadAppend callers append many reads to one
		// buffer.
		nb := make([]byte, len(b), max(int64(len(b))+n, 2*int64(cap(b))))
		copy(nb, b)
		b = nb
	}
	b = b[:int64(len(b))+n]
	*out = b
	return b[int64(len(b))-n:]
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
