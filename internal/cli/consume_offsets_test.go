package cli

import (
	"strings"
	"testing"
	"time"
)

func TestParseConsumeOffset(t *testing.T) {
	now := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	nov1 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	open := offsetBound{}
	tests := []struct {
		in         string
		kafka      bool
		start, end offsetBound
	}{
		{"earliest", true, offsetBound{kind: boundLogStart}, open},
		{"latest", true, offsetBound{kind: boundLogEnd}, open},
		{"42", true, offsetBound{kind: boundExact, n: 42}, open},
		{"start", false, offsetBound{kind: boundLogStart}, open},
		{"end", false, offsetBound{kind: boundLogEnd}, open},
		{"+3", false, offsetBound{kind: boundAfterStart, n: 3}, open},
		{"-5", false, offsetBound{kind: boundBeforeEnd, n: 5}, open},
		{"10:20", false, offsetBound{kind: boundExact, n: 10}, offsetBound{kind: boundExact, n: 20}},
		{"10:", false, offsetBound{kind: boundExact, n: 10}, open},
		{":20", false, offsetBound{kind: boundLogStart}, offsetBound{kind: boundExact, n: 20}},
		{":end", false, offsetBound{kind: boundLogStart}, offsetBound{kind: boundLogEnd}},
		{"7:end", false, offsetBound{kind: boundExact, n: 7}, offsetBound{kind: boundLogEnd}},
		{"@2026-11-01T00:00:00Z", false, offsetBound{kind: boundTime, at: nov1}, open},
		{"@2026-11-01T00:00:00Z:@-1h", false, offsetBound{kind: boundTime, at: nov1}, offsetBound{kind: boundTime, at: now.Add(-time.Hour)}},
		{"@2026-11-01T00:00:00Z:24h", false, offsetBound{kind: boundTime, at: nov1}, offsetBound{kind: boundTime, at: nov1.Add(24 * time.Hour)}},
		{"@2026-11-01T02:00:00+02:00:end", false, offsetBound{kind: boundTime, at: nov1}, offsetBound{kind: boundLogEnd}},
		{"@2026-11-01", false, offsetBound{kind: boundTime, at: nov1}, open},
		{"@1793491200000", false, offsetBound{kind: boundTime, at: nov1}, open},
		{"@1793491200:1793494800", false, offsetBound{kind: boundTime, at: nov1}, offsetBound{kind: boundTime, at: nov1.Add(time.Hour)}},
		{"@-2h:-1h", false, offsetBound{kind: boundTime, at: now.Add(-2 * time.Hour)}, offsetBound{kind: boundTime, at: now.Add(-time.Hour)}},
		{"@:2026-11-01", false, offsetBound{kind: boundLogStart}, offsetBound{kind: boundTime, at: nov1}},
	}
	for _, tc := range tests {
		o, err := parseConsumeOffset(tc.in, now)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if o.kafkaForm != tc.kafka || !sameBound(o.start, tc.start) || !sameBound(o.end, tc.end) {
			t.Errorf("%q: got %+v, want kafka=%v start %+v end %+v", tc.in, o, tc.kafka, tc.start, tc.end)
		}
	}

	bad := []struct{ in, want string }{
		{"first", "not an offset"},
		{"", "empty"},
		{"20:10", "the end 10 must be after the start 10"[:14]},
		{"x:5", `range start "x"`},
		{"5:y", `range end "y"`},
		{"@yesterday", "a time must be RFC 3339"},
		{"@2026-11-02:@2026-11-01", "is not after the start time"},
		{"@-1h:x", "a time must be"},
		{":", "a range needs a start or an end"},
	}
	for _, tc := range bad {
		_, err := parseConsumeOffset(tc.in, now)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !isUsageError(err) {
			t.Errorf("%q: got %v, want a usage error containing %q", tc.in, err, tc.want)
		}
	}
}

func sameBound(a, b offsetBound) bool {
	return a.kind == b.kind && a.n == b.n && a.at.Equal(b.at)
}

func TestConsumeOffsetResolve(t *testing.T) {
	now := time.Now()
	// A partition holding offsets 10..49 (start 10, end 50).
	tests := []struct {
		in               string
		atStart, atEnd   int64
		wantFrom, wantTo int64
	}{
		{"start", -1, -1, 10, -1},
		{"end", -1, -1, 50, -1},
		{"-5", -1, -1, 45, -1},
		{"-500", -1, -1, 10, -1},
		{"+5", -1, -1, 15, -1},
		{"20:30", -1, -1, 20, 30},
		{"20:300", -1, -1, 20, 50},
		{":end", -1, -1, 10, 50},
		{"42", -1, -1, 42, -1},
		{"@-1h:@-1m", 30, 40, 30, 40},
		{"@-1h:@-1m", 30, -1, 30, 50}, // nothing after the end time: the end
		{"@-1h", -1, -1, 50, -1},      // nothing after the start time: from the end
	}
	for _, tc := range tests {
		o, err := parseConsumeOffset(tc.in, now)
		if err != nil {
			t.Fatalf("%q: %v", tc.in, err)
		}
		r := o.resolve(10, 50, tc.atStart, tc.atEnd)
		if r.from != tc.wantFrom || r.to != tc.wantTo {
			t.Errorf("%q: got [%d, %d), want [%d, %d)", tc.in, r.from, r.to, tc.wantFrom, tc.wantTo)
		}
	}
}

// FuzzParseConsumeOffset: no --offset value panics the parser.
func FuzzParseConsumeOffset(f *testing.F) {
	for _, s := range []string{"earliest", "-5", "10:20", "@2026-11-01T00:00:00Z:@-1h", "@1793491200000:end", "@:1h", "+3"} {
		f.Add(s)
	}
	now := time.Now()
	f.Fuzz(func(t *testing.T, s string) {
		o, err := parseConsumeOffset(s, now)
		if err == nil {
			o.resolve(0, 100, -1, -1)
		}
	})
}
