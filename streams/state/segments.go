package state

import (
	"fmt"
	"math"
	"time"
)

// segments splits a time-keyed store into time buckets, so that dropping
// what fell out of retention is one range deletion per bucket, as in Kafka
// Streams' segmented stores. The store's time only moves forward: it is the
// largest timestamp put so far (its observed stream time).
type segments struct {
	interval  int64
	retention int64
	observed  int64
	// live is the lowest segment not yet dropped in this run; top the
	// highest segment written.
	live, top int64
}

// defaultSegmentInterval is Kafka Streams': half the retention, at least
// one minute.
func defaultSegmentInterval(retention int64) int64 {
	return max(retention/2, 60_000)
}

func newSegments(retention, interval time.Duration) segments {
	r := retention.Milliseconds()
	i := interval.Milliseconds()
	if i <= 0 {
		i = defaultSegmentInterval(r)
	}
	return segments{interval: i, retention: r, observed: -1, top: -1}
}

// resume sets the store's time from the highest segment found in a store
// opened over existing data: its start is a lower bound of the latest
// timestamp, which keeps everything that may still be live.
func (s *segments) resume(top int64) {
	s.top = top
	s.observed = top * s.interval
}

func (s *segments) of(ts int64) int64 { return ts / s.interval }

// expired reports whether a timestamp falls in a segment already dropped.
// Like Kafka Streams, retention is kept by the segment: data lives until
// its whole segment is out of retention.
func (s *segments) expired(ts int64) bool { return s.of(ts) < s.live }

// earliest is the first timestamp that may still be stored.
func (s *segments) earliest() int64 { return s.live * s.interval }

// observe moves the store's time to ts and returns the range of segments
// [from, to) that fell out of retention and must be dropped.
func (s *segments) observe(ts int64) (from, to int64, drop bool) {
	s.top = max(s.top, s.of(ts))
	if ts <= s.observed {
		return 0, 0, false
	}
	s.observed = ts
	limit := s.observed - s.retention
	if limit <= 0 {
		return 0, 0, false
	}
	// Segment n holds [n*interval, (n+1)*interval): it is wholly expired
	// when (n+1)*interval <= limit.
	first := limit / s.interval
	if first <= s.live {
		return 0, 0, false
	}
	from, s.live = s.live, first
	return from, first, true
}

// span is the range of segments [first, last] that may hold data with
// timestamps in [from, to].
func (s *segments) span(from, to int64) (first, last int64) {
	return max(s.of(from), s.live), min(s.of(to), s.top)
}

func checkTime(what string, ts int64) error {
	if ts < 0 {
		return fmt.Errorf("state: %s %d: timestamps must not be negative", what, ts)
	}
	return nil
}

const maxTime = math.MaxInt64

func validateRetention(store string, retention, interval time.Duration) error {
	if retention <= 0 {
		return fmt.Errorf("state: store %s: retention %s: want more than 0", store, retention)
	}
	if interval < 0 {
		return fmt.Errorf("state: store %s: segment interval %s: want 0 (the default) or more", store, interval)
	}
	return nil
}

// topSegment finds the highest segment of a segmented store that holds
// data: the segment number follows the store prefix in every key.
func topSegment(kv kv, prefix []byte) (int64, bool, error) {
	it, err := kv.iter(prefix, prefixEnd(prefix), true)
	if err != nil {
		return 0, false, err
	}
	defer it.close()
	if !it.next() {
		return 0, false, nil
	}
	seg, _, err := readUint64(it.key()[len(prefix):])
	if err != nil {
		return 0, false, err
	}
	return int64(seg), true, nil
}
