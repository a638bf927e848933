package log

// The cleaner's key map, Kafka's "dedupe buffer" (SkimpyOffsetMap): a
// fixed-size open-addressing table from a 128-bit hash of a record key to
// the newest offset seen for it. Its memory is bounded by
// log.cleaner.dedupe.buffer.size whatever the number of keys; when it
// fills, a compaction pass cleans up to the offset it covered and the next
// pass carries on from there (see Compact).
//
// Keys are compared by MD5 hash, as in Kafka: two keys with the same hash
// would be taken for one, which at 128 bits does not happen in practice.

import (
	"crypto/md5"
	"encoding/binary"
	"sync"
)

// Kafka's defaults for log.cleaner.dedupe.buffer.size and
// log.cleaner.io.buffer.load.factor.
const (
	DefaultDedupeBufferBytes = 128 << 20
	DefaultLoadFactor        = 0.9
	// MinDedupeBufferBytes keeps at least a few keys per pass. Kafka asks
	// for 1 MiB per cleaner thread; smaller values are accepted here so
	// tests can exercise multi-pass cleaning on small logs.
	MinDedupeBufferBytes = 1024
)

// slotBytes is the memory of one map slot: hash plus offset.
const slotBytes = 16 + 8

// Cleaner holds the memory compaction works in, shared by the logs it
// cleans: one pass at a time, as Kafka's single cleaner thread does. The
// zero value uses Kafka's defaults. Safe for concurrent use (passes are
// serialised).
type Cleaner struct {
	// DedupeBufferBytes bounds the key map (log.cleaner.dedupe.buffer.size).
	// Zero means DefaultDedupeBufferBytes.
	DedupeBufferBytes int64
	// LoadFactor is how full the map may get before a pass stops
	// (log.cleaner.io.buffer.load.factor). Zero means DefaultLoadFactor.
	LoadFactor float64

	mu    sync.Mutex
	slots []mapSlot // reused across passes, grown up to the buffer size
}

type mapSlot struct {
	hash [16]byte
	off  int64 // newest offset + 1; 0 marks an empty slot
}

// offsetMap is one pass's view of the cleaner's slots.
type offsetMap struct {
	slots []mapSlot
	used  int
	limit int // entries allowed before the map counts as full
}

// keyMap returns an empty map sized for about keys entries, within the
// buffer. Caller holds c.mu.
func (c *Cleaner) keyMap(keys int64) *offsetMap {
	buf := c.DedupeBufferBytes
	if buf <= 0 {
		buf = DefaultDedupeBufferBytes
	}
	lf := c.LoadFactor
	if lf <= 0 || lf > 1 {
		lf = DefaultLoadFactor
	}
	maxSlots := max(int(buf/slotBytes), 2)
	want := min(max(int(float64(keys)/lf)+2, 16), maxSlots)
	if cap(c.slots) < want {
		c.slots = make([]mapSlot, want)
	} else {
		c.slots = c.slots[:want]
		clear(c.slots)
	}
	// At least one slot stays empty so that find always ends.
	return &offsetMap{slots: c.slots, limit: max(min(int(float64(want)*lf), want-1), 1)}
}

func keyHash(key []byte) [16]byte { return md5.Sum(key) }

// find returns the slot for h: the one holding it, or the empty slot where
// it would go.
func (m *offsetMap) find(h [16]byte) *mapSlot {
	n := uint64(len(m.slots))
	i := binary.LittleEndian.Uint64(h[:8]) % n
	for {
		s := &m.slots[i]
		if s.off == 0 || s.hash == h {
			return s
		}
		i++
		if i == n {
			i = 0
		}
	}
}

// put records off as the newest offset of key unless the map is full and
// key is new; it reports whether key is now covered.
func (m *offsetMap) put(key []byte, off int64) bool {
	h := keyHash(key)
	s := m.find(h)
	if s.off == 0 {
		if m.used >= m.limit {
			return false
		}
		m.used++
		s.hash = h
	}
	if off+1 > s.off {
		s.off = off + 1
	}
	return true
}

// newest returns the newest offset recorded for key.
func (m *offsetMap) newest(key []byte) (int64, bool) {
	s := m.find(keyHash(key))
	return s.off - 1, s.off != 0
}
