// Opening a log: finishing or undoing interrupted compaction swaps, loading
// segments, and recovering after an unclean shutdown.
//
// After a clean Close (marker present) the files are trusted: indexes are
// loaded from disk (and rebuilt only if implausible) and the tail of the
// active segment is scanned from its last index entry to find the end
// offset. Otherwise every segment from the one holding the recovery point
// onward is rescanned: each batch is validated with record.Validate and its
// offsets checked, the indexes are rebuilt, and the log is truncated at the
// first bad or partial byte, deleting any later segments.

package log

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tributary-streams/tributary/broker/internal/record"
	"github.com/tributary-streams/tributary/internal/fsutil"
)

// recoveryChunk is the read size used when scanning segments.
const recoveryChunk = 1 << 20

// load builds the in-memory state from the directory. Single-threaded.
func (l *Log) load() error {
	if err := l.cleanupTempFiles(); err != nil {
		return err
	}
	start, _ := l.readStartOffset()
	rp, _, err := readCheckpoint(l.dir, recoveryPointFile)
	if err != nil {
		l.logger.Warn("ignoring unreadable checkpoint; recovering all segments", "err", err)
		rp = 0
	}
	cleaned, _, err := readCheckpoint(l.dir, cleanerOffsetFile)
	if err != nil {
		l.logger.Warn("ignoring unreadable checkpoint", "err", err)
	}
	l.cleanedUpTo = cleaned

	markerPath := filepath.Join(l.dir, cleanShutdownFile)
	_, statErr := os.Stat(markerPath)
	clean := statErr == nil

	bases, err := l.listSegments()
	if err != nil {
		return err
	}
	// Segments wholly below the start offset are dead (retention or
	// DeleteRecords checkpointed the start offset, then crashed before
	// unlinking them).
	for len(bases) > 1 && bases[1] <= start {
		if err := removeSegmentFiles(l.dir, bases[0]); err != nil {
			return err
		}
		bases = bases[1:]
	}
	for _, b := range bases {
		s, err := openSegment(l.dir, b)
		if err != nil {
			return err
		}
		l.segs = append(l.segs, s)
	}

	// Segments before the one holding the recovery point were fsynced
	// with their indexes before the point moved past them.
	trustedBelow := len(l.segs)
	if !clean {
		trustedBelow = 0
		for i, s := range l.segs {
			if s.base <= rp {
				trustedBelow = i
			}
		}
	}
	end, err := l.recoverSegments(trustedBelow)
	if err != nil {
		return err
	}

	if len(l.segs) == 0 {
		s, err := createSegment(l.dir, start)
		if err != nil {
			return err
		}
		l.segs = []*segment{s}
		end = start
	}
	if start > end {
		// The tail holding the start offset was lost (unclean stop after
		// DeleteRecords). Kafka restarts the log empty at the start offset.
		l.logger.Warn("log start offset is past the recovered end; starting empty", "start_offset", start, "end_offset", end)
		for _, s := range l.segs {
			if err := s.removeFiles(); err != nil {
				return err
			}
			s.release()
		}
		l.segs = nil
		s, err := createSegment(l.dir, start)
		if err != nil {
			return err
		}
		l.segs = []*segment{s}
		end = start
	}
	start = max(start, l.segs[0].base)

	var total int64
	for _, s := range l.segs[:len(l.segs)-1] {
		s.synced.Store(true)
		s.closeIndexFiles()
		total += s.size
	}
	act := l.segs[len(l.segs)-1]
	total += act.size
	l.active = act
	if act.idx == nil {
		if err := act.openIndexFiles(false); err != nil {
			return err
		}
	}
	if err := l.initRollTime(act); err != nil {
		return err
	}
	l.start.Store(start)
	l.end.Store(end)
	l.size.Store(total)
	l.recoveryPoint = end
	l.persistedRP = -1

	// From here on the files will change; the marker must not outlive
	// that, or a crash would make the next Open trust a torn tail.
	if clean {
		if err := os.Remove(markerPath); err != nil {
			return fmt.Errorf("remove clean-shutdown marker: %w", err)
		}
	}
	if err := fsutil.SyncDir(l.dir); err != nil {
		return err
	}
	l.ckMu.Lock()
	err = writeCheckpoint(l.dir, startOffsetFile, start)
	l.ckMu.Unlock()
	if err != nil {
		return err
	}
	// Recovery rewrote files; fsync them so the recovery point can be
	// the end offset.
	for _, s := range l.segs[min(trustedBelow, len(l.segs)-1):] {
		if err := fsync(s.f); err != nil {
			return fmt.Errorf("fsync %s: %w", s.path, err)
		}
	}
	l.syncMu.Lock()
	err = l.persistRecoveryPointLocked()
	l.syncMu.Unlock()
	return err
}

// cleanupTempFiles removes checkpoint temp files and resolves compaction
// swaps. A swap commits when X.log.cleaned is renamed to X.log; index files
// follow. So a leftover .log.cleaned means the swap never committed (drop
// all of its .cleaned files), while leftover index .cleaned files without
// one mean it committed and the index renames must be finished.
func (l *Log) cleanupTempFiles() error {
	entries, err := os.ReadDir(l.dir)
	if err != nil {
		return fmt.Errorf("read dir: %w", err)
	}
	uncommitted := map[string]bool{}
	for _, e := range entries {
		if stem, ok := strings.CutSuffix(e.Name(), logSuffix+cleanedSuffix); ok {
			uncommitted[stem] = true
		}
	}
	for _, e := range entries {
		name := e.Name()
		path := filepath.Join(l.dir, name)
		switch {
		case strings.HasSuffix(name, tmpSuffix):
			if err := os.Remove(path); err != nil {
				return err
			}
		case strings.HasSuffix(name, cleanedSuffix):
			orig := strings.TrimSuffix(name, cleanedSuffix)
			stem := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(orig, logSuffix), indexSuffix), timeIndexSuffix)
			if uncommitted[stem] {
				if err := os.Remove(path); err != nil {
					return err
				}
				continue
			}
			l.logger.Warn("completing interrupted compaction swap", "file", orig)
			if err := os.Rename(path, filepath.Join(l.dir, orig)); err != nil {
				return err
			}
		}
	}
	return nil
}

func (l *Log) listSegments() ([]int64, error) {
	entries, err := os.ReadDir(l.dir)
	if err != nil {
		return nil, fmt.Errorf("read dir: %w", err)
	}
	var bases []int64
	logs := map[string]bool{}
	for _, e := range entries {
		if b, ok := parseSegmentName(e.Name()); ok && e.Type().IsRegular() {
			bases = append(bases, b)
			logs[strings.TrimSuffix(e.Name(), logSuffix)] = true
		}
	}
	// Index files whose .log is gone are leftovers of an interrupted
	// segment deletion (the .log is unlinked first).
	for _, e := range entries {
		name := e.Name()
		for _, suffix := range []string{indexSuffix, timeIndexSuffix} {
			if stem, ok := strings.CutSuffix(name, suffix); ok && len(stem) == 20 && !logs[stem] {
				if err := os.Remove(filepath.Join(l.dir, name)); err != nil {
					return nil, err
				}
			}
		}
	}
	slices.Sort(bases)
	return bases, nil
}

func removeSegmentFiles(dir string, base int64) error {
	s := &segment{path: filepath.Join(dir, segmentName(base)+logSuffix)}
	return s.removeFiles()
}

// recoverSegments loads segments [0, trustedBelow) from their index files
// and rescans the rest, truncating at the first bad byte. It returns the
// end offset.
func (l *Log) recoverSegments(trustedBelow int) (int64, error) {
	interval := l.cfg.Load().IndexIntervalBytes
	for i := 0; i < len(l.segs); i++ {
		s := l.segs[i]
		last := i == len(l.segs)-1
		limit := int64(math.MaxInt64)
		if !last {
			limit = l.segs[i+1].base
		}
		if i < trustedBelow {
			err := s.loadIndexes(limit)
			if err == nil {
				err = s.checkIndexes()
			}
			if err == nil {
				if !last {
					continue
				}
				// Active segment: find the end offset from the last index
				// entry on, trusting headers (the clean marker vouches).
				end, err := l.scanTail(s)
				if err == nil {
					return end, nil
				}
				l.logger.Warn("active segment tail unreadable after clean shutdown; rescanning", "path", s.path, "err", err)
			} else {
				l.logger.Warn("index unusable; rebuilding", "path", s.path, "err", err)
			}
		}
		end, validTo, reason, err := l.scanSegment(s, interval, limit)
		if err != nil {
			return 0, err
		}
		if reason != nil {
			if err := l.truncateAt(i, validTo, reason); err != nil {
				return 0, err
			}
			last = true
		}
		if !last {
			// A closed segment's time index ends with its true maximum
			// (roll does the same); Open derives the segment's largest
			// timestamp from that last entry.
			s.addTimeEntry()
		}
		if err := s.rewriteIndexFiles(last); err != nil {
			return 0, err
		}
		if last {
			return end, nil
		}
	}
	return 0, nil
}

// scanTail reads headers from the active segment's last index entry to its
// end and returns the end offset. It also restores the appender's
// bytes-since-index count.
func (l *Log) scanTail(s *segment) (int64, error) {
	v := &view{s: s, size: s.size, index: s.index}
	pos := int64(0)
	if n := len(s.index); n > 0 {
		pos = int64(s.index[n-1].pos)
	}
	br := batchReader{r: s.f, pos: pos, lim: s.size, chunk: recoveryChunk}
	end := s.base
	for {
		h, err := br.header()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, err
		}
		end = h.LastOffset() + 1
		br.skip(h)
	}
	if len(s.index) > 0 {
		s.sinceIndex = s.size - v.indexPos(math.MaxInt64)
	} else {
		s.sinceIndex = s.size
	}
	return end, nil
}

// scanSegment validates every batch in s, rebuilding its in-memory indexes
// and timestamps. Batch base offsets must not go backwards, must be >= the
// segment base and must end below limit (the next segment's base). It
// returns the end offset of the valid prefix, its length, and reason != nil
// if the segment has bad or partial bytes after it. err is an I/O error.
func (l *Log) scanSegment(s *segment, interval int32, limit int64) (end, validTo int64, reason, err error) {
	s.index, s.tindex, s.maxTs, s.maxTsOff, s.sinceIndex = nil, nil, -1, -1, 0
	size := s.size
	s.size = 0
	br := batchReader{r: s.f, pos: 0, lim: size, chunk: recoveryChunk}
	next := s.base
	for {
		h, herr := br.header()
		if errors.Is(herr, io.EOF) {
			return next, br.pos, nil, nil
		}
		if herr == nil {
			var b []byte
			if b, herr = br.batch(h); herr == nil {
				_, herr = record.Validate(b)
			}
		}
		if herr == nil {
			switch {
			case h.BaseOffset < next:
				herr = fmt.Errorf("%w: batch base offset %d is below the expected %d", errBadOffsets, h.BaseOffset, next)
			case h.LastOffset() >= limit:
				herr = fmt.Errorf("%w: batch last offset %d reaches the next segment's base %d", errBadOffsets, h.LastOffset(), limit)
			case h.LastOffset()-s.base > math.MaxUint32:
				herr = fmt.Errorf("%w: batch last offset %d is too far above the segment base %d", errBadOffsets, h.LastOffset(), s.base)
			}
		}
		if herr != nil {
			if !errors.Is(herr, record.ErrCorrupt) && !errors.Is(herr, errBadOffsets) && isIOError(herr) {
				return 0, 0, nil, herr
			}
			return next, br.pos, herr, nil
		}
		s.observe(h, br.pos, interval)
		next = h.LastOffset() + 1
		br.skip(h)
	}
}

var errBadOffsets = errors.New("bad offsets")

// isIOError tells read failures (which must fail Open) from data problems
// (which truncate). Reads past a file that shrank under us count as I/O.
func isIOError(err error) bool {
	var pe *os.PathError
	return errors.As(err, &pe) || errors.Is(err, io.ErrUnexpectedEOF)
}

// truncateAt cuts segment i at pos and deletes every later segment.
func (l *Log) truncateAt(i int, pos int64, reason error) error {
	s := l.segs[i]
	st, err := s.f.Stat()
	if err != nil {
		return err
	}
	if err := s.f.Truncate(pos); err != nil {
		return fmt.Errorf("truncate %s: %w", s.path, err)
	}
	s.size = pos
	var dropped []string
	for _, later := range l.segs[i+1:] {
		if err := later.removeFiles(); err != nil {
			return err
		}
		dropped = append(dropped, filepath.Base(later.path))
		later.release()
	}
	l.segs = l.segs[:i+1]
	l.logger.Warn("log recovery truncated segment",
		"path", s.path, "position", pos, "bytes_dropped", st.Size()-pos,
		"segments_deleted", dropped, "reason", reason.Error())
	return nil
}

// initRollTime sets the segment.ms clock of the active segment after open:
// the first batch's timestamp if plausible, else now. A wrong guess costs
// at most one early or late roll.
func (l *Log) initRollTime(s *segment) error {
	if s.size == 0 {
		return nil
	}
	now := l.now().UnixMilli()
	s.rollAtMs = now
	buf := make([]byte, record.HeaderSize)
	if _, err := s.f.ReadAt(buf, 0); err != nil {
		return fmt.Errorf("read %s: %w", s.path, err)
	}
	if h, err := record.ParseHeader(buf); err == nil && h.MaxTimestamp >= 0 && h.MaxTimestamp < now {
		s.rollAtMs = h.MaxTimestamp
	}
	return nil
}
