package state

import (
	"encoding/binary"
	"math/rand/v2"
	"time"
)

// WindowOptions configure a window store.
type WindowOptions struct {
	// Retention is how long a window is kept behind the store's stream
	// time (the latest window start put). Required.
	Retention time.Duration
	// SegmentInterval is the width of the time buckets dropped as a whole.
	// Default: half the retention, at least one minute.
	SegmentInterval time.Duration
	// RetainDuplicates keeps every Put as its own entry, for the buffers of
	// stream-stream joins; without it a Put replaces the window's value.
	RetainDuplicates bool
}

func (o WindowOptions) validate(store string) error {
	return validateRetention(store, o.Retention, o.SegmentInterval)
}

// WindowIterator walks windows of a store.
type WindowIterator interface {
	Next() bool
	Key() []byte
	// Start is the window's start, in milliseconds.
	Start() int64
	Value() []byte
	Close() error
}

// WindowStore maps (key, window start) to a value, keeping windows for a
// retention period behind its stream time.
type WindowStore interface {
	Name() string
	// Put stores value for the window of key that starts at start; a nil
	// value deletes it. A window already out of retention is ignored.
	Put(key []byte, start int64, value []byte) error
	// Get returns the value of one window.
	Get(key []byte, start int64) ([]byte, bool, error)
	// Fetch walks the windows of key that start in [from, to], oldest
	// first.
	Fetch(key []byte, from, to int64) (WindowIterator, error)
	// FetchAll walks every window that starts in [from, to].
	FetchAll(from, to int64) (WindowIterator, error)
	// Restore applies one changelog record without logging it again.
	Restore(key, value []byte) error
}

type window struct {
	shard  *Shard
	name   string
	prefix []byte
	log    Changelog
	dups   bool
	seq    uint32
	seg    segments
	buf    []byte
	clog   []byte
}

func newWindow(s *Shard, name string, o WindowOptions, log Changelog) (*window, error) {
	w := &window{shard: s, name: name, prefix: storePrefix(s.name, name), log: log,
		dups: o.RetainDuplicates, seg: newSegments(o.Retention, o.SegmentInterval)}
	if w.dups {
		// A duplicate's sequence number only tells entries of the same key
		// and time apart; starting at random keeps a restarted store from
		// reusing the numbers of entries it restored.
		w.seq = rand.Uint32()
	}
	top, ok, err := topSegment(s.kv, w.prefix)
	if err != nil {
		return nil, err
	}
	if ok {
		w.seg.resume(top)
	}
	return w, nil
}

func (w *window) Name() string { return w.name }

func (w *window) segPrefix(b []byte, seg int64) []byte {
	return appendUint64(append(b, w.prefix...), uint64(seg))
}

func (w *window) storeKey(key []byte, start int64, seq uint32, withSeq bool) []byte {
	b := w.segPrefix(w.buf[:0], w.seg.of(start))
	b = appendKey(b, key)
	b = appendUint64(b, uint64(start))
	if withSeq {
		b = binary.BigEndian.AppendUint32(b, seq)
	}
	w.buf = b
	return b
}

func (w *window) changelogKey(key []byte, start int64, seq uint32) []byte {
	b := append(w.clog[:0], key...)
	b = appendUint64(b, uint64(start))
	if w.dups {
		b = binary.BigEndian.AppendUint32(b, seq)
	}
	w.clog = b
	return b
}

func (w *window) drop(from, to int64) error {
	lo := w.segPrefix(nil, from)
	hi := w.segPrefix(nil, to)
	return w.shard.kv.delRange(lo, hi)
}

func (w *window) put(key []byte, start int64, seq uint32, value []byte) error {
	if from, to, drop := w.seg.observe(start); drop {
		if err := w.drop(from, to); err != nil {
			return err
		}
	}
	if w.seg.expired(start) {
		return nil
	}
	k := w.storeKey(key, start, seq, w.dups)
	if value == nil {
		return w.shard.kv.del(k)
	}
	return w.shard.kv.set(k, value)
}

func (w *window) Put(key []byte, start int64, value []byte) error {
	if err := checkTime("window start", start); err != nil {
		return err
	}
	var seq uint32
	if w.dups {
		if value == nil {
			return nil // nothing to delete: every duplicate is its own entry
		}
		w.seq++
		seq = w.seq
	}
	if w.seg.expired(start) {
		return nil
	}
	if err := w.put(key, start, seq, value); err != nil {
		return err
	}
	if w.log != nil {
		w.log.Append(w.changelogKey(key, start, seq), value)
	}
	return nil
}

func (w *window) Get(key []byte, start int64) ([]byte, bool, error) {
	if w.dups || w.seg.expired(start) {
		return nil, false, nil
	}
	return w.shard.kv.get(w.storeKey(key, start, 0, false))
}

func (w *window) Restore(ckey, value []byte) error {
	n := 8
	if w.dups {
		n = 12
	}
	if len(ckey) < n {
		return errCorruptKey
	}
	key := ckey[:len(ckey)-n]
	start := int64(binary.BigEndian.Uint64(ckey[len(key):]))
	var seq uint32
	if w.dups {
		seq = binary.BigEndian.Uint32(ckey[len(key)+8:])
	}
	return w.put(key, start, seq, value)
}

func (w *window) Fetch(key []byte, from, to int64) (WindowIterator, error) {
	from = max(from, w.seg.earliest())
	if to < from {
		return emptyWindowIter{}, nil
	}
	first, last := w.seg.span(from, to)
	return &windowIter{w: w, key: append([]byte(nil), key...), from: from, to: to, seg: first, lastSeg: last}, nil
}

func (w *window) FetchAll(from, to int64) (WindowIterator, error) {
	from = max(from, w.seg.earliest())
	if to < from {
		return emptyWindowIter{}, nil
	}
	first, last := w.seg.span(from, to)
	return &windowIter{w: w, all: true, from: from, to: to, seg: first, lastSeg: last}, nil
}

// windowIter walks segments one after the other: for one key, each
// segment is one contiguous range; for all keys, each segment is scanned
// and filtered by start.
type windowIter struct {
	w            *window
	key          []byte
	all          bool
	from, to     int64
	seg, lastSeg int64
	raw          rawIter
	err          error
	curKey       []byte
	curStart     int64
}

func (it *windowIter) open() bool {
	for it.raw == nil {
		if it.seg > it.lastSeg {
			return false
		}
		var lo, hi []byte
		if it.all {
			lo = it.w.segPrefix(nil, it.seg)
			hi = it.w.segPrefix(nil, it.seg+1)
		} else {
			p := appendKey(it.w.segPrefix(nil, it.seg), it.key)
			lo = appendUint64(append([]byte(nil), p...), uint64(it.from))
			hi = appendUint64(p, uint64(it.to)+1)
		}
		it.seg++
		raw, err := it.w.shard.kv.iter(lo, hi, false)
		if err != nil {
			it.err = err
			return false
		}
		it.raw = raw
	}
	return true
}

func (it *windowIter) Next() bool {
	for it.open() {
		if !it.raw.next() {
			it.err = it.raw.close()
			it.raw = nil
			if it.err != nil {
				return false
			}
			continue
		}
		rest := it.raw.key()[len(it.w.prefix)+8:]
		key, rest, err := readKey(rest)
		if err != nil {
			it.err = err
			return false
		}
		start, _, err := readUint64(rest)
		if err != nil {
			it.err = err
			return false
		}
		if int64(start) < it.from || int64(start) > it.to {
			continue
		}
		it.curKey, it.curStart = key, int64(start)
		return true
	}
	return false
}

func (it *windowIter) Key() []byte   { return it.curKey }
func (it *windowIter) Start() int64  { return it.curStart }
func (it *windowIter) Value() []byte { return it.raw.value() }

func (it *windowIter) Close() error {
	if it.raw != nil {
		it.raw.close()
		it.raw = nil
	}
	return it.err
}

type emptyWindowIter struct{}

func (emptyWindowIter) Next() bool    { return false }
func (emptyWindowIter) Key() []byte   { return nil }
func (emptyWindowIter) Start() int64  { return 0 }
func (emptyWindowIter) Value() []byte { return nil }
func (emptyWindowIter) Close() error  { return nil }
