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
	"strconv"
	"strings"

	"github.com/tributary-streams/tributary/broker/internal/record"
	"github.com/tributary-streams/tributary/internal/fsutil"
)

// recoveryChunk is the read size used when scanning segments.
const recoveryChunk = 1 << 20

// load builds the in-memory state from the directory. Single-threaded.
//
// It writes nothing unless recovery has to change something: a cleanly
// closed log is opened by reading its files, and the clean-shutdown marker
// stays until the first change (touch), so an idle log restarts again
// without a scan.
func (l *Log) load() error {
	entries, err := os.ReadDir(l.dir)
	if err != nil {
		return fmt.Errorf("read dir: %w", err)
	}
	if tidied, err := l.cleanupTempFiles(entries); err != nil {
		return err
	} else if tidied {
		if entries, err = os.ReadDir(l.dir); err != nil {
			return fmt.Errorf("read dir: %w", err)
		}
	}
	has := make(map[string]bool, len(entries))
	for _, e := range entries {
		has[e.Name()] = true
	}
	// No start offset file means 0 (what a new log starts at).
	start, startOK := int64(0), false
	l.persistedStart = 0
	if has[startOffsetFile] {
		start, startOK = l.readStartOffset()
		l.persistedStart = -1
		if startOK {
			l.persistedStart = start
		}
	}
	// After a clean Close the recovery point is the end (see below): the
	// file is read only to recover.
	clean := has[cleanShutdownFile]
	var rp int64
	if has[recoveryPointFile] && !clean {
		if rp, _, err = readCheckpoint(l.dir, recoveryPointFile); err != nil {
			l.logger.Warn("ignoring unreadable checkpoint; recovering all segments", "err", err)
			rp = 0
		}
	}
	if has[cleanerOffsetFile] {
		cleaned, _, err := readCheckpoint(l.dir, cleanerOffsetFile)
		if err != nil {
			l.logger.Warn("ignoring unreadable checkpoint", "err", err)
		}
		l.cleanedUpTo = cleaned
	}

	l.marker.Store(clean)

	bases, err := l.listSegments(entries)
	if err != nil {
		return err
	}
	if len(bases) == 0 && !startOK && !has[recoveryPointFile] && !clean {
		return l.create() // a new log (the directory may hold its owner's files)
	}
	// Segments wholly below the start offset are dead (retention or
	// DeleteRecords checkpointed the start offset, then crashed before
	// unlinking them).
	changed := false
	for len(bases) > 1 && bases[1] <= start {
		if err := l.touch(); err != nil {
			return err
		}
		if err := removeSegmentFiles(l.dir, bases[0]); err != nil {
			return err
		}
		bases = bases[1:]
		changed = true
	}
	for _, b := range bases {
		s, err := openSegment(l.files, l.dir, b)
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
	end, truncated, err := l.recoverSegments(trustedBelow)
	if err != nil {
		return err
	}
	changed = changed || truncated

	if len(l.segs) == 0 {
		s, err := createSegment(l.files, l.dir, start)
		if err != nil {
			return err
		}
		l.segs = []*segment{s}
		end = start
		changed = true
	}
	if start > end {
		// The tail holding the start offset was lost (unclean stop after
		// DeleteRecords). Kafka restarts the log empty at the start offset.
		l.logger.Warn("log start offset is past the recovered end; starting empty", "start_offset", start, "end_offset", end)
		if err := l.touch(); err != nil {
			return err
		}
		for _, s := range l.segs {
			if err := s.removeFiles(); err != nil {
				return err
			}
			s.release()
		}
		l.segs = nil
		s, err := createSegment(l.files, l.dir, start)
		if err != nil {
			return err
		}
		l.segs = []*segment{s}
		end = start
		changed = true
	}
	start = max(start, l.segs[0].base)

	var total int64
	for _, s := range l.segs {
		total += s.size
	}
	act := l.segs[len(l.segs)-1]
	l.active = act
	if err := l.initRollTime(act); err != nil {
		return err
	}
	l.start.Store(start)
	l.end.Store(end)
	l.size.Store(total)
	// The recovery point only moves past data once it is fsynced: after a
	// clean Close everything is (rp is the end); after recovery the
	// rescanned segments are not known to be, so it stays where it was.
	// After a clean Close the recovery point is the end, vouched for by
	// the marker rather than written (CloseAll does not write it): the
	// checkpoint file may be older, which after a later crash only means
	// rescanning more.
	if clean {
		l.recoveryPoint, l.persistedRP = end, end
	} else {
		l.recoveryPoint, l.persistedRP = min(rp, end), rp
	}

	if changed {
		if err := fsutil.SyncDir(l.dir); err != nil {
			return err
		}
	}
	if start != l.persistedStart {
		l.ckMu.Lock()
		err = l.writeStartOffsetLocked(start)
		l.ckMu.Unlock()
		if err != nil {
			return err
		}
	}
	return nil
}

// create starts a new, empty log in a directory with no log in it: one empty
// segment and the clean-shutdown marker (an empty log is trivially clean).
// Index files are made with the first entries.
func (l *Log) create() error {
	s, err := createSegment(l.files, l.dir, 0)
	if err != nil {
		return err
	}
	l.segs = []*segment{s}
	l.active = s
	if err := writeIndexFile(filepath.Join(l.dir, cleanShutdownFile), nil, 0, true, false); err != nil {
		return fmt.Errorf("create log: %w", err)
	}
	// No directory sync: until the first append (whose touch syncs the
	// directory as it removes the marker) the log holds nothing, and a
	// crash that loses these entries loses an empty log, which the next
	// Open creates again.
	l.marker.Store(true)
	l.persistedRP, l.persistedStart = 0, 0
	return nil
}

// cleanupTempFiles removes checkpoint temp files and resolves compaction
// swaps. A swap commits when X.log.cleaned is renamed to X.log; index files
// follow. So a leftover .log.cleaned means the swap never committed (drop
// all of its .cleaned files), while leftover index .cleaned files without
// one mean it committed and the index renames must be finished.
func (l *Log) cleanupTempFiles(entries []os.DirEntry) (changed bool, err error) {
	uncommitted := map[string]bool{}
	for _, e := range entries {
		if stem, ok := strings.CutSuffix(e.Name(), logSuffix+cleanedSuffix); ok {
			uncommitted[stem] = true
		}
	}
	for _, e := range entries {
		if stem, ok := strings.CutSuffix(e.Name(), mergeSuffix); ok {
			if err := l.finishMerge(stem, uncommitted[stem]); err != nil {
				return changed, err
			}
			changed = true
		}
	}
	for _, e := range entries {
		name := e.Name()
		path := filepath.Join(l.dir, name)
		switch {
		case strings.HasSuffix(name, mergeSuffix):
			// handled above
		case strings.HasSuffix(name, tmpSuffix):
			if err := os.Remove(path); err != nil {
				return changed, err
			}
			changed = true
		case strings.HasSuffix(name, cleanedSuffix):
			changed = true
			orig := strings.TrimSuffix(name, cleanedSuffix)
			stem := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(orig, logSuffix), indexSuffix), timeIndexSuffix)
			if uncommitted[stem] {
				if err := os.Remove(path); err != nil {
					return changed, err
				}
				continue
			}
			l.logger.Warn("completing interrupted compaction swap", "file", orig)
			if err := os.Rename(path, filepath.Join(l.dir, orig)); err != nil {
				return changed, err
			}
		}
	}
	return changed, nil
}

// finishMerge resolves an interrupted merge of segments into the one named
// stem (see swapMerged). Uncommitted (its cleaned .log was never renamed):
// the old segments are all intact, so only the .merged file goes (the
// .cleaned files are removed by the caller). Committed: the merged segment
// holds everything, so the segments listed in the .merged file are removed.
func (l *Log) finishMerge(stem string, uncommitted bool) error {
	marker := filepath.Join(l.dir, stem+mergeSuffix)
	if !uncommitted {
		raw, err := os.ReadFile(marker)
		if err != nil {
			return fmt.Errorf("read %s: %w", marker, err)
		}
		for _, line := range strings.Fields(string(raw)) {
			base, err := strconv.ParseInt(line, 10, 64)
			if err != nil || base < 0 {
				return fmt.Errorf("%s: bad segment base %q; remove the file once the segments it lists are checked", marker, line)
			}
			if err := removeSegmentFiles(l.dir, base); err != nil {
				return err
			}
		}
		l.logger.Warn("completed interrupted segment merge", "segment", stem, "removed", len(strings.Fields(string(raw))))
	}
	if err := os.Remove(marker); err != nil {
		return err
	}
	return fsutil.SyncDir(l.dir)
}

func (l *Log) listSegments(entries []os.DirEntry) ([]int64, error) {
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
// end offset and whether it truncated. Rescanned segments get their
// indexes rebuilt in memory; their index files are rewritten before they
// are next trusted (a closed one is left unsynced, so the recovery point
// passes it only after syncClosed rewrote and fsynced them).
func (l *Log) recoverSegments(trustedBelow int) (end int64, truncated bool, err error) {
	interval := l.cfg.Load().IndexIntervalBytes
	for i := 0; i < len(l.segs); i++ {
		s := l.segs[i]
		last := i == len(l.segs)-1
		limit := int64(math.MaxInt64)
		if !last {
			limit = l.segs[i+1].base
		}
		if i < trustedBelow {
			err := s.loadIndexes(limit, interval)
			if err == nil {
				err = s.checkIndexes()
			}
			if err == nil {
				if !last {
					s.synced.Store(true)
					continue
				}
				// Active segment: find the end offset from the last index
				// entry on, trusting headers (the clean marker vouches).
				end, err := l.scanTail(s)
				if err == nil {
					return end, false, nil
				}
				l.logger.Warn("active segment tail unreadable after clean shutdown; rescanning", "path", s.path, "err", err)
			} else {
				l.logger.Warn("index unusable; rebuilding", "path", s.path, "err", err)
			}
		}
		end, validTo, reason, err := l.scanSegment(s, interval, limit)
		if err != nil {
			return 0, false, err
		}
		if reason != nil {
			if err := l.touch(); err != nil {
				return 0, false, err
			}
			if err := l.truncateAt(i, validTo, reason); err != nil {
				return 0, false, err
			}
			last, truncated = true, true
		}
		if !last {
			// A closed segment's time index ends with its true maximum
			// (roll does the same); Open derives the segment's largest
			// timestamp from that last entry.
			s.addTimeEntry()
		}
		s.indexStale = true
		if i < trustedBelow && !last {
			// A trusted segment whose index failed its checks: rewrite
			// it now, since it stays trusted.
			if err := s.rewriteIndexFiles(true); err != nil {
				return 0, false, err
			}
			s.synced.Store(true)
		}
		if last {
			return end, truncated, nil
		}
	}
	return 0, truncated, nil
}

// scanTail reads headers from the active segment's last index entry to its
// end and returns the end offset. It also restores the appender's
// bytes-since-index count.
func (l *Log) scanTail(s *segment) (int64, error) {
	interval := l.cfg.Load().IndexIntervalBytes
	pos := int64(0)
	if n := len(s.index); n > 0 {
		pos = int64(s.index[n-1].pos)
	}
	// From the last indexed batch on, the batches are observed as appends
	// are: index entries Close did not write, and the largest timestamp,
	// are restored in memory (the files catch up with the next write).
	size := s.size
	s.sinceIndex = 0
	end, err := s.observeBatches(s.f, pos, size, interval)
	s.size = size
	if err != nil {
		return 0, err
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
	st, err := os.Stat(s.path)
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
