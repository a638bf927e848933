// Package log is one partition's durable, segmented log, following Kafka's
// storage design: a directory of segments named by base offset, each a .log
// file of record batches stored exactly as produced (only base offset and
// leader epoch rewritten), with a sparse offset index and a time index.
//
// Files on disk: <20-digit base offset>.log, .index and .timeindex per
// segment, plus the checkpoints described in checkpoint.go.
package log

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tributary-streams/tributary/broker/internal/record"
	"github.com/tributary-streams/tributary/internal/fsutil"
)

// This file holds the Log type, appends, flushing and shutdown. Recovery is
// in recover.go, reads in read.go, retention in retention.go, compaction in
// compact.go.
//
// Locking (acquire in this order; never the reverse):
//
//	maintMu   serialises maintenance: Compact, EnforceRetention,
//	          DeleteRecords, Close. These remove or replace closed segments.
//	appendMu  serialises writers of the active segment: Append,
//	          AppendWithOffset, Flush, Tick's flush, Close.
//	syncMu    serialises fsyncs of closed segments and the recovery point.
//	ckMu      serialises checkpoint file writes.
//	mu        (RWMutex) guards the segment list and what readers snapshot.
//	          Writers hold it only to publish, never during I/O; readers
//	          hold the read lock only to take a view (see segment.go), then
//	          read the file without it.
//
// An append writes the batch to the file first (appendMu only), then takes
// mu to publish the new size, index entries and end offset. A reader never
// reads past the size it saw, so it cannot observe a half-written batch.

var (
	// ErrOffsetOutOfRange is wrapped when an offset is outside
	// [StartOffset, EndOffset].
	ErrOffsetOutOfRange = errors.New("offset out of range")
	// ErrClosed is returned by operations on a closed log.
	ErrClosed = errors.New("log closed")
	// ErrOffsetNotIncreasing is wrapped when AppendWithOffset gets a batch
	// starting below the end offset.
	ErrOffsetNotIncreasing = errors.New("batch offset below log end offset")
)

// Log is one partition's log. It is safe for concurrent use.
type Log struct {
	dir    string
	logger *slog.Logger
	now    func() time.Time // replaced by tests
	cfg    atomic.Pointer[Config]

	maintMu  sync.Mutex
	appendMu sync.Mutex
	syncMu   sync.Mutex
	ckMu     sync.Mutex
	mu       sync.RWMutex

	// Guarded by mu. segs is ordered by base offset; its last element is
	// active. The atomics are written under mu.Lock too (so they agree
	// with segs) but can be read without it.
	segs   []*segment
	start  atomic.Int64
	end    atomic.Int64
	size   atomic.Int64
	closed atomic.Bool

	// Appender state, guarded by appendMu. active is also written under
	// mu.Lock when it changes.
	active      *segment
	unflushed   int64 // messages since the last fsync
	lastFlush   time.Time
	indexBroken bool // an index write failed: do not vouch for index files at Close

	// Guarded by syncMu.
	recoveryPoint int64
	persistedRP   int64

	// Guarded by maintMu.
	cleanedUpTo  int64
	horizonKnown bool
	nextHorizon  int64 // earliest tombstone delete horizon in cleaned segments, MaxInt64 if none

	bg sync.WaitGroup // background fsyncs of rolled segments

	badIndexes atomic.Int32 // segments whose index is marked bad (index.go)

	files *Files
	// marker says the clean-shutdown marker is on disk and the files are
	// as it vouches: nothing has changed since the clean Close. The first
	// change removes it durably (touch); a Close with nothing changed
	// writes nothing.
	markerMu sync.Mutex
	marker   atomic.Bool
	// persistedStart is the start offset in the checkpoint file, -1 if
	// unknown. Guarded by ckMu.
	persistedStart int64
}

// Options are what a log takes from its owner besides its Config.
type Options struct {
	// Logger receives the log's warnings; nil means slog.Default().
	Logger *slog.Logger
	// Files is the descriptor cache shared with the owner's other logs;
	// nil gives the log an unbounded one of its own.
	Files *Files
}

// Open opens (creating if needed) the log in dir, recovering it if it was
// not closed cleanly. Opening a cleanly closed log writes nothing.
func Open(dir string, cfg Config, o Options) (*Log, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("open log %s: %w", dir, err)
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.Default()
	}
	files := o.Files
	if files == nil {
		files = NewFiles(0)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("open log: %w", err)
	}
	l := &Log{dir: dir, logger: logger.With("log", dir), now: time.Now, files: files, persistedStart: -1}
	l.cfg.Store(&cfg)
	if err := l.load(); err != nil {
		for _, s := range l.segs {
			s.release()
		}
		return nil, fmt.Errorf("open log %s: %w", dir, err)
	}
	l.lastFlush = l.now()
	return l, nil
}

// touch is called before anything in the directory changes. While the
// clean-shutdown marker is there, the next Open trusts the files without
// looking, so it must be gone (durably) before they change.
func (l *Log) touch() error {
	if !l.marker.Load() {
		return nil
	}
	l.markerMu.Lock()
	defer l.markerMu.Unlock()
	if !l.marker.Load() {
		return nil
	}
	if err := os.Remove(filepath.Join(l.dir, cleanShutdownFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove clean-shutdown marker: %w", err)
	}
	if err := fsutil.SyncDir(l.dir); err != nil {
		return fmt.Errorf("remove clean-shutdown marker: %w", err)
	}
	l.marker.Store(false)
	return nil
}

// checkpoint writes a checkpoint file after touch. Caller holds ckMu.
func (l *Log) checkpoint(name string, v int64) error {
	if err := l.touch(); err != nil {
		return err
	}
	return writeCheckpoint(l.dir, name, v)
}

// StartOffset is the first offset readers may fetch.
func (l *Log) StartOffset() int64 { return l.start.Load() }

// EndOffset is the offset the next appended record gets (the LEO).
func (l *Log) EndOffset() int64 { return l.end.Load() }

// Size is the total size of the .log files in bytes.
func (l *Log) Size() int64 { return l.size.Load() }

// NumSegments is the number of segments, including the active one.
func (l *Log) NumSegments() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return len(l.segs)
}

// Config returns the current configuration.
func (l *Log) Config() Config { return *l.cfg.Load() }

// SetConfig replaces the configuration; it applies from the next append or
// maintenance call.
func (l *Log) SetConfig(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("log %s: %w", l.dir, err)
	}
	l.cfg.Store(&cfg)
	return nil
}

// headerForAppend checks the framing an append depends on. Full validation
// (CRC, records) is the caller's job, done once on the produce path.
func headerForAppend(batch []byte) (record.Header, error) {
	h, err := record.ParseHeader(batch)
	if err != nil {
		return h, err
	}
	if h.Size() != len(batch) {
		return h, fmt.Errorf("%w: batch length field says %d bytes, have %d", record.ErrCorrupt, h.Size(), len(batch))
	}
	if h.LastOffsetDelta < 0 {
		return h, fmt.Errorf("%w: negative last offset delta %d", record.ErrCorrupt, h.LastOffsetDelta)
	}
	return h, nil
}

// Append assigns the next offsets to batch (one whole v2 batch that the
// caller validated), rewriting its base offset and leader epoch in place,
// and appends it. It returns the assigned base offset. When Append returns
// the bytes are in the OS (they survive a process crash); they are on disk
// only per the flush policy.
func (l *Log) Append(batch []byte) (int64, error) {
	h, err := headerForAppend(batch)
	if err != nil {
		return -1, err
	}
	l.appendMu.Lock()
	defer l.appendMu.Unlock()
	if l.closed.Load() {
		return -1, ErrClosed
	}
	base := l.end.Load()
	record.SetBaseOffset(batch, base)
	record.SetLeaderEpoch(batch, 0)
	h.BaseOffset, h.LeaderEpoch = base, 0
	if err := l.appendLocked(batch, h); err != nil {
		return -1, err
	}
	return base, nil
}

// AppendWithOffset appends batch keeping its own base offset, which must be
// at least EndOffset (gaps are allowed). The end offset becomes the batch's
// last offset + 1.
func (l *Log) AppendWithOffset(batch []byte) error {
	h, err := headerForAppend(batch)
	if err != nil {
		return err
	}
	l.appendMu.Lock()
	defer l.appendMu.Unlock()
	if l.closed.Load() {
		return ErrClosed
	}
	if end := l.end.Load(); h.BaseOffset < end {
		return fmt.Errorf("append at offset %d, end offset is %d: %w", h.BaseOffset, end, ErrOffsetNotIncreasing)
	}
	return l.appendLocked(batch, h)
}

// appendLocked writes batch (header h, final offsets) to the active
// segment, rolling first if needed. Caller holds appendMu.
func (l *Log) appendLocked(batch []byte, h record.Header) error {
	if err := l.touch(); err != nil {
		return err
	}
	cfg := l.cfg.Load()
	now := l.now()
	nowMs := now.UnixMilli()
	seg := l.active
	if l.shouldRoll(seg, h, cfg, nowMs) {
		var err error
		if seg, err = l.roll(h.BaseOffset); err != nil {
			return err
		}
	}
	pos := seg.size
	if _, err := seg.f.WriteAt(batch, pos); err != nil {
		// Drop any partial write so the next append starts clean.
		if terr := seg.f.Truncate(pos); terr != nil {
			l.logger.Error("cannot truncate after failed write; log needs recovery", "path", seg.path, "err", terr)
			l.indexBroken = true
		}
		return fmt.Errorf("append to %s: %w", seg.path, err)
	}
	if seg.size == 0 {
		seg.rollAtMs = nowMs
	}

	l.mu.Lock()
	seg.observe(h, pos, cfg.IndexIntervalBytes)
	l.end.Store(h.LastOffset() + 1)
	l.size.Add(int64(len(batch)))
	l.mu.Unlock()

	if len(seg.index)-seg.idxOnDisk >= indexWriteBatch {
		l.writeIndex(seg)
	}

	l.unflushed += int64(h.NumRecords)
	if cfg.FsyncAlways || l.unflushed >= cfg.FlushMessages || now.Sub(l.lastFlush).Milliseconds() >= cfg.FlushMs {
		if err := l.flushLocked(now); err != nil {
			return err
		}
	}
	return nil
}

// indexWriteBatch is how many offset index entries the active segment
// buffers before writing them out.
const indexWriteBatch = 256

// writeIndex writes seg's pending index entries. The data they describe is
// already appended and visible, and a missing entry only costs a rebuild at
// the next open, so a failure is logged and remembered, not returned:
// Close then withholds the clean-shutdown marker. Caller holds appendMu.
func (l *Log) writeIndex(seg *segment) {
	if err := seg.writePendingIndex(); err != nil && !l.indexBroken {
		l.logger.Error("index write failed; indexes will be rebuilt on next open", "err", err)
		l.indexBroken = true
	}
}

// shouldRoll decides whether the batch must go to a new segment.
func (l *Log) shouldRoll(seg *segment, h record.Header, cfg *Config, nowMs int64) bool {
	// Offsets in the indexes are 32-bit relative to the segment base.
	if h.LastOffset()-seg.base > math.MaxUint32 {
		return true
	}
	if seg.size == 0 {
		return false // an empty segment takes any batch, however large
	}
	if seg.size+int64(h.Size()) > cfg.SegmentBytes {
		return true
	}
	return nowMs-seg.rollAtMs > cfg.SegmentMs
}

// roll closes the active segment and starts a new one at base. The old
// segment is fsynced in the background, as Kafka does, so the append that
// triggered the roll does not wait for it. Caller holds appendMu.
func (l *Log) roll(base int64) (*segment, error) {
	old := l.active
	ns, err := createSegment(l.files, l.dir, base)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	old.addTimeEntry() // the time index must end at the segment's true max
	l.mu.Unlock()
	// The closed segment's index files must be complete before the
	// background sync lets the recovery point pass it. They are written
	// before the segment is published as closed: from then on a
	// background sync (this roll's, or an earlier one still running) owns
	// its index state.
	l.writeIndex(old)
	l.mu.Lock()
	l.segs = append(l.segs, ns)
	l.active = ns
	l.mu.Unlock()
	l.bg.Add(1)
	go func() {
		defer l.bg.Done()
		if err := l.syncClosed(true); err != nil {
			l.logger.Warn("background fsync of rolled segment failed", "err", err)
		}
	}()
	return ns, nil
}

// syncClosed fsyncs every closed segment not yet synced, closes their
// index files, and advances the recovery point to the first segment that
// is not synced. If persist, the recovery point is checkpointed.
func (l *Log) syncClosed(persist bool) error {
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	l.mu.RLock()
	if len(l.segs) == 0 { // closed
		l.mu.RUnlock()
		return nil
	}
	var todo []*segment
	for _, s := range l.segs[:len(l.segs)-1] {
		if !s.synced.Load() {
			s.acquire()
			todo = append(todo, s)
		}
	}
	l.mu.RUnlock()
	var err error
	for _, s := range todo {
		if err == nil {
			err = s.sync()
		}
		s.release()
	}
	if err != nil {
		return err
	}
	l.mu.RLock()
	rp := l.active.base
	for _, s := range l.segs {
		if !s.synced.Load() && s != l.active {
			rp = s.base
			break
		}
	}
	l.mu.RUnlock()
	l.recoveryPoint = max(l.recoveryPoint, rp)
	if persist {
		return l.persistRecoveryPointLocked()
	}
	return nil
}

// sync fsyncs a closed segment and its index files. Caller holds
// Log.syncMu.
func (s *segment) sync() error {
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", s.path, err)
	}
	if err := s.syncIndexFiles(); err != nil {
		return err
	}
	s.synced.Store(true)
	return nil
}

// persistRecoveryPointLocked writes the recovery point if it moved. Caller
// holds syncMu.
func (l *Log) persistRecoveryPointLocked() error {
	if l.recoveryPoint == l.persistedRP {
		return nil
	}
	l.ckMu.Lock()
	err := l.checkpoint(recoveryPointFile, l.recoveryPoint)
	l.ckMu.Unlock()
	if err == nil {
		l.persistedRP = l.recoveryPoint
	}
	return err
}

// flushLocked fsyncs everything appended so far and moves the in-memory
// recovery point to the end offset. The active segment's index files are
// not fsynced: recovery always rescans the segment holding the recovery
// point and rebuilds its indexes. Caller holds appendMu.
func (l *Log) flushLocked(now time.Time) error {
	end := l.end.Load()
	if err := l.syncClosed(false); err != nil {
		return err
	}
	if err := l.active.f.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", l.active.path, err)
	}
	l.syncMu.Lock()
	l.recoveryPoint = max(l.recoveryPoint, end)
	l.syncMu.Unlock()
	l.unflushed = 0
	l.lastFlush = now
	return nil
}

// Flush fsyncs all appended data.
func (l *Log) Flush() error {
	l.appendMu.Lock()
	defer l.appendMu.Unlock()
	if l.closed.Load() {
		return ErrClosed
	}
	return l.flushLocked(l.now())
}

// Tick runs periodic work: the flush.ms policy, and checkpointing the
// recovery point so an unclean restart rescans less.
func (l *Log) Tick(now time.Time) error {
	l.repairIndexes()
	l.appendMu.Lock()
	if l.closed.Load() {
		l.appendMu.Unlock()
		return ErrClosed
	}
	var err error
	cfg := l.cfg.Load()
	if l.unflushed > 0 && now.Sub(l.lastFlush).Milliseconds() >= cfg.FlushMs {
		err = l.flushLocked(now)
	}
	if err == nil && l.active.size > 0 && now.UnixMilli()-l.active.rollAtMs > cfg.SegmentMs {
		// An idle active segment rolls by segment.ms too, not only at the
		// next append, so that retention and compaction reach its data.
		_, err = l.roll(l.end.Load())
	}
	l.appendMu.Unlock()
	if err != nil {
		return err
	}
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	return l.persistRecoveryPointLocked()
}

// Close flushes everything, checkpoints, and writes the clean-shutdown
// marker so the next Open can skip recovery. Readers still holding segment
// references finish normally; new operations get ErrClosed.
func (l *Log) Close() error {
	l.maintMu.Lock()
	defer l.maintMu.Unlock()
	l.appendMu.Lock()
	defer l.appendMu.Unlock()
	if l.closed.Load() {
		return ErrClosed
	}
	l.bg.Wait()

	var err error
	if !l.marker.Load() || l.badIndexes.Load() > 0 {
		err = l.closeLocked()
	} // else nothing changed since the last clean Close: nothing to write
	l.shut()
	if err != nil {
		return fmt.Errorf("close log %s: %w", l.dir, err)
	}
	return nil
}

func (l *Log) closeLocked() error {
	if err := l.touch(); err != nil {
		return err
	}
	l.repairIndexesLocked()
	act := l.active
	l.mu.Lock()
	act.addTimeEntry()
	l.mu.Unlock()
	l.writeIndex(act)
	if err := l.flushLocked(l.now()); err != nil {
		return err
	}
	if err := act.syncIndexFiles(); err != nil {
		return err
	}
	l.syncMu.Lock()
	l.recoveryPoint = l.end.Load()
	err := l.persistRecoveryPointLocked()
	l.syncMu.Unlock()
	if err != nil {
		return err
	}
	l.ckMu.Lock()
	defer l.ckMu.Unlock()
	if err := l.writeStartOffsetLocked(l.start.Load()); err != nil {
		return err
	}
	if l.indexBroken {
		// Let the next Open rebuild what we could not write.
		return nil
	}
	f, err := os.Create(l.dir + string(os.PathSeparator) + cleanShutdownFile)
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := fsutil.SyncDir(l.dir); err != nil {
		return err
	}
	l.marker.Store(true)
	return nil
}

// writeStartOffsetLocked checkpoints the start offset if it changed.
// Caller holds ckMu.
func (l *Log) writeStartOffsetLocked(v int64) error {
	if v == l.persistedStart {
		return nil
	}
	if err := l.checkpoint(startOffsetFile, v); err != nil {
		return err
	}
	l.persistedStart = v
	return nil
}

// Abandon stops the log without writing anything to its directory: no
// flush, checkpoint or clean-shutdown marker. It is for a log whose
// directory is about to be renamed away or removed (a deleted topic), so
// that nothing is written under the old path afterwards, where a new
// topic's log may live by then. Readers still holding segments finish
// normally; every later operation gets ErrClosed.
func (l *Log) Abandon() {
	l.maintMu.Lock()
	defer l.maintMu.Unlock()
	l.appendMu.Lock()
	defer l.appendMu.Unlock()
	if l.closed.Load() {
		return
	}
	l.bg.Wait() // a background fsync may still write the recovery point
	l.shut()
}

// shut marks the log closed and drops the list's segment references;
// readers holding segments finish normally. Caller holds maintMu and
// appendMu.
func (l *Log) shut() {
	l.mu.Lock()
	l.closed.Store(true)
	segs := l.segs
	l.segs = nil
	l.mu.Unlock()
	for _, s := range segs {
		s.release()
	}
}

// Delete abandons the log and removes its directory.
func (l *Log) Delete() error {
	l.Abandon()
	if err := os.RemoveAll(l.dir); err != nil {
		return fmt.Errorf("delete log %s: %w", l.dir, err)
	}
	return nil
}

// Dir is the log's directory.
func (l *Log) Dir() string { return l.dir }
