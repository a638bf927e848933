package state

import (
	"encoding/binary"
	"fmt"
	"time"
)

// SessionOptions configure a session store.
type SessionOptions struct {
	// Retention is how long a session is kept after its end, behind the
	// store's stream time (the latest session end put). Required.
	Retention time.Duration
	// SegmentInterval: see WindowOptions.
	SegmentInterval time.Duration
}

func (o SessionOptions) validate(store string) error {
	return validateRetention(store, o.Retention, o.SegmentInterval)
}

// SessionIterator walks sessions of a store.
type SessionIterator interface {
	Next() bool
	Key() []byte
	// Start and End bound the session, both inclusive, in milliseconds.
	Start() int64
	End() int64
	Value() []byte
	Close() error
}

// SessionStore maps (key, session start, session end) to a value.
type SessionStore interface {
	Name() string
	// Put stores value for the session; a nil value removes it.
	Put(key []byte, start, end int64, value []byte) error
	// Find walks the sessions of key that end at or after earliestEnd and
	// start at or before latestStart: the sessions a record at t merges
	// with are Find(key, t-gap, t+gap).
	Find(key []byte, earliestEnd, latestStart int64) (SessionIterator, error)
	// Restore applies one changelog record without logging it again.
	Restore(key, value []byte) error
}

type session struct {
	shard  *Shard
	name   string
	prefix []byte
	log    Changelog
	seg    segments
	buf    []byte
	clog   []byte
}

func newSession(s *Shard, name string, o SessionOptions, log Changelog) (*session, error) {
	ss := &session{shard: s, name: name, prefix: storePrefix(s.name, name), log: log,
		seg: newSegments(o.Retention, o.SegmentInterval)}
	top, ok, err := topSegment(s.kv, ss.prefix)
	if err != nil {
		return nil, err
	}
	if ok {
		ss.seg.resume(top)
	}
	return ss, nil
}

func (s *session) Name() string { return s.name }

func (s *session) segPrefix(b []byte, seg int64) []byte {
	return appendUint64(append(b, s.prefix...), uint64(seg))
}

func (s *session) put(key []byte, start, end int64, value []byte) error {
	if from, to, drop := s.seg.observe(end); drop {
		if err := s.shard.kv.delRange(s.segPrefix(nil, from), s.segPrefix(nil, to)); err != nil {
			return err
		}
	}
	if s.seg.expired(end) {
		return nil
	}
	b := s.segPrefix(s.buf[:0], s.seg.of(end))
	b = appendKey(b, key)
	b = appendUint64(b, uint64(end))
	b = appendUint64(b, uint64(start))
	s.buf = b
	if value == nil {
		return s.shard.kv.del(b)
	}
	return s.shard.kv.set(b, value)
}

func (s *session) Put(key []byte, start, end int64, value []byte) error {
	if err := checkTime("session start", start); err != nil {
		return err
	}
	if end < start {
		return fmt.Errorf("state: session [%d, %d]: the end is before the start", start, end)
	}
	if s.seg.expired(end) {
		return nil
	}
	if err := s.put(key, start, end, value); err != nil {
		return err
	}
	if s.log != nil {
		// Kafka Streams' session key: key, end, start.
		c := append(s.clog[:0], key...)
		c = appendUint64(c, uint64(end))
		c = appendUint64(c, uint64(start))
		s.clog = c
		s.log.Append(c, value)
	}
	return nil
}

func (s *session) Restore(ckey, value []byte) error {
	if len(ckey) < 16 {
		return errCorruptKey
	}
	n := len(ckey) - 16
	end := int64(binary.BigEndian.Uint64(ckey[n:]))
	start := int64(binary.BigEndian.Uint64(ckey[n+8:]))
	return s.put(ckey[:n], start, end, value)
}

func (s *session) Find(key []byte, earliestEnd, latestStart int64) (SessionIterator, error) {
	earliestEnd = max(earliestEnd, s.seg.earliest())
	first, last := s.seg.span(earliestEnd, maxTime)
	return &sessionIter{s: s, key: append([]byte(nil), key...), earliestEnd: earliestEnd, latestStart: latestStart,
		seg: first, lastSeg: last}, nil
}

type sessionIter struct {
	s                        *session
	key                      []byte
	earliestEnd, latestStart int64
	seg, lastSeg             int64
	raw                      rawIter
	err                      error
	start, end               int64
}

func (it *sessionIter) Next() bool {
	for {
		if it.raw == nil {
			if it.seg > it.lastSeg {
				return false
			}
			p := appendKey(it.s.segPrefix(nil, it.seg), it.key)
			lo := appendUint64(append([]byte(nil), p...), uint64(it.earliestEnd))
			it.seg++
			raw, err := it.s.shard.kv.iter(lo, prefixEnd(p), false)
			if err != nil {
				it.err = err
				return false
			}
			it.raw = raw
		}
		if !it.raw.next() {
			it.err = it.raw.close()
			it.raw = nil
			if it.err != nil {
				return false
			}
			continue
		}
		k := it.raw.key()
		tail := k[len(k)-16:]
		it.end = int64(binary.BigEndian.Uint64(tail))
		it.start = int64(binary.BigEndian.Uint64(tail[8:]))
		if it.start > it.latestStart {
			continue
		}
		return true
	}
}

func (it *sessionIter) Key() []byte   { return it.key }
func (it *sessionIter) Start() int64  { return it.start }
func (it *sessionIter) End() int64    { return it.end }
func (it *sessionIter) Value() []byte { return it.raw.value() }

func (it *sessionIter) Close() error {
	if it.raw != nil {
		it.raw.close()
		it.raw = nil
	}
	return it.err
}
