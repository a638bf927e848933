// Index sanity. Indexes are hints that save scanning; a damaged one must
// never make a read skip a record, fail, or a timestamp lookup answer the
// wrong offset. So, as Kafka does on load, checkIndexes checks a trusted
// segment's indexes against its log (entries increasing, offsets within the
// segment, positions within the file in loadIndexes; the last offset entry
// must land on a batch with the offset it names, and the last time entry on
// a batch whose largest timestamp it is). And every lookup checks the batch
// it lands on: a batch whose base offset is not the one the index named
// marks the segment's index bad. Lookups then scan the segment from its
// start (slower, never wrong) until repairIndexes, run by Tick and Close,
// rebuilds the index from the log and rewrites its files.

package log

import (
	"errors"
	"fmt"
	"io"

	"github.com/tributary-streams/tributary/broker/internal/record"
)

// headerAt reads the batch header at pos.
func (s *segment) headerAt(pos, size int64) (record.Header, error) {
	br := batchReader{r: s.f, pos: pos, lim: size, chunk: record.HeaderSize}
	return br.header()
}

// checkIndexes checks the last offset and time index entries of a loaded
// segment against its log.
func (s *segment) checkIndexes() error {
	v := &view{s: s, size: s.size, index: s.index, tindex: s.tindex}
	if n := len(s.index); n > 0 {
		e := s.index[n-1]
		h, err := s.headerAt(int64(e.pos), s.size)
		if err != nil || h.BaseOffset != s.base+int64(e.rel) {
			return fmt.Errorf("last offset index entry (%d at position %d) does not match the log (batch there: %v)", s.base+int64(e.rel), e.pos, headerOrErr(h, err))
		}
	}
	if n := len(s.tindex); n > 0 {
		e := s.tindex[n-1]
		want := s.base + int64(e.rel)
		h, err := v.batchWithBase(want)
		if err != nil || h.MaxTimestamp != e.ts {
			return fmt.Errorf("last time index entry (timestamp %d at offset %d) does not match the log (batch there: %v)", e.ts, want, headerOrErr(h, err))
		}
	}
	return nil
}

func headerOrErr(h record.Header, err error) any {
	if err != nil {
		return err
	}
	return fmt.Sprintf("base offset %d, max timestamp %d", h.BaseOffset, h.MaxTimestamp)
}

var errNoSuchBatch = errors.New("no batch with that base offset")

// batchWithBase finds the header of the batch whose base offset is base,
// scanning from the index entry at or below it.
func (v *view) batchWithBase(base int64) (record.Header, error) {
	pos, _ := v.entryAt(base)
	br := batchReader{r: v.s.f, pos: pos, lim: v.size, chunk: locateChunk}
	for {
		h, err := br.header()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = errNoSuchBatch
			}
			return h, err
		}
		if h.BaseOffset == base {
			return h, nil
		}
		if h.BaseOffset > base {
			return h, errNoSuchBatch
		}
		br.skip(h)
	}
}

// seek returns the position to scan from for offset off: the index entry at
// or below it, once the batch there is checked to start at the offset the
// entry names, else 0 (the segment's start) with the segment's index marked
// bad.
func (l *Log) seek(v *view, off int64) int64 {
	pos, want := v.entryAt(off)
	if pos == 0 {
		return 0
	}
	h, err := v.s.headerAt(pos, v.size)
	if err == nil && h.BaseOffset == want {
		return pos
	}
	l.indexMismatch(v.s, want, pos, headerOrErr(h, err))
	return 0
}

// timeSeek returns the position to scan from for the first batch reaching
// timestamp ts, from the time index, checked against the log like seek.
func (l *Log) timeSeek(v *view, ts int64) int64 {
	entryTs, base, ok := v.timeEntryAt(ts)
	if !ok {
		return 0
	}
	h, err := v.batchWithBase(base)
	if err == nil && h.MaxTimestamp == entryTs {
		return l.seek(v, base)
	}
	l.indexMismatch(v.s, base, -1, fmt.Sprintf("time index says timestamp %d, log: %v", entryTs, headerOrErr(h, err)))
	return 0
}

// indexMismatch marks s's index bad, logging it the first time.
func (l *Log) indexMismatch(s *segment, wantBase, pos int64, found any) {
	if s.indexBad.CompareAndSwap(false, true) {
		l.badIndexes.Add(1)
		l.logger.Warn("index does not match the log; scanning the segment until the index is rebuilt",
			"path", s.path, "offset", wantBase, "position", pos, "found", found)
	}
}

// repairIndexes rebuilds the index of every segment marked bad. It takes
// maintMu and appendMu, so no segment is replaced or appended to meanwhile.
func (l *Log) repairIndexes() {
	if l.badIndexes.Load() == 0 {
		return
	}
	l.maintMu.Lock()
	defer l.maintMu.Unlock()
	l.appendMu.Lock()
	defer l.appendMu.Unlock()
	if l.closed.Load() {
		return
	}
	if err := l.touch(); err != nil {
		l.logger.Warn("index rebuild postponed", "err", err)
		return
	}
	l.repairIndexesLocked()
}

// repairIndexesLocked is repairIndexes for a caller holding maintMu and
// appendMu.
func (l *Log) repairIndexesLocked() {
	l.mu.RLock()
	segs := append([]*segment(nil), l.segs...)
	l.mu.RUnlock()
	for _, s := range segs {
		if !s.indexBad.Load() {
			continue
		}
		if err := l.rebuildIndex(s, s == l.active); err != nil {
			l.logger.Warn("index rebuild failed; lookups keep scanning the segment", "path", s.path, "err", err)
			l.indexBroken = true
			continue
		}
		s.indexBad.Store(false)
		l.badIndexes.Add(-1)
		l.logger.Info("index rebuilt from the log", "path", s.path, "entries", len(s.index))
	}
}

// rebuildIndex recomputes s's indexes from its batch headers, publishes
// them and rewrites the index files.
func (l *Log) rebuildIndex(s *segment, active bool) error {
	interval := l.cfg.Load().IndexIntervalBytes
	l.mu.RLock()
	size := s.size
	l.mu.RUnlock()
	fresh := &segment{base: s.base, maxTs: -1, maxTsOff: -1}
	if _, err := fresh.observeBatches(s.f, 0, size, interval); err != nil {
		return err
	}
	if !active {
		fresh.addTimeEntry()
	}
	l.mu.Lock()
	s.index, s.tindex, s.maxTs, s.maxTsOff = fresh.index, fresh.tindex, fresh.maxTs, fresh.maxTsOff
	if active {
		s.sinceIndex = fresh.sinceIndex
	}
	l.mu.Unlock()
	// The background fsync of a just-rolled segment may hold its index
	// files: take syncMu to replace them.
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	return s.rewriteIndexFiles(!active)
}
