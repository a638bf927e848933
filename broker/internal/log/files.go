// Descriptors. A partition's files used to hold three descriptors for as
// long as the broker ran (the active segment's .log, .index and .timeindex),
// plus one per closed segment, so a broker with many partitions ran out of
// descriptors. Now index files are opened only to be written or synced, and
// .log files are opened on demand through Files, a cache shared by every
// log of a broker that keeps at most a set number of them open, closing
// the least recently used idle ones (CLOCK, second chance) when it is over.
//
// A descriptor in use is never closed: every ReadAt, WriteAt, Truncate and
// Sync holds it for the call. A file that is about to be unlinked or
// replaced while readers may still hold its segment (retention, compaction)
// is pinned first: its descriptor stays open until the segment's last
// reference goes, so those readers keep reading the old inode, as they did
// when every segment held its descriptor.

package log

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
)

// Files bounds the .log descriptors open across the logs that share it.
// Safe for concurrent use.
type Files struct {
	limit int // <= 0: unbounded

	mu   sync.Mutex // guards ring and hand; taken after a segmentFile's mu only with TryLock
	ring []*segmentFile
	hand int

	open atomic.Int64
}

// NewFiles returns a cache keeping at most limit .log descriptors open
// (more only while all are in use). limit <= 0 is unbounded.
func NewFiles(limit int) *Files { return &Files{limit: limit} }

// Open is the number of .log descriptors open now.
func (c *Files) Open() int64 { return c.open.Load() }

// segmentFile is one .log file, open or not.
type segmentFile struct {
	files *Files
	path  string

	mu     sync.Mutex // guards f, users, pinned, closed
	f      *os.File
	users  int
	pinned bool
	closed bool
	used   atomic.Bool // touched since the clock hand last passed
}

var errFileClosed = errors.New("segment file closed")

// newSegmentFile wraps path; f is its descriptor if already open.
func (c *Files) newSegmentFile(path string, f *os.File) *segmentFile {
	sf := &segmentFile{files: c, path: path, f: f}
	if f != nil {
		c.opened(sf)
	}
	return sf
}

// acquire returns the open descriptor, opening it if needed; release
// must follow.
func (sf *segmentFile) acquire() (*os.File, error) {
	sf.mu.Lock()
	if sf.closed {
		sf.mu.Unlock()
		return nil, fmt.Errorf("%s: %w", sf.path, errFileClosed)
	}
	opened := false
	if sf.f == nil {
		f, err := os.OpenFile(sf.path, os.O_RDWR, 0)
		if err != nil {
			sf.mu.Unlock()
			return nil, err
		}
		sf.f, opened = f, true
	}
	sf.users++
	sf.used.Store(true)
	f := sf.f
	sf.mu.Unlock()
	if opened {
		sf.files.opened(sf)
	}
	return f, nil
}

func (sf *segmentFile) release() {
	sf.mu.Lock()
	sf.users--
	sf.mu.Unlock()
}

func (sf *segmentFile) ReadAt(p []byte, off int64) (int, error) {
	f, err := sf.acquire()
	if err != nil {
		return 0, err
	}
	defer sf.release()
	return f.ReadAt(p, off)
}

func (sf *segmentFile) WriteAt(p []byte, off int64) (int, error) {
	f, err := sf.acquire()
	if err != nil {
		return 0, err
	}
	defer sf.release()
	return f.WriteAt(p, off)
}

func (sf *segmentFile) Truncate(size int64) error {
	f, err := sf.acquire()
	if err != nil {
		return err
	}
	defer sf.release()
	return f.Truncate(size)
}

// Sync fsyncs the file. A descriptor opened after the data was written
// flushes it all the same: the page cache belongs to the file, not to the
// descriptor.
func (sf *segmentFile) Sync() error {
	f, err := sf.acquire()
	if err != nil {
		return err
	}
	defer sf.release()
	return fsync(f)
}

// pin opens the descriptor if needed and keeps it open until close, for a
// file about to be unlinked or replaced while readers may hold it.
func (sf *segmentFile) pin() error {
	if _, err := sf.acquire(); err != nil {
		return err
	}
	sf.mu.Lock()
	sf.pinned = true
	sf.users--
	sf.mu.Unlock()
	return nil
}

// unpin lets the cache close the descriptor again once the file is
// reachable by its path.
func (sf *segmentFile) unpin() {
	sf.mu.Lock()
	sf.pinned = false
	sf.mu.Unlock()
}

// close closes the descriptor for good.
func (sf *segmentFile) close() {
	sf.mu.Lock()
	defer sf.mu.Unlock()
	sf.closed = true
	if sf.f != nil {
		sf.f.Close()
		sf.f = nil
		sf.files.open.Add(-1)
	}
}

// opened records a newly opened descriptor and, over the limit, closes
// idle ones.
func (c *Files) opened(sf *segmentFile) {
	c.open.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ring = append(c.ring, sf)
	if c.limit <= 0 || int(c.open.Load()) <= c.limit {
		return
	}
	// Two passes of the clock hand at most: the first may only clear
	// used bits.
	for steps := 2 * len(c.ring); steps > 0 && int(c.open.Load()) > c.limit && len(c.ring) > 0; steps-- {
		c.hand %= len(c.ring)
		s := c.ring[c.hand]
		if !s.mu.TryLock() {
			c.hand++
			continue
		}
		switch {
		case s.f == nil: // closed meanwhile: drop the entry
		case s.users > 0 || s.pinned:
			s.mu.Unlock()
			c.hand++
			continue
		case s.used.Swap(false):
			s.mu.Unlock()
			c.hand++
			continue
		default:
			s.f.Close()
			s.f = nil
			c.open.Add(-1)
		}
		s.mu.Unlock()
		last := len(c.ring) - 1
		c.ring[c.hand] = c.ring[last]
		c.ring[last] = nil
		c.ring = c.ring[:last]
	}
	// Entries of files closed for good linger until the hand meets them;
	// bound them by dropping when the ring outgrows what is open.
	if len(c.ring) > 2*int(c.open.Load())+64 {
		kept := c.ring[:0]
		for _, s := range c.ring {
			if s.mu.TryLock() {
				open := s.f != nil
				s.mu.Unlock()
				if !open {
					continue
				}
			}
			kept = append(kept, s)
		}
		for i := len(kept); i < len(c.ring); i++ {
			c.ring[i] = nil
		}
		c.ring = kept
	}
}
