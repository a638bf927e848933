// Closing many logs at once. Log.Close makes one log durable file by file
// (an fsync for the data, each index file, each checkpoint and the marker,
// plus directory syncs): with thousands of partitions a broker's stop took
// minutes. CloseAll does what Close does for each log, but makes all of
// them durable with one sync of their file system (syncfs) and only then
// writes the clean-shutdown markers, which the next Open trusts, and syncs
// again. A log untouched since a clean Open needs neither. The recovery
// point is not written: after a clean Close it is the log's end, which the
// marker vouches for (see load).

package log

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"golang.org/x/sys/unix"
)

// CloseAll closes logs, all on one file system (their owner's data dir),
// as described above. Every log ends closed, whatever the errors; a log
// that could not be made durable gets no marker, so the next Open
// recovers it.
func CloseAll(logs []*Log) error {
	type closing struct {
		l      *Log
		marker bool
		err    error
	}
	cs := make([]closing, len(logs))
	each := func(fn func(c *closing)) {
		var wg sync.WaitGroup
		work := make(chan *closing)
		for range min(len(cs), 2*runtime.GOMAXPROCS(0)) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for c := range work {
					fn(c)
				}
			}()
		}
		for i := range cs {
			work <- &cs[i]
		}
		close(work)
		wg.Wait()
	}
	for i, l := range logs {
		cs[i].l = l
	}
	// Each log is locked from here to its finish, so nothing changes
	// between what is synced and the marker that vouches for it.
	each(func(c *closing) { c.marker, c.err = c.l.closePrepare() })
	var errs []error
	synced := syncFileSystem(logs)
	if synced != nil {
		errs = append(errs, synced)
	}
	each(func(c *closing) {
		if err := c.l.closeFinish(c.marker && c.err == nil && synced == nil); err != nil && c.err == nil {
			c.err = err
		}
	})
	if err := syncFileSystem(logs); err != nil {
		errs = append(errs, err)
	}
	for _, c := range cs {
		if c.err != nil && !errors.Is(c.err, ErrClosed) {
			errs = append(errs, fmt.Errorf("close log %s: %w", c.l.dir, c.err))
		}
	}
	return errors.Join(errs...)
}

// syncFileSystem syncs the file system holding the logs.
func syncFileSystem(logs []*Log) error {
	if len(logs) == 0 {
		return nil
	}
	dir := filepath.Dir(logs[0].dir)
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync file system of %s: %w", dir, err)
	}
	defer f.Close()
	if err := unix.Syncfs(int(f.Fd())); err != nil {
		return fmt.Errorf("sync file system of %s: %w", dir, err)
	}
	return nil
}

// closePrepare takes the log's locks (released by closeFinish) and writes,
// without fsyncs, what a clean Open will trust: the index entries not yet
// written (those of the active segment, and of closed segments not synced
// yet) and the start offset checkpoint. The active segment's largest
// timestamp is not written: Open finds it again from the batches after the
// last index entry, which it reads anyway. It reports
// whether a marker must be written: not when the log is untouched since a
// clean Open (the marker is still there), nor when an index could not be
// written.
func (l *Log) closePrepare() (marker bool, err error) {
	l.maintMu.Lock()
	l.appendMu.Lock()
	if l.closed.Load() {
		return false, ErrClosed
	}
	l.bg.Wait()
	if l.marker.Load() && l.badIndexes.Load() == 0 {
		return false, nil
	}
	if err := l.touch(); err != nil {
		return false, err
	}
	l.repairIndexesLocked()
	l.mu.RLock()
	segs := append([]*segment(nil), l.segs...)
	l.mu.RUnlock()
	l.syncMu.Lock()
	for _, s := range segs {
		if s == l.active || !s.synced.Load() {
			if err := s.writePendingIndex(); err != nil {
				l.indexBroken = true
			}
		}
	}
	l.syncMu.Unlock()
	l.ckMu.Lock()
	err = l.writeStartOffsetLocked(l.start.Load())
	l.ckMu.Unlock()
	if err != nil {
		return false, err
	}
	return !l.indexBroken, nil
}

// closeFinish writes the marker if asked (the file system is synced), then
// closes the log and releases its locks.
func (l *Log) closeFinish(marker bool) (err error) {
	defer l.maintMu.Unlock()
	defer l.appendMu.Unlock()
	if l.closed.Load() {
		return nil
	}
	if marker {
		if err = writeIndexFile(filepath.Join(l.dir, cleanShutdownFile), nil, 0, true, false); err == nil {
			l.marker.Store(true)
		}
	}
	l.shut()
	return err
}
