package cli

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// `consume --offset`: Kafka's forms and rpk's ranges.
//
//	earliest | latest | N     Kafka's: where to start, with --partition
//	start | end               rpk's names for earliest and latest
//	+N                        N after each partition's start
//	-N                        the last N records of each partition
//	N:M                       offsets N up to (not including) M; N: and :M
//	                          leave one side open, :end / N:end stop at the
//	                          end as it is when consuming starts
//	@TIME[:TIME]              records from TIME, up to TIME; a TIME is
//	                          RFC 3339 (2026-11-01T00:00:00Z), a date
//	                          (2026-11-01, UTC), Unix milliseconds (13
//	                          digits) or seconds (10 digits), or a duration
//	                          from now (-1h); an end written without @ that
//	                          is a duration counts from the start time
//	                          (@2026-11-01T00:00:00Z:24h), with @ from now
//	                          (@2026-11-01T00:00:00Z:@-1h); :end is the end.
//
// Everything but Kafka's three forms applies to every partition consumed.

type boundKind int

const (
	boundOpen       boundKind = iota // no bound
	boundLogStart                    // the partition's start
	boundLogEnd                      // the partition's end when consuming starts
	boundExact                       // an offset
	boundAfterStart                  // n after the start
	boundBeforeEnd                   // n before the end
	boundTime                        // the first offset at or after a time
)

type offsetBound struct {
	kind boundKind
	n    int64
	at   time.Time
}

// consumeOffset is a parsed --offset: where to start and where to stop
// (exclusive; open = follow new records).
type consumeOffset struct {
	kafkaForm  bool // earliest, latest or N: Kafka's, which needs --partition
	start, end offsetBound
}

func (o consumeOffset) hasEnd() bool { return o.end.kind != boundOpen }

var (
	reRFC3339  = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})`)
	reDate     = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}`)
	reUnix     = regexp.MustCompile(`^\d+`)
	reDuration = regexp.MustCompile(`^[+-]?(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+`)
)

// parseConsumeOffset reads --offset; now anchors durations.
func parseConsumeOffset(s string, now time.Time) (consumeOffset, error) {
	s = strings.TrimSpace(s)
	bad := func(why string) (consumeOffset, error) {
		return consumeOffset{}, usageErrorf("--offset %q: %s; accepted earliest, latest, N, start, end, +N, -N, N:M, N:, :M, :end, N:end or @TIME[:TIME] (see --help)", s, why)
	}
	switch strings.ToLower(s) {
	case "":
		return bad("empty")
	case "earliest":
		return consumeOffset{kafkaForm: true, start: offsetBound{kind: boundLogStart}}, nil
	case "latest":
		return consumeOffset{kafkaForm: true, start: offsetBound{kind: boundLogEnd}}, nil
	case "start", "oldest":
		return consumeOffset{start: offsetBound{kind: boundLogStart}}, nil
	case "end", "newest":
		return consumeOffset{start: offsetBound{kind: boundLogEnd}}, nil
	case ":end":
		return consumeOffset{start: offsetBound{kind: boundLogStart}, end: offsetBound{kind: boundLogEnd}}, nil
	}
	if rest, ok := strings.CutPrefix(s, "@"); ok {
		o, err := parseTimeRange(rest, now)
		if err != nil {
			return bad(err.Error())
		}
		return o, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		switch {
		case strings.HasPrefix(s, "+"):
			return consumeOffset{start: offsetBound{kind: boundAfterStart, n: n}}, nil
		case n < 0:
			return consumeOffset{start: offsetBound{kind: boundBeforeEnd, n: -n}}, nil
		}
		return consumeOffset{kafkaForm: true, start: offsetBound{kind: boundExact, n: n}}, nil
	}
	from, to, ok := strings.Cut(s, ":")
	if !ok {
		return bad("not an offset")
	}
	o := consumeOffset{start: offsetBound{kind: boundLogStart}}
	if from != "" {
		n, err := strconv.ParseInt(from, 10, 64)
		if err != nil || n < 0 {
			return bad(fmt.Sprintf("range start %q is not a non-negative offset", from))
		}
		o.start = offsetBound{kind: boundExact, n: n}
	}
	switch to {
	case "":
		if from == "" {
			return bad("a range needs a start or an end")
		}
	case "end":
		o.end = offsetBound{kind: boundLogEnd}
	default:
		n, err := strconv.ParseInt(to, 10, 64)
		if err != nil || n < 0 {
			return bad(fmt.Sprintf("range end %q is not a non-negative offset or end", to))
		}
		if o.start.kind == boundExact && n <= o.start.n {
			return bad(fmt.Sprintf("the end %d must be after the start %d", n, o.start.n))
		}
		o.end = offsetBound{kind: boundExact, n: n}
	}
	return o, nil
}

// parseTimeRange reads TIME[:[@]TIME|:end] after the leading @.
func parseTimeRange(s string, now time.Time) (consumeOffset, error) {
	o := consumeOffset{start: offsetBound{kind: boundLogStart}}
	startAt := now
	absoluteStart := false
	if !strings.HasPrefix(s, ":") {
		at, n, absolute, err := parseOffsetTime(s, now)
		if err != nil {
			return o, err
		}
		o.start = offsetBound{kind: boundTime, at: at}
		startAt, absoluteStart = at, absolute
		s = s[n:]
	}
	if s == "" {
		return o, nil
	}
	rest, ok := strings.CutPrefix(s, ":")
	if !ok {
		return o, fmt.Errorf("unexpected %q after the start time", s)
	}
	switch {
	case rest == "":
		return o, nil // @TIME: is @TIME
	case rest == "end":
		o.end = offsetBound{kind: boundLogEnd}
		return o, nil
	}
	base := now
	if r, fromNow := strings.CutPrefix(rest, "@"); fromNow {
		rest = r
	} else if absoluteStart {
		base = startAt
	}
	at, n, _, err := parseOffsetTime(rest, base)
	if err != nil {
		return o, err
	}
	if n != len(rest) {
		return o, fmt.Errorf("unexpected %q after the end time", rest[n:])
	}
	if o.start.kind == boundTime && !at.After(o.start.at) {
		return o, fmt.Errorf("the end time %s is not after the start time %s", at.UTC().Format(time.RFC3339), o.start.at.UTC().Format(time.RFC3339))
	}
	o.end = offsetBound{kind: boundTime, at: at}
	return o, nil
}

// parseOffsetTime reads one TIME at the start of s and returns it, how
// many bytes it took and whether it was absolute (not a duration).
func parseOffsetTime(s string, base time.Time) (time.Time, int, bool, error) {
	followed := func(n int) bool { return n == len(s) || s[n] == ':' }
	if m := reRFC3339.FindString(s); m != "" && followed(len(m)) {
		t, err := time.Parse(time.RFC3339Nano, m)
		if err != nil {
			return time.Time{}, 0, false, fmt.Errorf("time %q: %v", m, err)
		}
		return t, len(m), true, nil
	}
	if m := reDate.FindString(s); m != "" && followed(len(m)) {
		t, err := time.ParseInLocation("2006-01-02", m, time.UTC)
		if err != nil {
			return time.Time{}, 0, false, fmt.Errorf("date %q: %v", m, err)
		}
		return t, len(m), true, nil
	}
	if m := reUnix.FindString(s); m != "" && followed(len(m)) && (len(m) == 13 || len(m) == 10) {
		n, _ := strconv.ParseInt(m, 10, 64)
		if len(m) == 13 {
			return time.UnixMilli(n), len(m), true, nil
		}
		return time.Unix(n, 0), len(m), true, nil
	}
	if m := reDuration.FindString(s); m != "" && followed(len(m)) {
		d, err := time.ParseDuration(m)
		if err != nil {
			return time.Time{}, 0, false, fmt.Errorf("duration %q: %v", m, err)
		}
		return base.Add(d), len(m), false, nil
	}
	return time.Time{}, 0, false, errors.New("a time must be RFC 3339 (2026-11-01T00:00:00Z), a date (2026-11-01), Unix milliseconds or seconds, or a duration such as -1h")
}

// partitionRange is where one partition's consumption starts and stops
// (stop exclusive; -1: no stop).
type partitionRange struct {
	from, to int64
}

// resolve turns the bounds into offsets for one partition: logStart and
// logEnd are its current start and end, atStart and atEnd the offsets of
// the start and end times (-1: no record at or after the time).
func (o consumeOffset) resolve(logStart, logEnd, atStart, atEnd int64) partitionRange {
	pick := func(b offsetBound, at int64) int64 {
		switch b.kind {
		case boundLogStart:
			return logStart
		case boundLogEnd:
			return logEnd
		case boundExact:
			return b.n
		case boundAfterStart:
			return logStart + b.n
		case boundBeforeEnd:
			return max(logStart, logEnd-b.n)
		case boundTime:
			if at < 0 {
				return logEnd
			}
			return at
		}
		return -1
	}
	r := partitionRange{from: pick(o.start, atStart), to: -1}
	if o.start.kind != boundExact {
		r.from = max(logStart, min(r.from, logEnd))
	}
	if o.hasEnd() {
		r.to = min(pick(o.end, atEnd), logEnd)
	}
	return r
}
