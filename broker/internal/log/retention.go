// Retention and DeleteRecords: removing whole closed segments from the
// front of the log and advancing the log start offset.
//
// The start offset is checkpointed before any file is unlinked, so a crash
// in between leaves segments that Open recognises as dead and removes.

package log

import (
	"fmt"
	"os"
	"time"

	"github.com/tributary-streams/tributary/internal/fsutil"
)

// DeleteRecords advances the log start offset to before and deletes the
// closed segments that lie entirely below it. before must be in
// [0, EndOffset]; a value at or below the current start offset changes
// nothing. It returns the new start offset.
func (l *Log) DeleteRecords(before int64) (int64, error) {
	l.maintMu.Lock()
	defer l.maintMu.Unlock()
	if l.closed.Load() {
		return -1, ErrClosed
	}
	if end := l.end.Load(); before < 0 || before > end {
		return -1, fmt.Errorf("%w: delete records before %d, log holds [%d, %d)", ErrOffsetOutOfRange, before, l.start.Load(), end)
	}
	if before <= l.start.Load() {
		return l.start.Load(), nil
	}
	if err := l.setStartOffset(before); err != nil {
		return -1, err
	}
	l.mu.RLock()
	n := 0
	for i := 0; i+1 < len(l.segs) && l.segs[i+1].base <= before; i++ {
		n++
	}
	l.mu.RUnlock()
	if _, err := l.deleteOldest(n); err != nil {
		return -1, err
	}
	return l.start.Load(), nil
}

// setStartOffset publishes and checkpoints a new start offset. Caller holds
// maintMu.
func (l *Log) setStartOffset(off int64) error {
	l.mu.Lock()
	l.start.Store(off)
	l.mu.Unlock()
	l.ckMu.Lock()
	defer l.ckMu.Unlock()
	return l.writeStartOffsetLocked(off)
}

// EnforceRetention deletes closed segments (never the active one) from the
// front of the log while they break retention.ms (largest timestamp older
// than now - retention.ms), retention.bytes (the log stays at or above
// retention.bytes without them) or lie wholly below the start offset. It
// does nothing unless cleanup.policy includes "delete". It returns how many
// segments were deleted.
func (l *Log) EnforceRetention(now time.Time) (int, error) {
	l.maintMu.Lock()
	defer l.maintMu.Unlock()
	if l.closed.Load() {
		return 0, ErrClosed
	}
	cfg := l.cfg.Load()
	if !cfg.deletes() {
		return 0, nil
	}

	type info struct {
		s               *segment
		size            int64
		maxTs, maxTsOff int64
	}
	l.mu.RLock()
	closed := make([]info, 0, len(l.segs)-1)
	for _, s := range l.segs[:len(l.segs)-1] {
		closed = append(closed, info{s, s.size, s.maxTs, s.maxTsOff})
	}
	start, total := l.start.Load(), l.size.Load()
	var nextBase []int64
	for _, s := range l.segs[1:] {
		nextBase = append(nextBase, s.base)
	}
	l.mu.RUnlock()

	// Each rule deletes a prefix; together they delete the longest one.
	n := 0
	for i := range closed {
		if nextBase[i] <= start {
			n = i + 1
		}
	}
	if cfg.RetentionMs >= 0 {
		cutoff := now.UnixMilli() - cfg.RetentionMs
		for i, c := range closed {
			ts := c.maxTs
			if c.maxTsOff < 0 {
				// No timestamps in the segment: fall back to its mtime, as
				// Kafka does.
				if st, err := os.Stat(c.s.path); err == nil {
					ts = st.ModTime().UnixMilli()
				}
			}
			if ts >= cutoff {
				break
			}
			n = max(n, i+1)
		}
		if n == len(closed) {
			// Every closed segment has expired: so may the active one,
			// which Kafka then rolls so that it can go too.
			rolled, err := l.rollIfExpired(cutoff)
			if err != nil {
				return 0, err
			}
			if rolled {
				n++
			}
		}
	}
	if cfg.RetentionBytes >= 0 {
		diff := total - cfg.RetentionBytes
		for i, c := range closed {
			if diff-c.size < 0 {
				break
			}
			diff -= c.size
			n = max(n, i+1)
		}
	}
	if n == 0 {
		return 0, nil
	}
	l.mu.RLock()
	newStart := l.segs[n].base
	l.mu.RUnlock()
	if newStart > start {
		if err := l.setStartOffset(newStart); err != nil {
			return 0, err
		}
	}
	deleted, err := l.deleteOldest(n)
	if deleted > 0 {
		l.logger.Info("retention deleted segments", "segments", deleted, "start_offset", l.start.Load())
	}
	return deleted, err
}

// rollIfExpired rolls the active segment when it holds data and its
// largest timestamp is before cutoff, so retention can delete it. Caller
// holds maintMu (then appendMu, the lock order).
func (l *Log) rollIfExpired(cutoff int64) (bool, error) {
	l.appendMu.Lock()
	defer l.appendMu.Unlock()
	a := l.active
	if a.size == 0 || a.maxTsOff < 0 || a.maxTs >= cutoff {
		return false, nil
	}
	if _, err := l.roll(l.end.Load()); err != nil {
		return false, err
	}
	return true, nil
}

// deleteOldest removes the first n segments (all closed: callers never
// count the active one). Caller holds maintMu, which keeps the prefix
// stable: only maintenance removes segments, appends only add at the end.
func (l *Log) deleteOldest(n int) (int, error) {
	if n == 0 {
		return 0, nil
	}
	l.mu.Lock()
	n = min(n, len(l.segs)-1)
	gone := make([]*segment, n)
	copy(gone, l.segs[:n])
	l.segs = append(l.segs[:0:0], l.segs[n:]...)
	var freed int64
	for _, s := range gone {
		freed += s.size
	}
	l.size.Add(-freed)
	l.mu.Unlock()

	firstErr := l.touch()
	for _, s := range gone {
		// Readers may still hold the segment: its descriptor stays open
		// for them (files.go).
		if err := s.f.pin(); err != nil && firstErr == nil {
			firstErr = fmt.Errorf("delete segment %s: %w", s.path, err)
		}
		if err := s.removeFiles(); err != nil && firstErr == nil {
			firstErr = fmt.Errorf("delete segment %s: %w", s.path, err)
		}
		s.release()
	}
	if err := fsutil.SyncDir(l.dir); err != nil && firstErr == nil {
		firstErr = err
	}
	return n, firstErr
}
