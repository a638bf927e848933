package streams

import (
	"encoding/binary"
	"fmt"
	"time"
)

// Window is a span of event time in milliseconds. For time windows
// (tumbling, hopping) End is exclusive: [Start, End). For sliding and
// session windows both ends are inclusive, as in Kafka Streams.
type Window struct {
	Start int64 `json:"start"`
	End   int64 `json:"end"`
}

// Windowed is the key of a windowed aggregation's result: the record key
// and its window.
type Windowed[K any] struct {
	Key    K      `json:"key"`
	Window Window `json:"window"`
}

func (w Windowed[K]) String() string {
	return fmt.Sprintf("[%v@%d/%d]", w.Key, w.Window.Start, w.Window.End)
}

// Windows are the windows of WindowedBy: TimeWindows or SlidingWindows.
type Windows interface {
	windowSpec() windowInfo
}

type windowKind int

const (
	timeWindowKind windowKind = iota
	slidingWindowKind
	sessionWindowKind
)

// windowInfo describes the windows of a windowed table, for retention and
// for Suppress to know when a window closes.
type windowInfo struct {
	kind    windowKind
	size    int64 // time: size; sliding: the time difference; session: the gap
	advance int64
	grace   int64
	err     error
}

// closesAt is the stream time at which a window closes: after it, records
// for the window are late and Suppress emits its final result.
func (w windowInfo) closesAt(win Window) int64 {
	if w.kind == sessionWindowKind {
		return win.End + 1 + w.grace
	}
	return win.End + w.grace
}

// TimeWindows are fixed-size windows: tumbling when they advance by their
// size, hopping when they advance by less (and overlap).
type TimeWindows struct {
	size, advance, grace time.Duration
}

// TumblingWindows are windows of size back to back, with no grace period
// unless WithGrace gives one.
func TumblingWindows(size time.Duration) TimeWindows {
	return TimeWindows{size: size, advance: size}
}

// HoppingWindows are windows of size starting every advance.
func HoppingWindows(size, advance time.Duration) TimeWindows {
	return TimeWindows{size: size, advance: advance}
}

// WithGrace accepts out-of-order records for a window until stream time
// passes its end by grace; later ones are dropped as late.
func (w TimeWindows) WithGrace(grace time.Duration) TimeWindows { w.grace = grace; return w }

func (w TimeWindows) windowSpec() windowInfo {
	i := windowInfo{kind: timeWindowKind, size: w.size.Milliseconds(), advance: w.advance.Milliseconds(), grace: w.grace.Milliseconds()}
	switch {
	case i.size <= 0:
		i.err = fmt.Errorf("window size %s: want at least 1ms", w.size)
	case i.advance <= 0 || i.advance > i.size:
		i.err = fmt.Errorf("window advance %s: want at least 1ms and at most the size %s", w.advance, w.size)
	case w.grace < 0:
		i.err = fmt.Errorf("grace period %s: want 0 or more", w.grace)
	}
	return i
}

// starts calls fn with the start of every window that holds ts, oldest
// first.
func (w windowInfo) starts(ts int64, fn func(start int64) error) error {
	first := max(0, ts-w.size+w.advance)
	first -= first % w.advance
	for s := first; s <= ts; s += w.advance {
		if err := fn(s); err != nil {
			return err
		}
	}
	return nil
}

// SlidingWindows are Kafka Streams' sliding windows: a window of
// timeDifference (both ends inclusive) for every distinct set of records
// that close together in time.
type SlidingWindows struct {
	diff, grace time.Duration
}

// SlidingWindowsOf makes sliding windows with the given time difference
// and grace period.
func SlidingWindowsOf(timeDifference, grace time.Duration) SlidingWindows {
	return SlidingWindows{diff: timeDifference, grace: grace}
}

func (w SlidingWindows) windowSpec() windowInfo {
	i := windowInfo{kind: slidingWindowKind, size: w.diff.Milliseconds(), grace: w.grace.Milliseconds()}
	switch {
	case i.size <= 0:
		i.err = fmt.Errorf("sliding window time difference %s: want at least 1ms", w.diff)
	case w.grace < 0:
		i.err = fmt.Errorf("grace period %s: want 0 or more", w.grace)
	}
	return i
}

// SessionWindows group a key's records into sessions of activity: a
// record within gap of a session joins it (merging sessions it bridges).
type SessionWindows struct {
	gap, grace time.Duration
}

// SessionWindowsOf makes session windows with an inactivity gap.
func SessionWindowsOf(gap time.Duration) SessionWindows { return SessionWindows{gap: gap} }

// WithGrace accepts out-of-order records for a session until stream time
// passes its end by grace.
func (w SessionWindows) WithGrace(grace time.Duration) SessionWindows { w.grace = grace; return w }

func (w SessionWindows) spec() windowInfo {
	i := windowInfo{kind: sessionWindowKind, size: w.gap.Milliseconds(), grace: w.grace.Milliseconds()}
	switch {
	case i.size <= 0:
		i.err = fmt.Errorf("session gap %s: want at least 1ms", w.gap)
	case w.grace < 0:
		i.err = fmt.Errorf("grace period %s: want 0 or more", w.grace)
	}
	return i
}

// JoinWindows bound a stream-stream join: records join when their
// timestamps are at most Before apart one way and After the other.
type JoinWindows struct {
	before, after, grace time.Duration
}

// JoinWindowsOf joins records at most diff apart, either way.
func JoinWindowsOf(diff time.Duration) JoinWindows { return JoinWindows{before: diff, after: diff} }

// Before sets how much earlier than a left record a right record may be.
func (w JoinWindows) Before(d time.Duration) JoinWindows { w.before = d; return w }

// After sets how much later than a left record a right record may be.
func (w JoinWindows) After(d time.Duration) JoinWindows { w.after = d; return w }

// WithGrace accepts out-of-order records until stream time passes their
// window by grace; left and outer joins emit unmatched records then.
func (w JoinWindows) WithGrace(grace time.Duration) JoinWindows { w.grace = grace; return w }

func (w JoinWindows) validate() error {
	switch {
	case w.before < 0 || w.after < 0:
		return fmt.Errorf("join window before %s and after %s: want 0 or more", w.before, w.after)
	case w.before+w.after <= 0:
		return fmt.Errorf("join window before %s and after %s: want a window of at least 1ms", w.before, w.after)
	case w.grace < 0:
		return fmt.Errorf("grace period %s: want 0 or more", w.grace)
	}
	return nil
}

// TimeWindowedSerde writes a time-windowed key as Kafka Streams does: the
// key's bytes, then the window start (8 bytes, big-endian). The end is
// start + size.
func TimeWindowedSerde[K any](keys Serde[K], size time.Duration) Serde[Windowed[K]] {
	return timeWindowedSerde[K]{keys: newCodec(keys), size: size.Milliseconds()}
}

type timeWindowedSerde[K any] struct {
	keys codec[K]
	size int64
}

func (s timeWindowedSerde[K]) Serialize(w Windowed[K]) ([]byte, error) {
	return s.AppendSerialized(nil, w)
}

func (s timeWindowedSerde[K]) AppendSerialized(dst []byte, w Windowed[K]) ([]byte, error) {
	b, err := s.keys.enc(dst, w.Key)
	if err != nil {
		return dst, err
	}
	return binary.BigEndian.AppendUint64(b, uint64(w.Window.Start)), nil
}

func (s timeWindowedSerde[K]) Deserialize(b []byte) (Windowed[K], error) {
	var w Windowed[K]
	if len(b) < 8 {
		return w, fmt.Errorf("windowed key: %d bytes, want the key and an 8-byte window start", len(b))
	}
	k, err := s.keys.dec(b[:len(b)-8])
	if err != nil {
		return w, err
	}
	start := int64(binary.BigEndian.Uint64(b[len(b)-8:]))
	return Windowed[K]{Key: k, Window: Window{Start: start, End: start + s.size}}, nil
}

// SessionWindowedSerde writes a session-windowed key as Kafka Streams
// does: the key's bytes, the session end, then its start (8 bytes each).
func SessionWindowedSerde[K any](keys Serde[K]) Serde[Windowed[K]] {
	return sessionWindowedSerde[K]{keys: newCodec(keys)}
}

type sessionWindowedSerde[K any] struct{ keys codec[K] }

func (s sessionWindowedSerde[K]) Serialize(w Windowed[K]) ([]byte, error) {
	return s.AppendSerialized(nil, w)
}

func (s sessionWindowedSerde[K]) AppendSerialized(dst []byte, w Windowed[K]) ([]byte, error) {
	b, err := s.keys.enc(dst, w.Key)
	if err != nil {
		return dst, err
	}
	b = binary.BigEndian.AppendUint64(b, uint64(w.Window.End))
	return binary.BigEndian.AppendUint64(b, uint64(w.Window.Start)), nil
}

func (s sessionWindowedSerde[K]) Deserialize(b []byte) (Windowed[K], error) {
	var w Windowed[K]
	if len(b) < 16 {
		return w, fmt.Errorf("session key: %d bytes, want the key, an 8-byte end and an 8-byte start", len(b))
	}
	n := len(b) - 16
	k, err := s.keys.dec(b[:n])
	if err != nil {
		return w, err
	}
	return Windowed[K]{Key: k, Window: Window{
		End:   int64(binary.BigEndian.Uint64(b[n:])),
		Start: int64(binary.BigEndian.Uint64(b[n+8:])),
	}}, nil
}
